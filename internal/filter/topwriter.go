package filter

import (
	"fmt"
	"reflect"
	"unsafe"

	"github.com/spot-hunt/spot/internal/ioformat"
)

// TopWriter keeps the n records written to it with the lowest keys (score,
// then eid, then the order they were written in: Key) and writes them,
// lowest first, to its writer when closed: what filter --top n keeps of
// the stream. Memory is n records.
type TopWriter[T any] struct {
	w        ioformat.Writer[T]
	top      *TopN[T]
	scoreOff uintptr
	eidOff   uintptr
	hasEID   bool
	seq      int64
}

// NewTopWriter returns a TopWriter keeping n records of type T, which must
// have a score column, for w.
func NewTopWriter[T any](w ioformat.Writer[T], n int) (*TopWriter[T], error) {
	t := reflect.TypeFor[T]()
	off, kind, ok := ColumnOffset(t, "score")
	if !ok || kind != reflect.Float64 {
		return nil, fmt.Errorf("filter: %s records have no score to keep the top of", t.Name())
	}
	tw := &TopWriter[T]{w: w, top: NewTopN[T](n), scoreOff: off}
	if off, kind, ok := ColumnOffset(t, "eid"); ok && kind == reflect.Int64 {
		tw.eidOff, tw.hasEID = off, true
	}
	return tw, nil
}

// Write offers recs.
func (t *TopWriter[T]) Write(recs []T) error {
	for i := range recs {
		p := unsafe.Pointer(&recs[i])
		t.seq++
		k := Key{Score: *(*float64)(unsafe.Add(p, t.scoreOff)), Seq: t.seq}
		if t.hasEID {
			k.EID = *(*int64)(unsafe.Add(p, t.eidOff))
		}
		if t.top.Wants(k) {
			t.top.Offer(k, recs[i])
		}
	}
	return nil
}

// Close writes the records kept and closes the writer.
func (t *TopWriter[T]) Close() error {
	if recs := t.top.Sorted(); len(recs) > 0 {
		if err := t.w.Write(recs); err != nil {
			t.w.Abort()
			return err
		}
	}
	return t.w.Close()
}

// Abort abandons the output.
func (t *TopWriter[T]) Abort() { t.w.Abort() }
