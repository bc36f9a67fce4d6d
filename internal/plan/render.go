package plan

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"strings"
)

// symbols are the plan's action markers, in the style of terraform plan.
var symbols = map[Action]string{
	Create: "+ create",
	Update: "~ update",
	Exists: "= exists",
	Retry:  "! retry ",
	Delete: "- delete",
	Orphan: "- orphan",
	// Nothing is done: the space is out of this caller's sight.
	Unreachable: "? unreachable",
}

// Legend is the first line of a plan printed for a person: every symbol
// it may show, those of the lines indented under a space included.
const Legend = "Legend: + create, ~ update or rename, = exists, ! retry, - delete, - orphan (left untouched), ? unreachable (kept, nothing sent); indented: ! warning, - member removed, ~ group's new ID"

// TextOptions change how WriteTextOptions prints a plan.
type TextOptions struct {
	// Verbose names the members each space loses, one per line under it.
	Verbose bool
	// Admin says the run adopts with administrator access (--admin): a
	// space of a created name that exists already is taken over whatever
	// the caller's role in it, which each such line says.
	Admin bool
}

// WriteText prints the plan for a person: the Legend, one line per space,
// each group whose ID changed and each warning on a line of its own under
// it, then a summary line.
func WriteText(w io.Writer, p *Plan) error {
	return WriteTextOptions(w, p, TextOptions{})
}

// WriteTextOptions is WriteText with options.
func WriteTextOptions(w io.Writer, p *Plan, opts TextOptions) error {
	bw := bufio.NewWriter(w)
	if len(p.Items) > 0 {
		fmt.Fprintf(bw, "%s\n\n", Legend)
	}
	for _, it := range p.Items {
		sym, ok := symbols[it.Action]
		if !ok {
			sym = "? " + string(it.Action)
		}
		if it.Rename != nil {
			fmt.Fprintf(bw, "  ~ rename %q → %q", it.Rename.From, it.Rename.To)
		} else {
			fmt.Fprintf(bw, "  %s %q", sym, it.Key)
		}
		d := detail(it)
		if opts.Admin && adopts(it) {
			d = joinDetail(d, "if a space of this name exists, --admin adopts it whatever your role in it")
		}
		if d != "" {
			fmt.Fprintf(bw, " (%s)", d)
		}
		bw.WriteByte('\n')
		for _, g := range it.Groups {
			fmt.Fprintf(bw, "      ~ %s now %s, was %s\n", g.Member, g.Now, g.Was)
		}
		if opts.Verbose {
			for _, m := range it.RemoveMembers {
				fmt.Fprintf(bw, "      - %s\n", display(m))
			}
		}
		for _, w := range it.Warnings {
			fmt.Fprintf(bw, "      ! %s\n", w)
		}
	}
	c := p.Counts()
	if len(p.Items) > 0 {
		bw.WriteByte('\n')
	}
	fmt.Fprintf(bw, "Plan: %d to create, %d to update, %d to retry, %d to delete, %d unchanged, %d orphaned",
		c.Create, c.Update, c.Retry, c.Delete, c.Unchanged, c.Orphan)
	if c.Unreachable > 0 {
		fmt.Fprintf(bw, ", %d unreachable", c.Unreachable)
	}
	bw.WriteString(".\n")
	if !c.Changes() {
		fmt.Fprintln(bw, "No changes: every space in the config is already present.")
	}
	writeGuard(bw, p.Guard)
	if err := bw.Flush(); err != nil {
		return fmt.Errorf("writing plan: %w", err)
	}
	return nil
}

// adopts tells an item that takes over an existing space of its name
// rather than fail, should the create find one.
func adopts(it Item) bool {
	return (it.Action == Create || it.Action == Retry) && it.Space != nil && it.Space.Adopt
}

// joinDetail adds part to a line's detail.
func joinDetail(d, part string) string {
	if d == "" {
		return part
	}
	return d + "; " + part
}

// maxRolesShown is how many role changes a line names; beyond, it counts
// them.
const maxRolesShown = 3

// detail is what a line says in parentheses after the name.
func detail(it Item) string {
	var d []string
	switch {
	case it.RecordedKey == "" || it.Rename != nil:
	case it.Space != nil && it.Space.RecordKey() == it.RecordedKey:
		d = append(d, fmt.Sprintf("key %q", it.RecordedKey))
	default:
		d = append(d, fmt.Sprintf("recorded as %q", it.RecordedKey))
	}
	if it.Reachable {
		d = append(d, "readable again")
	}
	switch it.Action {
	case Create, Retry:
		switch {
		case it.Recreate && it.Lost != 0 && it.ConfirmName != "":
			d = append(d, fmt.Sprintf("recorded as %s, which answers %d to this account: created again under its recorded name %q only if that name is free; if it is taken, the space is kept as unreachable", it.PreviousName, it.Lost, it.ConfirmName))
		case it.Recreate && it.Lost != 0:
			d = append(d, fmt.Sprintf("recorded as %s, which answers %d to this account: created again only if its name is free; if it is taken, the space is kept as unreachable", it.PreviousName, it.Lost))
		case it.Recreate && it.PreviousName != "":
			d = append(d, fmt.Sprintf("recorded as %s but deleted since", it.PreviousName))
		case it.Recreate:
			d = append(d, "recorded but deleted since")
		}
		d = append(d, counts(it))
	case Unreachable:
		s := it.Name
		if it.Space == nil || it.Space.DisplayName == "" {
			s += ", not in the config"
		}
		d = append(d, s)
	case Update:
		if c := changes(it); c != "" {
			d = append(d, c)
		}
	case Delete:
		d = append(d, it.Name)
	case Orphan:
		s := "not in the config; left untouched"
		if it.Name != "" {
			s = it.Name + ", " + s
		}
		if it.Adopted {
			s += "; adopted: never deleted"
		}
		if it.Withheld {
			s += ": over --max-deletions"
		}
		d = append(d, s)
	}
	return strings.Join(d, "; ")
}

// counts summarises what a new space receives: "3 members, 1 owner, 0
// managers". A retry of a space recorded with roles may also change roles
// other than a new member's; those are named as an update names them.
func counts(it Item) string {
	owners, managers, other := 0, 0, false
	for _, r := range it.Roles {
		switch {
		case r.From != RoleMember:
			other = true
		case r.To == RoleOwner:
			owners++
		case r.To == RoleManager:
			managers++
		}
	}
	if other {
		return changes(it)
	}
	c := plural(len(it.AddMembers), "member") + ", " + plural(owners, "owner") + ", " + plural(managers, "manager")
	if it.Welcome {
		c += ", welcome"
	}
	return c
}

// changes says what an update does: "description, history, +2 members,
// -1 member, alice@example.com: manager → owner", or "+2 members, 5 role
// changes" beyond maxRolesShown.
func changes(it Item) string {
	parts := slices.Clone(it.Changes)
	if n := len(it.AddMembers); n > 0 {
		parts = append(parts, "+"+plural(n, "member"))
	}
	if n := len(it.RemoveMembers); n > 0 {
		parts = append(parts, "-"+plural(n, "member"))
	}
	if len(it.Roles) > maxRolesShown {
		parts = append(parts, plural(len(it.Roles), "role change"))
	} else {
		for _, r := range it.Roles {
			parts = append(parts, fmt.Sprintf("%s: %s → %s", display(r.Member), r.From, r.To))
		}
	}
	if it.Welcome {
		parts = append(parts, "welcome")
	}
	return strings.Join(parts, ", ")
}

// display is a member as a person reads it: the email of users/EMAIL, other
// resource names as they are.
func display(member string) string {
	if email, ok := strings.CutPrefix(member, "users/"); ok && strings.Contains(email, "@") {
		return email
	}
	return member
}

func plural(n int, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return fmt.Sprintf("%d %ss", n, noun)
}

// jsonPlan is the --json form of a plan; its field names are part of the
// command's interface.
type jsonPlan struct {
	File    string      `json:"file"`
	Summary jsonSummary `json:"summary"`
	// Bounds are there with --prune or --prune-members.
	Bounds *jsonBounds `json:"bounds,omitempty"`
	Spaces []jsonItem  `json:"spaces"`
}

type jsonSummary struct {
	Create    int `json:"create"`
	Update    int `json:"update"`
	Retry     int `json:"retry"`
	Delete    int `json:"delete"`
	Unchanged int `json:"unchanged"`
	Orphan    int `json:"orphan"`
	// Unreachable counts spaces this caller lost access to: kept, nothing
	// sent.
	Unreachable int `json:"unreachable"`
}

type jsonItem struct {
	Action      Action `json:"action"`
	DisplayName string `json:"displayName"`
	// Key is the results file's key, when it is not the display name
	// (the config's key:, or the name recorded).
	RecordedKey string `json:"recordedKey,omitempty"`
	// Rename is set when the space is renamed in place.
	Rename *jsonRename `json:"rename,omitempty"`
	// Lost is the HTTP status (404, 403) that made a recorded space look
	// gone to this account, unconfirmed (recreate: created again only if
	// its name is free).
	Lost         int      `json:"lost,omitempty"`
	Name         string   `json:"name,omitempty"`
	PreviousName string   `json:"previousName,omitempty"`
	RequestID    string   `json:"requestId,omitempty"`
	Principal    string   `json:"principal,omitempty"`
	Members      int      `json:"members"`
	Owners       int      `json:"owners"`
	Managers     int      `json:"managers"`
	AddMembers   []string `json:"addMembers,omitempty"`
	// RemoveMembers are members to delete (--prune-members).
	RemoveMembers []string   `json:"removeMembers,omitempty"`
	Roles         []jsonRole `json:"roles,omitempty"`
	// Changes name the settings that drifted; Patches are the
	// spaces.patch calls that set them (and, for a new space, its
	// fine-grained permissions).
	Changes  []string    `json:"changes,omitempty"`
	Patches  []jsonPatch `json:"patches,omitempty"`
	Recreate bool        `json:"recreate,omitempty"`
	Adopted  bool        `json:"adopted,omitempty"`
	Warnings []string    `json:"warnings,omitempty"`
	// Welcome is set when the welcome message is to be posted.
	Welcome bool `json:"welcome,omitempty"`

	// Withheld: --prune would delete it, but the plan is over
	// --max-deletions.
	Withheld bool `json:"withheld,omitempty"`
	// Groups are the groups named by email whose ID a refresh found
	// changed.
	Groups []jsonGroup `json:"groups,omitempty"`
}

// jsonRename is a display name changed under the same key.
type jsonRename struct {
	From string `json:"from"`
	To   string `json:"to"`
}

// jsonPatch is one spaces.patch: its updateMask, and the values it sends
// by setting name (description, permissions.manageApps…).
type jsonPatch struct {
	Mask     string            `json:"mask"`
	Settings map[string]string `json:"settings"`
}

// jsonGroup is a group named by email (member, group:EMAIL) whose
// groups/ID is now another than the one recorded (was).
type jsonGroup struct {
	Member string `json:"member"`
	Now    string `json:"now"`
	Was    string `json:"was"`
}

// jsonRole is one role change; from and to are "member", "manager"
// (ROLE_ASSISTANT_MANAGER) or "owner" (ROLE_MANAGER).
type jsonRole struct {
	Member string `json:"member"`
	From   Role   `json:"from"`
	To     Role   `json:"to"`
}

// WriteJSON prints the plan as one JSON document, items in plan order. It
// goes item by item, so that the document of a large plan is never held
// whole in memory, nor its indented copy: the bytes are those of one
// json.Encoder (two-space indentation, no HTML escaping) over jsonPlan.
func WriteJSON(w io.Writer, p *Plan) error {
	c := p.Counts()
	head := struct {
		File    string      `json:"file"`
		Summary jsonSummary `json:"summary"`
		Bounds  *jsonBounds `json:"bounds,omitempty"`
	}{
		File:    p.File,
		Summary: jsonSummary{Create: c.Create, Update: c.Update, Retry: c.Retry, Delete: c.Delete, Unchanged: c.Unchanged, Orphan: c.Orphan, Unreachable: c.Unreachable},
		Bounds:  boundsJSON(p.Guard),
	}
	var scratch bytes.Buffer
	enc := json.NewEncoder(&scratch)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	if err := enc.Encode(head); err != nil {
		return fmt.Errorf("writing plan as JSON: %w", err)
	}
	bw := bufio.NewWriter(w)
	// The head, less its closing brace, then the spaces: jsonPlan's last
	// field.
	bw.Write(bytes.TrimSuffix(scratch.Bytes(), []byte("\n}\n")))
	bw.WriteString(",\n  \"spaces\": [")
	enc.SetIndent("    ", "  ") // items sit two levels deep
	for i, it := range p.Items {
		scratch.Reset()
		if err := enc.Encode(itemJSON(it)); err != nil {
			return fmt.Errorf("writing plan as JSON: %w", err)
		}
		if i > 0 {
			bw.WriteByte(',')
		}
		bw.WriteString("\n    ")
		bw.Write(bytes.TrimSuffix(scratch.Bytes(), []byte("\n")))
	}
	if len(p.Items) > 0 {
		bw.WriteString("\n  ")
	}
	bw.WriteString("]\n}\n")
	if err := bw.Flush(); err != nil {
		return fmt.Errorf("writing plan as JSON: %w", err)
	}
	return nil
}

// itemJSON is the --json form of one item.
func itemJSON(it Item) jsonItem {
	var roles []jsonRole
	for _, r := range it.Roles {
		roles = append(roles, jsonRole(r))
	}
	var groups []jsonGroup
	for _, g := range it.Groups {
		groups = append(groups, jsonGroup(g))
	}
	var patches []jsonPatch
	for _, pa := range it.Patches {
		patches = append(patches, jsonPatch(pa))
	}
	var rename *jsonRename
	if it.Rename != nil {
		rename = &jsonRename{From: it.Rename.From, To: it.Rename.To}
	}
	var space Space
	if it.Space != nil {
		space = *it.Space
	}
	return jsonItem{
		Action:        it.Action,
		DisplayName:   it.Key,
		RecordedKey:   it.RecordedKey,
		Rename:        rename,
		Lost:          it.Lost,
		Name:          it.Name,
		PreviousName:  it.PreviousName,
		RequestID:     it.RequestID,
		Principal:     it.Principal,
		Members:       len(space.Members),
		Owners:        len(space.Owners),
		Managers:      len(space.Managers),
		AddMembers:    it.AddMembers,
		RemoveMembers: it.RemoveMembers,
		Roles:         roles,
		Changes:       it.Changes,
		Patches:       patches,
		Recreate:      it.Recreate,
		Adopted:       it.Adopted,
		Withheld:      it.Withheld,
		Warnings:      it.Warnings,
		Welcome:       it.Welcome,
		Groups:        groups,
	}
}
