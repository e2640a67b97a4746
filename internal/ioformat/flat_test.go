package ioformat

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"
	"unsafe"

	"github.com/parquet-go/parquet-go"
	"github.com/parquet-go/parquet-go/format"

	"github.com/spot-hunt/spot/internal/record"
)

// allKinds has a column of every kind flatWriter writes, and the cases its
// statistics must get right: NaN, long strings ending in 0xff, dictionaries
// that overflow, bounds skipped, numbers of one sign.
type allKinds struct {
	B    bool    `parquet:"b"`
	I32  int32   `parquet:"i32"`
	I64  int64   `parquet:"i64"`
	F32  float32 `parquet:"f32"`
	F64  float64 `parquet:"f64"`
	S    string  `parquet:"s"`
	Long string  `parquet:"long"`
	Few  string  `parquet:"few,dict"`
	Many string  `parquet:"many,dict"`
	Skip string  `parquet:"skip"`
	Asc  int64   `parquet:"asc"`
	Pos  int32   `parquet:"pos"` // narrow ranges: a bound from outside them shows
	Neg  int32   `parquet:"neg"`
}

func (allKinds) Meta() record.Meta { return record.Meta{Kind: record.KindFlow} }

func randomAllKinds(rng *rand.Rand, n int) []allKinds {
	recs := make([]allKinds, n)
	for i := range recs {
		r := &recs[i]
		fill(rng, reflect.ValueOf(r).Elem())
		if rng.IntN(50) == 0 {
			r.F64 = math.NaN()
		}
		r.Long = strings.Repeat("\xff", rng.IntN(40)) + randString(rng)
		r.Few = []string{"TCP", "UDP", "ICMP", ""}[rng.IntN(4)]
		r.Many = fmt.Sprintf("host-%d.example.org", rng.IntN(1<<20))
		r.Asc = int64(i) * 3
		r.Pos, r.Neg = 1+rng.Int32N(1000), -1-rng.Int32N(1000)
	}
	return recs
}

// TestFlatWriterMatchesParquetGo writes the same records with flatWriter
// and with parquet-go's GenericWriter: parquet-go must read both back as
// the records, and the footers must agree on schema, row groups, encodings
// and chunk statistics. Page boundaries may differ, so each of flatWriter's
// column index pages is checked against the rows it covers.
func TestFlatWriterMatchesParquetGo(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	small := []parquet.WriterOption{parquet.PageBufferSize(4 << 10), parquet.MaxRowsPerRowGroup(3000),
		parquet.DictionaryMaxBytes(16 << 10), parquet.SkipPageBounds("skip")}
	t.Run("all-kinds", func(t *testing.T) {
		f := matchParquetGo(t, randomAllKinds(rng, 10_000), small)
		for _, rg := range f.Metadata().RowGroups {
			if rg.Columns[7].MetaData.DictionaryPageOffset == 0 || rg.Columns[8].MetaData.DictionaryPageOffset != 0 {
				t.Errorf("column few has a dictionary: %v; column many, past DictionaryMaxBytes, has none: %v",
					rg.Columns[7].MetaData.DictionaryPageOffset != 0, rg.Columns[8].MetaData.DictionaryPageOffset == 0)
			}
		}
	})
	t.Run("all-kinds-default", func(t *testing.T) { matchParquetGo(t, randomAllKinds(rng, 10_000), nil) })
	t.Run("flow", func(t *testing.T) { matchParquetGo(t, random[record.Flow](rng, 20_000), small) })
	t.Run("proxy", func(t *testing.T) { matchParquetGo(t, random[record.Proxy](rng, 5_000), small) })
	t.Run("scored-flow", func(t *testing.T) { matchParquetGo(t, random[record.ScoredFlow](rng, 5_000), small) })
	t.Run("empty", func(t *testing.T) { matchParquetGo[record.Flow](t, nil, nil) })
	// Columns with one value a chunk (an exporter, no tunnels) over many
	// pages, a part page last: their pages share one encoding.
	t.Run("constant", func(t *testing.T) {
		recs := random[record.Flow](rng, 20_000)
		for i := range recs {
			recs[i].RIP, recs[i].Source, recs[i].Tunnel = "192.0.2.1", "netflow9", ""
			if i >= 10_000 { // the next chunks' one value is another
				recs[i].RIP = "192.0.2.2"
			}
		}
		f := matchParquetGo(t, recs, small)
		for _, rg := range f.Metadata().RowGroups {
			for _, c := range rg.Columns {
				if n := c.MetaData.PathInSchema[0]; (n == "rip" || n == "tunnel") && c.MetaData.DictionaryPageOffset == 0 {
					t.Errorf("column %s has no dictionary", n)
				}
			}
		}
	})
	// A dictionary column counts its rows while its chunk holds one value
	// and indexes them when a second comes: mid-batch, at a batch's first
	// row, in the chunk's first row; a chunk of one value past
	// DictionaryMaxBytes turns plain.
	t.Run("constant-then-not", func(t *testing.T) {
		recs := random[record.Flow](rng, 15_000)
		huge := strings.Repeat("x", 20<<10)
		for i := range recs {
			r, at := &recs[i], i%3000 // row groups of 3000 rows, batches of 777
			r.Proto, r.Flag, r.Tunnel, r.Source = "TCP", "", "", "netflow9"
			if at >= 2000 {
				r.Proto = []string{"TCP", "UDP", "ICMP"}[rng.IntN(3)]
			}
			if i >= 777 && i < 3000 || i >= 3000+5*777 && i < 6000 {
				r.Flag = []string{".A...", "....S"}[rng.IntN(2)]
			}
			if i >= 6000 && i < 9000 {
				r.Tunnel = huge
			}
			if i == 9000 {
				r.Source = "ipfix"
			}
		}
		f := matchParquetGo(t, recs, small)
		for i, rg := range f.Metadata().RowGroups {
			for _, c := range rg.Columns {
				n := c.MetaData.PathInSchema[0]
				if n == "tunnel" && (c.MetaData.DictionaryPageOffset == 0) != (i == 2) {
					t.Errorf("row group %d: column tunnel has a dictionary: %v", i, c.MetaData.DictionaryPageOffset != 0)
				}
			}
		}
	})
}

// matchParquetGo returns the file flatWriter wrote.
func matchParquetGo[T interface{ Meta() record.Meta }](t *testing.T, recs []T, extra []parquet.WriterOption) *parquet.File {
	var zero T
	opts := append(ParquetOptions(zero.Meta()), extra...)
	var flat, ref bytes.Buffer
	out := newOutput(&flat, "")
	fw, ok := newFlatWriter[T](out, opts)
	if !ok {
		t.Fatal("not written by flatWriter")
	}
	gw := parquet.NewGenericWriter[T](&ref, opts...)
	for b := recs; len(b) > 0; { // uneven batches
		n := min(len(b), 777)
		if err := fw.Write(b[:n]); err != nil {
			t.Fatal(err)
		}
		if _, err := gw.Write(b[:n]); err != nil {
			t.Fatal(err)
		}
		b = b[n:]
	}
	if err := fw.Close(); err != nil {
		t.Fatal(err)
	}
	if err := gw.Close(); err != nil {
		t.Fatal(err)
	}
	ff, rf := openBytes(t, flat.Bytes()), openBytes(t, ref.Bytes())
	for name, f := range map[string]*parquet.File{"flatWriter": ff, "parquet-go": rf} {
		got := make([]T, len(recs)+1)
		n, err := parquet.NewGenericReader[T](f).Read(got)
		if err != nil && err != io.EOF {
			t.Fatalf("%s: %v", name, err)
		}
		if n != len(recs) {
			t.Fatalf("%s: read %d records, want %d", name, n, len(recs))
		}
		for i := range recs {
			if !equal(reflect.ValueOf(recs[i]), reflect.ValueOf(got[i])) {
				t.Fatalf("%s: record %d:\n got %+v\nwant %+v", name, i, got[i], recs[i])
			}
		}
	}
	fm, rm := ff.Metadata(), rf.Metadata()
	if !reflect.DeepEqual(fm.Schema, rm.Schema) || !reflect.DeepEqual(fm.KeyValueMetadata, rm.KeyValueMetadata) ||
		fm.CreatedBy != rm.CreatedBy || !reflect.DeepEqual(fm.ColumnOrders, rm.ColumnOrders) || fm.NumRows != rm.NumRows || fm.Version != rm.Version {
		t.Fatalf("footers differ:\nflatWriter %+v\nparquet-go %+v", fm, rm)
	}
	if len(fm.RowGroups) != len(rm.RowGroups) {
		t.Fatalf("%d row groups, parquet-go wrote %d", len(fm.RowGroups), len(rm.RowGroups))
	}
	fields, _ := flatFields(reflect.TypeFor[T]())
	schema := parquet.SchemaOf(new(T))
	start := 0
	for i := range fm.RowGroups {
		fg, rg := &fm.RowGroups[i], &rm.RowGroups[i]
		if fg.NumRows != rg.NumRows {
			t.Fatalf("row group %d: %d rows, parquet-go wrote %d", i, fg.NumRows, rg.NumRows)
		}
		for j := range fg.Columns {
			fc, rc := &fg.Columns[j].MetaData, &rg.Columns[j].MetaData
			where := fmt.Sprintf("row group %d column %s", i, fc.PathInSchema)
			// A chunk of pages that compressing would not shrink is stored
			// uncompressed.
			if fc.Type != rc.Type || fc.Codec != rc.Codec && fc.Codec != format.Uncompressed ||
				fc.NumValues != rc.NumValues || !slices.Equal(fc.PathInSchema, rc.PathInSchema) {
				t.Errorf("%s: metadata\n%+v\nparquet-go\n%+v", where, fc, rc)
			}
			fdict, rdict := fc.DictionaryPageOffset > 0, rc.DictionaryPageOffset > 0
			if !flatEncodings(fields[j], fdict, fc.Encoding, rc.Encoding) {
				t.Errorf("%s: encodings %v (parquet-go %v)", where, fc.Encoding, rc.Encoding)
			}
			// Dictionaries overflow at different points (parquet-go checks
			// when a page is full); flatWriter tries one for untagged
			// strings and integers too (tryDict).
			if fdict && !rdict && !tries(schema, fields[j]) {
				t.Errorf("%s: a dictionary where parquet-go has none", where)
			}
			if !bytes.Equal(fc.Statistics.MinValue, rc.Statistics.MinValue) || !bytes.Equal(fc.Statistics.MaxValue, rc.Statistics.MaxValue) {
				// A float chunk holding NaN has no statistics here.
				if fc.Statistics.MinValue != nil || !hasNaN(recs[start:start+int(fg.NumRows)], fields[j]) {
					t.Errorf("%s: statistics %q..%q, parquet-go %q..%q", where,
						fc.Statistics.MinValue, fc.Statistics.MaxValue, rc.Statistics.MinValue, rc.Statistics.MaxValue)
				}
			}
			// parquet-go counts no bytes in dictionary pages.
			if !fdict && !rdict && fc.SizeStatistics.UnencodedByteArrayDataBytes != rc.SizeStatistics.UnencodedByteArrayDataBytes {
				t.Errorf("%s: %d unencoded bytes, parquet-go %d", where, fc.SizeStatistics.UnencodedByteArrayDataBytes, rc.SizeStatistics.UnencodedByteArrayDataBytes)
			}
		}
		start += int(fg.NumRows)
	}
	checkPageIndex(t, ff, recs)
	return ff
}

// tries reports whether flatWriter tries a dictionary for field f, which
// parquet-go does not: an integer, or a string not tagged dict (tryDict).
func tries(schema *parquet.Schema, f field) bool {
	leaf, _ := schema.Lookup(f.name)
	return f.kind == reflect.Int32 || f.kind == reflect.Int64 || f.kind == reflect.String && leaf.Node.Encoding() == nil
}

// flatEncodings reports whether got are the encodings flatWriter lists for
// a chunk of field f: a dictionary's; for integers DELTA_BINARY_PACKED, and
// PLAIN for pages it would not shrink; else what parquet-go lists.
func flatEncodings(f field, dict bool, got, parquetGo []format.Encoding) bool {
	switch {
	case dict:
		return slices.Equal(got, []format.Encoding{format.Plain, format.RLEDictionary})
	case f.kind == reflect.Int32 || f.kind == reflect.Int64:
		return slices.Equal(got, []format.Encoding{format.DeltaBinaryPacked}) || slices.Equal(got, []format.Encoding{format.Plain}) ||
			slices.Equal(got, []format.Encoding{format.Plain, format.DeltaBinaryPacked})
	case f.kind == reflect.String: // (a dictionary may overflow earlier than parquet-go's)
		return slices.Equal(got, []format.Encoding{format.DeltaLengthByteArray})
	}
	return slices.Equal(got, parquetGo)
}

// hasNaN reports whether field f of one of recs is NaN.
func hasNaN[T any](recs []T, f field) bool {
	for i := range recs {
		p := unsafe.Add(unsafe.Pointer(&recs[i]), f.off)
		switch f.kind {
		case reflect.Float32:
			if v := *(*float32)(p); v != v {
				return true
			}
		case reflect.Float64:
			if v := *(*float64)(p); v != v {
				return true
			}
		}
	}
	return false
}

func openBytes(t *testing.T, b []byte) *parquet.File {
	t.Helper()
	f, err := parquet.OpenFile(bytes.NewReader(b), int64(len(b)))
	if err != nil {
		t.Fatal(err)
	}
	return f
}

// checkPageIndex checks every page of f's column indexes against the
// records it covers (by its offset index), and each boundary order.
func checkPageIndex[T any](t *testing.T, f *parquet.File, recs []T) {
	t.Helper()
	fields, _ := flatFields(reflect.TypeFor[T]())
	base := 0
	for i, rg := range f.Metadata().RowGroups {
		for j, cc := range rg.Columns {
			if cc.OffsetIndexLength == 0 {
				t.Fatalf("row group %d column %d: no offset index", i, j)
			}
			if cc.ColumnIndexLength == 0 {
				if cc.MetaData.Statistics.MinValue != nil {
					t.Errorf("row group %d column %d: statistics but no column index", i, j)
				}
				continue
			}
			ci, oi := f.ColumnIndexes()[i*len(rg.Columns)+j], f.OffsetIndexes()[i*len(rg.Columns)+j]
			locs := oi.PageLocations
			if len(ci.MinValues) != len(locs) {
				t.Fatalf("row group %d column %d: %d column index pages, %d offset index pages", i, j, len(ci.MinValues), len(locs))
			}
			cmp := func(a, b []byte) int { return compareStat(fields[j].kind, a, b) }
			for p := range locs {
				end := rg.NumRows
				if p+1 < len(locs) {
					end = locs[p+1].FirstRowIndex
				}
				for r := locs[p].FirstRowIndex; r < end; r++ {
					v := statBytes(unsafe.Pointer(&recs[base+int(r)]), fields[j])
					if cmp(v, ci.MinValues[p]) < 0 || cmp(v, ci.MaxValues[p]) > 0 {
						t.Fatalf("row group %d column %s page %d: row %d value %q outside %q..%q", i, fields[j].name, p, r, v, ci.MinValues[p], ci.MaxValues[p])
					}
				}
				if p > 0 {
					up := cmp(ci.MinValues[p-1], ci.MinValues[p]) <= 0 && cmp(ci.MaxValues[p-1], ci.MaxValues[p]) <= 0
					down := cmp(ci.MinValues[p-1], ci.MinValues[p]) >= 0 && cmp(ci.MaxValues[p-1], ci.MaxValues[p]) >= 0
					if ci.BoundaryOrder == format.Ascending && !up || ci.BoundaryOrder == format.Descending && !down {
						t.Fatalf("row group %d column %s: pages not in %v order", i, fields[j].name, ci.BoundaryOrder)
					}
				}
			}
			if fields[j].name == "asc" && ci.BoundaryOrder != format.Ascending {
				t.Errorf("row group %d: ascending column ordered %v", i, ci.BoundaryOrder)
			}
		}
		base += int(rg.NumRows)
	}
}

func statBytes(rec unsafe.Pointer, f field) []byte {
	p := unsafe.Add(rec, f.off)
	switch f.kind {
	case reflect.String:
		return []byte(*(*string)(p))
	case reflect.Bool:
		return []byte{*(*byte)(p)}
	case reflect.Int32, reflect.Float32:
		return binary.LittleEndian.AppendUint32(nil, *(*uint32)(p))
	}
	return binary.LittleEndian.AppendUint64(nil, *(*uint64)(p))
}

func compareStat(k reflect.Kind, a, b []byte) int {
	switch k {
	case reflect.Int32:
		return cmpOrdered(int32(binary.LittleEndian.Uint32(a)), int32(binary.LittleEndian.Uint32(b)))
	case reflect.Int64:
		return cmpOrdered(int64(binary.LittleEndian.Uint64(a)), int64(binary.LittleEndian.Uint64(b)))
	case reflect.Float32:
		x, y := math.Float32frombits(binary.LittleEndian.Uint32(a)), math.Float32frombits(binary.LittleEndian.Uint32(b))
		if x != x || y != y {
			return 0
		}
		return cmpOrdered(x, y)
	case reflect.Float64:
		x, y := math.Float64frombits(binary.LittleEndian.Uint64(a)), math.Float64frombits(binary.LittleEndian.Uint64(b))
		if x != x || y != y {
			return 0
		}
		return cmpOrdered(x, y)
	}
	return bytes.Compare(a, b)
}

func cmpOrdered[N int32 | int64 | float32 | float64](a, b N) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// BenchmarkFlowWriter writes 1.2M flows like a NetFlow exporter's with
// flatWriter and with parquet-go's GenericWriter.
func BenchmarkFlowWriter(b *testing.B) {
	rng := rand.New(rand.NewPCG(5, 6))
	recs := make([]record.Flow, 300_000)
	ip := func() string { return fmt.Sprintf("10.%d.%d.%d", rng.IntN(4), rng.IntN(256), rng.IntN(256)) }
	for i := range recs {
		r := &recs[i]
		t := time.Unix(1.7e9+int64(i/50), 0).UTC()
		r.TReceived, r.UnixTstamp = t.Format(time.DateTime), t.Unix()
		r.TrYear, r.TrMonth, r.TrDay = int32(t.Year()), int32(t.Month()), int32(t.Day())
		r.TrHour, r.TrMinute, r.TrSec = int32(t.Hour()), int32(t.Minute()), int32(t.Second())
		r.TStartNs, r.TEndNs = t.UnixNano(), t.UnixNano()+rng.Int64N(1e10)
		r.TDur = float32(r.TEndNs-r.TStartNs) / 1e9
		r.SIP, r.DIP = ip(), ip()
		r.SPort, r.DPort = rng.Int32N(65536), []int32{53, 80, 443, 22, 123}[rng.IntN(5)]
		r.Proto = []string{"TCP", "UDP", "ICMP"}[rng.IntN(3)]
		r.Flag = []string{".A....", ".AP.SF", "....S.", ".A..S.", ".AP...", "......"}[rng.IntN(6)]
		r.IPkt, r.OPkt = rng.Int64N(100), rng.Int64N(100)
		r.IByt, r.OByt = r.IPkt*rng.Int64N(1500), r.OPkt*rng.Int64N(1500)
		r.Input, r.Output, r.STos = rng.Int32N(4), rng.Int32N(4), rng.Int32N(2)*8
		r.Source, r.RIP, r.Sampling, r.EID = "netflow9", "192.0.2.1", 1, rng.Int64()
	}
	opts := ParquetOptions(record.Flow{}.Meta())
	write := func(b *testing.B, w interface{ Write([]record.Flow) error }) {
		for range 4 {
			for r := recs; len(r) > 0; r = r[min(len(r), 1024):] {
				if err := w.Write(r[:min(len(r), 1024)]); err != nil {
					b.Fatal(err)
				}
			}
		}
	}
	b.Run("flat", func(b *testing.B) {
		for range b.N {
			w, _ := newFlatWriter[record.Flow](newOutput(io.Discard, ""), opts)
			write(b, w)
			w.Close()
		}
		b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*4*len(recs)), "ns/record")
	})
	b.Run("parquet-go", func(b *testing.B) {
		for range b.N {
			w := parquet.NewGenericWriter[record.Flow](io.Discard, opts...)
			write(b, writerFunc(func(r []record.Flow) error { _, err := w.Write(r); return err }))
			w.Close()
		}
		b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*4*len(recs)), "ns/record")
	})
}

type writerFunc func([]record.Flow) error

func (f writerFunc) Write(r []record.Flow) error { return f(r) }

// TestFlatWriterReusedBuffer: a caller may reuse the bytes its strings lie
// in once Write has returned (decoders that hand on strings over their read
// buffers do); what was written must be what the strings said then.
func TestFlatWriterReusedBuffer(t *testing.T) {
	buf := []byte("TCP 2026-01-01 00:00:00")
	proto := unsafe.String(&buf[0], 3)
	when := unsafe.String(&buf[4], 19)
	var want []record.Flow
	var out bytes.Buffer
	w, ok := newFlatWriter[record.Flow](newOutput(&out, ""), ParquetOptions(record.Flow{}.Meta()))
	if !ok {
		t.Fatal("not written by flatWriter")
	}
	for i, next := range []string{"UDP 2026-01-01 00:00:01", "TCP 2025-12-31 23:59:59", "ICMP2025-12-31 23:59:59"} {
		recs := []record.Flow{{Proto: proto, TReceived: when, EID: int64(i)}, {Proto: proto, TReceived: when, EID: int64(i)}}
		if err := w.Write(recs); err != nil {
			t.Fatal(err)
		}
		for _, r := range recs {
			r.Proto, r.TReceived = strings.Clone(r.Proto), strings.Clone(r.TReceived)
			want = append(want, r)
		}
		copy(buf, next)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	f := openBytes(t, out.Bytes())
	got := make([]record.Flow, len(want)+1)
	n, _ := parquet.NewGenericReader[record.Flow](f).Read(got)
	if !slices.Equal(got[:n], want) {
		t.Fatalf("read back %+v\nwant %+v", got[:n], want)
	}
	if st := f.Metadata().RowGroups[0].Columns[0].MetaData.Statistics; string(st.MinValue) != "2025-12-31 23:59:59" || string(st.MaxValue) != "2026-01-01 00:00:01" {
		t.Errorf("treceived bounds %q..%q", st.MinValue, st.MaxValue)
	}
}

// TestFlatWriterEmptyStringBound: an empty string, whose bytes lie nowhere,
// is not taken for the last string of the batch before: it is the least.
func TestFlatWriterEmptyStringBound(t *testing.T) {
	var out bytes.Buffer
	w, _ := newFlatWriter[record.Flow](newOutput(&out, ""), ParquetOptions(record.Flow{}.Meta()))
	for _, batch := range [][]string{{"b"}, {"", "a"}} {
		var recs []record.Flow
		for _, s := range batch {
			recs = append(recs, record.Flow{TReceived: s})
		}
		if err := w.Write(recs); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	st := openBytes(t, out.Bytes()).Metadata().RowGroups[0].Columns[0].MetaData.Statistics
	if string(st.MinValue) != "" || string(st.MaxValue) != "b" {
		t.Errorf("treceived bounds %q..%q, want \"\"..\"b\"", st.MinValue, st.MaxValue)
	}
}

// TestFlatWriterPrefixStrings: strings of one batch that start at the same
// byte but differ in length (a name and its prefix) are different values,
// in a dictionary column and in a plain one, and each moves the bounds.
func TestFlatWriterPrefixStrings(t *testing.T) {
	const s = "2026-01-01 00:00:00 UDP"
	var recs []record.Flow
	for i, n := range []int{3, 3, 1, 19, 19, 2, 3} {
		recs = append(recs, record.Flow{Proto: s[20 : 20+min(n, 3)], TReceived: s[:n], EID: int64(i)})
	}
	var out bytes.Buffer
	w, _ := newFlatWriter[record.Flow](newOutput(&out, ""), ParquetOptions(record.Flow{}.Meta()))
	if err := w.Write(recs); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	f := openBytes(t, out.Bytes())
	got := make([]record.Flow, len(recs)+1)
	n, _ := parquet.NewGenericReader[record.Flow](f).Read(got)
	if !slices.Equal(got[:n], recs) {
		t.Fatalf("read back %+v\nwant %+v", got[:n], recs)
	}
	if st := f.Metadata().RowGroups[0].Columns[0].MetaData.Statistics; string(st.MinValue) != "2" || string(st.MaxValue) != s[:19] {
		t.Errorf("treceived bounds %q..%q", st.MinValue, st.MaxValue)
	}
}

// TestAppendString: appendString's word copies give append's bytes for
// every length around their cases, with and without room past the end.
func TestAppendString(t *testing.T) {
	src := "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGH"
	for n := 0; n <= len(src); n++ {
		for _, room := range []int{0, 31, 32, 64} {
			b := make([]byte, 3, 3+room)
			copy(b, "xyz")
			got := appendString(b, src[:n])
			if want := "xyz" + src[:n]; string(got) != want {
				t.Errorf("length %d, room %d: %q, want %q", n, room, got, want)
			}
		}
	}
}
