// Connecting a run: credentials, the scopes the config needs, the client,
// its limiters and the options the applier runs with.

package main

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"strings"
	"time"

	chat "google.golang.org/api/chat/v1"
	cloudidentity "google.golang.org/api/cloudidentity/v1"
	"google.golang.org/api/option"

	"provision/internal/apply"
	"provision/internal/auth"
	"provision/internal/plan"
)

// callerKnown refuses --prune-members when the run does not know who the
// caller is: it could not tell the caller from the members to remove, and
// would take the caller out of its own spaces.
func callerKnown(o *options, caller string) error {
	if o.pruneMembers && caller == "" && o.auth != "app" {
		return usagef("--prune-members needs to know who you are, so as never to remove you: pass --caller YOUR_EMAIL (the credentials do not name you)")
	}
	return nil
}

// messageRate paces message writes (the welcome messages) 5% under the
// documented 3,000 a minute per project (Limits page).
const messageRate = 2850

// readRate paces reads 5% under the documented 3,000 a minute (per
// project, for space reads and for membership reads alike: the Limits
// page), so that timing noise never draws a 429 from a run at full speed.
const readRate = 2850

// setupLimiters are the limiters of a run: one per quota class (SPEC §1).
func setupLimiters(o *options) (spaces, members, reads *apply.Limiter) {
	return apply.NewLimiter(o.rate), apply.NewLimiter(o.memberRate), apply.NewLimiter(readRate)
}

func (e *env) logger(o *options) *slog.Logger {
	level := slog.LevelInfo
	if o.verbose {
		level = slog.LevelDebug
	}
	if e.jsonLog {
		return slog.New(jsonHandler(e.rawStderr, level))
	}
	// Redacted again on the way out, as in json: the state's warnings
	// quote the storage server's errors, which may echo a credential.
	return slog.New(slog.NewTextHandler(e.stderr, &slog.HandlerOptions{Level: level, ReplaceAttr: redactAttr}))
}

// connect makes the credentials and the Chat client of a run that calls
// the API. Every refusal here is a usage error: nothing was called yet.
func (e *env) connect(ctx context.Context, o *options, cfg *plan.Config, log *slog.Logger) (*auth.Credentials, *chat.Service, error) {
	base := &http.Client{Transport: &http.Transport{
		Proxy:               http.ProxyFromEnvironment,
		MaxIdleConnsPerHost: o.concurrency * 2,
		IdleConnTimeout:     90 * time.Second,
		TLSHandshakeTimeout: 10 * time.Second,
	}, Timeout: o.timeout + 5*time.Second}
	creds, err := auth.New(ctx, e.authConfig(o, cfg, base, log))
	if err != nil {
		if errors.Is(err, auth.ErrUsage) || errors.Is(err, context.Canceled) {
			return nil, nil, usageError{err}
		}
		return nil, nil, usagef("authentication: %w", err)
	}
	// Every write to Chat passes the gate (gate.go), armed once the
	// state is open.
	svc, err := chat.NewService(ctx, option.WithEndpoint(o.endpoint), option.WithHTTPClient(e.gate.client(creds.HTTPClient)))
	if err != nil {
		return nil, nil, usagef("setting up the Chat client: %w", err)
	}
	if err := e.checkGroupsEndpoint(o, cfg); err != nil {
		return nil, nil, err
	}
	if hasGroupEmails(cfg) {
		if e.groups, err = cloudidentity.NewService(ctx, option.WithEndpoint(o.groupsEndpoint), option.WithHTTPClient(creds.HTTPClient)); err != nil {
			return nil, nil, usagef("setting up the Cloud Identity client: %w", err)
		}
	}
	return creds, svc, nil
}

// checkGroupsEndpoint refuses a --groups-endpoint the credentials may not
// be sent to, when the config names a group by email: the same
// credentials reach Cloud Identity, so --auth none and plain http are
// allowed to a loopback address only, as for Chat.
func (e *env) checkGroupsEndpoint(o *options, cfg *plan.Config) error {
	if !hasGroupEmails(cfg) {
		return nil
	}
	check := e.authConfig(o, cfg, nil, nil)
	check.Endpoint = o.groupsEndpoint
	if err := auth.Check(check); err != nil {
		return usagef("--groups-endpoint: %w", err)
	}
	return nil
}

// hasGroupEmails says whether the config names a group by its email.
func hasGroupEmails(cfg *plan.Config) bool {
	for _, s := range cfg.Spaces {
		for _, m := range s.Members {
			if strings.HasPrefix(m, plan.GroupPrefix) {
				return true
			}
		}
	}
	return false
}

// hasWelcome says whether the config posts a welcome message.
func hasWelcome(cfg *plan.Config) bool {
	for _, s := range cfg.Spaces {
		if s.Welcome != "" {
			return true
		}
	}
	return false
}

// authConfig is the credentials' configuration for o.
func (e *env) authConfig(o *options, cfg *plan.Config, base *http.Client, log *slog.Logger) auth.Config {
	return auth.Config{
		Mode:        auth.Mode(o.auth),
		Credentials: o.credentials,
		Subject:     o.subject,
		TokenCache:  o.tokenCache,
		Scopes:      e.scopes(o, cfg),
		Endpoint:    o.endpoint,
		Interactive: e.terminal,
		OpenBrowser: e.openBrowser,
		Prompt:      e.stderr,
		Input:       e.input,
		Getenv:      e.getenv,
		HTTPClient:  base,
		Logger:      log,
	}
}

// needs says what the run may do, for the scopes it asks for: settings
// are patched whenever the config states one that can drift.
func needs(o *options, cfg *plan.Config) auth.Needs {
	if o.plan {
		// --plan --refresh reads, and only reads.
		// (provision import too, which tells groups by their emails.)
		return auth.Needs{ReadOnly: true, Members: o.refresh, Admin: o.admin, Groups: o.refresh && hasGroupEmails(cfg) || o.importing}
	}
	n := auth.Needs{Members: hasMembers(cfg) || o.pruneMembers || o.refresh, Delete: o.prune, Admin: o.admin,
		Messages: hasWelcome(cfg), Groups: hasGroupEmails(cfg)}
	for _, s := range cfg.Spaces {
		// Adoption checks the caller's own membership (members.get).
		n.Members = n.Members || (s.Adopt && !o.admin)
		for _, st := range s.Settings {
			if st.Name != plan.SetExternalUsers && st.Name != plan.SetPreset {
				n.Patch = true
			}
		}
	}
	return n
}

// options are the applier's options for o and creds.
func (e *env) options(o *options, creds *auth.Credentials, log *slog.Logger) apply.Options {
	spaces, members, reads := setupLimiters(o)
	throttle := apply.DefaultThrottle
	throttle.MaxWait = o.maxWait
	if e.throttle.Base > 0 {
		throttle.Base, throttle.Cap = e.throttle.Base, e.throttle.Cap
	}
	opts := apply.Options{
		Concurrency: o.concurrency,
		MaxAttempts: o.maxAttempts,
		Timeout:     o.timeout,
		Spaces:      spaces,
		Members:     members,
		Reads:       reads,
		App:         o.auth == string(auth.App),
		Customer:    o.customer,
		Principal:   creds.Principal,
		Backoff:     e.backoff,
		Throttle:    throttle,
		Admin:       o.admin,
		Groups:      e.groups,
		Messages:    apply.NewLimiter(messageRate),
		Redact:      auth.Redact,
		Logger:      log,
	}
	opts.Caller = o.caller
	if opts.Caller == "" && creds.Email != "" {
		opts.Caller = "users/" + creds.Email
	}
	if opts.Principal == "" && !opts.App {
		opts.Principal = opts.Caller
	}
	return opts
}

func hasMembers(cfg *plan.Config) bool {
	for _, s := range cfg.Spaces {
		if len(s.Members) > 0 {
			return true
		}
	}
	return false
}
