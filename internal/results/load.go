package results

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"strings"
	"time"
)

// Load reads the results file at path and replays its journal over it,
// read-only: it never writes, and it takes no lock, so it shows the state
// even while a run holds it (as of the last complete journal line). A
// missing file is an empty File. As Open does, it refuses a results file
// or journal that is a symbolic link (ErrSymlink), is not a regular file,
// or, for the journal, has another name (ErrUnsafeFile). A version 1 file is shown upgraded, and
// entries with an empty status as pending or failed (see the package
// comment).
func Load(path string) (*File, error) {
	st, _, _, err := load(path)
	if err != nil {
		return nil, err
	}
	normalize(st.file)
	return st.file, nil
}

// journalRead is the journal as load read it: its size, and the file
// (nil if there was none), for Open to check that it appends to that one.
type journalRead struct {
	size int64
	info fs.FileInfo
}

// load reads path and its journal into a state. It also returns the size of
// the results file and the journal it read, for Open.
func load(path string) (st *state, fileSize int64, read journalRead, err error) {
	// The journal is read first. Without the lock, a run may fold between
	// the two reads; the file read second is then newer than the journal,
	// and replaying a journal over a file that holds its effect is harmless.
	// In the other order the fold would empty the journal unseen.
	jpath := journalPath(path)
	journal, info, err := readFileNoFollow(jpath, "results journal", true)
	switch {
	case errors.Is(err, fs.ErrNotExist):
	case errors.Is(err, ErrSymlink) || errors.Is(err, ErrUnsafeFile):
		return nil, 0, read, err
	case err != nil:
		return nil, 0, read, fmt.Errorf("reading results journal: %w", err)
	}
	read = journalRead{size: int64(len(journal)), info: info}
	f, fileSize, err := readFile(path)
	if err != nil {
		return nil, 0, read, err
	}
	st = newState(f)
	if err := replay(jpath, journal, st); err != nil {
		return nil, 0, read, err
	}
	return st, fileSize, read, nil
}

func journalPath(path string) string { return path + ".journal" }
func lockPath(path string) string    { return path + ".lock" }

// readFile reads and checks the results file; a missing file is empty.
// The file is decoded as it is read (parseStream); one that is not read
// that way is read whole, and parse reads it or says where it is wrong.
func readFile(path string) (*File, int64, error) {
	fd, fi, err := openFile(path, "results file", os.O_RDONLY, true)
	if errors.Is(err, fs.ErrNotExist) {
		return newFile(), 0, nil
	}
	if errors.Is(err, ErrSymlink) || errors.Is(err, ErrUnsafeFile) {
		return nil, 0, err
	}
	if err != nil {
		return nil, 0, fmt.Errorf("reading results file: %w", err)
	}
	defer fd.Close()
	if f, n, ok := parseStream(fd); ok {
		return f, n, nil
	}
	var data []byte
	if _, err = fd.Seek(0, io.SeekStart); err == nil {
		data, err = readSized(fd, fi.Size())
	}
	if err != nil {
		return nil, 0, fmt.Errorf("reading results file: %w", err)
	}
	f, err := parse(path, data)
	if err != nil {
		return nil, 0, err
	}
	return f, int64(len(data)), nil
}

// parse decodes a results file strictly. Errors name the file and, where
// the position is known, its line and column.
func parse(path string, data []byte) (*File, error) {
	at := func(off int64, err error) error {
		line, col := position(data, off)
		return fmt.Errorf("results file %q: line %d, column %d: %w", path, line, col, err)
	}
	if len(bytes.TrimSpace(data)) == 0 {
		return nil, fmt.Errorf("results file %q: empty", path)
	}
	// A full syntax check first gives exact offsets for malformed JSON and
	// trailing data; the walk below can then trust the syntax. It copies
	// nothing: values are read where they lie in data.
	if !json.Valid(data) {
		var raw json.RawMessage
		err := json.Unmarshal(data, &raw)
		var syn *json.SyntaxError
		if errors.As(err, &syn) {
			// The offset is just past the offending byte.
			return nil, at(syn.Offset-1, err)
		}
		return nil, fmt.Errorf("results file %q: %w", path, err)
	}

	off := skipSpace(data, 0)
	if data[off] != '{' {
		return nil, at(0, errors.New("not a JSON object"))
	}
	f := &File{Spaces: map[string]*Entry{}}
	seen := map[string]bool{}
	// The spaces are decoded once the version is known, wherever it is in
	// the object: how an entry reads depends on it.
	var spaces, deleted []byte
	var spacesOff, deletedOff int64
	for off = skipSpace(data, off+1); data[off] != '}'; {
		keyEnd := skipValue(data, off)
		var key string
		if err := json.Unmarshal(data[off:keyEnd], &key); err != nil {
			return nil, at(int64(off), err)
		}
		keyOff := int64(keyEnd)
		valStart := skipSpace(data, skipSpace(data, keyEnd)+1) // past the colon
		valEnd := skipValue(data, valStart)
		raw, valOff := data[valStart:valEnd], int64(valStart)
		if off = skipSpace(data, valEnd); data[off] == ',' {
			off = skipSpace(data, off+1)
		}
		if seen[key] {
			return nil, at(keyOff, fmt.Errorf("duplicate key %q", key))
		}
		seen[key] = true
		switch key {
		case "version":
			if err := decodeStrict(raw, &f.Version); err != nil {
				return nil, at(valOff, fmt.Errorf("version: %w", err))
			}
			if f.Version != 1 && f.Version != Version {
				return nil, at(valOff, fmt.Errorf("unsupported version %d (this program reads versions 1 to %d)", f.Version, Version))
			}
		case "updatedAt":
			var t *time.Time
			if err := decodeStrict(raw, &t); err != nil {
				return nil, at(valOff, fmt.Errorf("updatedAt: %w", err))
			}
			if t != nil {
				f.UpdatedAt = *t
			}
		case "spaces":
			spaces, spacesOff = raw, valOff
		case "deleted":
			deleted, deletedOff = raw, valOff
		default:
			return nil, at(keyOff, fmt.Errorf("unknown field %q", key))
		}
	}
	if !seen["version"] {
		return nil, at(0, errors.New("missing version"))
	}
	if spaces != nil {
		if err := parseSpaces(spaces, spacesOff, f.Version, f.Spaces, at); err != nil {
			return nil, err
		}
	}
	if deleted != nil {
		var err error
		if f.Deleted, err = parseDeleted(deleted, deletedOff, f.Version, at); err != nil {
			return nil, err
		}
	}
	// From here on the file is in the current format: a version 1 file is
	// upgraded as it is read, and written back as the current version.
	f.Version = Version
	return f, nil
}

// parseSpaces decodes the value of "spaces" (an object, or null for none),
// which starts at offset base of a file of the given version. One decoder
// reads the whole object, an entry at a time, into the entries it keeps:
// no entry is copied or buffered on the way.
func parseSpaces(raw []byte, base int64, version int, spaces map[string]*Entry, at func(int64, error) error) error {
	if string(raw) == "null" {
		return nil
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	if tok, _ := dec.Token(); tok != json.Delim('{') {
		return at(base, errors.New("spaces: not an object"))
	}
	sh := newSharer()
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return at(base+dec.InputOffset(), fmt.Errorf("spaces: %w", err))
		}
		key, ok := tok.(string)
		if !ok {
			return at(base+dec.InputOffset(), fmt.Errorf("spaces: unexpected %v", tok))
		}
		keyOff := dec.InputOffset()
		if _, dup := spaces[key]; dup {
			return at(base+keyOff, fmt.Errorf("spaces: duplicate key %q", key))
		}
		valOff := int64(skipSpace(raw, skipSpace(raw, int(keyOff))+1)) // past the colon
		var e *Entry
		err = dec.Decode(&e)
		if err == nil {
			err = checkParsed(e, version)
		}
		if err != nil {
			off := base + valOff
			if typ := (*json.UnmarshalTypeError)(nil); errors.As(err, &typ) {
				off += typ.Offset
			}
			return at(off, fmt.Errorf("spaces[%q]: %w", key, err))
		}
		spaces[sh.compact(key, e)] = e
	}
	return nil
}

// parseDeleted decodes the value of "deleted" (a list, or null for none),
// which starts at offset base of a file of the given version.
func parseDeleted(raw []byte, base int64, version int, at func(int64, error) error) ([]*Deleted, error) {
	if string(raw) == "null" {
		return nil, nil
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	if tok, _ := dec.Token(); tok != json.Delim('[') {
		return nil, at(base, errors.New("deleted: not a list"))
	}
	var out []*Deleted
	for i := 0; dec.More(); i++ {
		var item json.RawMessage
		if err := dec.Decode(&item); err != nil {
			return nil, at(base+dec.InputOffset(), fmt.Errorf("deleted: %w", err))
		}
		off := base + dec.InputOffset() - int64(len(item))
		var d *Deleted
		err := decodeStrict(item, &d)
		if err == nil && d != nil && d.Entry != nil && version == 1 {
			err = upgradeV1(d.Entry)
		}
		if err == nil {
			err = checkDeleted(d)
		}
		if err != nil {
			if typ := (*json.UnmarshalTypeError)(nil); errors.As(err, &typ) {
				off += typ.Offset
			}
			return nil, at(off, fmt.Errorf("deleted[%d]: %w", i, err))
		}
		out = append(out, d)
	}
	return out, nil
}

// checkParsed checks one entry decoded from a file of the given version
// and upgrades it to the current version.
func checkParsed(e *Entry, version int) error {
	if e == nil {
		return errors.New("null entry")
	}
	if version == 1 {
		if err := upgradeV1(e); err != nil {
			return err
		}
	}
	return checkEntry(e)
}

// upgradeV1 turns an entry of a version 1 file into the current format.
// Version 1 made the config's managers ROLE_MANAGER, which the Chat UI calls
// Owner: its applied managers are owners. It had no owners list; one in a
// version 1 file cannot be told apart from those managers, so it is an
// error.
func upgradeV1(e *Entry) error {
	a := e.Applied
	if a == nil {
		return nil
	}
	if a.Owners != nil {
		return errors.New(`applied owners in a version 1 file, where "managers" meant owners: set "version" to 2 and list each person once, as an owner or a manager`)
	}
	a.Owners, a.Managers = a.Managers, nil
	// An owner was made a member first; say so where version 1 did not.
	a.Members = union(a.Members, a.Owners)
	return nil
}

// duplicateKey reports a key that a JSON object (line), or an object in
// it, holds twice, compared as encoding/json matches field names (without
// case). A line that is not valid JSON reports none: decoding says why.
func duplicateKey(line []byte) (string, bool) {
	dec := json.NewDecoder(bytes.NewReader(line))
	type object struct{ seen map[string]bool }
	var stack []*object
	expectKey := false
	for {
		tok, err := dec.Token()
		if err != nil {
			return "", false
		}
		switch t := tok.(type) {
		case json.Delim:
			switch t {
			case '{':
				stack = append(stack, &object{seen: map[string]bool{}})
				expectKey = true
				continue
			case '}':
				stack = stack[:len(stack)-1]
			case '[':
				stack = append(stack, nil)
			case ']':
				stack = stack[:len(stack)-1]
			}
		case string:
			if top := len(stack) - 1; top >= 0 && stack[top] != nil && expectKey {
				k := strings.ToLower(t)
				if stack[top].seen[k] {
					return t, true
				}
				stack[top].seen[k] = true
				expectKey = false
				continue
			}
		}
		// After a value inside an object comes a key again.
		expectKey = len(stack) > 0 && stack[len(stack)-1] != nil
		if len(stack) == 0 {
			return "", false
		}
	}
}

// decodeStrict decodes exactly one JSON value from data into v, rejecting
// unknown fields and anything after the value.
func decodeStrict(data []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return err
	}
	if _, err := dec.Token(); err != io.EOF {
		return errors.New("unexpected data after the value")
	}
	return nil
}

// position converts a byte offset in data to a 1-based line and column.
func position(data []byte, off int64) (line, col int) {
	off = max(0, min(off, int64(len(data))))
	before := data[:off]
	line = bytes.Count(before, []byte("\n")) + 1
	col = int(off) - (bytes.LastIndexByte(before, '\n') + 1) + 1
	return line, col
}

// journalHeader is the first line of every journal this version writes.
// A journal without it was written by version 1, whose entry events list
// as "managers" the people made ROLE_MANAGER: owners. Events alone cannot
// tell, and the results file beside the journal may be missing (a first
// run that crashed), so the journal says its version itself.
var journalHeader = []byte(fmt.Sprintf(`{"version":%d}`+"\n", Version))

// header reports whether a journal line is a header, and its version.
func header(line []byte) (version int, ok bool) {
	var h struct {
		Version *int `json:"version"`
	}
	if decodeStrict(line, &h) != nil || h.Version == nil {
		return 0, false
	}
	return *h.Version, true
}

// replay applies the journal data, read from path, to st. Only complete
// lines count: whatever follows the last newline was being appended when
// the writer died, and its Record never returned. A journal of version 1
// (no header) is upgraded as it is read, as a results file of version 1
// is: the applied managers of its entries, and its manager events, are
// owners.
func replay(path string, data []byte, st *state) error {
	complete := data[:bytes.LastIndexByte(data, '\n')+1]
	legacy := true
	for n := 1; len(complete) > 0; n++ {
		line, rest, _ := bytes.Cut(complete, []byte("\n"))
		complete = rest
		if len(bytes.TrimSpace(line)) == 0 {
			continue
		}
		if n == 1 {
			if v, ok := header(line); ok {
				if v != Version {
					return fmt.Errorf("results journal %q: line 1: unsupported version %d (this program reads journals of versions 1 and %d)", path, v, Version)
				}
				legacy = false
				continue
			}
		}
		if key, dup := duplicateKey(line); dup {
			// encoding/json would keep the last of two; a line that says
			// two things is damaged, not one of them.
			return fmt.Errorf("results journal %q: line %d: duplicate key %q", path, n, key)
		}
		var ev Event
		if err := decodeStrict(line, &ev); err != nil {
			return fmt.Errorf("results journal %q: line %d: %w", path, n, err)
		}
		if legacy && ev.Entry != nil {
			if err := upgradeV1(ev.Entry); err != nil {
				return fmt.Errorf("results journal %q: line %d: entry: %w", path, n, err)
			}
		}
		if err := checkEvent(&ev); err != nil {
			return fmt.Errorf("results journal %q: line %d: %w", path, n, err)
		}
		st.apply(&ev)
	}
	return nil
}
