package feature

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"unsafe"

	"github.com/spot-hunt/spot/internal/ioformat"
	"github.com/spot-hunt/spot/internal/record"
)

// sliceReader reads records from a slice, a few at a time.
type sliceReader struct{ recs []record.Count }

func (r *sliceReader) Read(buf []record.Count) (int, error) {
	if len(r.recs) == 0 {
		return 0, io.EOF
	}
	n := copy(buf[:min(len(buf), 3)], r.recs)
	r.recs = r.recs[n:]
	return n, nil
}

func (r *sliceReader) Close() error { return nil }

func sortCounts(rs []record.Count) {
	slices.SortFunc(rs, func(a, b record.Count) int {
		return cmp.Or(strings.Compare(a.Doc, b.Doc), strings.Compare(a.Word, b.Word))
	})
}

// lendingReader reads records from a slice, a few at a time, as a reader
// that lends its strings at its most: they point into one buffer, which
// every Read overwrites (first with '#', then with its own rows).
type lendingReader struct {
	recs []record.Count
	buf  []byte
}

func (r *lendingReader) Read(out []record.Count) (int, error) {
	for i := range r.buf {
		r.buf[i] = '#'
	}
	if len(r.recs) == 0 {
		return 0, io.EOF
	}
	n := min(len(out), 3, len(r.recs))
	size := 0
	for _, c := range r.recs[:n] {
		size += len(c.Doc) + len(c.Word)
	}
	if cap(r.buf) < size {
		r.buf = make([]byte, 0, 64)
	}
	r.buf = r.buf[:0]
	view := func(s string) string {
		if s == "" {
			return ""
		}
		at := len(r.buf)
		r.buf = append(r.buf, s...)
		return unsafe.String(&r.buf[at], len(s))
	}
	for i, c := range r.recs[:n] {
		out[i] = record.Count{Doc: view(c.Doc), Word: view(c.Word), Count: c.Count}
	}
	r.recs = r.recs[n:]
	return n, nil
}

func (r *lendingReader) Close() error { return nil }

func TestMergeCounts(t *testing.T) {
	for _, lend := range []bool{false, true} {
		t.Run(fmt.Sprint("lend=", lend), func(t *testing.T) { testMergeCounts(t, lend) })
	}
}

// testMergeCounts merges tables of pairs that repeat, across reads too;
// with lend, their readers lend their strings, valid until their next
// Read.
func testMergeCounts(t *testing.T, lend bool) {
	rng := rand.New(rand.NewPCG(4, 5))
	want := map[[2]string]int64{}
	var tables []ioformat.Reader[record.Count]
	var names []string
	for i := range 7 {
		var rs []record.Count
		for range rng.IntN(300) {
			r := record.Count{Doc: fmt.Sprint("10.0.0.", rng.IntN(40)), Word: fmt.Sprint("w", rng.IntN(30)), Count: int64(rng.IntN(5))}
			if rng.IntN(20) == 0 {
				r.Word = "" // left out, as training leaves it out
			}
			if r.Word != "" && r.Count > 0 {
				want[[2]string{r.Doc, r.Word}] += r.Count
			}
			rs = append(rs, r) // pairs may repeat within a table
		}
		sortCounts(rs)
		if lend {
			tables = append(tables, &lendingReader{recs: rs})
		} else {
			tables = append(tables, &sliceReader{rs})
		}
		names = append(names, fmt.Sprint("t", i))
	}
	var got []record.Count
	err := MergeCounts(context.Background(), tables, names, func(doc, word string, n int64) error {
		got = append(got, record.Count{Doc: strings.Clone(doc), Word: strings.Clone(word), Count: n})
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	var wantRows []record.Count
	for k, n := range want {
		wantRows = append(wantRows, record.Count{Doc: k[0], Word: k[1], Count: n})
	}
	sortCounts(wantRows)
	if !slices.Equal(got, wantRows) {
		t.Fatalf("merged %d pairs, want %d (or they differ)", len(got), len(wantRows))
	}
	// A table out of order is named.
	bad := []ioformat.Reader[record.Count]{&sliceReader{[]record.Count{{Doc: "a", Word: "x", Count: 1}}},
		&sliceReader{[]record.Count{{Doc: "b", Word: "y", Count: 1}, {Doc: "b", Word: "x", Count: 1}}}}
	err = MergeCounts(context.Background(), bad, []string{"good.parquet", "bad.parquet"}, func(string, string, int64) error { return nil })
	if !errors.Is(err, ErrUnsorted) || !strings.Contains(err.Error(), "bad.parquet") {
		t.Errorf("out of order: %v", err)
	}
}

// failingReader fails after its rows.
type failingReader struct{ sliceReader }

func (r *failingReader) Read(buf []record.Count) (int, error) {
	n, err := r.sliceReader.Read(buf)
	if err == io.EOF {
		return 0, errBoom
	}
	return n, err
}

// A table that cannot be read to its end fails the merge: its rows are not
// all there.
func TestMergeCountsReadError(t *testing.T) {
	rows := []record.Count{{Doc: "a", Word: "w", Count: 1}, {Doc: "b", Word: "w", Count: 2}}
	tables := []ioformat.Reader[record.Count]{&sliceReader{rows}, &failingReader{sliceReader{rows}}}
	err := MergeCounts(context.Background(), tables, []string{"t0", "t1"}, func(string, string, int64) error { return nil })
	if !errors.Is(err, errBoom) {
		t.Errorf("merge over a failing table: %v, want %v", err, errBoom)
	}
}
