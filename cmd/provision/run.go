package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	chat "google.golang.org/api/chat/v1"
	cloudidentity "google.golang.org/api/cloudidentity/v1"
	"google.golang.org/api/option"

	"provision/internal/apply"
	"provision/internal/auth"
	"provision/internal/plan"
	"provision/internal/results"
)

// Exit statuses (SPEC §3).
const (
	exitOK          = 0
	exitFailed      = 1
	exitUsage       = 2
	exitInterrupted = 130
)

// env is what run takes from the process beyond its arguments, so tests
// can hand in their own.
type env struct {
	stdout, stderr io.Writer
	getenv         func(string) string
	// terminal says stderr is a terminal with a person at it: progress is
	// a live bar, and --auth user may ask for consent in a browser.
	terminal    bool
	openBrowser func(string) error
	// input is where a person may paste the address a remote browser was
	// sent back to (--auth user over SSH).
	input io.Reader
	// backoff overrides the waits between attempts (tests).
	backoff apply.Backoff
	// throttle, when its Base is set, overrides the waits for a server
	// that throttles without Retry-After (tests).
	throttle apply.Throttle
	// tick is how often progress is logged when stderr is not a terminal.
	tick time.Duration

	// groups is the Cloud Identity client, when the config names groups by
	// email.
	groups *cloudidentity.Service

	// What the run did, for its metrics.
	summary *apply.Summary
	counts  plan.Counts
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	e := &env{stdout: stdout, stderr: stderr, getenv: os.Getenv, tick: 5 * time.Second}
	if f, ok := stderr.(*os.File); ok && isTerminal(f) {
		e.terminal = true
		e.openBrowser = auth.SystemBrowser
		e.input = os.Stdin
	}
	return e.run(ctx, args)
}

func (e *env) run(ctx context.Context, args []string) int {
	e.stderr = &lockedWriter{w: e.stderr}
	start := time.Now()
	o, err := parseArgs(args, e.stdout)
	switch {
	case errors.Is(err, flag.ErrHelp):
		return exitOK
	case err == nil && o.version:
		fmt.Fprintln(e.stdout, readBuildInfo())
		return exitOK
	case err == nil:
		err = e.provision(ctx, o)
	}
	code := e.exit(err)
	if o != nil && o.metrics != "" && !o.plan {
		// Written whatever the outcome: a monitor reads the exit status
		// and the time of the last success from it.
		r := runReport{sum: e.summary, counts: e.counts, exit: code, start: start, end: time.Now(), build: readBuildInfo()}
		if err := writeMetrics(o.metrics, r); err != nil {
			fmt.Fprintf(e.stderr, "provision: %v\n", err)
			if code == exitOK {
				code = exitFailed
			}
		}
	}
	return code
}

// exit reports err and maps it to an exit status.
func (e *env) exit(err error) int {
	var ue usageError
	var failed errFailed
	switch {
	case err == nil:
		return exitOK
	case errors.As(err, &failed):
		return exitFailed
	case errors.Is(err, errInterrupted):
		return exitInterrupted
	case errors.As(err, &ue):
		var problems plan.Problems
		if errors.As(err, &problems) {
			for _, p := range problems {
				fmt.Fprintln(e.stderr, p)
			}
			fmt.Fprintf(e.stderr, "provision: %d %s in the config; nothing was applied\n", len(problems), plural(len(problems), "problem", "problems"))
			return exitUsage
		}
		fmt.Fprintf(e.stderr, "provision: %v\n", err)
		if strings.HasPrefix(err.Error(), "flag") || strings.Contains(err.Error(), "flag provided") {
			fmt.Fprintln(e.stderr, "Run 'provision -h' for usage.")
		}
		return exitUsage
	}
	fmt.Fprintf(e.stderr, "provision: %v\n", err)
	return exitFailed
}

// errFailed says the run finished with failures it has already reported.
type errFailed struct{}

func (errFailed) Error() string { return "some spaces or members failed" }

var errInterrupted = errors.New("interrupted")

func (e *env) provision(ctx context.Context, o *options) error {
	data, err := os.ReadFile(o.config)
	if err != nil {
		return usagef("reading the config: %w", err)
	}
	cfg, err := plan.Parse(o.config, data, plan.Options{App: o.auth == string(auth.App)})
	if err != nil {
		return usageError{err}
	}
	if o.adopt {
		for i := range cfg.Spaces {
			cfg.Spaces[i].Adopt = true
		}
	}
	for flag, path := range map[string]string{"--export": o.export, "--metrics": o.metrics} {
		// Checked before any call: a run that did its work must not then
		// fail for want of a directory to report in.
		if path == "" {
			continue
		}
		if fi, err := os.Stat(filepath.Dir(path)); err != nil || !fi.IsDir() {
			return usagef("%s %q: its directory does not exist", flag, path)
		}
	}
	cfg.Prune, cfg.PruneMembers, cfg.Caller = o.prune, o.pruneMembers, o.caller
	if o.plan && !o.refresh {
		if err := callerKnown(o, cfg.Caller); err != nil {
			return err
		}
		// A plan from the record alone: no credentials, no call; but the
		// checks a run makes before its first call, so that a plan never
		// passes where the run would be refused.
		if err := auth.Check(e.authConfig(o, cfg, nil, nil)); err != nil {
			return usageError{err}
		}
		if hasGroupEmails(cfg) {
			check := e.authConfig(o, cfg, nil, nil)
			check.Endpoint = o.groupsEndpoint
			if err := auth.Check(check); err != nil {
				return usagef("--groups-endpoint: %w", err)
			}
		}
		f, err := results.Load(o.results)
		if err != nil {
			return usagef("reading the results file: %w", err)
		}
		if err := e.printPlan(o, plan.Diff(cfg, apply.Recorded(f, nil))); err != nil {
			return err
		}
		return e.export(o, cfg, f)
	}
	log := e.logger(o)
	log.Debug("provision", "version", readBuildInfo().String())
	creds, svc, err := e.connect(ctx, o, cfg, log)
	if err != nil {
		return err
	}
	if cfg.Caller == "" && creds.Email != "" {
		cfg.Caller = "users/" + creds.Email
	}
	if err := callerKnown(o, cfg.Caller); err != nil {
		return err
	}
	if o.plan {
		// --plan --refresh: reads, and only reads; no lock, nothing written.
		f, err := results.Load(o.results)
		if err != nil {
			return usagef("reading the results file: %w", err)
		}
		opts := e.options(o, creds, log)
		ref, err := e.refresh(ctx, o, opts, svc, cfg, f)
		if err != nil {
			return e.stoppedReading(err, creds)
		}
		if err := e.printPlan(o, plan.Diff(cfg, apply.Recorded(f, &ref))); err != nil {
			return err
		}
		return e.export(o, cfg, f)
	}
	store, err := results.Open(o.results)
	if err != nil {
		return usageError{err}
	}
	err = e.applyWith(ctx, o, cfg, svc, store, creds, log)
	if cerr := store.Close(); cerr != nil && !(stateLost(cerr) && stateLost(err)) {
		// (A state lost mid-run was said when the run stopped.)
		fmt.Fprintf(e.stderr, "provision: the results file: %v\n", cerr)
		switch {
		case stateLost(cerr):
			err = usageError{cerr}
		case err == nil:
			err = errFailed{}
		}
	}
	if o.export != "" {
		// The list as the run left it, whatever its outcome.
		f, lerr := results.Load(o.results)
		if lerr == nil {
			lerr = e.export(o, cfg, f)
		}
		if lerr != nil {
			fmt.Fprintf(e.stderr, "provision: %v\n", lerr)
			if err == nil {
				err = errFailed{}
			}
		}
	}
	return err
}

// unwrapStopped is err without apply's "run stopped: " prefix, for a
// message that says so itself; errors.Is still sees what it wraps.
func unwrapStopped(err error) error {
	if msg, ok := strings.CutPrefix(err.Error(), apply.ErrStopped.Error()+": "); ok {
		return reworded{msg, err}
	}
	return err
}

// reworded is an error with another text.
type reworded struct {
	msg string
	err error
}

func (r reworded) Error() string { return r.msg }
func (r reworded) Unwrap() error { return r.err }

// stateLost tells an error of a state that is no longer the run's: its
// lock replaced or its directory moved or removed during the run.
func stateLost(err error) bool {
	return err != nil && (errors.Is(err, results.ErrLockLost) || errors.Is(err, results.ErrVanished))
}

// stoppedReading explains why a refresh ended early: as stopped does, but a
// refresh records nothing, so nothing is pending.
func (e *env) stoppedReading(err error, creds *auth.Credentials) error {
	var quota *apply.QuotaWaitError
	if errors.As(err, &quota) {
		fmt.Fprintf(e.stderr, "provision: stopped while reading the spaces: %v.\nNothing was changed and nothing recorded. Run again later, or raise --max-wait.\n", quota)
		return errFailed{}
	}
	return e.stopped(err, creds)
}

// callerKnown refuses --prune-members when the run does not know who the
// caller is: it could not tell the caller from the members to remove, and
// would take the caller out of its own spaces.
func callerKnown(o *options, caller string) error {
	if o.pruneMembers && caller == "" && o.auth != "app" {
		return usagef("--prune-members needs to know who you are, so as never to remove you: pass --caller YOUR_EMAIL (the credentials do not name you)")
	}
	return nil
}

// export writes the --export list, if asked for.
func (e *env) export(o *options, cfg *plan.Config, f *results.File) error {
	if o.export == "" {
		return nil
	}
	return writeExport(o.export, cfg, f)
}

func (e *env) printPlan(o *options, p *plan.Plan) error {
	if o.json {
		return plan.WriteJSON(e.stdout, p)
	}
	return plan.WriteTextOptions(e.stdout, p, plan.TextOptions{Verbose: o.verbose})
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
	return slog.New(slog.NewTextHandler(e.stderr, &slog.HandlerOptions{Level: level}))
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
	svc, err := chat.NewService(ctx, option.WithEndpoint(o.endpoint), option.WithHTTPClient(creds.HTTPClient))
	if err != nil {
		return nil, nil, usagef("setting up the Chat client: %w", err)
	}
	if hasGroupEmails(cfg) {
		// The same credentials reach Cloud Identity: --auth none and
		// plain http are allowed to a loopback address only, as for Chat.
		check := e.authConfig(o, cfg, nil, nil)
		check.Endpoint = o.groupsEndpoint
		if err := auth.Check(check); err != nil {
			return nil, nil, usagef("--groups-endpoint: %w", err)
		}
		if e.groups, err = cloudidentity.NewService(ctx, option.WithEndpoint(o.groupsEndpoint), option.WithHTTPClient(creds.HTTPClient)); err != nil {
			return nil, nil, usagef("setting up the Cloud Identity client: %w", err)
		}
	}
	return creds, svc, nil
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
		Scopes:      auth.ScopesFor(auth.Mode(o.auth), needs(o, cfg)),
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
		return auth.Needs{ReadOnly: true, Members: o.refresh, Admin: o.admin, Groups: o.refresh && hasGroupEmails(cfg)}
	}
	n := auth.Needs{Members: hasMembers(cfg) || o.pruneMembers || o.refresh, Delete: o.prune, Admin: o.admin,
		Messages: hasWelcome(cfg), Groups: hasGroupEmails(cfg)}
	for _, s := range cfg.Spaces {
		// Adoption checks the caller's own membership (members.get).
		n.Members = n.Members || (s.Adopt && !o.admin)
		for k := range s.Settings {
			if k != plan.SetExternalUsers && k != plan.SetPreset {
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

// refresh reads every recorded space (and, where the config manages
// members, its members) for --refresh, showing progress.
func (e *env) refresh(ctx context.Context, o *options, opts apply.Options, svc *chat.Service, cfg *plan.Config, f *results.File) (apply.Refreshed, error) {
	members := make(map[string][]string)
	for _, s := range cfg.Spaces {
		members[plan.NameKey(s.DisplayName)] = s.Members
	}
	targets := make(map[string]apply.Target)
	for k, en := range f.Spaces {
		if en.Name == "" || (en.Status != results.Created && en.Status != results.Existing) {
			continue
		}
		t := apply.Target{Name: en.Name, Members: members[plan.NameKey(k)], Admin: o.admin && en.Status == results.Existing, Principal: en.Principal}
		if en.Applied != nil {
			t.IDs = en.Applied.IDs
		}
		targets[k] = t
	}
	// A line every tick, saying how far it is and whether the server's
	// quota holds it.
	var done atomic.Int64
	stop := make(chan struct{})
	ticked := make(chan struct{})
	go func() {
		defer close(ticked)
		t := time.NewTicker(e.tick)
		defer t.Stop()
		for {
			select {
			case <-stop:
				return
			case <-t.C:
				line := fmt.Sprintf("refresh: %d/%d recorded spaces read", done.Load(), len(targets))
				if d := opts.Reads.Pause(); d > 0 {
					line += fmt.Sprintf("; waiting for the server's quota (reads), resuming in %s", roundWait(d))
				}
				fmt.Fprintln(e.stderr, line)
			}
		}
	}()
	ref, err := apply.Refresh(ctx, svc, targets, opts, func(n, _ int) { done.Store(int64(n)) })
	close(stop)
	<-ticked
	if err != nil {
		return ref, err
	}
	fmt.Fprintf(e.stderr, "refresh: %s read, %d deleted since the last run, %d not visible to you\n",
		count(len(targets), "recorded space", "recorded spaces"), len(ref.Gone), len(ref.Hidden))
	if n := len(ref.Gone); n > 1 && n == len(targets) {
		fmt.Fprintf(e.stderr, "warning: every recorded space answered NOT_FOUND; if that is not what happened in Chat, check --endpoint and the credentials before applying: the plan creates them again (a space found under its old name is recorded again, not duplicated)\n")
	}
	for k := range ref.Hidden {
		fmt.Fprintf(e.stderr, "warning: %q (%s): the API refused to show it (403); it is not taken for deleted and is left as recorded\n", k, targets[k].Name)
	}
	return ref, nil
}

func (e *env) applyWith(ctx context.Context, o *options, cfg *plan.Config, svc *chat.Service, store *results.Store, creds *auth.Credentials, log *slog.Logger) error {
	opts := e.options(o, creds, log)
	var ref *apply.Refreshed
	if o.refresh {
		r, err := e.refresh(ctx, o, opts, svc, cfg, store.Snapshot())
		if err != nil {
			return e.stoppedReading(err, creds)
		}
		// The users/IDs learnt spare the next refresh a lookup each; they
		// are recorded for members the record has already, since an ID
		// event also records the member as received.
		snap := store.Snapshot()
		for k, ids := range r.IDs {
			en := snap.Spaces[k]
			if en == nil || en.Applied == nil {
				continue
			}
			for m, id := range ids {
				if !slices.Contains(en.Applied.Members, m) {
					continue
				}
				if err := store.Record(results.Event{Space: k, Member: m, ID: id}); err != nil {
					return e.stopped(fmt.Errorf("recording %q: %w", k, err), creds)
				}
			}
		}
		ref = &r
	}
	p := plan.Diff(cfg, apply.Recorded(store.Snapshot(), ref))
	if !o.json {
		if err := plan.WriteTextOptions(e.stdout, p, plan.TextOptions{Verbose: o.verbose}); err != nil {
			return err
		}
	}
	prog := newProgress(e, p, map[string]*apply.Limiter{"space writes": opts.Spaces, "membership writes": opts.Members, "reads": opts.Reads})
	prog.callerUnknown = opts.Caller == "" && !opts.App
	opts.OnDone = prog.done
	sum, err := apply.Run(ctx, svc, store, p, opts)
	if ref != nil {
		// The refresh's reads are the run's too.
		sum.Reads += ref.Reads
		sum.QuotaWait += ref.QuotaWait
		for method, byCode := range ref.Calls {
			if sum.Calls == nil {
				sum.Calls = make(map[string]map[int]int)
			}
			if sum.Calls[method] == nil {
				sum.Calls[method] = make(map[int]int)
			}
			for code, n := range byCode {
				sum.Calls[method][code] += n
			}
		}
	}
	e.summary, e.counts = sum, p.Counts()
	prog.finish()
	if err := e.printSummary(o, p, sum, err); err != nil {
		return err
	}
	switch {
	case err != nil:
		return e.stopped(err, creds)
	case sum.Failed > 0 || prog.failed():
		return errFailed{}
	}
	return nil
}

// stopped explains why a run ended early.
func (e *env) stopped(err error, creds *auth.Credentials) error {
	var denied *apply.DeniedError
	var quota *apply.QuotaWaitError
	switch {
	case stateLost(err):
		// The lock or the directory of the state went during the run:
		// nothing more may be recorded there. The message (printed once,
		// by exit) says where the state is.
		return usageError{unwrapStopped(err)}
	case errors.As(err, &denied):
		advice := denied.Advice
		if advice == "" {
			advice = creds.Hint(denied.Code)
		}
		fmt.Fprintf(e.stderr, "provision: stopped: %v\n%s\n", denied, advice)
		if denied.Advice != "" {
			return usageError{errors.New("the Chat app is not configured; nothing more was sent")}
		}
		return usageError{errors.New("the credentials were refused; nothing more was sent")}
	case errors.As(err, &quota):
		fmt.Fprintf(e.stderr, "provision: stopped: %v.\nNothing failed: what was in flight is recorded as pending, and the next run resumes where this one stopped. Run again later, or raise --max-wait.\n", quota)
		return errFailed{}
	case errors.Is(err, context.Canceled):
		fmt.Fprintln(e.stderr, "provision: interrupted; everything that finished is recorded, run again to resume")
		return errInterrupted
	}
	return err
}

func hasMembers(cfg *plan.Config) bool {
	for _, s := range cfg.Spaces {
		if len(s.Members) > 0 {
			return true
		}
	}
	return false
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

// lockedWriter serialises writes from the workers, the progress ticker and
// the logger, so lines never interleave.
type lockedWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}
