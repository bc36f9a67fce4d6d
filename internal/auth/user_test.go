package auth

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/oauth2"
)

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

// syncBuffer is a bytes.Buffer safe for the writes of several goroutines.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// userSetup is one user-mode scenario: an OAuth stand-in, a Chat stand-in,
// client secrets and a token cache path in a fresh directory.
type userSetup struct {
	oauth   *oauthServer
	chat    *chatServer
	secrets string
	cache   string
	prompt  *syncBuffer
}

func newUserSetup(t *testing.T) *userSetup {
	t.Helper()
	dir := t.TempDir()
	s := &userSetup{oauth: newOAuthServer(t), chat: newChatServer(t), prompt: new(syncBuffer)}
	s.secrets = s.oauth.clientSecretsFile(t, dir)
	s.cache = filepath.Join(dir, "state", "token.json")
	return s
}

func (s *userSetup) config(members bool, interactive bool, open func(string) error) Config {
	return Config{
		Mode: User, Credentials: s.secrets, TokenCache: s.cache, Scopes: Scopes(User, members),
		Endpoint: s.chat.URL, Interactive: interactive, OpenBrowser: open, Prompt: s.prompt,
		Getenv: envMap(nil),
	}
}

func readCache(t *testing.T, path string) cache {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("reading the token cache: %v", err)
	}
	var c cache
	if err := json.Unmarshal(data, &c); err != nil {
		t.Fatalf("token cache: %v", err)
	}
	return c
}

func checkMode(t *testing.T, path string, want os.FileMode) {
	t.Helper()
	if runtime.GOOS == "windows" {
		return
	}
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if got := fi.Mode().Perm(); got != want {
		t.Errorf("mode of %s = %v, want %v", path, got, want)
	}
}

// seedCache writes a cache holding a token with refresh token rt (valid at
// the OAuth stand-in for the same scopes) that expired an hour ago.
func (s *userSetup) seedCache(t *testing.T, scopes []string, rt string, expiry time.Time) {
	t.Helper()
	s.oauth.addRefreshToken(rt, scopes)
	s.oauth.set(func(o *oauthServer) { o.secrets = append(o.secrets, "seeded-access-token") })
	if err := saveCache(s.cache, &cache{ClientID: testClientID, Scopes: scopes, Token: &oauth2.Token{AccessToken: "seeded-access-token", TokenType: "Bearer", RefreshToken: rt, Expiry: expiry}}); err != nil {
		t.Fatal(err)
	}
}

// TestUserConsentThenCache runs the loopback flow end to end with a test
// browser, then a second, non-interactive run that uses the cache.
func TestUserConsentThenCache(t *testing.T) {
	t.Parallel()
	s := newUserSetup(t)
	b := newBrowser(t)
	cfg := s.config(true, true, b.open)
	var trips atomic.Int64
	cfg.HTTPClient = &http.Client{Transport: roundTripFunc(func(r *http.Request) (*http.Response, error) {
		trips.Add(1)
		return http.DefaultTransport.RoundTrip(r)
	})}
	creds, err := New(context.Background(), cfg)
	if err != nil {
		t.Fatalf("New(user) = %v, prompt:\n%s", err, s.prompt)
	}
	if b.runs.Load() != 1 {
		t.Fatalf("browser opened %d times, want 1", b.runs.Load())
	}
	if code, page := b.result(); code != http.StatusOK || !strings.Contains(page, "signed in") {
		t.Errorf("browser's last page = %d %q, want 200 and a signed-in note", code, page)
	}
	for _, want := range []string{"No token is cached", s.oauth.URL + "/auth?", "code_challenge=", "ssh -L", "Signed in."} {
		if !strings.Contains(s.prompt.String(), want) {
			t.Errorf("prompt does not contain %q:\n%s", want, s.prompt)
		}
	}
	c := readCache(t, s.cache)
	checkMode(t, s.cache, 0o600)
	checkMode(t, filepath.Dir(s.cache), 0o700)
	wantScopes := withIdentityScopes(Scopes(User, true))
	if c.ClientID != testClientID || !slices.Equal(c.Scopes, wantScopes) || c.Token.RefreshToken == "" {
		t.Errorf("cache = client %q scopes %q refresh token set %v; want %q, %q, true", c.ClientID, c.Scopes, c.Token.RefreshToken != "", testClientID, wantScopes)
	}
	// The consent asked for the identity scopes, and the email of its ID
	// token is known and cached.
	if got := s.oauth.lastAuthScopes(t); !slices.Contains(got, "openid") || !slices.Contains(got, "https://www.googleapis.com/auth/userinfo.email") {
		t.Errorf("consent address scopes = %q, want openid and userinfo.email among them", got)
	}
	for _, want := range []string{"openid, userinfo.email", "leaves you out of member lists"} {
		if !strings.Contains(s.prompt.String(), want) {
			t.Errorf("prompt does not contain %q:\n%s", want, s.prompt)
		}
	}
	ids := s.oauth.idTokens()
	if len(ids) != 1 {
		t.Fatalf("ID tokens handed out = %d, want 1", len(ids))
	}
	if raw := mustRead(t, s.cache); strings.Contains(raw, ids[0]) || strings.Contains(raw, "id_token") {
		t.Errorf("the token cache holds the ID token:\n%s", raw)
	}
	wantEmail := strings.ToLower(testUserEmail)
	if creds.Email != wantEmail || c.Email != wantEmail {
		t.Errorf("after consent: Credentials.Email = %q, cached email = %q; want %q", creds.Email, c.Email, wantEmail)
	}
	if got, want := s.chat.get(t, creds), "Bearer "+c.Token.AccessToken; got != want {
		t.Errorf("Authorization = %q, want %q", got, want)
	}
	if n := trips.Load(); n != 2 {
		t.Errorf("requests through Config.HTTPClient = %d, want 2 (one code exchange, one Chat call)", n)
	}
	if !strings.Contains(creds.Identity, testClientID) || !strings.Contains(creds.Identity, s.cache) || !strings.Contains(creds.Identity, wantEmail) {
		t.Errorf("Identity = %q, want the client ID, the cache path and the email", creds.Identity)
	}

	// Later, a scheduled run: no terminal, no browser, same token.
	creds2, err := New(context.Background(), s.config(true, false, noBrowser(t)))
	if err != nil {
		t.Fatalf("second New(user) = %v", err)
	}
	if got, want := s.chat.get(t, creds2), "Bearer "+c.Token.AccessToken; got != want {
		t.Errorf("second run Authorization = %q, want the cached %q", got, want)
	}
	if creds2.Email != wantEmail {
		t.Errorf("cached run: Credentials.Email = %q, want %q", creds2.Email, wantEmail)
	}
	if n := s.oauth.grantCount(grantCode); n != 1 {
		t.Errorf("authorization_code grants = %d, want 1", n)
	}
	// A run that needs fewer scopes still uses the cache.
	if creds3, err := New(context.Background(), s.config(false, false, noBrowser(t))); err != nil {
		t.Errorf("New(user, fewer scopes) = %v, want the cache used", err)
	} else if creds3.Email != wantEmail {
		t.Errorf("cached run with fewer scopes: Credentials.Email = %q, want %q", creds3.Email, wantEmail)
	}
}

func TestUserCallbackRejected(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name           string
		state, errCode string
		want           string
	}{
		{"wrong state", "forged-state", "", "state does not match"},
		{"denied", "", "access_denied", "access_denied"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			s := newUserSetup(t)
			s.oauth.set(func(o *oauthServer) { o.authState, o.authError = tc.state, tc.errCode })
			b := newBrowser(t)
			_, err := New(context.Background(), s.config(false, true, b.open))
			if !errors.Is(err, ErrUsage) || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("New(user) = %v, want an ErrUsage error mentioning %q", err, tc.want)
			}
			if code, page := b.result(); code != http.StatusBadRequest || !strings.Contains(page, tc.want) {
				t.Errorf("browser's page = %d %q, want 400 mentioning %q", code, page, tc.want)
			}
			if n := s.oauth.grantCount(grantCode); n != 0 {
				t.Errorf("authorization_code grants = %d, want 0", n)
			}
			if _, err := os.Stat(s.cache); !errors.Is(err, os.ErrNotExist) {
				t.Errorf("token cache exists after a failed sign-in (%v)", err)
			}
		})
	}
}

// TestUserPastedRedirect is a browser on another machine: it cannot reach
// the loopback port, and the person pastes the address instead.
func TestUserPastedRedirect(t *testing.T) {
	t.Parallel()
	s := newUserSetup(t)
	pr, pw := io.Pipe()
	t.Cleanup(func() { pw.Close() })
	cfg := s.config(false, true, func(u string) error {
		noFollow := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
		resp, err := noFollow.Get(u)
		if err != nil {
			return err
		}
		resp.Body.Close()
		go io.WriteString(pw, "not an address\n"+resp.Header.Get("Location")+"\n")
		return nil
	})
	cfg.Input = pr
	if _, err := New(context.Background(), cfg); err != nil {
		t.Fatalf("New(user) with a pasted address = %v", err)
	}
	if !strings.Contains(s.prompt.String(), "paste") || !strings.Contains(s.prompt.String(), "not the address") {
		t.Errorf("prompt lacks the paste instructions or the retry note:\n%s", s.prompt)
	}
	if n := s.oauth.grantCount(grantCode); n != 1 {
		t.Errorf("authorization_code grants = %d, want 1", n)
	}
}

func TestUserRefreshPersisted(t *testing.T) {
	t.Parallel()
	s := newUserSetup(t)
	s.oauth.set(func(o *oauthServer) { o.rotate = true })
	s.seedCache(t, Scopes(User, false), "old-refresh-token", time.Now().Add(-time.Hour))
	if runtime.GOOS != "windows" {
		os.Chmod(s.cache, 0o644) // as if a user copied it carelessly
	}
	creds, err := New(context.Background(), s.config(false, false, noBrowser(t)))
	if err != nil {
		t.Fatalf("New(user) with an expired cached token = %v", err)
	}
	c := readCache(t, s.cache)
	checkMode(t, s.cache, 0o600)
	if c.Token.AccessToken == "seeded-access-token" || c.Token.RefreshToken == "old-refresh-token" {
		t.Fatalf("cache after refresh holds access %q refresh %q, want new ones", c.Token.AccessToken, c.Token.RefreshToken)
	}
	if !s.oauth.isValidRefresh(c.Token.RefreshToken) || !slices.Equal(c.Scopes, Scopes(User, false)) {
		t.Errorf("cache = refresh token valid %v, scopes %q; want valid and %q", s.oauth.isValidRefresh(c.Token.RefreshToken), c.Scopes, Scopes(User, false))
	}
	if got, want := s.chat.get(t, creds), "Bearer "+c.Token.AccessToken; got != want {
		t.Errorf("Authorization = %q, want %q", got, want)
	}
}

// TestUserRotationUnderLoad refreshes on every call (tokens expire at once)
// from many goroutines, with a refresh token that rotates each time: the
// cache must end with the refresh token that is valid now.
func TestUserRotationUnderLoad(t *testing.T) {
	t.Parallel()
	s := newUserSetup(t)
	// Within oauth2's expiry margin: every Token() refreshes.
	s.oauth.set(func(o *oauthServer) { o.rotate, o.expiresIn = true, 1 })
	s.seedCache(t, Scopes(User, false), "first-refresh-token", time.Now().Add(-time.Hour))
	creds, err := New(context.Background(), s.config(false, false, noBrowser(t)))
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			for range 5 {
				resp, err := creds.HTTPClient.Get(s.chat.URL)
				if err != nil {
					t.Error(err)
					return
				}
				resp.Body.Close()
			}
		})
	}
	wg.Wait()
	c := readCache(t, s.cache)
	if !s.oauth.isValidRefresh(c.Token.RefreshToken) {
		t.Errorf("cached refresh token %q is no longer valid: a rotation was lost", c.Token.RefreshToken)
	}
	if n := s.oauth.grantCount(grantRefresh); n < 40 {
		t.Errorf("refresh grants = %d, want at least 40 (one per call)", n)
	}
}

func TestUserCacheUnusable(t *testing.T) {
	t.Parallel()
	valid := time.Now().Add(time.Hour)
	for _, tc := range []struct {
		name  string
		setup func(t *testing.T, s *userSetup)
		want  string
	}{
		{"no cache", func(*testing.T, *userSetup) {}, "no token is cached"},
		{"missing scope", func(t *testing.T, s *userSetup) {
			s.seedCache(t, Scopes(User, false), "rt-1", valid)
		}, "lacks chat.memberships (needed to add members and managers)"},
		{"damaged", func(t *testing.T, s *userSetup) {
			os.MkdirAll(filepath.Dir(s.cache), 0o700)
			writeFile(t, filepath.Dir(s.cache), filepath.Base(s.cache), "{not json")
		}, "damaged"},
		{"other client", func(t *testing.T, s *userSetup) {
			saveCache(s.cache, &cache{ClientID: "other.apps.googleusercontent.com", Scopes: Scopes(User, true), Token: &oauth2.Token{AccessToken: "a", RefreshToken: "r", Expiry: valid}})
		}, "another OAuth client"},
		{"revoked", func(t *testing.T, s *userSetup) {
			s.seedCache(t, Scopes(User, true), "rt-2", time.Now().Add(-time.Hour))
			s.oauth.set(func(o *oauthServer) { o.refuse[grantRefresh] = "invalid_grant" })
		}, "invalid_grant"},
		{"expired without refresh token", func(t *testing.T, s *userSetup) {
			saveCache(s.cache, &cache{ClientID: testClientID, Scopes: Scopes(User, true), Token: &oauth2.Token{AccessToken: "a", Expiry: time.Now().Add(-time.Hour)}})
		}, "no refresh token"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			// Without a terminal: an ErrUsage error that says why and what to do.
			s := newUserSetup(t)
			tc.setup(t, s)
			_, err := New(context.Background(), s.config(true, false, noBrowser(t)))
			if !errors.Is(err, ErrUsage) || !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), "from a terminal") {
				t.Fatalf("New(user, non-interactive) = %v, want an ErrUsage error mentioning %q and what to do", err, tc.want)
			}
			if n := s.chat.calls.Load(); n != 0 {
				t.Errorf("Chat calls = %d, want 0", n)
			}

			// At a terminal: a new consent, saying why, and a new cache.
			b := newBrowser(t)
			if _, err := New(context.Background(), s.config(true, true, b.open)); err != nil {
				t.Fatalf("New(user, interactive) = %v", err)
			}
			if b.runs.Load() != 1 || !strings.Contains(strings.ToLower(s.prompt.String()), strings.ToLower(tc.want)) {
				t.Errorf("browser runs = %d, prompt = %q; want 1 and the reason %q", b.runs.Load(), s.prompt, tc.want)
			}
			want := withIdentityScopes(Scopes(User, true))
			if c := readCache(t, s.cache); c.ClientID != testClientID || !slices.Equal(c.Scopes, want) {
				t.Errorf("cache after consent = %q %q, want %q %q", c.ClientID, c.Scopes, testClientID, want)
			}
		})
	}
}

// TestUserPartialConsent: the person unticked a permission.
func TestUserPartialConsent(t *testing.T) {
	t.Parallel()
	s := newUserSetup(t)
	s.oauth.set(func(o *oauthServer) {
		o.grant = func(req []string) []string {
			return slices.DeleteFunc(slices.Clone(req), func(x string) bool { return strings.HasSuffix(x, "chat.memberships") })
		}
	})
	_, err := New(context.Background(), s.config(true, true, newBrowser(t).open))
	if !errors.Is(err, ErrUsage) || !strings.Contains(err.Error(), "did not grant chat.memberships") {
		t.Fatalf("New(user) after a partial consent = %v, want an ErrUsage error naming chat.memberships", err)
	}
	if _, err := os.Stat(s.cache); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("token cache written after a partial consent (%v)", err)
	}
}

func TestUserConsentCancelled(t *testing.T) {
	t.Parallel()
	s := newUserSetup(t)
	ctx, cancel := context.WithCancel(context.Background())
	_, err := New(ctx, s.config(false, true, func(string) error { cancel(); return nil }))
	if !errors.Is(err, context.Canceled) {
		t.Errorf("New(user) with the context cancelled while waiting = %v, want context.Canceled", err)
	}
}

// TestUserEmailAfterRefresh: the email learnt at the consent survives the
// refreshes (with rotating refresh tokens) of later runs, which bring no ID
// token.
func TestUserEmailAfterRefresh(t *testing.T) {
	t.Parallel()
	s := newUserSetup(t)
	// Within oauth2's expiry margin: every Token() refreshes.
	s.oauth.set(func(o *oauthServer) { o.rotate, o.expiresIn = true, 1 })
	if _, err := New(context.Background(), s.config(true, true, newBrowser(t).open)); err != nil {
		t.Fatalf("New(user) = %v", err)
	}
	consented := readCache(t, s.cache)
	creds, err := New(context.Background(), s.config(true, false, noBrowser(t)))
	if err != nil {
		t.Fatalf("New(user) from the cache = %v", err)
	}
	s.chat.get(t, creds) // one more refresh
	c := readCache(t, s.cache)
	want := strings.ToLower(testUserEmail)
	if c.Token.RefreshToken == consented.Token.RefreshToken || s.oauth.grantCount(grantRefresh) < 2 {
		t.Fatalf("cached refresh token unchanged after %d refreshes; the scenario did not refresh", s.oauth.grantCount(grantRefresh))
	}
	if creds.Email != want || c.Email != want {
		t.Errorf("after refreshes: Credentials.Email = %q, cached email = %q; want %q", creds.Email, c.Email, want)
	}
	if n := s.oauth.grantCount(grantCode); n != 1 {
		t.Errorf("authorization_code grants = %d, want 1", n)
	}
}

// TestUserCacheWithoutEmail: a cache written before the email was recorded
// (no email, no identity scopes) still serves, at a terminal too: the email
// is unknown, which the debug log says, and no consent is asked for.
func TestUserCacheWithoutEmail(t *testing.T) {
	t.Parallel()
	for _, interactive := range []bool{false, true} {
		t.Run(fmt.Sprintf("interactive=%v", interactive), func(t *testing.T) {
			t.Parallel()
			s := newUserSetup(t)
			s.seedCache(t, Scopes(User, true), "old-version-refresh-token", time.Now().Add(time.Hour))
			var log syncBuffer
			cfg := s.config(true, interactive, noBrowser(t))
			cfg.Logger = slog.New(slog.NewTextHandler(&log, &slog.HandlerOptions{Level: slog.LevelDebug}))
			creds, err := New(context.Background(), cfg)
			if err != nil {
				t.Fatalf("New(user) with a cache without email = %v", err)
			}
			if creds.Email != "" {
				t.Errorf("Credentials.Email = %q, want \"\"", creds.Email)
			}
			if !strings.Contains(log.String(), "email is unknown") || !strings.Contains(log.String(), "predates the identity scopes") {
				t.Errorf("debug log does not say the email is unknown, and why:\n%s", log.String())
			}
			if n := s.oauth.grantCount(grantCode); n != 0 || s.prompt.String() != "" {
				t.Errorf("authorization_code grants = %d, prompt %q; want 0 and nothing", n, s.prompt)
			}
		})
	}
}

// TestUserEmailUnknown: a consent whose ID token gives no usable verified
// email still succeeds, with Email "" (now and in later runs) and a debug
// line saying why.
func TestUserEmailUnknown(t *testing.T) {
	t.Parallel()
	enc := base64.RawURLEncoding.EncodeToString
	header := enc([]byte(`{"alg":"RS256"}`))
	for _, tc := range []struct {
		name   string
		set    func(o *oauthServer)
		want   string // Credentials.Email
		reason string // in the debug log when want is ""
	}{
		{"verified false", func(o *oauthServer) {
			o.idClaims = map[string]any{"email": testUserEmail, "email_verified": false}
		}, "", "not verified"},
		{"verified missing", func(o *oauthServer) {
			o.idClaims = map[string]any{"email": testUserEmail}
		}, "", "not verified"},
		{"verified as a string", func(o *oauthServer) {
			o.idClaims = map[string]any{"email": testUserEmail, "email_verified": "true"}
		}, strings.ToLower(testUserEmail), ""},
		{"no email claim", func(o *oauthServer) {
			o.idClaims = map[string]any{"email_verified": true}
		}, "", "has no email"},
		{"email not an address", func(o *oauthServer) {
			o.idClaims = map[string]any{"email": "alice", "email_verified": true}
		}, "", "not an address"},
		{"identity scopes declined", func(o *oauthServer) {
			o.grant = func(req []string) []string {
				return slices.DeleteFunc(slices.Clone(req), func(x string) bool { return x == "openid" || strings.HasSuffix(x, "userinfo.email") })
			}
		}, "", "no ID token"},
		{"not a JWT", func(o *oauthServer) { o.idRaw = "not-a-jwt-7f3c1" }, "", "not a JWT"},
		{"payload not base64url", func(o *oauthServer) { o.idRaw = header + ".!!!$$$.c2ln" }, "", "not base64url"},
		{"payload not JSON", func(o *oauthServer) { o.idRaw = header + "." + enc([]byte("[1,2")) + ".c2ln" }, "", "not a JSON object"},
		{"padded payload", func(o *oauthServer) {
			o.idRaw = header + "." + base64.URLEncoding.EncodeToString([]byte(`{"email":"Bob@Example.com","email_verified":true}`)) + ".c2ln"
		}, "bob@example.com", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			s := newUserSetup(t)
			s.oauth.set(tc.set)
			var log syncBuffer
			cfg := s.config(false, true, newBrowser(t).open)
			cfg.Logger = slog.New(slog.NewTextHandler(&log, &slog.HandlerOptions{Level: slog.LevelDebug}))
			creds, err := New(context.Background(), cfg)
			if err != nil {
				t.Fatalf("New(user) = %v, want the consent to succeed", err)
			}
			if creds.Email != tc.want {
				t.Errorf("Credentials.Email = %q, want %q", creds.Email, tc.want)
			}
			if c := readCache(t, s.cache); c.Email != tc.want {
				t.Errorf("cached email = %q, want %q", c.Email, tc.want)
			}
			if tc.want == "" && (!strings.Contains(log.String(), "email is unknown") || !strings.Contains(log.String(), tc.reason)) {
				t.Errorf("debug log does not say the email is unknown because %q:\n%s", tc.reason, log.String())
			}
			// A later run from the cache: still known or unknown, no consent.
			creds2, err := New(context.Background(), s.config(false, false, noBrowser(t)))
			if err != nil {
				t.Fatalf("New(user) from the cache = %v", err)
			}
			if creds2.Email != tc.want {
				t.Errorf("cached run: Credentials.Email = %q, want %q", creds2.Email, tc.want)
			}
		})
	}
}
