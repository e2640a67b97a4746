package ioformat

import (
	"bytes"
	"errors"
	"io"
	"math/rand/v2"
	"sync/atomic"
	"testing"
	"time"
)

// shortReader returns its data in reads of random lengths, then err.
type shortReader struct {
	data []byte
	rng  *rand.Rand
	err  error
}

func (r *shortReader) Read(p []byte) (int, error) {
	if len(r.data) == 0 {
		return 0, r.err
	}
	n := min(len(p), len(r.data), 1+r.rng.IntN(100_000))
	copy(p, r.data[:n])
	r.data = r.data[n:]
	return n, nil
}

var errBroken = errors.New("disk on fire")

// startedReadAhead is a ReadAhead, started after its first n bytes were
// read, of 5 MiB of random bytes in reads of random lengths that end in
// errBroken: it returns the input and the n bytes read.
func startedReadAhead(t *testing.T, seed uint64, n int) (a *ReadAhead, data, head []byte) {
	rng := rand.New(rand.NewPCG(seed, seed))
	data = make([]byte, 5<<20)
	for i := range data {
		data[i] = byte(rng.Uint32())
	}
	a = NewReadAhead(&shortReader{data: data, rng: rng, err: errBroken})
	t.Cleanup(func() { a.Close() })
	head = make([]byte, n)
	if _, err := io.ReadFull(a, head); err != nil {
		t.Fatal(err)
	}
	a.Start()
	return a, data, head
}

// TestReadAhead: what is read before and after Start is the input, in
// order, and the input's error comes after its last byte.
func TestReadAhead(t *testing.T) {
	a, data, head := startedReadAhead(t, 3, 12345)
	rest, err := io.ReadAll(a)
	if !errors.Is(err, errBroken) {
		t.Errorf("error %v, want %v", err, errBroken)
	}
	if got := append(head, rest...); !bytes.Equal(got, data) {
		t.Errorf("read %d bytes, not the %d of the input", len(got), len(data))
	}
}

// TestReadAheadBlock: blocks taken after a Read, Reads mixed in, give the
// input's bytes in order, then its error.
func TestReadAheadBlock(t *testing.T) {
	a, data, got := startedReadAhead(t, 4, 777)
	small := make([]byte, 100)
	for i := 0; ; i++ {
		var b []byte
		var err error
		if i%5 == 4 { // a Read now and then
			var n int
			n, err = a.Read(small)
			b = small[:n]
		} else {
			b, err = a.Block()
		}
		if err != nil {
			if !errors.Is(err, errBroken) {
				t.Errorf("error %v, want %v", err, errBroken)
			}
			break
		}
		if len(b) == 0 {
			t.Fatal("empty block")
		}
		got = append(got, b...)
	}
	if !bytes.Equal(got, data) {
		t.Errorf("read %d bytes, not the %d of the input", len(got), len(data))
	}
}

// TestReadAheadLive: bytes from a pipe whose writer goes on are handed on
// as they come, not when a block is full.
func TestReadAheadLive(t *testing.T) {
	pr, pw := io.Pipe()
	a := NewReadAhead(pr)
	defer a.Close() // after the writer's end is closed: Close waits for the Read
	defer pw.Close()
	a.Start()
	go pw.Write([]byte("first frames"))
	got := make(chan string, 1)
	go func() {
		b := make([]byte, 100)
		n, _ := a.Read(b)
		got <- string(b[:n])
	}()
	select {
	case s := <-got:
		if s != "first frames" {
			t.Errorf("read %q", s)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the bytes written are held until more come")
	}
}

// slowReader is an endless input whose reads take a while; reading counts
// the reads under way.
type slowReader struct{ reading atomic.Int32 }

func (r *slowReader) Read(p []byte) (int, error) {
	r.reading.Add(1)
	defer r.reading.Add(-1)
	time.Sleep(20 * time.Millisecond)
	return len(p), nil
}

// TestReadAheadClose: once Close returns, no read of the input is under
// way, so the caller may close it.
func TestReadAheadClose(t *testing.T) {
	r := &slowReader{}
	a := NewReadAhead(r)
	a.Start()
	a.Read(make([]byte, 10))
	a.Close()
	if n := r.reading.Load(); n != 0 {
		t.Errorf("%d reads of the input still under way after Close", n)
	}
}
