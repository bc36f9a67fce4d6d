package results

// Reading a results file in place: once json.Valid has checked the whole
// file, its values are found by offset and decoded where they lie, rather
// than copied out (a file of 100,000 spaces is tens of megabytes).

// skipSpace returns the offset of the first byte at or after off in data
// that is not JSON white space.
func skipSpace(data []byte, off int) int {
	for off < len(data) {
		switch data[off] {
		case ' ', '\t', '\r', '\n':
			off++
		default:
			return off
		}
	}
	return off
}

// skipValue returns the offset just past the JSON value that starts at off
// in data, which must be valid JSON (json.Valid): a string, an object or
// a list with what it holds, or a literal.
func skipValue(data []byte, off int) int {
	depth := 0
	for i := off; i < len(data); i++ {
		switch data[i] {
		case '"':
			for i++; i < len(data) && data[i] != '"'; i++ {
				if data[i] == '\\' {
					i++
				}
			}
			if depth == 0 {
				return i + 1
			}
		case '{', '[':
			depth++
		case '}', ']':
			if depth--; depth == 0 {
				return i + 1
			}
		case ' ', '\t', '\r', '\n', ',', ':':
		default:
			if depth == 0 {
				// A number, true, false or null: up to the next delimiter.
				for i < len(data) && !isDelimiter(data[i]) {
					i++
				}
				return i
			}
		}
	}
	return len(data)
}

func isDelimiter(c byte) bool {
	switch c {
	case ' ', '\t', '\r', '\n', ',', ':', ']', '}':
		return true
	}
	return false
}
