package ioformat

import (
	"context"
	"errors"
	"io"
)

// Concat reads the inputs one after the other, as one stream. When ctx is cancelled
// (Ctrl-C) a read waiting on a live stream returns at once, and every read
// then fails with ctx's error.
type Concat[T any] struct {
	ctx     context.Context
	stop    func() bool
	readers []Reader[T]
	next    int
}

func NewConcat[T any](ctx context.Context, ins []*Input) (*Concat[T], error) {
	c := &Concat[T]{ctx: ctx, stop: func() bool { return false }}
	for _, in := range ins {
		r, err := NewReader[T](in)
		if err != nil {
			c.Close()
			return nil, err
		}
		c.readers = append(c.readers, r)
	}
	c.stop = context.AfterFunc(ctx, func() {
		for _, r := range c.readers {
			if i, ok := r.(Interrupter); ok {
				i.Interrupt()
			}
		}
	})
	return c, nil
}

func (c *Concat[T]) Read(buf []T) (int, error) {
	if err := c.ctx.Err(); err != nil {
		return 0, err
	}
	for c.next < len(c.readers) {
		n, err := c.readers[c.next].Read(buf)
		if err != nil && err != io.EOF && c.ctx.Err() != nil {
			return n, c.ctx.Err()
		}
		if err == io.EOF {
			c.next++
			if n == 0 {
				continue
			}
			err = nil
		}
		return n, err
	}
	return 0, io.EOF
}

// OnIdle passes fn to every input whose reader can wait for a live input
// (one with an OnIdle method of its own): a stage reading a pipe then
// writes what it has whenever the pipe goes idle.
func (c *Concat[T]) OnIdle(fn func() error) {
	for _, r := range c.readers {
		if i, ok := r.(interface{ OnIdle(func() error) }); ok {
			i.OnIdle(fn)
		}
	}
}

// Skipped sums the malformed records every input skipped.
func (c *Concat[T]) Skipped() int64 {
	var n int64
	for _, r := range c.readers {
		if s, ok := r.(Skipper); ok {
			n += s.Skipped()
		}
	}
	return n
}

func (c *Concat[T]) Close() error {
	c.stop()
	var errs []error
	for _, r := range c.readers {
		errs = append(errs, r.Close())
	}
	return errors.Join(errs...)
}
