package columnar

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"io"
	"os"

	"github.com/parquet-go/parquet-go"
	"github.com/parquet-go/parquet-go/encoding/thrift"
	"github.com/parquet-go/parquet-go/format"
)

// assembler writes a Parquet file from column chunks copied byte for byte
// out of other Parquet files (the input, for columns passed through; small
// side files, for the columns a stage computes). Chunk offsets are moved to
// their new place; page indexes and bloom filters are not carried over.
type assembler struct {
	w         io.Writer
	files     fileCopier // w, when it copies from files itself
	off       int64
	meta      format.FileMetaData // schema, column orders, key-value metadata of the output
	rowGroups []format.RowGroup
	numRows   int64
	buf       []byte // copyRange's
}

// newAssembler starts a file whose footer copies template's schema,
// column orders, key-value metadata and creator.
func newAssembler(w io.Writer, template *format.FileMetaData) (*assembler, error) {
	a := &assembler{w: w}
	a.files, _ = w.(fileCopier)
	a.meta = format.FileMetaData{
		Version:          template.Version,
		Schema:           template.Schema,
		KeyValueMetadata: template.KeyValueMetadata,
		CreatedBy:        template.CreatedBy,
		ColumnOrders:     template.ColumnOrders,
	}
	if _, err := io.WriteString(w, "PAR1"); err != nil {
		return nil, err
	}
	a.off = 4
	return a, nil
}

// copyMax is the most of a chunk read at a time (from a file).
const copyMax = 8 << 20

// copyRange writes length bytes of src at start: from memory as they are
// (a side file), else read a chunk at a time, not in io.Copy's 32 kB
// reads (the system calls cost a tenth of a score pass's copying).
func (a *assembler) copyRange(src io.ReaderAt, start, length int64) error {
	if m, ok := src.(*sideFile); ok {
		if start < 0 || length < 0 || start+length > int64(len(m.data)) {
			return fmt.Errorf("columnar: a side file's chunk at %d+%d lies beyond its %d bytes", start, length, len(m.data))
		}
		_, err := a.w.Write(m.data[start : start+length])
		return err
	}
	for length > 0 {
		n := min(length, copyMax)
		if int64(cap(a.buf)) < n {
			a.buf = make([]byte, n)
		}
		b := a.buf[:n]
		if k, err := src.ReadAt(b, start); k < len(b) {
			if err == nil || err == io.EOF {
				err = io.ErrUnexpectedEOF
			}
			return err
		}
		if _, err := a.w.Write(b); err != nil {
			return err
		}
		start, length = start+n, length-n
	}
	return nil
}

// chunkRange is where a column chunk's pages lie in its file.
func chunkRange(cc *format.ColumnChunk) (start, length int64) {
	start = cc.MetaData.DataPageOffset
	if d := cc.MetaData.DictionaryPageOffset; d > 0 && d < start {
		start = d
	}
	return start, cc.MetaData.TotalCompressedSize
}

// fileCopier is an output that appends bytes of a file itself, in the
// kernel (ioformat.RawOutput); done false: it cannot, and did nothing.
type fileCopier interface {
	CopyFrom(src *os.File, off, n int64) (done bool, err error)
}

// copyFrom writes length bytes of src at start: by the output's
// fileCopier when src is an input's *os.File, else (or when it cannot) by
// copyRange.
func (a *assembler) copyFrom(src io.ReaderAt, start, length int64) error {
	if f, ok := src.(*os.File); ok && a.files != nil {
		if done, err := a.files.CopyFrom(f, start, length); done || err != nil {
			return err
		}
	}
	return a.copyRange(src, start, length)
}

// copyChunk copies one column chunk from src and returns its metadata for
// the output.
func (a *assembler) copyChunk(src io.ReaderAt, cc *format.ColumnChunk) (format.ColumnChunk, error) {
	if len(cc.EncryptedColumnMetadata) > 0 {
		return format.ColumnChunk{}, fmt.Errorf("columnar: cannot copy an encrypted column chunk")
	}
	start, length := chunkRange(cc)
	if err := a.copyFrom(src, start, length); err != nil {
		return format.ColumnChunk{}, err
	}
	delta := a.off - start
	out := format.ColumnChunk{FileOffset: a.off, MetaData: cc.MetaData}
	out.MetaData.DataPageOffset += delta
	if out.MetaData.DictionaryPageOffset > 0 {
		out.MetaData.DictionaryPageOffset += delta
	}
	if out.MetaData.IndexPageOffset > 0 {
		out.MetaData.IndexPageOffset += delta
	}
	out.MetaData.BloomFilterOffset, out.MetaData.BloomFilterLength = 0, 0
	a.off += length
	return out, nil
}

// addRowGroup records a row group whose chunks were copied (in schema order).
func (a *assembler) addRowGroup(cols []format.ColumnChunk, numRows int64, fileOffset int64) {
	var unc, comp int64
	for i := range cols {
		unc += cols[i].MetaData.TotalUncompressedSize
		comp += cols[i].MetaData.TotalCompressedSize
	}
	a.rowGroups = append(a.rowGroups, format.RowGroup{Columns: cols, TotalByteSize: unc, NumRows: numRows,
		FileOffset: fileOffset, TotalCompressedSize: comp, Ordinal: int16(len(a.rowGroups))})
	a.numRows += numRows
}

// finish writes the footer.
func (a *assembler) finish() error {
	a.meta.RowGroups = a.rowGroups
	a.meta.NumRows = a.numRows
	b, err := thrift.Marshal(new(thrift.CompactProtocol), &a.meta)
	if err != nil {
		return err
	}
	var tail [8]byte
	binary.LittleEndian.PutUint32(tail[:4], uint32(len(b)))
	copy(tail[4:], "PAR1")
	if _, err := a.w.Write(b); err != nil {
		return err
	}
	_, err = a.w.Write(tail[:])
	return err
}

// sideFile is a small Parquet file held in memory.
type sideFile struct {
	data []byte
	pf   *parquet.File
}

func openSide(data []byte) (*sideFile, error) {
	pf, err := parquet.OpenFile(bytes.NewReader(data), int64(len(data)), parquet.SkipPageIndex(true), parquet.SkipBloomFilters(true))
	if err != nil {
		return nil, fmt.Errorf("columnar: reading back a side file: %w", err)
	}
	return &sideFile{data: data, pf: pf}, nil
}

func (s *sideFile) ReadAt(p []byte, off int64) (int, error) {
	if off >= int64(len(s.data)) {
		return 0, io.EOF
	}
	n := copy(p, s.data[off:])
	if n < len(p) {
		return n, io.EOF
	}
	return n, nil
}
