package plan

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"unicode/utf8"

	"go.yaml.in/yaml/v3"
)

// Limits of the Chat API, in characters (runes), as the API counts them.
const (
	MaxDisplayName = 128
	MaxDescription = 4096
	MaxGuidelines  = 5000
	// MaxWelcome is a Chat message's limit, in bytes (32,000: the
	// Limits page, message size).
	MaxWelcome = 32000
)

// Options are the facts about the run that decide what a valid file is.
type Options struct {
	// App is set when the run uses Chat app authentication, which can
	// neither add Google Groups nor set a target audience.
	App bool
	// Include reads a CSV file a YAML config names under include:, by
	// its path joined to the config's directory; nil refuses include:.
	Include func(path string) ([]byte, error)
}

// The keys each level of the file accepts, in the order suggestions are
// tried. settingKeys are shared by defaults and spaces.
var (
	rootKeys    = []string{"defaults", "spaces", "include"}
	settingKeys = []string{"description", "guidelines", "history", "externalUsers", "audience", "permissions", "members", "owners", "managers", "adopt", "welcome"}
	spaceKeys   = append([]string{"displayName", "key"}, settingKeys...)
)

// Parse reads and validates a config file. file names it in problems; data
// is its content. It returns every problem found, as Problems, or the spaces
// with defaults applied and members normalised. It never panics, and its work
// is linear in the size of data even when YAML aliases are used.
//
// A file whose name ends in .csv is read as CSV (ParseCSV).
func Parse(file string, data []byte, opts Options) (*Config, error) {
	if IsCSV(file) {
		return ParseCSV(file, data, opts)
	}
	p := readYAML(file, data, opts, true)
	if len(p.problems) > 0 {
		p.problems.sort(file)
		return nil, p.problems.unique()
	}
	return &Config{File: file, Spaces: p.spaces, App: opts.App,
		MaxDeletions: DefaultMaxDeletions, MaxRemovals: DefaultMaxRemovals}, nil
}

// readYAML parses and validates a YAML config. With split, a block-style
// spaces: list is read a batch of items at a time where that reads the file
// as a whole would (split.go); else, and when it cannot, the file is read
// whole.
func readYAML(file string, data []byte, opts Options, split bool) *parser {
	p := &parser{
		file: file,
		opts: opts,
		// Without aliases every node is visited once, and a node takes at
		// least half a byte of input; aliases may revisit nodes, up to this
		// budget.
		budget: 4*len(data) + 1024,
	}
	if p.scanText(data) {
		return p
	}
	if split {
		if l, ok := findSpacesList(data); ok {
			q := *p
			q.data, q.list = data, l
			if doc := q.document(l.header); doc != nil {
				q.config(doc)
			}
			if !q.bail && q.listRead {
				return &q
			}
		}
	}
	if doc := p.document(data); doc != nil {
		p.config(doc)
	}
	return p
}

type parser struct {
	file     string
	opts     Options
	problems Problems
	spaces   []Space
	// defaultSettings is Space.Settings of a space that states no setting
	// of its own, shared by all of them.
	defaultSettings Settings
	// budget counts nodes that may still be visited; aliases make the
	// tree a graph, and a small file could otherwise expand exponentially.
	budget  int
	tooDeep bool
	// list, when set, is the spaces: list found in data, which the
	// document parsed lacks; it is read a batch at a time (split.go).
	// bail says that it cannot be, and listRead that it was.
	data     []byte
	list     *spacesList
	bail     bool
	listRead bool
}

func (p *parser) add(n *yaml.Node, format string, args ...any) {
	p.addAt(n.Line, n.Column, format, args...)
}

func (p *parser) addAt(line, col int, format string, args ...any) {
	p.problems = append(p.problems, Problem{File: p.file, Line: line, Col: col, Msg: fmt.Sprintf(format, args...)})
}

// resolve follows an alias to its anchored node and charges the visit to the
// budget. It returns nil once the budget is spent; callers stop walking.
func (p *parser) resolve(n *yaml.Node) *yaml.Node {
	from := n
	for i := 0; n != nil && n.Kind == yaml.AliasNode; i++ {
		if i == 16 || n.Alias == nil {
			p.add(from, "alias %q does not resolve", from.Value)
			return nil
		}
		n = n.Alias
	}
	if p.budget--; p.budget < 0 {
		if !p.tooDeep {
			p.tooDeep = true
			p.add(from, "aliases expand the file to too many values; the rest of the file was not checked")
		}
		return nil
	}
	return n
}

// document parses the YAML into its document node, or reports why it
// cannot. When the document is the file without its spaces list (p.list),
// an error is not reported but makes the file be read whole.
func (p *parser) document(data []byte) (doc *yaml.Node) {
	// The parser may panic on inputs it deems internal errors; a config
	// file must never crash the program.
	defer func() {
		if r := recover(); r != nil {
			p.addAt(0, 0, "invalid YAML: %v", r)
			doc = nil
		}
		if p.list != nil && len(p.problems) > 0 {
			p.bail, doc = true, nil
		}
	}()
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var first yaml.Node
	if err := dec.Decode(&first); err != nil {
		if errors.Is(err, io.EOF) {
			p.addAt(1, 1, `empty file: expected a "spaces" list`)
		} else {
			p.syntax(data, err)
		}
		return nil
	}
	var next yaml.Node
	switch err := dec.Decode(&next); {
	case errors.Is(err, io.EOF):
	case err != nil:
		p.syntax(data, err)
	default:
		// A second document would be silently ignored by most readers;
		// its spaces would never be created.
		p.add(&next, `a second YAML document ("---"): the file must hold one document`)
	}
	return &first
}

// syntax reports a YAML syntax error at the position locate finds, with the
// parser's message: its wording is libyaml's, the one YAML users meet
// elsewhere.
func (p *parser) syntax(data []byte, err error) {
	msg, line := yamlError(err)
	at := locate(data, msg, line)
	if at.runsTo > 0 {
		p.addAt(at.line, at.col, "invalid YAML: the string quoted here runs on to line %d (is its closing quote missing?): %s", at.runsTo, msg)
		return
	}
	p.addAt(at.line, at.col, "invalid YAML: %s", msg)
}

// config walks the document.
func (p *parser) config(doc *yaml.Node) {
	root := doc
	if doc.Kind == yaml.DocumentNode {
		if len(doc.Content) == 0 {
			p.addAt(1, 1, `empty file: expected a "spaces" list`)
			return
		}
		root = doc.Content[0]
	}
	if root = p.resolve(root); root == nil {
		return
	}
	if isNull(root) {
		p.addAt(1, 1, `empty file: expected a "spaces" list`)
		return
	}
	if root.Kind != yaml.MappingNode {
		p.add(root, `the file must be a mapping with a "spaces" list, not a %s`, kindName(root))
		return
	}
	var defaults settings
	var spacesKey, spacesNode, includeNode *yaml.Node
	p.fields(root, "at top level", rootKeys, func(key string, k, v *yaml.Node) {
		switch key {
		case "defaults":
			if v = p.resolve(v); v == nil || isNull(v) {
				return
			}
			if v.Kind != yaml.MappingNode {
				p.add(v, "defaults must be a mapping, not a %s", kindName(v))
				return
			}
			p.fields(v, "in defaults", settingKeys, func(key string, k, v *yaml.Node) {
				p.setting(&defaults, key, k, v)
			})
		case "spaces":
			spacesKey, spacesNode = k, v
		case "include":
			includeNode = v
		}
	})
	seen := make(map[Key]identity)
	if p.list != nil && (spacesKey == nil || !p.list.holds(spacesKey, spacesNode)) {
		// The file is read whole, and its includes with it: not here too.
		p.bail = true
		return
	}
	if includeNode != nil {
		// The spaces of included files come after the file's own.
		defer func() {
			if !p.bail {
				p.includes(includeNode, &defaults, seen)
			}
		}()
		if spacesKey == nil {
			return
		}
	}
	if p.list != nil {
		if p.splitSpaces(p.data, p.list, &defaults, seen) != nil {
			p.bail = true
			return
		}
		p.listRead = true
		return
	}
	if spacesKey == nil {
		p.add(root, `missing "spaces" list`)
		return
	}
	list := p.resolve(spacesNode)
	switch {
	case list == nil:
		return
	case isNull(list) && includeNode != nil:
		return
	case isNull(list):
		p.add(spacesKey, `"spaces" is empty: list at least one space`)
		return
	case list.Kind != yaml.SequenceNode:
		p.add(list, "spaces must be a list, not a %s", kindName(list))
		return
	case len(list.Content) == 0 && includeNode != nil:
		return
	case len(list.Content) == 0:
		p.add(list, `"spaces" is empty: list at least one space`)
		return
	}
	p.spaces = make([]Space, 0, len(list.Content))
	for i, item := range list.Content {
		if p.tooDeep {
			return
		}
		p.space(item, &defaults, seen)
		// The space is decoded: its nodes are no longer needed (problems
		// and identities keep positions, not nodes), so the tree shrinks
		// as the spaces grow rather than both being held whole. An alias
		// to an anchor in it still reaches the anchor through the alias;
		// an anchored list itself may be reached again by an alias in a
		// later space, and is kept whole.
		if list.Anchor == "" {
			list.Content[i] = nil
		}
	}
}

// identity is where a Key was first met in the config: the line of the
// display name or key it came from, and which of the two it was.
type identity struct {
	file  string // the file it is written in
	line  int
	col   int
	field string // "displayName" or "key"
	text  string
}

// space validates one entry of spaces and appends it, defaults applied.
func (p *parser) space(item *yaml.Node, defaults *settings, seen map[Key]identity) {
	n := p.resolve(item)
	if n == nil {
		return
	}
	if n.Kind != yaml.MappingNode {
		p.add(n, "each space must be a mapping with a displayName, not a %s", kindName(n))
		return
	}
	var own settings
	var name, key string
	var nameNode, keyNode *yaml.Node
	p.fields(n, "in space", spaceKeys, func(field string, k, v *yaml.Node) {
		switch field {
		case "displayName":
			nameNode = k
			if text, ok := p.name(k, v); ok {
				nameNode, name = v, text
			}
		case "key":
			if text, ok := p.name(k, v); ok && text != "" {
				keyNode, key = v, text
			}
		default:
			p.setting(&own, field, k, v)
		}
	})
	if nameNode == nil {
		p.add(n, "space has no displayName")
	}
	// One identity per name: a display name and a key (when it is not
	// the display name itself) each claim theirs, and no two spaces may
	// claim the same one, in any case or Unicode form.
	claim := func(node *yaml.Node, field, text string) {
		id := KeyOf(text)
		first, dup := seen[id]
		if !dup {
			seen[id] = identity{file: p.file, line: node.Line, col: node.Column, field: field, text: text}
			return
		}
		switch {
		case field == "displayName" && first.field == "displayName":
			p.add(node, "displayName %s is already used by the space at %s (%s): names that differ only in case, Unicode form or surrounding white space are the same space",
				quote(text), p.where(first), quote(first.text))
		case field == "key" && first.field == "key":
			p.add(node, "key %s is already the key of the space at %s (%s): each space's key is its own",
				quote(text), p.where(first), quote(first.text))
		case field == "key":
			p.add(node, "key %s is the displayName of the space at %s (%s): a key names the space whose display name it was, so it may not be another space's name",
				quote(text), p.where(first), quote(first.text))
		default:
			p.add(node, "displayName %s is the key of the space at %s (%s): a key names the space whose display name it was, so it may not be another space's name",
				quote(text), p.where(first), quote(first.text))
		}
	}
	if name != "" {
		claim(nameNode, "displayName", name)
	}
	if key != "" && KeyOf(key) != KeyOf(name) {
		claim(keyNode, "key", key)
	}
	if key == "" {
		key = name
	}
	perms := mergePermissions(defaults.perms, own.perms)
	p.spaces = append(p.spaces, Space{
		DisplayName:   name,
		Key:           key,
		Description:   own.description.or(defaults.description),
		Guidelines:    own.guidelines.or(defaults.guidelines),
		History:       own.history.or(defaults.history),
		ExternalUsers: boolPtr(own.externalUsers, defaults.externalUsers),
		Audience:      own.audience.or(defaults.audience),
		Permissions:   own.permissions.or(defaults.permissions),
		// An owner or a manager must be a member first: those not listed
		// as members are added as members.
		Members:  merge(defaults.members, own.members, defaults.owners, own.owners, defaults.managers, own.managers),
		Owners:   merge(defaults.owners, own.owners),
		Managers: merge(defaults.managers, own.managers),
		Adopt:    own.adopt.or(defaults.adopt),
		Welcome:  own.welcome.or(defaults.welcome),
		// Both maps may be shared between spaces.
		PermissionSettings: perms,
		Settings:           stated(defaults, &own, perms, &p.defaultSettings),
		Line:               n.Line,
		Col:                n.Column,
	})
	p.oneRole(defaults, &own)
}

// name returns the text of a displayName or key: trimmed, in NFC (Text),
// and checked as a display name is, since a key is the name a space had.
// ok is false when the value is not text (reported) or null; an empty
// text is reported and returned as "".
func (p *parser) name(k, v *yaml.Node) (string, bool) {
	s, ok := p.text(k, v)
	if !ok {
		return "", false
	}
	field := k.Value
	name := Text(s)
	switch count := utf8.RuneCountInString(name); {
	case count == 0:
		p.add(v, "%s is empty", field)
	case count > MaxDisplayName:
		p.add(v, "%s is %d characters, over the limit of %d: %s", field, count, MaxDisplayName, quote(name))
	default:
		if why := nameProblem(name); why != "" {
			p.add(v, "%s %s %s", field, quote(name), why)
		}
	}
	return name, true
}

// text returns a scalar's text. Numbers and booleans count as their text
// (a display name "2026" needs no quotes); null counts as unset.
func (p *parser) text(k, v *yaml.Node) (string, bool) {
	if v = p.resolve(v); v == nil {
		return "", false
	}
	if v.Kind != yaml.ScalarNode {
		p.add(v, "%s must be a string, not a %s", k.Value, kindName(v))
		return "", false
	}
	if isNull(v) {
		if k.Value == "displayName" || k.Value == "key" {
			return "", true // reported as empty
		}
		return "", false
	}
	return v.Value, true
}

func isNull(n *yaml.Node) bool {
	return n.Kind == yaml.ScalarNode && n.Tag == "!!null"
}

// kindName names a node's kind as a user would.
func kindName(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "mapping"
	case yaml.SequenceNode:
		return "list"
	case yaml.DocumentNode:
		return "document"
	case yaml.AliasNode:
		return "alias"
	}
	switch n.Tag {
	case "!!int", "!!float":
		return "number"
	case "!!bool":
		return "boolean"
	case "!!null":
		return "null"
	}
	return "string"
}

// describe names a value of the wrong kind: `the string "x"`, `a mapping`.
func describe(n *yaml.Node) string {
	if n.Kind == yaml.ScalarNode {
		return "the " + kindName(n) + " " + quote(n.Value)
	}
	return "a " + kindName(n)
}

// valueOf names a wrong value of the right kind: its quoted text, or its kind
// when it is not a scalar.
func valueOf(n *yaml.Node) string {
	if n.Kind == yaml.ScalarNode {
		return quote(n.Value)
	}
	return "a " + kindName(n)
}
