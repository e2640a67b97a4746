package ioformat

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"reflect"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/goccy/go-json"
)

// chunkSize is about how many bytes of NDJSON one decoding job holds.
const chunkSize = 512 << 10

// MaxRecordSize is the longest NDJSON line read, in bytes; a longer one is
// read past in constant memory, skipped and counted (spot's
// --max-record-size). 16 MiB is thousands of times a real record, and keeps
// the reader's peak memory (the line, its buffer and its decoded copy)
// well under 256 MB.
var MaxRecordSize = 16 << 20

// ndjsonReader decodes NDJSON on every core: a splitter cuts the input into
// chunks of whole lines, workers decode chunks side by side, and Read hands
// out their records in input order. A chunk is whatever input is at hand
// (up to chunkSize), so records from a slow stream (a live capture) come
// out as soon as their line is complete.
type ndjsonReader[T any] struct {
	in      *Input
	order   chan *ndjsonChunk[T] // chunks in input order
	quit    chan struct{}
	once    sync.Once
	cur     *ndjsonChunk[T]
	pos     int
	skipped SkipLog
	err     error
	idle    func() error // OnIdle's; nil: none
	wait    *time.Timer  // for IdleAfter
}

// IdleAfter is how long a live input stays silent before it is idle (and
// a stage flushes what it holds): long enough that a busy machine's pauses
// do not count, short beside a person's patience.
const IdleAfter = 50 * time.Millisecond

type ndjsonChunk[T any] struct {
	data  []byte
	line  int64 // number of the chunk's first line
	lines int   // newlines in data
	recs  []T
	err   error // a read error after the chunk's data (ends the stream)
	ready chan struct{}
}

func newNDJSONReader[T any](in *Input) *ndjsonReader[T] {
	workers := runtime.GOMAXPROCS(0)
	r := &ndjsonReader[T]{in: in, order: make(chan *ndjsonChunk[T], 2*workers), quit: make(chan struct{})}
	work := make(chan *ndjsonChunk[T], 2*workers)
	go r.split(work)
	for range workers {
		go func() {
			for c := range work {
				r.decode(c)
				close(c.ready)
			}
		}()
	}
	return r
}

// split reads the input and sends chunks of whole lines to the workers and,
// in the same order, to Read. A line is read on until its end arrives, in a
// buffer that doubles (so a long line from a pipe, 64 KiB a read, costs
// linear time); a line longer than MaxRecordSize is read past in constant
// memory, skipped and counted.
func (r *ndjsonReader[T]) split(work chan<- *ndjsonChunk[T]) {
	defer close(work)
	defer close(r.order)
	line := int64(1)
	var carry []byte // a partial last line
	for {
		buf := make([]byte, len(carry), max(chunkSize, 2*len(carry)))
		copy(buf, carry)
		var err error
		for err == nil && len(buf) < cap(buf) {
			var n int
			n, err = r.in.br.Read(buf[len(buf):cap(buf)])
			if bytes.IndexByte(buf[len(buf):len(buf)+n], '\n') >= 0 {
				buf = buf[:len(buf)+n]
				break // a line is complete: hand it on now (a live stream)
			}
			buf = buf[:len(buf)+n]
		}
		end := len(buf)
		if err == nil {
			end = bytes.LastIndexByte(buf, '\n') + 1
		}
		carry = buf[end:]
		c := &ndjsonChunk[T]{data: buf[:end], line: line, ready: make(chan struct{})}
		c.lines = bytes.Count(c.data, []byte{'\n'})
		line += int64(c.lines)
		if len(carry) > MaxRecordSize {
			carry = nil
			err = r.skipLong(line)
			line++
		}
		if err != nil && err != io.EOF {
			c.err = fmt.Errorf("%s: %w", DisplayName(r.in.Name), err)
		}
		if len(c.data) > 0 || c.err != nil {
			select {
			case work <- c:
			case <-r.quit:
				return
			}
			select {
			case r.order <- c:
			case <-r.quit:
				return
			}
		}
		if err != nil {
			return
		}
	}
}

// skipLong reads past the rest of line number line, which is longer than
// MaxRecordSize, and counts it as skipped.
func (r *ndjsonReader[T]) skipLong(line int64) error {
	r.skip(line, errTooLong())
	for {
		_, err := r.in.br.ReadSlice('\n')
		if err != bufio.ErrBufferFull {
			return err
		}
	}
}

func (r *ndjsonReader[T]) decode(c *ndjsonChunk[T]) {
	data, line := c.data, c.line
	c.recs = make([]T, 0, c.lines+1)
	for len(data) > 0 {
		l := data
		if i := bytes.IndexByte(data, '\n'); i >= 0 {
			l, data = data[:i], data[i+1:]
		} else {
			data = nil
		}
		if len(l) > MaxRecordSize { // ended within a buffer of the splitter's
			r.skip(line, errTooLong())
		} else if len(bytes.TrimSpace(l)) > 0 {
			// Decoded in place: a record is hundreds of bytes, not worth copying.
			n := len(c.recs)
			c.recs = c.recs[:n+1]
			if err := json.Unmarshal(l, &c.recs[n]); err != nil {
				r.skip(line, plainJSONError(err))
				c.recs[n] = *new(T)
				c.recs = c.recs[:n]
			}
		}
		line++
	}
}

func (r *ndjsonReader[T]) skip(line int64, err error) {
	r.skipped.Skip("skipped malformed record", r.in.Name, "line", line, err)
}

func (r *ndjsonReader[T]) Read(buf []T) (int, error) {
	if r.err != nil {
		return 0, r.err
	}
	for r.cur == nil || r.pos == len(r.cur.recs) {
		if r.cur != nil && r.cur.err != nil {
			r.err = r.cur.err
			return 0, r.err
		}
		var c *ndjsonChunk[T]
		ok, got := false, false
		if r.idle != nil && len(r.order) == 0 { // the next chunk is not read yet
			// The input is idle when nothing comes for a moment, not when
			// the reader merely outpaces the parsers: a busy machine would
			// otherwise cut a steady stream at random places.
			if r.wait == nil {
				r.wait = time.NewTimer(IdleAfter)
			} else {
				r.wait.Reset(IdleAfter)
			}
			select {
			case c, ok = <-r.order:
				got = true
				r.wait.Stop()
			case <-r.wait.C:
				if err := r.idle(); err != nil {
					r.err = err
					return 0, err
				}
			}
		}
		if !got {
			select {
			case c, ok = <-r.order:
			case <-r.quit:
				r.err = errClosed
				return 0, r.err
			}
		}
		if !ok {
			r.err = io.EOF
			return 0, io.EOF
		}
		<-c.ready
		r.cur, r.pos = c, 0
	}
	n := copy(buf, r.cur.recs[r.pos:])
	r.pos += n
	return n, nil
}

// OnIdle makes Read call fn when it is about to wait for the next lines of
// a live input; on a file it does nothing.
func (r *ndjsonReader[T]) OnIdle(fn func() error) {
	if r.in.Live {
		r.idle = fn
	}
}

// Skipped says how many malformed lines were skipped so far.
func (r *ndjsonReader[T]) Skipped() int64 { return r.skipped.Count() }

var errClosed = errors.New("reader closed")

// SizeString writes n bytes as spot's size flags take them: 16MiB, 4KiB, 100.
func SizeString(n int) string {
	for _, u := range []struct {
		name  string
		shift uint
	}{{"GiB", 30}, {"MiB", 20}, {"KiB", 10}} {
		if n >= 1<<u.shift && n%(1<<u.shift) == 0 {
			return strconv.Itoa(n>>u.shift) + u.name
		}
	}
	return strconv.Itoa(n)
}

func errTooLong() error {
	return fmt.Errorf("longer than %s, the most --max-record-size allows", SizeString(MaxRecordSize))
}

// Interrupt makes a Read that waits for input (a live stream) return; it
// may be called from another goroutine.
func (r *ndjsonReader[T]) Interrupt() { r.once.Do(func() { close(r.quit) }) }

// Close may be called while a Read waits for input: the Read then returns.
func (r *ndjsonReader[T]) Close() error {
	r.Interrupt()
	// A splitter blocked reading an endless stdin is not waited for: it
	// ends with the process.
	return r.in.Close()
}

// plainJSONError says what is wrong with a line in terms of its columns,
// not of the Go types it is decoded into.
func plainJSONError(err error) error {
	var te *json.UnmarshalTypeError
	if !errors.As(err, &te) || te.Type == nil {
		return err
	}
	want := "a " + te.Type.Kind().String()
	switch te.Type.Kind() {
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		want = "an integer"
	case reflect.Float32, reflect.Float64:
		want = "a number"
	case reflect.String:
		want = "a string"
	case reflect.Bool:
		want = "true or false"
	case reflect.Slice, reflect.Array:
		want = "a list"
	case reflect.Struct, reflect.Map:
		want = "an object"
	}
	got := te.Value
	switch {
	case strings.HasPrefix(got, "number "):
	case got == "array" || got == "object":
		got = "an " + got
	case got != "":
		got = "a " + got
	}
	if te.Field == "" {
		return fmt.Errorf("%s where %s is expected", got, want)
	}
	field := te.Field
	if i := strings.LastIndexByte(field, '.'); i >= 0 {
		field = field[i+1:]
	}
	return fmt.Errorf("column %s: %s where %s is expected", field, got, want)
}
