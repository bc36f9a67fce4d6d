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
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/google/uuid"
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
	// Admin uses the caller's administrator privilege where the API allows
	// it (useAdminAccess=true: gets, lists, patches but of history and
	// audience, member changes, deletes; spaces.search to adopt).
	Admin  bool
	Logger *slog.Logger
	// Now is the clock for recorded times.
	Now func() time.Time
	// OnDone is called once per space as it finishes, from the workers.
	OnDone func(Outcome)
}

// Backoff bounds the waits between attempts.
type Backoff struct{ Base, Cap time.Duration }

// Outcome is what happened to one space of the plan.
type Outcome struct {
	Key    string
	Action plan.Action
	Entry  results.Entry
	// Err is the failure of the space or of one of its members, if any.
	Err error
	// Interrupted is set when the run stopped before the space was done.
	Interrupted bool
}

// Summary counts what a run did.
type Summary struct {
	Planned     int `json:"planned"` // spaces to create, retry or update
	Created     int `json:"created"`
	Existing    int `json:"existing"` // adopted after ALREADY_EXISTS
	Updated     int `json:"updated"`
	Failed      int `json:"failed"`
	Skipped     int `json:"skipped"` // already present, nothing to do
	Interrupted int `json:"interrupted"`

	MembersAdded    int `json:"membersAdded"`
	MembersInvited  int `json:"membersInvited"`
	MembersFailed   int `json:"membersFailed"`
	MembersMissing  int `json:"membersMissing"`
	RolesSet        int `json:"rolesSet"` // owners and managers made, people demoted
	MembersRemoved  int `json:"membersRemoved"`
	Deleted         int `json:"deleted"`         // spaces deleted (--prune)
	SettingsPatched int `json:"settingsPatched"` // spaces.patch calls that succeeded
	WelcomesPosted  int `json:"welcomesPosted"`  // welcome messages posted

	SpaceWrites   int64 `json:"spaceWrites"`
	MessageWrites int64 `json:"messageWrites"`
	MemberWrites  int64 `json:"memberWrites"`
	Reads         int64 `json:"reads"`
	Retries       int64 `json:"retries"`
	Throttled     int64 `json:"throttled"`

	// Calls counts attempts by method and HTTP status (0: no answer).
	Calls map[string]map[int]int `json:"calls"`
	// QuotaWait is how long the server's quota held the run.
	QuotaWait time.Duration `json:"-"`

	Elapsed time.Duration `json:"-"`
}

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
	}
	anyOK atomic.Bool

	stop     context.CancelCauseFunc
	adoptMu  sync.Mutex
	adoptIdx map[string][]*chat.Space // NameKey of a display name → the caller's spaces with it

	callerMu  sync.Mutex
	callerIDv string // the caller's users/ID, once a refresh learnt it

	groups groupCache // group emails resolved in this run

	adopted sync.Map // key → []plan.Patch: what a space adopted in this run lacks

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

// Run creates, retries and updates the spaces of p, Concurrency at a time.
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
				mu.Unlock()
				if r.opts.OnDone != nil {
					r.opts.OnDone(out)
				}
			}
		}()
	}
	for _, it := range p.Items {
		switch it.Action {
		case plan.Create, plan.Retry, plan.Update, plan.Delete:
			sum.Planned++
		case plan.Exists:
			sum.Skipped++
		}
	}
	// Settings the plan found already in place (a record from before
	// settings were kept, or a refresh that found the space as the config
	// says) are recorded without a call, so that later drift shows.
	for _, it := range p.Items {
		if it.Action == plan.Exists && it.RecordSettings != nil {
			if err := r.record(results.Event{Space: key(it), Settings: it.RecordSettings}); err != nil {
				break
			}
		}
	}
feed:
	for _, it := range p.Items {
		if it.Action != plan.Create && it.Action != plan.Retry && it.Action != plan.Update && it.Action != plan.Delete {
			continue
		}
		select {
		case todo <- it:
		case <-ctx.Done():
			break feed
		}
	}
	close(todo)
	wg.Wait()
	// Items never handed to a worker are interrupted too.
	sum.Interrupted = sum.Planned - sum.Created - sum.Existing - sum.Updated - sum.Deleted - sum.Failed
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
	r.callsMu.Lock()
	sum.Calls, sum.QuotaWait = r.calls, r.quotaWait
	r.callsMu.Unlock()

	if cause := context.Cause(ctx); cause != nil && !errors.Is(cause, context.Canceled) {
		// Stopped by the run itself (credentials refused, quota gone,
		// state unwritable), not by an interrupt.
		return &sum, cause
	}
	return &sum, ctx.Err()
}

func (s *Summary) add(o Outcome) {
	if o.Interrupted {
		return // counted at the end, with those never started
	}
	switch {
	case o.Action == plan.Delete && o.Err != nil:
		s.Failed++
	case o.Action == plan.Delete:
		s.Deleted++
	case o.Entry.Status == results.Failed:
		s.Failed++
	case o.Action == plan.Update && o.Err != nil:
		s.Failed++ // the space is there, but what it was to receive failed
	case o.Action == plan.Update:
		s.Updated++
	case o.Entry.Status == results.Created:
		s.Created++
	case o.Entry.Status == results.Existing:
		s.Existing++
	}
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
	k := key(it)
	var entry results.Entry
	toAdd := it.AddMembers
	if it.Action == plan.Update {
		if it.RecordSettings != nil {
			if err := r.record(results.Event{Space: k, Settings: it.RecordSettings}); err != nil {
				out.Err, out.Interrupted = err, true
				return out
			}
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
		if err != nil || entry.Status == results.Failed {
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
	err := r.removeMembers(ctx, k, entry, it.RemoveMembers)
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
			werr = r.postWelcome(ctx, k, entry, it.Space)
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

const interruptedMsg = "interrupted before the answer was recorded; the next run asks again with the same requestId"

// createSpace creates the space (with setup when it has members and the
// caller is a user) or adopts an existing one of the same name. It returns
// the recorded entry and the members sent with setup.
func (r *runner) createSpace(ctx context.Context, k string, it plan.Item) (results.Entry, []string, error) {
	reqID, principal := it.RequestID, r.opts.Principal
	previous := it.PreviousName
	// unknown: an earlier create of this space may have made it (its
	// outcome was never learnt); only then may an ALREADY_EXISTS be taken
	// for that earlier create's space.
	unknown := false
	var earlier []string
	if rec := r.rec.Entry(k); rec != nil {
		earlier = rec.Earlier
		switch {
		case previous == "":
			previous = rec.Previous // a recreate that did not finish keeps it
		case rec.Previous != "" && rec.Previous != previous:
			// Deleted again: the one before is kept too.
			earlier = append(slices.Clone(rec.Earlier), rec.Previous)
		}
		if reqID != "" {
			unknown = rec.Status == results.Pending || (rec.Status == results.Failed && !answered(rec.Error))
		}
	}
	// A requestId is only valid for the principal that first sent it (DD,
	// SpaceSetupRequest.requestId: "reusing an existing request ID with a
	// different authenticated user results in an error").
	otherPrincipal := reqID != "" && it.Principal != "" && principal != "" && !strings.EqualFold(it.Principal, principal)
	if otherPrincipal {
		r.log.Info("new requestId", "space", it.Key, "why", "the recorded one was sent by "+it.Principal)
		reqID = ""
	}
	if reqID == "" {
		reqID = uuid.NewString()
	}
	entry := results.Entry{Status: results.Pending, RequestID: reqID, Principal: principal, Previous: previous, Earlier: earlier}
	// The requestId is durable before the call: whatever happens to the
	// answer, the next run asks with the same ID and gets the same space.
	if err := r.record(results.Event{Space: k, Entry: &entry}); err != nil {
		return entry, nil, err
	}

	space := r.space(it.Space)
	var setup []string
	if !r.opts.App && len(it.AddMembers) > 0 {
		setup = r.setupMembers(ctx, it.AddMembers)
	}
	method := "spaces.create"
	if setup != nil {
		method = "spaces.setup"
	}
	var got *chat.Space
	// reached: an attempt may have been carried out by the server though
	// its answer did not say so (lost, timed out, a 500/502/504), so the
	// answer to a later one may be a replay.
	reached := false
	create := func() error {
		return r.do(ctx, r.opts.Spaces, method, it.Key, func(cctx context.Context) error {
			var err error
			if setup != nil {
				req := &chat.SetUpSpaceRequest{RequestId: reqID, Space: space, Memberships: r.memberships(setup)}
				got, err = r.svc.Spaces.Setup(req).Context(cctx).Do()
			} else {
				got, err = r.svc.Spaces.Create(space).RequestId(reqID).Context(cctx).Do()
			}
			if err != nil && mayHaveRun(err) {
				reached = true
			}
			return err
		})
	}
	err := create()
	if err != nil && reqID == it.RequestID && requestIDTaken(err) {
		// The recorded requestId was sent by someone else (a file from
		// before principals were recorded): a new one, and the adoption
		// path below handles the ALREADY_EXISTS that may follow.
		r.log.Info("new requestId", "space", it.Key, "why", classify(err).Error())
		// The server says the ID made something under someone else: the
		// ALREADY_EXISTS that may follow is most likely that space.
		otherPrincipal, unknown, reqID = true, true, uuid.NewString()
		entry.RequestID = reqID
		if err := r.record(results.Event{Space: k, Entry: &entry}); err != nil {
			return entry, nil, err
		}
		err = create()
	}
	status := results.Created
	if err != nil {
		e := classify(err)
		switch {
		case isStop(ctx, err):
			return entry, nil, err // pending: the next run asks again
		case e.kind == exists:
			// The organization already has a space of this name. It may
			// be the space this entry had before a refresh found it gone
			// (then it was not gone): it is ours again. Otherwise it is
			// adopted only when asked to, or when it is most likely the one
			// an earlier create of this entry made under another principal
			// (whose outcome was never learnt), and only under the rules
			// of adopt.
			if s := r.stillThere(ctx, previous, it.Space.DisplayName); s != nil {
				got, status, setup = s, results.Created, nil
				err = nil
				break
			}
			if !it.Space.Adopt && !(otherPrincipal && unknown) {
				err = fmt.Errorf("ALREADY_EXISTS: a space named %q already exists in the organization; nothing was created and nothing was changed in it. If it is yours to manage here, set adopt: true on this space (or run with --adopt): it is adopted when you are its owner or manager", it.Space.DisplayName)
				break
			}
			got, err = r.adopt(ctx, it.Space.DisplayName)
			if isStop(ctx, err) {
				return entry, nil, err
			}
			status, setup = results.Existing, nil
		default:
			r.fatal(e)
			err = e
		}
		if err != nil {
			entry.Status, entry.Error = results.Failed, err.Error()
			if rerr := r.record(results.Event{Space: k, Entry: &entry}); rerr != nil {
				return entry, nil, rerr
			}
			return entry, nil, err
		}
	}
	if !validSpaceName(got.Name) {
		// A success whose space has no usable name: the server's answer
		// is malformed. The space fails (the next run asks again with
		// the same requestId) rather than the run stopping on a record
		// the results file refuses.
		entry.Status = results.Failed
		entry.Error = fmt.Sprintf("the server's answer is malformed: name %q is not spaces/ID; the next run asks again with the same requestId", got.Name)
		if err := r.record(results.Event{Space: k, Entry: &entry}); err != nil {
			return entry, nil, err
		}
		return entry, nil, errors.New(entry.Error)
	}
	r.anyOK.Store(true)
	// A create that may have been answered by a replay (an earlier
	// attempt that may have run, or a requestId an earlier run sent whose
	// outcome is unknown) is trusted for its name only: a replay echoes the
	// request plus the name, and "might not be fully populated" (DD,
	// spaces.create requestId). One spaces.get then gives the rest; if it
	// fails, the documented URL serves.
	replay := status == results.Created && (reached || (reqID == it.RequestID && unknown))
	mayBeReplay := replay
	if replay {
		if full, err := r.getSpace(ctx, got.Name, false); err == nil {
			got, replay = full, false
		}
	}
	entry = results.Entry{
		Name:      got.Name,
		ID:        strings.TrimPrefix(got.Name, "spaces/"),
		URL:       spaceURL(got, replay),
		Status:    status,
		RequestID: reqID,
		Principal: principal,
		Previous:  previous,
		Earlier:   earlier,
	}
	if t, err := time.Parse(time.RFC3339Nano, got.CreateTime); err == nil && !replay {
		entry.CreatedAt = &t
	} else if status == results.Created && !replay {
		now := r.opts.Now().UTC()
		entry.CreatedAt = &now
	}
	if setup != nil {
		// Pending until verified: the setup call may have skipped some.
		entry.Members = &results.MemberStats{Pending: setup}
	}
	if err := r.record(results.Event{Space: k, Entry: &entry}); err != nil {
		return entry, nil, err
	}
	// The settings the space has, of those the config states: what the
	// create sent, for a space this create made; what the space itself
	// says (read, or listed when adopted), when the answer may be a replay
	// of an earlier create with other settings, or the space was adopted.
	// Fine-grained permissions follow as a patch, recorded when it
	// succeeds. Not known: nothing, and the next plan patches what the
	// config states.
	set := map[string]string{}
	switch {
	case status == results.Created && !mayBeReplay:
		set = creationSettings(it.Space.Settings)
	case status == results.Existing || !replay: // listed, or read after the replay
		live := liveSettings(got)
		set = onlyStated(live, creationSettings(it.Space.Settings))
		if status == results.Existing {
			// What the adopted space lacks is patched in this run.
			r.adopted.Store(k, plan.AdoptedPatches(it.Space, live))
		}
	}
	if err := r.record(results.Event{Space: k, Settings: set}); err != nil {
		return entry, nil, err
	}
	if setup == nil {
		return entry, nil, nil
	}
	err = r.verifySetup(ctx, k, &entry, setup)
	return entry, setup, err
}

// validSpaceName reports whether name is spaces/ID with an ID of the
// characters space IDs have (letters, digits, -, _).
func validSpaceName(name string) bool {
	id, ok := strings.CutPrefix(name, "spaces/")
	return ok && id != "" && !strings.ContainsFunc(id, func(r rune) bool {
		return !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_')
	})
}

// answered tells a recorded failure that the server answered for sure
// (an API error with a 4xx status word), from one whose outcome is unknown
// (a lost answer, a timeout, a 5xx, an interrupted run).
func answered(msg string) bool {
	for _, w := range []string{"ALREADY_EXISTS", "INVALID_ARGUMENT", "PERMISSION_DENIED", "NOT_FOUND", "FAILED_PRECONDITION", "UNAUTHENTICATED", "OUT_OF_RANGE", "UNIMPLEMENTED"} {
		if strings.HasPrefix(msg, w) {
			return true
		}
	}
	return false
}

// mayHaveRun tells a failed attempt that the server may nonetheless have
// carried out: no answer (lost, reset, timed out) or a 500, 502 or 504. A
// 429 or a 503 says it was refused before it ran.
func mayHaveRun(err error) bool {
	e := classify(err)
	switch {
	case e.code == 0:
		return true
	case e.code == 500 || e.code == 502 || e.code == 504:
		return true
	}
	return false
}

// getSpace reads a space, with the caller's administrator privilege when
// admin is set.
func (r *runner) getSpace(ctx context.Context, name string, admin bool) (*chat.Space, error) {
	var sp *chat.Space
	err := r.do(ctx, r.opts.Reads, "spaces.get", name, func(cctx context.Context) error {
		call := r.svc.Spaces.Get(name).Context(cctx)
		if admin {
			call = call.UseAdminAccess(true)
		}
		var err error
		sp, err = call.Do()
		return err
	})
	return sp, err
}

// stillThere returns the space previous when it exists under the display
// name: a refresh took it for deleted, and the create that meant to
// replace it found the name taken by that very space.
func (r *runner) stillThere(ctx context.Context, previous, displayName string) *chat.Space {
	if previous == "" {
		return nil
	}
	sp, err := r.getSpace(ctx, previous, false)
	if err != nil || plan.NameKey(sp.DisplayName) != plan.NameKey(displayName) {
		return nil
	}
	return sp
}

// creationSettings are the stated settings a create sends: all but the
// fine-grained permissions, which only spaces.patch sets.
func creationSettings(stated map[string]string) map[string]string {
	out := make(map[string]string, len(stated))
	for k, v := range stated {
		if strings.HasPrefix(k, plan.SetPermissionPrefix) && k != plan.SetPreset {
			continue
		}
		out[k] = v
	}
	return out
}

// requestIDTaken tells the error for a requestId that another principal
// already used. Its wording is not documented (UNCERTAIN: DD says only "results in an
// error"), so any 4xx that speaks of the request ID and another user or
// caller counts.
func requestIDTaken(err error) bool {
	e := classify(err)
	if e.code < 400 || e.code >= 500 || e.kind == throttled {
		return false
	}
	m := strings.ToLower(e.message)
	return strings.Contains(m, "request") && strings.Contains(m, "id") &&
		(strings.Contains(m, "another") || strings.Contains(m, "different"))
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

// space is the API body for a config space.
func (r *runner) space(s plan.Space) *chat.Space {
	sp := &chat.Space{SpaceType: "SPACE", DisplayName: s.DisplayName}
	if s.Description != "" || s.Guidelines != "" {
		sp.SpaceDetails = &chat.SpaceDetails{Description: s.Description, Guidelines: s.Guidelines}
	}
	switch s.History {
	case "on":
		sp.SpaceHistoryState = "HISTORY_ON"
	case "off":
		sp.SpaceHistoryState = "HISTORY_OFF"
	}
	if s.ExternalUsers != nil {
		sp.ExternalUserAllowed = *s.ExternalUsers
		sp.ForceSendFields = append(sp.ForceSendFields, "ExternalUserAllowed")
	}
	switch s.Audience {
	case "":
	case "default":
		sp.AccessSettings = &chat.AccessSettings{Audience: "audiences/default"}
	default:
		sp.AccessSettings = &chat.AccessSettings{Audience: s.Audience}
	}
	switch s.Permissions {
	case "collaboration":
		sp.PredefinedPermissionSettings = "COLLABORATION_SPACE"
	case "announcement":
		sp.PredefinedPermissionSettings = "ANNOUNCEMENT_SPACE"
	}
	if r.opts.App {
		sp.Customer = r.opts.Customer
	}
	return sp
}

// spaceURL is the space's link: the API's spaceUri, or the documented form
// built from its ID (SPEC §1) when there is none or the answer may be a
// replay.
func spaceURL(s *chat.Space, replay bool) string {
	if s.SpaceUri != "" && !replay {
		return s.SpaceUri
	}
	return "https://mail.google.com/chat/u/0/#chat/space/" + strings.TrimPrefix(s.Name, "spaces/")
}

// maxListPages bounds a walk of spaces.list: 1,000 pages of 1,000 spaces
// is more than any caller is a member of. A server that keeps answering
// (or repeats a nextPageToken) ends the walk with an error, not a hang.
const maxListPages = 1000

// adopt finds the space that made a create answer ALREADY_EXISTS and
// checks that it may be taken over (SPEC §1): exactly one space with that
// exact name (trimmed, case-insensitive) among the caller's spaces
// (spaces.list lists only spaces the caller is a member of: DD), and the
// caller is its owner or manager (members.get of the caller's own
// membership). Anything else is refused, saying which rule refused it.
// Spaces are listed once and indexed; a miss lists them again, since the
// space may be newer than the index.
func (r *runner) adopt(ctx context.Context, displayName string) (*chat.Space, error) {
	prefix := fmt.Sprintf("ALREADY_EXISTS: a space named %q already exists and was not adopted: ", displayName)
	switch {
	case r.opts.App:
		return nil, errors.New(prefix + "a Chat app is never a space's owner or manager, so it cannot adopt one; adopt it with user credentials, or rename the space in the config")
	case r.opts.Admin:
		return r.adoptAsAdmin(ctx, displayName, prefix)
	case r.opts.Caller == "":
		return nil, errors.New(prefix + "your own address is unknown, so your role in it cannot be checked; pass --caller YOUR_EMAIL (or --subject with --auth service-account)")
	}
	want := plan.NameKey(displayName)
	r.adoptMu.Lock()
	matches, ok := r.adoptIdx[want]
	if !ok {
		idx, err := r.listSpaces(ctx, displayName)
		if err != nil {
			r.adoptMu.Unlock()
			return nil, fmt.Errorf("%slisting your spaces to find it: %w", prefix, err)
		}
		r.adoptIdx = idx
		matches = idx[want]
	}
	r.adoptMu.Unlock()
	switch len(matches) {
	case 0:
		return nil, errors.New(prefix + "it is not among the spaces you are a member of (it belongs to someone else); ask its owners to make you a manager, or rename the space in the config")
	case 1:
	default:
		names := make([]string, len(matches))
		for i, m := range matches {
			names[i] = m.Name
		}
		return nil, fmt.Errorf("%s%d of your spaces have that name (%s); adopting one would be a guess: rename the others, or this space in the config", prefix, len(matches), strings.Join(names, ", "))
	}
	s := matches[0]
	me, err := r.getMember(ctx, s.Name, r.opts.Caller, false)
	switch {
	case isStop(ctx, err):
		return nil, err
	case err != nil && classify(err).kind == notFound:
		return nil, fmt.Errorf("%syou are not a member of %s", prefix, s.Name)
	case err != nil:
		return nil, fmt.Errorf("%schecking your role in %s: %w", prefix, s.Name, err)
	}
	if role := plan.RoleOf(me.Role); role != plan.RoleOwner && role != plan.RoleManager {
		return nil, fmt.Errorf("%syou are a %s of %s, not its owner or manager; ask its owners to make you a manager, or rename the space in the config", prefix, role, s.Name)
	}
	return s, nil
}

// adoptAsAdmin finds the space anywhere in the organization with
// spaces.search and the caller's administrator privilege (--admin): the
// search's display_name matches words by prefix, case-insensitively (DD,
// spaces.search query), so the exact name is checked here; exactly one
// match is adopted, managed from then on with admin access.
func (r *runner) adoptAsAdmin(ctx context.Context, displayName, prefix string) (*chat.Space, error) {
	query := fmt.Sprintf(`customer = %q AND space_type = "SPACE" AND display_name:%q`, r.opts.Customer, strings.TrimSpace(displayName))
	want := plan.NameKey(displayName)
	var matches []*chat.Space
	seen := make(map[string]bool)
	token := ""
	for pages := 1; ; pages++ {
		var page *chat.SearchSpacesResponse
		err := r.do(ctx, r.opts.Reads, "spaces.search", displayName, func(cctx context.Context) error {
			var err error
			page, err = r.svc.Spaces.Search().UseAdminAccess(true).Query(query).PageSize(1000).PageToken(token).Context(cctx).Do()
			return err
		})
		if err != nil {
			if !isStop(ctx, err) {
				r.unauthenticated(classify(err))
				return nil, fmt.Errorf("%ssearching the organization for it (--admin): %w", prefix, err)
			}
			return nil, err
		}
		for _, s := range page.Spaces {
			if plan.NameKey(s.DisplayName) == want {
				matches = append(matches, s)
			}
		}
		token = page.NextPageToken
		if token == "" {
			break
		}
		if seen[token] || pages >= maxListPages {
			return nil, fmt.Errorf("%sthe search did not end (page token %q after %d pages)", prefix, token, pages)
		}
		seen[token] = true
	}
	switch len(matches) {
	case 0:
		return nil, errors.New(prefix + "an administrator's search of the organization does not find it (it may be a space of another kind, or of another customer than --customer)")
	case 1:
		return matches[0], nil
	}
	names := make([]string, len(matches))
	for i, m := range matches {
		names[i] = m.Name
	}
	return nil, fmt.Errorf("%s%d spaces in the organization have that name (%s); adopting one would be a guess: rename the others, or this space in the config", prefix, len(matches), strings.Join(names, ", "))
}

// listSpaces indexes the caller's named spaces by NameKey, walking every
// page of spaces.list with a guard against a server that never ends it.
func (r *runner) listSpaces(ctx context.Context, target string) (map[string][]*chat.Space, error) {
	idx := make(map[string][]*chat.Space)
	seen := make(map[string]bool)
	token := ""
	for pages := 1; ; pages++ {
		var page *chat.ListSpacesResponse
		err := r.do(ctx, r.opts.Reads, "spaces.list", target, func(cctx context.Context) error {
			var err error
			page, err = r.svc.Spaces.List().Filter(`spaceType = "SPACE"`).PageSize(1000).PageToken(token).Context(cctx).Do()
			return err
		})
		if err != nil {
			if e := classify(err); !isStop(ctx, err) {
				r.unauthenticated(e)
			}
			return nil, err
		}
		for _, s := range page.Spaces {
			k := plan.NameKey(s.DisplayName)
			idx[k] = append(idx[k], s)
		}
		token = page.NextPageToken
		switch {
		case token == "":
			return idx, nil
		case seen[token]:
			return nil, fmt.Errorf("the server repeated page token %q after %d pages", token, pages)
		case pages >= maxListPages:
			return nil, fmt.Errorf("still more pages after %d pages of spaces; giving up", pages)
		}
		seen[token] = true
	}
}

// Recorded turns the results file into the planner's view of it, with
// what a Refresh read of the live spaces when ref is not nil.
func Recorded(f *results.File, ref *Refreshed) map[string]plan.Recorded {
	m := make(map[string]plan.Recorded, len(f.Spaces))
	for k, en := range f.Spaces {
		r := plan.Recorded{Status: string(en.Status), Name: en.Name, RequestID: en.RequestID, Principal: en.Principal}
		if en.Applied != nil {
			r.Welcome, r.WelcomeHash, r.Found = en.Applied.Welcome, en.Applied.WelcomeHash, en.Applied.Found
			r.Members, r.Owners, r.Managers = en.Applied.Members, en.Applied.Owners, en.Applied.Managers
			r.IDs = en.Applied.IDs
			if en.Applied.Settings != nil {
				r.Settings = en.Applied.Settings.Flat()
			}
		}
		if ref != nil {
			r.Gone, r.Live = ref.Gone[k], ref.Live[k]
		}
		m[k] = r
	}
	return m
}
