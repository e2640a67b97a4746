package ioformat

import (
	"fmt"
	"reflect"
	"slices"
	"unsafe"
)

// PairReader reads a Parquet file column by column (as NewReader's
// columns reader does) into two batches at once: T's columns into records
// of T, S's into records of S beside them, row i of both the i-th row read.
// So a stage reads straight into the type it works on (T need not be a
// record type: its parquet tags name the columns its fields take) and
// reads what it needs only to finish those (S) into the side.
//
// Every scalar field of T and S is read from the column its parquet tag
// (else its name) names, when the file has that column; fields of columns
// the file lacks, and null values, stay zero. T and S name no column twice.
type PairReader[T, S any] struct {
	r *columnsReader[T]
}

// NewPairReader returns a PairReader of in, which must be Parquet.
func NewPairReader[T, S any](in *Input) (*PairReader[T, S], error) {
	if in.Format != Parquet {
		return nil, fmt.Errorf("%s: a pair reader reads Parquet, not %s", DisplayName(in.Name), in.Format)
	}
	var zt T
	var zs S
	tf, okT := flatFields(reflect.TypeOf(zt))
	sf, okS := flatFields(reflect.TypeOf(zs))
	if !okT || !okS {
		return nil, errNotFlat
	}
	r := &columnsReader[T]{in: in, stride: unsafe.Sizeof(zt), sideStride: unsafe.Sizeof(zs)}
	var names []string
	for i, f := range slices.Concat(tf, sf) {
		if slices.Contains(names, f.name) {
			return nil, fmt.Errorf("PairReader: column %s named twice", f.name)
		}
		names = append(names, f.name)
		if _, ok := in.pf.Schema().Lookup(f.name); !ok && slices.Contains(in.Columns(), f.name) {
			return nil, fmt.Errorf("%s: column %s is a list or group; want a single value", DisplayName(in.Name), f.name)
		}
		if err := r.add(f, i >= len(tf)); err != nil {
			return nil, err
		}
	}
	return &PairReader[T, S]{r: r}, nil
}

// Read reads up to min(len(buf), len(side)) rows into buf and side and
// says how many it read; at the end of the file it returns 0, io.EOF.
// Strings are given or lent as NewReader's columns reader's are.
func (p *PairReader[T, S]) Read(buf []T, side []S) (n int, err error) {
	defer func() {
		if v := recover(); v != nil {
			n, err = 0, corrupt(p.r.in.Name, v)
		}
	}()
	n, err = p.r.begin(min(len(buf), len(side)))
	if err != nil {
		return 0, err
	}
	clear(buf[:n])
	clear(side[:n])
	return p.r.fill(unsafe.Pointer(unsafe.SliceData(buf)), unsafe.Pointer(unsafe.SliceData(side)), n)
}

// LendStrings is the package's LendStrings for a PairReader, which always
// lends: call it before the first Read.
func (p *PairReader[T, S]) LendStrings(reads int) { p.r.lendStrings(max(reads, 1)) }

// Close releases every page and closes the input.
func (p *PairReader[T, S]) Close() error { return p.r.Close() }
