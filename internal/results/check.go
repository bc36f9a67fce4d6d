// What may be written to a results file or a journal: the checks of an
// entry, a deletion and an event, made before they are recorded and when
// they are read back.

package results

import (
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
)

// checkEntry reports why e may not be written to a results file.
func checkEntry(e *Entry) error {
	switch e.Status {
	case Created, Existing:
		if e.Name == "" {
			return fmt.Errorf("status %q without a name", e.Status)
		}
	case Pending:
		if e.RequestID == "" {
			return fmt.Errorf("status %q without a requestId", e.Status)
		}
	case Unreachable:
		if e.Name == "" {
			return fmt.Errorf("status %q without a name", e.Status)
		}
		if e.Was == "" {
			return fmt.Errorf("status %q without was", e.Status)
		}
	case Failed:
	case "":
		return errors.New("missing status")
	default:
		return fmt.Errorf("unknown status %q (want %q, %q, %q, %q or %q)", e.Status, Created, Existing, Failed, Pending, Unreachable)
	}
	switch {
	case e.Was == "":
	case e.Was != Created && e.Was != Existing:
		return fmt.Errorf("was %q is not %q or %q", e.Was, Created, Existing)
	case e.Status != Unreachable && e.Previous == "":
		return fmt.Errorf("was without previous, on a space not %q", Unreachable)
	}
	if e.DisplayName != "" && strings.TrimSpace(e.DisplayName) == "" {
		return errors.New("displayName of only white space")
	}
	if e.Name != "" {
		id, ok := spaceID(e.Name)
		if !ok {
			return fmt.Errorf("name %q is not spaces/ID", e.Name)
		}
		if e.ID != "" && e.ID != id {
			return fmt.Errorf("id %q does not match name %q", e.ID, e.Name)
		}
	}
	if _, ok := spaceID(e.Previous); e.Previous != "" && !ok {
		return fmt.Errorf("previous %q is not spaces/ID", e.Previous)
	}
	for _, n := range e.Earlier {
		if _, ok := spaceID(n); !ok {
			return fmt.Errorf("earlier %q is not spaces/ID", n)
		}
	}
	if a := e.Applied; a != nil {
		if slices.Contains(a.Members, "") {
			return errors.New("empty name in applied members")
		}
		if slices.Contains(a.Owners, "") {
			return errors.New("empty name in applied owners")
		}
		if slices.Contains(a.Managers, "") {
			return errors.New("empty name in applied managers")
		}
		if m, ok := common(a.Owners, a.Managers); ok {
			return fmt.Errorf("%q is both an applied owner and an applied manager: a person has one role", m)
		}
		for _, m := range slices.Sorted(maps.Keys(a.IDs)) {
			if err := checkID(m, a.IDs[m]); err != nil {
				return fmt.Errorf("applied ids: %w", err)
			}
		}
		if err := checkFlat(a.Settings.Flat()); err != nil {
			return fmt.Errorf("applied settings: %w", err)
		}
		if a.Welcome != "" {
			if err := checkMessage(a.Welcome); err != nil {
				return fmt.Errorf("applied: %w", err)
			}
		}
		for _, f := range a.Found {
			if !slices.Contains(a.Members, f) {
				return fmt.Errorf("applied found %q is not among the applied members", f)
			}
		}
	}
	return nil
}

// checkID reports why id may not be recorded as the users/ID of member.
func checkID(member, id string) error {
	if member == "" {
		return errors.New("an ID for an empty member name")
	}
	prefix := "users/"
	if strings.HasPrefix(member, "group:") {
		// A group named by email, resolved through Cloud Identity.
		prefix = "groups/"
	}
	if rest, ok := strings.CutPrefix(id, prefix); !ok || rest == "" || strings.Contains(rest, "/") {
		return fmt.Errorf("ID %q of %q is not %sID", id, member, prefix)
	}
	return nil
}

// checkMessage reports why name is not a message of a space,
// spaces/ID/messages/ID.
func checkMessage(name string) error {
	parts := strings.Split(name, "/")
	if len(parts) != 4 || parts[0] != "spaces" || parts[2] != "messages" || parts[1] == "" || parts[3] == "" {
		return fmt.Errorf("welcome %q is not spaces/ID/messages/ID", name)
	}
	return nil
}

// checkDeleted reports why d may not be in the deleted section.
func checkDeleted(d *Deleted) error {
	switch {
	case d == nil:
		return errors.New("null entry")
	case d.DisplayName == "":
		return errors.New("no displayName")
	case d.DeletedAt.IsZero():
		return errors.New("no deletedAt")
	case d.Entry == nil:
		return errors.New("no entry")
	case d.Entry.Name == "":
		return errors.New("an entry without a name: only a space with a name can be deleted")
	}
	if err := checkEntry(normalized(d.Entry)); err != nil {
		return fmt.Errorf("entry: %w", err)
	}
	return nil
}

// spaceID returns the ID of a space's resource name spaces/ID.
func spaceID(name string) (string, bool) {
	id, ok := strings.CutPrefix(name, "spaces/")
	return id, ok && id != "" && !strings.Contains(id, "/")
}

// common returns a name in both a and b, if there is one.
func common(a, b []string) (string, bool) {
	if len(a) == 0 || len(b) == 0 {
		return "", false
	}
	set := make(map[string]bool, len(a))
	for _, m := range a {
		set[m] = true
	}
	for _, m := range b {
		if set[m] {
			return m, true
		}
	}
	return "", false
}

// checkEvent reports why ev may not be recorded or replayed.
func checkEvent(ev *Event) error {
	if ev.Space == "" {
		return errors.New("event without a space")
	}
	n := 0
	for _, set := range []bool{ev.Entry != nil, ev.Member != "", ev.Manager != "", ev.Settings != nil, ev.Deleted != nil, ev.Welcome != "", ev.DisplayName != ""} {
		if set {
			n++
		}
	}
	if n != 1 {
		return errors.New("event must set exactly one of entry, member, manager, settings, deleted, welcome and displayName")
	}
	if ev.DisplayName != "" && strings.TrimSpace(ev.DisplayName) == "" {
		return errors.New("displayName of only white space")
	}
	if ev.Welcome != "" {
		if err := checkMessage(ev.Welcome); err != nil {
			return err
		}
	}
	switch ev.Role {
	case "", RoleOwner, RoleManager, RoleMember:
	default:
		return fmt.Errorf("unknown role %q (want %q, %q or %q)", ev.Role, RoleOwner, RoleManager, RoleMember)
	}
	switch {
	case ev.Role != "" && ev.Member == "":
		return errors.New("role without a member")
	case ev.ID != "" && ev.Member == "":
		return errors.New("id without a member")
	case ev.Removed && ev.Member == "":
		return errors.New("removed without a member")
	case ev.WelcomeHash != "" && ev.Welcome == "":
		return errors.New("welcome hash without a welcome")
	case ev.Found && (ev.Member == "" || ev.Removed):
		return errors.New("found needs a member, and not removed")
	case ev.Removed && (ev.Role != "" || ev.ID != ""):
		return errors.New("removed with a role or an id: a member removed has neither")
	}
	if ev.ID != "" {
		if err := checkID(ev.Member, ev.ID); err != nil {
			return err
		}
	}
	if ev.Settings != nil {
		if err := checkFlat(ev.Settings); err != nil {
			return err
		}
	}
	if ev.Deleted != nil && ev.Deleted.IsZero() {
		return errors.New("deleted without a time")
	}
	if ev.Entry != nil {
		if err := checkEntry(normalized(ev.Entry)); err != nil {
			return fmt.Errorf("entry: %w", err)
		}
	}
	return nil
}

// accept readies an event for Record, whichever store has it: it refuses
// an invalid one (an error wrapping ErrInvalidEvent) and the legacy
// Manager event, and copies what the caller may reuse once Record
// returns (its entry, settings and time).
func accept(ev *Event) error {
	if err := checkEvent(ev); err != nil {
		return fmt.Errorf("%w: %w", ErrInvalidEvent, err)
	}
	if ev.Manager != "" {
		return errLegacyManager
	}
	ev.Entry = ev.Entry.clone()
	ev.Settings = maps.Clone(ev.Settings)
	if ev.Deleted != nil {
		t := *ev.Deleted
		ev.Deleted = &t
	}
	return nil
}
