package columnar

import (
	"bytes"
	"context"
	"fmt"
	"hash/fnv"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/parquet-go/parquet-go"
	"github.com/parquet-go/parquet-go/format"

	"github.com/spot-hunt/spot/internal/detect"
	"github.com/spot-hunt/spot/internal/ioformat"
	"github.com/spot-hunt/spot/internal/lda"
	"github.com/spot-hunt/spot/internal/record"
	"github.com/spot-hunt/spot/internal/testenv"
)

// chunkCols are the values of one row group of chunkSchema's columns.
type chunkCols struct {
	d   []float64
	i   []int32
	s   []string
	rle []string // a second dictionary column: long runs of one value
}

var chunkSchema = parquet.NewSchema("extra", parquet.Group{
	"d":   parquet.Leaf(parquet.DoubleType),
	"i":   parquet.Leaf(parquet.Int32Type),
	"s":   parquet.Encoded(parquet.String(), &parquet.RLEDictionary),
	"rle": parquet.Encoded(parquet.String(), &parquet.RLEDictionary),
})

// byParquetGo is the file parquet-go writes of one row group of cols, fed
// batchRows values at a time as computeColumn feeds it.
func byParquetGo(t *testing.T, cols chunkCols, opts []parquet.WriterOption) *sideFile {
	t.Helper()
	var buf bytes.Buffer
	w := parquet.NewGenericWriter[any](&buf, append([]parquet.WriterOption{chunkSchema}, opts...)...)
	cw := w.BeginRowGroup()
	for k, path := range chunkSchema.Columns() {
		var vals []parquet.Value
		switch path[0] {
		case "d":
			for _, v := range cols.d {
				vals = append(vals, parquet.DoubleValue(v))
			}
		case "i":
			for _, v := range cols.i {
				vals = append(vals, parquet.Int32Value(v))
			}
		case "s", "rle":
			ss := cols.s
			if path[0] == "rle" {
				ss = cols.rle
			}
			for _, v := range ss {
				vals = append(vals, parquet.ByteArrayValue([]byte(v)))
			}
		}
		for len(vals) > 0 {
			m := min(batchRows, len(vals))
			if _, err := cw.ColumnWriters()[k].WriteRowValues(vals[:m]); err != nil {
				t.Fatal(err)
			}
			vals = vals[m:]
		}
	}
	if len(cols.d) > 0 {
		if _, err := cw.Commit(); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	f, err := openSide(buf.Bytes())
	if err != nil {
		t.Fatal(err)
	}
	return f
}

// dictOf is ss as a dictionary in the order of first rows, and each row's
// index in it.
func dictOf(ss []string) ([]string, []int32) {
	var vals []string
	at := map[string]int32{}
	idx := make([]int32, len(ss))
	for i, s := range ss {
		k, ok := at[s]
		if !ok {
			k = int32(len(vals))
			at[s] = k
			vals = append(vals, s)
		}
		idx[i] = k
	}
	return vals, idx
}

// byEncoder is e's chunks of cols, in chunkSchema's order; ok false when e
// declined a column.
func byEncoder(t *testing.T, e *chunkEncoder, cols chunkCols) (ok bool) {
	t.Helper()
	e.reset(nil)
	for _, path := range chunkSchema.Columns() {
		var err error
		switch name := path[0]; name {
		case "d":
			ok, err = e.doubles(name, cols.d)
		case "i":
			ok, err = true, e.int32s(name, cols.i)
		case "s", "rle":
			ss := cols.s
			if name == "rle" {
				ss = cols.rle
			}
			vals, idx := dictOf(ss)
			ok, err = e.dict(name, vals, idx)
		}
		if err != nil {
			t.Fatal(err)
		}
		if !ok {
			return false
		}
	}
	return true
}

// assembled is the output file emit makes of a row group of rows rows whose
// chunks are chunks, read from src.
func assembled(t *testing.T, src []byte, chunks []format.ColumnChunk, rows int64, opts []parquet.WriterOption) []byte {
	t.Helper()
	tmpl, err := ioformat.EmptyFooter(chunkSchema, opts)
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	asm, err := newAssembler(&out, tmpl)
	if err != nil {
		t.Fatal(err)
	}
	start := asm.off
	cols := make([]format.ColumnChunk, len(chunks))
	for c := range chunks {
		if cols[c], err = asm.copyChunk(bytes.NewReader(src), &chunks[c]); err != nil {
			t.Fatal(err)
		}
	}
	asm.addRowGroup(cols, rows, start)
	if err := asm.finish(); err != nil {
		t.Fatal(err)
	}
	return out.Bytes()
}

// sameChunks fails t, naming the first difference, unless the encoder's
// chunks are parquet-go's: the same bytes and the same metadata, and so
// the same output file.
func sameChunks(t *testing.T, what string, e *chunkEncoder, want *sideFile, rows int64, opts []parquet.WriterOption) {
	t.Helper()
	wcols := want.pf.Metadata().RowGroups[0].Columns
	if len(e.chunks) != len(wcols) {
		t.Fatalf("%s: %d chunks, parquet-go %d", what, len(e.chunks), len(wcols))
	}
	for c := range wcols {
		g, w := e.chunks[c].MetaData, wcols[c].MetaData
		gs, gl := chunkRange(&e.chunks[c])
		ws, wl := chunkRange(&wcols[c])
		if !bytes.Equal(e.out[gs:gs+gl], want.data[ws:ws+wl]) {
			t.Fatalf("%s: column %s: chunk bytes differ (%d bytes, parquet-go %d)", what, w.PathInSchema[0], gl, wl)
		}
		for _, m := range []*format.ColumnMetaData{&g, &w} { // where the chunks lie
			start, _ := chunkRange(&format.ColumnChunk{MetaData: *m})
			m.DataPageOffset -= start
			if m.DictionaryPageOffset > 0 {
				m.DictionaryPageOffset -= start
			}
		}
		if !reflect.DeepEqual(g, w) {
			t.Fatalf("%s: column %s: metadata\n got %+v\nwant %+v", what, w.PathInSchema[0], g, w)
		}
	}
	got := assembled(t, e.out, e.chunks, rows, opts)
	if !bytes.Equal(got, assembled(t, want.data, wcols, rows, opts)) {
		t.Fatalf("%s: output files differ", what)
	}
}

// TestChunkEncoderMatchesParquetGo: chunkEncoder's chunks are parquet-go's,
// byte for byte and in their metadata, for row groups of one page and of
// many (page sizes of spot's options and small ones), with values that make
// the bounds of later pages win or lose, infinities, constant columns,
// empty strings, dictionaries of one value and of thousands; and it
// declines NaN, negative zero, a dictionary that may outgrow
// DictionaryMaxBytes, and options it does not copy.
func TestChunkEncoderMatchesParquetGo(t *testing.T) {
	spot := append(ioformat.ParquetOptions(record.ScoredFlow{}.Meta()), parquet.MaxRowsPerRowGroup(math.MaxInt64))
	configs := map[string][]parquet.WriterOption{
		"spot":        spot,
		"small pages": append(append([]parquet.WriterOption{}, spot...), parquet.PageBufferSize(5000)),
		// 0.98 of it is 4096 doubles' bytes: a page ends on a batch that fills it exactly
		"exact pages":       append(append([]parquet.WriterOption{}, spot...), parquet.PageBufferSize(33437)),
		"uncompressed":      append(append([]parquet.WriterOption{}, spot...), parquet.Compression(&parquet.Uncompressed), parquet.PageBufferSize(100000)),
		"gzip, large pages": append(append([]parquet.WriterOption{}, spot...), parquet.Compression(&parquet.Gzip), parquet.PageBufferSize(1<<21)),
	}
	rng := rand.New(rand.NewPCG(15, 20))
	words := make([]string, 5000)
	for i := range words {
		words[i] = fmt.Sprintf("%d_%s", rng.IntN(1<<20), strings.Repeat("x", rng.IntN(12)))
	}
	words[7] = ""
	gen := map[string]func(n int) chunkCols{
		"random": func(n int) chunkCols {
			c := chunkCols{}
			for i := 0; i < n; i++ {
				c.d = append(c.d, math.Ldexp(rng.NormFloat64(), rng.IntN(40)-20))
				c.i = append(c.i, int32(rng.Uint32()))
				c.s = append(c.s, words[rng.IntN(len(words))])
				c.rle = append(c.rle, words[i/3000%3])
			}
			return c
		},
		// each page's values beyond the last's: every page's bounds win
		"rising": func(n int) chunkCols {
			c := chunkCols{}
			for i := 0; i < n; i++ {
				c.d = append(c.d, float64(i)-float64(n)/2)
				c.i = append(c.i, int32(i-n/2))
				c.s = append(c.s, fmt.Sprintf("%08d", i/100))
				c.rle = append(c.rle, fmt.Sprintf("%08d", (n-i)/8))
			}
			return c
		},
		"constant": func(n int) chunkCols {
			c := chunkCols{}
			for i := 0; i < n; i++ {
				c.d, c.i, c.s, c.rle = append(c.d, 0), append(c.i, -1), append(c.s, ""), append(c.rle, "fused")
			}
			return c
		},
		// infinities, the extremes, zeros and empty strings, a few of them
		// on one page only
		"edges": func(n int) chunkCols {
			c := chunkCols{}
			ds := []float64{math.Inf(1), math.Inf(-1), math.MaxFloat64, -math.MaxFloat64, math.SmallestNonzeroFloat64, 0, 1}
			is := []int32{math.MinInt32, math.MaxInt32, 0, -1, 1}
			for i := 0; i < n; i++ {
				d, iv, s := float64(rng.IntN(1000)), int32(rng.IntN(1000)), words[100+rng.IntN(50)]
				if rng.IntN(5000) == 0 || i == n-1 {
					d, iv, s = ds[rng.IntN(len(ds))], is[rng.IntN(len(is))], ""
				}
				c.d, c.i, c.s, c.rle = append(c.d, d), append(c.i, iv), append(c.s, s), append(c.rle, words[i/4096%2*7])
			}
			return c
		},
	}
	sizes := []int{1, 2, 4095, 4096, 4097, 12288, 20000, 131073}
	for cname, opts := range configs {
		e := newChunkEncoder(chunkSchema, opts)
		if e == nil {
			t.Fatalf("%s: declined options it copies", cname)
		}
		e.storePlain = false
		for gname, g := range gen {
			for _, n := range sizes {
				cols := g(n)
				what := fmt.Sprintf("%s, %s, %d rows", cname, gname, n)
				if !byEncoder(t, e, cols) {
					t.Fatalf("%s: declined", what)
				}
				sameChunks(t, what, e, byParquetGo(t, cols, opts), int64(n), opts)
			}
		}
	}

	// A dictionary as large as DictionaryMaxBytes allows is encoded; one
	// byte more and the encoder declines, since parquet-go may turn to
	// PLAIN pages part way.
	for _, size := range []int{1000, 1001} {
		opts := append(append([]parquet.WriterOption{}, spot...), parquet.DictionaryMaxBytes(int64(size)))
		e := newChunkEncoder(chunkSchema, opts)
		e.storePlain = false
		cols := chunkCols{}
		for i := 0; i < 20000; i++ {
			s := fmt.Sprintf("%06d", i%(size/10))
			if i == 19999 && size%10 == 1 {
				s = ""
			}
			c := cols
			cols = chunkCols{d: append(c.d, 1), i: append(c.i, 1), s: append(c.s, s), rle: append(c.rle, "a")}
		}
		ok := byEncoder(t, e, cols)
		if ok != (size == 1000) {
			t.Fatalf("dictionary of %d bytes, DictionaryMaxBytes %d: encoded %v", size, size, ok)
		}
		if ok {
			sameChunks(t, "a dictionary of DictionaryMaxBytes", e, byParquetGo(t, cols, opts), int64(len(cols.d)), opts)
		}
	}

	// NaN and negative zero, whose bounds parquet-go's order decides.
	e := newChunkEncoder(chunkSchema, spot)
	for _, bad := range []float64{math.NaN(), math.Copysign(0, -1)} {
		cols := chunkCols{d: []float64{1, 2, bad, 3}, i: []int32{1, 2, 3, 4}, s: []string{"a", "b", "c", "d"}, rle: []string{"a", "a", "a", "a"}}
		if byEncoder(t, e, cols) {
			t.Errorf("encoded %v", bad)
		}
	}

	// Options it does not copy.
	for what, opt := range map[string]parquet.WriterOption{
		"data page v1":        parquet.DataPageVersion(1),
		"page statistics":     parquet.DataPageStatistics(true),
		"bloom filters":       parquet.BloomFilters(parquet.SplitBlockFilter(10, "s")),
		"page bounds skipped": parquet.SkipPageBounds("d"),
		"another encoding":    parquet.DefaultEncodingFor(parquet.Double, &parquet.ByteStreamSplit),
		"no dictionary limit": parquet.DictionaryMaxBytes(0),
	} {
		if newChunkEncoder(chunkSchema, append(append([]parquet.WriterOption{}, spot...), opt)) != nil {
			t.Errorf("encoder made with %s", what)
		}
	}
	if newChunkEncoder(chunkSchema, append(append([]parquet.WriterOption{}, spot...), parquet.SkipPageBounds("sip"))) == nil {
		t.Errorf("declined page bounds skipped for a column it does not write")
	}
	for what, node := range map[string]parquet.Node{
		"optional":       parquet.Optional(parquet.Leaf(parquet.DoubleType)),
		"plain strings":  parquet.String(),
		"int64":          parquet.Leaf(parquet.Int64Type),
		"column codec":   parquet.Compressed(parquet.Leaf(parquet.DoubleType), &parquet.Zstd),
		"delta encoding": parquet.Encoded(parquet.Leaf(parquet.Int32Type), &parquet.DeltaBinaryPacked),
	} {
		if newChunkEncoder(parquet.NewSchema("extra", parquet.Group{"x": node}), spot) != nil {
			t.Errorf("encoder made for a column %s", what)
		}
	}
}

// TestRunChunksMatchParquetGo: a run's output is the same file, byte for
// byte, whether chunkEncoder writes the computed columns or parquet-go
// does (Runner.slowEncode), scoring alone and fused (verdicts shared by
// many rows, none, empty texts), with row groups the encoder declines (a
// NaN score, a negative zero) and row groups with rejected rows
// (re-encoded whole by parquet-go) among them.
func TestRunChunksMatchParquetGo(t *testing.T) {
	flows := testFlows(30000, 7)
	for i := range flows {
		if i/7000 != 2 { // row group 2 keeps its rejected rows
			flows[i].TrMinute, flows[i].DIP = 1, fmt.Sprintf("192.168.%d.%d", i%3, i%30)
			if flows[i].SPort < 0 {
				flows[i].SPort = 7
			}
		}
	}
	flows[10000].Proto = "SCTP" // the one row of row group 1 Fuse may score NaN or -0
	sc, err := lda.NewScorer(testModel(t, flows), lda.Spot, lda.UnseenMean)
	if err != nil {
		t.Fatal(err)
	}
	files := []*parquet.File{writeParquet(t, flows, 7000, parquet.Compression(&parquet.Snappy))}
	full := parquet.SchemaOf(new(record.ScoredFlow))
	p, ok := Flows(files, full)
	if !ok {
		t.Fatal("no columnar plan")
	}
	verdicts := map[string]*detect.Verdict{
		"10.0.0.1": {Detector: "scan", Score: 0.9, Subject: "10.0.0.1", Evidence: "25 hosts"},
		"10.0.0.2": {Detector: "beacon", Score: 0.7, Subject: "10.0.0.2 > 192.168.0.1", Evidence: ""},
		"10.0.0.3": {Detector: "", Score: 0, Subject: "", Evidence: ""},
		"10.0.0.4": {Detector: "scan", Score: 0.5, Subject: "10.0.0.4", Evidence: "25 hosts"},
	}
	var bads atomic.Int64
	fuse := func(bad float64) func(k FlowKey, lda float64) (float64, *detect.Verdict) {
		return func(k FlowKey, lda float64) (float64, *detect.Verdict) {
			if k.Proto == "SCTP" {
				bads.Add(1)
				return bad, nil
			}
			if v := verdicts[k.SIP]; v != nil {
				return v.Score - 1, v
			}
			return lda, nil
		}
	}
	spot := ioformat.ParquetOptions(record.ScoredFlow{}.Meta())
	for _, c := range []struct {
		what    string
		fuse    func(k FlowKey, lda float64) (float64, *detect.Verdict)
		opts    []parquet.WriterOption
		chunked int64 // row groups the encoder writes (of 4 without rejected rows)
	}{
		{"spot", nil, spot, 4},
		{"spot, small pages", nil, append(append([]parquet.WriterOption{}, spot...), parquet.PageBufferSize(9000)), 4},
		{"fused", fuse(0.5), spot, 4},
		{"fused, small pages", fuse(0.5), append(append([]parquet.WriterOption{}, spot...), parquet.PageBufferSize(9000)), 4},
		{"fused, a NaN", fuse(math.NaN()), spot, 3},
		{"fused, a negative zero", fuse(math.Copysign(0, -1)), spot, 3},
	} {
		var outs [2]bytes.Buffer
		for k, slow := range []bool{true, false} {
			bads.Store(0)
			run := &Runner{Scorer: sc, Method: "spot", Fuse: c.fuse, Workers: 2, Options: c.opts, slowEncode: slow, compressed: true}
			if c.fuse != nil {
				run.Method = "fused"
			}
			if _, err := run.Run(context.Background(), files, p, full, ExtraSchema(full), &outs[k]); err != nil {
				t.Fatal(err)
			}
			if want := map[bool]int64{true: 0, false: c.chunked}[slow]; run.chunked.Load() != want {
				t.Errorf("%s (slow %v): the encoder wrote %d row groups, want %d", c.what, slow, run.chunked.Load(), want)
			}
		}
		if c.fuse != nil && bads.Load() != 1 {
			t.Fatalf("%s: Fuse scored %d rows of SCTP, want 1", c.what, bads.Load())
		}
		if !bytes.Equal(outs[0].Bytes(), outs[1].Bytes()) {
			t.Errorf("%s: the chunk encoder's output differs from parquet-go's", c.what)
		}
	}
}

// TestPlainPages: a data page the codec does not shrink to plainNum/plainDen
// of its size is stored as is; the values read back (by parquet-go and by
// DuckDB) are those of the file whose every page is compressed, and the
// pages that compress still are.
func TestPlainPages(t *testing.T) {
	flows := testFlows(30000, 9)
	for i := range flows { // no row rejected: the chunk encoder writes every row group
		flows[i].TrMinute, flows[i].DIP = 1, fmt.Sprintf("192.168.%d.%d", i%3, i%30)
		flows[i].SPort = max(flows[i].SPort, 7)
	}
	sc, err := lda.NewScorer(testModel(t, flows), lda.Spot, lda.UnseenMean)
	if err != nil {
		t.Fatal(err)
	}
	files := []*parquet.File{writeParquet(t, flows, 7000, parquet.Compression(&parquet.Snappy))}
	full := parquet.SchemaOf(new(record.ScoredFlow))
	p, ok := Flows(files, full)
	if !ok {
		t.Fatal("no columnar plan")
	}
	// a fused score of 8 random bytes a row: no codec shrinks it
	fuse := func(k FlowKey, lda float64) (float64, *detect.Verdict) {
		h := fnv.New64a()
		fmt.Fprint(h, k)
		return float64(h.Sum64()>>11) / (1 << 53), nil
	}
	dir := t.TempDir()
	var outs [2][]byte
	for k, compressed := range []bool{true, false} {
		var buf bytes.Buffer
		run := &Runner{Scorer: sc, Method: "fused", Fuse: fuse, Workers: 2, Options: ioformat.ParquetOptions(record.ScoredFlow{}.Meta()), compressed: compressed}
		if _, err := run.Run(context.Background(), files, p, full, ExtraSchema(full), &buf); err != nil {
			t.Fatal(err)
		}
		if run.chunked.Load() != 5 {
			t.Fatalf("the chunk encoder wrote %d row groups of 5", run.chunked.Load())
		}
		outs[k] = buf.Bytes()
		if err := os.WriteFile(filepath.Join(dir, fmt.Sprint(k, ".parquet")), outs[k], 0o644); err != nil {
			t.Fatal(err)
		}
	}
	a, b := readAll[record.ScoredFlow](t, outs[0]), readAll[record.ScoredFlow](t, outs[1])
	if len(a) != len(flows) || !reflect.DeepEqual(a, b) {
		t.Fatalf("%d rows read with every page compressed, %d with plain pages: they differ", len(a), len(b))
	}
	f, err := openSide(outs[1])
	if err != nil {
		t.Fatal(err)
	}
	for _, rg := range f.pf.Metadata().RowGroups {
		for _, c := range rg.Columns {
			md := c.MetaData
			switch md.PathInSchema[0] {
			case "score": // every page stored as is
				if md.Codec != format.Snappy || md.TotalCompressedSize != md.TotalUncompressedSize {
					t.Errorf("score: codec %v, %d bytes stored of %d", md.Codec, md.TotalCompressedSize, md.TotalUncompressedSize)
				}
			case "top_topic", "detector_score": // a few values: compressed
				if md.TotalCompressedSize*2 > md.TotalUncompressedSize {
					t.Errorf("%s: %d bytes stored of %d", md.PathInSchema[0], md.TotalCompressedSize, md.TotalUncompressedSize)
				}
			}
		}
	}
	var differ []string
	for _, c := range full.Columns() {
		differ = append(differ, fmt.Sprintf("x.%s IS DISTINCT FROM y.%s", c[0], c[0]))
	}
	got := testenv.DuckDB(t, fmt.Sprintf("SELECT count(*) AS n, count(*) FILTER (WHERE %s) AS differ FROM '%s' x POSITIONAL JOIN '%s' y",
		strings.Join(differ, " OR "), filepath.Join(dir, "0.parquet"), filepath.Join(dir, "1.parquet")))
	if len(got) != 1 || fmt.Sprint(got[0]["n"]) != fmt.Sprint(len(flows)) || fmt.Sprint(got[0]["differ"]) != "0" {
		t.Errorf("DuckDB: %v, want %d rows, none differing", got, len(flows))
	}
}
