package proxy

import (
	"time"

	"github.com/spot-hunt/spot/internal/record"
)

// clock turns Unix times into the record's time columns, caching the
// strings of the last second seen (log lines come in time order, many to a
// second).
type clock struct {
	sec        int64
	ok         bool
	date, tod  string
	y, m, d, h int32
}

func (c *clock) set(r *record.Proxy, sec, nsec int64) {
	if !c.ok || sec != c.sec {
		c.sec, c.ok = sec, true
		days := floorDiv(sec, 86400)
		rem := sec - days*86400
		y, m, d := civilFromDays(days)
		h, mi, s := int(rem/3600), int(rem%3600/60), int(rem%60)
		var b [19]byte
		put4(b[0:], y)
		b[4] = '-'
		put2(b[5:], m)
		b[7] = '-'
		put2(b[8:], d)
		b[10] = ' '
		put2(b[11:], h)
		b[13] = ':'
		put2(b[14:], mi)
		b[16] = ':'
		put2(b[17:], s)
		all := string(b[:])
		c.date, c.tod = all[:10], all[11:]
		c.y, c.m, c.d, c.h = int32(y), int32(m), int32(d), int32(h)
	}
	r.PDate, r.PTime = c.date, c.tod
	r.Y, r.M, r.D, r.H = c.y, c.m, c.d, c.h
	r.TsNs = sec*1e9 + nsec
}

func put2(b []byte, v int) {
	b[0], b[1] = byte('0'+v/10%10), byte('0'+v%10)
}

func put4(b []byte, v int) {
	if v < 0 || v > 9999 {
		v = 0
	}
	b[0], b[1], b[2], b[3] = byte('0'+v/1000), byte('0'+v/100%10), byte('0'+v/10%10), byte('0'+v%10)
}

func floorDiv(a, b int64) int64 {
	q := a / b
	if (a%b != 0) && ((a < 0) != (b < 0)) {
		q--
	}
	return q
}

// daysFromCivil is the number of days from 1970-01-01 to y-m-d (proleptic
// Gregorian; Howard Hinnant's algorithm).
func daysFromCivil(y, m, d int) int64 {
	if m <= 2 {
		y--
	}
	era := y / 400
	if y < 0 && y%400 != 0 {
		era = (y - 399) / 400
	}
	yoe := y - era*400
	mp := (m + 9) % 12
	doy := (153*mp+2)/5 + d - 1
	doe := yoe*365 + yoe/4 - yoe/100 + doy
	return int64(era)*146097 + int64(doe) - 719468
}

// civilFromDays is the inverse of daysFromCivil.
func civilFromDays(z int64) (y, m, d int) {
	z += 719468
	era := z / 146097
	if z < 0 && z%146097 != 0 {
		era = (z - 146096) / 146097
	}
	doe := z - era*146097
	yoe := (doe - doe/1460 + doe/36524 - doe/146096) / 365
	doy := doe - (365*yoe + yoe/4 - yoe/100)
	mp := (5*doy + 2) / 153
	d = int(doy - (153*mp+2)/5 + 1)
	m = int(mp + 3)
	if m > 12 {
		m -= 12
	}
	y = int(yoe + era*400)
	if m <= 2 {
		y++
	}
	return y, m, d
}

// localToUnix converts a wall-clock time in loc to Unix seconds. UTC and
// fixed zones are computed directly; others go through time.Date.
func localToUnix(y, mo, d, h, mi, s int, loc *time.Location) int64 {
	wall := daysFromCivil(y, mo, d)*86400 + int64(h*3600+mi*60+s)
	if loc == time.UTC || loc == nil {
		return wall
	}
	return time.Date(y, time.Month(mo), d, h, mi, s, 0, loc).Unix()
}

// Number parsing on bytes, no allocation.

// atoi parses an unsigned decimal; ok is false for empty, non-digit or
// overlong input.
func atoi(b []byte) (int64, bool) {
	if len(b) == 0 || len(b) > 18 {
		return 0, false
	}
	var v int64
	for _, c := range b {
		if c < '0' || c > '9' {
			return 0, false
		}
		v = v*10 + int64(c-'0')
	}
	return v, true
}

// atoiDash parses a count where "-" (or nothing) means 0.
func atoiDash(b []byte) (int64, bool) {
	if len(b) == 0 || (len(b) == 1 && b[0] == '-') {
		return 0, true
	}
	if b[0] == '-' {
		v, ok := atoi(b[1:])
		return -v, ok
	}
	return atoi(b)
}

// digits2 parses exactly two digits at b[i:].
func digits(b []byte) (int, bool) {
	v, ok := atoi(b)
	return int(v), ok
}

// fraction parses the digits after a decimal point as nanoseconds.
func fraction(b []byte) (int64, bool) {
	var ns int64
	scale := int64(1e8)
	for _, c := range b {
		if c < '0' || c > '9' {
			return 0, false
		}
		if scale > 0 {
			ns += int64(c-'0') * scale
			scale /= 10
		}
	}
	return ns, true
}

// parseDate parses YYYY-MM-DD (or with '/' separators).
func parseDate(b []byte) (y, m, d int, ok bool) {
	if len(b) != 10 || (b[4] != '-' && b[4] != '/') || b[7] != b[4] {
		return 0, 0, 0, false
	}
	y, ok1 := digits(b[0:4])
	m, ok2 := digits(b[5:7])
	d, ok3 := digits(b[8:10])
	if !ok1 || !ok2 || !ok3 || m < 1 || m > 12 || d < 1 || d > 31 {
		return 0, 0, 0, false
	}
	return y, m, d, true
}

// parseClock parses HH:MM:SS with an optional fraction.
func parseClock(b []byte) (h, mi, s int, ns int64, ok bool) {
	if len(b) < 8 || b[2] != ':' || b[5] != ':' {
		return 0, 0, 0, 0, false
	}
	h, ok1 := digits(b[0:2])
	mi, ok2 := digits(b[3:5])
	s, ok3 := digits(b[6:8])
	if !ok1 || !ok2 || !ok3 || h > 23 || mi > 59 || s > 60 {
		return 0, 0, 0, 0, false
	}
	if len(b) > 8 {
		if b[8] != '.' && b[8] != ',' {
			return 0, 0, 0, 0, false
		}
		var okf bool
		if ns, okf = fraction(b[9:]); !okf {
			return 0, 0, 0, 0, false
		}
	}
	return h, mi, s, ns, true
}
