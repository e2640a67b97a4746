// Package jsonscan reads the members of JSON objects lazily: it hands out
// each member's key and raw value and skips what its caller does not ask
// about, without building any value. The Zeek and Suricata decoders read
// their JSON lines with it: a few keys of objects of dozens.
package jsonscan

import (
	"bytes"
	"errors"
	"fmt"
	"strconv"
	"unicode/utf16"
	"unicode/utf8"
)

// ErrSyntax is wrapped by every error of malformed JSON.
var ErrSyntax = errors.New("invalid JSON")

func syntaxErr(b []byte, i int, what string) error {
	near := b[i:min(len(b), i+16)]
	return fmt.Errorf("%w: %s at offset %d (near %q)", ErrSyntax, what, i, near)
}

func isSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\r' || c == '\n' }

func skipSpace(b []byte, i int) int {
	for i < len(b) && isSpace(b[i]) {
		i++
	}
	return i
}

// Object calls f with the key (its raw bytes between the quotes, escapes
// left as they are) and raw value of each member of the object at the start
// of b (after any white space), in order, and returns the length of b the
// object takes. f may stop the walk by returning an error, which Object
// returns.
func Object(b []byte, f func(key, value []byte) error) (int, error) {
	i := skipSpace(b, 0)
	if i >= len(b) || b[i] != '{' {
		return 0, syntaxErr(b, i, "not an object")
	}
	i = skipSpace(b, i+1)
	if i < len(b) && b[i] == '}' {
		return i + 1, nil
	}
	for {
		if i >= len(b) || b[i] != '"' {
			return 0, syntaxErr(b, min(i, len(b)), "want a key")
		}
		end, err := stringEnd(b, i)
		if err != nil {
			return 0, err
		}
		key := b[i+1 : end-1]
		i = skipSpace(b, end)
		if i >= len(b) || b[i] != ':' {
			return 0, syntaxErr(b, min(i, len(b)), "want ':'")
		}
		i = skipSpace(b, i+1)
		n, err := Value(b[i:])
		if err != nil {
			return 0, err
		}
		if err := f(key, b[i:i+n]); err != nil {
			return 0, err
		}
		i = skipSpace(b, i+n)
		if i >= len(b) {
			return 0, syntaxErr(b, len(b), "object not closed")
		}
		switch b[i] {
		case ',':
			i = skipSpace(b, i+1)
		case '}':
			return i + 1, nil
		default:
			return 0, syntaxErr(b, i, "want ',' or '}'")
		}
	}
}

// Array calls f with each element of the array raw (a JSON array value).
func Array(raw []byte, f func(elem []byte) error) error {
	i := skipSpace(raw, 0)
	if i >= len(raw) || raw[i] != '[' {
		return syntaxErr(raw, i, "not an array")
	}
	i = skipSpace(raw, i+1)
	if i < len(raw) && raw[i] == ']' {
		return nil
	}
	for {
		n, err := Value(raw[i:])
		if err != nil {
			return err
		}
		if err := f(raw[i : i+n]); err != nil {
			return err
		}
		i = skipSpace(raw, i+n)
		if i >= len(raw) {
			return syntaxErr(raw, len(raw), "array not closed")
		}
		switch raw[i] {
		case ',':
			i = skipSpace(raw, i+1)
		case ']':
			return nil
		default:
			return syntaxErr(raw, i, "want ',' or ']'")
		}
	}
}

// maxDepth bounds the nesting Value walks through.
const maxDepth = 64

// Value returns the length of the JSON value at the start of b.
func Value(b []byte) (int, error) {
	if len(b) == 0 {
		return 0, syntaxErr(b, 0, "want a value")
	}
	switch c := b[0]; {
	case c == '"':
		return stringEnd(b, 0)
	case c == '{' || c == '[':
		return composite(b)
	case c == 't':
		return literal(b, "true")
	case c == 'f':
		return literal(b, "false")
	case c == 'n':
		return literal(b, "null")
	case c == '-' || c >= '0' && c <= '9':
		i := 1
		for i < len(b) && (b[i] >= '0' && b[i] <= '9' || b[i] == '.' || b[i] == 'e' || b[i] == 'E' || b[i] == '+' || b[i] == '-') {
			i++
		}
		return i, nil
	}
	return 0, syntaxErr(b, 0, "want a value")
}

func literal(b []byte, lit string) (int, error) {
	if !bytes.HasPrefix(b, []byte(lit)) {
		return 0, syntaxErr(b, 0, "want "+lit)
	}
	return len(lit), nil
}

// composite skips an object or array, nested ones included, without
// looking at what it holds beyond strings and brackets.
func composite(b []byte) (int, error) {
	var stack [maxDepth]byte
	depth := 0
	for i := 0; i < len(b); i++ {
		switch c := b[i]; c {
		case '{', '[':
			if depth == maxDepth {
				return 0, syntaxErr(b, i, "nested too deep")
			}
			stack[depth] = c + 2 // '}' and ']' follow '{' and '[' by 2
			depth++
		case '}', ']':
			if depth == 0 || stack[depth-1] != c {
				return 0, syntaxErr(b, i, "mismatched bracket")
			}
			depth--
			if depth == 0 {
				return i + 1, nil
			}
		case '"':
			end, err := stringEnd(b, i)
			if err != nil {
				return 0, err
			}
			i = end - 1
		}
	}
	return 0, syntaxErr(b, len(b), "not closed")
}

// stringEnd returns the index just past the string starting at b[i] (a
// quote).
func stringEnd(b []byte, i int) (int, error) {
	j := i + 1
	for {
		k := bytes.IndexByte(b[j:], '"')
		if k < 0 {
			return 0, syntaxErr(b, i, "string not closed")
		}
		j += k
		// the quote is escaped when an odd number of backslashes precede it
		n := 0
		for p := j - 1; p > i && b[p] == '\\'; p-- {
			n++
		}
		if n%2 == 0 {
			return j + 1, nil
		}
		j++
	}
}

// IsNull reports whether raw is JSON's null.
func IsNull(raw []byte) bool { return len(raw) == 4 && string(raw) == "null" }

// Unquote returns the content of raw, a JSON string, unescaped: the bytes
// between its quotes when it has no escapes (dst is returned as it came),
// else its text appended to dst (val is then the end of the dst returned).
// Any other value is returned as it stands, so that a number or a boolean
// reads as its text.
func Unquote(dst, raw []byte) (val, dstOut []byte, err error) {
	if len(raw) < 2 || raw[0] != '"' {
		return raw, dst, nil
	}
	s := raw[1 : len(raw)-1]
	if bytes.IndexByte(s, '\\') < 0 {
		return s, dst, nil
	}
	start := len(dst)
	dst, err = unescape(dst, s)
	if err != nil {
		return nil, dst[:start], err
	}
	return dst[start:], dst, nil
}

func unescape(dst, s []byte) ([]byte, error) {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c != '\\' {
			dst = append(dst, c)
			continue
		}
		i++
		if i >= len(s) {
			return nil, syntaxErr(s, i-1, "bad escape")
		}
		switch s[i] {
		case '"', '\\', '/':
			dst = append(dst, s[i])
		case 'b':
			dst = append(dst, '\b')
		case 'f':
			dst = append(dst, '\f')
		case 'n':
			dst = append(dst, '\n')
		case 'r':
			dst = append(dst, '\r')
		case 't':
			dst = append(dst, '\t')
		case 'u':
			r, n := hex4(s[i+1:])
			if n == 0 {
				return nil, syntaxErr(s, i-1, "bad \\u escape")
			}
			i += 4
			if utf16.IsSurrogate(r) {
				if len(s) >= i+7 && s[i+1] == '\\' && s[i+2] == 'u' {
					if r2, n2 := hex4(s[i+3:]); n2 != 0 {
						if d := utf16.DecodeRune(r, r2); d != utf8.RuneError {
							r = d
							i += 6
						}
					}
				}
				if utf16.IsSurrogate(r) {
					r = utf8.RuneError
				}
			}
			dst = utf8.AppendRune(dst, r)
		default:
			return nil, syntaxErr(s, i-1, "bad escape")
		}
	}
	return dst, nil
}

func hex4(b []byte) (rune, int) {
	if len(b) < 4 {
		return 0, 0
	}
	v, err := strconv.ParseUint(string(b[:4]), 16, 32)
	if err != nil {
		return 0, 0
	}
	return rune(v), 4
}
