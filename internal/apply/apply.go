// Package apply carries out a plan against the Chat API: workers, limiters,
// retries, and the classification of API errors. It records every step
// through a Recorder before and after each write, so that no run, however
// it ends, can create a space twice or lose one it created.
package apply

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	chat "google.golang.org/api/chat/v1"
	cloudidentity "google.golang.org/api/cloudidentity/v1"

	"provision/internal/plan"
	"provision/internal/results"
)

// Recorder is the durable state of a run. Record must not return before the
// event would survive a crash: a requestId is recorded before its call.
type Recorder interface {
	Entry(key string) *results.Entry
	Record(results.Event) error
}

// Options tune a run. Zero values get the defaults of the command line.
type Options struct {
	Concurrency int
	MaxAttempts int
	Timeout     time.Duration
	// Spaces, Members, Reads and Messages pace the quota classes; nil
	// means unlimited.
	Spaces, Members, Reads, Messages *Limiter
	// App is app authentication: spaces carry Customer, setup is not
	// available, so members are added one by one.
	App      bool
	Customer string
	// Caller is the caller's own user (users/EMAIL). The API adds the caller
	// to every space it creates, so it is never sent as a member; adoption
	// checks the caller's role.
	Caller string
	// Principal is who the calls act as, recorded with each requestId:
	// the caller, or the Chat app under app authentication. "" when
	// unknown.
	Principal string
	// Backoff bounds the waits between attempts after transient failures.
	Backoff Backoff
	// Throttle is the waiting policy when the server throttles (zero
	// fields: DefaultThrottle's).
	Throttle Throttle
	// Redact takes secrets (access tokens, an endpoint's password) out of
	// every message the API sends back before it is logged, printed or
	// recorded; nil leaves messages as they are.
	Redact func(string) string
	// Groups resolves members named group:EMAIL (Cloud Identity); nil when
	// the config names no group by email.
	Groups *cloudidentity.Service
	// RecordedGroups are the groups/IDs the results file records for
	// groups named by email, whichever space recorded them
	// (RecordedGroups), so that a space naming a known group does not
	// look it up again.
	RecordedGroups map[string]string
	// Refreshed is what a Refresh read before this run, if one did: its
	// lists of members give the names removals delete by, so that a space
	// is not listed twice.
	Refreshed *Refreshed
	// Admin uses the caller's administrator privilege where the API allows
	// it (useAdminAccess=true: gets, lists, patches but of history and
	// audience, member changes, deletes; spaces.search to adopt).
	Admin  bool
	Logger *slog.Logger
	// Now is the clock for recorded times.
	Now func() time.Time
	// OnDone is called once per space as it finishes, from the workers.
	OnDone func(Outcome)
	// OnWarning is told, from the workers, what a space's run kept as it
	// was though the plan asked otherwise (your own role); nil logs it.
	OnWarning func(key, msg string)
}

// Backoff bounds the waits between attempts.
type Backoff struct{ Base, Cap time.Duration }

// ErrStopped is returned when a run stops on its own before the end: an
// authentication failure that would fail every call, or a state file that
// cannot be written.
var ErrStopped = errors.New("run stopped")

// DeniedError is a 401 or 403 that stopped the run: the credentials, their
// scopes or the Chat app's configuration are wrong, not one space.
type DeniedError struct {
	Code    int
	Message string
	// Advice, when set, says what to do; otherwise the credentials' own
	// hint for Code applies.
	Advice string
}

func (e *DeniedError) Error() string {
	if e.Advice != "" {
		return fmt.Sprintf("the Chat app is not configured (HTTP %d): %s", e.Code, e.Message)
	}
	return fmt.Sprintf("the API refused the credentials (HTTP %d): %s", e.Code, e.Message)
}

type runner struct {
	svc   *chat.Service
	rec   Recorder
	opts  Options
	log   *slog.Logger
	stats struct {
		spaceWrites, memberWrites, reads, retries, throttled atomic.Int64

		membersAdded, membersInvited, membersFailed, membersMissing, rolesSet atomic.Int64
		membersRemoved, patches, spacesDeleted, welcomes, messageWrites       atomic.Int64
		renamed                                                               atomic.Int64
	}
	anyOK atomic.Bool

	stop     context.CancelCauseFunc
	adoptMu  sync.Mutex
	adoptIdx map[plan.Key][]*chat.Space // KeyOf of a display name → the caller's spaces with it

	callerMu  sync.Mutex
	callerIDv string // the caller's users/ID, once a refresh learnt it

	groups groupCache // group emails resolved in this run

	adopted sync.Map // key → []plan.Patch: what a space adopted in this run lacks

	// claims maps each space the plan or this run records to its key
	// (claimed): one space is never recorded under two keys, and a space
	// another key holds is never deleted.
	claimsMu sync.Mutex
	claims   map[string]string

	callsMu   sync.Mutex
	calls     map[string]map[int]int // method → HTTP status (0: no answer) → attempts
	pausedTo  map[*Limiter]time.Time // how far each limiter's pauses are counted
	quotaWait time.Duration          // time held by the server's quota
}

func newRunner(svc *chat.Service, rec Recorder, o Options) *runner {
	if o.Concurrency < 1 {
		o.Concurrency = 4
	}
	if o.MaxAttempts < 1 {
		o.MaxAttempts = 6
	}
	if o.Timeout <= 0 {
		o.Timeout = 30 * time.Second
	}
	if o.Backoff.Base <= 0 {
		o.Backoff.Base = time.Second
	}
	if o.Backoff.Cap <= 0 {
		o.Backoff.Cap = 32 * time.Second
	}
	if o.Spaces == nil {
		o.Spaces = NewLimiter(0)
	}
	if o.Members == nil {
		o.Members = NewLimiter(0)
	}
	if o.Reads == nil {
		o.Reads = NewLimiter(0)
	}
	if o.Messages == nil {
		o.Messages = NewLimiter(0)
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Customer == "" {
		o.Customer = "customers/my_customer"
	}
	if o.Redact == nil {
		o.Redact = func(s string) string { return s }
	}
	o.Spaces.setup("space writes", o.Throttle)
	o.Members.setup("membership writes", o.Throttle)
	o.Reads.setup("reads", o.Throttle)
	o.Messages.setup("message writes", o.Throttle)
	log := o.Logger
	if log == nil {
		log = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	return &runner{svc: svc, rec: rec, opts: o, log: log}
}

// Run creates, retries and updates the spaces of p, Concurrency at a time,
// then deletes those p deletes, unless something else failed (withhold.go).
// It returns when every space is done or ctx is cancelled (calls in flight
// then finish, bounded by Timeout, and are recorded). The error is nil, or
// wraps ErrStopped (a *DeniedError, or a Recorder failure) or ctx's error.
func Run(ctx context.Context, svc *chat.Service, rec Recorder, p *plan.Plan, o Options) (*Summary, error) {
	start := time.Now()
	r := newRunner(svc, rec, o)
	ctx, stop := context.WithCancelCause(ctx)
	defer stop(nil)
	r.stop = stop

	var sum Summary
	r.claims = make(map[string]string, len(p.Items))
	for _, it := range p.Items {
		for _, name := range []string{it.Name, it.PreviousName} {
			if _, ok := r.claims[name]; name != "" && !ok {
				r.claims[name] = key(it)
			}
		}
	}
	for _, it := range p.Items {
		switch it.Action {
		case plan.Create, plan.Retry, plan.Update, plan.Delete:
			sum.Planned++
		case plan.Exists:
			sum.Skipped++
		case plan.Unreachable:
			sum.Unreachable++
		}
	}
	// What the plan found with no call to make: settings already in place
	// (a record from before settings were kept, or a refresh that found
	// the space as the config says), so that later drift shows; a space
	// out of the caller's sight, or in it again. Recorded without a call.
	for _, it := range p.Items {
		if !r.recordFound(it) {
			break
		}
	}
	// Deletions come last, once everything else is done, and only if
	// nothing else failed (withhold.go). Items are handed out by index: a
	// copy of each (an Item holds its Space) would double the plan's
	// memory for a run of many spaces.
	var rest, deletes []int
	for i := range p.Items {
		switch p.Items[i].Action {
		case plan.Create, plan.Retry, plan.Update:
			rest = append(rest, i)
		case plan.Delete:
			deletes = append(deletes, i)
		}
	}
	failed := r.work(ctx, p, rest, &sum)
	notRun := 0 // Delete items not handed to a worker, and not interrupted
	switch why := r.withhold(ctx, failed); {
	case p.Guard.DeletionsWithheld:
		// The planner has made them orphans; should any reach here as
		// deletes, they are not run either.
		notRun = len(deletes)
		sum.DeletionsWithheld, sum.DeletionsWithheldReason = p.Guard.Deletions, p.Guard.DeletionsMessage()
	case len(deletes) > 0 && why != "":
		notRun = len(deletes)
		sum.DeletionsWithheld = len(deletes)
		sum.DeletionsWithheldReason = fmt.Sprintf("%s not deleted: --prune deletes only once everything else in the run has succeeded, and %s",
			plural(len(deletes), "space", "spaces"), why)
	default:
		r.work(ctx, p, deletes, &sum)
	}
	if p.Guard.RemovalsWithheld {
		sum.RemovalsWithheld, sum.RemovalsWithheldReason = p.Guard.Removals, p.Guard.RemovalsMessage()
	}
	// Items never handed to a worker are interrupted too.
	sum.Interrupted = sum.Planned - sum.Created - sum.Existing - sum.Updated - sum.Deleted - sum.Failed - notRun
	sum.Renamed = int(r.stats.renamed.Load())
	sum.SpaceWrites = r.stats.spaceWrites.Load()
	sum.MessageWrites = r.stats.messageWrites.Load()
	sum.MemberWrites = r.stats.memberWrites.Load()
	sum.Reads = r.stats.reads.Load()
	sum.Retries = r.stats.retries.Load()
	sum.Throttled = r.stats.throttled.Load()
	sum.MembersAdded = int(r.stats.membersAdded.Load())
	sum.MembersInvited = int(r.stats.membersInvited.Load())
	sum.MembersFailed = int(r.stats.membersFailed.Load())
	sum.MembersMissing = int(r.stats.membersMissing.Load())
	sum.RolesSet = int(r.stats.rolesSet.Load())
	sum.MembersRemoved = int(r.stats.membersRemoved.Load())
	sum.SettingsPatched = int(r.stats.patches.Load())
	sum.WelcomesPosted = int(r.stats.welcomes.Load())
	sum.Elapsed = time.Since(start)
	sum.Calls, sum.QuotaWait = r.tally()

	if cause := context.Cause(ctx); cause != nil && !errors.Is(cause, context.Canceled) {
		// Stopped by the run itself (credentials refused, quota gone,
		// state unwritable), not by an interrupt.
		return &sum, cause
	}
	return &sum, ctx.Err()
}

// work hands the items of p at the indices given to Concurrency workers
// (less the member removals the plan withholds from those not deleted) and returns when they are
// all done, or when ctx is cancelled (items not handed out yet are left).
// It returns how many of the items failed, wholly or in part.
func (r *runner) work(ctx context.Context, p *plan.Plan, items []int, sum *Summary) (failed int) {
	if len(items) == 0 {
		return 0
	}
	var mu sync.Mutex
	todo := make(chan plan.Item)
	var wg sync.WaitGroup
	for range r.opts.Concurrency {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for it := range todo {
				out := r.apply(ctx, it)
				mu.Lock()
				sum.add(out)
				if out.Err != nil || out.Entry.Status == results.Failed {
					failed++
				}
				mu.Unlock()
				if r.opts.OnDone != nil {
					r.opts.OnDone(out)
				}
			}
		}()
	}
feed:
	for _, i := range items {
		it := p.Items[i]
		if it.Action != plan.Delete {
			it = withoutRemovals(p, it)
		}
		select {
		case todo <- it:
		case <-ctx.Done():
			break feed
		}
	}
	close(todo)
	wg.Wait()
	return failed
}

// key is the results entry of an item: the one already recorded, if any.
func key(it plan.Item) string {
	if it.RecordedKey != "" {
		return it.RecordedKey
	}
	return it.Key
}

// record makes an event durable, and stops the run if it cannot: a run
// that cannot record what it does must not go on doing it.
func (r *runner) record(ev results.Event) error {
	if err := r.rec.Record(ev); err != nil {
		// results names the space already.
		err = fmt.Errorf("%w: %w", ErrStopped, err)
		r.stop(err)
		return err
	}
	return nil
}

func (r *runner) count(method string) {
	switch {
	case method == "spaces.create" || method == "spaces.setup" || method == "spaces.patch" || method == "spaces.delete":
		r.stats.spaceWrites.Add(1)
	case method == "members.create" || method == "members.patch" || method == "members.delete":
		r.stats.memberWrites.Add(1)
	case method == "messages.create":
		r.stats.messageWrites.Add(1)
	default:
		r.stats.reads.Add(1)
	}
}

// apply brings one space to its planned state.
func (r *runner) apply(ctx context.Context, it plan.Item) Outcome {
	out := Outcome{Key: it.Key, Action: it.Action}
	if ctx.Err() != nil {
		out.Interrupted = true
		return out
	}
	if it.Action == plan.Delete {
		return r.deleteSpace(ctx, it)
	}
	if it.Blocked != "" {
		out.Err = errors.New(it.Blocked)
		out.Entry.Status = results.Failed
		return out
	}
	k := key(it)
	var entry results.Entry
	toAdd := it.AddMembers
	if it.Action == plan.Update {
		if it.Reachable {
			if err := r.reachable(it); err != nil {
				out.Err, out.Interrupted = err, true
				return out
			}
		}
		if it.Rename != nil {
			// First, and alone if refused: a space that cannot take its
			// new name is changed in nothing else.
			if err := r.rename(ctx, k, it); err != nil {
				if e := r.rec.Entry(k); e != nil {
					out.Entry = *e
				}
				out.Err = err
				out.Interrupted = isStop(ctx, err)
				return out
			}
		}
		if it.RecordSettings != nil {
			if err := r.record(results.Event{Space: k, Settings: it.RecordSettings.Map()}); err != nil {
				out.Err, out.Interrupted = err, true
				return out
			}
		}
		if err := r.regroup(k, it.Groups, toAdd); err != nil {
			out.Err, out.Interrupted = err, true
			return out
		}
		if e := r.rec.Entry(k); e != nil {
			entry = *e
		}
		if (entry.Applied == nil || len(entry.Applied.Members) == 0) && entry.Members != nil && len(entry.Members.Pending) > 0 {
			// An earlier run created the space with setup but stopped
			// before checking its members: one list now spares a write per
			// member that setup already added.
			if err := r.verifySetup(ctx, k, &entry, entry.Members.Pending); err != nil {
				out.Entry, out.Err = entry, err
				out.Interrupted = isStop(ctx, err)
				return out
			}
			toAdd = without(toAdd, entry.Applied.Members)
		}
	} else {
		var tried []string
		var err error
		entry, tried, err = r.createSpace(ctx, k, it)
		if err != nil || entry.Status == results.Failed || entry.Status == results.Unreachable {
			out.Entry, out.Err = entry, err
			out.Interrupted = isStop(ctx, err)
			return out
		}
		// Members setup skipped are reported as missing and left for the
		// next run, which adds them one by one and records the API's reason
		// if it refuses.
		toAdd = without(toAdd, tried)
		if p, ok := r.adopted.LoadAndDelete(k); ok {
			// An adopted space: its settings as the config states, now,
			// rather than the create's (which did not happen).
			it.Patches = p.([]plan.Patch)
		}
	}
	err := r.members(ctx, k, &entry, toAdd, it.Roles)
	if err == nil || !isStop(ctx, err) {
		err = errors.Join(err, r.converge(ctx, k, &entry, it))
	}
	out.Entry, out.Err = entry, err
	// A space created before the stop counts as created; its unfinished
	// members are recorded as pending, for the next run.
	out.Interrupted = isStop(ctx, err) && it.Action == plan.Update
	if isStop(ctx, err) {
		out.Err = nil
	}
	return out
}

// admin tells whether calls about the entry's space use the caller's
// administrator privilege: with --admin, for spaces adopted (which the
// caller may not be in), never for spaces the caller created and is in,
// where administrator access would only add its limits (no users outside
// the organization: DD, members.create useAdminAccess).
func (r *runner) admin(entry *results.Entry) bool {
	return r.opts.Admin && entry.Status == results.Existing
}

// converge makes the rest of the space match the config once its members
// are in: members removed (--prune-members), then settings patched. It
// returns the first failure; a stop is returned as such.
func (r *runner) converge(ctx context.Context, k string, entry *results.Entry, it plan.Item) error {
	if entry.Name == "" || (len(it.RemoveMembers) == 0 && len(it.Patches) == 0 && !it.Welcome) {
		return nil
	}
	err := r.removeMembers(ctx, k, entry, it.RemoveMembers, it.Space.Members)
	if isStop(ctx, err) {
		return err
	}
	last, perr := r.patch(ctx, k, entry, it.Space.Settings, it.Patches)
	if isStop(ctx, perr) {
		return perr
	}
	var werr error
	if it.Welcome {
		// Last: the space is as the config says when the team reads it.
		if werr = sincePatch(ctx, last); werr == nil {
			werr = r.postWelcome(ctx, k, entry, *it.Space)
		}
		if isStop(ctx, werr) {
			return werr
		}
	}
	if cur := r.rec.Entry(k); cur != nil {
		*entry = *cur
	}
	return errors.Join(err, perr, werr)
}

// isStop tells whether err is the run being stopped rather than a failure
// of the space itself.
func isStop(ctx context.Context, err error) bool {
	return err != nil && ctx.Err() != nil && (errors.Is(err, context.Canceled) || errors.Is(err, ErrStopped) ||
		errors.Is(err, ErrQuotaWait) || errors.Is(err, context.Cause(ctx)))
}

// fatal stops the run on a space write refused in a way that will refuse
// every call: a 401, a 403 before any space write has succeeded (wrong
// scopes), or the answer that the Chat app is not configured.
func (r *runner) fatal(e *apiError) {
	switch {
	case e.kind == noApp:
		r.stop(fmt.Errorf("%w: %w", ErrStopped, &DeniedError{Code: e.code, Message: e.Error(), Advice: noAppAdvice}))
	case e.kind != denied || (e.code == 403 && r.anyOK.Load()):
	default:
		r.stop(fmt.Errorf("%w: %w", ErrStopped, &DeniedError{Code: e.code, Message: e.Error()}))
	}
}

const noAppAdvice = "The Google Cloud project of these credentials has no Chat app configured. Open Google Chat API → Configuration in the Cloud console of that project, give the app a name, avatar and description, and save; then run again."

// unauthenticated stops the run on a 401 (or a missing Chat app) from a
// membership call or a read. A 403 there is about one member or space (one
// the caller may not add or see), not the run.
func (r *runner) unauthenticated(e *apiError) {
	if (e.kind == denied && e.code == 401) || e.kind == noApp {
		r.fatal(e)
	}
}
