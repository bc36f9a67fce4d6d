package results

import (
	"encoding/json"
	"errors"
	"io"
	"time"
)

// parseStream decodes a results file from r as parse does with the whole
// file in memory, but an entry at a time, holding only the entries: the
// text of a file of 100,000 spaces (tens of megabytes) is never held beside
// them. ok is false when the file is not read here: a file whose version
// comes after its spaces or deleted list (this program writes it first), or
// any error. Then parse, given the whole file, reads it or names what is
// wrong and where; FuzzParseStream checks that both read every file alike.
// n is the number of bytes read.
func parseStream(r io.Reader) (f *File, n int64, ok bool) {
	cr := &countingReader{r: r}
	dec := json.NewDecoder(cr)
	dec.DisallowUnknownFields()
	if tok, err := dec.Token(); err != nil || tok != json.Delim('{') {
		return nil, 0, false
	}
	f = &File{Spaces: map[string]*Entry{}}
	seen := map[string]bool{}
	for dec.More() {
		tok, err := dec.Token()
		key, isKey := tok.(string)
		if err != nil || !isKey || seen[key] {
			return nil, 0, false
		}
		seen[key] = true
		if key == "spaces" {
			if !seen["version"] || streamSpaces(dec, f) != nil {
				return nil, 0, false
			}
			continue
		}
		var raw json.RawMessage
		if err := dec.Decode(&raw); err != nil {
			return nil, 0, false
		}
		switch key {
		case "version":
			if decodeStrict(raw, &f.Version) != nil || (f.Version != 1 && f.Version != Version) {
				return nil, 0, false
			}
		case "updatedAt":
			var t *time.Time
			if decodeStrict(raw, &t) != nil {
				return nil, 0, false
			}
			if t != nil {
				f.UpdatedAt = *t
			}
		case "deleted":
			var err error
			if !seen["version"] {
				return nil, 0, false
			}
			if f.Deleted, err = parseDeleted(raw, 0, f.Version, func(int64, error) error { return errStream }); err != nil {
				return nil, 0, false
			}
		default:
			return nil, 0, false
		}
	}
	if tok, err := dec.Token(); err != nil || tok != json.Delim('}') {
		return nil, 0, false
	}
	if _, err := dec.Token(); err != io.EOF || !seen["version"] {
		return nil, 0, false
	}
	f.Version = Version
	return f, cr.n, true
}

var errStream = errors.New("not read as a stream")

// streamSpaces decodes the value of "spaces" as parseSpaces does.
func streamSpaces(dec *json.Decoder, f *File) error {
	tok, err := dec.Token()
	switch {
	case err != nil:
		return err
	case tok == nil:
		return nil // null: none
	case tok != json.Delim('{'):
		return errStream
	}
	sh := newSharer()
	for dec.More() {
		tok, err := dec.Token()
		key, ok := tok.(string)
		if err != nil || !ok {
			return errStream
		}
		if _, dup := f.Spaces[key]; dup {
			return errStream
		}
		var e *Entry
		if err := dec.Decode(&e); err != nil || checkParsed(e, f.Version) != nil {
			return errStream
		}
		f.Spaces[sh.compact(key, e)] = e
	}
	_, err = dec.Token() // the closing brace
	return err
}

// countingReader counts the bytes read through it.
type countingReader struct {
	r io.Reader
	n int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	return n, err
}
