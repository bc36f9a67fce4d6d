package auth

import (
	"context"
	"log/slog"
	"strings"
	"testing"
	"time"
)

// TestNoSecretInOutput runs every mode, successes and refusals, with a
// debug logger, and checks that no token, ID token, code, verifier,
// assertion, client secret or private key reaches the log, the prompt, an
// error or an identity. The user's email may: it is no secret.
func TestNoSecretInOutput(t *testing.T) {
	t.Parallel()
	s := newUserSetup(t)
	s.oauth.set(func(o *oauthServer) { o.rotate, o.expiresIn = true, 1 })
	var out syncBuffer // log and prompt alike
	logger := slog.New(slog.NewTextHandler(&out, &slog.HandlerOptions{Level: slog.LevelDebug}))
	var texts []string // errors and identities
	run := func(cfg Config) *Credentials {
		t.Helper()
		cfg.Logger, cfg.Prompt = logger, &out
		if cfg.Getenv == nil {
			cfg.Getenv = envMap(nil)
		}
		creds, err := New(context.Background(), cfg)
		if err != nil {
			texts = append(texts, err.Error())
			return nil
		}
		texts = append(texts, creds.Identity)
		s.chat.get(t, creds) // a refresh, with expiresIn 1
		return creds
	}
	dir := t.TempDir()
	key := s.oauth.keyFile(t, dir)
	const envToken = "env-access-token-3141"

	// User: consent, then cached runs that refresh (and rotate) each time.
	cfg := s.config(true, true, newBrowser(t).open)
	run(cfg)
	cfg.Interactive, cfg.OpenBrowser = false, noBrowser(t)
	run(cfg)
	run(cfg)
	// A refused refresh.
	s.oauth.set(func(o *oauthServer) { o.refuse[grantRefresh] = "invalid_grant" })
	s.seedCache(t, Scopes(User, true), "refused-refresh-token", time.Now().Add(-time.Hour))
	run(cfg)
	// Service account, app, ADC (key and gcloud user), token.
	run(Config{Mode: ServiceAccount, Credentials: key, Subject: "admin@example.com", Endpoint: s.chat.URL})
	run(Config{Mode: App, Credentials: key, Scopes: Scopes(App, true), Endpoint: s.chat.URL})
	run(Config{Mode: ADC, Endpoint: s.chat.URL, Getenv: envMap(map[string]string{"GOOGLE_APPLICATION_CREDENTIALS": key})})
	s.oauth.set(func(o *oauthServer) { delete(o.refuse, grantRefresh) })
	run(Config{Mode: ADC, Endpoint: s.chat.URL, Getenv: envMap(map[string]string{"GOOGLE_APPLICATION_CREDENTIALS": s.oauth.authorizedUserFile(t, dir, Scopes(ADC, false))})})
	run(Config{Mode: Token, Endpoint: s.chat.URL, Getenv: envMap(map[string]string{TokenEnv: envToken})})
	// Refused JWT.
	s.oauth.set(func(o *oauthServer) { o.refuse[grantJWT] = "unauthorized_client" })
	run(Config{Mode: ServiceAccount, Credentials: key, Subject: "admin@example.com", Endpoint: s.chat.URL})

	secrets := append(s.oauth.allSecrets(), testClientSecret, envToken)
	_, pemKey := rsaKey(t)
	for _, line := range strings.Split(pemKey, "\n") {
		if len(line) > 20 && !strings.HasPrefix(line, "-----") {
			secrets = append(secrets, line)
		}
	}
	if len(secrets) < 20 {
		t.Fatalf("only %d secrets were handed out; the scenario did not run", len(secrets))
	}
	if len(s.oauth.idTokens()) == 0 {
		t.Fatal("no ID token was handed out; the scenario did not run")
	}
	all := out.String() + "\n" + strings.Join(texts, "\n")
	for _, want := range []string{"identity=", "scopes=", "chat.memberships", strings.ToLower(testUserEmail)} {
		if !strings.Contains(all, want) {
			t.Errorf("debug log lacks %q:\n%s", want, all)
		}
	}
	for _, secret := range secrets {
		if secret != "" && strings.Contains(all, secret) {
			t.Errorf("output contains the secret %q", secret)
		}
	}
	if strings.Contains(all, "id_token") {
		t.Errorf("output mentions the id_token field:\n%s", all)
	}
}
