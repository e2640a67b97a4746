package feature

import (
	"errors"
	"fmt"
	"io/fs"
	"math/rand/v2"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/spot-hunt/spot/internal/record"
)

type triple struct {
	doc, word string
	n         int64
}

// pairs makes n adds over documents and words that share prefixes, repeat
// and include the empty string, so that runs hold every case of their
// prefix coding.
func pairs(n int, seed uint64) []triple {
	r := rand.New(rand.NewPCG(seed, 7))
	docs := []string{"", "10.0.0.1", "10.0.0.10", "10.0.0.100", "10.0.0.2", "192.168.1.1", "a", "ab", "abc", strings.Repeat("x", 300)}
	for i := range 200 {
		docs = append(docs, fmt.Sprintf("10.%d.%d.%d", i%3, i%17, i))
	}
	words := []string{"", "-1_443_TCP_9_12_4", "-1_443_TCP_9_12", "53_UDP_3_7_1", "53_UDP_3_7_10", "0_ICMP_23_5_1", "w", "ww"}
	for i := range 50 {
		words = append(words, fmt.Sprintf("%d_TCP_%d_%d_%d", 1024+i*7, i%24, i%13, i%5))
	}
	out := make([]triple, n)
	for i := range out {
		out[i] = triple{docs[r.IntN(len(docs))], words[r.IntN(len(words))], int64(1 + r.IntN(3))}
		if i%97 == 0 {
			out[i].n = 1000
		}
	}
	return out
}

func rowsOf(t *testing.T, c *Counter) []record.Count {
	t.Helper()
	rows, err := c.Rows()
	if err != nil {
		t.Fatal(err)
	}
	return rows
}

// want is the counts of ts, summed and sorted without a Counter.
func wantRows(ts []triple) []record.Count {
	sum := map[[2]string]int64{}
	for _, t := range ts {
		sum[[2]string{t.doc, t.word}] += t.n
	}
	var out []record.Count
	for k, n := range sum {
		out = append(out, record.Count{Doc: k[0], Word: k[1], Count: n})
	}
	slices.SortFunc(out, func(a, b record.Count) int {
		if c := strings.Compare(a.Doc, b.Doc); c != 0 {
			return c
		}
		return strings.Compare(a.Word, b.Word)
	})
	return out
}

// TestCounterSpills: whatever its limit, and however many runs it spilled
// to disk, a counter gives the same sorted counts, and the ones it was
// given; a limit of 0 never spills.
func TestCounterSpills(t *testing.T) {
	ts := pairs(10000, 1)
	want := wantRows(ts)
	for _, limit := range []int{0, 3, 50, 500, 1 << 20} {
		c := NewCounterLimit(limit)
		for _, p := range ts {
			c.Add(p.doc, p.word, p.n)
		}
		got := rowsOf(t, c)
		if !slices.Equal(got, want) {
			t.Errorf("limit %d: %d rows, want %d; first difference at %d", limit, len(got), len(want), firstDiff(got, want))
		}
		again := rowsOf(t, c)
		if !slices.Equal(again, want) {
			t.Errorf("limit %d: a second walk differs", limit)
		}
		spilled := c.Spills() > 0
		if spilled != (limit > 0 && limit < len(want)) {
			t.Errorf("limit %d: %d spills for %d distinct pairs", limit, c.Spills(), len(want))
		}
		if err := c.Close(); err != nil {
			t.Error(err)
		}
	}
}

func firstDiff(a, b []record.Count) int {
	for i := range min(len(a), len(b)) {
		if a[i] != b[i] {
			return i
		}
	}
	return min(len(a), len(b))
}

// TestCounterAbsorb: parts counted apart, each spilling or not, and
// absorbed into one counter (which may spill again) give the counts of
// one counter over everything.
func TestCounterAbsorb(t *testing.T) {
	ts := pairs(30000, 2)
	want := wantRows(ts)
	for _, limit := range []int{0, 40, 3000, 100000} {
		c := NewCounterLimit(limit)
		parts := []*Counter{c.Part(3), c.Part(3), c.Part(3)}
		for i, p := range ts {
			w := parts[i%3]
			if i%2 == 0 {
				w.Add(p.doc, p.word, p.n)
				continue
			}
			// the ID methods, spilling between batches as CountFlows does
			w.AddID(w.DocBytes([]byte(p.doc)), w.WordID(p.word), p.n)
			if i%101 == 0 && w.Full() {
				if err := w.Spill(); err != nil {
					t.Fatal(err)
				}
			}
		}
		parts[1].Sort()
		for _, p := range parts {
			c.Absorb(p)
			if !p.Empty() {
				t.Errorf("limit %d: a counter absorbed is not empty", limit)
			}
		}
		if got := rowsOf(t, c); !slices.Equal(got, want) {
			t.Errorf("limit %d: %d rows, want %d; first difference at %d", limit, len(got), len(want), firstDiff(got, want))
		}
		c.Close()
	}
}

// TestCounterSpillFails: a spill that cannot write its scratch file is
// reported, naming what failed, by EachSorted.
func TestCounterSpillFails(t *testing.T) {
	t.Setenv("TMPDIR", filepath.Join(t.TempDir(), "missing"))
	c := NewCounterLimit(10)
	for _, p := range pairs(100, 3) {
		c.Add(p.doc, p.word, p.n)
	}
	err := c.EachSorted(func(record.Count) error { return nil })
	if err == nil || !strings.Contains(err.Error(), "spilling to a scratch file") || !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("EachSorted after a failed spill: %v", err)
	}
}

// TestCounterAbsorbsFailure: a worker's counter whose spill failed hands
// its error to the counter that absorbs it, which reports it as its own.
func TestCounterAbsorbsFailure(t *testing.T) {
	t.Setenv("TMPDIR", filepath.Join(t.TempDir(), "missing"))
	o := NewCounterLimit(10)
	for _, p := range pairs(100, 3) {
		o.Add(p.doc, p.word, p.n)
	}
	if err := o.Spill(); err == nil {
		t.Fatal("a spill with no scratch directory did not fail")
	}
	c := NewCounterLimit(0) // no limit: absorbing does not spill
	c.Add("d", "w", 1)
	c.Absorb(o)
	if _, err := c.Rows(); err == nil || !strings.Contains(err.Error(), "spilling to a scratch file") || !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("Rows after absorbing a counter whose spill failed: %v", err)
	}
}

// TestCounterFlushes: a counter sorting its buffer many times, while new
// documents and words keep coming (so that their indexes need more bits
// from one sort to the next), counts what a map counts.
func TestCounterFlushes(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 5))
	ts := make([]triple, 200_000)
	for i := range ts {
		ts[i] = triple{fmt.Sprint("d", r.IntN(1+i/50)), fmt.Sprint("w", r.IntN(1+i/20)), 1}
	}
	want := wantRows(ts)
	for _, limit := range []int{0, 40_000} {
		c := NewCounterLimit(limit)
		for _, p := range ts {
			c.Add(p.doc, p.word, p.n)
		}
		if got := rowsOf(t, c); !slices.Equal(got, want) {
			t.Errorf("limit %d: %d rows, want %d; first difference at %d", limit, len(got), len(want), firstDiff(got, want))
		}
		c.Close()
	}
}

// TestCounterPastLimit: a counter fed through the ID methods, whose caller
// spills only between batches, counts on past its limit until it does.
func TestCounterPastLimit(t *testing.T) {
	ts := pairs(5000, 6)
	c := NewCounterLimit(5)
	for _, p := range ts {
		c.AddID(c.DocID(p.doc), c.WordID(p.word), p.n)
	}
	if !c.Full() {
		t.Error("a counter past its limit is not full")
	}
	if got, want := rowsOf(t, c), wantRows(ts); !slices.Equal(got, want) {
		t.Errorf("%d rows, want %d; first difference at %d", len(got), len(want), firstDiff(got, want))
	}
}

// TestCounterMemory: a counter's buffers hold at most twice its limit of
// pairs each (CountLimit's 4 pairs a limit in all, as allocated), however many pairs
// come and however often they repeat; a small input's buffer is sized to
// it, not to the limit; at most maxRuns runs wait on disk.
func TestCounterMemory(t *testing.T) {
	r := rand.New(rand.NewPCG(9, 9))
	for _, limit := range []int{50, 1000, 40_000} {
		c := NewCounterLimit(limit)
		bound := cap(slices.Grow([]pair(nil), 2*limit)) // the allocator rounds up
		most := 0
		for i := range 300_000 {
			// distinct pairs from a pool that grows: the buffer's distinct
			// pairs after a sort vary from a few to past the limit
			k := r.IntN(1 + i/4)
			c.Add(fmt.Sprint("d", k%997), fmt.Sprint("w", k), 1)
			if n := cap(c.buf) + cap(c.tmp); n > most {
				most = n
			}
			if cap(c.buf) > bound || cap(c.tmp) > bound {
				t.Fatalf("limit %d, %d pairs added: buffers of %d and %d pairs", limit, i+1, cap(c.buf), cap(c.tmp))
			}
			if c.Spills() > maxRuns {
				t.Fatalf("limit %d: %d runs on disk", limit, c.Spills())
			}
		}
		if most < 2*limit {
			t.Errorf("limit %d: buffers never held more than %d pairs", limit, most)
		}
		c.Close()
	}
	c := NewCounter()
	for i := range 1000 {
		c.Add(fmt.Sprint("d", i), "w", 1)
	}
	if cap(c.buf) > minFlush {
		t.Errorf("1000 pairs: a buffer of %d", cap(c.buf))
	}
}

// TestCounterFull: a counter is full once it holds its limit of distinct
// pairs (as of its last sort), not one fewer; a part of n holds a 1/n
// share of the limit (at least one pair), and a counter without a limit
// is never full.
func TestCounterFull(t *testing.T) {
	fill := func(c *Counter, n int) {
		for i := range n {
			c.AddID(c.DocID(fmt.Sprint("d", i%7)), c.WordID(fmt.Sprint("w", i)), 1)
			c.AddID(c.DocID(fmt.Sprint("d", i%7)), c.WordID(fmt.Sprint("w", i)), 2) // a repeat
		}
		c.Sort()
	}
	for _, c := range []struct {
		limit, parts, pairs int
		full                bool
	}{
		{100, 1, 99, false}, {100, 1, 100, true}, {100, 3, 32, false}, {100, 3, 33, true},
		{2, 3, 1, true}, {100, 0, 99, false}, {100, 0, 100, true}, {0, 3, 5000, false},
	} {
		k := NewCounterLimit(c.limit)
		if c.parts != 1 {
			k = k.Part(c.parts)
		}
		fill(k, c.pairs)
		if k.Full() != c.full {
			t.Errorf("limit %d, part of %d, %d pairs: full %v", c.limit, c.parts, c.pairs, k.Full())
		}
	}
	if NewCounterLimit(-5).Full() || NewCounterLimit(-5).Spills() != 0 {
		t.Error("a negative limit is no limit")
	}
}

// TestCounterScratchCorrupt: a run read back that is not what was written
// (a scratch file damaged under the counter) is an error, never counts.
func TestCounterScratchCorrupt(t *testing.T) {
	for _, junk := range [][]byte{{0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01}, {0x7f, 0x00}, {0x00, 0xff, 0xff, 0xff, 0xff, 0x7f}} {
		c := NewCounterLimit(10)
		for _, p := range pairs(500, 4) {
			c.Add(p.doc, p.word, p.n)
		}
		if c.Spills() == 0 {
			t.Fatal("no spill")
		}
		if _, err := c.files[0].f.WriteAt(junk, c.disk[0].off); err != nil {
			t.Fatal(err)
		}
		err := c.EachSorted(func(record.Count) error { return nil })
		if err == nil || !strings.Contains(err.Error(), "reading back counts") {
			t.Errorf("junk %x: %v", junk, err)
		}
		c.Close()
	}
}

// TestCounterFewPairs: no pair, one, two and three, added in reverse
// order, repeated, come out sorted and summed, held or spilled.
func TestCounterFewPairs(t *testing.T) {
	for n := range 4 {
		var ts []triple
		for i := n - 1; i >= 0; i-- {
			ts = append(ts, triple{fmt.Sprint("d", i), fmt.Sprint("w", n-i), int64(i + 1)}, triple{fmt.Sprint("d", i), fmt.Sprint("w", n-i), 5})
		}
		for _, limit := range []int{0, 1} {
			c := NewCounterLimit(limit)
			for _, p := range ts {
				c.Add(p.doc, p.word, p.n)
			}
			if got, want := rowsOf(t, c), wantRows(ts); !slices.Equal(got, want) {
				t.Errorf("%d pairs, limit %d: %v, want %v", n, limit, got, want)
			}
			if c.Empty() != (n == 0) {
				t.Errorf("%d pairs, limit %d: empty %v", n, limit, c.Empty())
			}
			c.Close()
		}
	}
}
