package suricata

import (
	"fmt"
	"time"
)

// parseTime reads an EVE time, "2016-05-24T17:27:02.333141-0600" (the
// offset as Suricata writes it, without a colon; "+00:00", "Z" or none,
// read as UTC, are taken too), as nanoseconds since the epoch.
func parseTime(b []byte) (int64, error) {
	if ns, ok := fastTime(b); ok {
		return ns, nil
	}
	for _, layout := range [...]string{"2006-01-02T15:04:05.999999999Z0700", "2006-01-02T15:04:05.999999999Z07:00", "2006-01-02T15:04:05.999999999"} {
		if t, err := time.Parse(layout, string(b)); err == nil {
			return t.UnixNano(), nil
		}
	}
	return 0, fmt.Errorf("time %q: not an EVE timestamp", b)
}

// fastTime reads the layout Suricata writes without time.Parse.
func fastTime(b []byte) (int64, bool) {
	if len(b) < 19 || b[4] != '-' || b[7] != '-' || b[10] != 'T' || b[13] != ':' || b[16] != ':' {
		return 0, false
	}
	d := func(i, n int) (int64, bool) {
		var v int64
		for _, c := range b[i : i+n] {
			if c < '0' || c > '9' {
				return 0, false
			}
			v = v*10 + int64(c-'0')
		}
		return v, true
	}
	y, ok1 := d(0, 4)
	mo, ok2 := d(5, 2)
	dd, ok3 := d(8, 2)
	h, ok4 := d(11, 2)
	mi, ok5 := d(14, 2)
	s, ok6 := d(17, 2)
	if !(ok1 && ok2 && ok3 && ok4 && ok5 && ok6) || mo < 1 || mo > 12 || dd < 1 || dd > 31 || h > 23 || mi > 59 || s > 60 {
		return 0, false
	}
	i := 19
	var frac int64
	if i < len(b) && b[i] == '.' {
		i++
		scale := int64(1e8)
		start := i
		for ; i < len(b) && b[i] >= '0' && b[i] <= '9'; i++ {
			frac += int64(b[i]-'0') * scale
			scale /= 10
		}
		if i == start || i-start > 9 {
			return 0, false
		}
	}
	var off int64
	switch rest := b[i:]; {
	case len(rest) == 0, len(rest) == 1 && rest[0] == 'Z':
	case len(rest) == 5 && (rest[0] == '+' || rest[0] == '-'):
		oh, ok1 := d(i+1, 2)
		om, ok2 := d(i+3, 2)
		if !ok1 || !ok2 {
			return 0, false
		}
		off = oh*3600 + om*60
		if rest[0] == '-' {
			off = -off
		}
	default:
		return 0, false
	}
	days := daysFromCivil(y, mo, dd)
	return ((days*86400+h*3600+mi*60+s)-off)*1e9 + frac, true
}

// daysFromCivil is the number of days from 1970-01-01 to y-m-d
// (proleptic Gregorian; Howard Hinnant's algorithm).
func daysFromCivil(y, m, d int64) int64 {
	if m <= 2 {
		y--
	}
	era := y / 400
	if y < 0 && y%400 != 0 {
		era--
	}
	yoe := y - era*400
	mp := (m + 9) % 12
	doy := (153*mp+2)/5 + d - 1
	doe := yoe*365 + yoe/4 - yoe/100 + doy
	return era*146097 + doe - 719468
}
