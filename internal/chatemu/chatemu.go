// Package chatemu is an in-memory emulator of the Google Chat API calls provision makes.
package chatemu

import (
	"crypto/rand"
	"encoding/binary"
	"encoding/json"
	"io"
	mrand "math/rand/v2"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"
)

// maxBody bounds request bodies; the largest legitimate one (setup with 49
// members and maximal details) is far smaller.
const maxBody = 1 << 20

// Server is the emulator, an http.Handler: serve it with httptest.NewServer
// in tests, or with cmd/chatemu as a real server. It speaks the JSON of the
// discovery document (chat-api.json) and Google's error shape, keeps
// requestId idempotency and display-name uniqueness, enforces sliding-window
// quotas, injects faults on request, and counts what it sees.
// docs/emulator.md lists what of the real API it does not model. Its zero
// value is not usable; call New.
type Server struct {
	cfg    config
	caller who            // the default caller (WithCaller)
	tokens map[string]who // WithTokens, resolved

	mu                       sync.Mutex
	rng                      *mrand.Rand
	st                       state
	ctr                      counters
	win                      [numClasses]window
	createWin, createLongWin window
	spaceWin                 map[string]*window // per-space write limit, by space ID

	failNext, dropNext int
}

// New returns an emulator with empty state.
func New(opts ...Option) *Server {
	cfg := defaultConfig()
	for _, o := range opts {
		o(&cfg)
	}
	if !cfg.seeded {
		var b [8]byte
		_, _ = rand.Read(b[:])
		cfg.seed = binary.LittleEndian.Uint64(b[:])
	}
	s := &Server{cfg: cfg, rng: mrand.New(mrand.NewPCG(cfg.seed, cfg.seed^0x9e3779b97f4a7c15))}
	s.caller = s.newWho(cfg.caller)
	s.tokens = make(map[string]who, len(cfg.tokens))
	for tok, caller := range cfg.tokens {
		s.tokens[tok] = s.newWho(caller)
	}
	s.resetLocked()
	return s
}

func (s *Server) resetLocked() {
	s.st = newState()
	s.st.know(s.caller)
	for _, w := range s.tokens {
		s.st.know(w)
	}
	s.ctr = counters{}
	for c := range s.win {
		s.win[c] = window{limit: s.cfg.quotas[c]}
	}
	s.createWin = window{limit: s.cfg.createLimit}
	s.createLongWin = window{limit: s.cfg.createLongLimit, span: s.cfg.longWindow}
	s.spaceWin = make(map[string]*window)
	s.failNext, s.dropNext = 0, 0
}

// Reset forgets every space and counter, as POST /_emulator/reset does.
func (s *Server) Reset() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.resetLocked()
}

// FailNext answers the next n API calls with 503 UNAVAILABLE, whatever the
// failure rate.
func (s *Server) FailNext(n int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.failNext = max(n, 0)
}

// DropNext loses the response of the next n successful creates: the space is
// made and the connection closed before the answer.
func (s *Server) DropNext(n int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.dropNext = max(n, 0)
}

// route is one method of the discovery document the emulator serves.
type route struct {
	id      string   // method id without the "chat." prefix
	verb    string   // HTTP method
	path    string   // flatPath after "v1/", wildcards as "*"
	class   class    // quota charged
	params  []string // query parameters besides the standard ones
	creates bool     // a create: charged to the creation limit, its response may be lost
	// perSpace marks the writes limited per space (Limits: spaces.patch,
	// spaces.delete and messages.create share a per-space write quota).
	perSpace bool
	handle   func(*Server, *call) (int, any, *apiError)
}

// name is the method as counters report it, in the short form the project
// uses: "spaces.create", "members.patch".
func (rt *route) name() string { return strings.Replace(rt.id, "spaces.members.", "members.", 1) }

var routes = []route{
	{id: "spaces.create", verb: "POST", path: "spaces", class: classSpaceWrite, params: []string{"requestId"}, creates: true, handle: (*Server).createSpace},
	{id: "spaces.setup", verb: "POST", path: "spaces:setup", class: classSpaceWrite, creates: true, handle: (*Server).setupSpace},
	{id: "spaces.list", verb: "GET", path: "spaces", class: classRead, params: []string{"pageSize", "pageToken", "filter"}, handle: (*Server).listSpaces},
	// Cloud Identity's groups.lookup, served beside the Chat API so that
	// group:EMAIL members resolve without a second server (the real one is
	// cloudidentity.googleapis.com).
	{id: "groups.lookup", verb: "GET", path: "groups:lookup", class: classRead, params: []string{"groupKey.id", "groupKey.namespace"}, handle: (*Server).lookupGroup},
	{id: "groups.get", verb: "GET", path: "groups/*", class: classRead, handle: (*Server).getGroup},
	{id: "spaces.search", verb: "GET", path: "spaces:search", class: classRead, params: []string{"useAdminAccess", "pageSize", "pageToken", "query", "orderBy"}, handle: (*Server).searchSpaces},
	{id: "spaces.get", verb: "GET", path: "spaces/*", class: classRead, params: []string{"useAdminAccess"}, handle: (*Server).getSpace},
	{id: "spaces.patch", verb: "PATCH", path: "spaces/*", class: classSpaceWrite, params: []string{"updateMask", "useAdminAccess"}, perSpace: true, handle: (*Server).patchSpace},
	{id: "spaces.delete", verb: "DELETE", path: "spaces/*", class: classSpaceWrite, params: []string{"useAdminAccess"}, perSpace: true, handle: (*Server).deleteSpace},
	{id: "spaces.members.create", verb: "POST", path: "spaces/*/members", class: classMemberWrite, params: []string{"useAdminAccess"}, handle: (*Server).createMember},
	{id: "spaces.members.list", verb: "GET", path: "spaces/*/members", class: classRead, params: []string{"pageSize", "pageToken", "filter", "showGroups", "showInvited", "useAdminAccess"}, handle: (*Server).listMembers},
	{id: "spaces.members.get", verb: "GET", path: "spaces/*/members/*", class: classRead, params: []string{"useAdminAccess"}, handle: (*Server).getMember},
	{id: "spaces.members.patch", verb: "PATCH", path: "spaces/*/members/*", class: classMemberWrite, params: []string{"updateMask", "useAdminAccess"}, handle: (*Server).patchMember},
	{id: "spaces.members.delete", verb: "DELETE", path: "spaces/*/members/*", class: classMemberWrite, params: []string{"useAdminAccess"}, handle: (*Server).deleteMember},
	{id: "spaces.messages.create", verb: "POST", path: "spaces/*/messages", class: classMessageWrite, params: []string{"createMessageNotificationOptions.notificationType", "messageId", "messageReplyOption", "requestId", "threadKey"}, perSpace: true, handle: (*Server).createMessage},
}

// match finds the route for a request path ("/v1/spaces/X/members") and
// returns its wildcard segments. known reports whether the path exists for
// some other HTTP method.
func match(verb, path string) (rt *route, args []string, known bool) {
	rest, ok := strings.CutPrefix(path, "/v1/")
	if !ok {
		return nil, nil, false
	}
	segs := strings.Split(rest, "/")
	for i := range routes {
		pat := strings.Split(routes[i].path, "/")
		if len(pat) != len(segs) {
			continue
		}
		var got []string
		ok := true
		for j, p := range pat {
			switch {
			case p == "*" && segs[j] != "" && !strings.Contains(segs[j], ":"):
				got = append(got, segs[j])
			case p != segs[j]:
				ok = false
			}
			if !ok {
				break
			}
		}
		if !ok {
			continue
		}
		known = true
		if routes[i].verb == verb {
			return &routes[i], got, true
		}
	}
	return nil, nil, known
}

// call is one API request being handled.
type call struct {
	r       *http.Request
	args    []string
	body    []byte
	now     time.Time
	who     who  // the caller
	admin   bool // useAdminAccess=true, from an administrator
	created bool // the handler made a new space (not a replay)
}

// ServeHTTP serves the API under /v1/ and the emulator's own endpoints under
// /_emulator/.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if strings.HasPrefix(r.URL.Path, "/_emulator/") {
		s.serveAdmin(w, r)
		return
	}
	start := time.Now()
	rt, args, known := match(r.Method, r.URL.Path)
	name := "unknown"
	if rt != nil {
		name = rt.name()
	}
	code, out, lost := s.serveAPI(r, rt, args, known)
	if code < 0 {
		return // the client went away during the added latency
	}
	if lost {
		s.cfg.logger.Debug("call", "method", name, "status", "lost response", "duration", time.Since(start))
		dropConnection(w)
		return
	}
	s.cfg.logger.Debug("call", "method", name, "status", code, "duration", time.Since(start))
	if e, ok := out.(*apiError); ok {
		for k, v := range e.header {
			w.Header()[k] = v
		}
		out = map[string]*apiError{"error": e}
	}
	writeJSON(w, code, out)
}

// serveAPI handles one API call; code is -1 when no answer is due.
func (s *Server) serveAPI(r *http.Request, rt *route, args []string, known bool) (code int, out any, lost bool) {
	name := "unknown"
	if rt != nil {
		name = rt.name()
	}
	fail := func(e *apiError) (int, any, bool) {
		s.mu.Lock()
		defer s.mu.Unlock()
		if e.Status == statusUnauthenticated {
			s.ctr.unauthenticated++
		}
		s.ctr.call(name, e.Code)
		return e.Code, e, false
	}
	if rt == nil {
		if known {
			return fail(newError(statusUnimplemented, "Method %s %s is not modeled by the emulator.", r.Method, r.URL.Path))
		}
		return fail(newError(statusNotFound, "Method not found: %s %s.", r.Method, r.URL.Path))
	}
	if e := checkQuery(r, rt); e != nil {
		return fail(e)
	}
	caller, e := s.checkAuth(r, rt)
	if e != nil {
		return fail(e)
	}
	admin, e := adminAccess(r, caller)
	if e != nil {
		return fail(e)
	}
	body, err := io.ReadAll(http.MaxBytesReader(nil, r.Body, maxBody))
	if err != nil {
		return fail(newError(statusInvalidArgument, "Request body could not be read: %v", err))
	}
	if s.cfg.latency > 0 {
		t := time.NewTimer(s.cfg.latency)
		select {
		case <-t.C:
		case <-r.Context().Done():
			t.Stop()
			return -1, nil, false
		}
	}

	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.cfg.now()
	record := func(code int, out any) (int, any, bool) {
		s.ctr.call(name, code)
		return code, out, false
	}
	if s.failNext > 0 || (s.cfg.failRate > 0 && s.rng.Float64() < s.cfg.failRate) {
		s.failNext = max(s.failNext-1, 0)
		s.ctr.unavailable++
		return record(http.StatusServiceUnavailable, newError(statusUnavailable, "The service is currently unavailable."))
	}
	c := &call{r: r, args: args, body: body, now: now, who: caller, admin: admin}
	if e := s.admit(rt, c); e != nil {
		return record(e.Code, e)
	}
	code, out, e = rt.handle(s, c)
	if e != nil {
		return record(e.Code, e)
	}
	if (rt.creates || rt.id == "spaces.messages.create") && c.created && (s.dropNext > 0 || (s.cfg.dropRate > 0 && s.rng.Float64() < s.cfg.dropRate)) {
		s.dropNext = max(s.dropNext-1, 0)
		s.ctr.lost++
		s.ctr.call(name, 0)
		return 0, nil, true
	}
	return record(code, out)
}

// checkQuery refuses query parameters the method does not take, as the real
// API does ("Cannot bind query parameter").
func checkQuery(r *http.Request, rt *route) *apiError {
	q := r.URL.Query()
	for k := range q {
		if !containsString(standardParams, k) && !containsString(rt.params, k) {
			return newError(statusInvalidArgument, "Invalid JSON payload received. Unknown name %q: Cannot bind query parameter. Field %q could not be found in request message.", k, k)
		}
	}
	if alt := q.Get("alt"); alt != "" && alt != "json" {
		return newError(statusUnimplemented, "alt=%q is not modeled by the emulator.", alt)
	}
	return nil
}

func containsString(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// dropConnection closes the connection without answering, as a server that
// crashed or a network that failed after the request was processed would.
func dropConnection(w http.ResponseWriter) {
	if hj, ok := w.(http.Hijacker); ok {
		if conn, _, err := hj.Hijack(); err == nil {
			_ = conn.Close()
			return
		}
	}
	// HTTP/2, or a ResponseRecorder: the server aborts the stream.
	panic(http.ErrAbortHandler)
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		code = http.StatusInternalServerError
		b, _ = json.Marshal(map[string]*apiError{"error": newError(statusInternal, "encoding the response: %v", err)})
	}
	w.Header().Set("Content-Type", "application/json; charset=UTF-8")
	w.Header().Set("Content-Length", strconv.Itoa(len(b)+1))
	w.WriteHeader(code)
	_, _ = w.Write(append(b, '\n'))
}

// serveAdmin serves GET /_emulator/stats and POST /_emulator/reset. They
// need no token and count in no quota.
func (s *Server) serveAdmin(w http.ResponseWriter, r *http.Request) {
	switch {
	case r.URL.Path == "/_emulator/stats" && r.Method == http.MethodGet:
		writeJSON(w, http.StatusOK, s.Stats())
	case r.URL.Path == "/_emulator/reset" && r.Method == http.MethodPost:
		s.Reset()
		writeJSON(w, http.StatusOK, struct{}{})
	default:
		writeJSON(w, http.StatusNotFound, map[string]*apiError{"error": newError(statusNotFound, "No emulator endpoint %s %s.", r.Method, r.URL.Path)})
	}
}

// Stats returns a copy of the counters.
func (s *Server) Stats() Stats {
	s.mu.Lock()
	defer s.mu.Unlock()
	c := &s.ctr
	st := Stats{
		Calls:               make(map[string]map[int]int, len(c.calls)),
		Spaces:              s.st.live,
		SpacesCreated:       c.spacesCreated,
		SpacesDeleted:       c.spacesDeleted,
		RequestIDs:          c.requestIDs,
		Replays:             c.replays,
		Duplicates:          c.duplicates,
		AlreadyExists:       c.conflicts,
		MembersAdded:        c.membersAdded,
		Throttled:           c.throttled,
		Unavailable:         c.unavailable,
		LostResponses:       c.lost,
		Unauthenticated:     c.unauthenticated,
		MembersDeleted:      c.membersDeleted,
		SpacesPatched:       c.spacesPatched,
		MessagesCreated:     c.messagesCreated,
		SpaceWrites:         append([]time.Time(nil), c.spaceWrites...),
		MemberWrites:        append([]time.Time(nil), c.memberWrites...),
		Creates:             append([]time.Time(nil), c.creates...),
		CreateLimited:       c.createLimited,
		CreateLimitedLong:   c.createLimitedLong,
		MemberWritesBySpace: make(map[string]int),
		MemberAdds:          make(map[string]int),
	}
	for m, byCode := range c.calls {
		cp := make(map[int]int, len(byCode))
		for k, v := range byCode {
			cp[k] = v
		}
		st.Calls[m] = cp
	}
	// Only spaces that saw membership traffic are visited in full.
	for _, sp := range s.st.order {
		if sp == nil || (sp.memberWrites == 0 && len(sp.members) <= 1) {
			continue
		}
		if sp.memberWrites > 0 {
			st.MemberWritesBySpace["spaces/"+sp.id] = int(sp.memberWrites)
		}
		for _, m := range sp.members {
			if m.adds > 0 {
				st.MemberAdds["spaces/"+sp.id+"/members/"+m.name] = int(m.adds)
			}
		}
	}
	return st
}
