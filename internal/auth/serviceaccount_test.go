package auth

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
)

func TestServiceAccountAndApp(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		mode     Mode
		subject  string
		members  bool
		identity string
		email    string
		// principal is recorded with each requestId.
		principal string
	}{
		{ServiceAccount, "admin@example.com", false, "service account " + testSAEmail + " impersonating admin@example.com", "admin@example.com", "users/admin@example.com"},
		{ServiceAccount, "Admin.Boss@Example.COM", true, "service account " + testSAEmail + " impersonating Admin.Boss@Example.COM", "admin.boss@example.com", "users/admin.boss@example.com"},
		{App, "", false, "Chat app service account " + testSAEmail, "", testSAEmail},
		{App, "", true, "Chat app service account " + testSAEmail, "", testSAEmail},
	} {
		t.Run(fmt.Sprintf("%s/members=%v", tc.mode, tc.members), func(t *testing.T) {
			t.Parallel()
			oauth, chat := newOAuthServer(t), newChatServer(t)
			creds, err := New(context.Background(), Config{
				Mode: tc.mode, Credentials: oauth.keyFile(t, t.TempDir()), Subject: tc.subject,
				Scopes: Scopes(tc.mode, tc.members), Endpoint: chat.URL, Getenv: envMap(nil),
			})
			if err != nil {
				t.Fatalf("New(%s) = %v", tc.mode, err)
			}
			c := oauth.lastJWT(t)
			want := jwtClaims{Iss: testSAEmail, Sub: tc.subject, Scope: strings.Join(Scopes(tc.mode, tc.members), " "), Aud: oauth.URL + "/token"}
			if c.Iss != want.Iss || c.Sub != want.Sub || c.Scope != want.Scope || c.Aud != want.Aud || c.Exp <= c.Iat {
				t.Errorf("JWT claims = %+v, want %+v", c, want)
			}
			if creds.Identity != tc.identity || creds.Mode != tc.mode || creds.Email != tc.email {
				t.Errorf("Identity, Mode, Email = %q, %q, %q; want %q, %q, %q", creds.Identity, creds.Mode, creds.Email, tc.identity, tc.mode, tc.email)
			}
			if creds.Principal != tc.principal {
				t.Errorf("Principal = %q, want %q", creds.Principal, tc.principal)
			}
			if got := chat.get(t, creds); !strings.HasPrefix(got, "Bearer access-") {
				t.Errorf("Authorization = %q, want a bearer token from the token endpoint", got)
			}
			// The first token is reused, not fetched again per call.
			chat.get(t, creds)
			if n := oauth.grantCount(grantJWT); n != 1 {
				t.Errorf("JWT grants = %d, want 1", n)
			}
		})
	}
}

// TestServiceAccountRefused: the token endpoint refuses the JWT, as Google
// does when domain-wide delegation is missing; the error says what to do
// in the Admin console, and no Chat call is made.
func TestServiceAccountRefused(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		code string
		want []string
	}{
		{"unauthorized_client", []string{"unauthorized_client", "Manage Domain Wide Delegation", testSAClientID, scopeSpacesCreate}},
		{"invalid_grant", []string{"invalid_grant", `"admin@example.com"`}},
	} {
		t.Run(tc.code, func(t *testing.T) {
			t.Parallel()
			oauth, chat := newOAuthServer(t), newChatServer(t)
			oauth.set(func(o *oauthServer) { o.refuse[grantJWT] = tc.code })
			key := oauth.keyFile(t, t.TempDir())
			_, err := New(context.Background(), Config{Mode: ServiceAccount, Credentials: key, Subject: "admin@example.com", Endpoint: chat.URL})
			if !errors.Is(err, ErrUsage) {
				t.Fatalf("New(service-account) = %v, want an ErrUsage error", err)
			}
			for _, w := range append(tc.want, key) {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not mention %q", err, w)
				}
			}
			if chat.calls.Load() != 0 {
				t.Errorf("Chat calls = %d, want 0", chat.calls.Load())
			}
		})
	}
}

// TestTokenEndpointDown: a 5xx or an unreachable token endpoint is not a
// usage error; the run may be retried as it is.
func TestTokenEndpointDown(t *testing.T) {
	t.Parallel()
	down := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "unavailable", http.StatusServiceUnavailable)
	}))
	t.Cleanup(down.Close)
	key := writeJSON(t, t.TempDir(), "key.json", map[string]any{
		"type": "service_account", "client_email": testSAEmail, "private_key": keyPEMFor(t), "token_uri": down.URL,
	})
	_, err := New(context.Background(), Config{Mode: App, Credentials: key})
	if err == nil || errors.Is(err, ErrUsage) {
		t.Errorf("New(app) with the token endpoint down = %v, want a non-usage error", err)
	}
}

func keyPEMFor(t *testing.T) string {
	t.Helper()
	_, p := rsaKey(t)
	return p
}

func TestADC(t *testing.T) {
	t.Parallel()
	oauth, chat := newOAuthServer(t), newChatServer(t)
	dir := t.TempDir()
	key := oauth.keyFile(t, dir)
	userCreds := oauth.authorizedUserFile(t, dir, Scopes(User, true))
	gcloudDir := filepath.Join(t.TempDir(), "home")
	os.MkdirAll(filepath.Join(gcloudDir, ".config", "gcloud"), 0o700)
	wellKnown := writeFile(t, filepath.Join(gcloudDir, ".config", "gcloud"), "application_default_credentials.json", mustRead(t, key))

	for _, tc := range []struct {
		name     string
		env      map[string]string
		subject  string
		identity string
		grant    string
		email    string
	}{
		{"env key", map[string]string{"GOOGLE_APPLICATION_CREDENTIALS": key}, "", "service account " + testSAEmail, grantJWT, ""},
		{"env key with subject", map[string]string{"GOOGLE_APPLICATION_CREDENTIALS": key}, "Boss@Example.com", "impersonating Boss@Example.com", grantJWT, "boss@example.com"},
		{"env gcloud user", map[string]string{"GOOGLE_APPLICATION_CREDENTIALS": userCreds}, "", "gcloud user credentials", grantRefresh, ""},
		{"gcloud file under HOME", map[string]string{"HOME": gcloudDir}, "", wellKnown, grantJWT, ""},
		{"env wins over HOME", map[string]string{"HOME": gcloudDir, "GOOGLE_APPLICATION_CREDENTIALS": userCreds}, "", userCreds, grantRefresh, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			before := oauth.grantCount(tc.grant)
			creds, err := New(context.Background(), Config{Mode: ADC, Subject: tc.subject, Scopes: Scopes(ADC, true), Endpoint: chat.URL, Getenv: envMap(tc.env)})
			if err != nil {
				t.Fatalf("New(adc) = %v", err)
			}
			if !strings.Contains(creds.Identity, tc.identity) {
				t.Errorf("Identity = %q, want it to contain %q", creds.Identity, tc.identity)
			}
			if creds.Email != tc.email {
				t.Errorf("Email = %q, want %q", creds.Email, tc.email)
			}
			if oauth.grantCount(tc.grant) <= before {
				t.Errorf("no %s grant was made", tc.grant)
			}
			if got := chat.get(t, creds); !strings.HasPrefix(got, "Bearer access-") {
				t.Errorf("Authorization = %q, want a token from the stand-in", got)
			}
		})
	}
	// Subtests are parallel: check the JWT claims of a subject run apart.
	if _, err := New(context.Background(), Config{Mode: ADC, Subject: "solo@example.com", Scopes: Scopes(ADC, false), Getenv: envMap(map[string]string{"GOOGLE_APPLICATION_CREDENTIALS": key})}); err != nil {
		t.Fatal(err)
	}
	if c := oauth.lastJWT(t); c.Sub != "solo@example.com" || c.Scope != strings.Join(Scopes(ADC, false), " ") {
		t.Errorf("ADC JWT claims = %+v, want sub solo@example.com and the ADC scopes", c)
	}
}

func mustRead(t *testing.T, p string) string {
	t.Helper()
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// TestADCProcessEnvironment: with no Getenv, GOOGLE_APPLICATION_CREDENTIALS
// is read from the process environment. Not parallel: it sets the
// environment.
func TestADCProcessEnvironment(t *testing.T) {
	oauth := newOAuthServer(t)
	t.Setenv("GOOGLE_APPLICATION_CREDENTIALS", oauth.keyFile(t, t.TempDir()))
	creds, err := New(context.Background(), Config{Mode: ADC})
	if err != nil {
		t.Fatalf("New(adc) = %v", err)
	}
	if !strings.Contains(creds.Identity, testSAEmail) {
		t.Errorf("Identity = %q, want the key's service account", creds.Identity)
	}
}

// TestADCMetadataServer goes through Google's own lookup down to the
// metadata server, which GCE_METADATA_HOST points at a loopback stand-in.
// Not parallel: it sets the environment.
func TestADCMetadataServer(t *testing.T) {
	var sawFlavor atomic.Bool
	md := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		sawFlavor.Store(r.Header.Get("Metadata-Flavor") == "Google")
		switch r.URL.Path {
		case "/computeMetadata/v1/project/project-id":
			fmt.Fprint(w, "meta-project")
		case "/computeMetadata/v1/instance/service-accounts/default/token":
			w.Header().Set("Content-Type", "application/json")
			fmt.Fprint(w, `{"access_token":"metadata-access-token","expires_in":3600,"token_type":"Bearer"}`)
		default:
			http.NotFound(w, r)
		}
	}))
	t.Cleanup(md.Close)
	chat := newChatServer(t)
	t.Setenv("GCE_METADATA_HOST", strings.TrimPrefix(md.URL, "http://"))
	t.Setenv("GOOGLE_APPLICATION_CREDENTIALS", "")
	t.Setenv("CLOUDSDK_CONFIG", "")
	t.Setenv("HOME", t.TempDir())
	t.Setenv("APPDATA", t.TempDir())
	creds, err := New(context.Background(), Config{Mode: ADC, Endpoint: chat.URL})
	if err != nil {
		t.Fatalf("New(adc) on the metadata server = %v", err)
	}
	if !strings.Contains(creds.Identity, "metadata server") || !strings.Contains(creds.Identity, "meta-project") {
		t.Errorf("Identity = %q, want the metadata server and its project", creds.Identity)
	}
	if got := chat.get(t, creds); got != "Bearer metadata-access-token" || !sawFlavor.Load() {
		t.Errorf("Authorization = %q (Metadata-Flavor sent: %v), want the metadata server's token", got, sawFlavor.Load())
	}
}
