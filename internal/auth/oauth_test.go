package auth

import (
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"io"
	"maps"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
)

// TestMain points the metadata server at a closed loopback port, so that
// nothing in this binary can reach 169.254.169.254 even by mistake.
func TestMain(m *testing.M) {
	os.Setenv("GCE_METADATA_HOST", "127.0.0.1:1")
	os.Exit(m.Run())
}

const (
	testClientID     = "1234-test.apps.googleusercontent.com"
	testClientSecret = "client-secret-5f3a9c"
	testSAEmail      = "provisioner@test-project.iam.gserviceaccount.com"
	testSAClientID   = "104729000000000000001"
	// testUserEmail is the email in the stand-in's ID tokens, in mixed case
	// as a directory may hold it; Credentials.Email is lower-cased.
	testUserEmail = "Alice.Smith@Example.com"
)

var (
	keyOnce sync.Once
	testKey *rsa.PrivateKey
	keyPEM  string
)

// rsaKey returns a key generated once per test binary (generation is slow
// under -race).
func rsaKey(t *testing.T) (*rsa.PrivateKey, string) {
	t.Helper()
	keyOnce.Do(func() {
		k, err := rsa.GenerateKey(rand.Reader, 2048)
		if err != nil {
			panic(err)
		}
		der, err := x509.MarshalPKCS8PrivateKey(k)
		if err != nil {
			panic(err)
		}
		testKey = k
		keyPEM = string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}))
	})
	return testKey, keyPEM
}

// oauthServer stands in for Google's authorisation and token endpoints.
type oauthServer struct {
	*httptest.Server
	t *testing.T

	// Behaviour, changed through set.
	authState   string                      // state to send back instead of the real one
	authError   string                      // error= to send back instead of a code
	grant       func(req []string) []string // scopes granted; nil grants all
	rotate      bool                        // refresh_token grants issue a new refresh token
	expiresIn   int                         // access token lifetime; 0 means 3600
	refuse      map[string]string           // grant type → OAuth error code to answer
	noRefreshRT bool                        // authorization_code grants issue no refresh token
	idClaims    map[string]any              // claims of the ID token; nil means testUserEmail, verified
	idRaw       string                      // an ID token to send as it is, instead of one built from idClaims

	mu      sync.Mutex
	codes   map[string]codeGrant
	refresh map[string][]string // valid refresh tokens → scopes
	secrets []string            // every code, token, verifier and assertion handed out or seen
	grants  map[string]int      // grant type → successful grants
	jwts    []jwtClaims
	authURL []url.Values // queries of the authorisation requests
	idToks  []string     // ID tokens handed out
	seq     int
}

type codeGrant struct {
	challenge, redirect string
	scopes              []string
}

type jwtClaims struct {
	Iss   string `json:"iss"`
	Sub   string `json:"sub"`
	Scope string `json:"scope"`
	Aud   string `json:"aud"`
	Exp   int64  `json:"exp"`
	Iat   int64  `json:"iat"`
}

const (
	grantCode    = "authorization_code"
	grantRefresh = "refresh_token"
	grantJWT     = "urn:ietf:params:oauth:grant-type:jwt-bearer"
)

func newOAuthServer(t *testing.T) *oauthServer {
	t.Helper()
	s := &oauthServer{t: t, codes: map[string]codeGrant{}, refresh: map[string][]string{}, grants: map[string]int{}, refuse: map[string]string{}}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /auth", s.auth)
	mux.HandleFunc("POST /token", s.token)
	s.Server = httptest.NewServer(mux)
	t.Cleanup(s.Close)
	return s
}

func (s *oauthServer) next(prefix string) string {
	s.seq++
	v := fmt.Sprintf("%s-%d-%x", prefix, s.seq, s.seq*7919)
	s.secrets = append(s.secrets, v)
	return v
}

func (s *oauthServer) auth(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	for k, want := range map[string]string{"response_type": "code", "client_id": testClientID, "code_challenge_method": "S256", "access_type": "offline", "prompt": "consent"} {
		if got := q.Get(k); got != want {
			http.Error(w, fmt.Sprintf("%s = %q, want %q", k, got, want), http.StatusBadRequest)
			return
		}
	}
	redirect := q.Get("redirect_uri")
	if !strings.HasPrefix(redirect, "http://127.0.0.1:") || q.Get("code_challenge") == "" || q.Get("state") == "" {
		http.Error(w, "bad redirect_uri, code_challenge or state", http.StatusBadRequest)
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.authURL = append(s.authURL, q)
	back := url.Values{"state": {q.Get("state")}}
	if s.authState != "" {
		back.Set("state", s.authState)
	}
	if s.authError != "" {
		back.Set("error", s.authError)
	} else {
		code := s.next("code")
		s.codes[code] = codeGrant{challenge: q.Get("code_challenge"), redirect: redirect, scopes: strings.Fields(q.Get("scope"))}
		back.Set("code", code)
	}
	http.Redirect(w, r, redirect+"?"+back.Encode(), http.StatusFound)
}

func (s *oauthServer) fail(w http.ResponseWriter, code, desc string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusBadRequest)
	json.NewEncoder(w).Encode(map[string]string{"error": code, "error_description": desc})
}

func (s *oauthServer) token(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		s.fail(w, "invalid_request", err.Error())
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	gt := r.PostForm.Get("grant_type")
	if code := s.refuse[gt]; code != "" {
		s.fail(w, code, "refused by the test")
		return
	}
	if gt != grantJWT && (r.PostForm.Get("client_id") != testClientID || r.PostForm.Get("client_secret") != testClientSecret) {
		s.fail(w, "invalid_client", "wrong client_id or client_secret")
		return
	}
	var scopes []string
	newRT := ""
	switch gt {
	case grantCode:
		code := r.PostForm.Get("code")
		g, ok := s.codes[code]
		delete(s.codes, code)
		verifier := r.PostForm.Get("code_verifier")
		s.secrets = append(s.secrets, verifier)
		sum := sha256.Sum256([]byte(verifier))
		switch {
		case !ok:
			s.fail(w, "invalid_grant", "unknown code")
			return
		case r.PostForm.Get("redirect_uri") != g.redirect:
			s.fail(w, "invalid_grant", "redirect_uri differs")
			return
		case base64.RawURLEncoding.EncodeToString(sum[:]) != g.challenge:
			s.fail(w, "invalid_grant", "code_verifier does not match the challenge")
			return
		}
		scopes = g.scopes
		if s.grant != nil {
			scopes = s.grant(scopes)
		}
		if !s.noRefreshRT {
			newRT = s.next("refresh")
		}
	case grantRefresh:
		rt := r.PostForm.Get("refresh_token")
		var ok bool
		if scopes, ok = s.refresh[rt]; !ok {
			s.fail(w, "invalid_grant", "unknown refresh token")
			return
		}
		if s.rotate {
			delete(s.refresh, rt)
			newRT = s.next("refresh")
		}
	case grantJWT:
		assertion := r.PostForm.Get("assertion")
		s.secrets = append(s.secrets, assertion)
		c, err := s.verifyJWT(assertion)
		if err != nil {
			s.fail(w, "invalid_grant", err.Error())
			return
		}
		s.jwts = append(s.jwts, c)
		scopes = strings.Fields(c.Scope)
	default:
		s.fail(w, "unsupported_grant_type", gt)
		return
	}
	s.grants[gt]++
	resp := map[string]any{"access_token": s.next("access"), "token_type": "Bearer", "expires_in": 3600, "scope": strings.Join(scopes, " ")}
	if s.expiresIn != 0 {
		resp["expires_in"] = s.expiresIn
	}
	if newRT != "" {
		s.refresh[newRT] = scopes
		resp["refresh_token"] = newRT
	}
	// Google answers a code exchange with an ID token when openid was
	// granted.
	if gt == grantCode && slices.Contains(scopes, "openid") {
		resp["id_token"] = s.idToken()
	}
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(resp)
}

// idToken returns an unsigned ID token (header.payload.signature, as
// Google's, but with a meaningless signature) carrying s.idClaims, and
// records it among the secrets. The caller holds s.mu.
func (s *oauthServer) idToken() string {
	tok := s.idRaw
	if tok == "" {
		claims := s.idClaims
		if claims == nil {
			claims = map[string]any{"email": testUserEmail, "email_verified": true}
		}
		claims = maps.Clone(claims)
		claims["iss"], claims["aud"], claims["sub"] = s.URL, testClientID, "110248495921238986420"
		claims["nonce"] = s.next("nonce") // each token differs
		payload, err := json.Marshal(claims)
		if err != nil {
			panic(err)
		}
		enc := base64.RawURLEncoding.EncodeToString
		tok = enc([]byte(`{"alg":"RS256","kid":"test","typ":"JWT"}`)) + "." + enc(payload) + "." + enc([]byte(s.next("signature")))
	}
	s.idToks = append(s.idToks, tok)
	s.secrets = append(s.secrets, tok)
	if parts := strings.Split(tok, "."); len(parts) == 3 {
		s.secrets = append(s.secrets, parts[1], parts[2])
	}
	return tok
}

// idTokens returns the ID tokens handed out so far.
func (s *oauthServer) idTokens() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.idToks)
}

// lastAuthScopes returns the scopes of the last authorisation request.
func (s *oauthServer) lastAuthScopes(t *testing.T) []string {
	t.Helper()
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.authURL) == 0 {
		t.Fatal("the authorisation endpoint received no request")
	}
	return strings.Fields(s.authURL[len(s.authURL)-1].Get("scope"))
}

// verifyJWT checks the assertion's RS256 signature with the test key and
// returns its claims.
func (s *oauthServer) verifyJWT(a string) (jwtClaims, error) {
	var c jwtClaims
	parts := strings.Split(a, ".")
	if len(parts) != 3 {
		return c, fmt.Errorf("assertion has %d parts", len(parts))
	}
	sig, err := base64.RawURLEncoding.DecodeString(parts[2])
	if err != nil {
		return c, err
	}
	sum := sha256.Sum256([]byte(parts[0] + "." + parts[1]))
	key, _ := rsaKey(s.t)
	if err := rsa.VerifyPKCS1v15(&key.PublicKey, crypto.SHA256, sum[:], sig); err != nil {
		return c, fmt.Errorf("signature: %v", err)
	}
	body, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		return c, err
	}
	return c, json.Unmarshal(body, &c)
}

// set changes the server's behaviour under its lock.
func (s *oauthServer) set(f func(s *oauthServer)) {
	s.mu.Lock()
	defer s.mu.Unlock()
	f(s)
}

// addRefreshToken makes rt a valid refresh token for scopes.
func (s *oauthServer) addRefreshToken(rt string, scopes []string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.refresh[rt] = scopes
	s.secrets = append(s.secrets, rt)
}

func (s *oauthServer) grantCount(gt string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.grants[gt]
}

func (s *oauthServer) lastJWT(t *testing.T) jwtClaims {
	t.Helper()
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.jwts) == 0 {
		t.Fatal("the token endpoint received no JWT assertion")
	}
	return s.jwts[len(s.jwts)-1]
}

func (s *oauthServer) isValidRefresh(rt string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	_, ok := s.refresh[rt]
	return ok
}

func (s *oauthServer) allSecrets() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.secrets...)
}

// clientSecretsFile writes a Desktop app client secrets file whose
// endpoints are s's.
func (s *oauthServer) clientSecretsFile(t *testing.T, dir string) string {
	t.Helper()
	return writeJSON(t, dir, "client_secret.json", map[string]any{"installed": map[string]any{
		"client_id": testClientID, "client_secret": testClientSecret, "project_id": "test-project",
		"auth_uri": s.URL + "/auth", "token_uri": s.URL + "/token",
		"redirect_uris": []string{"http://localhost"},
	}})
}

// keyFile writes a service-account key whose token_uri is s's.
func (s *oauthServer) keyFile(t *testing.T, dir string) string {
	t.Helper()
	_, pemKey := rsaKey(t)
	return writeJSON(t, dir, "key.json", map[string]any{
		"type": "service_account", "project_id": "test-project", "private_key_id": "kid-1",
		"private_key": pemKey, "client_email": testSAEmail, "client_id": testSAClientID,
		"auth_uri": s.URL + "/auth", "token_uri": s.URL + "/token",
	})
}

// authorizedUserFile writes gcloud-style user credentials with a refresh
// token known to s.
func (s *oauthServer) authorizedUserFile(t *testing.T, dir string, scopes []string) string {
	t.Helper()
	rt := "adc-refresh-token-77"
	s.addRefreshToken(rt, scopes)
	return writeJSON(t, dir, "adc.json", map[string]any{
		"type": "authorized_user", "client_id": testClientID, "client_secret": testClientSecret,
		"refresh_token": rt, "token_uri": s.URL + "/token",
	})
}

func writeJSON(t *testing.T, dir, name string, v any) string {
	t.Helper()
	data, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	return writeFile(t, dir, name, string(data))
}

func writeFile(t *testing.T, dir, name, data string) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, []byte(data), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// chatServer stands in for the Chat API: it counts calls and records the
// Authorization header of the last one.
type chatServer struct {
	*httptest.Server
	calls atomic.Int64
	mu    sync.Mutex
	auth  string
}

func newChatServer(t *testing.T) *chatServer {
	t.Helper()
	c := &chatServer{}
	c.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c.calls.Add(1)
		c.mu.Lock()
		c.auth = r.Header.Get("Authorization")
		c.mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprintln(w, `{"spaces": []}`)
	}))
	t.Cleanup(c.Close)
	return c
}

// get makes one call through creds and returns the Authorization header
// the Chat stand-in saw.
func (c *chatServer) get(t *testing.T, creds *Credentials) string {
	t.Helper()
	resp, err := creds.HTTPClient.Get(c.URL + "/v1/spaces")
	if err != nil {
		t.Fatalf("GET /v1/spaces: %v", err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET /v1/spaces: %s", resp.Status)
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.auth
}

// browser returns an OpenBrowser that acts as a person who approves: it
// follows the consent address to the auth endpoint, which redirects to the
// loopback server. It records the final page and how many times it ran.
type browser struct {
	t    *testing.T
	runs atomic.Int64
	mu   sync.Mutex
	page string
	code int
}

func newBrowser(t *testing.T) *browser { return &browser{t: t} }

func (b *browser) open(u string) error {
	b.runs.Add(1)
	resp, err := http.Get(u)
	if err != nil {
		b.t.Errorf("browser: GET: %v", err)
		return err
	}
	defer resp.Body.Close()
	page, _ := io.ReadAll(resp.Body)
	b.mu.Lock()
	b.page, b.code = string(page), resp.StatusCode
	b.mu.Unlock()
	return nil
}

func (b *browser) result() (int, string) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.code, b.page
}

// noBrowser is an OpenBrowser that fails the test: no consent was expected.
func noBrowser(t *testing.T) func(string) error {
	return func(string) error {
		t.Errorf("a browser was opened; the cached token should have been used")
		return nil
	}
}

// envMap is a Getenv over a map.
func envMap(m map[string]string) func(string) string {
	return func(k string) string { return m[k] }
}
