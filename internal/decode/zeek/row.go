package zeek

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"math/bits"
	"strconv"

	"github.com/spot-hunt/spot/internal/decode/jsonscan"
)

// tsvFormat is what the TSV headers in force say.
type tsvFormat struct {
	sep        byte
	setSep     []byte
	empty      []byte
	unset      []byte
	path       string
	index      [nCols]int // column position of each column read, -1 if absent
	last       int        // highest position read
	kind       Kind
	haveFields bool
}

func (f *tsvFormat) reset() {
	*f = tsvFormat{sep: '\t', setSep: []byte(","), empty: []byte("(empty)"), unset: []byte("-")}
	for i := range f.index {
		f.index[i] = -1
	}
}

// header applies a header line (#name, the separator, its value).
func (f *tsvFormat) header(line []byte) error {
	if bytes.HasPrefix(line, []byte("#separator")) {
		// "#separator \x09": the only header whose value follows a space
		v := bytes.TrimSpace(line[len("#separator"):])
		s := unescapeBytes(nil, v)
		if len(s) != 1 {
			return fmt.Errorf("#separator %q: want one byte", v)
		}
		f.reset()
		f.sep = s[0]
		return nil
	}
	name, value, ok := bytes.Cut(line, []byte{f.sep})
	if !ok {
		return nil // "#close" and the like, or a comment
	}
	switch string(name) {
	case "#set_separator":
		f.setSep = unescapeBytes(nil, value)
	case "#empty_field":
		f.empty = unescapeBytes(nil, value)
	case "#unset_field":
		f.unset = unescapeBytes(nil, value)
	case "#path":
		f.path = string(value)
	case "#fields":
		for i := range f.index {
			f.index[i] = -1
		}
		f.last, f.haveFields = 0, true
		for i, n := range bytes.Split(value, []byte{f.sep}) {
			if c, ok := colByName[string(n)]; ok && f.index[c] < 0 {
				f.index[c] = i
				f.last = max(f.last, i)
			}
		}
		if f.index[cTs] < 0 {
			return errors.New("#fields has no ts column")
		}
		f.kind = kindOf(f.path, func(c int) bool { return f.index[c] >= 0 })
	}
	return nil
}

// row holds the values of one log row: each column read, raw (a TSV field,
// escapes undone where it had any, or a JSON value) and whether it is set.
type row struct {
	val   [nCols][]byte
	has   [nCols]bool
	json  bool
	fmtr  *tsvFormat
	kindJ Kind
	pos   [256]int // TSV field starts (scratch)
}

func (r *row) kind() Kind {
	if r.json {
		return r.kindJ
	}
	return r.fmtr.kind
}

func (r *row) clear() {
	r.has = [nCols]bool{}
	r.val = [nCols][]byte{}
}

// fromTSV splits a TSV line by the format in force.
func (r *row) fromTSV(line []byte, f *tsvFormat, scratch *[]byte) error {
	if !f.haveFields {
		return errNoHeader
	}
	r.clear()
	r.json, r.fmtr = false, f
	// Find the separators up to the last column read.
	want := f.last + 1
	if want > len(r.pos)-1 {
		return fmt.Errorf("more than %d columns", len(r.pos)-1)
	}
	n := splitAt(line, f.sep, r.pos[:want+1])
	if n < want {
		return fmt.Errorf("%d columns, the #fields header names %d or more", n, want)
	}
	*scratch = (*scratch)[:0]
	for c := range nCols {
		i := f.index[c]
		if i < 0 {
			continue
		}
		v := line[r.pos[i] : r.pos[i+1]-1]
		if bytes.Equal(v, f.unset) {
			continue
		}
		r.has[c] = true
		if bytes.Equal(v, f.empty) {
			r.val[c] = v[:0]
			continue
		}
		if bytes.IndexByte(v, '\\') >= 0 && c != cAnswers && c != cRespMIME && c != cTTLs {
			// Lists are unescaped element by element, after splitting.
			start := len(*scratch)
			*scratch = unescapeBytes(*scratch, v)
			v = (*scratch)[start:]
		}
		r.val[c] = v
	}
	return nil
}

// splitAt records in pos the start of each of the first len(pos)-1 fields
// of line (pos[k] = index of field k's first byte), and pos[n] = one past
// field n-1's end plus one, so field i is line[pos[i]:pos[i+1]-1]. It
// returns how many fields it found, up to len(pos)-1; when the line has
// just that many, pos[n] is len(line)+1.
func splitAt(line []byte, sep byte, pos []int) int {
	want := len(pos) - 1
	pos[0] = 0
	n := 1
	i := 0
	ones := uint64(0x0101010101010101)
	pat := uint64(sep) * ones
	const low7 = 0x7f7f7f7f7f7f7f7f
	for ; i+8 <= len(line) && n <= want; i += 8 {
		x := binary.LittleEndian.Uint64(line[i:]) ^ pat
		m := ^((x&low7 + low7) | x | low7)
		for m != 0 && n <= want {
			j := i + bits.TrailingZeros64(m)>>3
			m &= m - 1
			pos[n] = j + 1
			n++
		}
	}
	for ; i < len(line) && n <= want; i++ {
		if line[i] == sep {
			pos[n] = i + 1
			n++
		}
	}
	if n <= want {
		pos[n] = len(line) + 1 // the last field runs to the end
		return n
	}
	return want
}

// fromJSON reads a JSON log line: dotted keys (id.orig_h) or a nested id
// object; unset fields are absent or null.
func (r *row) fromJSON(line []byte, scratch *[]byte) error {
	r.clear()
	r.json = true
	*scratch = (*scratch)[:0]
	set := func(c int, v []byte) error {
		if jsonscan.IsNull(v) {
			return nil
		}
		if len(v) > 0 && v[0] == '"' {
			var err error
			if v, *scratch, err = jsonscan.Unquote(*scratch, v); err != nil {
				return err
			}
		}
		r.val[c], r.has[c] = v, true
		return nil
	}
	_, err := jsonscan.Object(line, func(k, v []byte) error {
		if string(k) == "id" && len(v) > 0 && v[0] == '{' {
			_, err := jsonscan.Object(v, func(k, v []byte) error {
				if c, ok := colByName["id."+string(k)]; ok {
					return set(c, v)
				}
				return nil
			})
			return err
		}
		if c, ok := colByName[string(k)]; ok {
			return set(c, v)
		}
		return nil
	})
	if err != nil {
		return err
	}
	r.kindJ = kindOf(string(r.val[cPath]), func(c int) bool { return r.has[c] })
	return nil
}

// elems calls f with each element of a set or vector column: a TSV field
// split at the set separator (each element unescaped), or a JSON array.
func (r *row) elems(c int, scratch []byte, f func(e []byte)) error {
	v := r.val[c]
	if !r.has[c] || len(v) == 0 {
		return nil
	}
	if r.json {
		if v[0] != '[' {
			f(v) // a lone value
			return nil
		}
		return jsonscan.Array(v, func(e []byte) error {
			t, _, err := jsonscan.Unquote(scratch[:0], e)
			if err != nil {
				return err
			}
			f(t)
			return nil
		})
	}
	sep := r.fmtr.setSep
	for len(v) > 0 {
		e := v
		if i := bytes.Index(v, sep); i >= 0 && len(sep) > 0 {
			e, v = v[:i], v[i+len(sep):]
		} else {
			v = nil
		}
		if bytes.IndexByte(e, '\\') >= 0 {
			e = unescapeBytes(scratch[:0], e)
		}
		f(e)
	}
	return nil
}

// unescapeBytes appends v with Zeek's \xHH escapes undone to dst.
func unescapeBytes(dst, v []byte) []byte {
	for i := 0; i < len(v); i++ {
		if v[i] == '\\' && i+3 < len(v) && v[i+1] == 'x' {
			if b, err := strconv.ParseUint(string(v[i+2:i+4]), 16, 8); err == nil {
				dst = append(dst, byte(b))
				i += 3
				continue
			}
		}
		dst = append(dst, v[i])
	}
	return dst
}
