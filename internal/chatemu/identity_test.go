package chatemu

import (
	"context"
	"testing"
)

// TestNamesOneIdentity: a display name in another Unicode form (NFD, as
// macOS saves "é") or another case is the name already taken.
func TestNamesOneIdentity(t *testing.T) {
	t.Parallel()
	_, svc, _ := start(t)
	ctx := context.Background()
	if _, err := svc.Spaces.Create(newSpace("Café Team")).Context(ctx).Do(); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"Cafe\u0301 Team", "CAFÉ TEAM", "  café team "} {
		_, err := svc.Spaces.Create(newSpace(name)).Context(ctx).Do()
		wantAPIError(t, "create "+name, err, 409, "ALREADY_EXISTS")
	}
}

// TestNonMemberAnswer: a caller removed from a space gets 403, or 404 with
// WithNotFoundForNonMembers (or SetNotFoundForNonMembers), on get, patch,
// delete and the members calls; an administrator still reads it.
func TestNonMemberAnswer(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		name   string
		opts   []Option
		toggle bool
		code   int
		status string
	}{
		{"403 by default", nil, false, 403, "PERMISSION_DENIED"},
		{"404 by option", []Option{WithNotFoundForNonMembers()}, false, 404, "NOT_FOUND"},
		{"404 switched on", nil, true, 404, "NOT_FOUND"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			srv, svc, _ := start(t, append(tt.opts, WithAdmins(DefaultCaller))...)
			ctx := context.Background()
			sp, err := svc.Spaces.Create(newSpace("Handed over")).Context(ctx).Do()
			if err != nil {
				t.Fatal(err)
			}
			if !srv.AddMember(sp.Name, "new.owner@example.com", "ROLE_MANAGER") {
				t.Fatal("AddMember: not added")
			}
			if !srv.RemoveMember(sp.Name, "caller@example.com") {
				t.Fatal("RemoveMember: the caller was not in the space")
			}
			if tt.toggle {
				srv.SetNotFoundForNonMembers(true)
			}
			_, err = svc.Spaces.Get(sp.Name).Context(ctx).Do()
			wantAPIError(t, "get", err, tt.code, tt.status)
			_, err = svc.Spaces.Delete(sp.Name).Context(ctx).Do()
			wantAPIError(t, "delete", err, tt.code, tt.status)
			_, err = svc.Spaces.Members.List(sp.Name).Context(ctx).Do()
			wantAPIError(t, "members.list", err, tt.code, tt.status)
			if got, err := svc.Spaces.Get(sp.Name).UseAdminAccess(true).Context(ctx).Do(); err != nil || got.DisplayName != "Handed over" {
				t.Fatalf("admin get = %v, %v; want the space", got, err)
			}
			_, err = svc.Spaces.Create(newSpace("Handed over")).Context(ctx).Do()
			wantAPIError(t, "create of the same name", err, 409, "ALREADY_EXISTS")
		})
	}
}
