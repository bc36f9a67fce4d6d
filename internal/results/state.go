package results

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"
	"time"
)

// interrupted is the error shown for an entry whose status is still empty:
// its create call was about to be sent, or in flight, when the run stopped.
const interrupted = "interrupted before the outcome was recorded; the next run retries with the same requestId"

// newFile returns an empty results file.
func newFile() *File {
	return &File{Version: Version, Spaces: map[string]*Entry{}}
}

// clone returns a deep copy of e.
func (e *Entry) clone() *Entry {
	if e == nil {
		return nil
	}
	c := *e
	if e.CreatedAt != nil {
		t := *e.CreatedAt
		c.CreatedAt = &t
	}
	if e.Members != nil {
		m := *e.Members
		m.Missing = slices.Clone(e.Members.Missing)
		m.Pending = slices.Clone(e.Members.Pending)
		c.Members = &m
	}
	if e.Applied != nil {
		c.Applied = &Applied{
			Members:  slices.Clone(e.Applied.Members),
			Managers: slices.Clone(e.Applied.Managers),
		}
	}
	return &c
}

// normalized returns e as it is shown and written: an entry with an empty
// status becomes a failed one (see the package comment). e itself is
// returned when it needs no change, so the result must not be modified.
func normalized(e *Entry) *Entry {
	if e.Status != "" {
		return e
	}
	c := e.clone()
	c.Status = Failed
	if c.Error == "" {
		c.Error = interrupted
	}
	return c
}

// checkEntry reports why e may not be written to a results file.
func checkEntry(e *Entry) error {
	switch e.Status {
	case Created, Existing:
		if e.Name == "" {
			return fmt.Errorf("status %q without a name", e.Status)
		}
	case Failed:
	case "":
		return errors.New("missing status")
	default:
		return fmt.Errorf("unknown status %q (want %q, %q or %q)", e.Status, Created, Existing, Failed)
	}
	if e.Name != "" {
		id, ok := strings.CutPrefix(e.Name, "spaces/")
		if !ok || id == "" || strings.Contains(id, "/") {
			return fmt.Errorf("name %q is not spaces/ID", e.Name)
		}
		if e.ID != "" && e.ID != id {
			return fmt.Errorf("id %q does not match name %q", e.ID, e.Name)
		}
	}
	if e.Applied != nil {
		if slices.Contains(e.Applied.Members, "") {
			return errors.New("empty name in applied members")
		}
		if slices.Contains(e.Applied.Managers, "") {
			return errors.New("empty name in applied managers")
		}
	}
	return nil
}

// checkEvent reports why ev may not be recorded.
func checkEvent(ev *Event) error {
	if ev.Space == "" {
		return errors.New("event without a space")
	}
	n := 0
	if ev.Entry != nil {
		n++
	}
	if ev.Member != "" {
		n++
	}
	if ev.Manager != "" {
		n++
	}
	if n != 1 {
		return errors.New("event must set exactly one of entry, member and manager")
	}
	if ev.Entry != nil {
		if err := checkEntry(normalized(ev.Entry)); err != nil {
			return fmt.Errorf("entry: %w", err)
		}
	}
	return nil
}

// state is a File being built by events, with per-space sets that keep
// adding a member linear in the number of members.
type state struct {
	file *File
	sets map[string]*appliedSet // built on first add; dropped when the entry is replaced
}

type appliedSet struct {
	members, managers map[string]bool
}

func newState(f *File) *state {
	return &state{file: f, sets: map[string]*appliedSet{}}
}

// apply folds one valid event into the state. Both kinds of event are
// idempotent (replace, set-add), so replaying a journal over a file that
// already holds its effect changes nothing. The state takes ev.Entry as it
// is: its callers hand over entries no one else holds (a Record's copy, a
// journal line just decoded).
func (s *state) apply(ev *Event) {
	if ev.Entry != nil {
		s.file.Spaces[ev.Space] = ev.Entry
		delete(s.sets, ev.Space)
		return
	}
	e := s.file.Spaces[ev.Space]
	if e == nil {
		e = &Entry{}
		s.file.Spaces[ev.Space] = e
	}
	if e.Applied == nil {
		e.Applied = &Applied{}
	}
	set := s.sets[ev.Space]
	if set == nil {
		set = &appliedSet{members: map[string]bool{}, managers: map[string]bool{}}
		for _, m := range e.Applied.Members {
			set.members[m] = true
		}
		for _, m := range e.Applied.Managers {
			set.managers[m] = true
		}
		s.sets[ev.Space] = set
	}
	if m := ev.Member; m != "" && !set.members[m] {
		set.members[m] = true
		e.Applied.Members = append(e.Applied.Members, m)
	}
	if m := ev.Manager; m != "" && !set.managers[m] {
		set.managers[m] = true
		e.Applied.Managers = append(e.Applied.Managers, m)
	}
}

// normalize makes every entry of f presentable in place (see normalized).
func normalize(f *File) {
	for k, e := range f.Spaces {
		f.Spaces[k] = normalized(e)
	}
}

// snapshot returns a deep copy of the state as it would be written.
func (s *state) snapshot() *File {
	f := &File{Version: s.file.Version, UpdatedAt: s.file.UpdatedAt, Spaces: make(map[string]*Entry, len(s.file.Spaces))}
	for k, e := range s.file.Spaces {
		f.Spaces[k] = normalized(e.clone())
	}
	return f
}

// encode writes the results file for the state, stamped with now, to w. It
// only reads the state, and shares its entries rather than copying them.
func (s *state) encode(w io.Writer, now time.Time) error {
	return writeFile(w, &File{Version: Version, UpdatedAt: now, Spaces: s.file.Spaces}, normalized)
}

// encodeFile renders f in the results-file format.
func encodeFile(f *File) ([]byte, error) {
	var buf bytes.Buffer
	if err := writeFile(&buf, f, func(e *Entry) *Entry { return e }); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// writeFile renders f, each entry passed through show, in the results-file
// format: the bytes of a json.Encoder with two-space indentation and no HTML
// escaping (so that a display name such as "R&D" stays readable), keys
// sorted, a final newline. It goes entry by entry, so that a large file is
// never held whole in memory, nor its indented copy.
func writeFile(w io.Writer, f *File, show func(*Entry) *Entry) error {
	var scratch bytes.Buffer
	enc := json.NewEncoder(&scratch)
	enc.SetEscapeHTML(false)
	enc.SetIndent("    ", "  ") // entries sit two levels deep
	// value renders v as it would appear at its place in the whole file.
	value := func(v any) ([]byte, error) {
		scratch.Reset()
		if err := enc.Encode(v); err != nil {
			return nil, fmt.Errorf("encoding results: %w", err)
		}
		return bytes.TrimSuffix(scratch.Bytes(), []byte("\n")), nil
	}
	bw := bufio.NewWriter(w)
	updated, err := value(f.UpdatedAt)
	if err != nil {
		return err
	}
	fmt.Fprintf(bw, "{\n  \"version\": %d,\n  \"updatedAt\": %s,\n  \"spaces\": ", f.Version, updated)
	switch {
	case f.Spaces == nil:
		bw.WriteString("null")
	case len(f.Spaces) == 0:
		bw.WriteString("{}")
	default:
		bw.WriteString("{\n")
		keys := slices.Sorted(maps.Keys(f.Spaces))
		for i, k := range keys {
			bw.WriteString("    ")
			b, err := value(k)
			if err != nil {
				return err
			}
			bw.Write(b)
			bw.WriteString(": ")
			if b, err = value(show(f.Spaces[k])); err != nil {
				return err
			}
			bw.Write(b)
			if i < len(keys)-1 {
				bw.WriteByte(',')
			}
			bw.WriteByte('\n')
		}
		bw.WriteString("  }")
	}
	bw.WriteString("\n}\n")
	if err := bw.Flush(); err != nil {
		return fmt.Errorf("writing results: %w", err)
	}
	return nil
}
