package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"cloud.google.com/go/storage"
	chat "google.golang.org/api/chat/v1"
	cloudidentity "google.golang.org/api/cloudidentity/v1"

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
	exitStopped     = 3 // stopped mid-way by a fatal condition (fatal.go)
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
	// jsonLog is set by --log-format json: stderr is one JSON object a
	// line, and rawStderr is what the objects are written to.
	jsonLog   bool
	rawStderr io.Writer
	// announce says a first interrupt (main's signal context) is said on
	// stderr as it comes.
	announce bool

	// groups is the Cloud Identity client, when the config names groups by
	// email.
	groups *cloudidentity.Service

	// gcs is the Cloud Storage client of a gs:// state, made once per
	// run (tests may hand one in).
	gcs *storage.Client

	// gate holds back writes to Chat once the state is no longer the
	// run's (gate.go).
	gate writeGate

	// What the run did, for its metrics.
	summary *apply.Summary
	counts  plan.Counts
	// recorded counts the events this run recorded that say something
	// was done (fatal.go).
	recorded atomic.Int64
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	e := &env{stdout: stdout, stderr: stderr, getenv: os.Getenv, tick: 5 * time.Second, announce: true}
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
	refused := err != nil // the command line itself
	if o != nil && o.logFormat == "json" {
		// Every line of stderr from here on, a refusal of the command
		// line included (once --log-format was read), is a JSON object.
		lines := &jsonLines{h: jsonHandler(e.stderr, slog.LevelDebug)}
		e.jsonLog, e.rawStderr, e.stderr = true, e.stderr, lines
		defer lines.flush()
	}
	if e.announce {
		stop := context.AfterFunc(ctx, func() {
			fmt.Fprintln(e.stderr, "provision: interrupted: finishing the calls in flight and recording them (interrupt again to quit at once)")
		})
		defer stop()
	}
	switch {
	case errors.Is(err, flag.ErrHelp):
		return exitOK
	case err == nil && o.version:
		fmt.Fprintln(e.stdout, readBuildInfo())
		return exitOK
	case err == nil && o.importing:
		err = e.importSpaces(ctx, o)
	case err == nil:
		err = e.provision(ctx, o)
	}
	code := e.exit(err)
	if o != nil && o.metrics != "" && !o.plan && !o.metricsClash() &&
		(replaceableMetrics(o.metrics) || (!refused && !foreignFile(o.metrics))) {
		// Written whatever the outcome: a monitor reads the exit status
		// and the time of the last success from it. Never over another
		// file of the run, nor over a file that is not a metrics file
		// (an included CSV, a key): for a refused command line, only
		// over a file that is absent or a metrics file already, its name
		// not having been checked against the others.
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

// readIncluded reads a CSV file a config in dir includes. The parser has
// checked that the path, as written, stays in dir; a symbolic link on the
// way may not lead out of it either, and only a regular file is read (a
// named pipe would hang the run, a device never end).
func readIncluded(dir, path string) ([]byte, error) {
	real, err := filepath.EvalSymlinks(path)
	if err == nil {
		real, err = filepath.Abs(real)
	}
	if err != nil {
		return nil, err
	}
	base, err := filepath.EvalSymlinks(dir)
	if err == nil {
		base, err = filepath.Abs(base)
	}
	if err != nil {
		return nil, err
	}
	if rel, err := filepath.Rel(base, real); err != nil || rel == ".." || strings.HasPrefix(rel, ".."+string(filepath.Separator)) {
		return nil, errors.New("a symbolic link leads outside the config's directory; an included file must be in it")
	}
	fi, err := os.Stat(real)
	if err != nil {
		return nil, err
	}
	if !fi.Mode().IsRegular() {
		return nil, fmt.Errorf("not a regular file (%s)", fi.Mode().Type())
	}
	return os.ReadFile(real)
}

func (e *env) provision(ctx context.Context, o *options) error {
	data, err := os.ReadFile(o.config)
	if err != nil {
		return usagef("reading the config: %w", err)
	}
	var included []string // the CSV files the config includes, which no report may replace
	include := func(path string) ([]byte, error) {
		included = append(included, path)
		return readIncluded(filepath.Dir(o.config), path)
	}
	cfg, err := plan.Parse(o.config, data, plan.Options{App: o.auth == string(auth.App), Include: include})
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
		if samePath(path, included...) {
			return usagef("%s %q would overwrite a CSV file the config includes", flag, path)
		}
		if fi, err := os.Stat(filepath.Dir(path)); err != nil || !fi.IsDir() {
			return usagef("%s %q: its directory does not exist", flag, path)
		}
	}
	if o.metrics != "" && !o.plan && foreignFile(o.metrics) {
		return usagef("--metrics %q is a file that is not a metrics file of provision, and it would be replaced; give the metrics a file of their own", o.metrics)
	}
	cfg.Prune, cfg.PruneMembers, cfg.Caller = o.prune, o.pruneMembers, o.caller
	cfg.MaxDeletions, cfg.MaxRemovals = o.maxDeletions, o.maxRemovals
	if o.plan && !o.refresh {
		if err := callerKnown(o, cfg.Caller); err != nil {
			return err
		}
		// A plan from the record alone: no credentials, no call; but the
		// checks a run makes before its first call, so that a plan never
		// passes where the run would be refused.
		// The credentials are checked for what the run would ask of
		// them (its scopes), not for the plan's reads.
		run := *o
		run.plan = false
		if err := auth.Check(e.authConfig(&run, cfg, nil, nil)); err != nil {
			return usageError{err}
		}
		if err := e.checkGroupsEndpoint(o, cfg); err != nil {
			return err
		}
		f, err := e.loadState(ctx, o, cfg, nil)
		if err != nil {
			return usagef("reading the results file: %w", err)
		}
		// The planner reads the file in place; the plan holds what it
		// needs of it, and the file is let go unless it is exported.
		p := plan.DiffRecords(cfg, apply.Records(f, nil))
		if o.export == "" {
			f = nil
		}
		if err := e.printPlan(o, p); err != nil {
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
		f, err := e.loadState(ctx, o, cfg, creds)
		if err != nil {
			return usagef("reading the results file: %w", err)
		}
		opts := e.options(o, creds, log)
		ref, err := e.refresh(ctx, o, opts, svc, cfg, f)
		if err != nil {
			return e.stoppedReading(err, creds)
		}
		if err := e.printPlan(o, plan.DiffRecords(cfg, apply.Records(f, &ref))); err != nil {
			return err
		}
		return e.export(o, cfg, f)
	}
	store, err := e.openState(ctx, o, cfg, creds)
	if err != nil {
		return err
	}
	// A state that can be lost while the run goes on (a gs:// lease)
	// is asked before every write to Chat; when it is lost, the run
	// stops with that cause.
	actx, stop := context.WithCancelCause(ctx)
	defer stop(nil)
	if c, ok := store.(interface{ Check() error }); ok {
		e.gate.arm(c.Check, stop)
	}
	err = e.applyWith(actx, o, cfg, svc, store, creds, log)
	if cerr := store.Close(); cerr != nil && !(stateLost(cerr) && stateLost(err)) {
		// (A state lost mid-run was said when the run stopped.)
		fmt.Fprintf(e.stderr, "provision: the results file: %s\n", auth.Redact(cerr.Error()))
		switch {
		case stateLost(cerr):
			err = e.fatal(cerr)
		case err == nil:
			err = errFailed{}
		}
	}
	if o.export != "" {
		// The list as the run left it, whatever its outcome.
		f, lerr := e.loadState(ctx, o, cfg, creds)
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
	return plan.WriteTextOptions(e.stdout, p, plan.TextOptions{Verbose: o.verbose, Admin: o.admin})
}

// refresh reads every recorded space (and, where the config manages
// members, its members) for --refresh, showing progress.
func (e *env) refresh(ctx context.Context, o *options, opts apply.Options, svc *chat.Service, cfg *plan.Config, f *results.File) (apply.Refreshed, error) {
	// The config's members of each recorded space, by its key, as the
	// planner pairs them.
	members := make(map[string][]string)
	for i, k := range plan.MatchRecords(cfg.Spaces, apply.Records(f, nil)) {
		if k != "" {
			members[k] = cfg.Spaces[i].Members
		}
	}
	targets := make(map[string]apply.Target)
	for k, en := range f.Spaces {
		if en.Name == "" || (en.Status != results.Created && en.Status != results.Existing && en.Status != results.Unreachable) {
			continue
		}
		// An unreachable space is read again: readable, it is what it was.
		was := en.Status
		if was == results.Unreachable {
			was = en.Was
		}
		t := apply.Target{Name: en.Name, Members: members[k], Admin: o.admin && was == results.Existing, Principal: en.Principal}
		if en.Applied != nil {
			t.IDs = en.Applied.IDs
		}
		targets[k] = t
	}
	// A line every tick, saying how far it is and whether the server's
	// quota holds it.
	var done atomic.Int64
	stopTicking := e.tickReads(opts.Reads, func() string {
		return fmt.Sprintf("refresh: %d/%d recorded spaces read", done.Load(), len(targets))
	})
	ref, err := apply.Refresh(ctx, svc, targets, opts, func(n, _ int) { done.Store(int64(n)) })
	stopTicking()
	if err != nil {
		return ref, err
	}
	fmt.Fprintf(e.stderr, "refresh: %s read, %d deleted since the last run, %d answering 404 or 403 to you, %d out of your sight (found by an administrator's read)\n",
		count(len(targets), "recorded space", "recorded spaces"), len(ref.Gone), len(ref.Lost), len(ref.Unreachable))
	if n := len(ref.Gone) + len(ref.Lost); n > 1 && n == len(targets) {
		fmt.Fprintf(e.stderr, "warning: every recorded space answered 404 or 403; if that is not what happened in Chat, check --endpoint and the credentials before applying\n")
	}
	if len(ref.Lost) > 0 && !o.admin {
		// Once per run: the plan names each space.
		fmt.Fprintf(e.stderr, "warning: %s answered 404 or 403 to you: deleted, or you were removed from %s. None is deleted or taken for deleted: the run creates each again only if its name is free, and otherwise keeps it as unreachable. Run with --admin to tell which by an administrator's read\n",
			count(len(ref.Lost), "recorded space", "recorded spaces"), plural(len(ref.Lost), "it", "them"))
	}
	return ref, nil
}

func (e *env) applyWith(ctx context.Context, o *options, cfg *plan.Config, svc *chat.Service, store results.Handle, creds *auth.Credentials, log *slog.Logger) error {
	opts := e.options(o, creds, log)
	rec := countingRecorder{Handle: store, done: &e.recorded}
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
				if err := rec.Record(results.Event{Space: k, Member: m, ID: id}); err != nil {
					return e.stopped(fmt.Errorf("recording %q: %w", k, err), creds)
				}
			}
		}
		ref = &r
		opts.Refreshed = ref
	}
	// The plan, from the state read in place rather than from a copy
	// of it (nothing records until the run starts).
	var p *plan.Plan
	store.View(func(f *results.File) {
		opts.RecordedGroups = apply.RecordedGroups(f)
		p = plan.DiffRecords(cfg, apply.Records(f, ref))
	})
	if !o.json {
		if err := plan.WriteTextOptions(e.stdout, p, plan.TextOptions{Verbose: o.verbose, Admin: o.admin}); err != nil {
			return err
		}
	}
	prog := newProgress(e, p, map[string]*apply.Limiter{"space writes": opts.Spaces, "membership writes": opts.Members, "reads": opts.Reads})
	prog.callerUnknown = opts.Caller == "" && !opts.App
	opts.OnDone = prog.done
	opts.OnWarning = prog.warning
	sum, err := apply.Run(ctx, svc, rec, p, opts)
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
	case sum.DeletionsWithheld > 0 || sum.RemovalsWithheld > 0:
		// Said in the summary: a person must look before they go.
		return errFailed{}
	}
	return nil
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
