// Creating one space: spaces.setup or spaces.create, its retries, and the
// answers that may mean it already ran.

package apply

import (
	"context"
	"errors"
	"fmt"
	"iter"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/google/uuid"
	chat "google.golang.org/api/chat/v1"

	"provision/internal/plan"
	"provision/internal/results"
)

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
	// was is the status of the previous space, and old its entry when the
	// record still holds it: what is kept if it turns out to live on.
	var was results.Status
	var old *results.Entry
	if rec := r.rec.Entry(k); rec != nil {
		earlier = rec.Earlier
		switch {
		case previous == "":
			previous, was = rec.Previous, rec.Was // a recreate that did not finish keeps it
		case rec.Previous != "" && rec.Previous != previous:
			// Deleted again: the one before is kept too.
			earlier = append(slices.Clone(rec.Earlier), rec.Previous)
		}
		if previous != "" && rec.Name == previous {
			old, was = rec, rec.Status
			if was == results.Unreachable {
				was = rec.Was
			}
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
	if previous != "" && was != results.Created {
		// Not known to be this tool's creation: --prune never deletes it.
		was = results.Existing
	}
	if previous == "" {
		was = ""
	}
	entry := results.Entry{Status: results.Pending, DisplayName: recordName(k, createName(it)), RequestID: reqID, Principal: principal, Previous: previous, Earlier: earlier, Was: was}
	// The requestId is durable before the call: whatever happens to the
	// answer, the next run asks with the same ID and gets the same space.
	if err := r.record(results.Event{Space: k, Entry: &entry}); err != nil {
		return entry, nil, err
	}

	space := r.space(*it.Space)
	if it.ConfirmName != "" {
		// A recorded space that answered 404 or 403: only a create under
		// the name it has tells whether it lives on (see plan.Item).
		space.DisplayName = it.ConfirmName
	}
	var setup []string
	if !r.opts.App && len(it.AddMembers) > 0 {
		setup = r.setupMembers(ctx, it.AddMembers)
	}
	method := "spaces.create"
	if setup != nil {
		method = "spaces.setup"
	}
	var got *chat.Space
	// adminNote says, for a space adopted with --admin, that the caller is
	// not its owner or manager (adminAdoption).
	var adminNote string
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
			name := it.Space.DisplayName
			if it.ConfirmName != "" {
				name = it.ConfirmName
			}
			s, gone, serr := r.stillThere(ctx, previous, name)
			switch {
			case serr != nil:
				err = serr
			case s != nil:
				got, status, setup = s, was, nil
				err = nil
			}
			if serr != nil || s != nil {
				break
			}
			if previous != "" && !gone {
				// The name is taken and the space this entry recorded
				// cannot be read: it lives on out of the caller's sight
				// (removed from it), most likely under that very name.
				// Kept as it was, never created twice.
				return r.unreachable(k, old, previous, was, earlier)
			}
			if !it.Space.Adopt && !(otherPrincipal && unknown) {
				err = fmt.Errorf("ALREADY_EXISTS: a space named %q already exists in the organization; nothing was created and nothing was changed in it. If it is yours to manage here, set adopt: true on this space (or run with --adopt): it is adopted when you are its owner or manager", it.Space.DisplayName)
				break
			}
			got, err = r.adopt(ctx, it.Space.DisplayName)
			if isStop(ctx, err) {
				return entry, nil, err
			}
			if err == nil && r.opts.Admin {
				adminNote = r.adminAdoption(ctx, got)
			}
			status, setup = results.Existing, nil
		default:
			r.fatal(e)
			err = e
		}
		if other := ""; err == nil && got != nil {
			if other = r.claimed(got.Name, k); other != "" {
				// One space, one entry: taking it here would let the
				// other entry's plan act on it (a --prune of that entry
				// would delete it).
				err = fmt.Errorf("ALREADY_EXISTS: the space named %q, %s, is recorded under %q already; it is not recorded twice. If it is that space you mean, name it with key: %q (renaming it, if the display names differ)", it.Space.DisplayName, got.Name, other, other)
			}
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
	name := createName(it)
	if got.DisplayName != "" && !replay && status == results.Created {
		// The name the space has: a replay of a create sent before the
		// config renamed it has the old one, which the next plan renames.
		name = got.DisplayName
	}
	entry = results.Entry{
		Name:        got.Name,
		ID:          strings.TrimPrefix(got.Name, "spaces/"),
		URL:         spaceURL(got, replay),
		Status:      status,
		DisplayName: recordName(k, name),
		RequestID:   reqID,
		Principal:   principal,
		Previous:    previous,
		Earlier:     earlier,
	}
	if status == results.Existing && got.Name != previous {
		// Adopted: the name is the one it has.
		entry.DisplayName = recordName(k, got.DisplayName)
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
	if adminNote != "" && status == results.Existing {
		r.warn(k, fmt.Sprintf("adopted %q (%s) with --admin, though %s: it is managed with administrator access", k, got.Name, adminNote))
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
		set = creationSettings(it.Space.Settings.All())
	case status == results.Existing || !replay: // listed, or read after the replay
		live := liveSettings(got)
		set = creationSettings(maps.All(onlyStated(live, it.Space.Settings)))
		if status == results.Existing {
			// What the adopted space lacks is patched in this run.
			r.adopted.Store(k, plan.AdoptedPatches(*it.Space, live))
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
// replace it found the name taken by that very space. gone is set when
// the space is known to be deleted: an administrator's read (--admin)
// answered NOT_FOUND, or it has no previous space at all. A 404 or a 403
// to the caller is not gone: the caller may have been removed from it. An
// administrator's read refused (403: the caller is no administrator) is
// an error, not an answer about the space.
func (r *runner) stillThere(ctx context.Context, previous, displayName string) (sp *chat.Space, gone bool, err error) {
	if previous == "" {
		return nil, true, nil
	}
	sp, err = r.getSpace(ctx, previous, r.opts.Admin)
	switch {
	case err == nil && plan.KeyOf(sp.DisplayName) == plan.KeyOf(displayName):
		return sp, false, nil
	case err == nil:
		// Renamed out of band: the name is someone else's now.
		return nil, true, nil
	case isStop(ctx, err):
		return nil, false, err
	case r.opts.Admin && spaceNotFound(classify(err)):
		return nil, true, nil
	case r.opts.Admin && lostAccess(classify(err)) == 403:
		return nil, false, fmt.Errorf("reading %s with --admin: the API refused administrator access (403): is the account a Workspace administrator with the Chat privilege? Run without --admin, or with an administrator: %w", previous, classify(err))
	}
	return nil, false, nil
}

// createName is the name a create of the item sends: the config's, or the
// name a recorded space has when the create is to tell whether it lives
// on (plan.Item.ConfirmName).
func createName(it plan.Item) string {
	if it.ConfirmName != "" {
		return it.ConfirmName
	}
	return it.Space.DisplayName
}

// unreachable records the space previous, which a create's ALREADY_EXISTS
// and a failed read of it show to live on out of the caller's sight, as
// unreachable: its entry as it was (old, when the record still held it),
// never created again, never deleted.
func (r *runner) unreachable(k string, old *results.Entry, previous string, was results.Status, earlier []string) (results.Entry, []string, error) {
	entry := results.Entry{Name: previous, ID: strings.TrimPrefix(previous, "spaces/"), Earlier: earlier}
	if old != nil && old.Name == previous {
		entry = *old
	}
	if entry.URL == "" {
		entry.URL = spaceURL(&chat.Space{Name: previous}, true)
	}
	if old == nil {
		entry.Previous = "" // it is previous itself
	}
	entry.Status, entry.Was, entry.Error = results.Unreachable, was, ""
	if err := r.record(results.Event{Space: k, Entry: &entry}); err != nil {
		return entry, nil, err
	}
	r.log.Warn("space unreachable", "space", k, "name", previous)
	return entry, nil, nil
}

// recordName is what an entry keyed k records as its display name: ""
// when it is the key itself.
func recordName(k, displayName string) string {
	if displayName == k {
		return ""
	}
	return displayName
}

// creationSettings are the stated settings a create sends: all but the
// fine-grained permissions, which only spaces.patch sets.
func creationSettings(stated iter.Seq2[string, string]) map[string]string {
	out := make(map[string]string)
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
