// Writing a config: the spaces an import found, as a YAML file this
// package reads back to the same spaces.

package plan

import (
	"bytes"
	"slices"
	"strings"

	"go.yaml.in/yaml/v3"
)

// Written is one space as a written config states it. Members are
// resource names (users/EMAIL, users/ID, groups/ID) or group:EMAIL; owners
// and managers are among them or not (a written file lists each person
// once, under the role they have). Settings are by setting name
// (SetDescription…, SetPermissionPrefix+KEY); those absent are not
// written, so not managed.
type Written struct {
	DisplayName string
	Settings    map[string]string
	Members     []string
	Owners      []string
	Managers    []string
	Adopt       bool
}

// MarshalConfig writes spaces as a YAML config, header (lines of text) as
// its opening comment. The order is the one given, and within a space
// fixed: the same spaces always give the same bytes.
func MarshalConfig(header string, spaces []Written) ([]byte, error) {
	list := &yaml.Node{Kind: yaml.SequenceNode}
	for _, s := range spaces {
		m := &yaml.Node{Kind: yaml.MappingNode}
		str := func(key, value string) {
			m.Content = append(m.Content, scalar(key), scalar(value))
		}
		str("displayName", s.DisplayName)
		for _, k := range []string{SetDescription, SetGuidelines, SetHistory, SetAudience} {
			if v, ok := s.Settings[k]; ok {
				if k == SetAudience && v == "audiences/default" {
					v = "default"
				}
				str(k, v)
			}
		}
		var perms []*yaml.Node
		for _, k := range PermissionKeys {
			if v, ok := s.Settings[SetPermissionPrefix+k]; ok {
				perms = append(perms, scalar(k), scalar(v))
			}
		}
		if len(perms) > 0 {
			m.Content = append(m.Content, scalar("permissions"), &yaml.Node{Kind: yaml.MappingNode, Content: perms})
		}
		roles := append(slices.Clone(s.Owners), s.Managers...)
		var plain []string
		for _, x := range s.Members {
			if !slices.Contains(roles, x) {
				plain = append(plain, x)
			}
		}
		for _, l := range []struct {
			key   string
			names []string
		}{{"members", plain}, {"owners", s.Owners}, {"managers", s.Managers}} {
			if len(l.names) == 0 {
				continue
			}
			seq := &yaml.Node{Kind: yaml.SequenceNode}
			for _, x := range l.names {
				seq.Content = append(seq.Content, scalar(writtenMember(x)))
			}
			m.Content = append(m.Content, scalar(l.key), seq)
		}
		if s.Adopt {
			m.Content = append(m.Content, scalar("adopt"), &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!bool", Value: "true"})
		}
		list.Content = append(list.Content, m)
	}
	root := &yaml.Node{Kind: yaml.MappingNode, Content: []*yaml.Node{scalar("spaces"), list}}
	doc := &yaml.Node{Kind: yaml.DocumentNode, Content: []*yaml.Node{root}, HeadComment: comment(header)}
	var b bytes.Buffer
	enc := yaml.NewEncoder(&b)
	enc.SetIndent(2)
	if err := enc.Encode(doc); err != nil {
		return nil, err
	}
	if err := enc.Close(); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}

// scalar is a string node: the encoder quotes what would read back as
// another kind (a number, a boolean, null).
func scalar(s string) *yaml.Node {
	return &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: s}
}

// writtenMember is a member as a person writes it: a user by email as the
// email itself.
func writtenMember(m string) string {
	if rest, ok := strings.CutPrefix(m, "users/"); ok && strings.Contains(rest, "@") {
		return rest
	}
	return m
}

// comment turns lines of text into a YAML comment's text, each line's "# "
// added by the encoder.
func comment(text string) string {
	text = strings.TrimSpace(text)
	if text == "" {
		return ""
	}
	lines := strings.Split(text, "\n")
	for i, l := range lines {
		lines[i] = "# " + strings.TrimRight(l, " \t\r")
	}
	return strings.Join(lines, "\n")
}
