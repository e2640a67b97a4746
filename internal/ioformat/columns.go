package ioformat

import (
	"fmt"
	"io"
	"reflect"
	"slices"
	"strings"
	"unsafe"

	"github.com/parquet-go/parquet-go"
	"github.com/parquet-go/parquet-go/encoding"
)

// columnsReader reads a Parquet file column by column straight into the
// fields of T: each column's pages are decoded in bulk (typed slices, no
// parquet.Row, no reflection per value) and their values stored at the
// field's offset in every record of the batch. Only the columns that T has,
// or the subset asked for, are read at all: that is what lets hot stages
// scan 8 of a flow file's 28 columns at tens of millions of rows a second.
//
// Columns are matched by name. Optional (nullable) columns, as DuckDB and
// Hive write them, read as the zero value where null; integer and float
// widths convert as Go conversions do. T may not hold lists (see flatFields).
//
// Strings of one page share one allocation: a consumer that keeps a few
// records for long (a top-N heap) should clone their strings. After
// LendStrings they are not copied at all but point into the decoded pages,
// each held for as many Reads as the caller asked after the last that
// handed its strings out.
type columnsReader[T any] struct {
	in     *Input
	stride uintptr
	cols   []*column
	rg     int   // next row group
	left   int64 // rows left in the current row group
	row    int64 // rows read so far
	serial bool  // decode the columns one after the other (no AsyncPages)
	gen    int   // Reads begun

	sideStride uintptr // a PairReader's side records' size
}

// field is a scalar field of a record type: where it is and what it holds.
type field struct {
	name string // Parquet column
	json string // NDJSON key; "" when its tag has options (omitempty, string)
	off  uintptr
	kind reflect.Kind
}

// flatFields lists T's fields as Parquet columns (parquet tag names;
// embedded structs flattened). ok is false when T has a field the column
// reader cannot fill (a list).
func flatFields(t reflect.Type) (fields []field, ok bool) {
	ok = true
	var walk func(t reflect.Type, base uintptr)
	walk = func(t reflect.Type, base uintptr) {
		for i := range t.NumField() {
			f := t.Field(i)
			if f.Anonymous && f.Type.Kind() == reflect.Struct {
				walk(f.Type, base+f.Offset)
				continue
			}
			if !f.IsExported() {
				continue
			}
			name, _, _ := strings.Cut(f.Tag.Get("parquet"), ",")
			if name == "-" {
				continue
			}
			if name == "" {
				name = f.Name
			}
			key, opts, _ := strings.Cut(f.Tag.Get("json"), ",")
			if key == "" {
				key = f.Name
			}
			if opts != "" {
				key = ""
			}
			switch k := f.Type.Kind(); k {
			case reflect.String, reflect.Bool, reflect.Int32, reflect.Int64, reflect.Float32, reflect.Float64:
				fields = append(fields, field{name: name, json: key, off: base + f.Offset, kind: k})
			default:
				ok = false
			}
		}
	}
	walk(t, 0)
	return fields, ok
}

func newColumnsReader[T any](in *Input, only []string) (*columnsReader[T], error) {
	var zero T
	t := reflect.TypeOf(zero)
	fields, ok := flatFields(t)
	if !ok && len(only) == 0 {
		return nil, errNotFlat
	}
	want := map[string]bool{}
	for _, c := range only {
		want[c] = true
	}
	if !ok && !namesFlat(t, only) {
		return nil, errNotFlat // a list column is asked for
	}
	r := &columnsReader[T]{in: in, stride: t.Size()}
	for _, f := range fields {
		if len(only) > 0 && !want[f.name] {
			continue
		}
		delete(want, f.name)
		if err := r.add(f, false); err != nil {
			return nil, err
		}
	}
	for name := range want {
		return nil, fmt.Errorf("%s: no column %q in %s records", DisplayName(in.Name), name, in.Meta.Kind)
	}
	return r, nil
}

// add reads column f.name, when the file has it, into field f of the
// records (of the side records when side).
func (r *columnsReader[T]) add(f field, side bool) error {
	leaf, ok := r.in.pf.Schema().Lookup(f.name)
	if !ok {
		return nil // absent: the field stays zero
	}
	if leaf.MaxRepetitionLevel > 0 || !leaf.Node.Leaf() {
		return fmt.Errorf("%s: column %s is a list or group; want a single value", DisplayName(r.in.Name), f.name)
	}
	src := leaf.Node.Type().Kind()
	if !convertible(src, f.kind) {
		return fmt.Errorf("%s: column %s holds %s values, which do not convert to %s",
			DisplayName(r.in.Name), f.name, src, f.kind)
	}
	r.cols = append(r.cols, &column{field: f, index: leaf.ColumnIndex, maxDef: byte(leaf.MaxDefinitionLevel), src: src, side: side})
	return nil
}

var errNotFlat = fmt.Errorf("record type holds lists")

// namesFlat reports whether every column named is a scalar field of t (a
// subset of a type with lists can be read column by column).
func namesFlat(t reflect.Type, names []string) bool {
	fields, _ := flatFields(t)
	have := map[string]bool{}
	for _, f := range fields {
		have[f.name] = true
	}
	for _, n := range names {
		if !have[n] && hasColumn(t, n) {
			return false
		}
	}
	return true
}

// hasColumn reports whether t has a field for column name (of any type).
func hasColumn(t reflect.Type, name string) bool {
	for i := range t.NumField() {
		f := t.Field(i)
		if f.Anonymous && f.Type.Kind() == reflect.Struct {
			if hasColumn(f.Type, name) {
				return true
			}
			continue
		}
		if n, _, _ := strings.Cut(f.Tag.Get("parquet"), ","); n == name {
			return true
		}
	}
	return false
}

func convertible(src parquet.Kind, dst reflect.Kind) bool {
	switch src {
	case parquet.Int32, parquet.Int64, parquet.Float, parquet.Double:
		return dst == reflect.Int32 || dst == reflect.Int64 || dst == reflect.Float32 || dst == reflect.Float64
	case parquet.ByteArray:
		return dst == reflect.String
	case parquet.Boolean:
		return dst == reflect.Bool
	}
	return false
}

func (r *columnsReader[T]) Read(buf []T) (n int, err error) {
	defer func() {
		if p := recover(); p != nil {
			n, err = 0, corrupt(r.in.Name, p)
		}
	}()
	return r.read(buf)
}

func (r *columnsReader[T]) read(buf []T) (int, error) {
	n, err := r.begin(len(buf))
	if err != nil {
		return 0, err
	}
	clear(buf[:n])
	return r.fill(unsafe.Pointer(unsafe.SliceData(buf)), nil, n)
}

// begin begins a Read of up to max rows and says how many it reads: those
// left in the row group, in a new one if none are.
func (r *columnsReader[T]) begin(max int) (int, error) {
	r.gen++
	for _, c := range r.cols {
		c.recycle(r.gen)
	}
	for r.left == 0 {
		if err := r.nextRowGroup(); err != nil {
			return 0, err
		}
	}
	return int(min(int64(max), r.left)), nil
}

// fill stores the next n rows' values into the n records at base (and
// the side columns' into the n side records at side, sideStride apart),
// cleared beforehand.
func (r *columnsReader[T]) fill(base, side unsafe.Pointer, n int) (int, error) {
	for _, c := range r.cols {
		at, stride := base, r.stride
		if c.side {
			at, stride = side, r.sideStride
		}
		if err := c.fill(at, stride, n); err != nil {
			return 0, &RecordError{Name: r.in.Name, Unit: "row", Number: r.row + 1,
				Err: fmt.Errorf("column %s: %w", c.name, err)}
		}
	}
	r.left -= int64(n)
	r.row += int64(n)
	return n, nil
}

// SeekToRow positions the reader at row (0-based, counted over the whole
// file): the next Read starts there. Rows in the pages already decoded are
// stepped over; farther ones are reached through the column index, without
// reading the pages between.
func (r *columnsReader[T]) SeekToRow(row int64) error {
	rgs := r.in.pf.RowGroups()
	start := int64(0)
	g := 0
	for ; g < len(rgs); g++ {
		if n := rgs[g].NumRows(); row < start+n {
			break
		}
		start += rgs[g].NumRows()
	}
	if g == len(rgs) { // past the end: the next Read says EOF
		for _, c := range r.cols {
			c.close()
		}
		r.rg, r.left, r.row = len(rgs), 0, start
		return nil
	}
	in := row - start
	if g == r.rg-1 && row >= r.row { // ahead in the current row group
		if err := r.skip(row-r.row, in); err != nil {
			return err
		}
		return nil
	}
	r.rg = g
	if err := r.nextRowGroup(); err != nil {
		return err
	}
	for _, c := range r.cols {
		if err := c.seek(in); err != nil {
			return &RecordError{Name: r.in.Name, Unit: "row", Number: row + 1, Err: fmt.Errorf("column %s: %w", c.name, err)}
		}
	}
	r.left = rgs[g].NumRows() - in
	r.row = row
	return nil
}

// skip steps over n rows of the current row group, to row in of it: each
// column within its decoded page when the row is there, else through the
// column index.
func (r *columnsReader[T]) skip(n, in int64) error {
	for _, c := range r.cols {
		if int64(c.rows-c.row) >= n {
			c.skip(int(n))
			continue
		}
		if err := c.seek(in); err != nil {
			return &RecordError{Name: r.in.Name, Unit: "row", Number: r.row + n + 1, Err: fmt.Errorf("column %s: %w", c.name, err)}
		}
	}
	r.left -= n
	r.row += n
	return nil
}

func (r *columnsReader[T]) nextRowGroup() error {
	rgs := r.in.pf.RowGroups()
	if r.rg >= len(rgs) {
		return io.EOF
	}
	rg := rgs[r.rg]
	r.rg++
	r.left = rg.NumRows()
	chunks := rg.ColumnChunks()
	for _, c := range r.cols {
		c.close()
		c.konst = false
		if c.lazy {
			if v, ok := constant(chunks[c.index], c.src, c.maxDef); ok {
				c.konst, c.kval, c.rows = true, v, int(rg.NumRows())
				continue // no page to read
			}
		}
		c.pages = SafePages(chunks[c.index].Pages())
		if len(r.cols) > 1 && !r.serial {
			c.pages = parquet.AsyncPages(c.pages) // decode columns side by side
		}
	}
	return nil
}

func (r *columnsReader[T]) Close() error {
	for _, c := range r.cols {
		c.close()
		c.recycle(int(^uint(0) >> 1)) // every lent page
	}
	return r.in.Close()
}

// lendStrings implements LendStrings.
func (r *columnsReader[T]) lendStrings(reads int) {
	for _, c := range r.cols {
		c.lend = reads
	}
}

// column is one column being read: its current page decoded into one of
// the typed slices, and how far it has been consumed.
type column struct {
	field
	index  int
	maxDef byte
	src    parquet.Kind
	side   bool // stored in a PairReader's side records

	pages parquet.Pages
	page  parquet.Page
	defs  []byte // definition levels of an optional column's page
	rows  int    // rows in the page
	row   int    // rows consumed
	val   int    // values consumed (rows minus nulls)

	ints   []int64
	floats []float64
	strs   []string
	bools  []bool

	ownInts []int64 // the buffers ints and floats use when not the page's own
	ownFlts []float64

	// A page whose values the fields hold as they are is stored from the
	// page itself, without a conversion: int32 and float32 values, and a
	// dictionary's strings by their indexes. nil when not.
	i32  []int32
	f32  []float32
	sidx []int32

	// lend > 0: a page of byte arrays is not copied; strs point into it
	// (viewed), and once read it is held, not released, through the lend
	// Reads after the last one (gen) that could hand its strings out.
	lend   int
	viewed bool
	gen    int
	held   []heldPage

	// lazy: the page's values are left as decoded (raw below, or indexes
	// into the dictionary) and converted one by one as they are stored:
	// for reading a few rows of each page (GroupReader.RowsOf).
	lazy   bool
	konst  bool    // and every value of the row group is kval: no page is read
	kval   int64   //
	idx    []int32 // dictionary indexes
	raw32  []int32
	rawF32 []float32
	raw    []byte // byte arrays and their offsets
	offs   []uint32
	bits   []byte

	dict     parquet.Dictionary // the dictionary dictStrs/dictInts/... were made from
	dictStrs []string
	dictInts []int64
	dictFlts []float64
}

// heldPage is a page whose strings were lent in Reads up to gen.
type heldPage struct {
	page parquet.Page
	gen  int
}

// drop lets the current page go: released, or held when its strings were
// lent.
func (c *column) drop() {
	if c.page == nil {
		return
	}
	if c.viewed {
		c.held = append(c.held, heldPage{c.page, c.gen})
	} else {
		parquet.Release(c.page)
	}
	c.page, c.viewed = nil, false
}

// recycle begins Read gen: the pages lent last in Reads up to gen-lend-1
// are released, their buffers free for the pages to come.
func (c *column) recycle(gen int) {
	c.gen = gen
	k := 0
	for _, h := range c.held {
		if h.gen < gen-c.lend {
			parquet.Release(h.page)
		} else {
			c.held[k] = h
			k++
		}
	}
	clear(c.held[k:])
	c.held = c.held[:k]
}

func (c *column) close() {
	c.drop()
	if c.pages != nil {
		c.pages.Close()
		c.pages = nil
	}
	c.row, c.rows = 0, 0
}

// fill stores the next n values of the column into n records.
func (c *column) fill(base unsafe.Pointer, stride uintptr, n int) error {
	for i := 0; i < n; {
		if c.row == c.rows {
			if err := c.nextPage(); err != nil {
				return err
			}
			continue
		}
		k := min(n-i, c.rows-c.row)
		c.store(unsafe.Add(base, uintptr(i)*stride+c.off), stride, k)
		i += k
	}
	return nil
}

func (c *column) nextPage() error {
	c.drop()
	p, err := c.pages.ReadPage()
	if err == io.EOF {
		return io.ErrUnexpectedEOF // fewer values than the row group has rows
	}
	if err != nil {
		return err
	}
	c.page = p
	c.rows, c.row, c.val = int(p.NumRows()), 0, 0
	c.defs = nil
	if c.maxDef > 0 {
		c.defs = p.DefinitionLevels()
		if len(c.defs) != c.rows {
			return fmt.Errorf("page has %d definition levels for %d rows", len(c.defs), c.rows)
		}
	}
	data := p.Data()
	var idx []int32
	if d := p.Dictionary(); d != nil {
		idx = data.Int32()
		if d != c.dict {
			c.loadDict(d)
		}
		n := d.Len()
		for _, j := range idx {
			if j < 0 || int(j) >= n {
				return fmt.Errorf("dictionary index %d out of range [0,%d)", j, n)
			}
		}
	}
	values := int(p.NumValues() - p.NumNulls())
	if c.lazy {
		return c.keepRaw(data, idx, values)
	}
	c.i32, c.f32, c.sidx = nil, nil, nil
	switch c.src {
	case parquet.Int32, parquet.Int64:
		// c.ints is the page's own values (released with it) or c.ownInts
		switch {
		case idx != nil:
			c.ownInts = slices.Grow(c.ownInts[:0], len(idx))
			for _, j := range idx {
				c.ownInts = append(c.ownInts, c.dictInts[j])
			}
			c.ints = c.ownInts
		case c.src == parquet.Int32 && c.kind == reflect.Int32:
			c.i32 = data.Int32()
			return c.check(len(c.i32), values)
		case c.src == parquet.Int32:
			vs := data.Int32()
			c.ownInts = slices.Grow(c.ownInts[:0], len(vs))
			for _, v := range vs {
				c.ownInts = append(c.ownInts, int64(v))
			}
			c.ints = c.ownInts
		default:
			c.ints = data.Int64()
		}
		return c.check(len(c.ints), values)
	case parquet.Float, parquet.Double:
		switch {
		case idx != nil:
			c.ownFlts = slices.Grow(c.ownFlts[:0], len(idx))
			for _, j := range idx {
				c.ownFlts = append(c.ownFlts, c.dictFlts[j])
			}
			c.floats = c.ownFlts
		case c.src == parquet.Float && c.kind == reflect.Float32:
			c.f32 = data.Float()
			return c.check(len(c.f32), values)
		case c.src == parquet.Float:
			vs := data.Float()
			c.ownFlts = slices.Grow(c.ownFlts[:0], len(vs))
			for _, v := range vs {
				c.ownFlts = append(c.ownFlts, float64(v))
			}
			c.floats = c.ownFlts
		default:
			c.floats = data.Double()
		}
		return c.check(len(c.floats), values)
	case parquet.ByteArray:
		if idx != nil {
			c.sidx = idx // checked above
			return c.check(len(idx), values)
		}
		b, off := data.ByteArray()
		if c.lend > 0 {
			c.strs, c.viewed = viewStrings(c.strs[:0], b, off), true
		} else {
			c.strs = appendStrings(c.strs[:0], b, off)
		}
		return c.check(len(c.strs), values)
	case parquet.Boolean:
		bits := data.Boolean()
		if len(bits)*8 < values {
			return fmt.Errorf("page has %d bits for %d values", len(bits)*8, values)
		}
		c.bools = c.bools[:0]
		for i := range values {
			c.bools = append(c.bools, bits[i/8]>>(i%8)&1 != 0)
		}
	}
	return nil
}

// keepRaw keeps a page's values as decoded, for storeLazy.
func (c *column) keepRaw(data encoding.Values, idx []int32, values int) error {
	c.idx = idx
	got := len(idx)
	if idx == nil {
		switch c.src {
		case parquet.Int32:
			c.raw32 = data.Int32()
			got = len(c.raw32)
		case parquet.Int64:
			c.ints = data.Int64()
			got = len(c.ints)
		case parquet.Float:
			c.rawF32 = data.Float()
			got = len(c.rawF32)
		case parquet.Double:
			c.floats = data.Double()
			got = len(c.floats)
		case parquet.ByteArray:
			c.raw, c.offs = data.ByteArray()
			got = len(c.offs) - 1
			for i := 1; i < len(c.offs); i++ {
				if c.offs[i-1] > c.offs[i] || int(c.offs[i]) > len(c.raw) {
					return fmt.Errorf("byte array %d of the page is out of its bounds", i)
				}
			}
		case parquet.Boolean:
			c.bits = data.Boolean()
			got = len(c.bits) * 8
		}
	}
	return c.check(got, values)
}

// constant reports whether a required integer column chunk holds one
// value only, by its statistics (min == max), and which.
func constant(cc parquet.ColumnChunk, src parquet.Kind, maxDef byte) (int64, bool) {
	if maxDef > 0 || (src != parquet.Int32 && src != parquet.Int64) {
		return 0, false
	}
	b, ok := cc.(interface {
		Bounds() (min, max parquet.Value, ok bool)
	})
	if !ok {
		return 0, false
	}
	lo, hi, ok := b.Bounds()
	if !ok || lo.IsNull() || hi.IsNull() || lo.Kind() != src || hi.Kind() != src {
		return 0, false
	}
	if src == parquet.Int32 {
		return int64(lo.Int32()), lo.Int32() == hi.Int32()
	}
	return lo.Int64(), lo.Int64() == hi.Int64()
}

// storeLazy is store for a lazy column.
func (c *column) storeLazy(p unsafe.Pointer, stride uintptr, k int) {
	if c.konst {
		for i := range k {
			dst := unsafe.Add(p, uintptr(i)*stride)
			switch c.kind {
			case reflect.Int64:
				*(*int64)(dst) = c.kval
			case reflect.Int32:
				*(*int32)(dst) = int32(c.kval)
			case reflect.Float32:
				*(*float32)(dst) = float32(c.kval)
			case reflect.Float64:
				*(*float64)(dst) = float64(c.kval)
			}
		}
		c.row += k
		c.val += k
		return
	}
	for i := range k {
		if c.defs != nil && c.defs[c.row+i] != c.maxDef {
			continue // null: the zero value
		}
		v := c.val
		c.val++
		dst := unsafe.Add(p, uintptr(i)*stride)
		switch c.src {
		case parquet.Int32, parquet.Int64:
			var x int64
			switch {
			case c.idx != nil:
				x = c.dictInts[c.idx[v]]
			case c.src == parquet.Int32:
				x = int64(c.raw32[v])
			default:
				x = c.ints[v]
			}
			switch c.kind {
			case reflect.Int64:
				*(*int64)(dst) = x
			case reflect.Int32:
				*(*int32)(dst) = int32(x)
			case reflect.Float32:
				*(*float32)(dst) = float32(x)
			case reflect.Float64:
				*(*float64)(dst) = float64(x)
			}
		case parquet.Float, parquet.Double:
			var x float64
			switch {
			case c.idx != nil:
				x = c.dictFlts[c.idx[v]]
			case c.src == parquet.Float:
				x = float64(c.rawF32[v])
			default:
				x = c.floats[v]
			}
			switch c.kind {
			case reflect.Int64:
				*(*int64)(dst) = int64(x)
			case reflect.Int32:
				*(*int32)(dst) = int32(x)
			case reflect.Float32:
				*(*float32)(dst) = float32(x)
			case reflect.Float64:
				*(*float64)(dst) = x
			}
		case parquet.ByteArray:
			if c.idx != nil {
				*(*string)(dst) = c.dictStrs[c.idx[v]]
			} else {
				*(*string)(dst) = string(c.raw[c.offs[v]:c.offs[v+1]])
			}
		case parquet.Boolean:
			*(*bool)(dst) = c.bits[v/8]>>(v%8)&1 != 0
		}
	}
	c.row += k
}

func (c *column) check(got, want int) error {
	if got < want {
		return fmt.Errorf("page has %d values for %d non-null rows", got, want)
	}
	return nil
}

// appendStrings turns a page of byte arrays into strings that share one
// allocation.
func appendStrings(dst []string, data []byte, offsets []uint32) []string {
	if len(offsets) < 2 {
		return dst
	}
	all := string(data)
	dst = slices.Grow(dst, len(offsets)-1)
	for i := 1; i < len(offsets); i++ {
		a, b := offsets[i-1], offsets[i]
		if a > b || int(b) > len(all) {
			break // corrupt; the value count check reports it
		}
		dst = append(dst, all[a:b])
	}
	return dst
}

// viewStrings is appendStrings without the copy: the strings point into
// data, valid as long as it is.
func viewStrings(dst []string, data []byte, offsets []uint32) []string {
	if len(offsets) < 2 {
		return dst
	}
	dst = slices.Grow(dst, len(offsets)-1)
	for i := 1; i < len(offsets); i++ {
		a, b := offsets[i-1], offsets[i]
		if a > b || int(b) > len(data) {
			break // corrupt; the value count check reports it
		}
		s := ""
		if a < b {
			s = unsafe.String(&data[a], b-a)
		}
		dst = append(dst, s)
	}
	return dst
}

func (c *column) loadDict(d parquet.Dictionary) {
	c.dict = d
	data := d.Page().Data()
	switch c.src {
	case parquet.Int32:
		c.dictInts = c.dictInts[:0]
		for _, v := range data.Int32() {
			c.dictInts = append(c.dictInts, int64(v))
		}
	case parquet.Int64:
		c.dictInts = append(c.dictInts[:0], data.Int64()...)
	case parquet.Float:
		c.dictFlts = c.dictFlts[:0]
		for _, v := range data.Float() {
			c.dictFlts = append(c.dictFlts, float64(v))
		}
	case parquet.Double:
		c.dictFlts = append(c.dictFlts[:0], data.Double()...)
	case parquet.ByteArray:
		b, off := data.ByteArray()
		c.dictStrs = appendStrings(c.dictStrs[:0], b, off)
	}
}

// seek positions the column at row in of its row group.
func (c *column) seek(in int64) error {
	if c.konst {
		c.row, c.val = int(in), int(in)
		return nil
	}
	c.drop()
	c.row, c.rows = 0, 0
	return c.pages.SeekToRow(in)
}

// skip steps over the next k rows of the page.
func (c *column) skip(k int) {
	if c.defs == nil {
		c.val += k
	} else {
		for _, d := range c.defs[c.row : c.row+k] {
			if d == c.maxDef {
				c.val++
			}
		}
	}
	c.row += k
}

// store writes the next k rows of the page into k records, the first at p.
func (c *column) store(p unsafe.Pointer, stride uintptr, k int) {
	if c.lazy {
		c.storeLazy(p, stride, k)
		return
	}
	switch {
	case c.i32 != nil:
		storeAs(c, p, stride, k, c.i32)
		return
	case c.f32 != nil:
		storeAs(c, p, stride, k, c.f32)
		return
	case c.sidx != nil:
		storeIndexed(c, p, stride, k, c.sidx, c.dictStrs)
		return
	}
	switch c.src {
	case parquet.Int32, parquet.Int64:
		switch c.kind {
		case reflect.Int64:
			storeAs(c, p, stride, k, c.ints)
		case reflect.Int32:
			storeN(c, p, stride, k, c.ints, func(v int64) int32 { return int32(v) })
		case reflect.Float32:
			storeN(c, p, stride, k, c.ints, func(v int64) float32 { return float32(v) })
		case reflect.Float64:
			storeN(c, p, stride, k, c.ints, func(v int64) float64 { return float64(v) })
		}
	case parquet.Float, parquet.Double:
		switch c.kind {
		case reflect.Int64:
			storeN(c, p, stride, k, c.floats, func(v float64) int64 { return int64(v) })
		case reflect.Int32:
			storeN(c, p, stride, k, c.floats, func(v float64) int32 { return int32(v) })
		case reflect.Float32:
			storeN(c, p, stride, k, c.floats, func(v float64) float32 { return float32(v) })
		case reflect.Float64:
			storeAs(c, p, stride, k, c.floats)
		}
	case parquet.ByteArray:
		storeAs(c, p, stride, k, c.strs)
	case parquet.Boolean:
		storeAs(c, p, stride, k, c.bools)
	}
}

// storeAs is storeN for a field of the values' own type: no conversion,
// and no call per value (storeN calls conv through a func value, which
// cost a third of reading a flow file's columns once decompressed).
func storeAs[V any](c *column, p unsafe.Pointer, stride uintptr, k int, vals []V) {
	if c.defs == nil {
		vals = vals[c.val : c.val+k]
		for i, v := range vals {
			*(*V)(unsafe.Add(p, uintptr(i)*stride)) = v
		}
		c.val += k
	} else {
		for i, d := range c.defs[c.row : c.row+k] {
			if d == c.maxDef {
				*(*V)(unsafe.Add(p, uintptr(i)*stride)) = vals[c.val]
				c.val++
			}
		}
	}
	c.row += k
}

// storeIndexed is storeAs of a dictionary page: the values are dict's,
// by the page's indexes (checked in range when the page was read).
func storeIndexed[V any](c *column, p unsafe.Pointer, stride uintptr, k int, idx []int32, dict []V) {
	if c.defs == nil {
		idx = idx[c.val : c.val+k]
		for i, j := range idx {
			*(*V)(unsafe.Add(p, uintptr(i)*stride)) = dict[j]
		}
		c.val += k
	} else {
		for i, d := range c.defs[c.row : c.row+k] {
			if d == c.maxDef {
				*(*V)(unsafe.Add(p, uintptr(i)*stride)) = dict[idx[c.val]]
				c.val++
			}
		}
	}
	c.row += k
}

// storeN stores k rows of vals, converted by conv, a stride apart from p;
// null rows (definition level below the maximum) keep the zero value.
func storeN[S, D any](c *column, p unsafe.Pointer, stride uintptr, k int, vals []S, conv func(S) D) {
	if c.defs == nil {
		vals = vals[c.val : c.val+k]
		for i, v := range vals {
			*(*D)(unsafe.Add(p, uintptr(i)*stride)) = conv(v)
		}
		c.val += k
	} else {
		for i, d := range c.defs[c.row : c.row+k] {
			if d == c.maxDef {
				*(*D)(unsafe.Add(p, uintptr(i)*stride)) = conv(vals[c.val])
				c.val++
			}
		}
	}
	c.row += k
}
