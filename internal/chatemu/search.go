package chatemu

import (
	"net/http"
	"regexp"
	"strings"
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
}

var searchTerm = regexp.MustCompile(`^([a-z_]+)\s*(=|:|<=|>=|<|>)\s*"([^"]*)"$`)

// parseSearch reads the query grammar of the DD: conjuncts joined by AND,
// each a term or a parenthesised OR of terms on one field. customer,
// space_type and display_name are modeled; the other documented fields
// (create_time, last_active_time, external_user_allowed,
// space_history_state) answer 501.
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
		field := ""
		for _, term := range splitTop(conj, "OR") {
			m := searchTerm.FindStringSubmatch(strings.TrimSpace(term))
			if m == nil {
				return bad("cannot read " + strings.TrimSpace(term))
			}
			if field != "" && m[1] != field {
				return bad("OR joins terms on different fields")
			}
			field = m[1]
			switch {
			case m[1] == "customer" && m[2] == "=":
				out.customer = m[3]
			case m[1] == "space_type" && m[2] == "=":
				out.spaceType = m[3]
			case m[1] == "display_name" && m[2] == ":":
				out.names = append(out.names, tokens(m[3]))
			case m[1] == "create_time" || m[1] == "last_active_time" || m[1] == "external_user_allowed" || m[1] == "space_history_state":
				return searchQuery{}, newError(statusUnimplemented, "Query field %s is in the Chat API but not modeled by the emulator.", m[1])
			default:
				return bad("unsupported term " + strings.TrimSpace(term))
			}
		}
		if seen[field] && field != "display_name" {
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
// response"). Spaces come in creation order (UNCERTAIN: the DD's default
// order is not stated).
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
	case !c.admin && query.customer != "":
		return 0, nil, newError(statusInvalidArgument, "Invalid query: customer can only be used with useAdminAccess.")
	}
	switch ob := strings.Join(strings.Fields(q.Get("orderBy")), " "); ob {
	case "", "create_time", "create_time ASC":
	default:
		return 0, nil, newError(statusUnimplemented, "orderBy %q is not modeled by the emulator.", ob)
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
