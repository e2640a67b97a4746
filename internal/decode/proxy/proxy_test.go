package proxy

import (
	"bufio"
	"bytes"
	"errors"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"
	_ "time/tzdata" // the zones these tests use, whatever the machine has

	"github.com/spot-hunt/spot/internal/ioformat"
	"github.com/spot-hunt/spot/internal/record"
)

const fixtures = "../../../testdata/proxy"

// decodeAll decodes a whole log, returning its records and the errors of
// the lines skipped.
func decodeAll(t testing.TB, name string, data []byte, opt Options) ([]record.Proxy, []error, Format) {
	t.Helper()
	var skips []error
	opt.OnSkip = func(err error) { skips = append(skips, err) }
	d, err := NewDecoder(bytes.NewReader(data), name, opt)
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	var out []record.Proxy
	buf := make([]record.Proxy, 7) // small, to cross batch boundaries
	for {
		n, err := d.Read(buf)
		out = append(out, buf[:n]...)
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
	}
	if int64(len(skips)) != d.Skipped() {
		t.Errorf("%s: Skipped() = %d, OnSkip called %d times", name, d.Skipped(), len(skips))
	}
	return out, skips, d.Format()
}

func decodeFile(t testing.TB, path string, opt Options) ([]record.Proxy, []error, Format) {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return decodeAll(t, path, data, opt)
}

// dataLines counts a log's lines that are neither blank nor '#' directives.
func dataLines(t *testing.T, path string) int {
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	n := 0
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		l := strings.TrimSpace(sc.Text())
		if l != "" && !strings.HasPrefix(l, "#") {
			n++
		}
	}
	return n
}

// Every real log in testdata/proxy decodes to one record per data line,
// in the format it was written in.
func TestRealLogsCounts(t *testing.T) {
	want := map[string]Format{
		"squid-native.access.log":                 Squid,
		"squid-combined.access.log":               Combined,
		"squid-elff.access.log":                   W3C,
		"bluecoat-from-squid-elff.log":            BlueCoat,
		"metron_SquidExampleOutput.txt":           Squid,
		"metron_squid_raw_SquidExampleOutput.txt": Squid,
		"lnav_logfile_w3c.0.log":                  W3C,
		"lnav_logfile_w3c.1.log":                  W3C,
		"lnav_logfile_w3c.2.log":                  W3C,
		"lnav_logfile_w3c.3.log":                  W3C,
		"lnav_logfile_w3c.4.log":                  W3C,
		"lnav_logfile_w3c.5.log":                  W3C,
		"lnav_logfile_w3c.6.log":                  W3C,
		"lnav_logfile_w3c_big.0.log":              W3C,
	}
	files, _ := filepath.Glob(filepath.Join(fixtures, "*"))
	seen := 0
	for _, path := range files {
		base := filepath.Base(path)
		f, ok := want[base]
		if !ok {
			continue
		}
		seen++
		recs, skips, got := decodeFile(t, path, Options{})
		if got != f {
			t.Errorf("%s: detected %v, want %v", base, got, f)
		}
		if len(skips) > 0 {
			t.Errorf("%s: %d lines skipped, first: %v", base, len(skips), skips[0])
		}
		if n := dataLines(t, path); len(recs) != n {
			t.Errorf("%s: %d records, want %d (its data lines)", base, len(recs), n)
		}
		for i, r := range recs {
			checkRecord(t, base, i, r)
		}
		// forcing the format gives the same records
		forced, _, _ := decodeFile(t, path, Options{Format: f})
		if !reflect.DeepEqual(forced, recs) {
			t.Errorf("%s: -i %v decodes differently from detection", base, f)
		}
	}
	if seen != len(want) {
		t.Errorf("found %d of the %d fixtures in %s", seen, len(want), fixtures)
	}
}

// checkRecord asserts what holds for every record: no empty string, times
// consistent with each other, fulluri by Spot's rule.
func checkRecord(t *testing.T, name string, i int, r record.Proxy) {
	t.Helper()
	v := reflect.ValueOf(r)
	for k := range v.NumField() {
		if f := v.Field(k); f.Kind() == reflect.String && f.String() == "" {
			t.Errorf("%s record %d: %s is empty (absent should be -)", name, i, v.Type().Field(k).Name)
		}
	}
	ts := time.Unix(0, r.TsNs).UTC()
	if got := ts.Format("2006-01-02"); got != r.PDate {
		t.Errorf("%s record %d: p_date %s, ts_ns says %s", name, i, r.PDate, got)
	}
	if got := ts.Format("15:04:05"); got != r.PTime {
		t.Errorf("%s record %d: p_time %s, ts_ns says %s", name, i, r.PTime, got)
	}
	if int(r.Y) != ts.Year() || int(r.M) != int(ts.Month()) || int(r.D) != ts.Day() || int(r.H) != ts.Hour() {
		t.Errorf("%s record %d: y/m/d/h %d/%d/%d/%d, ts_ns says %v", name, i, r.Y, r.M, r.D, r.H, ts)
	}
	want := r.Host
	if len(r.URIPath) > 1 {
		want += r.URIPath
	}
	if len(r.URIQuery) > 1 {
		want += r.URIQuery
	}
	if r.FullURI != want {
		t.Errorf("%s record %d: fulluri %q, want %q", name, i, r.FullURI, want)
	}
	if r.URIQuery != "-" && r.URIQuery[0] != '?' {
		t.Errorf("%s record %d: uriquery %q lacks its '?'", name, i, r.URIQuery)
	}
}

// One real Squid logged the same 232 requests in its native, combined and
// ELFF formats (corpus regen-proxy.sh); the Blue Coat fixture rearranges
// the ELFF columns. Wherever two formats carry the same datum, they must
// decode to the same value.
func TestSquidFormatsAgree(t *testing.T) {
	native, _, _ := decodeFile(t, filepath.Join(fixtures, "squid-native.access.log"), Options{})
	combined, _, _ := decodeFile(t, filepath.Join(fixtures, "squid-combined.access.log"), Options{})
	elff, _, _ := decodeFile(t, filepath.Join(fixtures, "squid-elff.access.log"), Options{})
	bluecoat, _, _ := decodeFile(t, filepath.Join(fixtures, "bluecoat-from-squid-elff.log"), Options{})
	const n = 232
	for name, recs := range map[string][]record.Proxy{"native": native, "combined": combined, "elff": elff, "bluecoat": bluecoat} {
		if len(recs) != n {
			t.Fatalf("%s: %d records, want %d", name, len(recs), n)
		}
	}
	type get func(r *record.Proxy) any
	fields := map[string]get{
		"p_date":       func(r *record.Proxy) any { return r.PDate },
		"p_time":       func(r *record.Proxy) any { return r.PTime },
		"second":       func(r *record.Proxy) any { return r.TsNs / 1e9 },
		"ymdh":         func(r *record.Proxy) any { return [4]int32{r.Y, r.M, r.D, r.H} },
		"clientip":     func(r *record.Proxy) any { return r.ClientIP },
		"respcode":     func(r *record.Proxy) any { return r.RespCode },
		"action":       func(r *record.Proxy) any { return r.Action },
		"reqmethod":    func(r *record.Proxy) any { return r.ReqMethod },
		"username":     func(r *record.Proxy) any { return r.Username },
		"scbytes":      func(r *record.Proxy) any { return r.SCBytes },
		"csbytes":      func(r *record.Proxy) any { return r.CSBytes },
		"duration":     func(r *record.Proxy) any { return r.Duration },
		"resconttype":  func(r *record.Proxy) any { return r.ResContType },
		"serverip":     func(r *record.Proxy) any { return r.ServerIP },
		"useragent":    func(r *record.Proxy) any { return r.UserAgent },
		"referer":      func(r *record.Proxy) any { return r.Referer },
		"urischeme":    func(r *record.Proxy) any { return r.URIScheme },
		"host":         func(r *record.Proxy) any { return r.Host },
		"uriport":      func(r *record.Proxy) any { return r.URIPort },
		"uripath":      func(r *record.Proxy) any { return r.URIPath },
		"uriquery":     func(r *record.Proxy) any { return r.URIQuery },
		"uriextension": func(r *record.Proxy) any { return r.URIExtension },
		"fulluri":      func(r *record.Proxy) any { return r.FullURI },
	}
	url := []string{"urischeme", "host", "uriport", "uripath", "uriquery", "uriextension", "fulluri"}
	common := []string{"p_date", "p_time", "second", "ymdh", "clientip", "respcode", "action", "reqmethod", "username", "scbytes"}
	pairs := []struct {
		a, b   string
		ra, rb []record.Proxy
		fields []string
	}{
		{"native", "combined", native, combined, append(append([]string{}, common...), url...)},
		{"native", "elff", native, elff, append(append([]string{"duration", "resconttype", "serverip"}, common...), url...)},
		{"combined", "elff", combined, elff, append(append([]string{"useragent", "referer"}, common...), url...)},
		{"native", "bluecoat", native, bluecoat, append(append([]string{"duration", "resconttype", "serverip"}, common...), url...)},
		{"elff", "bluecoat", elff, bluecoat, nil}, // every column but eid
	}
	compared := 0
	for _, p := range pairs {
		for i := range n {
			a, b := p.ra[i], p.rb[i]
			if p.fields == nil {
				a.EID, b.EID = 0, 0
				if a != b {
					t.Errorf("line %d: %s and %s differ:\n%+v\n%+v", i+1, p.a, p.b, a, b)
				}
				compared++
				continue
			}
			for _, f := range p.fields {
				// Squid's ELFF log writes "-" for the URL parts of a request
				// that ended before its headers; native and combined log the
				// pseudo-URL "error:transaction-end-before-headers".
				isURL := false
				for _, u := range url {
					isURL = isURL || f == u
				}
				if isURL && (p.b == "elff" || p.b == "bluecoat") && strings.HasPrefix(native[i].URIPath, "error:") {
					continue
				}
				va, vb := fields[f](&a), fields[f](&b)
				if va != vb {
					t.Errorf("line %d: %s %s=%v, %s %s=%v", i+1, p.a, f, va, p.b, f, vb)
				}
				compared++
			}
		}
	}
	if compared < 232*50 {
		t.Errorf("only %d comparisons made", compared)
	}
	// the error line is the only one left out of the URL comparisons
	errs := 0
	for _, r := range native {
		if strings.HasPrefix(r.URIPath, "error:") {
			errs++
		}
	}
	if errs != 1 {
		t.Errorf("%d native lines with an error: pseudo-URL, want 1", errs)
	}
	// Squid logs milliseconds natively; the other formats whole seconds.
	if native[1].TsNs%1e9 == 0 || combined[1].TsNs%1e9 != 0 {
		t.Errorf("sub-second times: native %d, combined %d", native[1].TsNs, combined[1].TsNs)
	}
}

func TestSplitURL(t *testing.T) {
	for _, tc := range []struct {
		url                                  string
		scheme, host, port, path, query, ext string
		fulluri                              string
	}{
		{"http://www.cnn.com/", "http", "www.cnn.com", "80", "/", "-", "-", "www.cnn.com"},
		{"http://h.example:8080/a/b.php?x=1&y=2", "http", "h.example", "8080", "/a/b.php", "?x=1&y=2", "php", "h.example/a/b.php?x=1&y=2"},
		{"https://h.example/dl/setup.exe", "https", "h.example", "443", "/dl/setup.exe", "-", "exe", "h.example/dl/setup.exe"},
		{"http://www.aliexpress.com/af/shoes.html?", "http", "www.aliexpress.com", "80", "/af/shoes.html", "?", "html", "www.aliexpress.com/af/shoes.html"},
		{"www.example.com:443", "-", "www.example.com", "443", "-", "-", "-", "www.example.com"},
		{"/index.html?q=1", "-", "-", "-", "/index.html", "?q=1", "html", "-/index.html?q=1"},
		{"http://user:pw@[2001:db8::1]:8443/x", "http", "[2001:db8::1]", "8443", "/x", "-", "-", "[2001:db8::1]/x"},
		{"ftp://files.example/pub/.hidden", "ftp", "files.example", "21", "/pub/.hidden", "-", "-", "files.example/pub/.hidden"},
		{"error:transaction-end-before-headers", "-", "-", "-", "error:transaction-end-before-headers", "-", "-", "-error:transaction-end-before-headers"},
		{"-", "-", "-", "-", "-", "-", "-", "-"},
	} {
		line := "1461576382.642 161 127.0.0.1 TCP_MISS/200 103701 GET " + tc.url + " - DIRECT/199.27.79.73 text/html"
		recs, skips, _ := decodeAll(t, "t", []byte(line), Options{Format: Squid})
		if len(recs) != 1 || len(skips) != 0 {
			t.Fatalf("%s: %d records, skips %v", tc.url, len(recs), skips)
		}
		r := recs[0]
		got := [7]string{r.URIScheme, r.Host, r.URIPort, r.URIPath, r.URIQuery, r.URIExtension, r.FullURI}
		want := [7]string{tc.scheme, tc.host, tc.port, tc.path, tc.query, tc.ext, tc.fulluri}
		if got != want {
			t.Errorf("%s:\n got %q\nwant %q", tc.url, got, want)
		}
	}
}

func TestTimes(t *testing.T) {
	paris, err := time.LoadLocation("Europe/Paris")
	if err != nil {
		t.Fatal(err) // time/tzdata is linked in: never missing
	}
	for _, tc := range []struct {
		name string
		log  string
		opt  Options
		want string // UTC
	}{
		{"combined offset", `10.0.0.1 - bob [23/Nov/2026:21:50:08 +0100] "GET http://a.example/ HTTP/1.1" 200 10 "-" "curl/8"`, Options{}, "2026-11-23 20:50:08"},
		{"combined negative offset", `10.0.0.1 - - [31/Dec/2026:22:00:00 -0330] "GET / HTTP/1.0" 200 10`, Options{}, "2027-01-01 01:30:00"},
		{"combined without offset, --tz", `10.0.0.1 - - [01/Jul/2026:12:00:00] "GET / HTTP/1.0" 200 10`, Options{Location: paris}, "2026-07-01 10:00:00"},
		{"squid epoch", "1795467008.615 0 10.0.0.1 TCP_MISS/200 1 GET http://a/ - DIRECT/1.2.3.4 -", Options{}, "2026-11-23 20:50:08"},
		{"w3c utc", "#Fields: date time c-ip cs-method cs-uri\n2026-07-01 12:00:00 10.0.0.1 GET http://a/\n", Options{}, "2026-07-01 12:00:00"},
		{"w3c --tz", "#Fields: date time c-ip cs-method cs-uri\n2026-07-01 12:00:00 10.0.0.1 GET http://a/\n", Options{Location: paris}, "2026-07-01 10:00:00"},
		{"w3c date-local --tz", "#Fields: date-local time-local c-ip\n2026-01-01 12:00:00.5 10.0.0.1\n", Options{Location: paris}, "2026-01-01 11:00:00"},
		{"w3c #GMT-Offset", "#GMT-Offset: -0800\n#Fields: date time c-ip\n2001-10-31 00:00:18 10.0.0.1\n", Options{Location: paris}, "2001-10-31 08:00:18"},
		{"w3c #Date only", "#Date: 2000-10-09 16:44:49\n#Fields: time c-ip\n16:44:49 1.1.1.1\n", Options{}, "2000-10-09 16:44:49"},
		{"w3c x-timestamp-unix", "#Fields: x-timestamp-unix c-ip\n1795467008.615 10.0.0.1\n", Options{Location: paris}, "2026-11-23 20:50:08"},
		{"bluecoat", "2026-11-23 20:50:08 1 10.0.0.1 - - - - - - 200 TCP_MISS GET - http a 80 / - - - - 1 1 - - -", Options{}, "2026-11-23 20:50:08"},
	} {
		recs, skips, _ := decodeAll(t, tc.name, []byte(tc.log), tc.opt)
		if len(recs) != 1 || len(skips) != 0 {
			t.Errorf("%s: %d records, skips %v", tc.name, len(recs), skips)
			continue
		}
		if got := recs[0].PDate + " " + recs[0].PTime; got != tc.want {
			t.Errorf("%s: %s, want %s", tc.name, got, tc.want)
		}
		checkRecord(t, tc.name, 0, recs[0])
	}
}

// W3C columns are mapped by name, follow header changes mid-file, and
// handle quoting with doubled quotes and "-".
func TestW3CFields(t *testing.T) {
	log := `#Software: test
#Fields: date time c-ip cs-host cs-uri-stem cs-uri-query cs(User-Agent) sc-status time-taken
2026-01-02 03:04:05 10.0.0.1 a.example /x.js v=1 "Mozilla ""quoted"" agent" 200 12
2026-01-02 03:04:06 10.0.0.2 - - - - 404 1.5

#Fields: cs(User-Agent) sc-status c-ip date time cs-uri x-unknown
"curl/8" 301 10.0.0.3 2026-01-02 03:04:07 https://b.example:8443/p?q "extra column"
`
	recs, skips, f := decodeAll(t, "w3c", []byte(log), Options{})
	if f != W3C || len(skips) != 0 || len(recs) != 3 {
		t.Fatalf("format %v, %d records, skips %v", f, len(recs), skips)
	}
	r := recs[0]
	if r.UserAgent != `Mozilla "quoted" agent` || r.URIQuery != "?v=1" || r.FullURI != "a.example/x.js?v=1" || r.Duration != 12 || r.URIExtension != "js" {
		t.Errorf("record 1: %+v", r)
	}
	r = recs[1]
	if r.Host != "-" || r.UserAgent != "-" || r.RespCode != "404" || r.Duration != 1500 || r.FullURI != "-" {
		t.Errorf("record 2: %+v", r)
	}
	r = recs[2]
	if r.ClientIP != "10.0.0.3" || r.RespCode != "301" || r.UserAgent != "curl/8" || r.Host != "b.example" ||
		r.URIPort != "8443" || r.URIScheme != "https" || r.FullURI != "b.example/p?q" || r.PTime != "03:04:07" {
		t.Errorf("record 3: %+v", r)
	}
}

// Malformed lines are skipped, counted and named by file and line; the
// lines around them still decode.
func TestMalformedLines(t *testing.T) {
	for _, tc := range []struct {
		format Format
		log    string
		bad    []int64
	}{
		{Squid, "1795467008.615 0 10.0.0.1 TCP_MISS/200 1 GET http://a/ - DIRECT/1.2.3.4 -\nnot a squid line\n1795467008.6x5 0 10.0.0.1 TCP_MISS/200 1 GET http://a/ - DIRECT/1.2.3.4 -\n1795467008.615 0 10.0.0.1 TCP_MISS 1 GET http://a/ - DIRECT/1.2.3.4 -\n1795467009 0 10.0.0.1 TCP_MISS/200 1 GET http://a/ - DIRECT/1.2.3.4 -", []int64{2, 3, 4}},
		{Combined, "10.0.0.1 - - [23/Nov/2026:21:50:08 +0100] \"GET / HTTP/1.1\" 200 10\n10.0.0.1 - - [23/Nov/2026:21:50:08 +0100] \"GET / HTTP/1.1 200 10\n10.0.0.1 - - [32/Nov/2026:21:50:08 +0100] \"GET /\" 200 10\n10.0.0.1 - - [23/Nov/2026:21:50:08 +0100] \"GET /\" 2x0 10\n", []int64{2, 3, 4}},
		{W3C, "1 2 3\n#Fields: date time c-ip\n2026-01-01 00:00:00 1.2.3.4\n2026-01-01 00:00:00\n2026-13-01 00:00:00 1.2.3.4\n2026-01-01 00:00:00 \"1.2.3.4\n", []int64{1, 4, 5, 6}},
	} {
		recs, skips, _ := decodeAll(t, "bad.log", []byte(tc.log), Options{Format: tc.format})
		if len(skips) != len(tc.bad) {
			t.Errorf("%v: skipped %d (%v), want lines %v", tc.format, len(skips), skips, tc.bad)
			continue
		}
		if len(recs)+len(skips) != strings.Count(strings.TrimSpace(tc.log), "\n")+1-strings.Count(tc.log, "#Fields") {
			t.Errorf("%v: %d records + %d skipped do not cover the log", tc.format, len(recs), len(skips))
		}
		for i, err := range skips {
			var re *ioformat.RecordError
			if !errors.As(err, &re) || re.Name != "bad.log" || re.Number != tc.bad[i] || re.Unit != "line" {
				t.Errorf("%v: skip %d = %v, want bad.log line %d", tc.format, i, err, tc.bad[i])
			}
		}
	}
}

func TestDetectUnknown(t *testing.T) {
	_, err := NewDecoder(strings.NewReader("hello\nworld\n"), "x", Options{})
	if !errors.Is(err, ErrUnknownFormat) {
		t.Errorf("err = %v, want ErrUnknownFormat", err)
	}
	recs, skips, _ := decodeAll(t, "empty", []byte("\n\n"), Options{})
	if len(recs) != 0 || len(skips) != 0 {
		t.Errorf("empty log: %d records, %d skips", len(recs), len(skips))
	}
	for _, s := range []string{"auto", "squid", "combined", "common", "w3c", "bluecoat", "ELFF", "clf"} {
		if _, err := ParseFormat(s); err != nil {
			t.Errorf("ParseFormat(%q): %v", s, err)
		}
	}
	if _, err := ParseFormat("zeek"); err == nil {
		t.Error("ParseFormat(zeek) succeeded")
	}
}

// Event ids are stable and differ between lines.
func TestEIDs(t *testing.T) {
	path := filepath.Join(fixtures, "squid-native.access.log")
	a, _, _ := decodeFile(t, path, Options{})
	b, _, _ := decodeFile(t, path, Options{})
	seen := map[int64]bool{}
	for i := range a {
		if a[i].EID != b[i].EID {
			t.Fatalf("record %d: eid differs between runs", i)
		}
		if seen[a[i].EID] {
			t.Fatalf("record %d: eid repeated", i)
		}
		seen[a[i].EID] = true
	}
}

// Windows line ends are read; a line longer than the buffer is skipped and
// named, and the lines after it still decode.
func TestLineEnds(t *testing.T) {
	good := "1795467008.615 0 10.0.0.1 TCP_MISS/200 1 GET http://a/ - DIRECT/1.2.3.4 text/html"
	long := "1795467008.615 0 10.0.0.1 TCP_MISS/200 1 GET http://a/" + strings.Repeat("x", bufferSize+10) + " - DIRECT/1.2.3.4 -"
	log := good + "\r\n" + long + "\r\n" + good + "\r\n" + good
	recs, skips, _ := decodeAll(t, "crlf.log", []byte(log), Options{Format: Squid})
	if len(recs) != 3 || len(skips) != 1 {
		t.Fatalf("%d records, %d skipped (%v), want 3 and 1", len(recs), len(skips), skips)
	}
	var re *ioformat.RecordError
	if !errors.As(skips[0], &re) || re.Number != 2 {
		t.Errorf("skip = %v, want line 2", skips[0])
	}
	for _, r := range recs {
		if r.ResContType != "text/html" {
			t.Errorf("content type %q: the CR was kept", r.ResContType)
		}
	}
}

// Squid's built-in "common" logformat ends with ACTION:HIERARCHY; nginx
// adds columns after the user agent.
func TestCommonVariants(t *testing.T) {
	for _, tc := range []struct {
		log                      string
		format                   Format
		action, agent, user, uri string
	}{
		{`127.0.0.1 - alice [23/Nov/2026:20:50:08 +0000] "GET http://a.example/x.gif HTTP/1.1" 200 43 TCP_HIT:HIER_NONE`, Common, "TCP_HIT", "-", "alice", "a.example/x.gif"},
		{`10.1.2.3 - - [23/Nov/2026:20:50:08 +0000] "GET /p?q=1 HTTP/2.0" 404 0 "-" "Go-http-client/1.1" "10.9.9.9" rt=0.001`, Combined, "-", "Go-http-client/1.1", "-", "-/p?q=1"},
		{`::1 - - [23/Nov/2026:20:50:08 +0000] "CONNECT www.example.com:443 HTTP/1.1" 200 0 "-" "curl/8 \"quoted\""`, Combined, "-", `curl/8 \"quoted\"`, "-", "www.example.com"},
	} {
		recs, skips, f := decodeAll(t, "clf", []byte(tc.log), Options{})
		if f != tc.format || len(recs) != 1 || len(skips) != 0 {
			t.Errorf("%s: format %v, %d records, skips %v", tc.log, f, len(recs), skips)
			continue
		}
		r := recs[0]
		if r.Action != tc.action || r.UserAgent != tc.agent || r.Username != tc.user || r.FullURI != tc.uri {
			t.Errorf("%s:\n action %q agent %q user %q fulluri %q", tc.log, r.Action, r.UserAgent, r.Username, r.FullURI)
		}
		checkRecord(t, "clf", 0, r)
	}
}

// Detection reads no more than the lines it needs: a live pipe is not held
// up waiting for 64 KiB.
func TestDetectLivePipe(t *testing.T) {
	pr, pw := io.Pipe()
	defer pw.Close()
	go pw.Write([]byte("1795467008.615 0 10.0.0.1 TCP_MISS/200 1 GET http://a/ - DIRECT/1.2.3.4 -\n"))
	done := make(chan Format, 1)
	go func() {
		d, err := NewDecoder(pr, "-", Options{})
		if err != nil {
			t.Error(err)
			done <- Auto
			return
		}
		done <- d.Format()
	}()
	select {
	case f := <-done:
		if f != Squid {
			t.Errorf("format %v, want squid", f)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("detection still waiting for input after one complete line")
	}
}

// With ReuseBatches, a batch's records stay as decoded until the batch is
// passed to Read again, while the other batches are filled; and the
// arenas go round with the batches rather than one being made per batch.
func TestReuseBatches(t *testing.T) {
	defer func(n int) { arenaSize = n }(arenaSize)
	arenaSize = 4 << 10 // a few lines an arena, so that arenas go round
	files, _ := filepath.Glob(filepath.Join(fixtures, "*"))
	if len(files) == 0 {
		t.Fatal("no fixtures")
	}
	for _, path := range files {
		data, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		d, err := NewDecoder(bytes.NewReader(data), path, Options{ReuseBatches: true})
		if errors.Is(err, ErrUnknownFormat) { // not a log (a script, a README)
			continue
		}
		if err != nil {
			t.Fatal(err)
		}
		want, _, _ := decodeAll(t, path, data, Options{})
		batches := [3][]record.Proxy{}
		start := [3]int{} // index in want of each batch's first record
		count := [3]int{}
		for i := range batches {
			batches[i] = make([]record.Proxy, 5)
		}
		check := func(k int) {
			for j, r := range batches[k][:count[k]] {
				if !reflect.DeepEqual(r, want[start[k]+j]) {
					t.Fatalf("%s: record %d changed before its batch was read again:\n got %+v\nwant %+v", path, start[k]+j, r, want[start[k]+j])
				}
			}
		}
		next, reads := 0, 0
		for k := 0; ; k = (k + 1) % len(batches) {
			for i := range batches {
				check(i)
			}
			n, err := d.Read(batches[k])
			start[k], count[k] = next, n
			next += n
			reads++
			if err == io.EOF {
				break
			}
			if err != nil {
				t.Fatalf("%s: %v", path, err)
			}
		}
		for i := range batches {
			check(i)
		}
		if next != len(want) {
			t.Errorf("%s: %d records, want %d", path, next, len(want))
		}
		arenas := len(d.spares)
		for _, a := range d.owned {
			arenas += len(a)
		}
		if arenas > 2*len(batches) {
			t.Errorf("%s: %d arenas for %d batches over %d reads", path, arenas, len(batches), reads)
		}
	}
}
