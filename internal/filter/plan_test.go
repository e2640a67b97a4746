package filter

import (
	"context"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"
	"unsafe"

	"github.com/spot-hunt/spot/internal/enrich"
	"github.com/spot-hunt/spot/internal/ioformat"
	"github.com/spot-hunt/spot/internal/record"
)

// The predicates of a Plan, one by one, as spot filter's flags set them:
// what each keeps and drops at its bounds, on every kind, what it reads
// (Columns: a Parquet file's first pass reads only those), and how the
// drops are counted and said. (These came from mutants of plan.go that no
// test noticed: the predicates were tested end to end only.)

func mustPlan[T any](t *testing.T, o Options, k record.Kind) *Plan[T] {
	t.Helper()
	p, err := NewPlan[T](o, k)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func keep[T any](t *testing.T, p *Plan[T], rec T) bool {
	t.Helper()
	ok, err := p.Keep(&rec)
	if err != nil {
		t.Fatal(err)
	}
	return ok
}

// only is rec with every column but cols zero: what a first pass over a
// Parquet file reading cols gives.
func only[T any](rec *T, cols []string) T {
	var out T
	for _, c := range columnFields(reflect.TypeFor[T]()) {
		if slices.Contains(cols, c.name) {
			dst := reflect.NewAt(c.typ, unsafe.Add(unsafe.Pointer(&out), c.off)).Elem()
			dst.Set(reflect.NewAt(c.typ, unsafe.Add(unsafe.Pointer(rec), c.off)).Elem())
		}
	}
	return out
}

// agree checks that p decides each record from its Columns alone as from
// the whole record, and returns how many it kept.
func agree[T any](t *testing.T, name string, p *Plan[T], recs []T) int {
	t.Helper()
	cols := p.Columns()
	kept := 0
	for i := range recs {
		whole := keep(t, p, recs[i])
		if part := keep(t, p, only(&recs[i], cols)); part != whole {
			t.Errorf("%s: record %d kept %v whole, %v from its columns %v", name, i, whole, part, cols)
		}
		if whole {
			kept++
		}
	}
	return kept
}

var (
	since = time.Date(2026, 1, 2, 10, 0, 0, 0, time.UTC)
	until = time.Date(2026, 1, 2, 11, 0, 0, 0, time.UTC)
)

// TestPlanWindow: --since keeps records at or after it, --until those
// before it, by the decoder's nanosecond column, else by Spot's own time
// columns (unix_tstamp, a proxy line's date and time); a record with no
// time is outside any window.
func TestPlanWindow(t *testing.T) {
	s, u := since.UnixNano(), until.UnixNano()
	// times, and whether [since, until) holds them
	at := []struct {
		ns   int64
		want bool
	}{{s - 1, false}, {s, true}, {s + 1, true}, {u - 1, true}, {u, false}, {u + 1, false}}
	sec := []struct {
		unix int64
		want bool
	}{{since.Unix() - 1, false}, {since.Unix(), true}, {until.Unix() - 1, true}, {until.Unix(), false}}

	t.Run("flow", func(t *testing.T) {
		var recs []record.ScoredFlow
		var want []bool
		for _, x := range at {
			var r record.ScoredFlow
			r.TStartNs, r.UnixTstamp = x.ns, 1 // the nanoseconds win
			recs, want = append(recs, r), append(want, x.want)
		}
		for _, x := range sec {
			var r record.ScoredFlow
			r.UnixTstamp = x.unix // Spot's table: seconds only
			recs, want = append(recs, r), append(want, x.want)
		}
		recs, want = append(recs, record.ScoredFlow{}), append(want, false)
		checkWindow(t, record.KindFlow, recs, want)
	})
	t.Run("dns", func(t *testing.T) {
		var recs []record.ScoredDNS
		var want []bool
		for _, x := range at {
			var r record.ScoredDNS
			r.TsNs, r.UnixTstamp = x.ns, 1
			recs, want = append(recs, r), append(want, x.want)
		}
		for _, x := range sec {
			var r record.ScoredDNS
			r.UnixTstamp = x.unix
			recs, want = append(recs, r), append(want, x.want)
		}
		recs, want = append(recs, record.ScoredDNS{}), append(want, false)
		checkWindow(t, record.KindDNS, recs, want)
	})
	t.Run("proxy", func(t *testing.T) {
		var recs []record.ScoredProxy
		var want []bool
		for _, x := range at {
			var r record.ScoredProxy
			r.TsNs, r.PDate, r.PTime = x.ns, "2000-01-01", "00:00:00"
			recs, want = append(recs, r), append(want, x.want)
		}
		for _, x := range sec {
			var r record.ScoredProxy
			tm := time.Unix(x.unix, 0).UTC()
			r.PDate, r.PTime = tm.Format("2006-01-02"), tm.Format("15:04:05")
			recs, want = append(recs, r), append(want, x.want)
		}
		var bad record.ScoredProxy
		bad.PDate, bad.PTime = "2026-01-02", "10:30" // not a time Spot writes
		recs, want = append(recs, bad, record.ScoredProxy{}), append(want, false, false)
		checkWindow(t, record.KindProxy, recs, want)
	})
	t.Run("finding", func(t *testing.T) {
		var recs []record.Finding
		var want []bool
		for _, x := range at {
			recs, want = append(recs, record.Finding{TStartNs: x.ns, Score: 0.5}), append(want, x.want)
		}
		recs, want = append(recs, record.Finding{}), append(want, false)
		checkWindow(t, record.KindFinding, recs, want)
	})
}

// checkWindow runs recs through --since/--until, --since alone and
// --until alone, against want (for the window: a bound alone keeps what is
// on its side).
func checkWindow[T any](t *testing.T, k record.Kind, recs []T, want []bool) {
	t.Helper()
	p := mustPlan[T](t, Options{Since: since, Until: until}, k)
	sinceOnly := mustPlan[T](t, Options{Since: since}, k)
	untilOnly := mustPlan[T](t, Options{Until: until}, k)
	for i := range recs {
		if got := keep(t, p, recs[i]); got != want[i] {
			t.Errorf("record %d %+v: kept %v by [since, until), want %v", i, recs[i], got, want[i])
		}
		// a record kept by the window is kept by each bound; one dropped by
		// the window is dropped by one bound, or by both when it has no time
		s, u := keep(t, sinceOnly, recs[i]), keep(t, untilOnly, recs[i])
		if want[i] && !(s && u) || !want[i] && s && u {
			t.Errorf("record %d %+v: kept %v by --since alone, %v by --until alone", i, recs[i], s, u)
		}
	}
	dropped := 0
	for _, w := range want {
		if !w {
			dropped++
		}
	}
	if p.Seen != int64(len(recs)) || p.Dropped[ByWindow] != int64(dropped) {
		t.Errorf("seen %d, dropped %v; want %d seen, %d dropped by the window", p.Seen, p.Dropped, len(recs), dropped)
	}
	if want := fmt.Sprintf("dropped %d of %d records (--since/--until %d)", dropped, len(recs), dropped); p.Summary() != want {
		t.Errorf("summary %q, want %q", p.Summary(), want)
	}
	agree(t, "window", mustPlan[T](t, Options{Since: since, Until: until}, k), recs)
}

func allowList(t *testing.T, lines ...string) *enrich.Indicators {
	t.Helper()
	path := filepath.Join(t.TempDir(), "allow.txt")
	if err := os.WriteFile(path, []byte(strings.Join(lines, "\n")+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	a := enrich.NewIndicators()
	if err := a.Load(path, 0); err != nil {
		t.Fatal(err)
	}
	return a
}

// TestPlanAllow: --allow drops a flow by either address, a DNS message by
// its client or its question name (and names under a listed domain), a
// proxy request by its client or its URI (a URL listed, or its host as a
// domain or an address), a finding by its source or destination; nothing
// else.
func TestPlanAllow(t *testing.T) {
	a := allowList(t, "10.9.9.0/24", "allowed.example", "good.example/safe", "198.51.100.7")

	flow := func(sip, dip string) record.ScoredFlow {
		var r record.ScoredFlow
		r.SIP, r.DIP, r.DPort, r.Proto = sip, dip, 443, "TCP"
		return r
	}
	checkAllow(t, a, record.KindFlow, []record.ScoredFlow{
		flow("10.9.9.3", "192.0.2.1"), flow("192.0.2.1", "10.9.9.200"), flow("10.9.8.1", "192.0.2.1"),
		flow("allowed.example", "x"), // names are not a flow's addresses
	}, []bool{false, false, true, true})
	// a list without addresses drops no flow
	checkAllow(t, allowList(t, "allowed.example"), record.KindFlow, []record.ScoredFlow{flow("10.9.9.3", "10.9.9.4")}, []bool{true})

	dns := func(client, name string, response bool) record.ScoredDNS {
		var r record.ScoredDNS
		r.QryName, r.Response = name, response
		if response {
			r.IPDst, r.IPSrc = client, "192.0.2.53"
		} else {
			r.IPSrc, r.IPDst, r.TsNs = client, "192.0.2.53", 1 // a query spot decoded
		}
		return r
	}
	checkAllow(t, a, record.KindDNS, []record.ScoredDNS{
		dns("10.0.0.1", "www.allowed.example", true), dns("10.0.0.1", "allowed.example.", false), dns("10.9.9.1", "evil.example", true),
		dns("10.9.9.1", "evil.example", false), dns("10.0.0.1", "notallowed.example", true), dns("10.0.0.1", "evil.example", true),
	}, []bool{false, false, false, false, true, true})
	// a response's client is its destination: the server listed is not it
	r := dns("10.0.0.1", "evil.example", true)
	r.IPSrc = "10.9.9.53"
	checkAllow(t, a, record.KindDNS, []record.ScoredDNS{r}, []bool{true})

	proxy := func(client, uri string) record.ScoredProxy {
		var r record.ScoredProxy
		r.ClientIP, r.FullURI = client, uri
		return r
	}
	checkAllow(t, a, record.KindProxy, []record.ScoredProxy{
		proxy("10.0.0.1", "http://good.example/safe/page?x=1"), proxy("10.0.0.1", "http://good.example/unsafe"),
		proxy("10.0.0.1", "cdn.allowed.example/a.js"), proxy("10.0.0.1", "198.51.100.7:8080/x"), proxy("10.9.9.9", "evil.example/x"),
		proxy("10.0.0.1", "evil.example/allowed.example"),
	}, []bool{false, true, false, false, false, true})

	checkAllow(t, a, record.KindFinding, []record.Finding{
		{Src: "10.9.9.1", Dst: "evil.example"}, {Src: "10.0.0.1", Dst: "sub.allowed.example"}, {Src: "10.0.0.1", Dst: "198.51.100.7"},
		{Src: "10.0.0.1", Dst: "evil.example"}, {Src: "10.0.0.1"},
	}, []bool{false, false, false, true, true})
}

func checkAllow[T any](t *testing.T, a *enrich.Indicators, k record.Kind, recs []T, want []bool) {
	t.Helper()
	p := mustPlan[T](t, Options{Allow: a}, k)
	for i := range recs {
		if got := keep(t, p, recs[i]); got != want[i] {
			t.Errorf("%s record %d %+v: kept %v, want %v", k, i, recs[i], got, want[i])
		}
	}
	agree(t, string(k)+" allow", mustPlan[T](t, Options{Allow: a}, k), recs)
}

// TestPlanFeedback: --feedback drops the events whose key analysts marked
// low risk, of each kind; findings have no feedback.
func TestPlanFeedback(t *testing.T) {
	n := NewNoise()
	n.AddFlow(&record.Flow{SIP: "10.0.0.1", DIP: "10.0.0.2", DPort: 53, Proto: "UDP"})
	n.AddDNS(&record.DNS{IPDst: "10.0.0.9", QryName: "www.example.com", Response: true})
	n.AddProxy(&record.Proxy{ClientIP: "10.0.0.7", FullURI: "example.com/a"})

	var f1, f2 record.ScoredFlow
	f1.SIP, f1.DIP, f1.DPort, f1.Proto, f1.SPort = "10.0.0.1", "10.0.0.2", 53, "UDP", 999
	f2 = f1
	f2.DPort = 54
	checkFeedback(t, n, record.KindFlow, []record.ScoredFlow{f1, f2}, []bool{false, true})
	var d1, d2 record.ScoredDNS
	d1.IPDst, d1.QryName, d1.Response = "10.0.0.9", "WWW.example.com.", true
	d1.TsNs = 1
	d2 = d1
	d2.Response = false // a query's client is ip_src
	checkFeedback(t, n, record.KindDNS, []record.ScoredDNS{d1, d2}, []bool{false, true})
	var p1, p2 record.ScoredProxy
	p1.ClientIP, p1.FullURI = "10.0.0.7", "example.com/a"
	p2 = p1
	p2.ClientIP = "10.0.0.8"
	checkFeedback(t, n, record.KindProxy, []record.ScoredProxy{p1, p2}, []bool{false, true})

	if _, err := NewPlan[record.Finding](Options{Noise: n}, record.KindFinding); err == nil || !strings.Contains(err.Error(), "does not apply to findings") {
		t.Errorf("--feedback on findings: %v", err)
	}
}

func checkFeedback[T any](t *testing.T, n *Noise, k record.Kind, recs []T, want []bool) {
	t.Helper()
	p := mustPlan[T](t, Options{Noise: n}, k)
	for i := range recs {
		if got := keep(t, p, recs[i]); got != want[i] {
			t.Errorf("%s record %d: kept %v, want %v", k, i, got, want[i])
		}
	}
	if p.Dropped[ByFeedback] != 1 || p.Summary() != fmt.Sprintf("dropped 1 of %d records (--feedback 1)", len(recs)) {
		t.Errorf("%s: %v, %q", k, p.Dropped, p.Summary())
	}
	agree(t, string(k)+" feedback", mustPlan[T](t, Options{Noise: n}, k), recs)
}

// TestPlanMaxScore: --max-score keeps scores at or below it (and no NaN);
// it needs scored records.
func TestPlanMaxScore(t *testing.T) {
	p := mustPlan[record.ScoredDNS](t, Options{UseMax: true, MaxScore: 0.25}, record.KindDNS)
	var recs []record.ScoredDNS
	want := []bool{true, true, true, false, false, false}
	for _, s := range []float64{0, 0.1, 0.25, math.Nextafter(0.25, 1), 1, math.NaN()} {
		var r record.ScoredDNS
		r.Score = s
		recs = append(recs, r)
	}
	for i := range recs {
		if got := keep(t, p, recs[i]); got != want[i] {
			t.Errorf("score %v: kept %v, want %v", recs[i].Score, got, want[i])
		}
	}
	if p.Summary() != "dropped 3 of 6 records (--max-score 3)" {
		t.Errorf("summary %q", p.Summary())
	}
	if got := mustPlan[record.ScoredDNS](t, Options{UseMax: true}, record.KindDNS).Columns(); !slices.Equal(got, []string{"score"}) {
		t.Errorf("--max-score reads %v", got)
	}
	for _, o := range []Options{{UseMax: true}, {UseMax: true, Where: "frame_len > 1"}} {
		if _, err := NewPlan[record.DNS](o, record.KindDNS); err == nil || !strings.Contains(err.Error(), "--max-score needs scored records") {
			t.Errorf("--max-score on events: %v", err)
		}
	}
	// Score is the record's score, NaN on a stream without scores
	var r record.ScoredDNS
	r.Score = 0.125
	if got := p.Score(&r); got != 0.125 {
		t.Errorf("Score %v", got)
	}
	if got := mustPlan[record.DNS](t, Options{}, record.KindDNS).Score(&record.DNS{}); !math.IsNaN(got) {
		t.Errorf("Score of an event %v, want NaN", got)
	}
}

// TestPlanOrderAndSummary: each record dropped is counted once, under the
// first predicate that drops it (window, allow, feedback, max score,
// where), and the summary names them in that order.
func TestPlanOrderAndSummary(t *testing.T) {
	n := NewNoise()
	mk := func(ns int64, sip string, dport int32, score float64, ibyt int64) record.ScoredFlow {
		var r record.ScoredFlow
		r.TStartNs, r.SIP, r.DIP, r.DPort, r.Proto, r.Score, r.IByt = ns, sip, "192.0.2.1", dport, "TCP", score, ibyt
		return r
	}
	in := since.UnixNano()
	noisy := mk(in, "10.0.0.5", 22, 0, 100)
	n.AddFlow(&noisy.Flow)
	o := Options{Since: since, Until: until, Allow: allowList(t, "10.9.9.9"), Noise: n, UseMax: true, MaxScore: 0.5, Where: "ibyt > 50"}
	recs := []record.ScoredFlow{
		mk(in-1, "10.9.9.9", 22, 0.9, 1), // outside the window (and everything else)
		mk(in, "10.9.9.9", 22, 0.9, 1),   // allowed (and the rest)
		mk(in, "10.0.0.5", 22, 0.9, 1),   // marked (and the rest)
		mk(in, "10.0.0.6", 22, 0.9, 1),   // above --max-score, and --where
		mk(in, "10.0.0.6", 22, 0.1, 1),   // --where
		mk(in, "10.0.0.6", 22, 0.1, 51),  // kept
		mk(in, "10.0.0.7", 22, 0.5, 51),  // kept
	}
	p := mustPlan[record.ScoredFlow](t, o, record.KindFlow)
	var kept []int
	for i := range recs {
		if keep(t, p, recs[i]) {
			kept = append(kept, i)
		}
	}
	if !slices.Equal(kept, []int{5, 6}) {
		t.Errorf("kept %v, want [5 6]", kept)
	}
	want := "dropped 5 of 7 records (--since/--until 1, --allow 1, --feedback 1, --max-score 1, --where 1)"
	if got := p.Summary(); got != want {
		t.Errorf("summary %q, want %q", got, want)
	}
	if got := agree(t, "all predicates", mustPlan[record.ScoredFlow](t, o, record.KindFlow), recs); got != 2 {
		t.Errorf("kept %d from the columns", got)
	}
	if got := mustPlan[record.ScoredFlow](t, Options{}, record.KindFlow).Summary(); got != "" {
		t.Errorf("nothing dropped: summary %q", got)
	}
}

// TestPlanActive: a plan without predicates keeps everything and reads no
// column; each predicate makes it active; --where alone is a Pred for the
// column path, with its drops counted by CountWhere.
func TestPlanActive(t *testing.T) {
	none := mustPlan[record.ScoredFlow](t, Options{}, record.KindFlow)
	if none.Active() || len(none.Columns()) != 0 {
		t.Errorf("no predicate: active %v, columns %v", none.Active(), none.Columns())
	}
	if _, ok := none.WherePred(); ok {
		t.Error("a Pred without --where")
	}
	where := "dport == 4444"
	for _, o := range []Options{
		{Where: where}, {Since: since}, {Until: until}, {Allow: allowList(t, "10.0.0.1")}, {Noise: NewNoise()}, {UseMax: true, MaxScore: 1},
	} {
		p := mustPlan[record.ScoredFlow](t, o, record.KindFlow)
		if !p.Active() {
			t.Errorf("%+v: not active", o)
		}
		if len(p.Columns()) == 0 {
			t.Errorf("%+v: reads no column", o)
		}
		o.Where = where
		pred, ok := mustPlan[record.ScoredFlow](t, o, record.KindFlow).WherePred()
		if alone := o == (Options{Where: where}); ok != alone || alone && pred.String() != where {
			t.Errorf("%+v: WherePred %v, %v", o, pred, ok)
		}
	}
	p := mustPlan[record.ScoredFlow](t, Options{Where: where}, record.KindFlow)
	p.CountWhere(1000, 10)
	p.CountWhere(24, 0)
	if p.Seen != 1024 || p.Summary() != "dropped 1014 of 1024 records (--where 1014)" {
		t.Errorf("CountWhere: seen %d, %q", p.Seen, p.Summary())
	}
}

// TestPlanNeedsEvents: the window, --allow and --feedback read an event's
// columns; a record type without them is refused, as is a --where that
// does not compile.
func TestPlanNeedsEvents(t *testing.T) {
	for _, o := range []Options{{Since: since}, {Until: until}, {Allow: enrich.NewIndicators()}, {Noise: NewNoise()}} {
		if _, err := NewPlan[predRec](o, record.KindFlow); err == nil || !strings.Contains(err.Error(), "need flow events; predRec records hold none") {
			t.Errorf("%+v on predRec: %v", o, err)
		}
	}
	if _, err := NewPlan[predRec](Options{Where: "a > 1"}, record.KindFlow); err != nil {
		t.Errorf("--where on predRec: %v", err)
	}
	if _, err := NewPlan[record.Flow](Options{Where: "no_such_column > 1"}, record.KindFlow); err == nil {
		t.Error("a --where naming no column compiled")
	}
	// an event type itself is its own base
	p := mustPlan[record.Flow](t, Options{Since: since}, record.KindFlow)
	if !keep(t, p, record.Flow{TStartNs: since.UnixNano()}) || keep(t, p, record.Flow{TStartNs: since.UnixNano() - 1}) {
		t.Error("--since on flow events")
	}
}

// TestParseTimeForms: each form --since and --until take, and what is not
// a time.
func TestParseTimeForms(t *testing.T) {
	for s, want := range map[string]time.Time{
		"2026-01-02":                     time.Date(2026, 1, 2, 0, 0, 0, 0, time.UTC),
		" 2026-01-02 10:30:05 ":          time.Date(2026, 1, 2, 10, 30, 5, 0, time.UTC),
		"2026-01-02T10:30":               time.Date(2026, 1, 2, 10, 30, 0, 0, time.UTC),
		"2026-01-02T10:30:00.25Z":        time.Date(2026, 1, 2, 10, 30, 0, 250e6, time.UTC),
		"1767349800.5":                   time.Date(2026, 1, 2, 10, 30, 0, 500e6, time.UTC),
		"0":                              time.Unix(0, 0).UTC(),
		"2026-01-02T10:30:00-02:00":      time.Date(2026, 1, 2, 12, 30, 0, 0, time.UTC),
		"2026-01-02T10:30:00.123456789Z": time.Date(2026, 1, 2, 10, 30, 0, 123456789, time.UTC),
	} {
		got, err := ParseTime(s)
		if err != nil || !got.Equal(want) {
			t.Errorf("%q: %v %v, want %v", s, got, err, want)
		}
	}
	for _, s := range []string{"-5", "", "2026-13-01", "yesterday"} {
		if _, err := ParseTime(s); err == nil || !strings.Contains(err.Error(), "is not a time") {
			t.Errorf("%q: %v", s, err)
		}
	}
}

// TestAllowQueriesFromParquet: --allow and --feedback match a DNS query by
// its client (ip_src) when a Parquet file is read in two passes, as when it
// is read whole. (The first pass read response but not ts_ns, which tells
// a query spot decoded from a row of Spot's tables, so every query was
// matched by its server instead.)
func TestAllowQueriesFromParquet(t *testing.T) {
	var recs []record.ScoredDNS
	for i := range 40 {
		var r record.ScoredDNS
		r.TsNs, r.QryName, r.QryType, r.FrameLen = int64(1e18)+int64(i), fmt.Sprintf("h%d.example.org", i%4), 1, 90
		r.IPSrc, r.IPDst = fmt.Sprintf("10.0.0.%d", i%5), "192.0.2.53" // queries: the client is ip_src
		if i%2 == 1 {
			r.Response, r.IPSrc, r.IPDst = true, r.IPDst, r.IPSrc // responses: the client is ip_dst
		}
		r.Score, r.EID = float64(i)/40, int64(i)
		recs = append(recs, r)
	}
	marked := NewNoise()
	marked.AddDNS(&recs[2].DNS) // client 10.0.0.2, h2.example.org
	for _, tc := range []struct {
		name string
		o    Options
	}{{"--allow a client", Options{Allow: allowList(t, "10.0.0.1")}}, {"--allow the server", Options{Allow: allowList(t, "192.0.2.53")}}, {"--feedback", Options{Noise: marked}}} {
		o, want := tc.o, 0
		p := mustPlan[record.ScoredDNS](t, o, record.KindDNS)
		for i := range recs {
			if keep(t, p, recs[i]) {
				want++
			}
		}
		for _, name := range []string{"q.parquet", "q.ndjson"} {
			path := filepath.Join(t.TempDir(), name)
			writeRecs(t, path, recs)
			got := runRecs[record.ScoredDNS](t, path, o, record.KindDNS, 0)
			if len(got) != want {
				t.Errorf("%s %s: kept %d of %d, want %d", name, tc.name, len(got), len(recs), want)
			}
		}
	}
}

func writeRecs[T interface{ Meta() record.Meta }](t *testing.T, path string, recs []T) {
	t.Helper()
	var zero T
	w, err := ioformat.Create[T](ioformat.Dest{Path: path}, zero.Meta())
	if err != nil {
		t.Fatal(err)
	}
	if err := w.Write(recs); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
}

// runRecs is spot filter over the file at path: records of type T of kind
// k through o, with --top top.
func runRecs[T any](t *testing.T, path string, o Options, k record.Kind, top int) []T {
	t.Helper()
	in, err := ioformat.Open(path, nil)
	if err != nil {
		t.Fatal(err)
	}
	plan := mustPlan[T](t, o, k)
	var w memWriter[T]
	if _, err := Run[T, T](context.Background(), []*ioformat.Input{in}, &w, plan, nil, nil, top); err != nil {
		t.Fatal(err)
	}
	return w.recs
}

// TestExprErrorsPointAt: an error in a --where of several lines quotes
// its line (the first, the last) with a caret under the column; an unknown
// name is matched with the nearest column when within a third of its
// length in edits, else pointed to the schema.
func TestExprErrorsPointAt(t *testing.T) {
	typ := reflect.TypeFor[record.ScoredFlow]()
	for src, want := range map[string]string{
		"nope_x > 1 &&\n  dport == 53":               "--where: line 1, column 1: unknown name nope_x (spot help schema KIND lists the columns)\n  nope_x > 1 &&\n  ^",
		"dport == 53 &&\n  ibyt > 1 &&\n  sprt == 5": "--where: line 3, column 3: unknown name sprt (did you mean sport?)\n    sprt == 5\n    ^",
		"ibyt > 1 && dprt == 53":                     "--where: column 13: unknown name dprt (did you mean dport?)\n  ibyt > 1 && dprt == 53\n              ^",
	} {
		_, err := Compile(src, typ)
		if err == nil || err.Error() != want {
			t.Errorf("%q:\n%v\nwant\n%s", src, err, want)
		}
	}
	for name, want := range map[string]string{
		"DPORT":      "dport",     // case aside
		"tsart_ns":   "tstart_ns", // 1 edit of 8
		"srcwrd":     "src_word",  // 2 of 6
		"src_wrd":    "src_word",  // 1 of 7
		"scor":       "score",     // 1 of 4
		"sc":         "",          // 3 of 2
		"dest_wor":   "dst_word",  // 2 of 8
		"dext_wor":   "",          // 3 of 8
		"ibytes":     "ibyt",      // 2 of 6
		"tstrt_nss":  "tstart_ns", // 2 of 9
		"txtrt_nss":  "tstart_ns", // 3 of 9
		"txtrt_nsss": "",          // 4 of 10: too far
	} {
		if got := nearest(name, columnFields(typ)); got != want {
			t.Errorf("nearest(%q) = %q, want %q", name, got, want)
		}
	}
	for _, c := range []struct {
		a, b string
		d    int
	}{{"kitten", "sitting", 3}, {"", "abc", 3}, {"abc", "", 3}, {"flaw", "lawn", 2}, {"dport", "dport", 0}, {"dport", "dporx", 1}, {"xdport", "dport", 1}} {
		if got := editDistance(c.a, c.b); got != c.d {
			t.Errorf("editDistance(%q, %q) = %d, want %d", c.a, c.b, got, c.d)
		}
	}
}
