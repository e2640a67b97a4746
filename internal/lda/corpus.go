package lda

import (
	"cmp"
	"fmt"
	"math"
	"slices"
)

// Corpus is a document×word count matrix, compressed by document (CSR).
// Docs and Words are sorted and distinct; the entries of document d are
// Word[Ptr[d]:Ptr[d+1]] (increasing word indexes) with counts
// Count[Ptr[d]:Ptr[d+1]] (finite, > 0).
type Corpus struct {
	Docs  []string
	Words []string
	Ptr   []int     // len(Docs)+1
	Word  []int32   // word index of each entry
	Count []float64 // count of each entry
}

// Entries is the number of distinct (document, word) pairs.
func (c *Corpus) Entries() int { return len(c.Word) }

// Tokens is the sum of all counts.
func (c *Corpus) Tokens() float64 {
	t := 0.0
	for _, x := range c.Count {
		t += x
	}
	return t
}

// Validate checks the invariants documented on Corpus.
func (c *Corpus) Validate() error {
	if len(c.Ptr) != len(c.Docs)+1 {
		return fmt.Errorf("lda: corpus has %d documents but %d row pointers", len(c.Docs), len(c.Ptr))
	}
	if len(c.Word) != len(c.Count) {
		return fmt.Errorf("lda: corpus has %d word indexes but %d counts", len(c.Word), len(c.Count))
	}
	if c.Ptr[0] != 0 || c.Ptr[len(c.Docs)] != len(c.Word) {
		return fmt.Errorf("lda: corpus row pointers do not span the %d entries", len(c.Word))
	}
	for i := 1; i < len(c.Docs); i++ {
		if c.Docs[i-1] >= c.Docs[i] {
			return fmt.Errorf("lda: corpus documents not sorted and distinct at %q", c.Docs[i])
		}
	}
	for i := 1; i < len(c.Words); i++ {
		if c.Words[i-1] >= c.Words[i] {
			return fmt.Errorf("lda: corpus words not sorted and distinct at %q", c.Words[i])
		}
	}
	if len(c.Words) > math.MaxInt32 {
		return fmt.Errorf("lda: %d words is too many", len(c.Words))
	}
	for d := range c.Docs {
		lo, hi := c.Ptr[d], c.Ptr[d+1]
		if lo > hi {
			return fmt.Errorf("lda: corpus row pointers decrease at document %q", c.Docs[d])
		}
		prev := int32(-1)
		for j := lo; j < hi; j++ {
			w := c.Word[j]
			if w <= prev || int(w) >= len(c.Words) {
				return fmt.Errorf("lda: document %q: word index %d out of order or range", c.Docs[d], w)
			}
			prev = w
			if x := c.Count[j]; !(x > 0) || math.IsInf(x, 0) {
				return fmt.Errorf("lda: document %q, word %q: count %v is not finite and positive", c.Docs[d], c.Words[w], x)
			}
		}
	}
	return nil
}

// Builder accumulates (document, word, count) triples in any order, from any
// number of shards. Build returns the same Corpus whatever the order of the
// calls to Add: integer counts are summed exactly, and an entry that
// received a non-integer count has its parts summed in sorted order.
type Builder struct {
	docs    map[string]int32
	words   map[string]int32
	docList []string
	wordLst []string
	index   map[uint64]int32 // doc<<32|word -> entry
	entries []bentry
	parts   map[int32][]float64 // entries with non-integer parts
	skipped int
}

type bentry struct {
	doc, word int32
	sum       float64
}

// NewBuilder returns an empty Builder.
func NewBuilder() *Builder {
	return &Builder{
		docs:  make(map[string]int32),
		words: make(map[string]int32),
		index: make(map[uint64]int32),
		parts: make(map[int32][]float64),
	}
}

// Skipped counts the triples Add ignored because their count was not finite
// and positive.
func (b *Builder) Skipped() int { return b.skipped }

// Add adds count occurrences of word in doc. Counts that are not finite and
// positive are ignored (and counted by Skipped).
func (b *Builder) Add(doc, word string, count float64) {
	if !(count > 0) || math.IsInf(count, 0) {
		b.skipped++
		return
	}
	d, ok := b.docs[doc]
	if !ok {
		d = int32(len(b.docList))
		b.docs[doc] = d
		b.docList = append(b.docList, doc)
	}
	w, ok := b.words[word]
	if !ok {
		w = int32(len(b.wordLst))
		b.words[word] = w
		b.wordLst = append(b.wordLst, word)
	}
	key := uint64(d)<<32 | uint64(uint32(w))
	e, ok := b.index[key]
	if !ok {
		e = int32(len(b.entries))
		b.index[key] = e
		b.entries = append(b.entries, bentry{doc: d, word: w})
	}
	if count == math.Trunc(count) && count < 1<<52 {
		b.entries[e].sum += count // exact while the sum stays below 2^53
		return
	}
	b.parts[e] = append(b.parts[e], count)
}

// Build returns the corpus of everything added so far.
func (b *Builder) Build() *Corpus {
	docs := slices.Clone(b.docList)
	slices.Sort(docs)
	words := slices.Clone(b.wordLst)
	slices.Sort(words)
	docRank := make([]int32, len(b.docList))
	for i, name := range docs {
		docRank[b.docs[name]] = int32(i)
	}
	wordRank := make([]int32, len(b.wordLst))
	for i, name := range words {
		wordRank[b.words[name]] = int32(i)
	}
	type ent struct {
		doc, word int32
		count     float64
	}
	es := make([]ent, len(b.entries))
	for i, e := range b.entries {
		sum := e.sum
		if ps, ok := b.parts[int32(i)]; ok {
			ps = slices.Clone(ps)
			slices.Sort(ps)
			for _, p := range ps {
				sum += p
			}
		}
		es[i] = ent{docRank[e.doc], wordRank[e.word], sum}
	}
	slices.SortFunc(es, func(x, y ent) int {
		if c := cmp.Compare(x.doc, y.doc); c != 0 {
			return c
		}
		return cmp.Compare(x.word, y.word)
	})
	c := &Corpus{
		Docs:  docs,
		Words: words,
		Ptr:   make([]int, len(docs)+1),
		Word:  make([]int32, len(es)),
		Count: make([]float64, len(es)),
	}
	for i, e := range es {
		c.Ptr[e.doc+1]++
		c.Word[i] = e.word
		c.Count[i] = e.count
	}
	for d := range docs {
		c.Ptr[d+1] += c.Ptr[d]
	}
	return c
}
