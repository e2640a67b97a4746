package filter

import (
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
	"unsafe"

	"github.com/parquet-go/parquet-go"

	"github.com/spot-hunt/spot/internal/ioformat"
	"github.com/spot-hunt/spot/internal/record"
)

// What Run keeps, from Parquet in two passes (the plan's columns, then the
// rows kept, sought in runs through the column index, across row groups)
// and from NDJSON in one, is what a plain loop over the records keeps: in
// input order when streaming, lowest key first (ties in input order) with
// --top, at most P of a detector subject with --per-subject. These run
// under -short (TestTwoPassesMatchOne writes 300k records), on small row
// groups so that runs cross them.

// writeParquetGroups writes recs to a Parquet file of row groups of rows.
func writeParquetGroups(t *testing.T, recs []record.ScoredFlow, rows int) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "groups.parquet")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	w := parquet.NewGenericWriter[record.ScoredFlow](f, append(ioformat.ParquetOptions(record.ScoredFlow{}.Meta()), parquet.MaxRowsPerRowGroup(int64(rows)))...)
	if _, err := w.Write(recs); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	return path
}

// reference is what a plain loop keeps of recs (the inputs one after
// another) with o and --top top.
func reference(t *testing.T, recs []record.ScoredFlow, o Options, top int) []record.ScoredFlow {
	t.Helper()
	p := mustPlan[record.ScoredFlow](t, o, record.KindFlow)
	var idx []int
	for i := range recs {
		if keep(t, p, recs[i]) {
			idx = append(idx, i)
		}
	}
	if top > 0 {
		slices.SortFunc(idx, func(i, j int) int {
			if (Key{recs[i].Score, recs[i].EID, int64(i)}).Less(Key{recs[j].Score, recs[j].EID, int64(j)}) {
				return -1
			}
			return 1
		})
		var taken []int
		n := map[string]int{}
		for _, i := range idx {
			if s := recs[i].Subject; len(taken) < top && (o.PerSubject == 0 || s == "" || n[s] < o.PerSubject) {
				taken = append(taken, i)
				n[s]++
			}
		}
		idx = taken
	}
	var out []record.ScoredFlow
	for _, i := range idx {
		out = append(out, recs[i])
	}
	return out
}

// passCase is a filter run: its options and --top.
type passCase struct {
	o   Options
	top int
}

func checkPasses(t *testing.T, recs []record.ScoredFlow, split, rowGroup int, cases []passCase) {
	t.Helper()
	a, b := recs[:split], recs[split:]
	pqs := []string{writeParquetGroups(t, a, rowGroup), writeParquetGroups(t, b, rowGroup)}
	nds := []string{writeInput(t, a, "a.ndjson"), writeInput(t, b, "b.ndjson")}
	for _, tc := range cases {
		want := reference(t, recs, tc.o, tc.top)
		if len(want) == 0 {
			t.Fatalf("%+v top %d: the test keeps nothing", tc.o, tc.top)
		}
		for _, paths := range [][]string{pqs, nds} {
			got, plan := run(t, paths, tc.o, tc.top)
			if !slices.Equal(got, want) {
				t.Errorf("%s, %+v, top %d: %d records, want %d; first difference at %d", filepath.Ext(paths[0]), tc.o, tc.top, len(got), len(want), firstDiffFlows(got, want))
			}
			if plan.Seen != int64(len(recs)) {
				t.Errorf("%s, %+v, top %d: seen %d of %d", filepath.Ext(paths[0]), tc.o, tc.top, plan.Seen, len(recs))
			}
		}
	}
}

func firstDiffFlows(a, b []record.ScoredFlow) int {
	for i := range min(len(a), len(b)) {
		if a[i] != b[i] {
			return i
		}
	}
	return min(len(a), len(b))
}

// TestPassesSmall: sparse and dense batches, runs of consecutive rows
// within a batch, across batches and across row groups, the first and last
// rows, --top and --per-subject, over two inputs.
func TestPassesSmall(t *testing.T) {
	recs := scoredFlows(6000)
	for i := range recs {
		r := &recs[i]
		switch {
		case i >= 100 && i < 140, i >= 1020 && i < 1030, i >= 1390 && i < 1410, i == 0, i >= 5990: // runs: in a batch, across
			r.SPort = 7 // batches (1024) and row groups (700), the first and last rows of each input
		case i >= 4990 && i < 5000:
			r.SPort = 7
		}
		if i%5 == 0 {
			r.Subject = fmt.Sprintf("10.0.0.%d > *:443", i%7)
		}
	}
	checkPasses(t, recs, 5000, 700, []passCase{
		{Options{Where: `sport == 7`}, 0},                    // sparse runs
		{Options{Where: `dport == 4444 && ibyt > 99000`}, 0}, // sparse single rows
		{Options{Where: `dport != 4444`}, 0},                 // dense batches
		{Options{Where: `sport != 7`}, 0},                    // dense, all but the runs
		{Options{}, 100},                                     // --top, no predicate
		{Options{Where: `proto == "UDP"`, UseMax: true, MaxScore: 0.5}, 900},
		{Options{Where: `sport == 7`}, 25},                    // --top of rows in runs
		{Options{PerSubject: 2}, 300},                         // --per-subject
		{Options{PerSubject: 1, Where: `ibyt > 20000`}, 1500}, // more than a batch
		{Options{Since: time.Unix(1_700_000_700, 0), Until: time.Unix(1_700_004_000, 0)}, 0},
	})
}

// TestPassesSortedTop: --top N of an input already sorted by score keeps
// its first N rows: runs longer than a batch, from row 0.
func TestPassesSortedTop(t *testing.T) {
	recs := scoredFlows(4000)
	for i := range recs {
		recs[i].Score, recs[i].EID = float64(i)/4000, int64(i)
	}
	checkPasses(t, recs, 3000, 1000, []passCase{{Options{}, 2500}, {Options{}, 3500}, {Options{Where: `ibyt >= 0`}, 1}})
}

// TestTopTies: records of one score and eid come out in input order, over
// several inputs, however read.
func TestTopTies(t *testing.T) {
	recs := scoredFlows(3000)
	for i := range recs {
		recs[i].Score, recs[i].EID = float64(i%3)/10, int64(i%2)
	}
	checkPasses(t, recs, 1700, 500, []passCase{{Options{}, 1200}, {Options{Where: `dport == 443`}, 700}})
}

// TestPerSubjectZero: --per-subject 0 caps nothing.
func TestPerSubjectZero(t *testing.T) {
	recs := scoredFlows(500)
	for i := range recs {
		recs[i].Subject = "one subject"
	}
	got, _ := run(t, []string{writeInput(t, recs, "s.ndjson")}, Options{}, 50)
	if len(got) != 50 {
		t.Errorf("--top 50 of one subject, no cap: %d records", len(got))
	}
	got, _ = run(t, []string{writeInput(t, recs, "s.parquet")}, Options{PerSubject: 3}, 50)
	if len(got) != 3 {
		t.Errorf("--top 50 of one subject, --per-subject 3: %d records", len(got))
	}
}

// TestListColumnFromParquet: a --where on a list column (which a first
// pass cannot read alone) reads the Parquet file whole, with the same
// result.
func TestListColumnFromParquet(t *testing.T) {
	var recs []record.ScoredDNS
	for i := range 3000 {
		var r record.ScoredDNS
		r.QryName, r.IPDst, r.Response, r.EID, r.Score = fmt.Sprintf("h%d.example", i%50), "10.0.0.1", true, int64(i), float64(i%97)/97
		r.Answers = []string{fmt.Sprintf("192.0.2.%d", i%200), "x"}
		recs = append(recs, r)
	}
	o := Options{Where: `any(answers, # == "192.0.2.7")`}
	var want []record.ScoredDNS
	p := mustPlan[record.ScoredDNS](t, o, record.KindDNS)
	for i := range recs {
		if keep(t, p, recs[i]) {
			want = append(want, recs[i])
		}
	}
	for _, top := range []int{0, 5} {
		for _, name := range []string{"l.parquet", "l.ndjson"} {
			path := filepath.Join(t.TempDir(), name)
			writeRecs(t, path, recs)
			got := runRecs[record.ScoredDNS](t, path, o, record.KindDNS, top)
			w := want
			if top > 0 {
				w = slices.Clone(want)
				slices.SortStableFunc(w, func(a, b record.ScoredDNS) int {
					if (Key{a.Score, a.EID, 0}).Less(Key{b.Score, b.EID, 0}) {
						return -1
					}
					return 1
				})
				w = w[:top]
			}
			if len(got) != len(w) || fmt.Sprint(got) != fmt.Sprint(w) {
				t.Errorf("%s, top %d: %d records, want %d", name, top, len(got), len(w))
			}
		}
	}
}

// failWriter fails every write, as a full disk does.
type failWriter[T any] struct{}

var errFull = errors.New("no space left on device")

func (failWriter[T]) Write([]T) error { return errFull }
func (failWriter[T]) Close() error    { return nil }
func (failWriter[T]) Abort()          {}

// TestRunErrors: a write that fails, a read that fails mid-file and a
// cancelled context each end the run with their error, from every path.
func TestRunErrors(t *testing.T) {
	recs := scoredFlows(3000)
	pq, nd := writeInput(t, recs, "e.parquet"), writeInput(t, recs, "e.ndjson")
	open := func(path string) []*ioformat.Input {
		in, err := ioformat.Open(path, nil)
		if err != nil {
			t.Fatal(err)
		}
		return []*ioformat.Input{in}
	}
	for _, tc := range []struct {
		path string
		o    Options
		top  int
	}{{nd, Options{}, 0}, {pq, Options{Where: "dport == 53"}, 0}, {pq, Options{Where: "dport != 53"}, 0}, {nd, Options{}, 10}, {pq, Options{}, 10}} {
		plan := mustPlan[record.ScoredFlow](t, tc.o, record.KindFlow)
		_, err := Run[record.ScoredFlow, record.ScoredFlow](context.Background(), open(tc.path), failWriter[record.ScoredFlow]{}, plan, nil, nil, tc.top)
		if !errors.Is(err, errFull) {
			t.Errorf("%s %+v top %d, a failing writer: %v", filepath.Ext(tc.path), tc.o, tc.top, err)
		}
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		var w memWriter[record.ScoredFlow]
		plan = mustPlan[record.ScoredFlow](t, tc.o, record.KindFlow)
		if _, err := Run[record.ScoredFlow, record.ScoredFlow](ctx, open(tc.path), &w, plan, nil, nil, tc.top); !errors.Is(err, context.Canceled) {
			t.Errorf("%s %+v top %d, cancelled: %v", filepath.Ext(tc.path), tc.o, tc.top, err)
		}
	}
	// NDJSON cut short inside its gzip stream: the read fails, and so does
	// the run (nothing is lost in silence)
	data, err := os.ReadFile(nd)
	if err != nil {
		t.Fatal(err)
	}
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	zw.Write(data)
	zw.Close()
	cut := filepath.Join(t.TempDir(), "cut.ndjson.gz")
	if err := os.WriteFile(cut, gz.Bytes()[:gz.Len()*2/3], 0o644); err != nil {
		t.Fatal(err)
	}
	for _, top := range []int{0, 10} {
		var w memWriter[record.ScoredFlow]
		plan := mustPlan[record.ScoredFlow](t, Options{}, record.KindFlow)
		if _, err := Run[record.ScoredFlow, record.ScoredFlow](context.Background(), open(cut), &w, plan, nil, nil, top); err == nil {
			t.Errorf("top %d: a truncated gzip input read without error (%d records)", top, len(w.recs))
		}
	}
}

// TestCloneStrings: a record kept for long holds copies of its strings
// and lists of strings, sharing no bytes with the reader's.
func TestCloneStrings(t *testing.T) {
	buf := []byte("10.0.0.1 a.example b c")
	s := unsafe.String(&buf[0], len(buf))
	var r record.ScoredDNS
	r.IPDst, r.QryName, r.Answers, r.Subject = s[:8], s[9:18], []string{s[19:20], s[21:22]}, ""
	c := CloneStrings(r)
	copy(buf, strings.Repeat("#", len(buf))) // the reader reuses its buffer
	if c.IPDst != "10.0.0.1" || c.QryName != "a.example" || !slices.Equal(c.Answers, []string{"b", "c"}) {
		t.Errorf("the clone changed with the buffer: %q %q %q", c.IPDst, c.QryName, c.Answers)
	}
	if r.IPDst == "10.0.0.1" {
		t.Fatal("the test's strings do not share the buffer")
	}
}

// syncWriter is a memWriter safe to look at while Run writes.
type syncWriter[T any] struct {
	mu   sync.Mutex
	recs []T
}

func (w *syncWriter[T]) Write(r []T) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.recs = append(w.recs, r...)
	return nil
}
func (w *syncWriter[T]) Close() error { return nil }
func (w *syncWriter[T]) Abort()       {}
func (w *syncWriter[T]) len() int {
	w.mu.Lock()
	defer w.mu.Unlock()
	return len(w.recs)
}

// TestCancelLivePipe: a filter waiting on a live pipe (a capture in
// progress) stops when cancelled (Ctrl-C), with the cancellation as its
// error, after writing what it read before.
func TestCancelLivePipe(t *testing.T) {
	data, err := os.ReadFile(writeInput(t, scoredFlows(300), "live.ndjson"))
	if err != nil {
		t.Fatal(err)
	}
	pr, pw, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer pr.Close()
	defer pw.Close()
	go pw.Write(data)
	in, err := ioformat.Open("-", pr)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var w syncWriter[record.ScoredFlow]
	done := make(chan error, 1)
	go func() {
		plan := mustPlanT[record.ScoredFlow](Options{Where: "dport != 1"}, record.KindFlow)
		_, err := Run[record.ScoredFlow, record.ScoredFlow](ctx, []*ioformat.Input{in}, &w, plan, nil, nil, 0)
		done <- err
	}()
	deadline := time.Now().Add(30 * time.Second)
	for w.len() < 300 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if n := w.len(); n != 300 {
		t.Fatalf("%d of the 300 records piped written while the pipe is open", n)
	}
	cancel()
	select {
	case err := <-done:
		if !errors.Is(err, context.Canceled) {
			t.Errorf("cancelled: %v", err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("a cancelled filter still waits on its pipe")
	}
}

func mustPlanT[T any](o Options, k record.Kind) *Plan[T] {
	p, err := NewPlan[T](o, k)
	if err != nil {
		panic(err)
	}
	return p
}
