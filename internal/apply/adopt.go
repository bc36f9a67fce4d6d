// Adoption: taking over a same-named space a create was refused for.

package apply

import (
	"context"
	"errors"
	"fmt"
	"strings"

	chat "google.golang.org/api/chat/v1"

	"provision/internal/plan"
)

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
	want := plan.KeyOf(displayName)
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

// adminAdoption says what the caller is in a space adopted with --admin,
// when it is not its owner or manager: "you are only a member of it", "you
// are not a member of it", or that the caller's role is unknown; "" for an
// owner or manager. --admin adopts whatever the caller's role, which
// without it would refuse the space: the run says so for each.
func (r *runner) adminAdoption(ctx context.Context, s *chat.Space) string {
	if r.opts.Caller == "" {
		return "your own role in it is unknown (pass --caller YOUR_EMAIL)"
	}
	me, err := r.getMember(ctx, s.Name, r.opts.Caller, true)
	switch {
	case err != nil && classify(err).kind == notFound:
		return "you are not a member of it"
	case err != nil:
		return "your own role in it could not be read (" + classify(err).Error() + ")"
	}
	switch plan.RoleOf(me.Role) {
	case plan.RoleOwner, plan.RoleManager:
		return ""
	}
	return "you are only a member of it"
}

// adoptAsAdmin finds the space anywhere in the organization with
// spaces.search and the caller's administrator privilege (--admin): the
// search's display_name matches words by prefix, case-insensitively (DD,
// spaces.search query), so the exact name is checked here; exactly one
// match is adopted, managed from then on with admin access.
func (r *runner) adoptAsAdmin(ctx context.Context, displayName, prefix string) (*chat.Space, error) {
	query := fmt.Sprintf(`customer = %q AND space_type = "SPACE" AND display_name:%q`, r.opts.Customer, strings.TrimSpace(displayName))
	want := plan.KeyOf(displayName)
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
			if plan.KeyOf(s.DisplayName) == want {
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
func (r *runner) listSpaces(ctx context.Context, target string) (map[plan.Key][]*chat.Space, error) {
	idx := make(map[plan.Key][]*chat.Space)
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
			k := plan.KeyOf(s.DisplayName)
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
