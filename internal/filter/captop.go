package filter

import "container/heap"

// CappedTopN keeps the N records with the lowest keys when at most Per of
// them may share a subject (a host, a finding): what taking the records
// lowest key first, passing over those whose subject already has Per,
// until N are taken, would keep. Offer is O(log N + Per); memory is N
// records, whatever the number of subjects.
//
// It is exact in one pass because a record only ever displaces another of
// its own subject (that subject's worst) or the worst of all: a record
// passed over for its subject stays worse than that subject's kept ones,
// and one passed over for N stays worse than the N kept.
type CappedTopN[T any] struct {
	n, per int
	h      cappedHeap[T]
	by     map[string][]*capped[T] // each subject's kept records
}

type capped[T any] struct {
	key     Key
	subject string
	rec     T
	at      int // index in the heap
}

// cappedHeap is a max-heap (the worst kept on top) that knows where its
// items are, so that any can be removed.
type cappedHeap[T any] []*capped[T]

func (h cappedHeap[T]) Len() int           { return len(h) }
func (h cappedHeap[T]) Less(i, j int) bool { return h[j].key.Less(h[i].key) }
func (h cappedHeap[T]) Swap(i, j int) {
	h[i], h[j] = h[j], h[i]
	h[i].at, h[j].at = i, j
}
func (h *cappedHeap[T]) Push(x any) {
	c := x.(*capped[T])
	c.at = len(*h)
	*h = append(*h, c)
}
func (h *cappedHeap[T]) Pop() any {
	old := *h
	x := old[len(old)-1]
	*h = old[:len(old)-1]
	return x
}

// NewCappedTopN returns a CappedTopN keeping n records, at most per (> 0)
// of a subject.
func NewCappedTopN[T any](n, per int) *CappedTopN[T] {
	return &CappedTopN[T]{n: n, per: max(per, 1), by: map[string][]*capped[T]{}}
}

// displaced returns the record a record with key k of subject would
// displace (nil: none), and whether it would be kept at all.
func (t *CappedTopN[T]) displaced(k Key, subject string) (*capped[T], bool) {
	if t.n <= 0 {
		return nil, false
	}
	if same := t.by[subject]; len(same) >= t.per {
		w := same[0]
		for _, c := range same[1:] {
			if w.key.Less(c.key) {
				w = c
			}
		}
		return w, k.Less(w.key)
	}
	if len(t.h) < t.n {
		return nil, true
	}
	return t.h[0], k.Less(t.h[0].key)
}

// MayWant reports whether a record with key k could be kept now, whatever
// its subject: a cheap test before finding the subject.
func (t *CappedTopN[T]) MayWant(k Key) bool {
	return t.n > 0 && (len(t.h) < t.n || k.Less(t.h[0].key))
}

// Wants reports whether a record with key k of subject would be kept now.
func (t *CappedTopN[T]) Wants(k Key, subject string) bool {
	_, ok := t.displaced(k, subject)
	return ok
}

// Offer considers rec, of subject, with key k.
func (t *CappedTopN[T]) Offer(k Key, subject string, rec T) {
	out, ok := t.displaced(k, subject)
	if !ok {
		return
	}
	if out != nil {
		heap.Remove(&t.h, out.at)
		same := t.by[out.subject]
		for i, c := range same {
			if c == out {
				same = append(same[:i], same[i+1:]...)
				break
			}
		}
		if len(same) == 0 {
			delete(t.by, out.subject)
		} else {
			t.by[out.subject] = same
		}
	}
	c := &capped[T]{key: k, subject: subject, rec: rec}
	heap.Push(&t.h, c)
	t.by[subject] = append(t.by[subject], c)
}

// Sorted returns the kept records, lowest key first, and empties t.
func (t *CappedTopN[T]) Sorted() []T {
	out := make([]T, len(t.h))
	for i := len(t.h) - 1; i >= 0; i-- {
		out[i] = heap.Pop(&t.h).(*capped[T]).rec
	}
	clear(t.by)
	return out
}
