// Package auth turns an --auth mode and its inputs into an HTTP client that authenticates Google Chat API calls.
package auth

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"strings"
	"time"

	"golang.org/x/oauth2"
	"golang.org/x/oauth2/google"
)

// Mode is a way to authenticate, as named by --auth.
type Mode string

const (
	User           Mode = "user"            // a person, through the installed-app consent flow and a token cache
	ServiceAccount Mode = "service-account" // a service-account key with domain-wide delegation, acting as a user
	App            Mode = "app"             // a Chat app's service account with administrator-approved chat.app.* scopes
	ADC            Mode = "adc"             // Application Default Credentials
	Token          Mode = "token"           // a bearer token from GOOGLE_OAUTH_ACCESS_TOKEN
	None           Mode = "none"            // no credentials, for an emulator on a loopback address
)

// Modes lists every mode, in the order the documentation gives them.
var Modes = []Mode{User, ServiceAccount, App, ADC, Token, None}

// TokenEnv is the environment variable that holds the access token of mode Token.
const TokenEnv = "GOOGLE_OAUTH_ACCESS_TOKEN"

// ErrUsage marks errors caused by the command line or by unusable
// credentials: nothing was sent to the Chat API, and the run should stop
// with exit status 2.
var ErrUsage = errors.New("unusable authentication settings")

// usageError carries a message meant for the user and, optionally, the
// error behind it. Its text is only msg: an underlying error (a token
// endpoint's response body, say) stays reachable through errors.As without
// being printed.
type usageError struct {
	msg string
	err error
}

func (e *usageError) Error() string { return e.msg }

func (e *usageError) Unwrap() []error {
	if e.err == nil {
		return []error{ErrUsage}
	}
	return []error{ErrUsage, e.err}
}

func usagef(format string, args ...any) error {
	err := fmt.Errorf(format, args...)
	return &usageError{msg: err.Error(), err: errors.Unwrap(err)}
}

// ParseMode returns the mode named s.
func ParseMode(s string) (Mode, error) {
	for _, m := range Modes {
		if string(m) == s {
			return m, nil
		}
	}
	names := make([]string, len(Modes))
	for i, m := range Modes {
		names[i] = string(m)
	}
	return "", usagef("unknown --auth mode %q: want one of %s", s, strings.Join(names, ", "))
}

// Config is what New needs. The zero value of every field but Mode is
// usable.
type Config struct {
	Mode Mode
	// Credentials is a file: OAuth client secrets for User, a
	// service-account key for ServiceAccount and App. Other modes refuse it.
	Credentials string
	// Subject is the user ServiceAccount impersonates; ADC passes it on
	// when its credentials are a service-account key.
	Subject string
	// TokenCache is User's token cache; "" means DefaultTokenCache().
	TokenCache string
	// Scopes to request; nil means Scopes(Mode, false).
	Scopes []string
	// Endpoint is the Chat API base URL. None requires a loopback host;
	// the other modes refuse plain http to a host that is not loopback, so
	// that no credential crosses the network unencrypted. "" is Google's.
	Endpoint string
	// Interactive says a person is at the terminal, so User may ask for
	// consent. Without it, a missing or insufficient cached token is an
	// ErrUsage error.
	Interactive bool
	// OpenBrowser opens the consent address (SystemBrowser, or a test's
	// stand-in); nil only prints it. Its error is reported, not fatal.
	OpenBrowser func(url string) error
	// Prompt receives the consent address and messages for the person at
	// the terminal (stderr); nil discards them, so set it whenever
	// Interactive is.
	Prompt io.Writer
	// Input, when set, is read for the address the browser was sent back
	// to, pasted by a person whose browser runs on another machine (SSH).
	// The reading goroutine may outlive New until Input reaches EOF.
	Input io.Reader
	// Getenv reads the environment; nil means os.Getenv. The metadata
	// server lookup of ADC still reads the process environment
	// (GCE_METADATA_HOST).
	Getenv func(string) string
	// HTTPClient makes token endpoint calls, and its Transport carries the
	// Chat API calls; nil means a client with a 30 s timeout and the
	// default transport.
	HTTPClient *http.Client
	// Logger receives the identity and scopes in use at debug level, and
	// warnings; never a secret. nil discards.
	Logger *slog.Logger

	// findDefault stands in for google.FindDefaultCredentialsWithParams in
	// tests, so that none of them probes the metadata server.
	findDefault func(context.Context, google.CredentialsParams) (*google.Credentials, error)
}

// Credentials are ready-to-use credentials for one run.
type Credentials struct {
	Mode Mode
	// Identity describes who the calls act as, for -v and error messages,
	// e.g. "service account sa@p.iam.gserviceaccount.com impersonating
	// admin@example.com". It holds no secret.
	Identity string
	// Email is the email address of the user the calls act as, lower-cased,
	// when it is known: the subject of ServiceAccount (and of ADC with a
	// service-account key), the verified email of User's ID token. It is ""
	// otherwise (App, Token, None, ADC with user credentials, a User token
	// cache written without the identity scopes). Not a secret.
	Email string
	// Principal is who the calls act as, recorded with each requestId
	// (a requestId is valid only for the principal that sent it):
	// users/EMAIL when Email is known, the Chat app's service account
	// under App, "" when unknown.
	Principal string
	// Scopes requested for the Chat API; nil for Token and None. User's
	// identity scopes are not among them.
	Scopes []string
	// TokenSource yields the access tokens; nil for None.
	TokenSource oauth2.TokenSource
	// HTTPClient adds the access token to every request (pass it to
	// option.WithHTTPClient). It does not follow redirects to another
	// host, so the token stays with the endpoint it was meant for.
	HTTPClient *http.Client
}

// Hint returns advice for an HTTP 401 or 403 from the Chat API under these
// credentials.
func (c *Credentials) Hint(code int) string { return Hint(c.Mode, code) }

// New checks cfg and returns credentials for its mode. Every problem that
// can be found before a Chat API call is, and is returned as an ErrUsage
// error: files are read and checked, and for User, ServiceAccount, App
// and ADC a first access token is fetched, so that a key without
// domain-wide delegation or a revoked consent stops the run here. User may
// run the consent flow, waiting for the browser until ctx ends or the
// consent times out.
//
// Token refreshes later in the run are not cancelled by ctx (a call in
// flight at an interrupt may still need one); the HTTP client's timeout
// bounds them.
func New(ctx context.Context, cfg Config) (*Credentials, error) {
	if cfg.Getenv == nil {
		cfg.Getenv = os.Getenv
	}
	if cfg.Prompt == nil {
		cfg.Prompt = io.Discard
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.HTTPClient == nil {
		cfg.HTTPClient = &http.Client{Timeout: 30 * time.Second}
	}
	if cfg.Scopes == nil {
		cfg.Scopes = Scopes(cfg.Mode, false)
	}
	if err := checkOptions(cfg); err != nil {
		return nil, err
	}
	// Token fetches use cfg.HTTPClient and outlive ctx's cancellation.
	tsCtx := context.WithValue(context.WithoutCancel(ctx), oauth2.HTTPClient, cfg.HTTPClient)

	var (
		c   *Credentials
		err error
	)
	switch cfg.Mode {
	case User:
		c, err = newUser(ctx, tsCtx, cfg)
	case ServiceAccount, App:
		c, err = newServiceAccount(tsCtx, cfg)
	case ADC:
		c, err = newADC(tsCtx, cfg)
	case Token:
		c, err = newToken(cfg)
	case None:
		c = &Credentials{Identity: "no credentials (loopback endpoint " + RedactURL(cfg.Endpoint) + ")"}
	}
	if err != nil {
		return nil, err
	}
	c.Mode = cfg.Mode
	if c.TokenSource != nil {
		c.TokenSource = rememberingSource{c.TokenSource}
	}
	if c.Principal == "" && c.Email != "" {
		c.Principal = "users/" + c.Email
	}
	c.HTTPClient = httpClient(cfg.HTTPClient, c.TokenSource)
	cfg.Logger.Debug("authentication", "mode", string(cfg.Mode), "identity", c.Identity, "scopes", c.Scopes)
	// User says why itself; App and None act as no user, and
	// ServiceAccount always has its subject.
	if c.Email == "" && (cfg.Mode == ADC || cfg.Mode == Token) {
		cfg.Logger.Debug("the caller's email is unknown", "why", "the credentials do not name a user")
	}
	return c, nil
}

// checkOptions refuses options that do not fit the mode, before any file
// is read.
func checkOptions(cfg Config) error {
	m := cfg.Mode
	if _, err := ParseMode(string(m)); err != nil {
		return err
	}
	switch m {
	case User, ServiceAccount, App:
		if cfg.Credentials == "" {
			need := "a service-account key (JSON)"
			if m == User {
				need = "the OAuth client secrets (JSON) of a Desktop app client"
			}
			return usagef("--auth %s needs --credentials FILE: %s", m, need)
		}
	default:
		if cfg.Credentials != "" {
			hint := ""
			if m == ADC {
				hint = " (point GOOGLE_APPLICATION_CREDENTIALS at a file instead)"
			}
			return usagef("--credentials is not used with --auth %s%s", m, hint)
		}
	}
	switch {
	case m == ServiceAccount && cfg.Subject == "":
		return usagef("--auth service-account needs --subject EMAIL: the user to act as through domain-wide delegation (the spaces are created in that user's name)")
	case cfg.Subject != "" && m != ServiceAccount && m != ADC:
		return usagef("--subject is only used with --auth service-account (or adc with a service-account key), not %s", m)
	case cfg.TokenCache != "" && m != User:
		return usagef("--token-cache is only used with --auth user, not %s", m)
	}
	return checkEndpoint(m, cfg.Endpoint)
}

func checkEndpoint(m Mode, endpoint string) error {
	if endpoint == "" {
		if m == None {
			return usagef("--auth none needs a loopback --endpoint (an emulator); the default endpoint is Google's")
		}
		return nil
	}
	shown := RedactURL(endpoint)
	u, err := url.Parse(endpoint)
	if err != nil || u.Host == "" || (u.Scheme != "http" && u.Scheme != "https") {
		return usagef("endpoint %q is not an http or https URL", shown)
	}
	if err := CheckPort(u); err != nil {
		return usagef("endpoint %q: %v", shown, err)
	}
	loop := IsLoopback(u.Hostname())
	switch {
	case m == None && !loop:
		return usagef("--auth none sends no credentials and is only for an emulator: endpoint %q is not a loopback address (127.0.0.0/8, ::1, localhost)", shown)
	case m != None && u.Scheme == "http" && !loop:
		return usagef("refusing to send credentials over plain http to %q: use https, or a loopback address", shown)
	}
	return nil
}

// CheckPort refuses a URL whose port is not a number from 1 to 65535: every
// call to it would fail, and be retried as if the network were at fault.
func CheckPort(u *url.URL) error {
	p := u.Port()
	if p == "" {
		if strings.HasSuffix(u.Host, ":") {
			return errors.New("the port is empty")
		}
		return nil
	}
	n, err := strconv.Atoi(p)
	if err != nil || n < 1 || n > 65535 {
		return fmt.Errorf("port %s is not a port (1 to 65535)", p)
	}
	return nil
}

// Check makes every check New makes before it reads a file or fetches a
// token, plus the form of --auth token's token: --plan makes them too, so
// that a plan does not pass where the run would be refused.
func Check(cfg Config) error {
	if cfg.Getenv == nil {
		cfg.Getenv = os.Getenv
	}
	if err := checkOptions(cfg); err != nil {
		return err
	}
	switch cfg.Mode {
	case Token:
		_, err := token(cfg)
		return err
	case User, ServiceAccount, App:
		// The credentials file, read and checked as New does, without
		// a token asked for.
		f, err := readCredentials(cfg.Credentials, "")
		if err != nil {
			return err
		}
		switch {
		case cfg.Mode == User && f.kind != kindInstalled:
			if f.kind == kindWeb {
				return usagef("credentials file %q is %s; --auth user needs a Desktop app client", f.path, f.kind)
			}
			return f.wrongKind(User, "the OAuth client secrets (JSON) of a Desktop app client")
		case cfg.Mode != User && f.kind != kindServiceAccount:
			return f.wrongKind(cfg.Mode, "a service-account key (JSON) from Cloud console > IAM & Admin > Service accounts > Keys")
		case cfg.Mode != User:
			return f.checkKey()
		}
		return checkUserCache(cfg, f)
	case ADC:
		return checkADC(cfg)
	}
	return nil
}

// IsLoopback reports whether host (a name or an address, without port) is
// localhost or a loopback address.
func IsLoopback(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// httpClient returns a client that adds ts's token to each request over
// base's transport. With credentials, a redirect to another host is not
// followed: oauth2.Transport would add the token to it.
func httpClient(base *http.Client, ts oauth2.TokenSource) *http.Client {
	if ts == nil {
		return &http.Client{Transport: base.Transport}
	}
	return &http.Client{
		Transport: &oauth2.Transport{Source: ts, Base: base.Transport},
		CheckRedirect: func(req *http.Request, via []*http.Request) error {
			if req.URL.Host != via[0].URL.Host {
				return http.ErrUseLastResponse
			}
			if len(via) >= 10 {
				return errors.New("stopped after 10 redirects")
			}
			return nil
		},
	}
}

// token reads --auth token's access token from the environment and
// refuses one that cannot be sent: empty, or with white space or control
// characters inside (a header cannot carry a CR or LF; every call would
// fail the same way). The message never shows the token.
func token(cfg Config) (string, error) {
	tok := strings.TrimSpace(cfg.Getenv(TokenEnv))
	if tok == "" {
		return "", usagef("--auth token needs an access token in the environment variable %s, which is empty or unset", TokenEnv)
	}
	remember(tok)
	if i := strings.IndexFunc(tok, func(r rune) bool { return r <= ' ' || r == 0x7f || r > '~' }); i >= 0 {
		return "", usagef("the access token in %s is malformed: character %d is %U, which no access token has (check for a line break or a stray character when it was set)", TokenEnv, i+1, []rune(tok[i:])[0])
	}
	return tok, nil
}

func newToken(cfg Config) (*Credentials, error) {
	tok, err := token(cfg)
	if err != nil {
		return nil, err
	}
	return &Credentials{
		Identity:    "access token from " + TokenEnv,
		TokenSource: oauth2.StaticTokenSource(&oauth2.Token{AccessToken: tok, TokenType: "Bearer"}),
	}, nil
}

// Hint returns advice for an HTTP 401 or 403 from the Chat API in mode m:
// the likely cause and where to fix it. Other codes return "".
func Hint(m Mode, code int) string {
	if code != http.StatusUnauthorized && code != http.StatusForbidden {
		return ""
	}
	unauth := code == http.StatusUnauthorized
	switch m {
	case User:
		if unauth {
			return "the token was refused: the consent may have been revoked; run provision --auth user from a terminal to consent again (or delete the token cache)"
		}
		return "the signed-in user may not create spaces, or the consent lacks a scope: check that the Google Chat API is enabled and a Chat app is configured in the OAuth client's Cloud project, that the OAuth consent screen lists the scopes, and that the user has Google Chat"
	case ServiceAccount:
		if unauth {
			return "the delegated token was refused: check the service-account key is still active"
		}
		return "domain-wide delegation may not cover these scopes: in the Admin console (Security > Access and data control > API controls > Manage Domain Wide Delegation) grant the service account's client ID the scopes listed by -v; also check that the Chat API is enabled and a Chat app is configured in the key's Cloud project, and that --subject has Google Chat"
	case App:
		if unauth {
			return "the app's token was refused: check the service-account key is still active"
		}
		return "the Chat app may not be configured (Cloud console > Google Chat API > Configuration) in the key's project, or an administrator has not approved its chat.app.* scopes for the organisation"
	case ADC:
		if unauth {
			return "the application default credentials were refused: renew them (gcloud auth application-default login, or a new key)"
		}
		return "the application default credentials may lack the Chat scopes (gcloud auth application-default login --client-id-file=... --scopes=...), or belong to an account that cannot use Google Chat; see docs/auth.md"
	case Token:
		if unauth {
			return "the access token in " + TokenEnv + " was refused: it may have expired"
		}
		return "the access token in " + TokenEnv + " may lack the Chat scopes (chat.spaces.create, chat.spaces.readonly, chat.memberships)"
	case None:
		return "the endpoint wants credentials: --auth none is only for an emulator"
	}
	return ""
}
