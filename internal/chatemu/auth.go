package chatemu

import (
	"net/http"
	"strings"
)

// who is the user a call acts for.
type who struct {
	id    string // numeric user ID
	email string // "" when the caller was given as users/ID
	admin bool   // may use useAdminAccess (WithAdmins)
}

// name is the caller as the API names users: users/{id}.
func (w who) name() string { return "users/" + w.id }

// newWho resolves "users/EMAIL", "users/ID" or a bare email.
func (s *Server) newWho(ref string) who {
	id, email := s.userRef(strings.TrimPrefix(ref, "users/"))
	return who{id: id, email: email, admin: email != "" && s.cfg.admins[email]}
}

// authenticated reports whether calls must carry a known bearer token.
func (s *Server) authenticated() bool { return s.cfg.token != "" || len(s.cfg.tokens) > 0 }

// checkAuth finds the caller of r. Without WithToken or WithTokens every
// call acts for the default caller. The 401 answers follow Google's (Wire):
// no credentials at all → reason CREDENTIALS_MISSING, "Request is missing
// required authentication credential…"; a token Google does not accept →
// "Request had invalid authentication credentials…". Both carry
// WWW-Authenticate, as Google's do.
func (s *Server) checkAuth(r *http.Request, rt *route) (who, *apiError) {
	if !s.authenticated() {
		return s.caller, nil
	}
	h := r.Header.Get("Authorization")
	got, ok := strings.CutPrefix(h, "Bearer ")
	if ok {
		if s.cfg.token != "" && got == s.cfg.token {
			return s.caller, nil
		}
		if w, known := s.tokens[got]; known {
			return w, nil
		}
	}
	var e *apiError
	if h == "" {
		e = newError(statusUnauthenticated, "Request is missing required authentication credential. Expected OAuth 2 access token, login cookie or other valid authentication credential. See https://developers.google.com/identity/sign-in/web/devconsole-project.")
		e.Details = []any{errorInfo("CREDENTIALS_MISSING", map[string]string{"service": "chat.googleapis.com", "method": "google.chat.v1.ChatService." + rpcNames[rt.id]})}
	} else {
		e = newError(statusUnauthenticated, "Request had invalid authentication credentials. Expected OAuth 2 access token, login cookie or other valid authentication credential. See https://developers.google.com/identity/sign-in/web/devconsole-project.")
		e.Details = []any{errorInfo("ACCESS_TOKEN_TYPE_UNSUPPORTED", map[string]string{"service": "chat.googleapis.com", "method": "google.chat.v1.ChatService." + rpcNames[rt.id]})}
	}
	e.header = http.Header{"Www-Authenticate": {`Bearer realm="https://accounts.google.com/"`}}
	return who{}, e
}

// rpcNames are the gRPC methods behind the REST ones, as Google names them
// in ErrorInfo metadata (google.chat.v1.ChatService.CreateSpace).
var rpcNames = map[string]string{
	"groups.lookup":          "LookupGroupName", // of Cloud Identity's GroupsService
	"groups.get":             "GetGroup",        // of Cloud Identity's GroupsService
	"spaces.create":          "CreateSpace",
	"spaces.setup":           "SetUpSpace",
	"spaces.list":            "ListSpaces",
	"spaces.search":          "SearchSpaces",
	"spaces.get":             "GetSpace",
	"spaces.patch":           "UpdateSpace",
	"spaces.delete":          "DeleteSpace",
	"spaces.members.create":  "CreateMembership",
	"spaces.members.list":    "ListMemberships",
	"spaces.members.get":     "GetMembership",
	"spaces.members.patch":   "UpdateMembership",
	"spaces.members.delete":  "DeleteMembership",
	"spaces.messages.create": "CreateMessage",
}

// adminAccess checks useAdminAccess: true only for administrators
// (WithAdmins). The DD requires "a Google Workspace administrator with the
// manage chat and spaces conversations privilege"; the wording of the
// refusal is UNCERTAIN.
func adminAccess(r *http.Request, caller who) (bool, *apiError) {
	v := r.URL.Query().Get("useAdminAccess")
	on, e := boolParam(v, "use_admin_access")
	switch {
	case e != nil:
		return false, e
	case on && !caller.admin:
		return false, newError(statusPermissionDenied, "The caller does not have permission to use administrator access.")
	}
	return on, nil
}
