package proxy

import (
	"fmt"
	"time"

	"github.com/spot-hunt/spot/internal/record"
)

// parseCLF decodes an NCSA common or combined log line, as Apache, nginx and
// Squid ("common"/"combined" logformats) write it:
//
//	host ident authuser [dd/Mon/yyyy:HH:MM:SS +zzzz] "METHOD URL PROTO" status bytes ["referer" "agent"] [extra...]
//
// Squid's combined format appends "ACTION:HIERARCHY", read into action.
func (d *Decoder) parseCLF(l []byte, base int, r *record.Proxy) error {
	i := 0
	var hdr [3][2]int
	for k := range hdr {
		i = skipSpace(l, i)
		j := i
		for j < len(l) && !isSpace(l[j]) {
			j++
		}
		if j == i {
			return fmt.Errorf("clf: line ends before the time")
		}
		hdr[k] = [2]int{i, j}
		i = j
	}
	r.ClientIP = d.str(base+hdr[0][0], base+hdr[0][1])
	r.Username = d.str(base+hdr[2][0], base+hdr[2][1])

	i = skipSpace(l, i)
	if i >= len(l) || l[i] != '[' {
		return fmt.Errorf("clf: no [time] after the user")
	}
	end := i + 1
	for end < len(l) && l[end] != ']' {
		end++
	}
	if end >= len(l) {
		return fmt.Errorf("clf: unterminated [time]")
	}
	sec, nsec, ok := parseCLFTime(l[i+1:end], d.loc)
	if !ok {
		return fmt.Errorf("clf: bad time %q", l[i+1:end])
	}
	i = skipSpace(l, end+1)
	q := closingQuote(l, i)
	if q < 0 {
		return fmt.Errorf("clf: no quoted request after the time")
	}
	d.clfRequest(l, base, i+1, q, r)
	i = q + 1

	var st [2][2]int
	for k := range st {
		i = skipSpace(l, i)
		j := i
		for j < len(l) && !isSpace(l[j]) {
			j++
		}
		if j == i {
			return fmt.Errorf("clf: line ends before the status and size")
		}
		st[k] = [2]int{i, j}
		i = j
	}
	if _, ok := atoiDash(l[st[0][0]:st[0][1]]); !ok {
		return fmt.Errorf("clf: bad status %q", l[st[0][0]:st[0][1]])
	}
	r.RespCode = d.status(base+st[0][0], base+st[0][1])
	if r.SCBytes, ok = atoiDash(l[st[1][0]:st[1][1]]); !ok {
		return fmt.Errorf("clf: bad size %q", l[st[1][0]:st[1][1]])
	}

	// combined: "referer" "user-agent"; then anything (Squid: ACTION:HIER)
	for k := 0; ; k++ {
		i = skipSpace(l, i)
		if i >= len(l) {
			break
		}
		if l[i] == '"' && k < 2 {
			q := closingQuote(l, i)
			if q < 0 {
				return fmt.Errorf("clf: unterminated quote in column %d", 10+k)
			}
			v := d.str(base+i+1, base+q)
			if k == 0 {
				r.Referer = v
			} else {
				r.UserAgent = v
			}
			i = q + 1
			continue
		}
		j := i
		for j < len(l) && !isSpace(l[j]) {
			j++
		}
		if c := squidCode(l[i:j]); c > 0 && r.Action == "" {
			r.Action = d.str(base+i, base+i+c)
		}
		i = j
		k = 2
	}
	d.finish(r, sec, nsec)
	return nil
}

// clfRequest splits the request line l[a:b] into method and URL.
func (d *Decoder) clfRequest(l []byte, base, a, b int, r *record.Proxy) {
	i := skipSpace(l[:b], a)
	j := i
	for j < b && !isSpace(l[j]) {
		j++
	}
	r.ReqMethod = d.str(base+i, base+j)
	i = skipSpace(l[:b], j)
	if i >= b {
		d.setURL(r, urlParts{})
		return
	}
	// the URL runs to the last space-separated word (the protocol), if any
	e := b
	for e > i && isSpace(l[e-1]) {
		e--
	}
	k := e
	for k > i && !isSpace(l[k-1]) {
		k--
	}
	if k > i { // a protocol follows the URL
		e = k
		for e > i && isSpace(l[e-1]) {
			e--
		}
	}
	d.setURL(r, splitURL(d.arena, base+i, base+e))
}

// squidCode returns the length of ACTION in "ACTION:HIERARCHY" (Squid's
// %Ss:%Sh, e.g. TCP_MISS:HIER_DIRECT), else 0.
func squidCode(b []byte) int {
	c := -1
	for i, ch := range b {
		switch {
		case ch >= 'A' && ch <= 'Z', ch == '_', ch >= '0' && ch <= '9' && i > 0:
		case ch == ':' && c < 0 && i > 0:
			c = i
		default:
			return 0
		}
	}
	if c < 0 || c == len(b)-1 {
		return 0
	}
	return c
}

func skipSpace(l []byte, i int) int {
	for i < len(l) && isSpace(l[i]) {
		i++
	}
	return i
}

var months = [12]string{"Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"}

// parseCLFTime parses "23/Nov/2026:20:50:08 +0000" (a fraction after the
// seconds is accepted) to Unix time, honouring the offset; a time written
// without one is taken in loc.
func parseCLFTime(b []byte, loc *time.Location) (sec, nsec int64, ok bool) {
	if len(b) < 20 || b[2] != '/' || b[6] != '/' || b[11] != ':' {
		return 0, 0, false
	}
	day, ok1 := digits(b[0:2])
	year, ok2 := digits(b[7:11])
	mon := 0
	for k, m := range months {
		if b[3] == m[0] && b[4] == m[1] && b[5] == m[2] {
			mon = k + 1
			break
		}
	}
	if !ok1 || !ok2 || mon == 0 || day < 1 || day > 31 {
		return 0, 0, false
	}
	rest := b[12:]
	sp := 0
	for sp < len(rest) && rest[sp] != ' ' {
		sp++
	}
	h, mi, s, ns, ok3 := parseClock(rest[:sp])
	if !ok3 {
		return 0, 0, false
	}
	if sp == len(rest) {
		return localToUnix(year, mon, day, h, mi, s, loc), ns, true
	}
	z := trimSpace(rest[sp:])
	if len(z) != 5 || (z[0] != '+' && z[0] != '-') {
		return 0, 0, false
	}
	zh, ok4 := digits(z[1:3])
	zm, ok5 := digits(z[3:5])
	if !ok4 || !ok5 {
		return 0, 0, false
	}
	off := int64(zh*3600 + zm*60)
	if z[0] == '-' {
		off = -off
	}
	sec = daysFromCivil(year, mon, day)*86400 + int64(h*3600+mi*60+s) - off
	return sec, ns, true
}
