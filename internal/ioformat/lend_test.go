package ioformat

import (
	"fmt"
	"io"
	"math/rand/v2"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/parquet-go/parquet-go"

	"github.com/spot-hunt/spot/internal/record"
)

// lentFlow writes flow strings in each encoding a string page can have:
// delta lengths (spot's own flows), plain, a dictionary, nullable.
type lentFlow struct {
	SIP    string `parquet:"sip,delta"`
	DIP    string `parquet:"dip"`
	Proto  string `parquet:"proto,optional,dict"`
	Tunnel string `parquet:"tunnel,optional"`
	Flag   string `parquet:"flag,optional,delta"`
	IByt   int64  `parquet:"ibyt"`
}

func lentFlows(rng *rand.Rand, n int) []lentFlow {
	recs := make([]lentFlow, n)
	for i := range recs {
		recs[i] = lentFlow{
			SIP:   fmt.Sprintf("10.%d.%d.%d", rng.IntN(4), rng.IntN(256), i%256),
			DIP:   strings.Repeat("x", rng.IntN(40)) + fmt.Sprint(i),
			Proto: []string{"TCP", "UDP", "", "ICMP"}[rng.IntN(4)],
			IByt:  int64(i),
		}
		if rng.IntN(3) == 0 {
			recs[i].Tunnel = fmt.Sprintf("gre %d", i)
		}
		if rng.IntN(2) == 0 {
			recs[i].Flag = ".AP.S" + strings.Repeat("F", rng.IntN(3))
		}
	}
	return recs
}

// writeFlat writes flows as spot does (flatWriter: strings in delta
// lengths), in pages of ~2 kB and row groups of 700 rows.
func writeFlat(t *testing.T, path string, recs []record.Flow) *Input {
	t.Helper()
	out, err := openOutput(Dest{Path: path})
	if err != nil {
		t.Fatal(err)
	}
	w, ok := newFlatWriter[record.Flow](out, append(ParquetOptions(record.Flow{}.Meta()), parquet.MaxRowsPerRowGroup(700), parquet.PageBufferSize(2048)))
	if !ok {
		t.Fatal("no flat writer")
	}
	if err := w.Write(recs); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	in, err := Open(path, nil)
	if err != nil {
		t.Fatal(err)
	}
	return in
}

// Read's strings, lent through the next k Reads, stay what they were: the
// k batches before are checked after each Read (pages of ~100 rows are
// released and their buffers decoded into again as the batches of 37 go);
// the pages lent are let go (a column holds a few); and every record
// equals the copying reader's. Pages are read in turn and side by side
// (AsyncPages), in every encoding of strings.
func TestLendStrings(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	lent := lentFlows(rng, 5000)
	flows := make([]record.Flow, len(lent))
	for i, f := range lent {
		flows[i] = record.Flow{SIP: f.SIP, DIP: f.DIP, Proto: f.Proto, Tunnel: f.Tunnel, Flag: f.Flag, IByt: f.IByt, TDur: float32(i)}
	}
	for _, tc := range []struct {
		name  string
		write func(path string) *Input
	}{
		{"spot's", func(path string) *Input { return writeFlat(t, path, flows) }},
		{"others'", func(path string) *Input { return writeGroups(t, path, lent, record.Flow{}.Meta()) }},
	} {
		for _, k := range []int{1, 4} {
			for _, serial := range []bool{true, false} {
				t.Run(fmt.Sprintf("%s/reads=%d/serial=%v", tc.name, k, serial), func(t *testing.T) {
					in := tc.write(filepath.Join(t.TempDir(), "f.parquet"))
					defer in.Close()
					want := readEvery[record.Flow](t, in)
					if len(want) != len(lent) {
						t.Fatalf("%d rows read, %d written", len(want), len(lent))
					}
					lendEvery(t, in, want, k, serial)
				})
			}
		}
	}
}

func lendEvery(t *testing.T, in *Input, want []record.Flow, k int, serial bool) {
	again, err := in.Rewind()
	if err != nil {
		t.Fatal(err)
	}
	r, err := newColumnsReader[record.Flow](again, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	r.serial = serial
	if !LendStrings[record.Flow](r, k) {
		t.Fatal("the columns reader does not lend")
	}
	var kept [][]record.Flow // the k batches before, their strings lent
	buf := make([]record.Flow, 37)
	row := 0
	for {
		n, err := r.Read(buf)
		if err != nil && err != io.EOF {
			t.Fatal(err)
		}
		at := row
		for i := len(kept) - 1; i >= 0; i-- {
			at -= len(kept[i])
			same(t, fmt.Sprintf("the batch %d Reads before", len(kept)-i), want[at:at+len(kept[i])], kept[i])
		}
		same(t, "a lent batch", want[row:row+n], buf[:n])
		for _, c := range r.cols {
			if len(c.held) > 2*(k+2) {
				t.Fatalf("after %d rows, column %s holds %d pages", row, c.name, len(c.held))
			}
		}
		kept = append(kept, append([]record.Flow(nil), buf[:n]...))
		if len(kept) > k {
			kept = kept[1:]
		}
		row += n
		if err == io.EOF {
			break
		}
	}
	if row != len(want) {
		t.Fatalf("%d rows lent, want %d", row, len(want))
	}
}

// A lending reader copies no string: reading 8 MB of strings allocates a
// small part of what the copying reader does.
func TestLendStringsCopiesNothing(t *testing.T) {
	recs := make([]lentFlow, 20000)
	for i := range recs {
		recs[i].SIP = fmt.Sprintf("%0199d", i)
		recs[i].DIP = fmt.Sprintf("%0199d", i+1)
	}
	in := writeGroups(t, filepath.Join(t.TempDir(), "f.parquet"), recs, record.Flow{}.Meta())
	in.Close()
	alloc := func(lend bool) uint64 {
		again, err := in.Rewind()
		if err != nil {
			t.Fatal(err)
		}
		r, err := NewReader[record.Flow](again, "sip", "dip")
		if err != nil {
			t.Fatal(err)
		}
		defer r.Close()
		if lend && !LendStrings(r, 1) {
			t.Fatal("the columns reader does not lend")
		}
		buf := make([]record.Flow, BatchSize)
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		rows := 0
		for {
			n, err := r.Read(buf)
			for _, f := range buf[:n] {
				if f.SIP != recs[rows].SIP || f.DIP != recs[rows].DIP {
					t.Fatalf("row %d: sip %.20q..., want %.20q...", rows, f.SIP, recs[rows].SIP)
				}
				rows++
			}
			if err == io.EOF {
				break
			}
			if err != nil {
				t.Fatal(err)
			}
		}
		runtime.ReadMemStats(&after)
		if rows != len(recs) {
			t.Fatalf("%d rows, want %d", rows, len(recs))
		}
		return after.TotalAlloc - before.TotalAlloc
	}
	// TotalAlloc counts every goroutine's allocation (a collection in
	// between also empties parquet-go's buffer pools): the least of three.
	give, lend := alloc(false), min(alloc(true), alloc(true), alloc(true))
	if give < 8e6 || lend > give/4 {
		t.Errorf("reading 8 MB of strings allocated %d bytes lending them, %d giving them", lend, give)
	}
	t.Logf("reading 8 MB of strings allocated %d bytes lending them, %d giving them", lend, give)
}

// Only the Parquet column reader lends; the others give, and say so.
func TestLendStringsOthersGive(t *testing.T) {
	path := filepath.Join(t.TempDir(), "f.ndjson")
	write(t, path, record.Flow{}.Meta(), []record.Flow{{SIP: "10.0.0.1"}})
	in, err := Open(path, nil)
	if err != nil {
		t.Fatal(err)
	}
	r, err := NewReader[record.Flow](in)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	if LendStrings(r, 1) {
		t.Error("the NDJSON reader says it lends")
	}
	pq := filepath.Join(t.TempDir(), "f.parquet")
	write(t, pq, record.Flow{}.Meta(), []record.Flow{{SIP: "10.0.0.1"}})
	in2, err := Open(pq, nil)
	if err != nil {
		t.Fatal(err)
	}
	p := Prefetch(mustReader[record.Flow](t, in2))
	defer p.Close()
	if LendStrings(p, 1) {
		t.Error("a Prefetch says it lends")
	}
}

func mustReader[T any](t *testing.T, in *Input) Reader[T] {
	t.Helper()
	r, err := NewReader[T](in)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// A seek while lending (SeekToRow: within the page, within the row group,
// to another group) keeps the strings of the last Read valid through the
// next Read, and reads from the row sought.
func TestLendStringsSeek(t *testing.T) {
	lent := lentFlows(rand.New(rand.NewPCG(3, 4)), 3000)
	flows := make([]record.Flow, len(lent))
	for i, f := range lent {
		flows[i] = record.Flow{SIP: f.SIP, DIP: f.DIP, Proto: f.Proto, Tunnel: f.Tunnel, Flag: f.Flag, IByt: f.IByt}
	}
	in := writeFlat(t, filepath.Join(t.TempDir(), "f.parquet"), flows)
	defer in.Close()
	want := readEvery[record.Flow](t, in)
	again, err := in.Rewind()
	if err != nil {
		t.Fatal(err)
	}
	r, err := NewReader[record.Flow](again)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	if !LendStrings(r, 1) {
		t.Fatal("the columns reader does not lend")
	}
	buf := make([]record.Flow, 50)
	var prev []record.Flow
	row := 0
	for _, to := range []int{0, 60, 400, 1500, 1510, 2990} {
		if err := r.(RowSeeker).SeekToRow(int64(to)); err != nil {
			t.Fatal(err)
		}
		n, err := r.Read(buf)
		if err != nil && err != io.EOF {
			t.Fatal(err)
		}
		same(t, fmt.Sprintf("the batch at %d, after a seek to %d and a Read", row, to), want[row:row+len(prev)], prev)
		same(t, fmt.Sprintf("a lent batch at %d", to), want[to:to+n], buf[:n])
		prev, row = append(prev[:0], buf[:n]...), to
	}
}
