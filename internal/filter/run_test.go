package filter

import (
	"context"
	"fmt"
	"math/rand/v2"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"
	"unsafe"

	"github.com/spot-hunt/spot/internal/ioformat"
	"github.com/spot-hunt/spot/internal/record"
)

// memWriter collects what Run writes.
type memWriter[T any] struct{ recs []T }

func (w *memWriter[T]) Write(r []T) error { w.recs = append(w.recs, r...); return nil }
func (w *memWriter[T]) Close() error      { return nil }
func (w *memWriter[T]) Abort()            {}

// scoredFlows makes n scored flows with few distinct scores so that ties are common.
func scoredFlows(n int) []record.ScoredFlow {
	r := rand.New(rand.NewPCG(7, 8))
	out := make([]record.ScoredFlow, n)
	for i := range out {
		f := &out[i]
		f.SIP = fmt.Sprintf("10.0.%d.%d", r.IntN(4), r.IntN(250))
		f.DIP = fmt.Sprintf("192.0.2.%d", r.IntN(250))
		f.DPort = int32([]int{53, 80, 443, 4444}[r.IntN(4)])
		f.Proto = []string{"TCP", "UDP"}[r.IntN(2)]
		f.IByt = int64(r.IntN(100000))
		f.TStartNs = int64(1_700_000_000+i) * 1e9
		f.Score = float64(r.IntN(1000)) / 1000
		f.EID = int64(r.IntN(n / 2)) // duplicates: ties fall to input order
		f.SrcWord = fmt.Sprintf("w%d", i)
	}
	return out
}

func writeInput(t *testing.T, recs []record.ScoredFlow, name string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), name)
	w, err := ioformat.Create[record.ScoredFlow](ioformat.Dest{Path: path}, record.ScoredFlow{}.Meta())
	if err != nil {
		t.Fatal(err)
	}
	if err := w.Write(recs); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return path
}

func run(t *testing.T, paths []string, o Options, top int) ([]record.ScoredFlow, *Plan[record.ScoredFlow]) {
	t.Helper()
	var ins []*ioformat.Input
	for _, p := range paths {
		in, err := ioformat.Open(p, nil)
		if err != nil {
			t.Fatal(err)
		}
		ins = append(ins, in)
	}
	plan, err := NewPlan[record.ScoredFlow](o, record.KindFlow)
	if err != nil {
		t.Fatal(err)
	}
	var w memWriter[record.ScoredFlow]
	if _, err := Run[record.ScoredFlow, record.ScoredFlow](context.Background(), ins, &w, plan, nil, nil, top); err != nil {
		t.Fatal(err)
	}
	return w.recs, plan
}

// Parquet read in two passes (the named columns, then the rows kept,
// sought through the column index across row groups) gives what NDJSON
// read whole gives, for streaming and for --top, over several inputs.
func TestTwoPassesMatchOne(t *testing.T) {
	if testing.Short() {
		t.Skip("writes 300k records")
	}
	recs := scoredFlows(150_000) // two row groups in a
	a, b := recs[:135_000], recs[135_000:]
	pqs := []string{writeInput(t, a, "a.parquet"), writeInput(t, b, "b.parquet")}
	nds := []string{writeInput(t, a, "a.ndjson"), writeInput(t, b, "b.ndjson")}
	for _, tc := range []struct {
		o   Options
		top int
	}{
		{Options{Where: `dport == 4444 && ibyt > 99000`}, 0},
		{Options{Where: `dport != 4444`}, 0}, // dense: long runs
		{Options{}, 100},
		{Options{Where: `proto == "UDP"`, UseMax: true, MaxScore: 0.5}, 2500},
		{Options{Since: time.Unix(1_700_100_000, 0), Until: time.Unix(1_700_250_000, 0)}, 0},
	} {
		got, plan := run(t, pqs, tc.o, tc.top)
		want, _ := run(t, nds, tc.o, tc.top)
		if len(got) == 0 {
			t.Fatalf("%+v top %d: nothing kept", tc.o, tc.top)
		}
		if !slices.EqualFunc(got, want, func(x, y record.ScoredFlow) bool { return x == y }) {
			t.Errorf("%+v top %d: Parquet gave %d records, NDJSON %d, or others", tc.o, tc.top, len(got), len(want))
		}
		if plan.Seen != int64(len(recs)) {
			t.Errorf("seen %d of %d", plan.Seen, len(recs))
		}
		// and both are what a plain loop over the records keeps
		var idx []int // kept records, in input order
		p, _ := NewPlan[record.ScoredFlow](tc.o, record.KindFlow)
		for i := range recs {
			if ok, _ := p.Keep(&recs[i]); ok {
				idx = append(idx, i)
			}
		}
		if tc.top > 0 {
			slices.SortFunc(idx, func(i, j int) int {
				if (Key{recs[i].Score, recs[i].EID, int64(i)}).Less(Key{recs[j].Score, recs[j].EID, int64(j)}) {
					return -1
				}
				return 1
			})
			idx = idx[:min(tc.top, len(idx))]
		}
		var ref []record.ScoredFlow
		for _, i := range idx {
			ref = append(ref, recs[i])
		}
		if !slices.Equal(got, ref) {
			t.Errorf("%+v top %d: %d records, want %d", tc.o, tc.top, len(got), len(ref))
		}
	}
}

func TestExprErrors(t *testing.T) {
	typ := reflectOf[record.ScoredDNS]()
	for src, want := range map[string]string{
		`dns_qry_nam endsWith ".x"`:        `column 1: unknown name dns_qry_nam (did you mean dns_qry_name?)`,
		`score < "low"`:                    `column 7: invalid operation: < (mismatched types float64 and string)`,
		`frame_len > 10 &&`:                `column 17: unexpected token EOF`,
		"frame_len > 1 &&\n  nonsense_xyz": `line 2, column 3: unknown name nonsense_xyz (spot help schema KIND lists the columns)`,
	} {
		_, err := Compile(src, typ)
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%q: %v, want %q", src, err, want)
		}
	}
	e, err := Compile(`any(answers, # contains "evil") && dns_qry_type in [16, 10] && domain(dns_qry_name) == "example.co.uk" && inCIDR(ip_dst, "10.0.0.0/8")`, typ)
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(sorted(e.Columns()), ","); got != "answers,dns_qry_name,dns_qry_type,ip_dst" {
		t.Errorf("columns %s", got)
	}
	ev := e.NewEvaluator()
	r := record.ScoredDNS{}
	r.Answers, r.QryType, r.QryName, r.IPDst = []string{"a", "an.evil.host"}, 16, "x.y.Example.co.uk.", "10.1.2.3"
	if ok, err := ev.Match(ptr(&r)); !ok || err != nil {
		t.Errorf("no match: %v", err)
	}
	r.IPDst = "11.1.2.3"
	if ok, _ := ev.Match(ptr(&r)); ok {
		t.Error("matched outside the block")
	}
	if _, err := Compile(`inCIDR(ip_dst, "10.0.0.0/33")`, typ); err != nil {
		t.Fatal(err)
	} else if e, _ := Compile(`inCIDR(ip_dst, "10.0.0.0/33")`, typ); e != nil {
		if _, err := e.NewEvaluator().Match(ptr(&r)); err == nil || !strings.Contains(err.Error(), "not a CIDR block") {
			t.Errorf("bad block: %v", err)
		}
	}
}

func TestParseTime(t *testing.T) {
	want := time.Date(2026, 1, 2, 10, 30, 0, 0, time.UTC)
	for _, s := range []string{"2026-01-02T10:30:00Z", "2026-01-02T11:30:00+01:00", "2026-01-02 10:30", "2026-01-02T10:30:00", "1767349800"} {
		got, err := ParseTime(s)
		if err != nil || !got.Equal(want) {
			t.Errorf("%s: %v %v", s, got, err)
		}
	}
	if _, err := ParseTime("tomorrow"); err == nil {
		t.Error("tomorrow parsed")
	}
}

func reflectOf[T any]() reflect.Type { return reflect.TypeFor[T]() }

func ptr[T any](p *T) unsafe.Pointer { return unsafe.Pointer(p) }

func sorted(s []string) []string { s = slices.Clone(s); slices.Sort(s); return s }

// --top N --per-subject P keeps the records taken lowest key first,
// passing over those whose detector subject has P already (records without
// a subject are not capped), from Parquet (two passes) and NDJSON alike.
func TestTopPerSubject(t *testing.T) {
	recs := scoredFlows(20_000)
	r := rand.New(rand.NewPCG(3, 3))
	for i := range recs {
		if r.IntN(3) > 0 {
			recs[i].Subject = fmt.Sprintf("10.0.0.%d > *:%d", r.IntN(3), r.IntN(4))
		}
	}
	const top, per = 300, 4
	idx := make([]int, len(recs))
	for i := range idx {
		idx[i] = i
	}
	slices.SortFunc(idx, func(i, j int) int {
		if (Key{recs[i].Score, recs[i].EID, int64(i)}).Less(Key{recs[j].Score, recs[j].EID, int64(j)}) {
			return -1
		}
		return 1
	})
	var want []record.ScoredFlow
	n := map[string]int{}
	for _, i := range idx {
		if s := recs[i].Subject; len(want) < top && recs[i].IByt > 20_000 && (s == "" || n[s] < per) {
			want = append(want, recs[i])
			n[s]++
		}
	}
	if n[""] == 0 || n[""] == len(want) {
		t.Fatalf("%d of %d rows without a subject: nothing tested", n[""], len(want))
	}
	for _, name := range []string{"a.parquet", "a.ndjson"} {
		got, _ := run(t, []string{writeInput(t, recs, name)}, Options{PerSubject: per, Where: "ibyt > 20000"}, top)
		if !slices.Equal(got, want) {
			t.Fatalf("%s: %d records kept, want %d (or others)", name, len(got), len(want))
		}
	}
}
