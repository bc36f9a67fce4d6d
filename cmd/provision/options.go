package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"math"
	"net/url"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"provision/internal/apply"
	"provision/internal/auth"
	"provision/internal/plan"
	"provision/internal/results"
)

// options is the command line, parsed and checked; nothing in it has been
// acted on yet.
type options struct {
	config         string
	results        string
	plan           bool
	json           bool
	endpoint       string
	groupsEndpoint string // Cloud Identity, for group:EMAIL members
	auth           string
	credentials    string
	subject        string
	customer       string
	caller         string
	tokenCache     string
	rate           float64 // space writes per minute; 0 = no client-side limit
	memberRate     float64 // membership writes per minute; 0 = no limit
	concurrency    int
	maxAttempts    int
	timeout        time.Duration
	maxWait        time.Duration // longest wait for the server's quota to come back
	adopt          bool
	refresh        bool
	version        bool   // print the version and exit
	metrics        string // Prometheus text file written at the end
	export         string // CSV or Markdown list of the config's spaces
	prune          bool   // delete orphans this tool created
	pruneMembers   bool   // remove members no longer in the config
	maxDeletions   int    // most spaces --prune deletes in a run; over it, none
	maxRemovals    int    // most members --prune-members removes in a run; over it, none
	admin          bool   // use the caller's administrator privilege
	verbose        bool
	logFormat      string        // text or json (logformat.go)
	importing      bool          // provision import FILE
	query          string        // import: only spaces whose display name matches
	lockLease      time.Duration // lease of a gs:// state's lock
}

// usageError is a problem with the command line or the inputs it names;
// main maps it to exit status 2.
type usageError struct{ err error }

func (e usageError) Error() string { return e.err.Error() }
func (e usageError) Unwrap() error { return e.err }

func usagef(format string, args ...any) error {
	return usageError{fmt.Errorf(format, args...)}
}

var authModes = []string{"user", "service-account", "app", "adc", "token", "none"}

const usageText = `Usage: provision [flags] [CONFIG]
       provision import [flags] FILE

Creates the Google Chat named spaces listed in CONFIG (default spaces.yaml;
a .csv file is read as CSV) and records each one's ID and URL in the results
file, which later runs read to skip what is done. Run with --plan first to
see what would happen.

provision import writes FILE, a new YAML config, and its results file from
the named spaces you own or manage (with --admin, the organization's), so
that they are managed from then on; it never overwrites a file.

Flags:
`

const exitText = `
Exit status:
  0    every space in the file is present (created now or before)
  1    at least one space failed (see the results file and stderr), or the
       run stopped waiting for the server's quota (nothing failed; run again),
       or deletions or member removals were withheld (the summary says why)
  2    refused before any write: usage, config or credentials error, or
       another run holds the lock; nothing was applied
  3    stopped mid-way by a fatal condition (the lock lost, the results
       directory moved, the credentials refused after the run began
       writing): what was done is recorded; a person must look
  130  interrupted; everything that finished is recorded, run again to resume
`

// parseArgs turns the command line into options. It is pure: it reads no
// file and no environment, so it can be tested as a table. A refused
// command line still returns the options read so far, so that the run's
// metrics can say it was refused (--metrics, once read).
func parseArgs(args []string, help io.Writer) (*options, error) {
	o := &options{}
	if len(args) > 0 && args[0] == "import" {
		o.importing, args = true, args[1:]
	}
	fs := flag.NewFlagSet("provision", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.BoolVar(&o.plan, "plan", false, "dry run: print the plan and exit; nothing written, and no API call but the reads of --refresh")
	fs.BoolVar(&o.json, "json", false, "print the plan (with --plan) or the run summary as JSON on stdout")
	fs.StringVar(&o.results, "results", "", "results `FILE`, read as state and written as output (default CONFIG with extension .results.json)")
	fs.StringVar(&o.endpoint, "endpoint", "https://chat.googleapis.com/", "Chat API base `URL` (an emulator, a proxy)")
	fs.StringVar(&o.groupsEndpoint, "groups-endpoint", "https://cloudidentity.googleapis.com/", "Cloud Identity API base `URL`, to resolve members named group:EMAIL")
	fs.StringVar(&o.auth, "auth", "adc", "authentication `MODE`: "+strings.Join(authModes, ", "))
	fs.StringVar(&o.credentials, "credentials", "", "OAuth client secrets (user) or service-account key (service-account, app) `FILE`")
	fs.StringVar(&o.subject, "subject", "", "user `EMAIL` to impersonate with domain-wide delegation (service-account)")
	fs.StringVar(&o.customer, "customer", "customers/my_customer", "customer `ID` set on each space under app authentication")
	fs.StringVar(&o.caller, "caller", "", "your own `EMAIL`: the API adds the caller to every space it creates, so it is left out of member lists (default --subject, or the signed-in user's email)")
	fs.StringVar(&o.tokenCache, "token-cache", "", "where --auth user caches its token (`FILE`, mode 0600; default in the user config directory)")
	fs.Float64Var(&o.rate, "rate", 30, "space writes per minute, retries included; 0 means no client-side limit")
	fs.Float64Var(&o.memberRate, "member-rate", 300, "membership writes per minute; 0 means no limit")
	fs.IntVar(&o.concurrency, "concurrency", 4, "requests in flight at once")
	fs.IntVar(&o.maxAttempts, "max-attempts", 6, "attempts per call, the first one included")
	fs.DurationVar(&o.timeout, "timeout", 30*time.Second, "per-call timeout")
	fs.DurationVar(&o.maxWait, "max-wait", apply.DefaultThrottle.MaxWait, "the longest the run waits for the server's quota to come back before it stops (exit 1, nothing failed); the default outlasts the hourly cap on creating spaces")
	fs.BoolVar(&o.adopt, "adopt", false, "as adopt: true on every space: a space of that name that already exists is taken over if you are its owner or manager (with --admin: whatever your role, said for each)")
	fs.BoolVar(&o.refresh, "refresh", false, "read the recorded spaces (and, where members are managed, their members) before planning, so changes made in Chat show up and are corrected; with --plan, reads only")
	fs.BoolVar(&o.version, "version", false, "print the version (module version, VCS revision, Go version) and exit")
	fs.StringVar(&o.metrics, "metrics", "", "write the run's metrics to `FILE` in the Prometheus text format (node_exporter's textfile collector), atomically")
	fs.StringVar(&o.export, "export", "", "write a list of the config's spaces (name, URL, status, members, owners) to `FILE`: .csv, or .md for a Markdown table; with --plan, from the results file alone")
	fs.BoolVar(&o.prune, "prune", false, "delete the spaces this tool created (never adopted ones) that the config no longer lists")
	fs.BoolVar(&o.pruneMembers, "prune-members", false, "remove members this tool added that the config no longer lists (with --refresh: every member not in the config, but you and Chat apps)")
	fs.IntVar(&o.maxDeletions, "max-deletions", plan.DefaultMaxDeletions, "the most spaces --prune deletes in a run: a plan that would delete more deletes none (exit 1); 0 allows none, a large number lifts the bound")
	fs.IntVar(&o.maxRemovals, "max-removals", plan.DefaultMaxRemovals, "the most members --prune-members removes in a run, over all spaces: a plan that would remove more removes none (exit 1); 0 allows none, a large number lifts the bound")
	fs.BoolVar(&o.admin, "admin", false, "use your Workspace administrator privilege where the API allows it: find spaces anywhere in the organization, manage spaces you are not in")
	fs.StringVar(&o.query, "query", "", "import: only the spaces whose display name matches `TEXT` (each word the start of a word of the name, case apart)")
	fs.DurationVar(&o.lockLease, "lock-lease", results.DefaultLease, "with --results gs://…: how long the lock holds without being renewed (it is renewed every third of it); a run that dies holds it that long at most")
	fs.BoolVar(&o.verbose, "v", false, "debug logging on stderr: each call, attempt and wait (never a credential)")
	fs.StringVar(&o.logFormat, "log-format", "text", "`FORMAT` of stderr: text, or json (one object a line, with Cloud Logging's severity and message)")

	// Flags may come after the config too (provision spaces.yaml --plan):
	// parse again after each positional argument.
	var pos []string
	for rest := args; ; {
		if err := fs.Parse(rest); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				printUsage(help, fs)
				return nil, flag.ErrHelp
			}
			return o, usageError{err}
		}
		if fs.NArg() == 0 {
			break
		}
		pos = append(pos, fs.Arg(0))
		rest = fs.Args()[1:]
	}
	switch {
	case o.importing && len(pos) != 1:
		return o, usagef("provision import FILE: one file to write expected, got %d arguments", len(pos))
	case len(pos) == 0:
		o.config = "spaces.yaml"
	case len(pos) == 1:
		o.config = pos[0]
	default:
		return o, usagef("one config file expected, got %d arguments: %q", len(pos), pos)
	}
	if o.config == "" {
		return o, usagef("the config file name is empty")
	}
	if o.results == "" {
		o.results = strings.TrimSuffix(o.config, filepath.Ext(o.config)) + ".results.json"
	}
	if err := o.check(); err != nil {
		return o, usageError{err}
	}
	if err := o.checkImport(); err != nil {
		return o, usageError{err}
	}
	return o, nil
}

func (o *options) check() error {
	if err := checkRate("--rate", o.rate); err != nil {
		return err
	}
	if err := checkRate("--member-rate", o.memberRate); err != nil {
		return err
	}
	switch {
	case o.concurrency < 1 || o.concurrency > 256:
		return fmt.Errorf("--concurrency must be between 1 and 256, got %d", o.concurrency)
	case o.maxAttempts < 1 || o.maxAttempts > 100:
		return fmt.Errorf("--max-attempts must be between 1 and 100, got %d", o.maxAttempts)
	case o.timeout <= 0:
		return fmt.Errorf("--timeout must be positive, got %v", o.timeout)
	case o.maxWait < time.Second || o.maxWait > 7*24*time.Hour:
		return fmt.Errorf("--max-wait must be between 1s and 168h, got %v", o.maxWait)
	case o.lockLease < 3*time.Second || o.lockLease > time.Hour:
		return fmt.Errorf("--lock-lease must be between 3s and 1h, got %v", o.lockLease)
	case samePath(o.results, o.config):
		return fmt.Errorf("--results %q would overwrite the config file", o.results)
	case o.export != "" && !slices.Contains([]string{".csv", ".md", ".markdown"}, strings.ToLower(filepath.Ext(o.export))):
		return fmt.Errorf("--export %q: the file name must end in .csv, or .md for a Markdown table", o.export)
	case o.export != "" && samePath(o.export, o.config, o.results, o.results+".journal", o.results+".lock"):
		return fmt.Errorf("--export %q would overwrite the config or the results file", o.export)
	case o.metricsClash():
		return fmt.Errorf("--metrics %q would overwrite another file of the run", o.metrics)
	case o.maxDeletions < 0:
		return fmt.Errorf("--max-deletions must be 0 (none allowed) or more, got %d", o.maxDeletions)
	case o.maxRemovals < 0:
		return fmt.Errorf("--max-removals must be 0 (none allowed) or more, got %d", o.maxRemovals)
	case o.admin && o.auth == "app":
		return errors.New("--admin is a Workspace administrator's privilege; a Chat app (--auth app) has none")
	}
	if !slices.Contains(logFormats, o.logFormat) {
		return fmt.Errorf("--log-format %q is not a format; use one of %s", o.logFormat, strings.Join(logFormats, ", "))
	}
	if results.IsRemote(o.results) {
		if _, err := results.ParseRemote(o.results); err != nil {
			return fmt.Errorf("--results: %w", err)
		}
		if o.importing {
			return fmt.Errorf("provision import writes its results file on local disk, not in a bucket: import without --results %s, then copy the file there (gcloud storage cp FILE %s) before the first run", o.results, o.results)
		}
	}
	if !slices.Contains(authModes, o.auth) {
		return fmt.Errorf("--auth %q is not a mode; use one of %s", o.auth, strings.Join(authModes, ", "))
	}
	if o.subject != "" && o.auth != "service-account" && o.auth != "adc" {
		return fmt.Errorf("--subject is for --auth service-account (or adc with a service-account key), not %q", o.auth)
	}
	if !strings.HasPrefix(o.customer, "customers/") || len(o.customer) == len("customers/") {
		return fmt.Errorf("--customer %q must look like customers/ID (or customers/my_customer)", o.customer)
	}
	if o.caller == "" {
		o.caller = o.subject
	}
	if o.caller != "" {
		if name, why := plan.Member(o.caller); why != "" || !strings.HasPrefix(name, "users/") {
			return fmt.Errorf("--caller %q is not a user's email or users/ID", o.caller)
		} else {
			o.caller = name
		}
	}
	u, err := url.Parse(o.endpoint)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return fmt.Errorf("--endpoint %q is not an http(s) URL", auth.RedactURL(o.endpoint))
	}
	if err := auth.CheckPort(u); err != nil {
		return fmt.Errorf("--endpoint %q: %v", auth.RedactURL(o.endpoint), err)
	}
	if !strings.HasSuffix(o.endpoint, "/") {
		o.endpoint += "/"
	}
	g, err := url.Parse(o.groupsEndpoint)
	if err != nil || (g.Scheme != "http" && g.Scheme != "https") || g.Host == "" {
		return fmt.Errorf("--groups-endpoint %q is not an http(s) URL", auth.RedactURL(o.groupsEndpoint))
	}
	if err := auth.CheckPort(g); err != nil {
		return fmt.Errorf("--groups-endpoint %q: %v", auth.RedactURL(o.groupsEndpoint), err)
	}
	if !strings.HasSuffix(o.groupsEndpoint, "/") {
		o.groupsEndpoint += "/"
	}
	return nil
}

// samePath says whether path names one of others, however each is spelt
// (./spaces.yaml and spaces.yaml, a relative and an absolute path): by
// their cleaned absolute paths, so that a file not yet made is compared too.
func samePath(path string, others ...string) bool {
	abs := func(p string) string {
		if a, err := filepath.Abs(p); err == nil {
			return a
		}
		return filepath.Clean(p)
	}
	if path == "" {
		return false
	}
	p := abs(path)
	for _, o := range others {
		if o != "" && abs(o) == p {
			return true
		}
	}
	return false
}

// metricsClash says whether --metrics names another file of the run: the
// config, the results file, its journal or its lock, the export.
func (o *options) metricsClash() bool {
	if o.metrics == "" {
		return false
	}
	others := []string{o.config, o.export}
	if o.results != "" {
		others = append(others, o.results, o.results+".journal", o.results+".lock")
	}
	return samePath(o.metrics, others...)
}

// minRate is the least rate a run may be paced at, a call a day: below it
// a run could never finish.
const minRate = 1.0 / (24 * 60)

// checkRate refuses a per-minute rate that is not 0 (no limit) or a
// finite number of at least one a day.
func checkRate(flag string, v float64) error {
	switch {
	case math.IsNaN(v) || math.IsInf(v, 0):
		return fmt.Errorf("%s must be a number, got %v", flag, v)
	case v < 0:
		return fmt.Errorf("%s must be 0 (no limit) or more, got %v", flag, v)
	case v > 0 && v < minRate:
		return fmt.Errorf("%s %v is under one call a day: a run could never finish; use at least %.5f (per minute), or 0 for no limit", flag, v, minRate)
	}
	return nil
}

func printUsage(w io.Writer, fs *flag.FlagSet) {
	fmt.Fprint(w, usageText)
	fs.SetOutput(w)
	fs.PrintDefaults()
	fs.SetOutput(io.Discard)
	fmt.Fprint(w, exitText)
}
