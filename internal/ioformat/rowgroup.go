package ioformat

import (
	"errors"
	"fmt"
	"io"
	"reflect"
	"slices"
	"unsafe"

	"github.com/parquet-go/parquet-go"
)

// GroupReader reads the row groups of a Parquet input one at a time, for
// hot paths that work row group by row group (in parallel, a GroupReader
// each): one column of a group (ColumnOf), then the rows they chose
// (RowsOf), with values as NewReader's records hold them, so that what they
// write is what a stage reading records would have written. It keeps its
// buffers from one group to the next.
type GroupReader struct {
	in    *Input
	cols  map[columnKey]*column
	rows  any // *columnsReader[T] of RowsOf's T
	start []int64
}

type columnKey struct {
	name string
	kind reflect.Kind
}

// NewGroupReader returns a GroupReader of a Parquet input.
func NewGroupReader(in *Input) *GroupReader {
	r := &GroupReader{in: in, cols: map[columnKey]*column{}}
	var n int64
	for _, rg := range in.pf.RowGroups() {
		r.start = append(r.start, n) // rows before the group
		n += rg.NumRows()
	}
	return r
}

// Input returns the input r reads.
func (r *GroupReader) Input() *Input { return r.in }

// ColumnOf reads column name of row group g into out (resized to the
// group's rows) as a record field of E's kind holds it: converted as Go
// converts, nulls and a column the file lacks read as zero. It is an error
// for the column to be a list, a group or of a type that does not convert
// to E.
func ColumnOf[E int32 | int64 | float32 | float64 | string | bool](r *GroupReader, g int, name string, out []E) (_ []E, err error) {
	rg := r.in.pf.RowGroups()[g]
	n := int(rg.NumRows())
	if cap(out) < n {
		out = make([]E, n)
	} else {
		out = out[:n]
		clear(out)
	}
	kind := reflect.TypeFor[E]().Kind()
	c, ok := r.cols[columnKey{name, kind}]
	if !ok {
		if c, err = columnOf(r.in, name, kind); err != nil {
			return nil, err
		}
		r.cols[columnKey{name, kind}] = c
	}
	if c == nil || n == 0 {
		return out, nil
	}
	defer func() {
		if p := recover(); p != nil {
			err = corrupt(r.in.Name, p)
		}
		c.close()
	}()
	c.pages = SafePages(rg.ColumnChunks()[c.index].Pages())
	if err := c.fill(unsafe.Pointer(unsafe.SliceData(out)), unsafe.Sizeof(out[0]), n); err != nil {
		return nil, &RecordError{Name: r.in.Name, Unit: "row", Number: r.start[g] + 1, Err: fmt.Errorf("row group %d: column %s: %w", g, name, err)}
	}
	return out, nil
}

// columnOf is the column of in named, to be read as values of kind; nil
// when the file lacks it.
func columnOf(in *Input, name string, kind reflect.Kind) (*column, error) {
	leaf, ok := in.pf.Schema().Lookup(name)
	if !ok {
		return nil, nil
	}
	if leaf.MaxRepetitionLevel > 0 || !leaf.Node.Leaf() {
		return nil, fmt.Errorf("%s: column %s is a list or group; want a single value", DisplayName(in.Name), name)
	}
	src := leaf.Node.Type().Kind()
	if !convertible(src, kind) {
		return nil, fmt.Errorf("%s: column %s holds %s values, which do not convert to %s", DisplayName(in.Name), name, src, kind)
	}
	return &column{field: field{name: name, kind: kind}, index: leaf.ColumnIndex, maxDef: byte(leaf.MaxDefinitionLevel), src: src}, nil
}

// Flat reports whether records of type T hold no lists: RowsOf reads them
// column by column (records with lists go through parquet-go's reader,
// which seeks slowly: for many runs of rows, read them otherwise).
func Flat[T any]() bool {
	_, ok := flatFields(reflect.TypeFor[T]())
	return ok
}

// Readable reports whether ColumnOf can read column name of in as values
// of kind (the file may lack it).
func Readable(in *Input, name string, kind reflect.Kind) bool {
	if in.pf == nil {
		return false
	}
	_, err := columnOf(in, name, kind)
	return err == nil
}

// RowsOf appends to out the records of type T at rows (indexes in row group
// g, increasing), read whole: the pages that hold them are decoded once
// each, the others not at all (through the offset index).
func RowsOf[T any](r *GroupReader, g int, rows []int64, out []T) (_ []T, err error) {
	if len(rows) == 0 {
		return out, nil
	}
	start := r.start[g]
	cr, ok := r.rows.(*columnsReader[T])
	if !ok {
		cr, err = newColumnsReader[T](r.in, nil)
		if errors.Is(err, errNotFlat) {
			return rowsOfLists(r.in, g, start, rows, out)
		}
		if err != nil {
			return nil, err
		}
		cr.serial = true // one group of many read side by side
		r.rows = cr
	}
	// A few rows of each page: convert only their values; many: the
	// pages at once.
	sparse := int64(len(rows))*16 < r.in.pf.RowGroups()[g].NumRows()
	for _, c := range cr.cols {
		c.lazy = sparse
	}
	defer func() {
		if p := recover(); p != nil {
			err = corrupt(r.in.Name, p)
		}
		for _, c := range cr.cols {
			c.close()
		}
	}()
	cr.rg = g
	if err := cr.nextRowGroup(); err != nil {
		return nil, err
	}
	cr.row = start
	if !sparse { // read the group through, keeping the rows asked for
		buf := make([]T, BatchSize)
		var at int64
		for len(rows) > 0 {
			n, err := cr.Read(buf)
			if n == 0 {
				return nil, &RecordError{Name: r.in.Name, Unit: "row", Number: start + rows[0] + 1, Err: errOr(err, io.ErrUnexpectedEOF)}
			}
			for len(rows) > 0 && rows[0] < at+int64(n) {
				out = append(out, buf[rows[0]-at])
				rows = rows[1:]
			}
			at += int64(n)
		}
		return out, nil
	}
	err = eachRun(rows, func(first int64, k int) error {
		if err := cr.SeekToRow(start + first); err != nil {
			return err
		}
		at := len(out)
		out = slices.Grow(out, k)[:at+k]
		n, err := cr.Read(out[at:])
		if n < k {
			return &RecordError{Name: r.in.Name, Unit: "row", Number: start + first + int64(n) + 1, Err: errOr(err, io.ErrUnexpectedEOF)}
		}
		return nil
	})
	return out, err
}

// rowsOfLists is RowsOf for record types with lists, through parquet-go's
// own reader (as NewReader reads them).
func rowsOfLists[T any](in *Input, g int, start int64, rows []int64, out []T) (_ []T, err error) {
	defer RecoverCorrupt(in.Name, &err)
	r := parquet.NewGenericRowGroupReader[T](in.pf.RowGroups()[g])
	defer r.Close()
	err = eachRun(rows, func(first int64, k int) error {
		if err := r.SeekToRow(first); err != nil {
			return &RecordError{Name: in.Name, Unit: "row", Number: start + first + 1, Err: err}
		}
		at := len(out)
		out = append(out, make([]T, k)...)
		for got := 0; got < k; {
			n, err := r.Read(out[at+got : at+k])
			got += n
			if err != nil && got < k {
				return &RecordError{Name: in.Name, Unit: "row", Number: start + first + int64(got) + 1, Err: errOr(err, io.ErrUnexpectedEOF)}
			}
		}
		return nil
	})
	return out, err
}

// eachRun calls fn with the first row and length of each run of
// consecutive rows.
func eachRun(rows []int64, fn func(first int64, k int) error) error {
	for i := 0; i < len(rows); {
		j := i + 1
		for j < len(rows) && rows[j] == rows[j-1]+1 {
			j++
		}
		if err := fn(rows[i], j-i); err != nil {
			return err
		}
		i = j
	}
	return nil
}

func errOr(err, or error) error {
	if err == nil || err == io.EOF {
		return or
	}
	return err
}
