package ioformat

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"hash/crc32"
	"math"
	"reflect"
	"slices"
	"strings"
	"unsafe"

	"github.com/parquet-go/parquet-go"
	"github.com/parquet-go/parquet-go/compress"
	"github.com/parquet-go/parquet-go/encoding/delta"
	"github.com/parquet-go/parquet-go/encoding/rle"
	"github.com/parquet-go/parquet-go/encoding/thrift"
	"github.com/parquet-go/parquet-go/format"
)

// flatWriter writes records of a flat struct type (every field a required
// number, bool or string) as Parquet, column by column straight out of the
// records. It writes the schema, footer, data pages v2, chunk statistics
// and page indexes parquet-go's GenericWriter writes for the same records
// and options, read back as the same records. What it leaves out is
// parquet-go's dispatch of 64 rows at a time through every column's
// buffers and bounds, which took half of a NetFlow decode's time.
//
// Its encodings are parquet-go's (PLAIN floats and bools,
// DELTA_LENGTH_BYTE_ARRAY strings, RLE_DICTIONARY for `dict` columns until
// their dictionary outgrows DictionaryMaxBytes) but for two, both standard
// and read by parquet-go, DuckDB and Arrow:
//
//   - Integer columns and untagged string columns try RLE_DICTIONARY too,
//     and give it up, mid-chunk, once their values stop repeating
//     (tryDict). Of a NetFlow export's columns, the 17 of one value or a few
//     (interfaces, AS numbers, TOS, the date and hour, obyt/opkt of
//     one-way flows) and the times by the second (treceived, unix_tstamp)
//     keep it: a chunk of one value is a page header and a byte, where
//     PLAIN wrote 80 MB a day that Snappy then read.
//   - The other integers are DELTA_BINARY_PACKED (PLAIN where that would be
//     larger): ports, counts and event ids in 44-137 MB a day where PLAIN
//     and Snappy took 56-160 MB, written at 4 GB/s against Snappy's 0.6.
//
// Pages Snappy would not shrink to 3/4 (packed deltas, random floats) and
// the pages of address columns (rawPages) are stored as they are, flagged
// in their page header (compressData). The bench's NetFlow day (20M flows)
// is 1.08 GB as before (1.05), its decode a third less CPU time.
type flatWriter[T any] struct {
	out       *output
	pages     *pageCodec
	meta      format.FileMetaData
	cols      []*flatColumn
	maxRows   int64
	off       int64 // bytes written so far
	rows      int64 // rows in the row group being filled
	rowGroups []format.RowGroup
	colIndex  [][]format.ColumnIndex // per row group and column; MinValues nil: none
	offIndex  [][]format.OffsetIndex
}

type flatKind uint8

const (
	flatInt32 flatKind = iota
	flatInt64
	flatFloat32
	flatFloat64
	flatBool
	flatString
)

var flatKinds = map[reflect.Kind]flatKind{reflect.Int32: flatInt32, reflect.Int64: flatInt64,
	reflect.Float32: flatFloat32, reflect.Float64: flatFloat64, reflect.Bool: flatBool, reflect.String: flatString}

var flatTypes = [...]format.Type{flatInt32: format.Int32, flatInt64: format.Int64, flatFloat32: format.Float,
	flatFloat64: format.Double, flatBool: format.Boolean, flatString: format.ByteArray}

// newFlatWriter returns a flatWriter of T's records to out, or false when T
// is not flat or opts ask for what it does not do (then GenericWriter).
func newFlatWriter[T any](out *output, opts []parquet.WriterOption) (*flatWriter[T], bool) {
	fields, ok := flatFields(reflect.TypeFor[T]())
	if !ok || len(fields) == 0 {
		return nil, false
	}
	schema := parquet.SchemaOf(new(T))
	cfg, err := parquet.NewWriterConfig(opts...)
	if err != nil || cfg.DataPageVersion != 2 || cfg.DataPageStatistics || len(cfg.BloomFilters) > 0 ||
		len(cfg.Sorting.SortingColumns) > 0 || cfg.Encryption != nil || len(cfg.Encodings) > 0 {
		return nil, false
	}
	meta, err := EmptyFooter(schema, opts)
	if err != nil || len(meta.Schema) != len(fields)+1 {
		return nil, false
	}
	w := &flatWriter[T]{out: out, meta: *meta, maxRows: cfg.MaxRowsPerRowGroup, pages: new(pageCodec)}
	if cfg.Compression != nil && cfg.Compression.CompressionCodec() != format.Uncompressed {
		w.pages.codec = cfg.Compression
	}
	pageSize := int(float64(cfg.PageBufferSize) * 0.98)
	for i, f := range fields {
		kind := flatKinds[f.kind]
		leaf, ok := schema.Lookup(f.name)
		e := &meta.Schema[i+1]
		if !ok || e.Name != f.name || e.NumChildren.Valid || !e.RepetitionType.Valid ||
			e.RepetitionType.V != format.Required || e.Type.V != flatTypes[kind] || leaf.Node.Compression() != nil {
			return nil, false
		}
		dict := false
		if enc := leaf.Node.Encoding(); enc != nil {
			if enc.Encoding() != format.RLEDictionary || kind != flatString {
				return nil, false
			}
			dict = true
		}
		// Untagged strings and integers try a dictionary too (see tryDict).
		try := !dict && (kind == flatString || kind == flatInt32 || kind == flatInt64)
		c := &flatColumn{name: f.name, off: f.off, kind: kind, dict: dict || try, try: try, raw: rawPages[f.name], pages: w.pages,
			pageSize: pageSize, indexLimit: cfg.ColumnIndexSizeLimit([]string{f.name}),
			dictMax: int(cfg.DictionaryMaxBytes), bounds: true, vals: make([]byte, 0, pageSize+64),
			idxCap: int(min(cfg.MaxRowsPerRowGroup, RowGroupRows))}
		for _, p := range cfg.SkipPageBounds {
			if len(p) == 1 && p[0] == f.name {
				c.bounds = false
			}
		}
		if c.dictMax <= 0 {
			c.dictMax = math.MaxInt
		}
		if kind == flatString { // a page's offsets, at most one per 4 bytes (see addStrings)
			c.offs = make([]uint32, 0, pageSize/4+2)
		}
		c.reset()
		w.cols = append(w.cols, c)
	}
	if _, err := w.write([]byte("PAR1")); err != nil {
		return nil, false
	}
	return w, true
}

// EmptyFooter is the footer parquet-go writes for a file of schema with no
// rows: the schema, column orders, key-value metadata and creator that a
// file written another way (flatWriter, columnar's assembler) copies.
func EmptyFooter(schema *parquet.Schema, opts []parquet.WriterOption) (*format.FileMetaData, error) {
	var buf bytes.Buffer
	w := parquet.NewGenericWriter[any](&buf, append([]parquet.WriterOption{schema}, opts...)...)
	if err := w.Close(); err != nil {
		return nil, err
	}
	b := buf.Bytes()
	if len(b) < 12 {
		return nil, fmt.Errorf("parquet: empty file of %d bytes", len(b))
	}
	n := int(binary.LittleEndian.Uint32(b[len(b)-8:]))
	if n > len(b)-12 {
		return nil, fmt.Errorf("parquet: footer of %d bytes in a file of %d", n, len(b))
	}
	meta := new(format.FileMetaData)
	if err := thrift.Unmarshal(new(thrift.CompactProtocol), b[len(b)-8-n:len(b)-8], meta); err != nil {
		return nil, err
	}
	return meta, nil
}

func (w *flatWriter[T]) write(b []byte) (int, error) {
	n, err := w.out.w.Write(b)
	w.off += int64(n)
	return n, err
}

func (w *flatWriter[T]) Write(recs []T) error {
	var zero T
	stride := unsafe.Sizeof(zero)
	for len(recs) > 0 {
		n := min(int64(len(recs)), w.maxRows-w.rows)
		base := unsafe.Pointer(unsafe.SliceData(recs))
		for _, c := range w.cols {
			if err := c.add(base, stride, int(n)); err != nil {
				return err
			}
		}
		w.rows += n
		recs = recs[n:]
		if w.rows == w.maxRows {
			if err := w.flushRowGroup(); err != nil {
				return err
			}
		}
	}
	return nil
}

// flushRowGroup writes the row group being filled.
func (w *flatWriter[T]) flushRowGroup() error {
	if w.rows == 0 {
		return nil
	}
	rg := format.RowGroup{NumRows: w.rows, FileOffset: w.off, Ordinal: int16(len(w.rowGroups))}
	cis := make([]format.ColumnIndex, len(w.cols))
	ois := make([]format.OffsetIndex, len(w.cols))
	for i, c := range w.cols {
		if err := c.finish(); err != nil {
			return err
		}
		start := w.off
		for _, b := range c.chunk.blocks {
			if _, err := w.write(b); err != nil {
				return err
			}
		}
		md := format.ColumnMetaData{
			Type:                  flatTypes[c.kind],
			Encoding:              c.encodings(),
			PathInSchema:          []string{c.name},
			Codec:                 format.Uncompressed,
			NumValues:             w.rows,
			TotalUncompressedSize: c.uncompressed,
			TotalCompressedSize:   int64(c.chunk.n),
			DataPageOffset:        start + int64(c.dictLen),
		}
		if w.pages.codec != nil {
			md.Codec = w.pages.codec.CompressionCodec()
		}
		if c.dictLen > 0 {
			md.DictionaryPageOffset = start
		}
		if c.kind == flatString {
			md.SizeStatistics.UnencodedByteArrayDataBytes = c.unencoded
		}
		if c.ranged() {
			md.Statistics = format.Statistics{MinValue: c.cmin, MaxValue: c.cmax}
			cis[i] = c.index
			cis[i].BoundaryOrder = c.order()
		}
		locs := slices.Clone(c.locs)
		for j := range locs {
			locs[j].Offset += start
		}
		ois[i] = format.OffsetIndex{PageLocations: locs}
		rg.Columns = append(rg.Columns, format.ColumnChunk{FileOffset: start, MetaData: md})
		rg.TotalByteSize += c.uncompressed
		rg.TotalCompressedSize += int64(c.chunk.n)
		c.reset()
	}
	w.rowGroups = append(w.rowGroups, rg)
	w.colIndex = append(w.colIndex, cis)
	w.offIndex = append(w.offIndex, ois)
	w.rows = 0
	return nil
}

// Close writes the last row group, the page indexes and the footer.
func (w *flatWriter[T]) Close() error {
	if err := w.close(); err != nil {
		w.out.abort()
		return err
	}
	return w.out.commit()
}

func (w *flatWriter[T]) close() error {
	if err := w.flushRowGroup(); err != nil {
		return err
	}
	proto := new(thrift.CompactProtocol)
	put := func(v any, off *int64, n *int32) error { // a page index, and where it went
		b, err := thrift.Marshal(proto, v)
		if err != nil {
			return err
		}
		*off, *n = w.off, int32(len(b))
		_, err = w.write(b)
		return err
	}
	for i := range w.rowGroups {
		for j := range w.colIndex[i] {
			cc := &w.rowGroups[i].Columns[j]
			if w.colIndex[i][j].MinValues != nil {
				if err := put(&w.colIndex[i][j], &cc.ColumnIndexOffset, &cc.ColumnIndexLength); err != nil {
					return err
				}
			}
		}
	}
	for i := range w.rowGroups {
		for j := range w.offIndex[i] {
			cc := &w.rowGroups[i].Columns[j]
			if err := put(&w.offIndex[i][j], &cc.OffsetIndexOffset, &cc.OffsetIndexLength); err != nil {
				return err
			}
		}
	}
	m := w.meta
	m.RowGroups = w.rowGroups
	m.NumRows = 0
	for _, rg := range w.rowGroups {
		m.NumRows += rg.NumRows
	}
	b, err := thrift.Marshal(proto, &m)
	if err != nil {
		return err
	}
	b = binary.LittleEndian.AppendUint32(b, uint32(len(b)))
	_, err = w.write(append(b, "PAR1"...))
	return err
}

func (w *flatWriter[T]) Abort() { w.out.abort() }

// flatColumn is one column of a flatWriter: the page and the column chunk
// being filled.
type flatColumn struct {
	name       string
	off        uintptr // in the record
	kind       flatKind
	dict       bool // RLE_DICTIONARY
	try        bool // and only while the chunk's values repeat (tryDict)
	raw        bool // data pages are stored uncompressed (rawPages)
	pages      *pageCodec
	pageSize   int  // bytes of values in a page
	indexLimit int  // bytes of a string bound in the column index
	dictMax    int  // bytes of a dictionary, past which the chunk is plain
	bounds     bool // min/max are kept (statistics, column index)

	// The page being filled.
	vals     []byte   // plain values; bools one byte each; strings' bytes
	offs     []uint32 // strings: where each value starts in vals, and the end
	n        int
	imin     int64 // bounds of integer pages
	imax     int64
	fmin     float64 // bounds of float pages
	fmax     float64
	nan      bool   // the page holds a NaN: no bounds
	smin     []byte // bounds of string pages
	smax     []byte
	firstRow int64

	// The chunk being filled.
	chunk        chunkBuf // pages, header and body
	dictLen      int      // bytes of the dictionary page at the chunk's start
	locs         []format.PageLocation
	index        format.ColumnIndex
	nobounds     bool // a page had no bounds: no statistics, no column index
	cmin, cmax   []byte
	uncompressed int64
	unencoded    int64
	encs         []format.Encoding // of its data pages

	// Dictionary columns: the chunk's distinct values and each row's index.
	// While the chunk holds one value (an exporter, a tunnel column with no
	// tunnels), its rows are counted in zeros and idx stays empty.
	dictIdx   map[string]int32
	dictVals  []string
	dictNum   map[int64]int32 // integer columns': the same
	dictNums  []int64
	numCache  [256]numSlot // recent integers' indexes, by value
	dictBytes int
	idx       []int32
	zeros     int
	idxCap    int  // rows of a full row group, up to RowGroupRows (see growIdx)
	plain     bool // the dictionary grew past dictMax: plain pages

	// Strings of the batch being added: where their bytes lie.
	recent [64]recentString // dictionary columns: by address
	last   recentString     // the last string
}

// numSlot is an integer of the chunk's dictionary and its index.
type numSlot struct {
	v   int64
	k   int32
	set bool
}

// recentString is a string of the batch being added: where its bytes lie,
// its length and, in a dictionary column, its index.
type recentString struct {
	ptr *byte
	n   int32
	k   int32
}

func (c *flatColumn) reset() {
	c.chunk.reset(c.pages)
	c.dictLen, c.locs = 0, c.locs[:0]
	c.index = format.ColumnIndex{}
	c.nobounds, c.cmin, c.cmax = !c.bounds, nil, nil
	c.uncompressed, c.unencoded, c.encs = 0, 0, c.encs[:0]
	c.firstRow = 0
	c.resetPage()
	if c.dict {
		if c.kind == flatString {
			c.dictIdx = make(map[string]int32)
		} else {
			c.dictNum = make(map[int64]int32)
			c.numCache = [256]numSlot{}
		}
		c.dictVals, c.dictNums, c.dictBytes, c.idx, c.zeros, c.plain = c.dictVals[:0], c.dictNums[:0], 0, c.idx[:0], 0, false
	}
}

func (c *flatColumn) resetPage() {
	c.vals, c.offs, c.n = c.vals[:0], append(c.offs[:0], 0), 0
	c.imin, c.imax = math.MaxInt64, math.MinInt64
	c.fmin, c.fmax, c.nan = math.Inf(1), math.Inf(-1), false
	c.smin, c.smax = nil, nil
}

func (c *flatColumn) ranged() bool { return !c.nobounds && c.cmin != nil }

// encodings lists the chunk's encodings: its dictionary page's, PLAIN, and
// its data pages'.
func (c *flatColumn) encodings() []format.Encoding {
	var encs []format.Encoding
	if c.dictLen > 0 {
		encs = append(encs, format.Plain)
	}
	for _, e := range c.encs {
		if !slices.Contains(encs, e) {
			encs = append(encs, e)
		}
	}
	slices.Sort(encs)
	return encs
}

// add appends the column's values of n records from base.
func (c *flatColumn) add(base unsafe.Pointer, stride uintptr, n int) error {
	p := unsafe.Add(base, c.off) // the field in the next record
	switch c.kind {
	case flatString:
		// Within one Write the records' strings stay as they are: a string
		// whose bytes lie where another's of this batch did is that string.
		// Across batches a caller may reuse its buffers.
		c.recent, c.last = [64]recentString{}, recentString{}
		if c.dict && !c.plain {
			return c.addDict(p, stride, n)
		}
		return c.addStrings(p, stride, n)
	case flatBool:
		for range n {
			var v int64
			if *(*bool)(p) {
				v = 1
			}
			p = unsafe.Add(p, stride)
			c.vals = append(c.vals, byte(v))
			c.imin, c.imax = min(c.imin, v), max(c.imax, v)
		}
		c.n += n
		if len(c.vals) >= 8*c.pageSize {
			return c.flushPage()
		}
		return nil
	}
	if c.dict && !c.plain { // integers
		return c.addDictNums(p, stride, n)
	}
	return c.addNums(p, stride, n)
}

// addNums appends n numbers stride apart from p to the column's plain pages.
func (c *flatColumn) addNums(p unsafe.Pointer, stride uintptr, n int) error {
	size := [...]int{flatInt32: 4, flatInt64: 8, flatFloat32: 4, flatFloat64: 8}[c.kind]
	for i := 0; i < n; {
		m := min(n-i, (c.pageSize-len(c.vals))/size)
		if m <= 0 {
			if err := c.flushPage(); err != nil {
				return err
			}
			continue
		}
		l := len(c.vals)
		c.vals = slices.Grow(c.vals, m*size)[:l+m*size]
		b := c.vals[l:]
		switch c.kind {
		case flatInt32:
			c.imin, c.imax, p = putInt32s(b, p, stride, c.imin, c.imax)
		case flatInt64:
			c.imin, c.imax, p = putInt64s(b, p, stride, c.imin, c.imax)
		case flatFloat32:
			c.fmin, c.fmax, c.nan, p = putFloat32s(b, p, stride, c.fmin, c.fmax, c.nan)
		case flatFloat64:
			c.fmin, c.fmax, c.nan, p = putFloat64s(b, p, stride, c.fmin, c.fmax, c.nan)
		}
		c.n += m
		i += m
	}
	return nil
}

// addStrings appends the n strings stride apart from p, and cuts pages as
// they fill. The page's buffers and count are held in locals while it fills.
func (c *flatColumn) addStrings(p unsafe.Pointer, stride uintptr, n int) error {
	vals, offs, last, count := c.vals, c.offs, c.last, c.n
	for i := 0; i < n; i++ {
		s := *(*string)(p)
		p = unsafe.Add(p, stride)
		// A value like the last one (flows of one second) moves no bound.
		ptr := unsafe.StringData(s)
		cur := recentString{ptr, int32(len(s)), 0}
		if c.bounds && (count == 0 || ptr == nil || cur != last) &&
			(count == 0 || string(vals[offs[len(offs)-2]:]) != s) {
			c.bound(unsafe.Slice(ptr, len(s)))
		}
		last = cur
		vals = appendString(vals, s)
		offs = append(offs, uint32(len(vals)))
		count++
		if len(vals)+4*count >= c.pageSize {
			c.vals, c.offs, c.n = vals, offs, count
			if err := c.flushPage(); err != nil {
				return err
			}
			vals, offs, count = c.vals, c.offs, c.n
		}
	}
	c.vals, c.offs, c.last, c.n = vals, offs, last, count
	return nil
}

// appendString appends s to b. Strings of up to 32 bytes (addresses, times)
// are copied in overlapping words, without a call to memmove.
func appendString(b []byte, s string) []byte {
	l, n := len(b), len(s)
	if n > 32 || cap(b)-l < 32 {
		return append(b, s...)
	}
	b = b[:l+n]
	dst, src := unsafe.Pointer(&b[l : l+1][0]), unsafe.Pointer(unsafe.StringData(s))
	switch {
	case n >= 16:
		*(*[2]uint64)(dst) = *(*[2]uint64)(src)
		*(*[2]uint64)(unsafe.Add(dst, n-16)) = *(*[2]uint64)(unsafe.Add(src, n-16))
	case n >= 8:
		*(*uint64)(dst) = *(*uint64)(src)
		*(*uint64)(unsafe.Add(dst, n-8)) = *(*uint64)(unsafe.Add(src, n-8))
	case n >= 4:
		*(*uint32)(dst) = *(*uint32)(src)
		*(*uint32)(unsafe.Add(dst, n-4)) = *(*uint32)(unsafe.Add(src, n-4))
	default:
		copy(b[l:], s)
	}
	return b
}

// putInt32s stores the int32 fields stride apart from p in b, plain, one
// per 4 bytes of b, and widens lo..hi to them; it returns where the next
// field lies. The put functions are not inlined, so that their loops keep
// everything in registers (inlined into add, the loop's counter lived on
// the stack, a store and a load per value: NetFlow decodes took 3-9%
// longer). The integer ones take four values a step, so that the bounds
// wait on one min and one max per four values rather than per value.
//
//go:noinline
func putInt32s(b []byte, p unsafe.Pointer, stride uintptr, lo, hi int64) (int64, int64, unsafe.Pointer) {
	l, h := int32(min(lo, math.MaxInt32)), int32(max(hi, math.MinInt32))
	for ; len(b) >= 16; b = b[16:] {
		v0, v1 := *(*int32)(p), *(*int32)(unsafe.Add(p, stride))
		v2, v3 := *(*int32)(unsafe.Add(p, 2*stride)), *(*int32)(unsafe.Add(p, 3*stride))
		p = unsafe.Add(p, 4*stride)
		binary.LittleEndian.PutUint32(b, uint32(v0))
		binary.LittleEndian.PutUint32(b[4:], uint32(v1))
		binary.LittleEndian.PutUint32(b[8:], uint32(v2))
		binary.LittleEndian.PutUint32(b[12:], uint32(v3))
		l = min(l, min(v0, v1), min(v2, v3))
		h = max(h, max(v0, v1), max(v2, v3))
	}
	if l <= h {
		lo, hi = min(lo, int64(l)), max(hi, int64(h))
	}
	for ; len(b) >= 4; b = b[4:] {
		v := *(*int32)(p)
		p = unsafe.Add(p, stride)
		binary.LittleEndian.PutUint32(b, uint32(v))
		lo, hi = min(lo, int64(v)), max(hi, int64(v))
	}
	return lo, hi, p
}

//go:noinline
func putInt64s(b []byte, p unsafe.Pointer, stride uintptr, lo, hi int64) (int64, int64, unsafe.Pointer) {
	for ; len(b) >= 32; b = b[32:] {
		v0, v1 := *(*int64)(p), *(*int64)(unsafe.Add(p, stride))
		v2, v3 := *(*int64)(unsafe.Add(p, 2*stride)), *(*int64)(unsafe.Add(p, 3*stride))
		p = unsafe.Add(p, 4*stride)
		binary.LittleEndian.PutUint64(b, uint64(v0))
		binary.LittleEndian.PutUint64(b[8:], uint64(v1))
		binary.LittleEndian.PutUint64(b[16:], uint64(v2))
		binary.LittleEndian.PutUint64(b[24:], uint64(v3))
		lo = min(lo, min(v0, v1), min(v2, v3))
		hi = max(hi, max(v0, v1), max(v2, v3))
	}
	for ; len(b) >= 8; b = b[8:] {
		v := *(*int64)(p)
		p = unsafe.Add(p, stride)
		binary.LittleEndian.PutUint64(b, uint64(v))
		lo, hi = min(lo, v), max(hi, v)
	}
	return lo, hi, p
}

//go:noinline
func putFloat32s(b []byte, p unsafe.Pointer, stride uintptr, lo, hi float64, nan bool) (float64, float64, bool, unsafe.Pointer) {
	for ; len(b) >= 4; b = b[4:] {
		v := *(*float32)(p)
		p = unsafe.Add(p, stride)
		binary.LittleEndian.PutUint32(b, math.Float32bits(v))
		nan = nan || v != v
		lo, hi = min(lo, float64(v)), max(hi, float64(v))
	}
	return lo, hi, nan, p
}

//go:noinline
func putFloat64s(b []byte, p unsafe.Pointer, stride uintptr, lo, hi float64, nan bool) (float64, float64, bool, unsafe.Pointer) {
	for ; len(b) >= 8; b = b[8:] {
		v := *(*float64)(p)
		p = unsafe.Add(p, stride)
		binary.LittleEndian.PutUint64(b, math.Float64bits(v))
		nan = nan || v != v
		lo, hi = min(lo, v), max(hi, v)
	}
	return lo, hi, nan, p
}

func (c *flatColumn) bound(s []byte) {
	if c.smin == nil || bytes.Compare(s, c.smin) < 0 {
		c.smin = append([]byte{}, s...)
	}
	if c.smax == nil || bytes.Compare(s, c.smax) > 0 {
		c.smax = append([]byte{}, s...)
	}
}

// tryDict reports whether a chunk that tries a dictionary, holding k
// distinct values in rows rows, should give it up: its values repeat too
// little for indexes to pay (addresses, ports, byte counts, event ids).
// Those that stay are the columns of one value or a few (a NetFlow
// export's interfaces, AS numbers, TOS, the hour) and times by the second.
func tryDict(k, rows int) bool { return k > 64+rows/8 }

// addDictNums maps n integers stride apart from p to their indexes in the
// chunk's dictionary, as addDict maps strings.
func (c *flatColumn) addDictNums(p unsafe.Pointer, stride uintptr, n int) error {
	if len(c.idx) == 0 && len(c.dictNums) <= 1 {
		m := c.addConstNums(p, stride, n)
		if m == n {
			return nil
		}
		p, n = unsafe.Add(p, uintptr(m)*stride), n-m
		c.indexZeros()
	}
	if len(c.idx)+n > cap(c.idx) {
		c.growIdx(len(c.idx) + n)
	}
	idx := c.idx
	k := idx[len(idx)-1] // the last value's
	last := c.dictNums[k]
	wide := c.kind == flatInt64
	for i := 0; i < n; i++ {
		var v int64
		if wide {
			v = *(*int64)(p)
		} else {
			v = int64(*(*int32)(p))
		}
		if v != last {
			slot := &c.numCache[uint64(v)*0x9e3779b97f4a7c15>>56]
			if !slot.set || slot.v != v {
				j, ok := c.dictNum[v]
				if !ok {
					if c.try && tryDict(len(c.dictNums)+1, len(idx)+1) {
						c.idx = idx
						if err := c.plainNums(); err != nil {
							return err
						}
						return c.addNums(p, stride, n-i)
					}
					j = int32(len(c.dictNums))
					c.dictNum[v] = j
					c.dictNums = append(c.dictNums, v)
					c.dictBytes += 8
				}
				*slot = numSlot{v, j, true}
			}
			last, k = v, slot.k
		}
		idx = append(idx, k)
		p = unsafe.Add(p, stride)
	}
	c.idx = idx
	if c.dictBytes > c.dictMax {
		return c.plainNums()
	}
	return nil
}

// addConstNums is addConst for integers.
func (c *flatColumn) addConstNums(p unsafe.Pointer, stride uintptr, n int) int {
	wide := c.kind == flatInt64
	if len(c.dictNums) == 0 {
		v := int64(*(*int32)(p))
		if wide {
			v = *(*int64)(p)
		}
		c.dictNum[v] = 0
		c.dictNums = append(c.dictNums, v)
		c.dictBytes += 8
	}
	var m int
	if wide {
		m = same64(p, stride, n, c.dictNums[0])
	} else {
		m = same32(p, stride, n, int32(c.dictNums[0]))
	}
	c.zeros += m
	return m
}

// same32 counts the leading int32s of n, stride apart from p, equal to v.
// Four a step, so that the loads overlap.
//
//go:noinline
func same32(p unsafe.Pointer, stride uintptr, n int, v int32) int {
	i := 0
	for ; i+4 <= n; i += 4 {
		a, b := *(*int32)(p), *(*int32)(unsafe.Add(p, stride))
		c, d := *(*int32)(unsafe.Add(p, 2*stride)), *(*int32)(unsafe.Add(p, 3*stride))
		if a != v || b != v || c != v || d != v {
			break
		}
		p = unsafe.Add(p, 4*stride)
	}
	for ; i < n && *(*int32)(p) == v; i++ {
		p = unsafe.Add(p, stride)
	}
	return i
}

// same64 is same32 for int64s.
//
//go:noinline
func same64(p unsafe.Pointer, stride uintptr, n int, v int64) int {
	i := 0
	for ; i+4 <= n; i += 4 {
		a, b := *(*int64)(p), *(*int64)(unsafe.Add(p, stride))
		c, d := *(*int64)(unsafe.Add(p, 2*stride)), *(*int64)(unsafe.Add(p, 3*stride))
		if a != v || b != v || c != v || d != v {
			break
		}
		p = unsafe.Add(p, 4*stride)
	}
	for ; i < n && *(*int64)(p) == v; i++ {
		p = unsafe.Add(p, stride)
	}
	return i
}

// plainNums turns an integer chunk plain: its values so far become plain
// pages.
func (c *flatColumn) plainNums() error {
	c.plain = true
	if c.zeros > 0 {
		c.indexZeros()
	}
	var err error
	if c.kind == flatInt64 {
		vals := make([]int64, len(c.idx))
		for i, k := range c.idx {
			vals[i] = c.dictNums[k]
		}
		err = c.addNums(unsafe.Pointer(unsafe.SliceData(vals)), 8, len(vals))
	} else {
		vals := make([]int32, len(c.idx))
		for i, k := range c.idx {
			vals[i] = int32(c.dictNums[k])
		}
		err = c.addNums(unsafe.Pointer(unsafe.SliceData(vals)), 4, len(vals))
	}
	c.idx = c.idx[:0]
	return err
}

// addDict maps n strings to their indexes in the chunk's dictionary; past
// dictMax bytes of dictionary the chunk turns plain.
func (c *flatColumn) addDict(p unsafe.Pointer, stride uintptr, n int) error {
	if len(c.idx) == 0 && len(c.dictVals) <= 1 {
		m := c.addConst(p, stride, n)
		if m == n {
			return c.checkDict()
		}
		p, n = unsafe.Add(p, uintptr(m)*stride), n-m
		c.indexZeros()
	}
	if len(c.idx)+n > cap(c.idx) {
		c.growIdx(len(c.idx) + n)
	}
	idx, last := c.idx, recentString{n: -1} // no string's
	for i := range n {
		s := *(*string)(p)
		p = unsafe.Add(p, stride)
		// Decoders take names (protocols, flags, exporters) from tables,
		// so where a string's bytes lie mostly tells its index, with no
		// bytes compared; a column's value is often the last one's (an
		// empty column's, "" with no bytes, is looked up once a batch).
		ptr := unsafe.StringData(s)
		if ptr == last.ptr && int32(len(s)) == last.n {
			idx = append(idx, last.k)
			continue
		}
		hit := &c.recent[uintptr(unsafe.Pointer(ptr))>>4%uintptr(len(c.recent))]
		if hit.ptr != ptr || hit.n != int32(len(s)) || ptr == nil {
			if _, ok := c.dictIdx[s]; !ok && c.try && tryDict(len(c.dictVals)+1, len(idx)+1) {
				c.idx = idx
				if err := c.plainStrings(); err != nil {
					return err
				}
				return c.addStrings(unsafe.Add(p, -int(stride)), stride, n-i)
			}
			*hit = recentString{ptr, int32(len(s)), c.intern(s)}
		}
		last = *hit
		idx = append(idx, last.k)
	}
	c.idx = idx
	return c.checkDict()
}

// addConst counts the leading strings of n, stride apart from p, that are
// the chunk's one value (the first string, in an empty chunk), and returns
// how many it counted. A string whose bytes lie where the last one's did
// is that value, with no bytes compared (decoders take an exporter's name
// from one place).
func (c *flatColumn) addConst(p unsafe.Pointer, stride uintptr, n int) int {
	if len(c.dictVals) == 0 {
		c.intern(*(*string)(p))
	}
	v, last := c.dictVals[0], c.dictVals[0]
	for i := range n {
		s := *(*string)(p)
		if unsafe.StringData(s) != unsafe.StringData(last) || len(s) != len(last) {
			if s != v {
				c.zeros += i
				return i
			}
			last = s
		}
		p = unsafe.Add(p, stride)
	}
	c.zeros += n
	return n
}

// indexZeros writes the counted rows of the chunk's one value into idx.
func (c *flatColumn) indexZeros() {
	if c.zeros > cap(c.idx) {
		c.growIdx(c.zeros)
	}
	c.idx = c.idx[:c.zeros]
	clear(c.idx)
	c.zeros = 0
}

// growIdx gives idx room for n indexes: twice that while the chunk is
// small, and a full row group's once it has a sixteenth of one (every
// doubling copied idx into fresh memory, a page fault a 4 kB: 550 of a
// NetFlow decode's faults).
func (c *flatColumn) growIdx(n int) {
	size := max(2*n, 1024)
	if size > c.idxCap/16 {
		size = max(size, c.idxCap)
	}
	c.idx = append(make([]int32, 0, size), c.idx...)
}

// intern returns s's index in the chunk's dictionary, adding it if new.
func (c *flatColumn) intern(s string) int32 {
	k, ok := c.dictIdx[s]
	if !ok {
		k = int32(len(c.dictVals))
		v := strings.Clone(s) // the caller's bytes may be reused
		c.dictIdx[v] = k
		c.dictVals = append(c.dictVals, v)
		c.dictBytes += 4 + len(v)
	}
	return k
}

// checkDict turns the chunk plain once its dictionary outgrows dictMax: its
// values so far become plain pages.
func (c *flatColumn) checkDict() error {
	if c.dictBytes <= c.dictMax {
		return nil
	}
	return c.plainStrings()
}

// plainStrings turns a string chunk plain: its values so far become plain
// pages.
func (c *flatColumn) plainStrings() error {
	c.plain = true
	if c.zeros > 0 {
		c.indexZeros()
	}
	vals := make([]string, len(c.idx))
	for i, k := range c.idx {
		vals[i] = c.dictVals[k]
	}
	c.idx = c.idx[:0]
	return c.addStrings(unsafe.Pointer(unsafe.SliceData(vals)), unsafe.Sizeof(""), len(vals))
}

// chunkBuf is a column chunk being filled, in blocks of chunkBlock bytes
// from its writer's pageCodec: grown as one slice, the chunks of a row
// group were copied into fresh memory at each growth, a page fault per
// 4 kB (a sixth of a NetFlow decode's faults).
type chunkBuf struct {
	blocks [][]byte // full, but for the last
	n      int      // bytes in all
}

// chunkBlock is the size of a chunkBuf's blocks: small, as a chunk's last
// block is partly filled, and a constant column's chunk is all in one.
const chunkBlock = 32 << 10

func (b *chunkBuf) append(p *pageCodec, s []byte) {
	b.n += len(s)
	for len(s) > 0 {
		if len(b.blocks) == 0 || len(b.blocks[len(b.blocks)-1]) == chunkBlock {
			b.blocks = append(b.blocks, p.block())
		}
		last := &b.blocks[len(b.blocks)-1]
		k := min(len(s), chunkBlock-len(*last))
		*last = append(*last, s[:k]...)
		s = s[k:]
	}
}

// reset empties b, its blocks back to p.
func (b *chunkBuf) reset(p *pageCodec) {
	for _, blk := range b.blocks {
		p.blocks = append(p.blocks, blk[:0])
	}
	clear(b.blocks)
	b.blocks, b.n = b.blocks[:0], 0
}

// pageCodec compresses the pages of a file's columns and holds the buffers
// they share.
type pageCodec struct {
	blocks  [][]byte       // free blocks of chunks
	codec   compress.Codec // nil: uncompressed
	scratch []byte
	strings []byte // a page of strings, DELTA_LENGTH_BYTE_ARRAY encoded
	indexes []byte // a page of dictionary indexes, RLE encoded
	deltas  []byte // a page of integers, DELTA_BINARY_PACKED
}

// block returns an empty block of chunkBlock bytes.
func (p *pageCodec) block() []byte {
	if n := len(p.blocks); n > 0 {
		b := p.blocks[n-1]
		p.blocks[n-1] = nil
		p.blocks = p.blocks[:n-1]
		return b
	}
	return make([]byte, 0, chunkBlock)
}

func (p *pageCodec) compress(body []byte) ([]byte, error) {
	if p.codec == nil {
		return body, nil
	}
	var err error
	p.scratch, err = p.codec.Encode(p.scratch[:0], body)
	return p.scratch, err
}

// A data page is stored as is, its DataPageV2 header's is_compressed
// false (the format's per-page flag, which parquet-go, DuckDB and Arrow
// read, as columnar's chunkEncoder writes it), unless the codec shrinks it
// to plainNum/plainDen of its size or less: random values (event ids)
// shrink by nothing, at a tenth of a NetFlow decode's CPU time. A sample
// of probeBytes from the page's middle tells before the whole is
// compressed; pages of up to twice
// that are compressed whatever they come to.
const (
	plainNum, plainDen = 3, 4
	probeBytes         = 8 << 10
)

// rawPages are the columns whose data pages are stored uncompressed:
// addresses, which Snappy shrinks by 42% at 0.25 GB/s, 1.6 s of a NetFlow
// day's 12 s decode (and 0.5 s of featurize's reading), for 200 MB more of
// a 1.09 GB file.
var rawPages = map[string]bool{"sip": true, "dip": true}

// compressData returns a data page's body compressed, or as it is when
// compressing does not pay, and which.
func (p *pageCodec) compressData(body []byte) ([]byte, bool, error) {
	if p.codec == nil {
		return body, false, nil
	}
	if len(body) <= 2*probeBytes { // small pages are compressed, as before
		comp, err := p.compress(body)
		return comp, true, err
	}
	mid := len(body) / 2 // past the lengths of a page of strings
	sample, err := p.codec.Encode(p.scratch[:0], body[mid-probeBytes/2:mid+probeBytes/2])
	if err != nil {
		return nil, false, err
	}
	p.scratch = sample
	if len(sample) > probeBytes*plainNum/plainDen {
		return body, false, nil
	}
	comp, err := p.compress(body)
	if err != nil || len(comp) > len(body)*plainNum/plainDen {
		return body, false, err
	}
	return comp, true, nil
}

// flushPage writes the page being filled to the chunk.
func (c *flatColumn) flushPage() error {
	if c.n == 0 {
		return nil
	}
	var body []byte
	enc := format.Plain
	switch c.kind {
	case flatString:
		var err error
		if body, err = (&delta.LengthByteArrayEncoding{}).EncodeByteArray(c.pages.strings, c.vals, c.offs); err != nil {
			return err
		}
		c.pages.strings = body
		enc = format.DeltaLengthByteArray
		c.unencoded += int64(len(c.vals))
	case flatBool:
		body = make([]byte, (c.n+7)/8)
		for i, v := range c.vals {
			body[i/8] |= v << (i % 8)
		}
	case flatInt32, flatInt64:
		// Integers that did not keep a dictionary, DELTA_BINARY_PACKED:
		// smaller than PLAIN and Snappy together on byte counts, ports and
		// times, and written at 4 GB/s against Snappy's 0.6 GB/s.
		var err error
		if c.kind == flatInt32 {
			body, err = (&delta.BinaryPackedEncoding{}).EncodeInt32(c.pages.deltas, unsafe.Slice((*int32)(unsafe.Pointer(unsafe.SliceData(c.vals))), len(c.vals)/4))
		} else {
			body, err = (&delta.BinaryPackedEncoding{}).EncodeInt64(c.pages.deltas, unsafe.Slice((*int64)(unsafe.Pointer(unsafe.SliceData(c.vals))), len(c.vals)/8))
		}
		if err != nil {
			return err
		}
		c.pages.deltas = body
		enc = format.DeltaBinaryPacked
		if len(body) >= len(c.vals) { // values too far apart (random 32 bits)
			body, enc = c.vals, format.Plain
		}
	default:
		body = c.vals
	}
	lo, hi, ok := c.pageBounds()
	if err := c.writePage(body, enc, c.n, lo, hi, ok); err != nil {
		return err
	}
	c.resetPage()
	return nil
}

// pageBounds returns the page's min and max as Parquet statistics bytes.
func (c *flatColumn) pageBounds() (lo, hi []byte, ok bool) {
	if !c.bounds {
		return nil, nil, false
	}
	switch c.kind {
	case flatInt32:
		return binary.LittleEndian.AppendUint32(nil, uint32(c.imin)), binary.LittleEndian.AppendUint32(nil, uint32(c.imax)), true
	case flatInt64:
		return binary.LittleEndian.AppendUint64(nil, uint64(c.imin)), binary.LittleEndian.AppendUint64(nil, uint64(c.imax)), true
	case flatBool:
		return []byte{byte(c.imin)}, []byte{byte(c.imax)}, true
	case flatFloat32:
		return binary.LittleEndian.AppendUint32(nil, math.Float32bits(float32(c.fmin))),
			binary.LittleEndian.AppendUint32(nil, math.Float32bits(float32(c.fmax))), !c.nan
	case flatFloat64:
		return binary.LittleEndian.AppendUint64(nil, math.Float64bits(c.fmin)),
			binary.LittleEndian.AppendUint64(nil, math.Float64bits(c.fmax)), !c.nan
	}
	return c.smin, c.smax, c.smin != nil
}

// writePage appends a data page of n values to the chunk and indexes it.
func (c *flatColumn) writePage(body []byte, enc format.Encoding, n int, lo, hi []byte, ok bool) error {
	comp, compressed, err := body, false, error(nil)
	// Packed bits leave nothing for a codec to find. (The chunk keeps the
	// file's codec: parquet-go reads every chunk of a column with its first
	// chunk's.)
	if enc != format.DeltaBinaryPacked && !c.raw {
		if comp, compressed, err = c.pages.compressData(body); err != nil {
			return err
		}
	}
	if !slices.Contains(c.encs, enc) {
		c.encs = append(c.encs, enc)
	}
	h := format.PageHeader{Type: format.DataPageV2, UncompressedPageSize: int32(len(body)),
		CompressedPageSize: int32(len(comp)), CRC: int32(crc32.ChecksumIEEE(comp))}
	h.DataPageHeaderV2 = thrift.New(format.DataPageHeaderV2{NumValues: int32(n), NumRows: int32(n),
		Encoding: enc, IsCompressed: thrift.New(compressed)})
	hb, err := thrift.Marshal(new(thrift.CompactProtocol), &h)
	if err != nil {
		return err
	}
	c.locs = append(c.locs, format.PageLocation{Offset: int64(c.chunk.n), CompressedPageSize: int32(len(hb) + len(comp)), FirstRowIndex: c.firstRow})
	c.chunk.append(c.pages, hb)
	c.chunk.append(c.pages, comp)
	c.uncompressed += int64(len(hb) + len(body))
	c.firstRow += int64(n)
	if !ok {
		c.nobounds = true
		return nil
	}
	c.index.NullPages = append(c.index.NullPages, false)
	c.index.NullCounts = append(c.index.NullCounts, 0)
	if c.kind == flatString {
		c.index.MinValues = append(c.index.MinValues, truncateMin(lo, c.indexLimit))
		c.index.MaxValues = append(c.index.MaxValues, truncateMax(hi, c.indexLimit))
	} else {
		c.index.MinValues = append(c.index.MinValues, lo)
		c.index.MaxValues = append(c.index.MaxValues, hi)
	}
	if c.cmin == nil || c.less(lo, c.cmin) {
		c.cmin = slices.Clone(lo)
	}
	if c.cmax == nil || c.less(c.cmax, hi) {
		c.cmax = slices.Clone(hi)
	}
	return nil
}

// less compares two of the column's statistics values.
func (c *flatColumn) less(a, b []byte) bool {
	switch c.kind {
	case flatInt32:
		return int32(binary.LittleEndian.Uint32(a)) < int32(binary.LittleEndian.Uint32(b))
	case flatInt64:
		return int64(binary.LittleEndian.Uint64(a)) < int64(binary.LittleEndian.Uint64(b))
	case flatFloat32:
		return math.Float32frombits(binary.LittleEndian.Uint32(a)) < math.Float32frombits(binary.LittleEndian.Uint32(b))
	case flatFloat64:
		return math.Float64frombits(binary.LittleEndian.Uint64(a)) < math.Float64frombits(binary.LittleEndian.Uint64(b))
	}
	return bytes.Compare(a, b) < 0
}

// order is the boundary order of the chunk's column index.
func (c *flatColumn) order() format.BoundaryOrder {
	asc, desc := true, true
	mins, maxs := c.index.MinValues, c.index.MaxValues
	for i := 1; i < len(mins); i++ {
		if c.less(mins[i], mins[i-1]) || c.less(maxs[i], maxs[i-1]) {
			asc = false
		}
		if c.less(mins[i-1], mins[i]) || c.less(maxs[i-1], maxs[i]) {
			desc = false
		}
	}
	switch {
	case asc:
		return format.Ascending
	case desc:
		return format.Descending
	}
	return format.Unordered
}

// finish writes the chunk's last pages: the page being filled, or the
// dictionary and its index pages.
func (c *flatColumn) finish() error {
	if !c.dict || c.plain {
		return c.flushPage()
	}
	// The dictionary page, PLAIN.
	var dict []byte
	for _, s := range c.dictVals {
		dict = binary.LittleEndian.AppendUint32(dict, uint32(len(s)))
		dict = append(dict, s...)
	}
	for _, v := range c.dictNums {
		if c.kind == flatInt32 {
			dict = binary.LittleEndian.AppendUint32(dict, uint32(v))
		} else {
			dict = binary.LittleEndian.AppendUint64(dict, uint64(v))
		}
	}
	size := len(c.dictVals) + len(c.dictNums)
	comp, err := c.pages.compress(dict)
	if err != nil {
		return err
	}
	h := format.PageHeader{Type: format.DictionaryPage, UncompressedPageSize: int32(len(dict)),
		CompressedPageSize: int32(len(comp)), CRC: int32(crc32.ChecksumIEEE(comp))}
	h.DictionaryPageHeader = thrift.New(format.DictionaryPageHeader{NumValues: int32(size), Encoding: format.Plain})
	hb, err := thrift.Marshal(new(thrift.CompactProtocol), &h)
	if err != nil {
		return err
	}
	c.chunk.append(c.pages, hb)
	c.chunk.append(c.pages, comp)
	c.dictLen = c.chunk.n
	c.uncompressed += int64(len(hb) + len(dict))
	per := max(c.pageSize/4, 1)
	if c.kind != flatString {
		return c.finishNums(per)
	}
	unencoded := 0
	if len(c.dictVals) == 1 { // a constant column: every full page is the same
		v := c.dictVals[0]
		var one []byte
		for rest := c.zeros; rest > 0; {
			n := min(per, rest)
			rest -= n
			unencoded += n * len(v)
			one = constIndexes(one[:0], n)
			if err := c.writePage(one, format.RLEDictionary, n, []byte(v), []byte(v), c.bounds); err != nil {
				return err
			}
		}
		c.unencoded += int64(unencoded)
		return nil
	}
	// A page's bounds are found among its distinct values: seen[k] is the
	// last page that held value k.
	seen := make([]int32, len(c.dictVals))
	rest := c.idx
	for page := int32(1); len(rest) > 0; page++ {
		idx := rest[:min(per, len(rest))]
		rest = rest[len(idx):]
		var lo, hi string
		first := true
		for _, k := range idx {
			unencoded += len(c.dictVals[k])
			if seen[k] == page {
				continue
			}
			seen[k] = page
			v := c.dictVals[k]
			if first || v < lo {
				lo = v
			}
			if first || v > hi {
				hi = v
			}
			first = false
		}
		body, err := (&rle.DictionaryEncoding{}).EncodeInt32(c.pages.indexes, idx)
		if err != nil {
			return err
		}
		c.pages.indexes = body
		if err := c.writePage(body, format.RLEDictionary, len(idx), []byte(lo), []byte(hi), c.bounds); err != nil {
			return err
		}
	}
	c.unencoded += int64(unencoded)
	return nil
}

// constIndexes appends a page of n dictionary indexes, all 0, RLE encoded:
// bit width 0 and one run (as parquet-go's rle.DictionaryEncoding writes
// them, without reading n zeros to find their width).
func constIndexes(b []byte, n int) []byte {
	return binary.AppendUvarint(append(b, 0), uint64(n)<<1)
}

// finishNums writes an integer chunk's index pages of per rows, as finish
// writes a string chunk's.
func (c *flatColumn) finishNums(per int) error {
	stat := func(v int64) []byte {
		if c.kind == flatInt32 {
			return binary.LittleEndian.AppendUint32(nil, uint32(v))
		}
		return binary.LittleEndian.AppendUint64(nil, uint64(v))
	}
	if len(c.dictNums) == 1 { // a constant column: every full page is the same
		v := stat(c.dictNums[0])
		var one []byte
		for rest := c.zeros; rest > 0; {
			n := min(per, rest)
			rest -= n
			one = constIndexes(one[:0], n)
			if err := c.writePage(one, format.RLEDictionary, n, v, v, c.bounds); err != nil {
				return err
			}
		}
		return nil
	}
	seen := make([]int32, len(c.dictNums)) // the last page that held each value
	rest := c.idx
	for page := int32(1); len(rest) > 0; page++ {
		idx := rest[:min(per, len(rest))]
		rest = rest[len(idx):]
		lo, hi := int64(math.MaxInt64), int64(math.MinInt64)
		for _, k := range idx {
			if seen[k] != page {
				seen[k] = page
				lo, hi = min(lo, c.dictNums[k]), max(hi, c.dictNums[k])
			}
		}
		body, err := (&rle.DictionaryEncoding{}).EncodeInt32(c.pages.indexes, idx)
		if err != nil {
			return err
		}
		c.pages.indexes = body
		if err := c.writePage(body, format.RLEDictionary, len(idx), stat(lo), stat(hi), c.bounds); err != nil {
			return err
		}
	}
	return nil
}

// truncateMin shortens a string lower bound to n bytes.
func truncateMin(b []byte, n int) []byte {
	if n <= 0 || len(b) <= n {
		return b
	}
	return b[:n]
}

// truncateMax shortens a string upper bound to n bytes, rounding up; a
// bound that cannot be rounded up is kept whole.
func truncateMax(b []byte, n int) []byte {
	if n <= 0 || len(b) <= n {
		return b
	}
	out := slices.Clone(b[:n])
	for i := n - 1; i >= 0; i-- {
		if out[i] != 0xff {
			out[i]++
			return out[:i+1]
		}
	}
	return b
}
