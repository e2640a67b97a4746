package ioformat

import (
	"fmt"
	"io"

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
//
// With columns named, a Parquet file is read only in those columns (the
// other fields stay zero): hot stages read what they use. NDJSON is always
// read whole. Parquet readers are RowSeekers.
func NewReader[T any](in *Input, columns ...string) (Reader[T], error) {
	switch in.Format {
	case Parquet:
		r, err := newColumnsReader[T](in, columns)
		if err == errNotFlat && len(columns) == 0 {
			return &parquetReader[T]{in: in, r: parquet.NewGenericReader[T](in.pf)}, nil
		}
		if err != nil {
			return nil, err
		}
		return r, nil
	case NDJSON:
		return newNDJSONReader[T](in), nil
	case CSV:
		return newCSVReader[T](in)
	}
	return nil, fmt.Errorf("%s: cannot read %s", DisplayName(in.Name), in.Format)
}

// RowSeeker is implemented by the readers of Parquet files: SeekToRow
// positions the reader at a row of its input (0-based), so that a stage
// that chose rows by reading a few columns then reads only those in full.
type RowSeeker interface {
	SeekToRow(row int64) error
}

type parquetReader[T any] struct {
	in  *Input
	r   *parquet.GenericReader[T]
	row int64
}

func (p *parquetReader[T]) Read(buf []T) (n int, err error) {
	defer func() {
		if r := recover(); r != nil {
			n, err = 0, corrupt(p.in.Name, r)
		}
	}()
	clear(buf)
	n, err = p.r.Read(buf)
	p.row += int64(n)
	if err != nil && err != io.EOF {
		return n, &RecordError{Name: p.in.Name, Unit: "row", Number: p.row + 1, Err: err}
	}
	if err == io.EOF && n > 0 {
		err = nil
	}
	return n, err
}

// SeekToRow implements RowSeeker.
func (p *parquetReader[T]) SeekToRow(row int64) error {
	if err := p.r.SeekToRow(row); err != nil {
		return &RecordError{Name: p.in.Name, Unit: "row", Number: row + 1, Err: err}
	}
	p.row = row
	return nil
}

func (p *parquetReader[T]) Close() error {
	p.r.Close()
	return p.in.Close()
}

// LendStrings makes r lend the strings of the records it reads rather than
// give them, when r can, and reports whether it does. A reader that lends
// copies no string: the strings of the records one Read returns point into
// pages the reader decoded, and stay valid through the next reads Reads
// (reads >= 1) and no longer: the Read after those (or Close) may use
// their memory again. So a caller that works on one batch while the next is
// read passes 1; one that keeps k batches in flight while it reads the
// next, k. A string kept longer must be cloned (strings.Clone). Call it
// before the first Read.
//
// Parquet read column by column lends (pages of byte arrays: copying each
// into strings of its own was a tenth of the CPU of reading a flow file's
// detector columns, and new memory for every string); NDJSON, CSV, Parquet
// with lists and a Prefetch of any of them give their strings, valid for
// ever, and LendStrings reports false.
func LendStrings[T any](r Reader[T], reads int) bool {
	l, ok := r.(interface{ lendStrings(int) })
	if ok {
		l.lendStrings(max(reads, 1))
	}
	return ok
}
