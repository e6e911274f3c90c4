package reports

import "bytes"

// indentJSON lays out compact JSON with two-space indentation, but keeps
// arrays that hold no object or array on one line, so that a timeline of a
// few hundred counts takes one line instead of a few hundred.
func indentJSON(compact []byte) []byte {
	var out bytes.Buffer
	out.Grow(len(compact) + len(compact)/4)
	depth := 0
	newline := func() {
		out.WriteByte('\n')
		for i := 0; i < depth; i++ {
			out.WriteString("  ")
		}
	}
	for i := 0; i < len(compact); i++ {
		c := compact[i]
		switch c {
		case '"':
			end := stringEnd(compact, i)
			out.Write(compact[i:end])
			i = end - 1
		case '{', '[':
			if c == '[' {
				if end, flat := flatArrayEnd(compact, i); flat {
					writeFlatArray(&out, compact[i:end])
					i = end - 1
					continue
				}
			}
			if i+1 < len(compact) && (compact[i+1] == '}' || compact[i+1] == ']') {
				out.WriteByte(c)
				out.WriteByte(compact[i+1])
				i++
				continue
			}
			out.WriteByte(c)
			depth++
			newline()
		case '}', ']':
			depth--
			newline()
			out.WriteByte(c)
		case ',':
			out.WriteByte(c)
			newline()
		case ':':
			out.WriteString(": ")
		default:
			out.WriteByte(c)
		}
	}
	return out.Bytes()
}

// stringEnd returns the index just past the JSON string starting at start.
func stringEnd(b []byte, start int) int {
	for i := start + 1; i < len(b); i++ {
		switch b[i] {
		case '\\':
			i++
		case '"':
			return i + 1
		}
	}
	return len(b)
}

// flatArrayEnd returns the index just past the array starting at start and
// whether it holds only scalars.
func flatArrayEnd(b []byte, start int) (int, bool) {
	for i := start + 1; i < len(b); i++ {
		switch b[i] {
		case '"':
			i = stringEnd(b, i) - 1
		case '[', '{':
			return 0, false
		case ']':
			return i + 1, true
		}
	}
	return 0, false
}

// writeFlatArray writes a scalar array with a space after each comma.
func writeFlatArray(out *bytes.Buffer, array []byte) {
	for i := 0; i < len(array); i++ {
		c := array[i]
		switch c {
		case '"':
			end := stringEnd(array, i)
			out.Write(array[i:end])
			i = end - 1
		case ',':
			out.WriteString(", ")
		default:
			out.WriteByte(c)
		}
	}
}
