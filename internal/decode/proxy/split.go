package proxy

import "bytes"

// Byte-level field splitting: no regexp, no allocation.

// splitFields splits line at runs of spaces and tabs into tok (start, end
// offsets) and returns how many it filled; tokens beyond len(tok) are not
// looked at.
func splitFields(line []byte, tok [][2]int) int {
	n, i := 0, 0
	for n < len(tok) {
		for i < len(line) && isSpace(line[i]) {
			i++
		}
		if i >= len(line) {
			break
		}
		j := i
		for j < len(line) && !isSpace(line[j]) {
			j++
		}
		tok[n] = [2]int{i, j}
		n++
		i = j
	}
	return n
}

// splitQuoted splits a W3C extended log line: fields separated by runs of
// spaces or tabs, a field starting with '"' runs to the next '"' that is not
// doubled ("" is an escaped quote, as IIS and ProxySG write it), and its
// span excludes the quotes. When esc is not nil, esc[k] reports whether
// field k holds doubled quotes to unescape. ok is false for an unterminated
// quote. Fields beyond len(tok) are not looked at.
func splitQuoted(line []byte, tok [][2]int, esc []bool) (n int, ok bool) {
	i := 0
	for n < len(tok) {
		for i < len(line) && isSpace(line[i]) {
			i++
		}
		if i >= len(line) {
			break
		}
		if line[i] == '"' {
			j := i + 1
			e := false
			for {
				k := bytes.IndexByte(line[j:], '"')
				if k < 0 {
					return n, false
				}
				j += k
				if j+1 < len(line) && line[j+1] == '"' {
					e = true
					j += 2
					continue
				}
				break
			}
			tok[n] = [2]int{i + 1, j}
			if esc != nil {
				esc[n] = e
			}
			n++
			i = j + 1
			if i < len(line) && !isSpace(line[i]) {
				return n, false // text glued to a closing quote
			}
			continue
		}
		j := i
		for j < len(line) && !isSpace(line[j]) {
			j++
		}
		tok[n] = [2]int{i, j}
		if esc != nil {
			esc[n] = false
		}
		n++
		i = j
	}
	return n, true
}

// closingQuote returns the index of the '"' closing the quoted string that
// starts at b[start] (which must be '"'), honouring backslash escapes as
// Apache, nginx and Squid write them; -1 if there is none.
func closingQuote(b []byte, start int) int {
	if start >= len(b) || b[start] != '"' {
		return -1
	}
	for j := start + 1; j < len(b); j++ {
		switch b[j] {
		case '\\':
			j++
		case '"':
			return j
		}
	}
	return -1
}
