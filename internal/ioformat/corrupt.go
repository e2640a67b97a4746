package ioformat

import (
	"encoding/binary"
	"fmt"
	"io"
	"runtime"

	"github.com/parquet-go/parquet-go"
	"github.com/parquet-go/parquet-go/encoding/thrift"
)

// RecoverCorrupt, deferred around calls into parquet-go on data read from
// a file, turns a panic into *err. parquet-go panics on some corrupt files
// (offsets out of range in a page index or a page), and a corrupt input
// must give an error naming it, never a crash. name may be "" when the
// caller names the file.
func RecoverCorrupt(name string, err *error) {
	if r := recover(); r != nil {
		*err = corrupt(name, r)
	}
}

func corrupt(name string, r any) error {
	what := fmt.Sprint(r)
	if _, ok := r.(runtime.Error); ok {
		what = "a size or offset in the file is out of range (" + what + ")"
	}
	if name != "" {
		return fmt.Errorf("%s: corrupt Parquet: %s", DisplayName(name), what)
	}
	return fmt.Errorf("corrupt Parquet: %s", what)
}

// SafePages reads pages through p, a panic on a corrupt page being an
// error; it is what parquet.AsyncPages must wrap, since a panic in its
// goroutine cannot be recovered by the reader.
func SafePages(p parquet.Pages) parquet.Pages { return safePages{p} }

type safePages struct{ parquet.Pages }

func (p safePages) ReadPage() (page parquet.Page, err error) {
	defer RecoverCorrupt("", &err)
	return p.Pages.ReadPage()
}

func openParquet(name string, f io.ReaderAt, size int64) (pf *parquet.File, err error) {
	if err := checkFooter(f, size); err != nil {
		return nil, err
	}
	defer RecoverCorrupt(name, &err)
	return parquet.OpenFile(f, size)
}

// footerLayout is what checkFooter reads of a Parquet footer (thrift
// FileMetaData): where each column chunk and its page index lie. The rest
// is skipped as it is decoded.
type footerLayout struct {
	RowGroups []struct {
		Columns []struct {
			Meta struct {
				Size       int64 `thrift:"7"` // total_compressed_size
				DataPage   int64 `thrift:"9"`
				Dictionary int64 `thrift:"11"`
			} `thrift:"3"`
			OffsetIndex       int64 `thrift:"4"`
			OffsetIndexLength int32 `thrift:"5"`
			ColumnIndex       int64 `thrift:"6"`
			ColumnIndexLength int32 `thrift:"7"`
		} `thrift:"1"`
	} `thrift:"4"`
}

// checkFooter refuses a Parquet footer that declares data the file does not
// hold, before parquet-go reads it: a column chunk or page index outside the
// file (such as a chunk of 2^40 bytes), or chunks and indexes adding up to
// more than the file (row groups sharing one chunk, each of which would be
// read, and its index held, once per row group). In a valid file they are
// disjoint parts of it, so the check costs no valid file anything but the
// footer's decoding, in a few bytes per column chunk.
func checkFooter(f io.ReaderAt, size int64) error {
	var tail [8]byte
	if size < 12 {
		return fmt.Errorf("%d bytes: too short for Parquet", size)
	}
	if _, err := f.ReadAt(tail[:], size-8); err != nil {
		return fmt.Errorf("reading the footer: %w", err)
	}
	n := int64(binary.LittleEndian.Uint32(tail[:4]))
	end := size - 8 - n // where the data ends and the footer begins
	if end < 4 {
		return fmt.Errorf("a footer of %d bytes declared in a file of %d", n, size)
	}
	footer := make([]byte, n)
	if _, err := f.ReadAt(footer, end); err != nil {
		return fmt.Errorf("reading the footer: %w", err)
	}
	var l footerLayout
	if err := thrift.Unmarshal(new(thrift.CompactProtocol), footer, &l); err != nil {
		return nil // not what it seems: parquet-go's own reading says what is wrong
	}
	inside := func(off, n int64) bool { return off >= 4 && n >= 0 && off <= end && n <= end-off }
	var total int64
	for i, g := range l.RowGroups {
		for j, c := range g.Columns {
			m := c.Meta
			if m.Size == 0 && m.DataPage == 0 { // no plain metadata (an encrypted column)
				continue
			}
			start := m.DataPage
			if m.Dictionary > 0 && m.Dictionary < start {
				start = m.Dictionary
			}
			if !inside(start, m.Size) {
				return fmt.Errorf("row group %d, column %d declares a chunk of %d bytes at offset %d, beyond the %d bytes of data in the file", i, j, m.Size, start, end)
			}
			if c.OffsetIndexLength != 0 && !inside(c.OffsetIndex, int64(c.OffsetIndexLength)) ||
				c.ColumnIndexLength != 0 && !inside(c.ColumnIndex, int64(c.ColumnIndexLength)) {
				return fmt.Errorf("row group %d, column %d declares a page index beyond the %d bytes of data in the file", i, j, end)
			}
			total += m.Size + int64(c.OffsetIndexLength) + int64(c.ColumnIndexLength)
			if total > end {
				return fmt.Errorf("its footer lists %d row groups whose column chunks and page indexes add up to more than the %d bytes of data in the file: row groups share chunks, or declare false sizes", len(l.RowGroups), end)
			}
		}
	}
	return nil
}
