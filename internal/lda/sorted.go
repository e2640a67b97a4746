package lda

import (
	"errors"
	"math"
	"slices"
	"strings"

	"github.com/spot-hunt/spot/internal/hugepage"
)

// ErrUnsorted is returned by SortedBuilder.Add for a triple that does not
// come after the last one.
var ErrUnsorted = errors.New("lda: (document, word) pairs out of order")

// SortedBuilder builds a Corpus from (document, word, count) triples that
// come in order, by document then word, each pair once: merged count
// tables give them so. It holds the corpus alone, 12 bytes a pair besides
// the documents' and words' names, where Builder indexes every pair as
// well; the Corpus is the one Builder makes of the same triples.
type SortedBuilder struct {
	c        Corpus
	words    map[string]int32 // provisional index, in order of first use
	wordList []string
	lastDoc  string
	lastWord string
	started  bool
	skipped  int
}

// NewSortedBuilder returns an empty SortedBuilder.
func NewSortedBuilder() *SortedBuilder {
	return &SortedBuilder{words: map[string]int32{}}
}

// Grow makes room for n more pairs, so that a builder told how many pairs
// to expect (the rows of the count tables it merges) does not grow its
// arrays by doubling: copies and twice the memory.
//
// The arrays it makes are filled in huge pages where the system gives them
// on request (hugepage.Make): a page fault per 4 KB of them was a tenth of
// spot train's CPU on the bench machine.
func (b *SortedBuilder) Grow(n int) {
	b.c.Word = grow(b.c.Word, n)
	b.c.Count = grow(b.c.Count, n)
}

// grow is slices.Grow, with a new array in huge pages and left unzeroed
// (slices.Grow clears the room it adds, touching every page first).
func grow[T any](s []T, n int) []T {
	if n <= cap(s)-len(s) {
		return s
	}
	return append(hugepage.Make[T](len(s)+n), s...)
}

// Skipped counts the triples Add ignored because their count was not finite
// and positive.
func (b *SortedBuilder) Skipped() int { return b.skipped }

// Add adds count occurrences of word in doc; it returns ErrUnsorted, and
// adds nothing, when (doc, word) does not come after the pair added last.
// It keeps clones of doc and word, never them: they may point into a
// reader's buffer.
func (b *SortedBuilder) Add(doc, word string, count float64) error {
	newDoc := !b.started
	if b.started { // one comparison of the documents, not three
		switch c := strings.Compare(doc, b.lastDoc); {
		case c < 0, c == 0 && word <= b.lastWord:
			return ErrUnsorted
		case c > 0:
			newDoc = true
		}
	}
	if !(count > 0) || math.IsInf(count, 0) {
		b.skipped++
		return nil
	}
	if newDoc {
		b.lastDoc = strings.Clone(doc) // not a slice of a reader's buffer
		b.c.Docs = append(b.c.Docs, b.lastDoc)
		b.c.Ptr = append(b.c.Ptr, len(b.c.Word))
	}
	w, ok := b.words[word]
	if !ok {
		word = strings.Clone(word)
		w = int32(len(b.wordList))
		b.words[word] = w
		b.wordList = append(b.wordList, word)
	}
	b.c.Word = append(b.c.Word, w)
	b.c.Count = append(b.c.Count, count)
	b.lastWord, b.started = b.wordList[w], true
	return nil
}

// Build returns the corpus; Add must not be called after it.
func (b *SortedBuilder) Build() *Corpus {
	c := b.c
	c.Ptr = append(c.Ptr, len(c.Word))
	// Words get their rank in sorted order; within a document they came
	// sorted, so their ranks increase too.
	order := make([]int32, len(b.wordList))
	for i := range order {
		order[i] = int32(i)
	}
	slices.SortFunc(order, func(x, y int32) int { return strings.Compare(b.wordList[x], b.wordList[y]) })
	rank := make([]int32, len(order))
	c.Words = make([]string, len(order))
	for r, id := range order {
		rank[id] = int32(r)
		c.Words[r] = b.wordList[id]
	}
	for i, w := range c.Word {
		c.Word[i] = rank[w]
	}
	b.c, b.words, b.wordList = Corpus{}, nil, nil
	return &c
}
