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
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/google/uuid"
	chat "google.golang.org/api/chat/v1"

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
	// Spaces, Members and Reads pace the three quota classes; nil means
	// unlimited.
	Spaces, Members, Reads *Limiter
	// App is app authentication: spaces carry Customer, setup is not
	// available, so members are added one by one.
	App      bool
	Customer string
	// Caller is the caller's own user (users/EMAIL). The API adds the caller
	// to every space it creates, so it is never sent as a member.
	Caller  string
	Backoff Backoff
	Logger  *slog.Logger
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

	MembersAdded   int `json:"membersAdded"`
	MembersInvited int `json:"membersInvited"`
	MembersFailed  int `json:"membersFailed"`
	MembersMissing int `json:"membersMissing"`
	ManagersSet    int `json:"managersSet"`

	SpaceWrites  int64 `json:"spaceWrites"`
	MemberWrites int64 `json:"memberWrites"`
	Reads        int64 `json:"reads"`
	Retries      int64 `json:"retries"`
	Throttled    int64 `json:"throttled"`

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
}

func (e *DeniedError) Error() string {
	return fmt.Sprintf("the API refused the credentials (HTTP %d): %s", e.Code, e.Message)
}

type runner struct {
	svc   *chat.Service
	rec   Recorder
	opts  Options
	log   *slog.Logger
	stats struct {
		spaceWrites, memberWrites, reads, retries, throttled atomic.Int64

		membersAdded, membersInvited, membersFailed, membersMissing, managersSet atomic.Int64
	}
	anyOK atomic.Bool

	stop     context.CancelCauseFunc
	adoptMu  sync.Mutex
	adoptIdx map[string]*chat.Space // normalised display name → space
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
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Customer == "" {
		o.Customer = "customers/my_customer"
	}
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
		case plan.Create, plan.Retry, plan.Update:
			sum.Planned++
		case plan.Exists:
			sum.Skipped++
		}
	}
feed:
	for _, it := range p.Items {
		if it.Action != plan.Create && it.Action != plan.Retry && it.Action != plan.Update {
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
	sum.Interrupted = sum.Planned - sum.Created - sum.Existing - sum.Updated - sum.Failed
	sum.SpaceWrites = r.stats.spaceWrites.Load()
	sum.MemberWrites = r.stats.memberWrites.Load()
	sum.Reads = r.stats.reads.Load()
	sum.Retries = r.stats.retries.Load()
	sum.Throttled = r.stats.throttled.Load()
	sum.MembersAdded = int(r.stats.membersAdded.Load())
	sum.MembersInvited = int(r.stats.membersInvited.Load())
	sum.MembersFailed = int(r.stats.membersFailed.Load())
	sum.MembersMissing = int(r.stats.membersMissing.Load())
	sum.ManagersSet = int(r.stats.managersSet.Load())
	sum.Elapsed = time.Since(start)

	if cause := context.Cause(ctx); cause != nil && !errors.Is(cause, context.Canceled) {
		return &sum, cause
	}
	return &sum, ctx.Err()
}

func (s *Summary) add(o Outcome) {
	if o.Interrupted {
		return // counted at the end, with those never started
	}
	switch {
	case o.Entry.Status == results.Failed:
		s.Failed++
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
		err = fmt.Errorf("%w: recording %q: %w", ErrStopped, ev.Space, err)
		r.stop(err)
		return err
	}
	return nil
}

func (r *runner) count(method string) {
	switch {
	case method == "spaces.create" || method == "spaces.setup":
		r.stats.spaceWrites.Add(1)
	case method == "members.create" || method == "members.patch":
		r.stats.memberWrites.Add(1)
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
	k := key(it)
	var entry results.Entry
	toAdd := it.AddMembers
	if it.Action == plan.Update {
		if e := r.rec.Entry(k); e != nil {
			entry = *e
		}
		if entry.Applied == nil && entry.Members != nil && len(entry.Members.Pending) > 0 {
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
	}
	err := r.members(ctx, k, &entry, toAdd, it.AddManagers)
	out.Entry, out.Err = entry, err
	// A space created before the stop counts as created; its unfinished
	// members are recorded as pending, for the next run.
	out.Interrupted = isStop(ctx, err) && it.Action == plan.Update
	if isStop(ctx, err) {
		out.Err = nil
	}
	return out
}

// isStop tells whether err is the run being stopped rather than a failure
// of the space itself.
func isStop(ctx context.Context, err error) bool {
	return err != nil && ctx.Err() != nil && (errors.Is(err, context.Canceled) || errors.Is(err, ErrStopped) || errors.Is(err, context.Cause(ctx)))
}

const interruptedMsg = "interrupted before the answer was recorded; the next run asks again with the same requestId"

// createSpace creates the space (with setup when it has members and the
// caller is a user) or adopts an existing one of the same name. It returns
// the recorded entry and the members sent with setup.
func (r *runner) createSpace(ctx context.Context, k string, it plan.Item) (results.Entry, []string, error) {
	reqID := it.RequestID
	if reqID == "" {
		reqID = uuid.NewString()
	}
	entry := results.Entry{Status: results.Failed, Error: interruptedMsg, RequestID: reqID}
	// The requestId is durable before the call: whatever happens to the
	// answer, the next run asks with the same ID and gets the same space.
	if err := r.record(results.Event{Space: k, Entry: &entry}); err != nil {
		return entry, nil, err
	}

	space := r.space(it.Space)
	var setup []string
	if !r.opts.App && len(it.AddMembers) > 0 {
		setup = r.setupMembers(it.AddMembers)
	}
	var got *chat.Space
	method := "spaces.create"
	if setup != nil {
		method = "spaces.setup"
	}
	err := r.do(ctx, r.opts.Spaces, method, it.Key, func(cctx context.Context) error {
		var err error
		if setup != nil {
			req := &chat.SetUpSpaceRequest{RequestId: reqID, Space: space, Memberships: memberships(setup)}
			got, err = r.svc.Spaces.Setup(req).Context(cctx).Do()
		} else {
			got, err = r.svc.Spaces.Create(space).RequestId(reqID).Context(cctx).Do()
		}
		return err
	})
	status := results.Created
	if err != nil {
		e := classify(err)
		switch {
		case isStop(ctx, err):
			return entry, nil, err
		case e.kind == exists:
			got, err = r.adopt(ctx, it.Space.DisplayName)
			if err != nil {
				entry.Error = err.Error()
				r.record(results.Event{Space: k, Entry: &entry})
				return entry, nil, err
			}
			status, setup = results.Existing, nil
		default:
			r.denied(e)
			entry.Error = e.Error()
			r.record(results.Event{Space: k, Entry: &entry})
			return entry, nil, e
		}
	}
	r.anyOK.Store(true)
	entry = results.Entry{
		Name:      got.Name,
		ID:        strings.TrimPrefix(got.Name, "spaces/"),
		URL:       spaceURL(got),
		Status:    status,
		RequestID: reqID,
	}
	if t, err := time.Parse(time.RFC3339Nano, got.CreateTime); err == nil {
		entry.CreatedAt = &t
	} else {
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
	if setup == nil {
		return entry, nil, nil
	}
	err = r.verifySetup(ctx, k, &entry, setup)
	return entry, setup, err
}

// denied stops the run on a space write refused in a way that will refuse
// every call: a 401, or a 403 before any space write has succeeded (wrong
// scopes, Chat app not configured).
func (r *runner) denied(e *apiError) {
	if e.kind != denied || (e.code == 403 && r.anyOK.Load()) {
		return
	}
	r.stop(fmt.Errorf("%w: %w", ErrStopped, &DeniedError{Code: e.code, Message: e.Error()}))
}

// unauthenticated stops the run on a 401 from a membership call. A 403
// there is about one member (one the caller may not add), not the run.
func (r *runner) unauthenticated(e *apiError) {
	if e.kind == denied && e.code == 401 {
		r.denied(e)
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
// built from its ID.
func spaceURL(s *chat.Space) string {
	if s.SpaceUri != "" {
		return s.SpaceUri
	}
	return "https://mail.google.com/chat/u/0/#chat/space/" + strings.TrimPrefix(s.Name, "spaces/")
}

// adopt finds the space that made a create answer ALREADY_EXISTS. Spaces
// are listed once and indexed; a miss lists them again, since the space may
// be newer than the index.
func (r *runner) adopt(ctx context.Context, displayName string) (*chat.Space, error) {
	want := plan.NameKey(displayName)
	r.adoptMu.Lock()
	defer r.adoptMu.Unlock()
	if s, ok := r.adoptIdx[want]; ok {
		return s, nil
	}
	idx := make(map[string]*chat.Space)
	token := ""
	for {
		var page *chat.ListSpacesResponse
		err := r.do(ctx, r.opts.Reads, "spaces.list", displayName, func(cctx context.Context) error {
			var err error
			page, err = r.svc.Spaces.List().Filter(`spaceType = "SPACE"`).PageSize(1000).PageToken(token).Context(cctx).Do()
			return err
		})
		if err != nil {
			return nil, fmt.Errorf("a space named %q already exists; listing spaces to find it: %w", displayName, err)
		}
		for _, s := range page.Spaces {
			idx[plan.NameKey(s.DisplayName)] = s
		}
		if token = page.NextPageToken; token == "" {
			break
		}
	}
	r.adoptIdx = idx
	if s, ok := idx[want]; ok {
		return s, nil
	}
	return nil, fmt.Errorf("a space named %q already exists in the organization but is not visible to the caller; rename it in the config or ask its managers to add you", displayName)
}

// Recorded turns the results file into the planner's view of it. gone lists
// the spaces a Refresh found deleted.
func Recorded(f *results.File, gone map[string]bool) map[string]plan.Recorded {
	m := make(map[string]plan.Recorded, len(f.Spaces))
	for k, en := range f.Spaces {
		r := plan.Recorded{Status: string(en.Status), Name: en.Name, RequestID: en.RequestID, Gone: gone[k]}
		if en.Applied != nil {
			r.Members, r.Managers = en.Applied.Members, en.Applied.Managers
		}
		m[k] = r
	}
	return m
}
