package cli

import (
	"runtime"
	"sync"
	"testing"
	"time"

	"github.com/spot-hunt/spot/internal/record"
)

// slowWriter records what it is given; until released, it holds each
// Write, as an output slower than its decoder does.
type slowWriter struct {
	mu   sync.Mutex
	got  []int64
	hold chan struct{}
}

func (w *slowWriter) Write(recs []record.Flow) error {
	if w.hold != nil {
		<-w.hold
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	for _, r := range recs {
		w.got = append(w.got, r.EID)
	}
	return nil
}

func (w *slowWriter) Close() error { return nil }
func (w *slowWriter) Abort()       {}

// TestAsyncWriterBatches: a decoder slower than its output (flows from
// packets) goes on with the first batches made, and one faster (NetFlow)
// gets up to asyncBatches, never more; records come out in order either
// way.
func TestAsyncWriterBatches(t *testing.T) {
	batch := func(from, n int) []record.Flow {
		b := make([]record.Flow, n)
		for i := range b {
			b[i].EID = int64(from + i)
		}
		return b
	}
	check := func(t *testing.T, w *slowWriter, n int) {
		t.Helper()
		if len(w.got) != n {
			t.Fatalf("wrote %d records, want %d", len(w.got), n)
		}
		for i, eid := range w.got {
			if eid != int64(i) {
				t.Fatalf("record %d is %d: out of order", i, eid)
			}
		}
	}

	t.Run("slow decoder", func(t *testing.T) {
		w := &slowWriter{}
		a := newAsyncWriter(w)
		recs := batch(0, 10)
		for i := range 100 {
			next, err := a.Handoff(recs)
			if err != nil {
				t.Fatal(err)
			}
			// Wait for the writer, as a decoder that needs 16 packets
			// a record does.
			for len(a.free) == 0 {
				runtime.Gosched()
			}
			recs = append(next, batch(10*(i+1), 10)...)
		}
		if err := a.Write(recs); err != nil {
			t.Fatal(err)
		}
		if err := a.Close(); err != nil {
			t.Fatal(err)
		}
		check(t, w, 1010)
		if a.made > 2 {
			t.Errorf("%d batches made for a decoder slower than its writer, want at most 2", a.made)
		}
	})

	t.Run("fast decoder", func(t *testing.T) {
		w := &slowWriter{hold: make(chan struct{})}
		a := newAsyncWriter(w)
		done := make(chan error, 1)
		go func() {
			recs := batch(0, 10)
			for i := range 3 * asyncBatches {
				next, err := a.Handoff(recs)
				if err != nil {
					done <- err
					return
				}
				recs = append(next, batch(10*(i+1), 10)...)
			}
			done <- a.Write(recs)
		}()
		// Once the writer holds one batch and asyncBatches-1 wait for
		// it, the decoder waits too: that many were made.
		for deadline := time.Now().Add(10 * time.Second); len(a.work) < cap(a.work); runtime.Gosched() {
			if time.Now().After(deadline) {
				t.Fatalf("the decoder waits with %d batches queued, made %d: want %d", len(a.work), a.made, asyncBatches)
			}
		}
		for range 3*asyncBatches + 1 {
			w.hold <- struct{}{}
		}
		if err := <-done; err != nil {
			t.Fatal(err)
		}
		if err := a.Close(); err != nil {
			t.Fatal(err)
		}
		check(t, w, 10*(3*asyncBatches+1))
		if a.made != asyncBatches {
			t.Errorf("%d batches made for a decoder faster than its writer, want %d", a.made, asyncBatches)
		}
	})
}
