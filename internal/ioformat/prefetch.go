package ioformat

import (
	"io"
)

// Prefetch returns a reader that reads r ahead in a goroutine, a few batches
// deep, so that decoding the input and whatever the caller does with the
// records (encoding, writing) run side by side. Closing it closes r, after
// the goroutine has stopped: r's Read must not block for ever (a file, not
// a live stream).
func Prefetch[T any](r Reader[T]) Reader[T] {
	const depth = 3
	p := &prefetch[T]{r: r, full: make(chan batch[T], depth), free: make(chan []T, depth+1),
		quit: make(chan struct{}), exited: make(chan struct{})}
	for range depth + 1 {
		p.free <- Touched(make([]T, BatchSize))
	}
	go p.run()
	return p
}

type batch[T any] struct {
	buf []T // a whole buffer from free
	n   int
	err error
}

type prefetch[T any] struct {
	r            Reader[T]
	full         chan batch[T]
	free         chan []T
	quit, exited chan struct{}
	cur          *batch[T]
	pos          int
	closed       bool
}

func (p *prefetch[T]) run() {
	defer close(p.exited)
	defer close(p.full)
	for {
		var buf []T
		select {
		case buf = <-p.free:
		case <-p.quit:
			return
		}
		n, err := p.r.Read(buf)
		if err == io.EOF && n > 0 {
			err = nil // the next Read says EOF again
		}
		select {
		case p.full <- batch[T]{buf, n, err}:
		case <-p.quit:
			return
		}
		if err != nil {
			return
		}
	}
}

func (p *prefetch[T]) Read(buf []T) (int, error) {
	for p.cur == nil || p.pos == p.cur.n {
		if p.cur != nil {
			if p.cur.err != nil {
				return 0, p.cur.err
			}
			p.free <- p.cur.buf
			p.cur = nil
		}
		b, ok := <-p.full
		if !ok {
			return 0, io.EOF
		}
		p.cur, p.pos = &b, 0
	}
	n := copy(buf, p.cur.buf[p.pos:p.cur.n])
	p.pos += n
	return n, nil
}

// Skipped passes on what r skipped, when r counts it.
func (p *prefetch[T]) Skipped() int64 {
	if s, ok := p.r.(Skipper); ok {
		return s.Skipped()
	}
	return 0
}

func (p *prefetch[T]) Close() error {
	if !p.closed {
		p.closed = true
		close(p.quit)
		<-p.exited
	}
	return p.r.Close()
}
