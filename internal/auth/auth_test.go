package auth

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"testing"

	"golang.org/x/oauth2/google"
)

func TestParseMode(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		in      string
		want    Mode
		wantErr bool
	}{
		{"user", User, false},
		{"service-account", ServiceAccount, false},
		{"app", App, false},
		{"adc", ADC, false},
		{"token", Token, false},
		{"none", None, false},
		{"", "", true},
		{"USER", "", true},
		{"serviceaccount", "", true},
	} {
		t.Run(tc.in, func(t *testing.T) {
			t.Parallel()
			got, err := ParseMode(tc.in)
			if got != tc.want || (err != nil) != tc.wantErr {
				t.Errorf("ParseMode(%q) = %q, %v, want %q, error %v", tc.in, got, err, tc.want, tc.wantErr)
			}
			if err != nil && !errors.Is(err, ErrUsage) {
				t.Errorf("ParseMode(%q) error %v is not ErrUsage", tc.in, err)
			}
		})
	}
}

func TestScopes(t *testing.T) {
	t.Parallel()
	const p = "https://www.googleapis.com/auth/"
	user := []string{p + "chat.spaces.create", p + "chat.spaces.readonly"}
	userMembers := append(slices.Clone(user), p+"chat.memberships")
	for _, tc := range []struct {
		m       Mode
		members bool
		want    []string
	}{
		{User, false, user},
		{User, true, userMembers},
		{ServiceAccount, false, user},
		{ServiceAccount, true, userMembers},
		{ADC, true, userMembers},
		{App, false, []string{p + "chat.app.spaces.create", p + "chat.bot"}},
		{App, true, []string{p + "chat.app.spaces.create", p + "chat.bot", p + "chat.app.memberships"}},
		{Token, true, nil},
		{None, true, nil},
	} {
		if got := Scopes(tc.m, tc.members); !slices.Equal(got, tc.want) {
			t.Errorf("Scopes(%q, %v) = %q, want %q", tc.m, tc.members, got, tc.want)
		}
	}
	for _, tc := range []struct {
		m    Mode
		n    Needs
		want []string
	}{
		{User, Needs{Patch: true}, []string{p + "chat.spaces"}},
		{User, Needs{Members: true, Patch: true, Delete: true}, []string{p + "chat.spaces", p + "chat.memberships", p + "chat.delete"}},
		{ServiceAccount, Needs{Admin: true}, []string{p + "chat.spaces.create", p + "chat.spaces.readonly", p + "chat.admin.spaces", p + "chat.admin.memberships"}},
		{ADC, Needs{Admin: true, Delete: true}, []string{p + "chat.spaces.create", p + "chat.spaces.readonly", p + "chat.delete", p + "chat.admin.spaces", p + "chat.admin.memberships", p + "chat.admin.delete"}},
		{App, Needs{Patch: true, Delete: true, Members: true}, []string{p + "chat.app.spaces", p + "chat.bot", p + "chat.app.memberships", p + "chat.app.delete"}},
		{Token, Needs{Patch: true}, nil},
		{User, Needs{ReadOnly: true, Members: true, Delete: true, Patch: true}, []string{p + "chat.spaces.readonly", p + "chat.memberships.readonly"}},
		{ServiceAccount, Needs{ReadOnly: true, Admin: true}, []string{p + "chat.spaces.readonly", p + "chat.admin.spaces.readonly", p + "chat.admin.memberships.readonly"}},
	} {
		if got := ScopesFor(tc.m, tc.n); !slices.Equal(got, tc.want) {
			t.Errorf("ScopesFor(%q, %+v) = %q, want %q", tc.m, tc.n, got, tc.want)
		}
	}
}

func TestHint(t *testing.T) {
	t.Parallel()
	for _, m := range Modes {
		for _, code := range []int{401, 403} {
			if Hint(m, code) == "" {
				t.Errorf("Hint(%q, %d) = \"\", want advice", m, code)
			}
		}
		if got := Hint(m, 404); got != "" {
			t.Errorf("Hint(%q, 404) = %q, want \"\"", m, got)
		}
	}
	for m, want := range map[Mode]string{ServiceAccount: "Manage Domain Wide Delegation", App: "approved", User: "consent screen"} {
		if got := Hint(m, 403); !strings.Contains(got, want) {
			t.Errorf("Hint(%q, 403) = %q, want it to mention %q", m, got, want)
		}
	}
}

func TestIsLoopback(t *testing.T) {
	t.Parallel()
	for host, want := range map[string]bool{
		"127.0.0.1": true, "127.9.8.7": true, "::1": true, "localhost": true, "LocalHost": true,
		"": false, "0.0.0.0": false, "10.0.0.1": false, "chat.googleapis.com": false, "localhost.example.com": false, "::": false,
	} {
		if got := IsLoopback(host); got != want {
			t.Errorf("IsLoopback(%q) = %v, want %v", host, got, want)
		}
	}
}

func TestNone(t *testing.T) {
	t.Parallel()
	chat := newChatServer(t)
	port := chat.Listener.Addr().(interface{ String() string }).String()
	port = port[strings.LastIndex(port, ":"):]
	for _, endpoint := range []string{chat.URL, "http://localhost" + port + "/", "http://127.0.0.1" + port + "/v1"} {
		t.Run(endpoint, func(t *testing.T) {
			t.Parallel()
			creds, err := New(context.Background(), Config{Mode: None, Endpoint: endpoint})
			if err != nil {
				t.Fatalf("New(none, %q) = %v, want no error", endpoint, err)
			}
			if creds.TokenSource != nil || creds.Scopes != nil || creds.Email != "" {
				t.Errorf("New(none) = %+v, want no token source and no scopes", creds)
			}
			resp, err := creds.HTTPClient.Get(strings.TrimSuffix(endpoint, "/") + "/spaces")
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			chat.mu.Lock()
			defer chat.mu.Unlock()
			if chat.auth != "" {
				t.Errorf("none mode sent Authorization %q, want none", chat.auth)
			}
		})
	}
}

func TestToken(t *testing.T) {
	t.Parallel()
	chat := newChatServer(t)
	creds, err := New(context.Background(), Config{Mode: Token, Endpoint: chat.URL, Getenv: envMap(map[string]string{TokenEnv: " ya29.token-from-env\n"})})
	if err != nil {
		t.Fatalf("New(token) = %v", err)
	}
	if got, want := chat.get(t, creds), "Bearer ya29.token-from-env"; got != want {
		t.Errorf("Authorization = %q, want %q", got, want)
	}
	if strings.Contains(creds.Identity, "ya29") {
		t.Errorf("Identity %q holds the token", creds.Identity)
	}
	if creds.Email != "" {
		t.Errorf("Email = %q, want \"\": an access token does not say whose it is", creds.Email)
	}
}

// TestRefused covers every setting refused before any call: each is an
// ErrUsage error that names the file (or flag) and the problem, and
// neither the Chat stand-in nor the token endpoint is contacted.
func TestRefused(t *testing.T) {
	t.Parallel()
	oauth := newOAuthServer(t)
	chat := newChatServer(t)
	dir := t.TempDir()
	secrets := oauth.clientSecretsFile(t, dir)
	key := oauth.keyFile(t, dir)
	missing := filepath.Join(dir, "missing.json")
	notJSON := writeFile(t, dir, "notjson.json", "-----BEGIN PRIVATE KEY-----\nMIIE\n")
	web := writeJSON(t, dir, "web.json", map[string]any{"web": map[string]any{"client_id": "x", "client_secret": "y"}})
	authUser := writeJSON(t, dir, "authuser.json", map[string]any{"type": "authorized_user", "client_id": "x", "client_secret": "y", "refresh_token": "z"})
	empty := writeJSON(t, dir, "empty.json", map[string]any{})
	noKey := writeJSON(t, dir, "nokey.json", map[string]any{"type": "service_account", "client_email": testSAEmail, "token_uri": oauth.URL + "/token"})
	badPEM := writeJSON(t, dir, "badpem.json", map[string]any{"type": "service_account", "client_email": testSAEmail, "private_key": "not a key", "token_uri": oauth.URL + "/token"})
	unreadable := writeFile(t, dir, "unreadable.json", "{}")
	if err := os.Chmod(unreadable, 0); err != nil {
		t.Fatal(err)
	}
	home := t.TempDir() // no gcloud file in it
	noADC := func(context.Context, google.CredentialsParams) (*google.Credentials, error) {
		return nil, errors.New("google: could not find default credentials")
	}

	for _, tc := range []struct {
		name string
		cfg  Config
		want []string // substrings of the message
	}{
		{"user missing file", Config{Mode: User, Credentials: missing}, []string{missing, "does not exist"}},
		{"user not JSON", Config{Mode: User, Credentials: notJSON}, []string{notJSON, "not JSON"}},
		{"user given a key", Config{Mode: User, Credentials: key}, []string{key, "service-account key", "Desktop app"}},
		{"user given web client", Config{Mode: User, Credentials: web}, []string{web, "Web application", "Desktop app"}},
		{"user given gcloud credentials", Config{Mode: User, Credentials: authUser}, []string{authUser, "authorized_user"}},
		{"user given other JSON", Config{Mode: User, Credentials: empty}, []string{empty, "not a Google credentials file"}},
		{"user unreadable", Config{Mode: User, Credentials: unreadable}, []string{unreadable, "not readable"}},
		// Unlike a file mode, a directory stops root from reading too.
		{"user credentials a directory", Config{Mode: User, Credentials: dir}, []string{dir, "cannot be read (is a directory)"}},
		{"user without credentials", Config{Mode: User}, []string{"--auth user needs --credentials"}},
		{"service-account given client secrets", Config{Mode: ServiceAccount, Credentials: secrets, Subject: "admin@example.com"}, []string{secrets, "OAuth client secrets", "service-account key", "--auth user"}},
		{"service-account missing subject", Config{Mode: ServiceAccount, Credentials: key}, []string{"--subject"}},
		{"service-account missing file", Config{Mode: ServiceAccount, Credentials: missing, Subject: "a@b.c"}, []string{missing, "does not exist"}},
		{"service-account key without private_key", Config{Mode: ServiceAccount, Credentials: noKey, Subject: "a@b.c"}, []string{noKey, "private_key"}},
		{"service-account key with bad PEM", Config{Mode: ServiceAccount, Credentials: badPEM, Subject: "a@b.c"}, []string{badPEM, "not PEM"}},
		{"app given client secrets", Config{Mode: App, Credentials: secrets}, []string{secrets, "OAuth client secrets"}},
		{"app not JSON", Config{Mode: App, Credentials: notJSON}, []string{notJSON, "not JSON"}},
		{"app with subject", Config{Mode: App, Credentials: key, Subject: "a@b.c"}, []string{"--subject"}},
		{"adc env missing file", Config{Mode: ADC, Getenv: envMap(map[string]string{"GOOGLE_APPLICATION_CREDENTIALS": missing})}, []string{missing, "GOOGLE_APPLICATION_CREDENTIALS", "does not exist"}},
		{"adc env client secrets", Config{Mode: ADC, Getenv: envMap(map[string]string{"GOOGLE_APPLICATION_CREDENTIALS": secrets})}, []string{secrets, "--auth user"}},
		{"adc env not JSON", Config{Mode: ADC, Getenv: envMap(map[string]string{"GOOGLE_APPLICATION_CREDENTIALS": notJSON})}, []string{notJSON, "not JSON"}},
		{"adc gcloud file not JSON", Config{Mode: ADC, Getenv: envMap(map[string]string{"CLOUDSDK_CONFIG": dir + "/gc"})}, nil},
		{"adc none found", Config{Mode: ADC, Getenv: envMap(map[string]string{"HOME": home}), findDefault: noADC}, []string{"no application default credentials", "GOOGLE_APPLICATION_CREDENTIALS", filepath.Join(home, ".config", "gcloud")}},
		{"adc with credentials flag", Config{Mode: ADC, Credentials: key}, []string{"--credentials", "GOOGLE_APPLICATION_CREDENTIALS"}},
		{"adc subject with gcloud credentials", Config{Mode: ADC, Subject: "a@b.c", Getenv: envMap(map[string]string{"GOOGLE_APPLICATION_CREDENTIALS": authUser})}, []string{authUser, "--subject"}},
		{"token unset", Config{Mode: Token, Getenv: envMap(nil)}, []string{TokenEnv, "empty or unset"}},
		{"token blank", Config{Mode: Token, Getenv: envMap(map[string]string{TokenEnv: "  \n"})}, []string{TokenEnv}},
		{"token with subject", Config{Mode: Token, Subject: "a@b.c", Getenv: envMap(map[string]string{TokenEnv: "t"})}, []string{"--subject"}},
		{"token over plain http", Config{Mode: Token, Endpoint: "http://chat.example.com/", Getenv: envMap(map[string]string{TokenEnv: "t"})}, []string{"plain http", "chat.example.com"}},
		{"none remote endpoint", Config{Mode: None, Endpoint: "https://chat.googleapis.com/"}, []string{"loopback", "chat.googleapis.com"}},
		{"none look-alike host", Config{Mode: None, Endpoint: "http://localhost.example.com:8080"}, []string{"loopback"}},
		{"none default endpoint", Config{Mode: None}, []string{"--auth none", "loopback"}},
		{"none bad URL", Config{Mode: None, Endpoint: "127.0.0.1:8080"}, []string{"not an http or https URL"}},
		{"token cache with app", Config{Mode: App, Credentials: key, TokenCache: dir + "/t.json"}, []string{"--token-cache"}},
		{"unknown mode", Config{Mode: "kerberos"}, []string{`"kerberos"`, "user, service-account"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			if strings.Contains(tc.name, "unreadable") && (runtime.GOOS == "windows" || os.Geteuid() == 0) {
				t.Skip("file modes do not stop this user from reading")
			}
			if tc.name == "adc gcloud file not JSON" {
				gc := filepath.Join(dir, "gc")
				os.MkdirAll(gc, 0o700)
				p := writeFile(t, gc, "application_default_credentials.json", "garbage")
				tc.want = []string{p, "gcloud", "not JSON"}
			}
			cfg := tc.cfg
			if cfg.Getenv == nil {
				cfg.Getenv = envMap(nil)
			}
			if cfg.Endpoint == "" && cfg.Mode != None {
				cfg.Endpoint = chat.URL
			}
			_, err := New(context.Background(), cfg)
			if !errors.Is(err, ErrUsage) {
				t.Fatalf("New(%+v) = %v, want an ErrUsage error", tc.cfg.Mode, err)
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("New(%q) error %q does not mention %q", tc.cfg.Mode, err, w)
				}
			}
		})
	}
	t.Cleanup(func() {
		if n := chat.calls.Load(); n != 0 {
			t.Errorf("the Chat endpoint received %d calls, want 0", n)
		}
		if n := oauth.grantCount(grantCode) + oauth.grantCount(grantRefresh) + oauth.grantCount(grantJWT); n != 0 {
			t.Errorf("the token endpoint granted %d tokens, want 0", n)
		}
	})
}

// TestRedirectKeepsToken checks that a redirect to another host does not
// carry the bearer token there.
func TestRedirectKeepsToken(t *testing.T) {
	t.Parallel()
	elsewhere := newChatServer(t)
	redirector := httptest.NewServer(http.RedirectHandler(elsewhere.URL+"/stolen", http.StatusFound))
	t.Cleanup(redirector.Close)
	creds, err := New(context.Background(), Config{Mode: Token, Getenv: envMap(map[string]string{TokenEnv: "secret-token"})})
	if err != nil {
		t.Fatal(err)
	}
	resp, err := creds.HTTPClient.Get(redirector.URL)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusFound || elsewhere.calls.Load() != 0 {
		t.Errorf("GET through a cross-host redirect: status %d, %d calls to the other host; want 302 and 0", resp.StatusCode, elsewhere.calls.Load())
	}
}

func TestDefaultTokenCache(t *testing.T) {
	t.Parallel()
	p, err := DefaultTokenCache()
	if err != nil {
		t.Skipf("no configuration directory here: %v", err)
	}
	if want := filepath.Join("provision", "token.json"); !strings.HasSuffix(p, want) {
		t.Errorf("DefaultTokenCache() = %q, want it to end in %q", p, want)
	}
}

func TestSystemBrowserWithoutDisplay(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("display variables are a Linux matter")
	}
	t.Setenv("DISPLAY", "")
	t.Setenv("WAYLAND_DISPLAY", "")
	if err := SystemBrowser("http://127.0.0.1:1/"); !errors.Is(err, ErrNoBrowser) {
		t.Errorf("SystemBrowser without a display = %v, want ErrNoBrowser", err)
	}
}
