package auth

import (
	"bufio"
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/google/renameio/v2/maybe"
	"golang.org/x/oauth2"
	"golang.org/x/oauth2/google"
)

// consentTimeout bounds the wait for the browser to come back.
const consentTimeout = 5 * time.Minute

// DefaultTokenCache is the token cache of mode User when none is given:
// provision/token.json under the user's configuration directory.
func DefaultTokenCache() (string, error) {
	d, err := os.UserConfigDir()
	if err != nil {
		return "", fmt.Errorf("finding the configuration directory for the token cache: %w", err)
	}
	return filepath.Join(d, "provision", "token.json"), nil
}

// cache is the token cache file. It records the OAuth client and the
// scopes granted, so that a token from another client or with fewer
// scopes is not used, and a new consent is asked for instead; and the
// user's email, learnt from the ID token of the consent, so that later
// runs know it without one. A cache written before the email was recorded
// has none, and still serves. The ID token itself is not kept (oauth2.Token
// does not encode its extra fields).
type cache struct {
	ClientID string        `json:"client_id"`
	Scopes   []string      `json:"scopes"`
	Email    string        `json:"email,omitempty"`
	Token    *oauth2.Token `json:"token"`
}

func newUser(ctx, tsCtx context.Context, cfg Config) (*Credentials, error) {
	f, err := readCredentials(cfg.Credentials, "")
	if err != nil {
		return nil, err
	}
	switch f.kind {
	case kindInstalled:
	case kindWeb:
		return nil, usagef("credentials file %q is %s, whose redirect addresses are fixed in advance; the loopback sign-in needs a client of type Desktop app (Cloud console > APIs & Services > Credentials > Create OAuth client ID > Desktop app)", f.path, f.kind)
	default:
		return nil, f.wrongKind(User, "the OAuth client secrets (JSON) of a Desktop app client")
	}
	// ConfigFromJSON honours auth_uri and token_uri, which is how tests
	// stand in for Google's endpoints.
	// The identity scopes are asked for in a consent but never required
	// of a cached token: see identityScopes.
	conf, err := google.ConfigFromJSON(f.data, withIdentityScopes(cfg.Scopes)...)
	if err != nil {
		return nil, usagef("credentials file %q: %w", f.path, err)
	}
	// Google takes the client secret in the form, as google.Endpoint says;
	// auto-detection would cost a failed request first.
	conf.Endpoint.AuthStyle = oauth2.AuthStyleInParams
	path := cfg.TokenCache
	if path == "" {
		if path, err = DefaultTokenCache(); err != nil {
			return nil, usagef("%w; give --token-cache FILE", err)
		}
	}
	c := &Credentials{Scopes: cfg.Scopes}

	saved, reason := loadCache(path, conf.ClientID, cfg.Scopes, cfg.Logger)
	if reason == "" {
		src := newCachingSource(conf.TokenSource(tsCtx, saved.Token), path, saved, cfg.Logger)
		_, err := src.Token()
		if err == nil {
			cfg.Logger.Debug("using the cached token", "cache", path)
			c.TokenSource = src
			why := "the consent did not yield a verified email"
			if !slices.Contains(saved.Scopes, scopeEmail) {
				// An earlier version's cache: no new consent just for this.
				why = "the cached consent predates the identity scopes (openid, userinfo.email)"
			}
			setUserEmail(c, saved.Email, why, conf.ClientID, path, cfg.Logger)
			return c, nil
		}
		var re *oauth2.RetrieveError
		if !errors.As(err, &re) || re.Response == nil || re.Response.StatusCode >= 500 {
			return nil, fmt.Errorf("refreshing the token cached in %q: %w", path, err)
		}
		// invalid_grant: the consent was revoked, or the refresh token
		// expired (7 days for a consent screen in testing).
		reason = fmt.Sprintf("the token cached in %q was refused (%s)", path, re.ErrorCode)
	}
	if !cfg.Interactive {
		return nil, usagef("%s, and there is no terminal to ask for consent: run provision --auth user once from a terminal to renew the token cache, or use --auth service-account for scheduled runs", reason)
	}
	fmt.Fprintf(cfg.Prompt, "%s: a new consent is needed.\n", capitalise(reason))
	tok, granted, err := consent(ctx, cfg, conf)
	if err != nil {
		return nil, err
	}
	email, why := emailFromIDToken(tok)
	saved = &cache{ClientID: conf.ClientID, Scopes: granted, Email: email, Token: tok}
	if err := saveCache(path, saved); err != nil {
		return nil, err
	}
	cfg.Logger.Debug("token cache written", "cache", path)
	c.TokenSource = newCachingSource(conf.TokenSource(tsCtx, tok), path, saved, cfg.Logger)
	setUserEmail(c, email, why, conf.ClientID, path, cfg.Logger)
	return c, nil
}

// withIdentityScopes returns scopes followed by the identity scopes it
// lacks.
func withIdentityScopes(scopes []string) []string {
	all := slices.Clone(scopes)
	for _, s := range identityScopes {
		if !slices.Contains(all, s) {
			all = append(all, s)
		}
	}
	return all
}

// setUserEmail records the user's email (possibly "") and the identity
// line that names it; why says, for the debug log, why it is unknown.
func setUserEmail(c *Credentials, email, why, clientID, path string, log *slog.Logger) {
	c.Email = email
	if email == "" {
		c.Identity = fmt.Sprintf("user who consented to OAuth client %s (token cache %s)", clientID, path)
		log.Debug("the caller's email is unknown", "why", why)
		return
	}
	c.Identity = fmt.Sprintf("user %s, who consented to OAuth client %s (token cache %s)", email, clientID, path)
}

// emailFromIDToken returns the email in the ID token that came with tok,
// lower-cased, when the token says it is verified; otherwise "" and why,
// in words that quote nothing from the token.
//
// The ID token's signature is not checked: it came straight from the
// token endpoint, over TLS, in answer to this client's own code exchange,
// which OpenID Connect Core 1.0 (3.1.3.7) accepts in place of checking the
// signature. The ID token is a credential of sorts: it is never logged,
// printed or written to the cache.
func emailFromIDToken(tok *oauth2.Token) (email, why string) {
	raw, _ := tok.Extra("id_token").(string)
	if raw == "" {
		return "", "the token endpoint returned no ID token (the identity scopes were not granted)"
	}
	parts := strings.Split(raw, ".")
	if len(parts) != 3 {
		return "", "the ID token is not a JWT"
	}
	// JWTs drop base64's padding; tolerate a token that kept it.
	payload, err := base64.RawURLEncoding.DecodeString(strings.TrimRight(parts[1], "="))
	if err != nil {
		return "", "the ID token's payload is not base64url"
	}
	var claims struct {
		Email    string `json:"email"`
		Verified any    `json:"email_verified"` // Google's is a boolean; some issuers send "true"
	}
	if err := json.Unmarshal(payload, &claims); err != nil {
		return "", "the ID token's payload is not a JSON object"
	}
	email = strings.ToLower(strings.TrimSpace(claims.Email))
	switch {
	case email == "":
		return "", "the ID token has no email"
	case strings.Count(email, "@") != 1 || strings.ContainsAny(email, " \t\r\n"):
		return "", "the ID token's email is not an address"
	case claims.Verified != true && claims.Verified != "true":
		return "", "the ID token's email is not verified"
	}
	return email, ""
}

// loadCache reads the token cache at path. When the cached token cannot
// serve a run with client clientID and scopes need, it says why in reason.
func loadCache(path, clientID string, need []string, log *slog.Logger) (c *cache, reason string) {
	return readTokenCache(path, clientID, need, log, true)
}

// readCache is loadCache; restrict also takes a cache readable by others
// back to its owner (a run does; a plan, which changes nothing, does not).
func readTokenCache(path, clientID string, need []string, log *slog.Logger, restrict bool) (c *cache, reason string) {
	data, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Sprintf("no token is cached in %q", path)
	}
	if err != nil {
		return nil, fmt.Sprintf("the token cache %q cannot be read (%v)", path, err)
	}
	if runtime.GOOS != "windows" && restrict {
		if fi, err := os.Stat(path); err == nil && fi.Mode().Perm()&0o077 != 0 {
			log.Warn("the token cache was readable by others; restricting it to its owner", "cache", path, "mode", fi.Mode().Perm().String())
			if err := os.Chmod(path, 0o600); err != nil {
				log.Warn("restricting the token cache", "cache", path, "err", err)
			}
		}
	}
	c = new(cache)
	if err := json.Unmarshal(data, c); err != nil || c.Token == nil {
		return nil, fmt.Sprintf("the token cache %q is damaged", path)
	}
	if c.ClientID != clientID {
		return nil, fmt.Sprintf("the token cached in %q was granted to another OAuth client", path)
	}
	if missing := missingScopes(need, c.Scopes); len(missing) > 0 {
		return nil, fmt.Sprintf("the token cached in %q lacks %s", path, describeScopes(missing))
	}
	if c.Token.RefreshToken == "" && !c.Token.Valid() {
		return nil, fmt.Sprintf("the token cached in %q has expired and has no refresh token", path)
	}
	return c, ""
}

// saveCache writes c to path atomically (a reader sees the old file or the
// new one), with mode 0600 in a directory created 0700.
func saveCache(path string, c *cache) error {
	data, err := json.MarshalIndent(c, "", "  ")
	if err != nil {
		return fmt.Errorf("encoding the token cache: %w", err)
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return fmt.Errorf("creating the token cache's directory: %w", err)
	}
	if err := maybe.WriteFile(path, append(data, '\n'), 0o600); err != nil {
		return fmt.Errorf("writing the token cache %q: %w", path, err)
	}
	return nil
}

// cachingSource saves the token to the cache whenever the underlying
// source hands out a new one (a refresh), so that the next run starts from
// it; a refresh token that rotates is never lost. It is safe for
// concurrent use.
type cachingSource struct {
	src  oauth2.TokenSource
	path string
	log  *slog.Logger

	mu    sync.Mutex
	saved cache // what the file holds
}

func newCachingSource(src oauth2.TokenSource, path string, saved *cache, log *slog.Logger) *cachingSource {
	return &cachingSource{src: src, path: path, saved: *saved, log: log}
}

func (s *cachingSource) Token() (*oauth2.Token, error) {
	// The lock spans the refresh too: otherwise a caller holding an older
	// token could save it over a newer one, and a rotated refresh token
	// would be lost.
	s.mu.Lock()
	defer s.mu.Unlock()
	tok, err := s.src.Token()
	if err != nil {
		return nil, err
	}
	if s.saved.Token != nil && tok.AccessToken == s.saved.Token.AccessToken && tok.RefreshToken == s.saved.Token.RefreshToken {
		return tok, nil
	}
	next := s.saved
	next.Token = tok
	if err := saveCache(s.path, &next); err != nil {
		// The token serves this run; only the next one loses it.
		s.log.Warn("could not save the refreshed token", "cache", s.path, "err", err)
		return tok, nil
	}
	s.saved = next
	s.log.Debug("token refreshed; cache updated", "cache", s.path)
	return tok, nil
}

// consent runs the installed-app flow: a one-shot server on a random
// loopback port receives the browser's redirect, whose state must match;
// the code is exchanged with the PKCE verifier. It returns the token and
// the scopes granted.
func consent(ctx context.Context, cfg Config, conf *oauth2.Config) (*oauth2.Token, []string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, nil, fmt.Errorf("listening on a loopback port for the browser: %w", err)
	}
	redirect := "http://" + ln.Addr().String() + "/"
	conf2 := *conf
	conf2.RedirectURL = redirect
	state := randomState()
	verifier := oauth2.GenerateVerifier()
	// ApprovalForce makes Google return a refresh token even when the user
	// consented before, or later runs would need a browser again.
	authURL := conf2.AuthCodeURL(state, oauth2.AccessTypeOffline, oauth2.ApprovalForce, oauth2.S256ChallengeOption(verifier))

	results := make(chan callback, 1)
	deliver := func(r callback) {
		select {
		case results <- r:
		default: // the first answer counts
		}
	}
	srv := &http.Server{
		ReadHeaderTimeout: 10 * time.Second,
		Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.URL.Path != "/" {
				http.NotFound(w, r)
				return
			}
			res := checkCallback(r.URL.Query(), state)
			if res.err != nil {
				http.Error(w, "provision: "+res.err.Error()+"\nYou can close this tab.", http.StatusBadRequest)
			} else {
				fmt.Fprintln(w, "provision: signed in. You can close this tab and return to the terminal.")
			}
			deliver(res)
		}),
	}
	go srv.Serve(ln)
	defer func() {
		sctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		srv.Shutdown(sctx)
	}()

	fmt.Fprintf(cfg.Prompt, "Sign in to let provision use Google Chat as you (scopes: %s; and %s, so that it knows your email address and leaves you out of member lists).\nOpen this address in a browser:\n\n    %s\n\n", shortScopes(cfg.Scopes), shortScopes(identityScopes), authURL)
	fmt.Fprintf(cfg.Prompt, "Waiting for the browser to come back to %s.\n", redirect)
	port := ln.Addr().(*net.TCPAddr).Port
	fmt.Fprintf(cfg.Prompt, "If the browser runs on another machine, forward the port first (ssh -L %d:127.0.0.1:%d HOST)", port, port)
	if cfg.Input != nil {
		fmt.Fprint(cfg.Prompt, ", or paste here the address the browser fails to load after you approve")
		go readPasted(cfg.Input, state, deliver, cfg.Prompt)
	}
	fmt.Fprintln(cfg.Prompt, ".")
	if cfg.OpenBrowser != nil {
		if err := cfg.OpenBrowser(authURL); err != nil {
			cfg.Logger.Debug("no browser opened", "err", err)
		}
	}

	ctx, cancel := context.WithTimeout(ctx, consentTimeout)
	defer cancel()
	ctx = context.WithValue(ctx, oauth2.HTTPClient, cfg.HTTPClient) // for Exchange
	var res callback
	select {
	case res = <-results:
	case <-ctx.Done():
		return nil, nil, fmt.Errorf("waiting for the browser to complete the sign-in: %w", ctx.Err())
	}
	if res.err != nil {
		return nil, nil, usagef("sign-in failed: %w", res.err)
	}
	tok, err := conf2.Exchange(ctx, res.code, oauth2.VerifierOption(verifier))
	if err != nil {
		var re *oauth2.RetrieveError
		if errors.As(err, &re) && re.ErrorCode != "" {
			return nil, nil, &usageError{msg: fmt.Sprintf("exchanging the sign-in code: the token endpoint refused it (%s)", re.ErrorCode), err: err}
		}
		return nil, nil, fmt.Errorf("exchanging the sign-in code: %w", err)
	}
	granted := conf.Scopes
	if s, ok := tok.Extra("scope").(string); ok && s != "" {
		granted = strings.Fields(s)
	}
	// The identity scopes may be missing: the email is then unknown.
	if missing := missingScopes(cfg.Scopes, granted); len(missing) > 0 {
		return nil, nil, usagef("the consent did not grant %s: run again and allow every permission asked for", describeScopes(missing))
	}
	if tok.RefreshToken == "" {
		fmt.Fprintln(cfg.Prompt, "Google returned no refresh token: once this token expires, a new sign-in will be needed.")
	}
	fmt.Fprintln(cfg.Prompt, "Signed in.")
	return tok, granted, nil
}

// callback is the outcome of the browser's redirect.
type callback struct {
	code string
	err  error
}

func checkCallback(q url.Values, state string) callback {
	if subtle.ConstantTimeCompare([]byte(q.Get("state")), []byte(state)) != 1 {
		return callback{err: errors.New("the answer's state does not match this sign-in (a stale tab, or a forged request); nothing was accepted")}
	}
	if e := q.Get("error"); e != "" {
		return callback{err: fmt.Errorf("consent not given (%q)", e)}
	}
	if q.Get("code") == "" {
		return callback{err: errors.New("the answer carries no authorisation code")}
	}
	return callback{code: q.Get("code")}
}

// readPasted reads lines from r until one is the redirect address, for a
// browser that runs elsewhere and could not reach the loopback port.
func readPasted(r io.Reader, state string, deliver func(callback), prompt io.Writer) {
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" {
			continue
		}
		u, err := url.Parse(line)
		if err != nil || (u.Query().Get("code") == "" && u.Query().Get("error") == "") {
			fmt.Fprintln(prompt, "That is not the address the browser was sent to (it has code= and state= in it); try again.")
			continue
		}
		deliver(checkCallback(u.Query(), state))
		return
	}
}

func randomState() string {
	b := make([]byte, 24)
	rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

// missingScopes returns the scopes of need that have is missing.
func missingScopes(need, have []string) []string {
	var missing []string
	for _, s := range need {
		if !slices.Contains(have, s) {
			missing = append(missing, s)
		}
	}
	return missing
}

func describeScopes(ss []string) string {
	parts := make([]string, len(ss))
	for i, s := range ss {
		parts[i] = shortScope(s)
		if p := scopePurpose[s]; p != "" {
			parts[i] += " (needed " + p + ")"
		}
	}
	return strings.Join(parts, ", ")
}

func capitalise(s string) string {
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}
