package columnar

import (
	"bytes"
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/parquet-go/parquet-go"

	"github.com/spot-hunt/spot/internal/filter"
	"github.com/spot-hunt/spot/internal/ioformat"
	"github.com/spot-hunt/spot/internal/record"
)

// whereFlows are flows whose columns repeat enough for every kind of
// predicate to keep some and drop some; sorted, their time and ports
// rise, so that row groups' bounds rule some out.
func whereFlows(n int, seed uint64, sorted bool) []record.Flow {
	r := rand.New(rand.NewPCG(seed, 5))
	out := make([]record.Flow, n)
	for i := range out {
		f := &out[i]
		f.UnixTstamp = 1_700_000_000 + int64(r.IntN(100_000))
		f.SIP = []string{"10.0.0.1", "10.0.0.77", "192.168.1.7", "2001:db8::5", "::ffff:10.1.1.1", "junk"}[r.IntN(6)]
		f.DIP = fmt.Sprintf("192.168.%d.%d", r.IntN(3), r.IntN(12))
		f.SPort, f.DPort = int32(r.IntN(65536)), []int32{22, 53, 80, 443, 3389, 8080}[r.IntN(6)]
		f.Proto = []string{"TCP", "UDP", "ICMP"}[r.IntN(3)]
		f.IPkt = int64(1 + r.IntN(50))
		f.IByt = f.IPkt * int64(40+r.IntN(1400))
		f.TDur = []float32{0, 0.25, 0.5, 1, 30}[r.IntN(5)]
		f.EID = int64(i)
	}
	if sorted {
		slices.SortFunc(out, func(a, b record.Flow) int { return int(a.UnixTstamp - b.UnixTstamp) })
		for i := range out {
			out[i].DPort = int32(i / 500) // rises too: bounds of an int32 column
		}
	}
	return out
}

// writeFlows writes a Parquet file of flows in row groups of group rows and
// small pages, as spot writes them otherwise.
func writeFlows[T any](t *testing.T, path string, recs []T, group int64) {
	t.Helper()
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	opts := append(ioformat.ParquetOptions(record.Flow{}.Meta()), parquet.MaxRowsPerRowGroup(group), parquet.PageBufferSize(8<<10))
	w := parquet.NewGenericWriter[T](f, opts...)
	if _, err := w.Write(recs); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
}

// calls notes the length of each Write (where a Parquet writer may end a
// page).
type calls struct {
	ioformat.Writer[record.Flow]
	n []int
}

func (c *calls) Write(recs []record.Flow) error {
	c.n = append(c.n, len(recs))
	return c.Writer.Write(recs)
}

// whereRun filters paths with --where src into out, through filter.Run or
// (columnar) Where, and returns the output, what the plan counted and the
// lengths of the writes.
func whereRun(t *testing.T, paths []string, src, out string, columnar bool) ([]byte, string, WhereStats, []int) {
	t.Helper()
	var ins []*ioformat.Input
	for _, p := range paths {
		in, err := ioformat.Open(p, nil)
		if err != nil {
			t.Fatal(err)
		}
		ins = append(ins, in)
	}
	plan, err := filter.NewPlan[record.Flow](filter.Options{Where: src}, record.KindFlow)
	if err != nil {
		t.Fatalf("%s: %v", src, err)
	}
	pw, err := ioformat.Create[record.Flow](ioformat.Dest{Path: out}, record.Flow{}.Meta())
	if err != nil {
		t.Fatal(err)
	}
	w := &calls{Writer: pw}
	var st WhereStats
	if columnar {
		pred, ok := plan.WherePred()
		if !ok || !WherePlan[record.Flow](ins, pred) {
			t.Fatalf("%s: no column plan", src)
		}
		st, err = Where(context.Background(), ins, pred, w)
		for _, in := range ins {
			in.Close()
		}
		plan.CountWhere(st.Rows, st.Kept)
	} else {
		_, err = filter.Run[record.Flow, record.Flow](context.Background(), ins, w, plan, nil, nil, 0)
	}
	if err != nil {
		t.Fatalf("%s: %v", src, err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	return b, plan.Summary(), st, w.n
}

// Where writes what filter.Run writes, byte for byte, in Parquet and NDJSON,
// and counts the same: over random and sorted files of several row groups
// (some ruled out by their bounds), predicates keeping none, few (single
// rows sought), many (batches read whole) and all.
func TestWhereMatchesRun(t *testing.T) {
	dir := t.TempDir()
	paths := []string{filepath.Join(dir, "random.parquet"), filepath.Join(dir, "sorted.parquet"), filepath.Join(dir, "one.parquet")}
	writeFlows(t, paths[0], whereFlows(7000, 1, false), 3000)
	writeFlows(t, paths[1], whereFlows(5000, 2, true), 1100)
	writeFlows(t, paths[2], whereFlows(1, 3, false), 100)
	leaves := []string{
		"dport == 3389", "dport in [22, 53]", "dport > 4", "dport <= 2", "sport < 1024", "sport >= 60000",
		"ibyt > 60000", "ibyt >= 5e4", "ibyt == ipkt * 0 + 80", "tdur > 0.5", "tdur <= 1", "tdur > ibyt",
		`proto == "TCP"`, `proto != "UDP"`, `proto in ["TCP", "ICMP"]`, `sip startsWith "10.0.0"`, `dip endsWith ".7"`,
		`dip contains "168.1"`, `sip matches "^10\\.0\\.0\\.7+$"`, `inCIDR(sip, "10.0.0.0/8")`, `not inCIDR(dip, "192.168.1.0/24")`,
		"sport > dport", "unix_tstamp >= 1700090000", "unix_tstamp < 1700003000", "eid % 1000 == 3", "true", "false",
	}
	r := rand.New(rand.NewPCG(9, 9))
	exprs := slices.Clone(leaves)
	for range 25 {
		a, b := leaves[r.IntN(len(leaves))], leaves[r.IntN(len(leaves))]
		exprs = append(exprs, fmt.Sprintf("(%s) %s (%s)", a, []string{"&&", "||"}[r.IntN(2)], b))
	}
	skipped := 0
	for _, src := range exprs {
		plan, err := filter.NewPlan[record.Flow](filter.Options{Where: src}, record.KindFlow)
		if err != nil {
			t.Fatalf("%s: %v", src, err)
		}
		if _, ok := plan.WherePred(); !ok {
			continue // the VM's: arithmetic
		}
		for _, ext := range []string{"parquet", "ndjson"} {
			old, oldSum, _, oldCalls := whereRun(t, paths, src, filepath.Join(dir, "old."+ext), false)
			got, sum, st, calls := whereRun(t, paths, src, filepath.Join(dir, "new."+ext), true)
			if !bytes.Equal(got, old) {
				t.Fatalf("%s: the column path's %s (%d bytes) differs from filter.Run's (%d bytes)", src, ext, len(got), len(old))
			}
			if !slices.Equal(calls, oldCalls) {
				t.Fatalf("%s: the column path writes %v records at a time, filter.Run %v", src, calls, oldCalls)
			}
			if sum != oldSum {
				t.Fatalf("%s: summary %q, filter.Run's %q", src, sum, oldSum)
			}
			skipped += st.Skipped
		}
	}
	if skipped == 0 {
		t.Fatal("no row group was ruled out by its bounds")
	}
}

// sparseFlow is a file with nullable columns (as DuckDB writes them): a
// null reads as 0, which the bounds must count.
type sparseFlow struct {
	DPort      int32  `parquet:"dport,optional"`
	UnixTstamp int64  `parquet:"unix_tstamp,optional"`
	Proto      string `parquet:"proto,optional"`
	EID        int64  `parquet:"eid"`
	SIP        string `parquet:"sip"`
	DIP        string `parquet:"dip"`
}

func TestWhereNulls(t *testing.T) {
	dir := t.TempDir()
	var recs []sparseFlow
	for i := range 3000 {
		f := sparseFlow{DPort: int32(443 + i/1000), UnixTstamp: int64(100 + i), Proto: "TCP", EID: int64(i), SIP: "10.0.0.1", DIP: "10.0.0.2"}
		if i%7 == 0 {
			f.DPort, f.UnixTstamp, f.Proto = 0, 0, "" // null
		}
		recs = append(recs, f)
	}
	path := filepath.Join(dir, "nulls.parquet")
	writeFlows(t, path, recs, 1000)
	for _, src := range []string{"dport == 0", "dport < 100", "unix_tstamp == 0 && dport != 445", `proto == "" || dport > 444`, "dport == 445"} {
		old, oldSum, _, _ := whereRun(t, []string{path}, src, filepath.Join(dir, "old.ndjson"), false)
		got, sum, _, _ := whereRun(t, []string{path}, src, filepath.Join(dir, "new.ndjson"), true)
		if !bytes.Equal(got, old) || sum != oldSum {
			t.Fatalf("%s: the column path (%s) differs from filter.Run (%s)", src, sum, oldSum)
		}
	}
}
