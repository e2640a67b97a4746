package columnar

import (
	"bytes"
	"encoding/binary"
	"hash/crc32"
	"math"
	"slices"
	"strings"
	"unsafe"

	"github.com/parquet-go/parquet-go"
	"github.com/parquet-go/parquet-go/compress"
	"github.com/parquet-go/parquet-go/encoding/rle"
	"github.com/parquet-go/parquet-go/encoding/thrift"
	"github.com/parquet-go/parquet-go/format"

	"github.com/spot-hunt/spot/internal/detect"
)

// chunkEncoder writes the chunks of the columns a stage computes (doubles,
// int32s, dictionary-encoded strings) straight from their values, as
// parquet-go's ColumnWriter writes them when computeColumn hands it
// batchRows values at a time: the same pages, page headers, dictionary
// page and chunk metadata, byte for byte (TestChunkEncoderMatchesParquetGo).
// What it leaves out is parquet-go's work a value: a parquet.Value made
// and dispatched, a map lookup a string to find its dictionary index, and
// a page's string bounds found by comparing every row's string (a sixth of
// the instructions of a flow score pass, spot or fused). What it does not
// do (a NaN or a negative zero, whose bounds parquet-go's order decides; a
// dictionary that could outgrow DictionaryMaxBytes; writer options it does
// not copy) it declines, and parquet-go encodes the row group.
//
// One departure from parquet-go's bytes: a data page the codec would not
// shrink to plainNum/plainDen of its size is stored as is, its DataPageV2 header's
// is_compressed false (the format's per-page flag; parquet-go, DuckDB and
// Arrow read it; a reader that trusts the chunk's codec alone would not).
// Most of a score column's pages are doubles of high entropy that Snappy
// shrinks by 13% at best; a sample of each page (probeBytes) tells before
// the whole is compressed. Scoring 1M flows (fused): 7.89G -> 7.62G
// instructions, the file 3.6% larger (TestPlainPages).
type chunkEncoder struct {
	codec     compress.Codec // nil: uncompressed
	pageBytes int64          // parquet-go's page buffer size (0.98 of PageBufferSize)
	dictMax   int64
	template  map[string]format.ColumnMetaData // each column's metadata from parquet-go, by name

	out     []byte // the chunks encoded so far
	chunks  []format.ColumnChunk
	body    []byte
	comp    []byte
	header  bytes.Buffer
	proto   thrift.CompactProtocol
	encoder *thrift.Encoder
	seen    []int32 // dictionary columns: the last page that held each value
	order   []int32 // dictionary columns sorted once: the values' indexes in order
	rank    []int32 // and each value's place in it
	// storePlain: a data page the codec does not shrink enough is stored
	// as is (false in tests that compare pages with parquet-go's)
	storePlain bool
}

// batchRows is how many values computeColumn hands parquet-go at a time:
// a page ends at the first batch that fills its buffer.
const batchRows = 4096

// newChunkEncoder returns an encoder of the columns of schema written with
// opts, or nil when parquet-go would write them in a way it does not copy.
func newChunkEncoder(schema *parquet.Schema, opts []parquet.WriterOption) *chunkEncoder {
	cfg, err := parquet.NewWriterConfig(opts...)
	if err != nil || cfg.DataPageVersion != 2 || cfg.DataPageStatistics || cfg.DeprecatedDataPageStatistics ||
		len(cfg.BloomFilters) > 0 || len(cfg.SkipPageBounds) > 0 && skipsAny(schema, cfg.SkipPageBounds) ||
		cfg.Encryption != nil || len(cfg.Encodings) > 0 || cfg.DictionaryMaxBytes <= 0 {
		return nil
	}
	e := &chunkEncoder{pageBytes: int64(int32(float64(cfg.PageBufferSize) * 0.98)), dictMax: cfg.DictionaryMaxBytes,
		template: map[string]format.ColumnMetaData{}, storePlain: true}
	if cfg.Compression != nil && cfg.Compression.CompressionCodec() != format.Uncompressed {
		e.codec = cfg.Compression
	}
	e.encoder = thrift.NewEncoder(e.proto.NewWriter(&e.header))
	// The metadata parquet-go gives each column (a file of one row).
	var buf bytes.Buffer
	w := parquet.NewGenericWriter[any](&buf, append([]parquet.WriterOption{schema}, opts...)...)
	cw := w.BeginRowGroup()
	for k, path := range schema.Columns() {
		leaf, _ := schema.Lookup(path...)
		if len(path) != 1 || leaf.MaxDefinitionLevel != 0 || leaf.MaxRepetitionLevel != 0 || leaf.Node.Compression() != nil {
			return nil
		}
		var v parquet.Value
		switch kind := leaf.Node.Type().Kind(); {
		case kind == parquet.Double && leaf.Node.Encoding() == nil:
			v = parquet.DoubleValue(0)
		case kind == parquet.Int32 && leaf.Node.Encoding() == nil:
			v = parquet.Int32Value(0)
		case kind == parquet.ByteArray && leaf.Node.Encoding() != nil && leaf.Node.Encoding().Encoding() == format.RLEDictionary:
			v = parquet.ByteArrayValue(nil)
		default:
			return nil
		}
		if _, err := cw.ColumnWriters()[k].WriteRowValues([]parquet.Value{v}); err != nil {
			return nil
		}
	}
	if _, err := cw.Commit(); err != nil {
		return nil
	}
	if err := w.Close(); err != nil {
		return nil
	}
	f, err := openSide(buf.Bytes())
	if err != nil {
		return nil
	}
	for _, c := range f.pf.Metadata().RowGroups[0].Columns {
		e.template[c.MetaData.PathInSchema[0]] = c.MetaData
	}
	return e
}

func skipsAny(schema *parquet.Schema, skip [][]string) bool {
	for _, p := range skip {
		if _, ok := schema.Lookup(p...); ok {
			return true
		}
	}
	return false
}

// reset starts a row group's chunks in out (kept from before: room). They
// start at offset 4, as in a file: an offset 0 reads as no dictionary page.
func (e *chunkEncoder) reset(out []byte) {
	e.out, e.chunks = append(out[:0], "PAR1"...), e.chunks[:0]
}

// pageRows is how many rows a page of values of size bytes holds.
func (e *chunkEncoder) pageRows(size int64) int {
	n := int64(0)
	for n*size < e.pageBytes {
		n += batchRows
	}
	return int(n)
}

// start begins column name's chunk; it returns its metadata to fill in.
func (e *chunkEncoder) start(name string) *format.ColumnMetaData {
	md := e.template[name]
	md.NumValues, md.TotalUncompressedSize, md.TotalCompressedSize = 0, 0, 0
	md.DataPageOffset, md.DictionaryPageOffset = int64(len(e.out)), 0
	md.Statistics = format.Statistics{}
	md.EncodingStats = nil
	e.chunks = append(e.chunks, format.ColumnChunk{FileOffset: int64(len(e.out))})
	return &md
}

// A data page is stored as is (its header's is_compressed false) unless
// the codec shrinks it to plainNum/plainDen of its size or less.
const plainNum, plainDen = 3, 4

// probeBytes is the size of the sample of a page that pays compresses.
const probeBytes = 8 << 10

// pays reports whether compressing body may shrink it enough: its first
// probeBytes are compressed to see (a page of up to twice that is
// compressed whole, then judged).
func (e *chunkEncoder) pays(body []byte) bool {
	if len(body) <= 2*probeBytes {
		return true // compressed whole, then judged
	}
	sample := body[:probeBytes]
	var err error
	if e.comp, err = e.codec.Encode(e.comp[:0], sample); err != nil {
		return true
	}
	return len(e.comp) <= len(sample)*plainNum/plainDen
}

func (e *chunkEncoder) finish(md *format.ColumnMetaData) {
	c := &e.chunks[len(e.chunks)-1]
	c.MetaData = *md
}

// page appends a page of body (n values, encoded enc; a dictionary page
// when dict) to the chunk md.
func (e *chunkEncoder) page(md *format.ColumnMetaData, body []byte, n int, enc format.Encoding, dict bool) error {
	comp, compressed := body, e.codec != nil
	if compressed && !dict && e.storePlain && !e.pays(body) {
		compressed = false
	}
	if compressed {
		var err error
		if e.comp, err = e.codec.Encode(e.comp[:0], body); err != nil {
			return err
		}
		comp = e.comp
		if !dict && e.storePlain && len(comp) > len(body)*plainNum/plainDen {
			comp, compressed = body, false
		}
	}
	h := format.PageHeader{UncompressedPageSize: int32(len(body)), CompressedPageSize: int32(len(comp)), CRC: int32(crc32.ChecksumIEEE(comp))}
	typ := format.DataPageV2
	if dict {
		typ = format.DictionaryPage
		h.DictionaryPageHeader = thrift.New(format.DictionaryPageHeader{NumValues: int32(n), Encoding: format.Plain})
	} else {
		h.DataPageHeaderV2 = thrift.New(format.DataPageHeaderV2{NumValues: int32(n), NumRows: int32(n), Encoding: enc,
			IsCompressed: thrift.New(compressed)})
		md.NumValues += int64(n)
	}
	h.Type = typ
	e.header.Reset()
	if err := e.encoder.Encode(&h); err != nil {
		return err
	}
	e.out = append(e.out, e.header.Bytes()...)
	e.out = append(e.out, comp...)
	md.TotalUncompressedSize += int64(e.header.Len() + len(body))
	md.TotalCompressedSize += int64(e.header.Len() + len(comp))
	for i := range md.EncodingStats {
		if s := &md.EncodingStats[i]; s.PageType == typ && s.Encoding == enc {
			s.Count++
			return nil
		}
	}
	md.EncodingStats = append(md.EncodingStats, format.PageEncodingStats{PageType: typ, Encoding: enc, Count: 1})
	return nil
}

// doubles encodes column name from vals, PLAIN; false: declined.
func (e *chunkEncoder) doubles(name string, vals []float64) (bool, error) {
	md := e.start(name)
	per := e.pageRows(8)
	var lo, hi float64
	for start := 0; start < len(vals); start += per {
		page := vals[start:min(start+per, len(vals))]
		plo, phi := page[0], page[0]
		for _, v := range page {
			// a NaN's bits, less the sign, are above +Inf's; -0's are the sign's
			if u := math.Float64bits(v); u<<1 > 0x7ff0_0000_0000_0000<<1 || u == 1<<63 {
				return false, nil
			}
			if v < plo {
				plo = v
			}
			if v > phi {
				phi = v
			}
		}
		var b []byte // PLAIN: the values' bytes, little-endian
		if littleEndian {
			b = unsafe.Slice((*byte)(unsafe.Pointer(unsafe.SliceData(page))), 8*len(page))
		} else {
			e.body = grow8(e.body, 8*len(page))
			b = e.body
			for i, v := range page {
				binary.LittleEndian.PutUint64(b[8*i:], math.Float64bits(v))
			}
		}
		if err := e.page(md, b, len(page), format.Plain, false); err != nil {
			return false, err
		}
		if start == 0 || plo < lo {
			lo = plo
		}
		if start == 0 || phi > hi {
			hi = phi
		}
	}
	if len(vals) > 0 {
		md.Statistics.MinValue = binary.LittleEndian.AppendUint64(nil, math.Float64bits(lo))
		md.Statistics.MaxValue = binary.LittleEndian.AppendUint64(nil, math.Float64bits(hi))
	}
	e.finish(md)
	return true, nil
}

// int32s encodes column name from vals, PLAIN.
func (e *chunkEncoder) int32s(name string, vals []int32) error {
	md := e.start(name)
	per := e.pageRows(4)
	var lo, hi int32
	for start := 0; start < len(vals); start += per {
		page := vals[start:min(start+per, len(vals))]
		plo, phi := page[0], page[0]
		for _, v := range page {
			plo, phi = min(plo, v), max(phi, v)
		}
		var b []byte // PLAIN: the values' bytes, little-endian
		if littleEndian {
			b = unsafe.Slice((*byte)(unsafe.Pointer(unsafe.SliceData(page))), 4*len(page))
		} else {
			e.body = grow8(e.body, 4*len(page))
			b = e.body
			for i, v := range page {
				binary.LittleEndian.PutUint32(b[4*i:], uint32(v))
			}
		}
		if err := e.page(md, b, len(page), format.Plain, false); err != nil {
			return err
		}
		if start == 0 || plo < lo {
			lo = plo
		}
		if start == 0 || phi > hi {
			hi = phi
		}
	}
	if len(vals) > 0 {
		md.Statistics.MinValue = binary.LittleEndian.AppendUint32(nil, uint32(lo))
		md.Statistics.MaxValue = binary.LittleEndian.AppendUint32(nil, uint32(hi))
	}
	e.finish(md)
	return nil
}

// dict encodes column name, RLE_DICTIONARY: row i's value is vals[idx[i]],
// vals in the order of their first row (as parquet-go's dictionary adds
// them); false: declined.
func (e *chunkEncoder) dict(name string, vals []string, idx []int32) (bool, error) {
	size := int64(0)
	for _, v := range vals {
		size += 4 + int64(len(v))
	}
	if size > e.dictMax {
		return false, nil // parquet-go might turn plain part way
	}
	md := e.start(name)
	if len(idx) > 0 {
		md.DictionaryPageOffset = int64(len(e.out))
		e.body = e.body[:0]
		for _, v := range vals {
			e.body = binary.LittleEndian.AppendUint32(e.body, uint32(len(v)))
			e.body = append(e.body, v...)
		}
		if err := e.page(md, e.body, len(vals), format.Plain, true); err != nil {
			return false, err
		}
		md.DataPageOffset = int64(len(e.out))
	}
	if cap(e.seen) < len(vals) {
		e.seen = make([]int32, len(vals))
	}
	seen := e.seen[:len(vals)]
	clear(seen)
	per := e.pageRows(4)
	// A dictionary much smaller than the chunk is sorted once: a page's
	// bounds are then the least and greatest rank of its rows' values, an
	// integer min and max a row.
	byRank := len(vals) > 0 && len(vals) <= len(idx)/8
	if byRank {
		e.order = grow(e.order, len(vals))
		for i := range e.order {
			e.order[i] = int32(i)
		}
		slices.SortFunc(e.order, func(a, b int32) int { return strings.Compare(vals[a], vals[b]) })
		e.rank = grow(e.rank, len(vals))
		for r, k := range e.order {
			e.rank[k] = int32(r)
		}
	}
	var lo, hi string
	for start, page := 0, int32(1); start < len(idx); start, page = start+per, page+1 {
		pidx := idx[start:min(start+per, len(idx))]
		var plo, phi string
		if byRank {
			rank := e.rank[:len(vals)]
			rlo, rhi := rank[pidx[0]], rank[pidx[0]]
			for _, k := range pidx {
				r := rank[k]
				rlo, rhi = min(rlo, r), max(rhi, r)
			}
			plo, phi = vals[e.order[rlo]], vals[e.order[rhi]]
		} else {
			for j, k := range pidx {
				if seen[k] == page {
					continue
				}
				seen[k] = page
				if v := vals[k]; j == 0 {
					plo, phi = v, v
				} else if v < plo {
					plo = v
				} else if v > phi {
					phi = v
				}
			}
		}
		var err error
		if e.body, err = (&rle.DictionaryEncoding{}).EncodeInt32(e.body[:0], pidx); err != nil {
			return false, err
		}
		if err := e.page(md, e.body, len(pidx), format.RLEDictionary, false); err != nil {
			return false, err
		}
		if start == 0 || plo < lo {
			lo = plo
		}
		if start == 0 || phi > hi {
			hi = phi
		}
	}
	if len(idx) > 0 {
		md.Statistics.MinValue = append([]byte{}, lo...)
		md.Statistics.MaxValue = append([]byte{}, hi...)
	}
	e.finish(md)
	return true, nil
}

// littleEndian: a slice of numbers in memory is their PLAIN encoding.
var littleEndian = binary.NativeEndian.Uint16([]byte{1, 0}) == 1

func grow8(b []byte, n int) []byte {
	if cap(b) < n {
		return make([]byte, n)
	}
	return b[:n]
}

// encodeChunks encodes the computed columns of a row group of n rows, all
// kept, into out with pr.enc; false: declined (then parquet-go does).
func (pr *proc) encodeChunks(out []byte, n int) (bool, error) {
	e := pr.enc
	e.reset(out)
	for _, path := range pr.extra.Columns() {
		ok, err := pr.encodeChunk(path[0], n)
		if err != nil || !ok {
			sidePool.Put(e.out[:0])
			e.out = nil
			return false, err
		}
	}
	return true, nil
}

func (pr *proc) encodeChunk(name string, n int) (bool, error) {
	e := pr.enc
	switch name {
	case "src_word", "dst_word":
		pairs := pr.words.snapshot()
		if len(pr.wordIdx) < len(pairs) {
			pr.wordIdx = make([]int32, len(pairs))
			for i := range pr.wordIdx {
				pr.wordIdx[i] = -1
			}
		}
		src := name == "src_word"
		var vals []string
		byWord := map[string]int32{} // two pairs may share a side's word
		idx := grow(pr.dictIdx, n)
		for i := 0; i < n; i++ {
			p := pr.pairs[i]
			k := pr.wordIdx[p]
			if k < 0 {
				w := pairs[p].dst
				if src {
					w = pairs[p].src
				}
				var ok bool
				if k, ok = byWord[w]; !ok {
					k = int32(len(vals))
					byWord[w] = k
					vals = append(vals, w)
				}
				pr.wordIdx[p] = k
			}
			idx[i] = k
		}
		pr.dictIdx = idx
		for i := 0; i < n; i++ { // back to -1 for the next chunk
			pr.wordIdx[pr.pairs[i]] = -1
		}
		return e.dict(name, vals, idx)
	case "detector", "subject", "evidence":
		if pr.verdicts == nil || len(pr.verdicts) < n {
			return false, nil
		}
		var vals []string
		byText := map[string]int32{}
		idx := grow(pr.dictIdx, n)
		var last *detect.Verdict
		lastK := int32(-1)
		for i := 0; i < n; i++ {
			v := pr.verdicts[i]
			if v == last && lastK >= 0 {
				idx[i] = lastK
				continue
			}
			s := ""
			if v != nil {
				s = verdictText(v, name)
			}
			k, ok := byText[s]
			if !ok {
				k = int32(len(vals))
				byText[s] = k
				vals = append(vals, s)
			}
			idx[i], last, lastK = k, v, k
		}
		pr.dictIdx = idx
		return e.dict(name, vals, idx)
	case "top_topic":
		return true, e.int32s(name, pr.topic[:n])
	case "detector_score":
		if pr.verdicts == nil || len(pr.verdicts) < n {
			return false, nil
		}
		pr.f64 = growFloat(pr.f64, n)
		for i, v := range pr.verdicts[:n] {
			pr.f64[i] = 0
			if v != nil {
				pr.f64[i] = v.Score
			}
		}
		return e.doubles(name, pr.f64)
	case "score", "lda_score", "top_topic_weight", "src_score", "dst_score":
		return e.doubles(name, pr.scores(name)[:n])
	}
	return false, nil
}
