package feature

import (
	"bufio"
	"cmp"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math/bits"
	"os"
	"slices"
	"strings"

	"github.com/spot-hunt/spot/internal/atomicfile"
	"github.com/spot-hunt/spot/internal/record"
)

// CountLimit is the number of distinct (doc, word) pairs a counter made by
// NewCounter holds in memory before it spills them to disk: its buffers
// then hold at most 4 of them, 16 bytes each (128 MB), besides the names
// of the documents and words.
const CountLimit = 2 << 20

// Counter aggregates (doc, word) counts in bounded memory. Documents and
// words are interned; each pair added is appended to a buffer of keys
// (the two indexes in a uint64, 8 bytes: a pair's count is most often 1,
// and others go to a buffer of their own). When the buffer fills (the
// limit), it is radix-sorted (11 bits a pass, 3 passes for the 30 bits of
// a day's 60k documents and 14k words) and merged into the distinct pairs
// held, sorted, in place from the ends down, summing the counts of equal
// pairs: a hash table's work without its cache misses (most pairs of a
// day's flows are new: their words hold the hour and the byte and packet
// sizes), and each pair is sorted once. Past its limit of distinct pairs
// held, the counter writes them as a run to an unnamed scratch file and
// starts afresh (it spills); EachSorted merges the runs with what is
// held. A partition whose pairs seldom repeat thus costs disk, not memory.
//
// A run is the counter's words, then its pairs grouped by document in
// the documents' name order: a document's name, then its words' indexes
// (ascending, as deltas) and counts. Runs are merged a document at a time:
// the words of every run are ranked once, each run's pairs of the least
// document are summed into an array by word rank and the ranks touched
// sorted, so that no pair's strings are compared or written, only each
// document's and each run's words.
//
// The names of documents and words are kept from one run to the next
// while they are few (at most an eighth of the limit, about 10 bytes a
// pair of the limit), so that a caller's indexes stay valid; past that, a
// spill starts them afresh, and memory stays bounded by the limit however
// many names a day holds.
//
// Add spills by itself. The ID methods (DocID, WordID, AddID) do not, as
// the indexes they hand out last only while Epoch is unchanged (a spill
// may change it): their caller asks Full between batches and then calls
// Spill.
type Counter struct {
	docs, words       map[string]uint32
	docList, wordList []string
	keys              []uint64  // pairs added with a count of 1 since the last sort: doc<<32 | word
	keysAt            int       // keys buffered when AddID makes room (setKeysAt)
	keysTmp           []uint64  // the radix sort's other buffer
	extra             []pair    // pairs added with other counts since the last sort
	sorted            []pair    // the distinct pairs, sorted by key, as of the last sort
	limit             int       // pairs held before a spill; 0: no limit
	mem               []*memRun // runs held (settled or absorbed)
	memPairs          int       // pairs in mem
	disk              []span    // spilled runs
	files             []*scratch
	err               error    // the first failed spill
	docOrder          []uint32 // the first documents' indexes, in their names' order
	epoch             int      // times the names were started afresh
}

// NewCounter returns an empty counter holding up to CountLimit pairs in
// memory.
func NewCounter() *Counter { return NewCounterLimit(CountLimit) }

// NewCounterLimit returns an empty counter holding up to limit pairs in
// memory (0: no limit).
func NewCounterLimit(limit int) *Counter {
	return &Counter{docs: map[string]uint32{}, words: map[string]uint32{}, limit: max(limit, 0)}
}

func intern(m map[string]uint32, list *[]string, s string) uint32 {
	if id, ok := m[s]; ok {
		return id
	}
	id := uint32(len(*list))
	m[s] = id
	*list = append(*list, s)
	return id
}

// Add adds n to the count of (doc, word), spilling when the counter is
// full; a spill that fails is reported by EachSorted.
func (c *Counter) Add(doc, word string, n int64) {
	if c.err != nil {
		return
	}
	d := intern(c.docs, &c.docList, doc)
	w := intern(c.words, &c.wordList, word)
	c.AddID(d, w, n)
	if c.Full() {
		c.Spill()
	}
}

// DocID returns doc's index in c, adding it if new; it lasts until the
// next spill.
func (c *Counter) DocID(doc string) uint32 { return intern(c.docs, &c.docList, doc) }

// DocBytes is DocID of a document given as bytes, copied only when new.
func (c *Counter) DocBytes(doc []byte) uint32 {
	if id, ok := c.docs[string(doc)]; ok {
		return id
	}
	return intern(c.docs, &c.docList, string(doc))
}

// WordID returns word's index in c, adding it if new; it lasts until the
// next spill.
func (c *Counter) WordID(word string) uint32 { return intern(c.words, &c.wordList, word) }

// AddID adds n to the count of the pair whose indexes DocID and WordID gave.
func (c *Counter) AddID(doc, word uint32, n int64) {
	k := uint64(doc)<<32 | uint64(word)
	if n != 1 {
		c.addExtra(k, n)
		return
	}
	if len(c.keys) >= c.keysAt {
		c.room()
	}
	c.keys = append(c.keys, k)
}

// addExtra buffers a pair whose count is not 1.
func (c *Counter) addExtra(k uint64, n int64) {
	b := c.batch()
	if len(c.keys)+len(c.extra) >= b {
		c.flush()
	}
	if len(c.extra) == cap(c.extra) {
		c.extra = grow(c.extra, b)
	}
	c.extra = append(c.extra, pair{k, n})
	c.setKeysAt()
}

// room sorts the pairs buffered when they are a batch, and grows the keys'
// buffer when full (doubling, up to a batch: a small input's stays small).
func (c *Counter) room() {
	b := c.batch()
	if len(c.keys)+len(c.extra) >= b {
		c.flush()
	}
	if len(c.keys) == cap(c.keys) {
		c.keys = grow(c.keys, b)
	}
	c.setKeysAt()
}

// setKeysAt sets the number of keys buffered at which AddID makes room:
// when the buffer is full or the pairs buffered are a batch.
func (c *Counter) setKeysAt() { c.keysAt = min(cap(c.keys), c.batch()-len(c.extra)) }

func grow[T any](buf []T, most int) []T {
	nb := make([]T, len(buf), min(most, max(2*cap(buf), 1024)))
	copy(nb, buf)
	return nb
}

// batch is the number of pairs buffered before they are sorted: the limit
// (so that the pairs held stay within twice it), or with no limit as many
// as are held (at least minFlush).
func (c *Counter) batch() int {
	if c.limit > 0 {
		return c.limit
	}
	return max(minFlush, len(c.sorted))
}

// minFlush is the least number of pairs a counter without a limit buffers
// before it sorts them.
const minFlush = 64 << 10

// flush sorts the pairs buffered and merges them into the distinct pairs
// held, summing the counts of equal pairs.
func (c *Counter) flush() {
	if len(c.keys) == 0 && len(c.extra) == 0 {
		return
	}
	if len(c.extra) > 0 {
		slices.SortFunc(c.extra, func(a, b pair) int { return cmp.Compare(a.key, b.key) })
		c.sorted = mergePairs(c.reserve(len(c.extra)), c.extra)
		c.extra = c.extra[:0]
	}
	if len(c.keys) > 0 {
		c.keys, c.keysTmp = radixKeys(c.keys, c.keysTmp, bits.Len(uint(len(c.docList))), bits.Len(uint(len(c.wordList))))
		c.sorted = mergeKeys(c.reserve(len(c.keys)), c.keys)
		c.keys = c.keys[:0]
	}
	c.setKeysAt()
}

// reserve returns the pairs held with room for n more: grown to the limit
// and a batch at once when that is enough (the most a counter spilling
// when full holds), else to twice what it needs.
func (c *Counter) reserve(n int) []pair {
	need := len(c.sorted) + n
	if cap(c.sorted) >= need {
		return c.sorted
	}
	size := 2 * need
	if c.limit > 0 {
		size = max(need, min(size, c.limit+c.batch()))
	}
	grown := make([]pair, len(c.sorted), size)
	copy(grown, c.sorted)
	return grown
}

// mergeKeys merges keys (sorted, a count of 1 each) into held (distinct,
// sorted), equal pairs summed, in place: held has room for them. It
// merges from the ends down, so that no pair held is moved but those
// above a new one (and, when keys were held already, the pairs above the
// lowest of them, once).
func mergeKeys(held []pair, keys []uint64) []pair {
	u := 0 // distinct keys
	for j := range keys {
		if j == 0 || keys[j] != keys[j-1] {
			u++
		}
	}
	buf := held[:len(held)+u]
	w, i := len(buf), len(held)-1
	for j := len(keys) - 1; j >= 0; {
		k := keys[j]
		n := int64(1)
		for j--; j >= 0 && keys[j] == k; j-- {
			n++
		}
		for i >= 0 && buf[i].key > k {
			w--
			buf[w] = buf[i]
			i--
		}
		if i >= 0 && buf[i].key == k {
			n += buf[i].n
			i--
		}
		w--
		buf[w] = pair{k, n}
	}
	if w == i+1 {
		return buf
	}
	return buf[:i+1+copy(buf[i+1:], buf[w:])]
}

// mergePairs merges ps (sorted) into held (distinct, sorted), equal pairs
// summed, in place as mergeKeys does.
func mergePairs(held, ps []pair) []pair {
	u := 0
	for j := range ps {
		if j == 0 || ps[j].key != ps[j-1].key {
			u++
		}
	}
	buf := held[:len(held)+u]
	w, i := len(buf), len(held)-1
	for j := len(ps) - 1; j >= 0; {
		k, n := ps[j].key, ps[j].n
		for j--; j >= 0 && ps[j].key == k; j-- {
			n += ps[j].n
		}
		for i >= 0 && buf[i].key > k {
			w--
			buf[w] = buf[i]
			i--
		}
		if i >= 0 && buf[i].key == k {
			n += buf[i].n
			i--
		}
		w--
		buf[w] = pair{k, n}
	}
	if w == i+1 {
		return buf
	}
	return buf[:i+1+copy(buf[i+1:], buf[w:])]
}

// Part returns an empty counter with a 1/n share of c's limit, for one of
// n workers whose counts c absorbs.
func (c *Counter) Part(n int) *Counter {
	if c.limit == 0 {
		return NewCounterLimit(0)
	}
	return NewCounterLimit(max(1, c.limit/max(n, 1)))
}

// Full reports whether c holds its limit of distinct pairs or more (as of
// the last time its buffer was sorted).
func (c *Counter) Full() bool { return c.limit > 0 && len(c.sorted)+c.memPairs >= c.limit }

// Empty reports whether no pair was ever added.
func (c *Counter) Empty() bool {
	return len(c.keys) == 0 && len(c.extra) == 0 && len(c.sorted) == 0 && len(c.mem) == 0 && len(c.disk) == 0
}

// Spills is the number of runs written to disk so far.
func (c *Counter) Spills() int { return len(c.disk) }

// Spill writes every pair held to a run on disk and empties the memory;
// indexes from DocID and WordID are void after it if Epoch changed.
func (c *Counter) Spill() error {
	if c.err != nil {
		return c.err
	}
	if err := c.spill(); err != nil {
		c.err = fmt.Errorf("counting (doc, word) pairs: spilling to a scratch file: %w", err)
	}
	return c.err
}

func (c *Counter) spill() error {
	c.settle()
	if runs := c.mem; len(runs) > 0 {
		c.mem, c.memPairs = nil, 0
		f, err := c.scratch()
		if err != nil {
			return err
		}
		var sp span
		if len(runs) == 1 {
			sp, err = f.writeMem(runs[0])
		} else {
			srcs := make([]*source, len(runs))
			for i, r := range runs {
				srcs[i] = r.source()
			}
			sp, err = f.writeMerged(srcs)
		}
		if err != nil {
			return err
		}
		c.disk = append(c.disk, sp)
		for _, r := range runs { // the next run's buffer
			if cap(r.pairs) > cap(c.sorted) {
				c.sorted = r.pairs[:0]
			}
		}
	}
	if len(c.docList)+len(c.wordList) > c.limit/8 {
		c.forget()
	}
	if len(c.disk) >= maxRuns {
		return c.compact()
	}
	return nil
}

// maxRuns is the most runs a counter keeps on disk: past it they are
// merged into one, so that a merge reads at most this many at once.
const maxRuns = 64

// compact merges the runs on disk into one, in a new scratch file, and
// closes the old ones.
func (c *Counter) compact() error {
	srcs, err := c.diskSources()
	if err != nil {
		return err
	}
	f, err := atomicfile.Scratch("spot-counts-*")
	if err != nil {
		return err
	}
	s := &scratch{f: f, owner: c}
	sp, err := s.writeMerged(srcs)
	if err != nil {
		f.Close()
		return err
	}
	for _, old := range c.files {
		old.f.Close()
	}
	c.files, c.disk = []*scratch{s}, []span{sp}
	return nil
}

func (c *Counter) diskSources() ([]*source, error) {
	srcs := make([]*source, 0, len(c.disk))
	for _, sp := range c.disk {
		s, err := sp.source()
		if err != nil {
			return nil, fmt.Errorf("reading back counts: %w", err)
		}
		srcs = append(srcs, s)
	}
	return srcs, nil
}

// Sort sorts the pairs c holds, which Absorb and EachSorted would do:
// workers whose counters one absorbs sort theirs in parallel.
func (c *Counter) Sort() {
	c.settle()
	for _, r := range c.mem {
		r.index()
	}
}

// settle turns the pairs held into a run held in memory.
func (c *Counter) settle() {
	c.flush()
	if len(c.sorted) == 0 {
		return
	}
	c.mem = append(c.mem, &memRun{docs: c.docList[:len(c.docList):len(c.docList)], words: c.wordList[:len(c.wordList):len(c.wordList)],
		pairs: c.sorted, order: c.order()})
	c.memPairs += len(c.sorted)
	c.sorted = nil
}

// order returns the indexes of the documents in their names' order,
// sorting only those new since the last call.
func (c *Counter) order() []uint32 {
	old, n := c.docOrder, len(c.docList)
	if len(old) == n {
		return old
	}
	fresh := make([]uint32, 0, n-len(old))
	for i := len(old); i < n; i++ {
		fresh = append(fresh, uint32(i))
	}
	names := c.docList
	slices.SortFunc(fresh, func(a, b uint32) int { return strings.Compare(names[a], names[b]) })
	out := make([]uint32, 0, n)
	i, j := 0, 0
	for i < len(old) && j < len(fresh) {
		if names[fresh[j]] < names[old[i]] {
			out = append(out, fresh[j])
			j++
		} else {
			out = append(out, old[i])
			i++
		}
	}
	out = append(append(out, old[i:]...), fresh[j:]...)
	c.docOrder = out
	return out
}

// forget starts the names of documents and words afresh (no pair held).
func (c *Counter) forget() {
	c.docs, c.words = map[string]uint32{}, map[string]uint32{}
	c.docList, c.wordList, c.docOrder = nil, nil, nil
	c.epoch++
}

// Epoch is the number of times c started its names afresh: the indexes
// DocID and WordID hand out last while it is unchanged.
func (c *Counter) Epoch() int { return c.epoch }

func (c *Counter) scratch() (*scratch, error) {
	if len(c.files) > 0 && c.files[0].owner == c {
		return c.files[0], nil
	}
	f, err := atomicfile.Scratch("spot-counts-*")
	if err != nil {
		return nil, err
	}
	s := &scratch{f: f, owner: c}
	c.files = append([]*scratch{s}, c.files...)
	return s, nil
}

// Absorb moves the pairs of o into c (o's held as a run, its runs as they
// are), leaving o empty; c spills if it is then full. Counters counting
// parts of the input in parallel each absorb into one.
func (c *Counter) Absorb(o *Counter) {
	if o.err != nil && c.err == nil {
		c.err = o.err
	}
	o.settle()
	c.mem = append(c.mem, o.mem...)
	c.memPairs += o.memPairs
	c.disk = append(c.disk, o.disk...)
	c.files = append(c.files, o.files...)
	*o = *NewCounterLimit(o.limit)
	if c.Full() || len(c.disk) >= maxRuns {
		c.Spill()
	}
}

// Close releases the scratch files; c is empty after it.
func (c *Counter) Close() error {
	var err error
	for _, f := range c.files {
		err = cmp.Or(err, f.f.Close())
	}
	*c = *NewCounterLimit(c.limit)
	return err
}

// Rows returns the counts sorted by document, then word.
func (c *Counter) Rows() ([]record.Count, error) {
	var out []record.Count
	err := c.EachSorted(func(r record.Count) error { out = append(out, r); return nil })
	return out, err
}

// EachSorted calls fn for every pair, sorted by document, then word, with
// its count summed over the runs, until fn returns an error. It holds the
// words of every run and 9 bytes a distinct word besides the counter; c is
// read-only after it, but may be walked again.
func (c *Counter) EachSorted(fn func(record.Count) error) error {
	if c.err != nil {
		return c.err
	}
	c.settle()
	srcs, err := c.diskSources()
	if err != nil {
		return err
	}
	for _, r := range c.mem {
		srcs = append(srcs, r.source())
	}
	return newMerger(srcs).run(func(doc string, words []string, ranks []uint32, sums []int64) error {
		for _, r := range ranks {
			if err := fn(record.Count{Doc: doc, Word: words[r], Count: sums[r]}); err != nil {
				return err
			}
		}
		return nil
	})
}

// memRun is a run held in memory.
type memRun struct {
	docs, words []string // by index
	pairs       []pair   // keys of indexes, increasing
	order       []uint32 // document indexes in their names' order
	start       []int    // by document index, its first pair (index)
}

// index finds each document's pairs.
func (r *memRun) index() {
	if r.start != nil {
		return
	}
	r.start = make([]int, len(r.docs)+1)
	for _, p := range r.pairs {
		r.start[p.key>>32+1]++
	}
	for i := 1; i < len(r.start); i++ {
		r.start[i] += r.start[i-1]
	}
}

func (r *memRun) source() *source {
	r.index()
	i := 0
	return &source{words: r.words, next: func(s *source) (bool, error) {
		for i < len(r.order) {
			d := r.order[i]
			i++
			if ps := r.pairs[r.start[d]:r.start[d+1]]; len(ps) > 0 {
				s.doc, s.pairs = r.docs[d], ps
				return true, nil
			}
		}
		return false, nil
	}}
}

// pair is a pair counted: its document's and word's indexes, and its count.
type pair struct {
	key uint64 // doc << 32 | word
	n   int64
}

// radixSort's digits: at most maxDigit bits, so that a pass's counts stay
// in the first level cache.
const (
	maxDigit  = 11
	maxPasses = (64 + maxDigit - 1) / maxDigit
)

// radixKeys sorts keys through tmp (least significant digit first, at most
// maxDigit bits a pass, as few passes as the bits need), where keys are a
// doc index under 1<<docBits above bit 32 and a word index under
// 1<<wordBits below; it returns the sorted slice and the other buffer.
// Passes whose digit is the same in every key are skipped.
func radixKeys(keys, tmp []uint64, docBits, wordBits int) (sorted, other []uint64) {
	if len(keys) < 2 {
		return keys, tmp
	}
	if cap(tmp) < len(keys) {
		tmp = make([]uint64, len(keys), cap(keys))
	}
	tmp = tmp[:len(keys)]
	wb := uint(wordBits)
	total := max(1, docBits+wordBits)
	passes := (total + maxDigit - 1) / maxDigit
	digit := uint((total + passes - 1) / passes)
	mask := uint64(1)<<digit - 1
	var counts [maxPasses][1 << maxDigit]uint32
	for _, k := range keys {
		k = k>>32<<wb | k&(1<<32-1)
		for d := range passes {
			counts[d][k>>(digit*uint(d))&mask]++
		}
	}
	src, dst := keys, tmp
	for d := range passes {
		c := &counts[d]
		shift := digit * uint(d)
		if int(c[(src[0]>>32<<wb|src[0]&(1<<32-1))>>shift&mask]) == len(src) {
			continue
		}
		var sum uint32
		for b := range c[:mask+1] {
			n := c[b]
			c[b] = sum
			sum += n
		}
		for _, k := range src {
			b := (k>>32<<wb | k&(1<<32-1)) >> shift & mask
			dst[c[b]] = k
			c[b]++
		}
		src, dst = dst, src
	}
	return src, dst
}

// source is a run being merged: its current document, and that
// document's pairs (a word index in the key's low 32 bits, a count).
type source struct {
	doc   string
	pairs []pair
	words []string // the run's words, by index
	rank  []uint32 // by word index, its rank in the merge's words
	next  func(*source) (bool, error)
}

// merger merges runs a document at a time.
type merger struct {
	srcs  []*source
	words []string // every run's words, sorted
}

// newMerger ranks the words of srcs.
func newMerger(srcs []*source) *merger {
	idx := map[string]uint32{}
	var words []string
	for _, s := range srcs {
		for _, w := range s.words {
			if _, ok := idx[w]; !ok {
				idx[w] = uint32(len(words))
				words = append(words, w)
			}
		}
	}
	rank, sorted := ranks(words)
	for _, s := range srcs {
		s.rank = make([]uint32, len(s.words))
		for i, w := range s.words {
			s.rank[i] = rank[idx[w]]
		}
	}
	return &merger{srcs: srcs, words: sorted}
}

// run calls fn for every document of the runs, in order, once, with the
// ranks of its words (increasing) and by rank their counts summed.
func (m *merger) run(fn func(doc string, words []string, ranks []uint32, sums []int64) error) error {
	var h []*source
	for _, s := range m.srcs {
		ok, err := s.next(s)
		if err != nil {
			return err
		}
		if ok {
			h = append(h, s)
		}
	}
	down := func(i int) {
		for {
			l := 2*i + 1
			if l >= len(h) {
				return
			}
			if r := l + 1; r < len(h) && h[r].doc < h[l].doc {
				l = r
			}
			if h[l].doc >= h[i].doc {
				return
			}
			h[i], h[l] = h[l], h[i]
			i = l
		}
	}
	for i := len(h)/2 - 1; i >= 0; i-- {
		down(i)
	}
	sums := make([]int64, len(m.words))
	seen := make([]uint64, (len(m.words)+63)/64) // a bit a rank
	var touched []uint32
	for len(h) > 0 {
		doc := h[0].doc
		touched = touched[:0]
		lo, hi := uint32(len(m.words)), uint32(0)
		for len(h) > 0 && h[0].doc == doc {
			s := h[0]
			rank := s.rank
			for _, p := range s.pairs {
				r := rank[uint32(p.key)]
				if w, b := r>>6, uint64(1)<<(r&63); seen[w]&b == 0 {
					seen[w] |= b
					touched = append(touched, r)
					lo, hi = min(lo, r), max(hi, r)
				}
				sums[r] += p.n
			}
			ok, err := s.next(s)
			if err != nil {
				return err
			}
			if !ok {
				h[0] = h[len(h)-1]
				h = h[:len(h)-1]
			}
			down(0)
		}
		touched = inOrder(touched, seen, lo, hi)
		if err := fn(doc, m.words, touched, sums); err != nil {
			return err
		}
		for _, r := range touched {
			sums[r] = 0
		}
	}
	return nil
}

// inOrder sorts the ranks touched, whose bits are set in seen between lo
// and hi, and clears their bits: it reads them off the bits in order when
// there are few words of bits to read for each rank (a document's words
// are most often a good part of a day's), else sorts them.
func inOrder(touched []uint32, seen []uint64, lo, hi uint32) []uint32 {
	if len(touched) == 0 {
		return touched
	}
	if int(hi>>6-lo>>6) > 8*len(touched) {
		slices.Sort(touched)
		for _, r := range touched {
			seen[r>>6] &^= 1 << (r & 63)
		}
		return touched
	}
	touched = touched[:0]
	for w := lo >> 6; w <= hi>>6; w++ {
		for b := seen[w]; b != 0; b &= b - 1 {
			touched = append(touched, w<<6|uint32(bits.TrailingZeros64(b)))
		}
		seen[w] = 0
	}
	return touched
}

// ranks returns each string's rank in sorted order, and the strings in
// that order.
func ranks(list []string) ([]uint32, []string) {
	idx := make([]uint32, len(list))
	for i := range idx {
		idx[i] = uint32(i)
	}
	slices.SortFunc(idx, func(a, b uint32) int { return strings.Compare(list[a], list[b]) })
	r := make([]uint32, len(list))
	sorted := make([]string, len(list))
	for rank, id := range idx {
		r[id] = uint32(rank)
		sorted[rank] = list[id]
	}
	return r, sorted
}

// scratch is a counter's file of spilled runs, written one after another.
type scratch struct {
	f       *os.File
	w       *bufio.Writer
	owner   *Counter
	size    int64
	payload []byte
}

// span is a run in a scratch file.
type span struct {
	f                 *os.File
	off, size         int64
	words, docs, rows int
}

// runWriter writes a run.
type runWriter struct {
	s       *scratch
	sp      span
	lastDoc string
	head    []byte
}

// begin starts a run of the given words (by index): their number, then
// each one's length and bytes.
func (s *scratch) begin(words []string) (*runWriter, error) {
	if s.w == nil {
		s.w = bufio.NewWriterSize(nil, 1<<20)
	}
	s.w.Reset(io.NewOffsetWriter(s.f, s.size))
	rw := &runWriter{s: s, sp: span{f: s.f, off: s.size, words: len(words)}}
	b := binary.AppendUvarint(nil, uint64(len(words)))
	for _, w := range words {
		b = binary.AppendUvarint(b, uint64(len(w)))
		b = append(b, w...)
		if len(b) > 64<<10 {
			if err := rw.write(b); err != nil {
				return nil, err
			}
			b = b[:0]
		}
	}
	return rw, rw.write(b)
}

func (rw *runWriter) write(b []byte) error {
	rw.sp.size += int64(len(b))
	_, err := rw.s.w.Write(b)
	return err
}

// block writes a document's pairs, entries of them in payload: the
// document's name as the length of the prefix it shares with the last
// one's and the rest, the number of pairs and the payload's length
// (varints), then the payload.
func (rw *runWriter) block(doc string, entries int, payload []byte) error {
	b := appendShared(rw.head[:0], rw.lastDoc, doc)
	b = binary.AppendUvarint(b, uint64(entries))
	b = binary.AppendUvarint(b, uint64(len(payload)))
	rw.head = b
	rw.lastDoc = doc
	rw.sp.docs++
	rw.sp.rows += entries
	if err := rw.write(b); err != nil {
		return err
	}
	return rw.write(payload)
}

func (rw *runWriter) end() (span, error) {
	if err := rw.s.w.Flush(); err != nil {
		return span{}, err
	}
	rw.s.size += rw.sp.size
	return rw.sp, nil
}

// appendEntry appends a pair of a block's payload: its word index as the
// difference from the last one's (0 before the first), and its count.
func appendEntry(b []byte, delta uint32, n int64) []byte {
	if delta < 0x80 && n >= 0 && n < 0x40 { // the most common: one byte each
		return append(b, byte(delta), byte(n<<1))
	}
	b = binary.AppendUvarint(b, uint64(delta))
	return binary.AppendVarint(b, n)
}

// writeMem writes a run held in memory.
func (s *scratch) writeMem(r *memRun) (span, error) {
	r.index()
	rw, err := s.begin(r.words)
	if err != nil {
		return span{}, err
	}
	for _, d := range r.order {
		ps := r.pairs[r.start[d]:r.start[d+1]]
		if len(ps) == 0 {
			continue
		}
		b, last := s.payload[:0], uint32(0)
		for _, p := range ps {
			w := uint32(p.key)
			b = appendEntry(b, w-last, p.n)
			last = w
		}
		s.payload = b
		if err := rw.block(r.docs[d], len(ps), b); err != nil {
			return span{}, err
		}
	}
	return rw.end()
}

// writeMerged writes the merge of srcs as one run.
func (s *scratch) writeMerged(srcs []*source) (span, error) {
	m := newMerger(srcs)
	rw, err := s.begin(m.words)
	if err != nil {
		return span{}, err
	}
	err = m.run(func(doc string, _ []string, ranks []uint32, sums []int64) error {
		b, last := s.payload[:0], uint32(0)
		for _, r := range ranks {
			b = appendEntry(b, r-last, sums[r])
			last = r
		}
		s.payload = b
		return rw.block(doc, len(ranks), b)
	})
	if err != nil {
		return span{}, err
	}
	return rw.end()
}

func appendShared(b []byte, last, s string) []byte {
	p := 0
	for p < len(last) && p < len(s) && last[p] == s[p] {
		p++
	}
	b = binary.AppendUvarint(b, uint64(p))
	b = binary.AppendUvarint(b, uint64(len(s)-p))
	return append(b, s[p:]...)
}

// errCorrupt says that a run read back is not what was written.
var errCorrupt = errors.New("scratch run corrupt")

// source returns a merge source reading the run, whose words it reads at
// once.
func (sp span) source() (*source, error) {
	r := bufio.NewReaderSize(io.NewSectionReader(sp.f, sp.off, sp.size), 64<<10)
	n, err := binary.ReadUvarint(r)
	if err != nil {
		return nil, err
	}
	if n != uint64(sp.words) {
		return nil, errCorrupt
	}
	words := make([]string, n)
	var buf []byte
	for i := range words {
		l, err := binary.ReadUvarint(r)
		if err != nil {
			return nil, err
		}
		if l > 1<<20 {
			return nil, errCorrupt
		}
		buf = slices.Grow(buf[:0], int(l))[:l]
		if _, err := io.ReadFull(r, buf); err != nil {
			return nil, err
		}
		words[i] = string(buf)
	}
	var doc, payload []byte
	var pairs []pair
	left, rows := sp.docs, 0
	next := func(s *source) (bool, error) {
		if left == 0 {
			if rows != sp.rows {
				return false, errCorrupt
			}
			return false, nil
		}
		left--
		shared, err := binary.ReadUvarint(r)
		if err != nil {
			return false, err
		}
		rest, err := binary.ReadUvarint(r)
		if err != nil {
			return false, err
		}
		if shared > uint64(len(doc)) || rest > 1<<30 {
			return false, errCorrupt
		}
		doc = slices.Grow(doc[:shared], int(rest))[:shared+rest]
		if _, err := io.ReadFull(r, doc[shared:]); err != nil {
			return false, err
		}
		m, err := binary.ReadUvarint(r)
		if err != nil {
			return false, err
		}
		size, err := binary.ReadUvarint(r)
		if err != nil {
			return false, err
		}
		if m == 0 || size > 1<<31 || 2*m > size {
			return false, errCorrupt
		}
		payload = slices.Grow(payload[:0], int(size))[:size]
		if _, err := io.ReadFull(r, payload); err != nil {
			return false, err
		}
		pairs = slices.Grow(pairs[:0], int(m))[:m]
		w, at := uint64(0), 0
		for i := range pairs {
			d, k := binary.Uvarint(payload[at:])
			if k <= 0 {
				return false, errCorrupt
			}
			at += k
			if d >= uint64(len(words)) {
				return false, errCorrupt
			}
			n, k := binary.Varint(payload[at:])
			if k <= 0 {
				return false, errCorrupt
			}
			at += k
			if w += d; w >= uint64(len(words)) {
				return false, errCorrupt
			}
			pairs[i] = pair{w, n}
		}
		if at != len(payload) {
			return false, errCorrupt
		}
		rows += int(m)
		s.doc, s.pairs = string(doc), pairs
		return true, nil
	}
	return &source{words: words, next: func(s *source) (bool, error) {
		ok, err := next(s)
		if err != nil {
			return false, fmt.Errorf("reading back counts: %w", err)
		}
		return ok, nil
	}}, nil
}
