package auth

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestRedact(t *testing.T) {
	t.Parallel()
	shown := RedactURL("http://admin:Pa55word-9@127.0.0.1:8080/chat/?key=KEYVALUE123&x=1")
	if strings.Contains(shown, "Pa55word-9") || strings.Contains(shown, "KEYVALUE123") || !strings.Contains(shown, "127.0.0.1:8080") {
		t.Fatalf("RedactURL = %q, want the password and query values hidden, the host kept", shown)
	}
	for _, tc := range []struct{ in, want string }{
		{`echo: "Authorization: Bearer abc.DEF-123_x"`, `echo: "Authorization: Bearer [redacted]"`},
		{"token ya29.a0AfB_byC-xyz leaked", "token [redacted] leaked"},
		{"refresh 1//0gAbCdEfGhIjKlMnOp here", "refresh [redacted] here"},
		{"the password Pa55word-9 and KEYVALUE123", "the password [redacted] and [redacted]"},
		{"nothing secret here", "nothing secret here"},
		{"token YWRtaW46UGE1NXdvcmQtOQ== echoed", "token [redacted] echoed"},                 // base64 of admin:Pa55word-9
		{"Authorization: Basic YWRtaW46UGE1NXdvcmQtOQ==", "Authorization: Basic [redacted]"}, // the header itself
		{"got ya29.a0/TOP+SECRET= back", "got [redacted] back"},
	} {
		if got := Redact(tc.in); got != tc.want {
			t.Errorf("Redact(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

// TestTokensRemembered: a token handed out by credentials is redacted from
// any message afterwards, whatever its shape.
func TestTokensRemembered(t *testing.T) {
	t.Parallel()
	const tok = "plain-looking-token-271828"
	c, err := New(context.Background(), Config{Mode: Token, Endpoint: "http://127.0.0.1:1/", Getenv: envMap(map[string]string{TokenEnv: tok})})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.TokenSource.Token(); err != nil {
		t.Fatal(err)
	}
	if got := Redact("server said: invalid credential " + tok); strings.Contains(got, tok) {
		t.Fatalf("Redact left the token: %q", got)
	}
}

// TestCheckRefusesWhatCannotWork: a token with a line break, an endpoint
// with an impossible port, a non-loopback endpoint for --auth none: refused
// before any call, as usage errors that never show the token.
func TestCheckRefusesWhatCannotWork(t *testing.T) {
	t.Parallel()
	const tok = "secret-part\r\nX-Injected: 1"
	for _, tc := range []struct {
		cfg  Config
		want string
	}{
		{Config{Mode: Token, Endpoint: "https://chat.example.com/", Getenv: envMap(map[string]string{TokenEnv: tok})}, "is malformed: character 12 is U+000D"},
		{Config{Mode: None, Endpoint: "http://127.0.0.1:99999/"}, "port 99999 is not a port (1 to 65535)"},
		{Config{Mode: None, Endpoint: "http://10.1.1.1/"}, "is not a loopback address"},
		{Config{Mode: None, Endpoint: "http://u:hunter2pw@10.1.1.1/"}, "is not a loopback address"},
	} {
		err := Check(tc.cfg)
		if err == nil || !errors.Is(err, ErrUsage) || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("Check(%s %s) = %v, want a usage error saying %q", tc.cfg.Mode, tc.cfg.Endpoint, err, tc.want)
			continue
		}
		if strings.Contains(err.Error(), "secret-part") || strings.Contains(err.Error(), "hunter2pw") {
			t.Errorf("Check's error shows a secret: %v", err)
		}
	}
}

// TestCheckReadsCredentialFiles: Check refuses what New would refuse of a
// credentials file (missing, of the wrong kind, a damaged key) without
// asking for a token.
func TestCheckReadsCredentialFiles(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	broken := filepath.Join(dir, "key.json")
	if err := os.WriteFile(broken, []byte(`{"type":"service_account","client_email":"sa@p.iam.gserviceaccount.com","private_key":"not pem"}`), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		cfg  Config
		want string
	}{
		{Config{Mode: ServiceAccount, Credentials: filepath.Join(dir, "missing.json"), Subject: "a@example.com"}, "missing.json"},
		{Config{Mode: ServiceAccount, Credentials: broken, Subject: "a@example.com"}, "private_key is not PEM"},
		{Config{Mode: User, Credentials: broken}, "--auth user needs"},
	} {
		if err := Check(tc.cfg); err == nil || !errors.Is(err, ErrUsage) || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("Check(%s, %s) = %v, want a usage error saying %q", tc.cfg.Mode, tc.cfg.Credentials, err, tc.want)
		}
	}
}
