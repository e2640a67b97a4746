package feature

import (
	"cmp"
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

// TestCounterMemory: a counter's buffers hold at most 64 bytes a pair of
// its limit (CountLimit's 4 pairs of 16 bytes, as allocated: keys of 8
// bytes, a limit of them twice; pairs of other counts, of 16, a limit of
// them; held pairs of 16, twice the limit),
// however many pairs come and however often they repeat; a small input's
// buffers are sized to it, not to the limit; at most maxRuns runs wait on
// disk.
func TestCounterMemory(t *testing.T) {
	r := rand.New(rand.NewPCG(9, 9))
	size := func(c *Counter) int {
		return 8*(cap(c.keys)+cap(c.keysTmp)) + 16*(cap(c.sorted)+cap(c.extra))
	}
	for _, limit := range []int{50, 1000, 40_000} {
		c := NewCounterLimit(limit)
		most := 0
		for i := range 300_000 {
			// distinct pairs from a pool that grows: the buffer's distinct
			// pairs after a sort vary from a few to past the limit
			k := r.IntN(1 + i/4)
			n := int64(1)
			if i%10 == 0 {
				n = 2 // the other buffer
			}
			c.Add(fmt.Sprint("d", k%997), fmt.Sprint("w", k), n)
			most = max(most, size(c))
			if size(c) > 64*limit {
				t.Fatalf("limit %d, %d pairs added: buffers of %d bytes (keys %d+%d, pairs %d+%d)", limit, i+1, size(c),
					cap(c.keys), cap(c.keysTmp), cap(c.sorted), cap(c.extra))
			}
			if c.Spills() > maxRuns {
				t.Fatalf("limit %d: %d runs on disk", limit, c.Spills())
			}
		}
		if most < 32*limit {
			t.Errorf("limit %d: buffers never held more than %d bytes", limit, most)
		}
		c.Close()
	}
	c := NewCounter()
	for i := range 1000 {
		c.Add(fmt.Sprint("d", i), "w", 1)
	}
	if size(c) > 8*1024 {
		t.Errorf("1000 pairs: buffers of %d bytes", size(c))
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

// TestCounterKeepsNames: a counter whose names are few keeps them from one
// spill to the next (Epoch unchanged), so that a caller's indexes, taken
// once, stay valid over every spill; one whose names pass an eighth of its
// limit starts them afresh at a spill (Epoch moves). Both count what a map
// counts.
func TestCounterKeepsNames(t *testing.T) {
	r := rand.New(rand.NewPCG(11, 11))
	for _, c := range []struct {
		docs, words, limit int
		kept               bool
	}{{30, 60, 800, true}, {300, 400, 800, false}} {
		k := NewCounterLimit(c.limit)
		var ts []triple
		docIDs, wordIDs := map[string]uint32{}, map[string]uint32{}
		epoch := k.Epoch()
		for i := range 20_000 {
			d, w := fmt.Sprint("d", r.IntN(c.docs)), fmt.Sprint("w", r.IntN(c.words))
			ts = append(ts, triple{d, w, 1})
			if _, ok := docIDs[d]; !ok {
				docIDs[d] = k.DocID(d)
			}
			if _, ok := wordIDs[w]; !ok {
				wordIDs[w] = k.WordID(w)
			}
			k.AddID(docIDs[d], wordIDs[w], 1)
			if i%50 == 49 && k.Full() {
				if err := k.Spill(); err != nil {
					t.Fatal(err)
				}
				if k.Epoch() != epoch { // the indexes start afresh
					clear(docIDs)
					clear(wordIDs)
					epoch = k.Epoch()
				}
			}
		}
		if k.Spills() < 5 {
			t.Errorf("%d docs, %d words: %d spills", c.docs, c.words, k.Spills())
		}
		if kept := k.Epoch() == 0; kept != c.kept {
			t.Errorf("%d docs, %d words, limit %d: names started afresh %d times", c.docs, c.words, c.limit, k.Epoch())
		}
		if got, want := rowsOf(t, k), wantRows(ts); !slices.Equal(got, want) {
			t.Errorf("%d docs, %d words: %d rows, want %d; first difference at %d", c.docs, c.words, len(got), len(want), firstDiff(got, want))
		}
		k.Close()
	}
}

// TestRadixKeys: keys of every width of document and word indexes (one
// pass to six) come out as slices.Sort sorts them.
func TestRadixKeys(t *testing.T) {
	r := rand.New(rand.NewPCG(12, 12))
	for _, w := range [][2]int{{0, 0}, {1, 0}, {0, 5}, {3, 8}, {11, 0}, {16, 14}, {20, 20}, {32, 32}} {
		for _, n := range []int{0, 1, 2, 1000, 70_000} {
			keys := make([]uint64, n)
			for i := range keys {
				var d, wd uint64
				if w[0] > 0 {
					d = r.Uint64() >> (64 - w[0])
				}
				if w[1] > 0 {
					wd = r.Uint64() >> (64 - w[1])
				}
				keys[i] = d<<32 | wd
			}
			want := slices.Clone(keys)
			slices.Sort(want)
			got, _ := radixKeys(keys, nil, w[0], w[1])
			if !slices.Equal(got, want) {
				t.Errorf("%d keys of %d+%d bits: not sorted", n, w[0], w[1])
			}
		}
	}
}

// TestInOrder: the ranks a document touched come out increasing, whether
// read off the bits (dense) or sorted (sparse), and leave no bit set.
func TestInOrder(t *testing.T) {
	r := rand.New(rand.NewPCG(13, 13))
	for _, c := range []struct{ words, touched int }{{1, 1}, {64, 3}, {1000, 900}, {100_000, 5}, {100_000, 3000}} {
		seen := make([]uint64, (c.words+63)/64)
		var touched []uint32
		lo, hi := uint32(c.words), uint32(0)
		for _, v := range r.Perm(c.words)[:c.touched] {
			x := uint32(v)
			touched = append(touched, x)
			seen[x>>6] |= 1 << (x & 63)
			lo, hi = min(lo, x), max(hi, x)
		}
		want := slices.Clone(touched)
		slices.Sort(want)
		if got := inOrder(touched, seen, lo, hi); !slices.Equal(got, want) {
			t.Errorf("%d of %d words: %v..., want %v...", c.touched, c.words, got[:min(5, len(got))], want[:min(5, len(want))])
		}
		if slices.ContainsFunc(seen, func(b uint64) bool { return b != 0 }) {
			t.Errorf("%d of %d words: bits left set", c.touched, c.words)
		}
	}
}

// TestMergeInPlace: keys and pairs merged into the pairs held, in place,
// below, above, between and onto them, repeated or not, give the sums a
// map gives, sorted.
func TestMergeInPlace(t *testing.T) {
	r := rand.New(rand.NewPCG(14, 14))
	for _, c := range []struct{ held, add, span, base int }{
		{0, 5, 10, 0}, {5, 0, 10, 0}, {10, 10, 10, 100}, {10, 10, 10, -100}, {50, 200, 30, 0}, {1000, 3000, 100_000, 0}, {300, 300, 300, 0},
	} {
		want := map[uint64]int64{}
		var held []pair
		for _, k := range r.Perm(c.span)[:min(c.held, c.span)] {
			key := uint64(k + 1000)
			held = append(held, pair{key, int64(1 + k%3)})
			want[key] += int64(1 + k%3)
		}
		slices.SortFunc(held, func(a, b pair) int { return cmp.Compare(a.key, b.key) })
		var keys []uint64
		var ps []pair
		for range c.add {
			key := uint64(r.IntN(c.span) + 1000 + c.base)
			keys = append(keys, key)
			ps = append(ps, pair{key, 2})
		}
		slices.Sort(keys)
		slices.SortFunc(ps, func(a, b pair) int { return cmp.Compare(a.key, b.key) })
		for _, k := range keys {
			want[k] += 3 // 1 from the keys, 2 from the pairs
		}
		got := mergeKeys(append(make([]pair, 0, len(held)+len(keys)), held...), keys)
		got = mergePairs(append(make([]pair, 0, len(got)+len(ps)), got...), ps)
		if len(got) != len(want) {
			t.Errorf("%+v: %d pairs, want %d", c, len(got), len(want))
			continue
		}
		for i, p := range got {
			if p.n != want[p.key] || i > 0 && got[i-1].key >= p.key {
				t.Errorf("%+v: pair %d is %+v, want a count of %d, increasing", c, i, p, want[p.key])
				break
			}
		}
	}
}
