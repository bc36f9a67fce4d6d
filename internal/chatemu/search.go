package chatemu

import (
	"net/http"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode"
)

// maxQuery is the longest spaces.search query (DD: "The maximum query length
// is 1,000 characters").
const maxQuery = 1000

// searchQuery is a parsed spaces.search query: the fields the emulator
// models, ANDed.
type searchQuery struct {
	customer, spaceType string
	names               [][]string // display_name:"…" phrases, ORed, each as lower-cased tokens
	external            []bool     // external_user_allowed values, ORed; nil: any
	history             []string   // space_history_state values, ORed; nil: any
	times               [][]timeTerm
	// adminOnly names a field given that only an administrator's search
	// (useAdminAccess) may use, or is "".
	adminOnly string
}

// timeTerm is one create_time or last_active_time comparison; the terms of
// one []timeTerm are ORed, the groups ANDed.
type timeTerm struct {
	field, op string
	t         time.Time
}

// searchFields maps the field names of a query to the DD's: its own are the
// proto names (space_type, display_name), while the reference's examples
// and GAM7 write the JSON names (spaceType = "SPACE", displayName:"…";
// developers.google.com/workspace/chat/api/reference/rest/v1/spaces/search,
// GAM7 src/gam/cmd/chat/spaces.py printShowChatSpaces). Both are accepted,
// for every field the DD lists for the query.
var searchFields = map[string]string{
	"customer":              "customer",
	"space_type":            "space_type",
	"spaceType":             "space_type",
	"display_name":          "display_name",
	"displayName":           "display_name",
	"external_user_allowed": "external_user_allowed",
	"externalUserAllowed":   "external_user_allowed",
	"space_history_state":   "space_history_state",
	"spaceHistoryState":     "space_history_state",
	"create_time":           "create_time",
	"createTime":            "create_time",
	"last_active_time":      "last_active_time",
	"lastActiveTime":        "last_active_time",
}

var searchTerm = regexp.MustCompile(`^([A-Za-z_]+)\s*(=|:|<=|>=|<|>)\s*"([^"]*)"$`)

// parseSearch reads the query grammar of the DD: conjuncts joined by AND,
// each a term or a parenthesised group of terms on one field, joined by OR,
// or for create_time and last_active_time by AND as well (an interval).
// The DD's rules for each field: customer = "customers/my_customer";
// space_type = "SPACE"; display_name only with ':' (HAS);
// external_user_allowed = "true" or "false"; space_history_state =
// HISTORY_ON or HISTORY_OFF; create_time and last_active_time compared to
// an RFC 3339 time with =, <, >, <= or >=. Within one field, space_type
// takes neither AND nor OR, display_name, space_history_state and
// external_user_allowed only OR.
func parseSearch(q string) (searchQuery, *apiError) {
	var out searchQuery
	bad := func(why string) (searchQuery, *apiError) {
		return searchQuery{}, newError(statusInvalidArgument, "Invalid query %q: %s.", q, why)
	}
	if len(q) > maxQuery {
		return bad("longer than 1,000 characters")
	}
	seen := make(map[string]bool)
	for _, conj := range splitTop(q, "AND") {
		conj = strings.TrimSpace(conj)
		if strings.HasPrefix(conj, "(") && strings.HasSuffix(conj, ")") {
			conj = conj[1 : len(conj)-1]
		}
		terms, op := splitTop(conj, "OR"), "OR"
		if len(terms) == 1 {
			terms, op = splitTop(conj, "AND"), "AND"
		}
		field := ""
		var group []timeTerm
		for _, term := range terms {
			m := searchTerm.FindStringSubmatch(strings.TrimSpace(term))
			if m == nil {
				return bad("cannot read " + strings.TrimSpace(term))
			}
			name, ok := searchFields[m[1]]
			if !ok {
				return bad("unsupported term " + strings.TrimSpace(term))
			}
			if field != "" && name != field {
				return bad(op + " joins terms on different fields")
			}
			field = name
			switch {
			case len(terms) > 1 && (name == "customer" || name == "space_type"):
				return bad(name + " takes neither AND nor OR")
			case len(terms) > 1 && op == "AND" && name != "create_time" && name != "last_active_time":
				return bad(name + " terms can only be joined by OR")
			case name == "customer" && m[2] == "=":
				out.customer = m[3]
				out.adminOnly = name
			case name == "space_type" && m[2] == "=":
				out.spaceType = m[3]
			case name == "display_name" && m[2] == ":":
				out.names = append(out.names, tokens(m[3]))
			case name == "external_user_allowed" && m[2] == "=" && (m[3] == "true" || m[3] == "false"):
				out.external = append(out.external, m[3] == "true")
			case name == "space_history_state" && m[2] == "=" && (m[3] == "HISTORY_ON" || m[3] == "HISTORY_OFF"):
				out.history = append(out.history, m[3])
				out.adminOnly = name
			case (name == "create_time" || name == "last_active_time") && m[2] != ":":
				t, err := time.Parse(time.RFC3339, m[3])
				if err != nil {
					return bad(name + " needs an RFC 3339 time, not " + strconv.Quote(m[3]))
				}
				if op == "AND" {
					out.times = append(out.times, []timeTerm{{name, m[2], t}})
				} else {
					group = append(group, timeTerm{name, m[2], t})
				}
				out.adminOnly = name
			default:
				return bad("unsupported term " + strings.TrimSpace(term))
			}
		}
		if group != nil {
			out.times = append(out.times, group)
		}
		if seen[field] && field != "display_name" && field != "create_time" && field != "last_active_time" {
			return bad(field + " given twice")
		}
		seen[field] = true
	}
	return out, nil
}

// splitTop splits s at the word op ("AND", "OR") outside parentheses and
// quotes.
func splitTop(s, op string) []string {
	var parts []string
	depth, quoted, last := 0, false, 0
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c == '"':
			quoted = !quoted
		case quoted:
		case c == '(':
			depth++
		case c == ')':
			depth--
		case depth == 0 && strings.HasPrefix(s[i:], op) && i > 0 && s[i-1] == ' ' && i+len(op) < len(s) && s[i+len(op)] == ' ':
			parts = append(parts, s[last:i])
			last = i + len(op)
		}
	}
	return append(parts, s[last:])
}

// tokens splits a display name into lower-cased words.
func tokens(s string) []string {
	return strings.FieldsFunc(strings.ToLower(s), func(r rune) bool { return !unicode.IsLetter(r) && !unicode.IsDigit(r) })
}

// matches applies display_name:"…" (DD: "each token is prefix-matched
// case-insensitively and independently as a substring anywhere in the
// space's display_name. For example, `Fun Eve` matches `Fun event` or `The
// evening was fun`, but not `notFun event` or `even`"): each token must
// begin some word of the name.
func (q *searchQuery) matches(sp *space) bool {
	if q.external != nil && !slices.Contains(q.external, sp.external) {
		return false
	}
	history := sp.history
	if history == "" {
		history = "HISTORY_ON"
	}
	if q.history != nil && !slices.Contains(q.history, history) {
		return false
	}
	for _, group := range q.times {
		if !slices.ContainsFunc(group, func(tt timeTerm) bool { return tt.holds(sp) }) {
			return false
		}
	}
	if q.names == nil {
		return true
	}
	words := tokens(sp.displayName)
	for _, phrase := range q.names {
		all := true
		for _, tok := range phrase {
			found := false
			for _, w := range words {
				if strings.HasPrefix(w, tok) {
					found = true
					break
				}
			}
			if !found {
				all = false
				break
			}
		}
		if all {
			return true
		}
	}
	return false
}

// holds applies a time comparison to a space. Its last_active_time is
// when its last message was posted (DD, Space.lastActiveTime: "Timestamp
// of the last message in the space"); a space without messages has none,
// and no last_active_time term matches it (UNCERTAIN).
func (tt timeTerm) holds(sp *space) bool {
	t := sp.created
	if tt.field == "last_active_time" {
		if len(sp.messages) == 0 {
			return false
		}
		t = sp.messages[len(sp.messages)-1].created
	}
	c := t.Compare(tt.t)
	switch tt.op {
	case "=":
		return c == 0
	case "<":
		return c < 0
	case ">":
		return c > 0
	case "<=":
		return c <= 0
	}
	return c >= 0
}

type searchResult struct {
	Space spaceOut `json:"space"`
}

type searchSpacesOut struct {
	Spaces        []spaceOut     `json:"spaces,omitempty"`
	Results       []searchResult `json:"results,omitempty"`
	NextPageToken string         `json:"nextPageToken,omitempty"`
	TotalSize     int32          `json:"totalSize,omitempty"`
}

// searchSpaces is spaces.search. With useAdminAccess (an administrator,
// WithAdmins) it looks through every space of the organization; the query
// must hold customer = "customers/my_customer" and space_type = "SPACE";
// pages go up to 1,000 and the answer carries spaces, results, totalSize
// and nextPageToken (DD). Without it, only spaces the caller has joined,
// pages of up to 100, results only, and an empty answer without a
// display_name term (DD: "display_name is required to retrieve meaningful
// results. Otherwise, the default behavior is to return an empty
// response"); its query may name display_name, external_user_allowed and
// space_type only (DD). Spaces come in creation order (UNCERTAIN: the DD's
// default order is not stated).
func (s *Server) searchSpaces(c *call) (int, any, *apiError) {
	q := c.r.URL.Query()
	query, e := parseSearch(q.Get("query"))
	if e != nil {
		return 0, nil, e
	}
	switch {
	case strings.TrimSpace(q.Get("query")) == "":
		return 0, nil, newError(statusInvalidArgument, "query is required.")
	case query.spaceType != "SPACE":
		return 0, nil, newError(statusInvalidArgument, "Invalid query: space_type = \"SPACE\" is required.")
	case c.admin && query.customer != "customers/my_customer":
		return 0, nil, newError(statusInvalidArgument, "Invalid query: customer = \"customers/my_customer\" is required with useAdminAccess.")
	case !c.admin && query.adminOnly != "":
		// DD: without useAdminAccess, display_name, external_user_allowed
		// and space_type; that the others are refused rather than
		// ignored is UNCERTAIN.
		return 0, nil, newError(statusInvalidArgument, "Invalid query: %s can only be used with useAdminAccess.", query.adminOnly)
	}
	// Creation order, ascending, is what the emulator gives: by the DD's
	// name or by GAM7's (CHAT_SPACES_ADMIN_ORDERBY_CHOICE_MAP: createTime).
	field, dir, _ := strings.Cut(strings.Join(strings.Fields(q.Get("orderBy")), " "), " ")
	if field != "" && field != "create_time" && field != "createTime" || dir != "" && !strings.EqualFold(dir, "ASC") {
		return 0, nil, newError(statusUnimplemented, "orderBy %q is not modeled by the emulator.", q.Get("orderBy"))
	}
	size, e := pageSize(q.Get("pageSize"))
	if e != nil {
		return 0, nil, e
	}
	if !c.admin {
		size = min(size, defaultPageSize)
	}
	scope := "search/" + q.Get("query")
	start, e := decodeToken(q.Get("pageToken"), scope)
	if e != nil {
		return 0, nil, e
	}
	var out searchSpacesOut
	if !c.admin && query.names == nil {
		return http.StatusOK, out, nil
	}
	total := 0
	for i, sp := range s.st.order {
		if sp == nil || !query.matches(sp) {
			continue
		}
		if !c.admin {
			if m := sp.find(c.who.id, false); m == nil || m.state != "JOINED" {
				continue
			}
		}
		total++
		switch {
		case i < start:
		case len(out.Results) < size:
			o := sp.out()
			out.Results = append(out.Results, searchResult{o})
			if c.admin {
				out.Spaces = append(out.Spaces, o)
			}
		case out.NextPageToken == "" && c.admin:
			out.NextPageToken = encodeToken(scope, i)
		}
	}
	if c.admin {
		out.TotalSize = int32(total)
	}
	return http.StatusOK, out, nil
}
