// Package columnar holds the hot paths of the hunt: featurizing and scoring
// flow events from Parquet to Parquet column by column, with no reflection
// and no row assembly. Columns a stage passes through are read and written
// as parquet values; only the columns the words need (ports, protocol,
// hour, bytes, packets, addresses) are decoded into typed slices.
// Row groups are processed in parallel and written in input order, so the
// output is the same whatever the number of workers.
package columnar

import (
	"context"
	"fmt"
	"io"
	"runtime"
	"sync"
	"unsafe"

	"github.com/parquet-go/parquet-go"

	"github.com/spot-hunt/spot/internal/feature"
	"github.com/spot-hunt/spot/internal/score"
)

// Stats are what a run did.
type Stats struct {
	Rows     int64
	Rejected int64
	Reasons  map[string]int64
}

// rowGroupWriter is the part of parquet.GenericWriter used here.
type rowGroupWriter interface {
	BeginRowGroup() *parquet.ConcurrentRowGroupWriter
	Schema() *parquet.Schema
}

// The flow columns the words need.
var keyColumns = []string{"sip", "dip", "sport", "dport", "proto", "trhour", "trminute", "trsec", "treceived", "ibyt", "ipkt"}

// plan maps the output columns to input columns or computed values.
type plan struct {
	out     [][]string // output column paths
	src     []int      // input column index per output column, -1: computed
	key     map[string]int
	compute []string // name of each computed output column (by output index; "" if passed through)
}

// Flows reports whether the fast path can read these files: every output
// column that is a flow column exists in every input with the same
// physical type, required (no nulls), flat.
func Flows(files []*parquet.File, outSchema *parquet.Schema) (*plan, bool) {
	if len(files) == 0 {
		return nil, false
	}
	var p *plan
	for _, f := range files {
		q, ok := planFor(f.Schema(), outSchema)
		if !ok {
			return nil, false
		}
		if p != nil {
			for i := range p.src {
				if p.src[i] != q.src[i] {
					return nil, false // inputs with different layouts: keep it simple
				}
			}
		}
		p = q
	}
	return p, true
}

var computed = map[string]bool{"src_word": true, "dst_word": true, "src_score": true, "dst_score": true,
	"score": true, "method": true, "top_topic": true, "top_topic_weight": true}

func planFor(in, out *parquet.Schema) (*plan, bool) {
	p := &plan{out: out.Columns(), key: map[string]int{}}
	for _, path := range p.out {
		if len(path) != 1 {
			return nil, false
		}
		name := path[0]
		if computed[name] {
			p.src = append(p.src, -1)
			p.compute = append(p.compute, name)
			continue
		}
		oc, _ := out.Lookup(name)
		ic, ok := in.Lookup(name)
		if !ok || ic.MaxDefinitionLevel != 0 || ic.MaxRepetitionLevel != 0 || ic.Node.Type().Kind() != oc.Node.Type().Kind() {
			return nil, false
		}
		p.src = append(p.src, ic.ColumnIndex)
		p.compute = append(p.compute, "")
	}
	for _, k := range keyColumns {
		ic, ok := in.Lookup(k)
		if !ok || ic.MaxDefinitionLevel != 0 || ic.MaxRepetitionLevel != 0 {
			return nil, false
		}
		p.key[k] = ic.ColumnIndex
	}
	return p, true
}

// Runner featurizes (and, with a scorer, scores) flows.
type Runner struct {
	Scorer  *score.Scorer // nil: featurize only
	Method  string
	Workers int // 0: GOMAXPROCS
}

type job struct {
	rg   parquet.RowGroup
	cw   *parquet.ConcurrentRowGroupWriter
	st   Stats
	err  error
	done chan struct{}
}

// Run reads every row group of files and writes the featurized (or scored)
// flows to w, whose schema is record.FeaturizedFlow's or record.ScoredFlow's.
func (r *Runner) Run(ctx context.Context, files []*parquet.File, p *plan, w rowGroupWriter) (Stats, error) {
	workers := r.Workers
	if workers <= 0 {
		workers = runtime.GOMAXPROCS(0)
	}
	words := newWordTable(r.Scorer)
	var rgs []parquet.RowGroup
	for _, f := range files {
		rgs = append(rgs, f.RowGroups()...)
	}
	jobs := make(chan *job)
	queue := make(chan *job, workers)
	var wg sync.WaitGroup
	for i := 0; i < workers; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			pr := &proc{r: r, p: p, words: words}
			for j := range jobs {
				if ctx.Err() == nil {
					j.st, j.err = pr.rowGroup(j.rg, j.cw)
				} else {
					j.err = ctx.Err()
				}
				close(j.done)
			}
		}()
	}
	go func() {
		defer close(jobs)
		defer close(queue)
		for _, rg := range rgs {
			j := &job{rg: rg, cw: w.BeginRowGroup(), done: make(chan struct{})}
			select {
			case queue <- j: // bounded: at most workers row groups in flight
			case <-ctx.Done():
				return
			}
			jobs <- j
		}
	}()
	var total Stats
	var firstErr error
	for j := range queue {
		<-j.done
		if firstErr == nil && j.err != nil {
			firstErr = j.err
		}
		if firstErr != nil {
			continue
		}
		if _, err := j.cw.Commit(); err != nil {
			firstErr = err
			continue
		}
		total.Rows += j.st.Rows
		total.Rejected += j.st.Rejected
		for k, v := range j.st.Reasons {
			if total.Reasons == nil {
				total.Reasons = map[string]int64{}
			}
			total.Reasons[k] += v
		}
	}
	wg.Wait()
	if firstErr == nil {
		firstErr = ctx.Err()
	}
	return total, firstErr
}

// wordTable interns flow words by their parts, shared by the workers.
type wordTable struct {
	mu     sync.RWMutex
	m      map[uint64]int32
	words  []wordPair
	protos map[string]uint64
	scorer *score.Scorer
}

type wordPair struct {
	src, dst       string
	srcIdx, dstIdx int32 // model word indexes, -1 unseen
}

func newWordTable(s *score.Scorer) *wordTable {
	return &wordTable{m: map[uint64]int32{}, protos: map[string]uint64{}, scorer: s}
}

// proc is one worker's state.
type proc struct {
	r     *Runner
	p     *plan
	words *wordTable
	// local caches
	local    map[uint64]int32
	protos   map[string]uint64
	vals     []parquet.Value
	i32      [5][]int32
	i64      [2][]int64
	bytes    [4]byteCol
	pairs    []int32
	keep     []bool
	srcDoc   []int32
	dstDoc   []int32
	docCache map[string]int32
	res      []score.Result // src, dst, low per row
}

type byteCol struct {
	data []byte
	off  []uint32 // n+1 offsets
}

func (b *byteCol) at(i int) []byte { return b.data[b.off[i]:b.off[i+1]] }

func (pr *proc) rowGroup(rg parquet.RowGroup, cw *parquet.ConcurrentRowGroupWriter) (Stats, error) {
	var st Stats
	n := int(rg.NumRows())
	chunks := rg.ColumnChunks()
	k := pr.p.key
	var err error
	for i, name := range []string{"sport", "dport", "trhour", "trminute", "trsec"} {
		if pr.i32[i], err = pr.readInt32(chunks[k[name]], pr.i32[i][:0]); err != nil {
			return st, err
		}
	}
	for i, name := range []string{"ibyt", "ipkt"} {
		if pr.i64[i], err = pr.readInt64(chunks[k[name]], pr.i64[i][:0]); err != nil {
			return st, err
		}
	}
	for i, name := range []string{"sip", "dip", "proto", "treceived"} {
		if err = pr.readBytes(chunks[k[name]], &pr.bytes[i]); err != nil {
			return st, err
		}
	}
	sport, dport, hour, minute, sec := pr.i32[0], pr.i32[1], pr.i32[2], pr.i32[3], pr.i32[4]
	ibyt, ipkt := pr.i64[0], pr.i64[1]
	sip, dip, proto, trec := &pr.bytes[0], &pr.bytes[1], &pr.bytes[2], &pr.bytes[3]
	for _, c := range [][]int32{sport, dport, hour, minute, sec} {
		if len(c) != n {
			return st, fmt.Errorf("column has %d values for %d rows", len(c), n)
		}
	}
	if len(ibyt) != n || len(ipkt) != n || len(sip.off) != n+1 || len(dip.off) != n+1 || len(proto.off) != n+1 || len(trec.off) != n+1 {
		return st, fmt.Errorf("columns of unequal length in a row group")
	}
	pr.pairs = grow(pr.pairs, n)
	pr.keep = growBool(pr.keep, n)
	kept := 0
	for i := 0; i < n; i++ {
		why := ""
		switch {
		case hour[i] < 0 || hour[i] > 23:
			why = "trhour out of 0-23"
		case minute[i] < 0 || minute[i] > 59:
			why = "trminute out of 0-59"
		case sec[i] < 0 || sec[i] > 59:
			why = "trsec out of 0-59"
		case trec.off[i] == trec.off[i+1]:
			why = "no treceived"
		case sip.off[i] == sip.off[i+1]:
			why = "no sip"
		case dip.off[i] == dip.off[i+1]:
			why = "no dip"
		case sport[i] < 0 || dport[i] < 0:
			why = "negative port"
		case ibyt[i] < 0 || ipkt[i] < 0:
			why = "negative ibyt or ipkt"
		}
		if why != "" {
			pr.keep[i] = false
			st.Rejected++
			if st.Reasons == nil {
				st.Reasons = map[string]int64{}
			}
			st.Reasons[why]++
			continue
		}
		pr.keep[i] = true
		kept++
		pr.pairs[i] = pr.word(sport[i], dport[i], proto.at(i), hour[i], ibyt[i], ipkt[i])
	}
	st.Rows = int64(kept)
	filter := kept != n
	if s := pr.r.Scorer; s != nil {
		pr.srcDoc = pr.docs(sip, pr.srcDoc, n)
		pr.dstDoc = pr.docs(dip, pr.dstDoc, n)
		pairs := pr.words.snapshot()
		if cap(pr.res) < 3*n {
			pr.res = make([]score.Result, 3*n)
		}
		pr.res = pr.res[:3*n]
		for i := 0; i < n; i++ {
			if !pr.keep[i] {
				continue
			}
			wp := &pairs[pr.pairs[i]]
			src := s.ScoreIdx(pr.srcDoc[i], wp.srcIdx)
			dst := s.ScoreIdx(pr.dstDoc[i], wp.dstIdx)
			low := src
			if dst.Score < src.Score {
				low = dst
			}
			pr.res[3*i], pr.res[3*i+1], pr.res[3*i+2] = src, dst, low
		}
	}
	cols := cw.ColumnWriters()
	for j, src := range pr.p.src {
		if src >= 0 {
			if err := pr.copyColumn(cols[j], chunks[src], filter); err != nil {
				return st, err
			}
			continue
		}
		if err := pr.computeColumn(cols[j], pr.p.compute[j], n); err != nil {
			return st, err
		}
	}
	return st, nil
}

func (pr *proc) docs(col *byteCol, out []int32, n int) []int32 {
	out = grow(out, n)
	if pr.docCache == nil {
		pr.docCache = map[string]int32{}
	}
	for i := 0; i < n; i++ {
		if !pr.keep[i] {
			continue
		}
		b := col.at(i)
		d, ok := pr.docCache[string(b)]
		if !ok {
			d = pr.r.Scorer.Doc(string(b))
			if len(pr.docCache) < 1<<20 {
				pr.docCache[string(b)] = d
			}
		}
		out[i] = d
	}
	return out
}

// word returns the index of a flow's word pair in the shared table.
func (pr *proc) word(sport, dport int32, proto []byte, hour int32, ibyt, ipkt int64) int32 {
	if pr.local == nil {
		pr.local = map[uint64]int32{}
		pr.protos = map[string]uint64{}
	}
	pid, ok := pr.protos[string(proto)]
	if !ok {
		pid = pr.words.proto(string(proto))
		pr.protos[string(proto)] = pid
	}
	p, sp, dp := feature.FlowWordParts(sport, dport)
	bb := uint64(feature.CeilLog2(float64(ibyt)+1)) & 127
	pb := uint64(feature.CeilLog2(float64(ipkt)+1)) & 127
	key := pid<<44 | uint64(uint32(p))&(1<<22-1)<<22 | uint64(hour)&31<<17 | bb<<10 | pb<<3
	if sp {
		key |= 1
	}
	if dp {
		key |= 2
	}
	if w, ok := pr.local[key]; ok {
		return w
	}
	w := pr.words.get(key, sport, dport, string(proto), hour, ibyt, ipkt)
	pr.local[key] = w
	return w
}

func (t *wordTable) proto(s string) uint64 {
	t.mu.Lock()
	defer t.mu.Unlock()
	id, ok := t.protos[s]
	if !ok {
		id = uint64(len(t.protos))
		t.protos[s] = id
	}
	if id >= 1<<19 {
		panic("columnar: too many distinct protocol names")
	}
	return id
}

func (t *wordTable) get(key uint64, sport, dport int32, proto string, hour int32, ibyt, ipkt int64) int32 {
	t.mu.RLock()
	w, ok := t.m[key]
	t.mu.RUnlock()
	if ok {
		return w
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	if w, ok := t.m[key]; ok {
		return w
	}
	src, dst := feature.FlowWords(sport, dport, proto, hour, ibyt, ipkt)
	wp := wordPair{src: src, dst: dst, srcIdx: -1, dstIdx: -1}
	if t.scorer != nil {
		wp.srcIdx, wp.dstIdx = t.scorer.Word(src), t.scorer.Word(dst)
	}
	w = int32(len(t.words))
	t.words = append(t.words, wp)
	t.m[key] = w
	return w
}

// snapshot returns the word pairs made so far; indexes handed out before
// the call are valid in it.
func (t *wordTable) snapshot() []wordPair {
	t.mu.RLock()
	defer t.mu.RUnlock()
	return t.words
}

func grow(s []int32, n int) []int32 {
	if cap(s) < n {
		return make([]int32, n)
	}
	return s[:n]
}

func growBool(s []bool, n int) []bool {
	if cap(s) < n {
		return make([]bool, n)
	}
	return s[:n]
}

func (pr *proc) buf() []parquet.Value {
	if pr.vals == nil {
		pr.vals = make([]parquet.Value, 4096)
	}
	return pr.vals
}

// eachPage calls fn with the data of every page of a column chunk; pages
// that are dictionary-encoded are decoded value by value.
func eachPage(chunk parquet.ColumnChunk, fn func(parquet.Page) error) error {
	pages := chunk.Pages()
	defer pages.Close()
	for {
		pg, err := pages.ReadPage()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return err
		}
		err = fn(pg)
		parquet.Release(pg)
		if err != nil {
			return err
		}
	}
}

func (pr *proc) readInt32(chunk parquet.ColumnChunk, out []int32) ([]int32, error) {
	err := eachPage(chunk, func(pg parquet.Page) error {
		if pg.Dictionary() == nil && pg.Type().Kind() == parquet.Int32 {
			d := pg.Data()
			out = append(out, d.Int32()...)
			return nil
		}
		return readValues(pg, pr.buf(), func(v parquet.Value) { out = append(out, v.Int32()) })
	})
	return out, err
}

func (pr *proc) readInt64(chunk parquet.ColumnChunk, out []int64) ([]int64, error) {
	err := eachPage(chunk, func(pg parquet.Page) error {
		if pg.Dictionary() == nil && pg.Type().Kind() == parquet.Int64 {
			d := pg.Data()
			out = append(out, d.Int64()...)
			return nil
		}
		return readValues(pg, pr.buf(), func(v parquet.Value) { out = append(out, v.Int64()) })
	})
	return out, err
}

func (pr *proc) readBytes(chunk parquet.ColumnChunk, out *byteCol) error {
	out.data = out.data[:0]
	out.off = append(out.off[:0], 0)
	return eachPage(chunk, func(pg parquet.Page) error {
		if pg.Dictionary() == nil && pg.Type().Kind() == parquet.ByteArray {
			d := pg.Data()
			data, off := d.ByteArray()
			if len(off) == 0 {
				return nil
			}
			base := uint32(len(out.data)) - off[0]
			out.data = append(out.data, data[off[0]:off[len(off)-1]]...)
			for _, o := range off[1:] {
				out.off = append(out.off, o+base)
			}
			return nil
		}
		return readValues(pg, pr.buf(), func(v parquet.Value) {
			out.data = append(out.data, v.ByteArray()...)
			out.off = append(out.off, uint32(len(out.data)))
		})
	})
}

func readValues(pg parquet.Page, buf []parquet.Value, fn func(parquet.Value)) error {
	r := pg.Values()
	for {
		n, err := r.ReadValues(buf)
		for _, v := range buf[:n] {
			fn(v)
		}
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return err
		}
	}
}

// copyColumn copies a passed-through column, leaving out rejected rows.
func (pr *proc) copyColumn(dst *parquet.ColumnWriter, chunk parquet.ColumnChunk, filter bool) error {
	r := parquet.NewColumnChunkValueReader(chunk)
	defer r.Close()
	buf := pr.buf()
	row := 0
	for {
		n, err := r.ReadValues(buf)
		vals := buf[:n]
		if filter {
			k := 0
			for i := range vals {
				if pr.keep[row+i] {
					vals[k] = vals[i]
					k++
				}
			}
			row += n
			vals = vals[:k]
		}
		if len(vals) > 0 {
			if _, werr := dst.WriteRowValues(vals); werr != nil {
				return werr
			}
		}
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return err
		}
	}
}

func bytesOf(s string) []byte { return unsafe.Slice(unsafe.StringData(s), len(s)) }

// computeColumn writes one of the columns the stage adds.
func (pr *proc) computeColumn(dst *parquet.ColumnWriter, name string, n int) error {
	buf := pr.buf()
	k := 0
	flush := func() error {
		if k == 0 {
			return nil
		}
		_, err := dst.WriteRowValues(buf[:k])
		k = 0
		return err
	}
	method := []byte(pr.r.Method)
	pairs := pr.words.snapshot()
	for i := 0; i < n; i++ {
		if !pr.keep[i] {
			continue
		}
		wp := &pairs[pr.pairs[i]]
		var v parquet.Value
		switch name {
		case "src_word":
			v = parquet.ByteArrayValue(bytesOf(wp.src))
		case "dst_word":
			v = parquet.ByteArrayValue(bytesOf(wp.dst))
		case "method":
			v = parquet.ByteArrayValue(method)
		default:
			src, dst, low := &pr.res[3*i], &pr.res[3*i+1], &pr.res[3*i+2]
			switch name {
			case "src_score":
				v = parquet.DoubleValue(src.Score)
			case "dst_score":
				v = parquet.DoubleValue(dst.Score)
			case "score":
				v = parquet.DoubleValue(low.Score)
			case "top_topic":
				v = parquet.Int32Value(low.TopTopic)
			case "top_topic_weight":
				v = parquet.DoubleValue(low.TopTopicWeight)
			default:
				return fmt.Errorf("columnar: no rule for column %q", name)
			}
		}
		buf[k] = v
		k++
		if k == len(buf) {
			if err := flush(); err != nil {
				return err
			}
		}
	}
	return flush()
}
