package ioformat

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"log/slog"

	"github.com/goccy/go-json"
	"github.com/parquet-go/parquet-go"
)

// Skipper is implemented by readers that skip malformed records instead of
// failing; Skipped says how many they skipped.
type Skipper interface {
	Skipped() int64
}

// NewReader returns a reader of records of type T from in. T must be the
// record type of in.Meta (see record.Example); Parquet columns are matched by
// name, so files with Spot's Hive columns read into spot's types.
func NewReader[T any](in *Input) (Reader[T], error) {
	switch in.Format {
	case Parquet:
		return &parquetReader[T]{in: in, r: parquet.NewGenericReader[T](in.pf)}, nil
	case NDJSON:
		return &ndjsonReader[T]{in: in, br: in.br}, nil
	}
	return nil, fmt.Errorf("%s: cannot read %s", DisplayName(in.Name), in.Format)
}

type parquetReader[T any] struct {
	in  *Input
	r   *parquet.GenericReader[T]
	row int64
}

func (p *parquetReader[T]) Read(buf []T) (int, error) {
	clear(buf)
	n, err := p.r.Read(buf)
	p.row += int64(n)
	if err != nil && err != io.EOF {
		return n, &RecordError{Name: p.in.Name, Unit: "row", Number: p.row + 1, Err: err}
	}
	if err == io.EOF && n > 0 {
		err = nil
	}
	return n, err
}

func (p *parquetReader[T]) Close() error {
	p.r.Close()
	return p.in.Close()
}

// maxWarnings is how many malformed records a reader names one by one
// before it only counts them.
const maxWarnings = 10

type ndjsonReader[T any] struct {
	in      *Input
	br      *bufio.Reader
	line    int64
	skipped int64
	eof     bool
}

func (r *ndjsonReader[T]) Read(buf []T) (int, error) {
	n := 0
	for n < len(buf) && !r.eof {
		line, err := r.br.ReadSlice('\n')
		if err == bufio.ErrBufferFull { // a line longer than the buffer
			long := append([]byte(nil), line...)
			for err == bufio.ErrBufferFull {
				line, err = r.br.ReadSlice('\n')
				long = append(long, line...)
			}
			line = long
		}
		if err == io.EOF {
			r.eof = true
		} else if err != nil {
			return n, fmt.Errorf("%s: %w", DisplayName(r.in.Name), err)
		}
		if len(bytes.TrimSpace(line)) == 0 {
			if len(line) > 0 {
				r.line++
			}
			continue
		}
		r.line++
		var zero T
		buf[n] = zero
		if err := json.Unmarshal(line, &buf[n]); err != nil {
			r.skip(err)
			continue
		}
		n++
	}
	if n == 0 && r.eof {
		return 0, io.EOF
	}
	return n, nil
}

func (r *ndjsonReader[T]) skip(err error) {
	r.skipped++
	if r.skipped <= maxWarnings {
		slog.Warn("skipped malformed record", "err", &RecordError{Name: r.in.Name, Unit: "line", Number: r.line, Err: err})
	}
}

func (r *ndjsonReader[T]) Skipped() int64 { return r.skipped }

func (r *ndjsonReader[T]) Close() error { return r.in.Close() }
