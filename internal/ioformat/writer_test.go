package ioformat

import (
	"bytes"
	"math/rand/v2"
	"testing"
)

// TestAsyncWriterSplitsWrites writes pieces smaller and larger than
// asyncBuffer: they arrive whole and in order, and no buffer outgrows
// asyncBuffer.
func TestAsyncWriterSplitsWrites(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	var got, want bytes.Buffer
	a := newAsyncWriter(&got)
	for _, n := range []int{0, 1, asyncBuffer - 1, asyncBuffer, asyncBuffer + 1, 3*asyncBuffer + 17, 100, 5 * asyncBuffer} {
		p := make([]byte, n)
		for i := range p {
			p[i] = byte(rng.Uint32())
		}
		want.Write(p)
		if k, err := a.Write(p); k != n || err != nil {
			t.Fatalf("Write of %d bytes: %d, %v", n, k, err)
		}
	}
	if err := a.sync(); err != nil {
		t.Fatal(err)
	}
	a.stop()
	if !bytes.Equal(got.Bytes(), want.Bytes()) {
		t.Fatalf("wrote %d bytes, want %d (or the bytes differ)", got.Len(), want.Len())
	}
	for range cap(a.free) {
		if b := <-a.free; cap(b) > asyncBuffer {
			t.Errorf("a buffer of %d bytes, want at most %d", cap(b), asyncBuffer)
		}
	}
}
