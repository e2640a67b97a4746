package ioformat

import "io"

// ReadAhead is a reader of r that, once started, reads r on a goroutine of
// its own, a few blocks ahead: copying a capture out of the page cache then
// overlaps parsing it. Until Start it reads r in line. Each block is what
// one Read of r returned, so data from a pipe is handed on as it comes.
type ReadAhead struct {
	r       io.Reader
	started bool
	full    chan block
	free    chan []byte
	quit    chan struct{}
	exited  chan struct{} // closed when the goroutine has stopped
	cur     []byte        // unread bytes of buf
	buf     []byte
	err     error
}

type block struct {
	b   []byte // a buffer from free, cut to what was read
	err error
}

// NewReadAhead returns a ReadAhead of r, not started.
func NewReadAhead(r io.Reader) *ReadAhead {
	return &ReadAhead{r: r, quit: make(chan struct{}), exited: make(chan struct{})}
}

// Start hands r's reading to a goroutine; it must not be called while a
// Read is running.
func (a *ReadAhead) Start() {
	if a.started {
		return
	}
	a.started = true
	const depth, size = 4, 1 << 20
	a.full, a.free = make(chan block, depth), make(chan []byte, depth+1)
	for range depth + 1 {
		a.free <- make([]byte, size)
	}
	go a.run()
}

func (a *ReadAhead) run() {
	defer close(a.exited)
	defer close(a.full)
	for {
		var buf []byte
		select {
		case buf = <-a.free:
		case <-a.quit:
			return
		}
		n, err := a.r.Read(buf[:cap(buf)])
		select {
		case a.full <- block{buf[:n], err}:
		case <-a.quit:
			return
		}
		if err != nil {
			return
		}
	}
}

func (a *ReadAhead) Read(p []byte) (int, error) {
	if !a.started {
		return a.r.Read(p)
	}
	if len(a.cur) == 0 {
		b, err := a.Block()
		if err != nil {
			return 0, err
		}
		a.cur = b
	}
	n := copy(p, a.cur)
	a.cur = a.cur[n:]
	return n, nil
}

// Block returns the next block read, without copying it; it stays valid
// until the next call of Block or Read. Start must have been called.
func (a *ReadAhead) Block() ([]byte, error) {
	if len(a.cur) > 0 { // the rest of a block Read began
		b := a.cur
		a.cur = nil
		return b, nil
	}
	for {
		if a.buf != nil {
			a.free <- a.buf
			a.buf = nil
		}
		if a.err != nil {
			return nil, a.err
		}
		blk, ok := <-a.full
		if !ok {
			return nil, io.ErrClosedPipe
		}
		a.buf, a.err = blk.b, blk.err
		if len(blk.b) > 0 {
			return blk.b, nil
		}
	}
}

// Ready reports whether Block would return at once.
func (a *ReadAhead) Ready() bool {
	return len(a.cur) > 0 || a.err != nil || len(a.full) > 0
}

// Close stops the goroutine and waits for its Read to return, so that r
// may be closed next (a gzip or zstd reader must not be closed while it
// reads); it does not close r.
func (a *ReadAhead) Close() error {
	select {
	case <-a.quit:
	default:
		close(a.quit)
	}
	if a.started {
		<-a.exited
	}
	return nil
}
