// Package filter keeps the records that matter: a score threshold (Apache
// Spot's --threshold) and the N lowest scores (Spot's --maxresults), exact,
// deterministic on ties and streaming with memory O(N).
package filter

import "container/heap"

// Key orders records: lower score first, ties broken by event id, then by
// position in the input (so equal records keep their input order).
type Key struct {
	Score float64
	EID   int64
	Seq   int64
}

// Less reports whether a sorts before b.
func (a Key) Less(b Key) bool {
	if a.Score != b.Score {
		return a.Score < b.Score
	}
	if a.EID != b.EID {
		return a.EID < b.EID
	}
	return a.Seq < b.Seq
}

type item[T any] struct {
	key Key
	rec T
}

// maxHeap keeps the greatest key on top, so the worst of the N kept is
// evicted first.
type maxHeap[T any] []item[T]

func (h maxHeap[T]) Len() int           { return len(h) }
func (h maxHeap[T]) Less(i, j int) bool { return h[j].key.Less(h[i].key) }
func (h maxHeap[T]) Swap(i, j int)      { h[i], h[j] = h[j], h[i] }
func (h *maxHeap[T]) Push(x any)        { *h = append(*h, x.(item[T])) }
func (h *maxHeap[T]) Pop() any {
	old := *h
	x := old[len(old)-1]
	*h = old[:len(old)-1]
	return x
}

// TopN keeps the N records with the lowest keys. Offer is O(log N); memory
// is N records. The result is the same whatever order records are offered
// in, as long as keys are unique (Seq makes them so within one stream).
type TopN[T any] struct {
	n int
	h maxHeap[T]
}

// NewTopN returns a TopN keeping n records.
func NewTopN[T any](n int) *TopN[T] { return &TopN[T]{n: n} }

// Offer considers rec with key k.
func (t *TopN[T]) Offer(k Key, rec T) {
	if t.n <= 0 {
		return
	}
	if len(t.h) < t.n {
		heap.Push(&t.h, item[T]{k, rec})
		return
	}
	if k.Less(t.h[0].key) {
		t.h[0] = item[T]{k, rec}
		heap.Fix(&t.h, 0)
	}
}

// Wants reports whether a record with key k would be kept now (a cheap
// test before copying a record).
func (t *TopN[T]) Wants(k Key) bool {
	return t.n > 0 && (len(t.h) < t.n || k.Less(t.h[0].key))
}

// Entry is a record TopN keeps, with its key.
type Entry[T any] struct {
	Key Key
	Rec T
}

// Entries returns the kept records with their keys, in no order: the
// entries of several TopNs offered to one give the top N of them all.
func (t *TopN[T]) Entries() []Entry[T] {
	out := make([]Entry[T], len(t.h))
	for i, it := range t.h {
		out[i] = Entry[T]{it.key, it.rec}
	}
	return out
}

// Sorted returns the kept records, lowest key first, and empties t.
func (t *TopN[T]) Sorted() []T {
	out := make([]T, len(t.h))
	for i := len(t.h) - 1; i >= 0; i-- {
		out[i] = heap.Pop(&t.h).(item[T]).rec
	}
	return out
}
