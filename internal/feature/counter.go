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
// words are interned, and each pair added is appended to a buffer as the
// two indexes and its count; when the buffer fills, it is sorted (radix)
// and the counts of equal pairs summed, which costs a hash table's work
// without its cache misses (most pairs of a day's flows are new: their
// words hold the hour and the byte and packet sizes). Past its limit of
// distinct pairs held, the counter sorts them into a run in an unnamed
// scratch file and starts afresh (it spills); EachSorted merges the runs
// with what is held. A partition whose pairs seldom repeat thus costs
// disk, not memory.
//
// Add spills by itself. The ID methods (DocID, WordID, AddID) do not, as
// the indexes they hand out last only until the next spill: their caller
// asks Full between batches and then calls Spill.
type Counter struct {
	docs, words       map[string]uint32
	docList, wordList []string
	buf               []pair    // pairs added, the first sorted of them distinct and sorted
	sorted            int       // distinct pairs sorted at the front of buf
	flushAt           int       // length of buf at which it is sorted again
	tmp               []pair    // the radix sort's other buffer
	limit             int       // pairs held before a spill; 0: no limit
	mem               []*memRun // sorted runs held (absorbed counters)
	memPairs          int       // pairs in mem
	disk              []span    // spilled runs
	files             []*scratch
	err               error // the first failed spill
}

// NewCounter returns an empty counter holding up to CountLimit pairs in
// memory.
func NewCounter() *Counter { return NewCounterLimit(CountLimit) }

// NewCounterLimit returns an empty counter holding up to limit pairs in
// memory (0: no limit).
func NewCounterLimit(limit int) *Counter {
	c := &Counter{docs: map[string]uint32{}, words: map[string]uint32{}, limit: max(limit, 0)}
	c.setFlush()
	return c
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
	if len(c.buf) == cap(c.buf) {
		// Room up to the next flush, once: growing by append's doubling
		// copies the buffer several times between flushes (a third of
		// the time of counting flows); making room for the most it may
		// hold (twice the limit) costs a small input that memory. Exactly
		// that room: slices.Grow would round up by append's rule (a
		// quarter more), past the limit's bound.
		nb := make([]pair, len(c.buf), c.flushAt)
		copy(nb, c.buf)
		c.buf = nb
	}
	c.buf = append(c.buf, pair{uint64(doc)<<32 | uint64(word), n})
	if len(c.buf) >= c.flushAt {
		c.flush()
	}
}

// minFlush is the least number of pairs buffered before they are sorted.
const minFlush = 64 << 10

// flush sorts the buffer and sums the counts of equal pairs: the distinct
// pairs, sorted, are then the buffer.
func (c *Counter) flush() {
	if c.sorted < len(c.buf) {
		var docBits, wordBits int
		docBits, wordBits = bits.Len(uint(len(c.docList))), bits.Len(uint(len(c.wordList)))
		c.buf, c.tmp = radixSort(c.buf, c.tmp, docBits, wordBits)
		c.buf = sumEqual(c.buf)
		c.sorted = len(c.buf)
	}
	c.setFlush()
}

// setFlush sets the next flush at twice the distinct pairs (so that each
// sorts at least as many new pairs as old ones), at least minFlush, at
// most twice the limit (unless the pairs are past it).
func (c *Counter) setFlush() {
	c.flushAt = max(minFlush, 2*len(c.buf))
	if c.limit > 0 { // past the limit (Spill not called yet), twice the pairs
		c.flushAt = min(c.flushAt, max(2*c.limit, 2*len(c.buf)))
	}
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
func (c *Counter) Full() bool { return c.limit > 0 && c.sorted+c.memPairs >= c.limit }

// Empty reports whether no pair was ever added.
func (c *Counter) Empty() bool { return len(c.buf) == 0 && len(c.mem) == 0 && len(c.disk) == 0 }

// Spills is the number of runs written to disk so far.
func (c *Counter) Spills() int { return len(c.disk) }

// Spill writes every pair held to a run on disk, sorted, and empties the
// memory: indexes from DocID and WordID are void after it.
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
	if srcs := c.held(); len(srcs) > 0 {
		f, err := c.scratch()
		if err != nil {
			return err
		}
		sp, err := f.writeRun(func(add func(doc, word string, n int64) error) error { return merge(srcs, add) })
		if err != nil {
			return err
		}
		c.disk = append(c.disk, sp)
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
	srcs := make([]*source, 0, len(c.disk))
	words := map[string]string{}
	for _, s := range c.disk {
		srcs = append(srcs, s.source(words))
	}
	f, err := atomicfile.Scratch("spot-counts-*")
	if err != nil {
		return err
	}
	s := &scratch{f: f, owner: c}
	sp, err := s.writeRun(func(add func(doc, word string, n int64) error) error { return merge(srcs, add) })
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

// held sorts the pairs of the map into a run and returns the runs held in
// memory as merge sources, leaving c's memory empty.
func (c *Counter) held() []*source {
	c.settle()
	var srcs []*source
	for _, r := range c.mem {
		srcs = append(srcs, r.source())
	}
	c.mem, c.memPairs = nil, 0
	return srcs
}

// Sort sorts the pairs c holds, which Absorb and EachSorted would do:
// workers whose counters one absorbs sort theirs in parallel.
func (c *Counter) Sort() { c.settle() }

// settle turns the buffer into a run held in memory, sorted by the
// documents' and words' names.
func (c *Counter) settle() {
	if len(c.buf) == 0 {
		return
	}
	c.flush()
	docRank, docs := ranks(c.docList)
	wordRank, words := ranks(c.wordList)
	for i := range c.buf {
		k := c.buf[i].key
		c.buf[i].key = uint64(docRank[k>>32])<<32 | uint64(wordRank[uint32(k)])
	}
	pairs, _ := radixSort(c.buf, c.tmp, bits.Len(uint(len(docs))), bits.Len(uint(len(words))))
	c.mem = append(c.mem, &memRun{docs: docs, words: words, pairs: pairs})
	c.memPairs += len(pairs)
	c.docs, c.words = map[string]uint32{}, map[string]uint32{}
	c.docList, c.wordList, c.buf, c.tmp, c.sorted = nil, nil, nil, nil, 0
	c.setFlush()
}

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

// Absorb moves the pairs of o into c (o's map sorted, its runs as they
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
// its count summed over the runs, until fn returns an error. It holds 16
// bytes a pair held besides the counter; c is read-only after it, but may
// be walked again.
func (c *Counter) EachSorted(fn func(record.Count) error) error {
	if c.err != nil {
		return c.err
	}
	c.settle()
	srcs := make([]*source, 0, len(c.mem)+len(c.disk))
	for _, r := range c.mem {
		srcs = append(srcs, r.source())
	}
	words := map[string]string{} // the spilled runs' words, made once
	for _, s := range c.disk {
		srcs = append(srcs, s.source(words))
	}
	return merge(srcs, func(doc, word string, n int64) error {
		return fn(record.Count{Doc: doc, Word: word, Count: n})
	})
}

// memRun is a sorted run held in memory.
type memRun struct {
	docs, words []string // by rank
	pairs       []pair   // keys of ranks, increasing
}

// pair is a pair counted: its document's and word's indexes (or ranks),
// and its count.
type pair struct {
	key uint64 // doc << 32 | word
	n   int64
}

// radixSort sorts ps by key through tmp (least significant digit first,
// 8 bits a pass), where keys are a doc index under 1<<docBits above bit 32
// and a word index under 1<<wordBits below; it returns the sorted slice
// and the other buffer. Passes whose digit is the same in every key are
// skipped.
func radixSort(ps, tmp []pair, docBits, wordBits int) (sorted, other []pair) {
	if len(ps) < 2 {
		return ps, tmp
	}
	if cap(tmp) < len(ps) {
		tmp = make([]pair, len(ps), cap(ps))
	}
	tmp = tmp[:len(ps)]
	wb := uint(wordBits)
	compact := func(k uint64) uint64 { return k>>32<<wb | k&(1<<32-1) }
	passes := (docBits + wordBits + 7) / 8
	var counts [8][256]int
	for _, p := range ps {
		k := compact(p.key)
		for d := range passes {
			counts[d][byte(k>>(8*d))]++
		}
	}
	src, dst := ps, tmp
	for d := range passes {
		c := &counts[d]
		if c[byte(compact(src[0].key)>>(8*d))] == len(src) {
			continue
		}
		var at [256]int
		sum := 0
		for b, n := range c {
			at[b] = sum
			sum += n
		}
		shift := uint(8 * d)
		for _, p := range src {
			b := byte(compact(p.key) >> shift)
			dst[at[b]] = p
			at[b]++
		}
		src, dst = dst, src
	}
	return src, dst
}

// sumEqual sums the counts of adjacent pairs of one key, in place.
func sumEqual(ps []pair) []pair {
	w := 0
	for i := range ps {
		if w > 0 && ps[w-1].key == ps[i].key {
			ps[w-1].n += ps[i].n
			continue
		}
		ps[w] = ps[i]
		w++
	}
	return ps[:w]
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

func (r *memRun) source() *source {
	i := 0
	return &source{next: func(c *source) (bool, error) {
		if i == len(r.pairs) {
			return false, nil
		}
		p := r.pairs[i]
		c.doc, c.word, c.n = r.docs[p.key>>32], r.words[uint32(p.key)], p.n
		i++
		return true, nil
	}}
}

// scratch is a counter's file of spilled runs, written one after another.
type scratch struct {
	f     *os.File
	w     *bufio.Writer
	owner *Counter
	size  int64
}

// span is a run in a scratch file.
type span struct {
	f         *os.File
	off, size int64
	rows      int
}

// writeRun writes the rows each gives, in order, as a run: per row the
// document and the word, each as the length of the prefix it shares with
// the previous row's and the rest, then the count (varints).
func (s *scratch) writeRun(each func(add func(doc, word string, n int64) error) error) (span, error) {
	sp := span{f: s.f, off: s.size}
	if s.w == nil {
		s.w = bufio.NewWriterSize(nil, 1<<20)
	}
	w := s.w
	w.Reset(io.NewOffsetWriter(s.f, s.size))
	var b []byte
	var lastDoc, lastWord string
	err := each(func(doc, word string, n int64) error {
		b = b[:0]
		b = appendShared(b, lastDoc, doc)
		b = appendShared(b, lastWord, word)
		b = binary.AppendVarint(b, n)
		lastDoc, lastWord = doc, word
		sp.rows++
		sp.size += int64(len(b))
		_, err := w.Write(b)
		return err
	})
	if err == nil {
		err = w.Flush()
	}
	if err != nil {
		return span{}, err
	}
	s.size += sp.size
	return sp, nil
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

// source returns a merge source reading the run; words interns the words
// read (up to a million), so that a word repeated over many rows is one
// string.
func (sp span) source(words map[string]string) *source {
	r := bufio.NewReaderSize(io.NewSectionReader(sp.f, sp.off, sp.size), 64<<10)
	var doc, word []byte
	left := sp.rows
	read := func(buf []byte) ([]byte, bool, error) {
		shared, err := binary.ReadUvarint(r)
		if err != nil {
			return buf, false, err
		}
		rest, err := binary.ReadUvarint(r)
		if err != nil {
			return buf, false, err
		}
		if shared > uint64(len(buf)) || rest > 1<<30 {
			return buf, false, errCorrupt
		}
		buf = buf[:shared]
		if rest == 0 {
			return buf, false, nil
		}
		buf = slices.Grow(buf, int(rest))[:int(shared+rest)]
		_, err = io.ReadFull(r, buf[shared:])
		return buf, true, err
	}
	return &source{next: func(c *source) (bool, error) {
		if left == 0 {
			return false, nil
		}
		left--
		var changed bool
		var err error
		n0 := len(doc)
		if doc, changed, err = read(doc); err != nil {
			return false, fmt.Errorf("reading back counts: %w", err)
		}
		if changed || len(doc) != n0 {
			c.doc = string(doc)
		}
		n0 = len(word)
		if word, changed, err = read(word); err != nil {
			return false, fmt.Errorf("reading back counts: %w", err)
		}
		if changed || len(word) != n0 {
			w, ok := words[string(word)]
			if !ok {
				w = string(word)
				if len(words) < 1<<20 {
					words[w] = w
				}
			}
			c.word = w
		}
		if c.n, err = binary.ReadVarint(r); err != nil {
			return false, fmt.Errorf("reading back counts: %w", err)
		}
		return true, nil
	}}
}

// source is a merge source: its current row, and how to move to the next.
type source struct {
	doc, word string
	n         int64
	next      func(*source) (bool, error)
}

func less(a, b *source) bool {
	if a.doc != b.doc {
		return a.doc < b.doc
	}
	return a.word < b.word
}

// merge calls fn for every (doc, word) of the sorted sources, in order,
// once, with the sum of its counts.
func merge(srcs []*source, fn func(doc, word string, n int64) error) error {
	h := srcs[:0]
	for _, c := range srcs {
		ok, err := c.next(c)
		if err != nil {
			return err
		}
		if ok {
			h = append(h, c)
		}
	}
	down := func(i int) {
		for {
			l := 2*i + 1
			if l >= len(h) {
				return
			}
			if r := l + 1; r < len(h) && less(h[r], h[l]) {
				l = r
			}
			if !less(h[l], h[i]) {
				return
			}
			h[i], h[l] = h[l], h[i]
			i = l
		}
	}
	for i := len(h)/2 - 1; i >= 0; i-- {
		down(i)
	}
	for len(h) > 0 {
		top := h[0]
		doc, word, n := top.doc, top.word, int64(0)
		for len(h) > 0 && h[0].doc == doc && h[0].word == word {
			c := h[0]
			n += c.n
			ok, err := c.next(c)
			if err != nil {
				return err
			}
			if !ok {
				h[0] = h[len(h)-1]
				h = h[:len(h)-1]
			}
			down(0)
		}
		if err := fn(doc, word, n); err != nil {
			return err
		}
	}
	return nil
}
