package proxy

import (
	"bytes"
	"fmt"
	"strings"

	"github.com/spot-hunt/spot/internal/record"
)

// column is what a W3C extended log column holds.
type column uint8

const (
	cIgnore column = iota
	cDate
	cTime
	cDateLocal
	cTimeLocal
	cTimeTaken
	cClientIP
	cUsername
	cAuthGroup
	cExceptionID
	cFilterResult
	cCategories
	cReferer
	cStatus
	cAction
	cMethod
	cContentType
	cScheme
	cHost
	cPort
	cServerPort
	cPath
	cQuery
	cExtension
	cUserAgent
	cServerIP
	cSCBytes
	cCSBytes
	cVirusID
	cAppName
	cAppOper
	cURI
	cEpoch
	nColumns
)

// columnNames maps W3C/ELFF field names (lower case) to columns: Blue Coat
// ProxySG's names first, then IIS's, Oracle Web Cache's and others seen in
// the wild.
var columnNames = map[string]column{
	"date":                             cDate,
	"time":                             cTime,
	"gmttime":                          cTime,
	"date-local":                       cDateLocal,
	"time-local":                       cTimeLocal,
	"localtime":                        cTimeLocal,
	"time-taken":                       cTimeTaken,
	"timetakenms":                      cTimeTaken,
	"c-ip":                             cClientIP,
	"cs-username":                      cUsername,
	"c-auth-id":                        cUsername,
	"cs-auth-group":                    cAuthGroup,
	"x-exception-id":                   cExceptionID,
	"sc-filter-result":                 cFilterResult,
	"cs-categories":                    cCategories,
	"cs(referer)":                      cReferer,
	"cs(referrer)":                     cReferer,
	"sc-status":                        cStatus,
	"s-action":                         cAction,
	"sc-action":                        cAction,
	"cs-method":                        cMethod,
	"rs(content-type)":                 cContentType,
	"sc(content-type)":                 cContentType,
	"cs-uri-scheme":                    cScheme,
	"cs-host":                          cHost,
	"cs(host)":                         cHost,
	"cs-uri-port":                      cPort,
	"s-port":                           cServerPort,
	"cs-uri-path":                      cPath,
	"cs-uri-stem":                      cPath,
	"cs-uri-query":                     cQuery,
	"cs-uri-extension":                 cExtension,
	"cs(user-agent)":                   cUserAgent,
	"s-ip":                             cServerIP,
	"sc-bytes":                         cSCBytes,
	"bytes":                            cSCBytes,
	"cs-bytes":                         cCSBytes,
	"x-virus-id":                       cVirusID,
	"x-bluecoat-application-name":      cAppName,
	"x-bluecoat-application-operation": cAppOper,
	"cs-uri":                           cURI,
	"x-timestamp-unix":                 cEpoch,
	"x-timestamp-unix-utc":             cEpoch,
}

// blueCoatFields is Blue Coat's bcreportermain_v1 layout, the 27 columns
// Apache Spot read (reference §1.4).
var blueCoatFields = strings.Fields(`date time time-taken c-ip cs-username cs-auth-group x-exception-id
	sc-filter-result cs-categories cs(Referer) sc-status s-action cs-method rs(Content-Type)
	cs-uri-scheme cs-host cs-uri-port cs-uri-path cs-uri-query cs-uri-extension cs(User-Agent) s-ip
	sc-bytes cs-bytes x-virus-id x-bluecoat-application-name x-bluecoat-application-operation`)

// w3cState is the layout in force: set by the last #Fields: header (or
// Blue Coat's fixed one), with #Date: and #GMT-Offset: directives.
type w3cState struct {
	cols   []column // per field position
	nCols  int      // fields a line must have
	has    [nColumns]bool
	date   [3]int // from #Date:, for logs without a date column
	hasDay bool
	offset int64 // seconds east of UTC, from #GMT-Offset:
	hasOff bool
}

func (w *w3cState) reset(blueCoat bool) {
	*w = w3cState{}
	if blueCoat {
		w.setFields(blueCoatFields)
	}
}

func (w *w3cState) setFields(names []string) {
	w.cols = w.cols[:0]
	w.has = [nColumns]bool{}
	for _, n := range names {
		c := columnNames[strings.ToLower(n)]
		if w.has[c] && c != cIgnore {
			c = cIgnore // first of a repeated name wins
		}
		w.cols = append(w.cols, c)
		w.has[c] = true
	}
	w.nCols = len(w.cols)
}

// directive reads a '#' line of a W3C log.
func (d *Decoder) directive(l []byte) error {
	w := &d.w3c
	name, val, _ := bytes.Cut(l[1:], []byte{':'})
	val = trimSpace(val)
	if i := bytes.Index(val, []byte("//")); i >= 0 && bytes.HasPrefix(name, []byte("Version")) {
		val = trimSpace(val[:i]) // lnav's test files annotate directives
	}
	switch strings.ToLower(string(trimSpace(name))) {
	case "fields":
		names := strings.Fields(string(val))
		if len(names) == 0 {
			return fmt.Errorf("w3c: #Fields: names no field")
		}
		if len(names) > maxFields {
			names = names[:maxFields]
		}
		w.setFields(names)
	case "date", "start-date":
		if len(val) >= 10 {
			if y, m, dd, ok := parseDate(val[:10]); ok {
				w.date, w.hasDay = [3]int{y, m, dd}, true
			}
		}
	case "gmt-offset":
		if len(val) == 5 && (val[0] == '+' || val[0] == '-') {
			zh, ok1 := digits(val[1:3])
			zm, ok2 := digits(val[3:5])
			if ok1 && ok2 {
				w.offset = int64(zh*3600 + zm*60)
				if val[0] == '-' {
					w.offset = -w.offset
				}
				w.hasOff = true
			}
		}
	}
	return errHeader
}

// parseW3C decodes a line of a W3C extended log (or a Blue Coat
// bcreportermain_v1 line), mapping its columns by the names in force.
func (d *Decoder) parseW3C(l []byte, base int, r *record.Proxy) error {
	if l[0] == '#' {
		return d.directive(l)
	}
	w := &d.w3c
	if w.nCols == 0 {
		return fmt.Errorf("w3c: data line before any #Fields: header")
	}
	n, ok := splitQuoted(l, d.tok[:], d.esc[:])
	if !ok {
		return fmt.Errorf("w3c: unterminated quoted field")
	}
	if n < w.nCols {
		return fmt.Errorf("w3c: %d fields, the #Fields: header names %d", n, w.nCols)
	}
	var date, clock, dateL, clockL, epoch []byte
	var uri [2]int
	var port [2]int
	for k := 0; k < w.nCols; k++ {
		c := w.cols[k]
		if c == cIgnore {
			continue
		}
		a, b := d.tok[k][0], d.tok[k][1]
		v := l[a:b]
		if len(v) == 0 || (len(v) == 1 && v[0] == '-') {
			continue // absent
		}
		var s string
		switch c {
		case cDate:
			date = v
			continue
		case cTime:
			clock = v
			continue
		case cDateLocal:
			dateL = v
			continue
		case cTimeLocal:
			clockL = v
			continue
		case cEpoch:
			epoch = v
			continue
		case cTimeTaken:
			ms, ok := timeTaken(v)
			if !ok {
				return fmt.Errorf("w3c: bad time-taken %q", v)
			}
			r.Duration = ms
			continue
		case cSCBytes, cCSBytes:
			x, ok := atoiDash(v)
			if !ok {
				return fmt.Errorf("w3c: bad byte count %q", v)
			}
			if c == cSCBytes {
				r.SCBytes = x
			} else {
				r.CSBytes = x
			}
			continue
		case cURI:
			uri = [2]int{base + a, base + b}
			continue
		case cServerPort:
			port = [2]int{base + a, base + b}
			continue
		case cStatus:
			s = d.status(base+a, base+b)
		default:
			if d.esc[k] {
				s = d.unescape(v)
			} else {
				s = d.str(base+a, base+b)
			}
		}
		switch c {
		case cClientIP:
			r.ClientIP = s
		case cUsername:
			r.Username = s
		case cAuthGroup:
			r.AuthGroup = s
		case cExceptionID:
			r.ExceptionID = s
		case cFilterResult:
			r.FilterResult = s
		case cCategories:
			r.WebCat = s
		case cReferer:
			r.Referer = s
		case cStatus:
			r.RespCode = s
		case cAction:
			r.Action = s
		case cMethod:
			r.ReqMethod = s
		case cContentType:
			r.ResContType = s
		case cScheme:
			r.URIScheme = s
		case cHost:
			r.Host = s
		case cPort:
			r.URIPort = s
		case cPath:
			r.URIPath = s
		case cQuery:
			r.URIQuery = s
		case cExtension:
			r.URIExtension = s
		case cUserAgent:
			r.UserAgent = s
		case cServerIP:
			r.ServerIP = s
		case cVirusID:
			r.VirusID = s
		case cAppName:
			r.BCAppName = s
		case cAppOper:
			r.BCAppOper = s
		}
	}
	d.w3cURL(r, uri, port)

	var sec, nsec int64
	if epoch != nil && clock == nil && clockL == nil {
		var ok bool
		if sec, nsec, ok = parseEpoch(epoch); !ok {
			return fmt.Errorf("w3c: bad x-timestamp-unix %q", epoch)
		}
	} else {
		var err error
		if sec, nsec, err = d.w3cTime(date, clock, dateL, clockL); err != nil {
			return err
		}
	}
	d.finish(r, sec, nsec)
	return nil
}

// w3cURL completes the URL columns: parts missing from their own columns
// come from a cs-uri column; a path that holds the query (no cs-uri-query
// column) is split; the query gets Blue Coat's leading '?'; port and
// extension are derived when no column gives them.
func (d *Decoder) w3cURL(r *record.Proxy, uri, port [2]int) {
	w := &d.w3c
	if uri[1] > uri[0] {
		p := splitURL(d.arena, uri[0], uri[1])
		fill := func(dst *string, s [2]int) {
			if *dst == "" && s[1] > s[0] {
				*dst = d.str(s[0], s[1])
			}
		}
		fill(&r.URIScheme, p.scheme)
		fill(&r.Host, p.host)
		if r.URIPath == "" && r.URIQuery == "" {
			fill(&r.URIPath, p.path)
			fill(&r.URIQuery, p.query)
		}
		if port[1] <= port[0] {
			port = p.port
		}
	}
	if r.URIPath != "" && r.URIQuery == "" && !w.has[cQuery] {
		if q := strings.IndexByte(r.URIPath, '?'); q >= 0 {
			r.URIPath, r.URIQuery = r.URIPath[:q], r.URIPath[q:]
		}
	}
	if r.URIQuery != "" && r.URIQuery[0] != '?' {
		r.URIQuery = d.derive("?", r.URIQuery)
	}
	if r.URIPort == "" && !w.has[cPort] { // a cs-uri-port of "-" stays "-"
		if port[1] > port[0] {
			r.URIPort = d.str(port[0], port[1])
		} else {
			r.URIPort = defaultPort(r.URIScheme)
		}
	}
	if r.URIExtension == "" && !w.has[cExtension] && len(r.URIPath) > 0 {
		r.URIExtension = extensionOf(r.URIPath)
	}
}

// extensionOf is Decoder.extension for a string.
func extensionOf(p string) string {
	for i := len(p) - 1; i >= 0; i-- {
		switch p[i] {
		case '/', ':':
			return "-"
		case '.':
			if i == len(p)-1 || i == 0 || p[i-1] == '/' {
				return "-"
			}
			return p[i+1:]
		}
	}
	return "-"
}

// w3cTime turns a line's date and time columns into Unix time. date/time
// are in --tz (UTC by default, as the W3C draft says), or shifted by a
// #GMT-Offset: directive; date-local/time-local are in --tz. A log without
// a date column takes the #Date: directive's day.
func (d *Decoder) w3cTime(date, clock, dateL, clockL []byte) (sec, nsec int64, err error) {
	w := &d.w3c
	if date == nil && clock == nil && (dateL != nil || clockL != nil) {
		date, clock = dateL, clockL
	}
	if clock == nil {
		return 0, 0, fmt.Errorf("w3c: no time")
	}
	var y, m, dd int
	if date != nil {
		var ok bool
		if y, m, dd, ok = parseDate(date); !ok {
			return 0, 0, fmt.Errorf("w3c: bad date %q", date)
		}
	} else if w.hasDay {
		y, m, dd = w.date[0], w.date[1], w.date[2]
	} else {
		return 0, 0, fmt.Errorf("w3c: no date column and no #Date: directive")
	}
	h, mi, s, ns, ok := parseClock(clock)
	if !ok {
		return 0, 0, fmt.Errorf("w3c: bad time %q", clock)
	}
	if w.hasOff {
		sec = daysFromCivil(y, m, dd)*86400 + int64(h*3600+mi*60+s) - w.offset
	} else {
		sec = localToUnix(y, m, dd, h, mi, s, d.loc)
	}
	return sec, ns, nil
}

// timeTaken reads time-taken: whole milliseconds (ProxySG, IIS, Squid's
// %tr), or seconds when written with a fraction (the W3C draft's unit).
func timeTaken(v []byte) (int32, bool) {
	if i := bytes.IndexByte(v, '.'); i >= 0 {
		s, ok1 := atoiDash(v[:i])
		f, ok2 := fraction(v[i+1:])
		if !ok1 || !ok2 {
			return 0, false
		}
		return clampInt32(s*1000 + (f+500_000)/1_000_000), true
	}
	x, ok := atoiDash(v)
	return clampInt32(x), ok
}

// unescape returns a quoted field's value with doubled quotes made single.
func (d *Decoder) unescape(v []byte) string {
	var b [256]byte
	out := b[:0]
	for i := 0; i < len(v); i++ {
		out = append(out, v[i])
		if v[i] == '"' && i+1 < len(v) && v[i+1] == '"' {
			i++
		}
	}
	return d.derive(string(out))
}
