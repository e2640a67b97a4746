package ioformat

import (
	"fmt"
	"os"

	"github.com/klauspost/compress/s2"
	"github.com/parquet-go/parquet-go"
	"github.com/parquet-go/parquet-go/compress/snappy"

	"github.com/spot-hunt/spot/internal/record"
)

// ParquetFile returns the opened Parquet file of a Parquet input, nil for
// other formats. Hot paths read its columns directly.
func (in *Input) ParquetFile() *parquet.File { return in.pf }

// SourceFile is the file a Parquet input's bytes are read from (the input
// itself, or its spool), at the offsets its footer gives; nil for other
// formats. RawOutput.CopyFrom copies column chunks from it.
func (in *Input) SourceFile() *os.File { return in.src }

// ParquetWriter is a Parquet output whose row groups the caller builds
// column by column (parquet.GenericWriter.BeginRowGroup), with the same
// file options, metadata and temporary-file handling as Create.
type ParquetWriter[T any] struct {
	*parquet.GenericWriter[T]
	out *output
}

// CreateParquet returns a column-oriented Parquet writer of records of type
// T to d, which must resolve to Parquet.
func CreateParquet[T any](d Dest, m record.Meta) (*ParquetWriter[T], error) {
	if f := d.ResolvedFormat(); f != Parquet {
		return nil, fmt.Errorf("CreateParquet: destination is %s", f)
	}
	if d.toStdout() && d.StdoutTTY && !d.Force {
		return nil, ErrTerminal
	}
	out, err := openOutput(d)
	if err != nil {
		return nil, err
	}
	w := parquet.NewGenericWriter[T](out.w, ParquetOptions(m)...)
	return &ParquetWriter[T]{GenericWriter: w, out: out}, nil
}

// ParquetOptions are the writer options of the column-oriented outputs:
// Snappy (its faster encoder), no page-header statistics (the column index
// keeps the bounds), row groups of RowGroupRows, spot's metadata.
func ParquetOptions(m record.Meta) []parquet.WriterOption {
	return []parquet.WriterOption{
		parquet.Compression(&fastSnappy{}),
		parquet.DataPageStatistics(false),
		parquet.MaxRowsPerRowGroup(RowGroupRows),
		parquet.KeyValueMetadata(metaKind, string(m.Kind)),
		parquet.KeyValueMetadata(metaStream, string(m.Stream)),
		parquet.CreatedBy("spot", "", ""),
		parquet.DictionaryMaxBytes(dictMaxBytes),
		// Free text: min/max page bounds prune nothing and cost a fifth
		// of a proxy log's write time.
		parquet.SkipPageBounds("useragent"),
		parquet.SkipPageBounds("referer"),
		parquet.SkipPageBounds("uripath"),
		parquet.SkipPageBounds("uriquery"),
		parquet.SkipPageBounds("fulluri"),
		// Flow addresses: the text bounds of unsorted addresses span
		// nearly everything, and comparing them costs a tenth of a flow
		// decode's write time.
		parquet.SkipPageBounds("sip"),
		parquet.SkipPageBounds("dip"),
	}
}

// RawOutput is an output a stage writes bytes to itself (a Parquet file
// assembled from copied column chunks), with Create's temporary-file
// handling.
type RawOutput struct{ out *output }

// CreateRaw opens d for a Parquet file written byte by byte.
func CreateRaw(d Dest) (*RawOutput, error) {
	if d.ResolvedFormat() == Parquet && d.toStdout() && d.StdoutTTY && !d.Force {
		return nil, ErrTerminal
	}
	out, err := openOutput(d)
	if err != nil {
		return nil, err
	}
	return &RawOutput{out: out}, nil
}

// Write implements io.Writer.
func (r *RawOutput) Write(p []byte) (int, error) { return r.out.w.Write(p) }

// CopyFrom appends n bytes of src from off by the kernel, when the output
// is a file of its own (not standard output, a pipe or a compressed
// stream); src must stay open until Close or Abort. It reports false, and
// does nothing, when it cannot: the caller writes the bytes.
func (r *RawOutput) CopyFrom(src *os.File, off, n int64) (bool, error) {
	return r.out.copyFrom(src, off, n)
}

// Close commits the output.
func (r *RawOutput) Close() error { return r.out.commit() }

// Abort discards the output.
func (r *RawOutput) Abort() { r.out.abort() }

// Close writes the footer and commits the file.
func (w *ParquetWriter[T]) Close() error {
	if err := w.GenericWriter.Close(); err != nil {
		w.out.abort()
		return err
	}
	return w.out.commit()
}

// Abort discards the output.
func (w *ParquetWriter[T]) Abort() { w.out.abort() }

// fastSnappy is the SNAPPY codec with the faster of the s2 package's
// Snappy-compatible block encoders (parquet-go's default uses the "better",
// slower one); any Snappy decoder reads its output.
type fastSnappy struct{ snappy.Codec }

func (*fastSnappy) Encode(dst, src []byte) ([]byte, error) {
	if n := s2.MaxEncodedLen(len(src)); n > 0 && cap(dst) >= n {
		dst = dst[:n]
	} else {
		dst = nil
	}
	return s2.EncodeSnappy(dst, src), nil
}
