// Package columnar holds the hot paths of the hunt: featurizing and scoring
// flow events from Parquet to Parquet column by column, with no reflection
// and no row assembly. Columns a stage passes through are read and written
// as parquet values; only the columns the words need (ports, protocol,
// hour, bytes, packets, addresses) are decoded into typed slices.
// Row groups are processed in parallel and written in input order, so the
// output is the same whatever the number of workers. The columns a score
// computes are encoded from their values by chunkEncoder (chunk.go), byte
// for byte as parquet-go encodes them but for the data pages Snappy does
// not shrink by a quarter, stored uncompressed (DataPageV2's is_compressed
// false), and by parquet-go where it declines. filter's --top (Top) and --where (Where) run here too: ranking
// or testing a few columns, then reading whole only the rows kept.
package columnar

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"maps"
	"math"
	"math/bits"
	"os"
	"runtime"
	"sync"
	"sync/atomic"
	"unsafe"

	"github.com/parquet-go/parquet-go"
	"github.com/parquet-go/parquet-go/format"

	"github.com/spot-hunt/spot/internal/detect"
	"github.com/spot-hunt/spot/internal/feature"
	"github.com/spot-hunt/spot/internal/ioformat"
	"github.com/spot-hunt/spot/internal/lda"
)

// Stats are what a run did.
type Stats struct {
	Copied   int // row groups whose passed-through columns were copied byte for byte
	Rows     int64
	Rejected int64
	Reasons  map[string]int64
	// With a scorer: the rows whose words (both sides) the model knows, and
	// those whose host (either side) it knows.
	KnownWords, KnownHosts int64
}

// The flow columns the words need.
var keyColumns = []string{"sip", "dip", "sport", "dport", "proto", "trhour", "trminute", "trsec", "treceived", "ibyt", "ipkt"}

// timeColumns are the flow columns a flow's span is read from, as
// detect.FromFlow reads it (Runner.Times).
var timeColumns = []string{"tstart_ns", "tend_ns", "unix_tstamp", "tdur"}

// plan maps the output columns to input columns or computed values.
type plan struct {
	out     [][]string // output column paths
	src     []int      // input column index per output column, -1: computed
	key     map[string]int
	compute []string // name of each computed output column (by output index; "" if passed through)
	times   bool     // the inputs have timeColumns, required and flat (in key)
}

// Times reports whether the inputs have the columns Runner.Times reads.
func (p *plan) Times() bool { return p.times }

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
			q.times = q.times && p.times
			for _, k := range timeColumns {
				if p.key[k] != q.key[k] {
					q.times = false
				}
			}
		}
		p = q
	}
	return p, true
}

var computed = map[string]bool{"src_word": true, "dst_word": true, "src_score": true, "dst_score": true,
	"score": true, "method": true, "top_topic": true, "top_topic_weight": true,
	"lda_score": true, "detector": true, "detector_score": true, "subject": true, "evidence": true}

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
	p.times = true
	for _, k := range timeColumns {
		ic, ok := in.Lookup(k)
		if !ok || ic.MaxDefinitionLevel != 0 || ic.MaxRepetitionLevel != 0 {
			p.times = false
			continue
		}
		p.key[k] = ic.ColumnIndex
	}
	return p, true
}

// fileName names input i in errors: names[i], else its position.
func fileName(names []string, i int) string {
	if i < len(names) {
		return names[i]
	}
	return fmt.Sprintf("input %d", i+1)
}

// Runner featurizes (and, with a scorer, scores) flows.
type Runner struct {
	Names  []string    // the inputs' names, for errors
	Scorer *lda.Scorer // nil: featurize only
	Method string
	// Fuse, when set, gives each scored row its final score from its flow
	// key and topic-model score (the lower side's), with the verdict that
	// explains it (nil: none). It is called from several goroutines.
	Fuse func(k FlowKey, lda float64) (float64, *detect.Verdict)
	// Times, with Fuse, gives FlowKey the flow's span (the plan must have
	// them: Times()).
	Times bool
	// Files, when set, are the files the inputs are read from
	// (ioformat.Input.SourceFile; nil: unknown), from which passed-through
	// chunks are copied: in the kernel, into an output that can.
	Files   []*os.File
	Workers int                    // 0: GOMAXPROCS
	Options []parquet.WriterOption // codec, metadata, ... of the output
	// Progress, when set, is told how many more input rows were done, a
	// row group at a time, from Run's goroutine.
	Progress func(rows int)
	// Rank, when set, is given each row group's final scores instead of
	// writing them: Run then writes nothing. It is called from several
	// goroutines.
	Rank       func(RankedGroup)
	slowEncode bool         // tests: parquet-go encodes every side file
	compressed bool         // tests: chunkEncoder compresses every page, as parquet-go does
	chunked    atomic.Int64 // tests: row groups whose computed columns chunkEncoder wrote
}

// constant reports whether every row of the run has the same value v in
// column name: the method, and the verdict columns when nothing fuses.
// Such a column is encoded once per row count, not once per row group.
func (r *Runner) constant(name string) (v parquet.Value, ok bool) {
	switch name {
	case "method":
		return parquet.ByteArrayValue([]byte(r.Method)), true
	case "detector", "subject", "evidence":
		return parquet.ByteArrayValue(nil), r.Fuse == nil
	case "detector_score":
		return parquet.DoubleValue(0), r.Fuse == nil
	}
	return parquet.Value{}, false
}

// alias reports whether column name holds the same values as column same
// in every row of the run: the topic-model score is the score when nothing
// fuses. Its chunk is a copy of its twin's.
func (r *Runner) alias(name string) (same string, ok bool) {
	if name == "lda_score" && r.Fuse == nil {
		return "score", true
	}
	return "", false
}

// RankedGroup is what Runner.Rank is given of a row group: which it is,
// how many input rows come before it (over the inputs in order), and by row
// whether Apache Spot's filters keep it, its score and its eid.
type RankedGroup struct {
	File, Group int
	Before      int64
	Keep        []bool
	Score       []float64
	EID         []int64
}

type job struct {
	file   int   // index of the input file
	rg     int   // index of the row group in it
	before int64 // input rows before it
	group  parquet.RowGroup
	copy   bool   // the passed-through chunks can be copied (same codec as the output)
	side   []byte // a Parquet file of the computed columns (or of every column when full)
	// chunks, when set, are the computed columns' chunks in side, which
	// holds them alone (chunkEncoder's), in the order of extra's columns.
	chunks []format.ColumnChunk
	full   bool // rows were left out: every column was re-encoded into side
	st     Stats
	err    error
	done   chan struct{}
}

// Run reads every row group of files and writes the featurized (or scored)
// flows to out as one Parquet file of schema full (record.FeaturizedFlow's
// or record.ScoredFlow's); extra is the schema of the columns the stage
// adds. Columns passed through are copied byte for byte from the input
// (re-encoded only in row groups where rows were rejected).
func (r *Runner) Run(ctx context.Context, files []*parquet.File, p *plan, full, extra *parquet.Schema, out io.Writer) (Stats, error) {
	workers := r.Workers
	if workers <= 0 {
		workers = runtime.GOMAXPROCS(0)
	}
	sideOpts := append(append([]parquet.WriterOption{}, r.Options...), parquet.MaxRowsPerRowGroup(math.MaxInt64))
	tmpl, err := ioformat.EmptyFooter(full, r.Options)
	if err != nil {
		return Stats{}, err
	}
	asm, err := newAssembler(out, tmpl)
	if err != nil {
		return Stats{}, err
	}
	extra, consts := r.split(extra)
	extraIdx := map[string]int{}
	for k, path := range extra.Columns() {
		extraIdx[path[0]] = k
	}
	chunkIdx := maps.Clone(extraIdx) // where emit finds each computed column's chunk
	for name, same := range consts.aliases {
		chunkIdx[name] = extraIdx[same]
	}
	consts.opts = sideOpts
	words := newWordTable(r.Scorer)
	jobs := make(chan *job)
	queue := make(chan *job, workers)
	var wg sync.WaitGroup
	for i := 0; i < workers; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			pr := &proc{r: r, p: p, words: words, full: full, extra: extra, extraIdx: extraIdx, opts: sideOpts}
			if r.Scorer != nil && !r.slowEncode {
				if pr.enc = newChunkEncoder(extra, sideOpts); pr.enc != nil {
					pr.enc.storePlain = !r.compressed
				}
			}
			for j := range jobs {
				if ctx.Err() == nil && r.Rank != nil {
					j.st, j.err = pr.rank(j)
				} else if ctx.Err() == nil {
					j.side, j.full, j.st, j.err = pr.rowGroup(j.group, j.copy)
					j.chunks = pr.chunks
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
		var before int64
		for fi, f := range files {
			for gi, g := range f.RowGroups() {
				j := &job{file: fi, rg: gi, before: before, group: g, copy: copyable(f, gi, p), done: make(chan struct{})}
				before += g.NumRows()
				select {
				case queue <- j: // bounded: at most workers row groups in flight
				case <-ctx.Done():
					return
				}
				jobs <- j
			}
		}
	}()
	var total Stats
	var firstErr error
	for j := range queue {
		<-j.done
		if firstErr == nil && j.err != nil {
			firstErr = fmt.Errorf("%s: %w", fileName(r.Names, j.file), j.err)
		}
		if firstErr != nil {
			continue
		}
		if r.Rank == nil {
			if err := r.emit(asm, files[j.file], j, p, chunkIdx, consts); err != nil {
				firstErr = err
				continue
			}
		}
		if r.Progress != nil {
			r.Progress(int(j.group.NumRows()))
		}
		if !j.full && j.st.Rows > 0 && r.Rank == nil {
			total.Copied++
		}
		total.Rows += j.st.Rows
		total.Rejected += j.st.Rejected
		total.KnownWords += j.st.KnownWords
		total.KnownHosts += j.st.KnownHosts
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
	if firstErr == nil {
		firstErr = asm.finish()
	}
	return total, firstErr
}

// emit copies one finished row group into the output.
func (r *Runner) emit(asm *assembler, in *parquet.File, j *job, p *plan, chunkIdx map[string]int, consts *constCols) error {
	if j.st.Rows == 0 {
		return nil
	}
	var side io.ReaderAt = &sideFile{data: j.side}
	sideCols := j.chunks
	if sideCols == nil {
		f, err := openSide(j.side)
		if err != nil {
			return err
		}
		srg := f.pf.Metadata().RowGroups
		if len(srg) != 1 || srg[0].NumRows != j.st.Rows {
			return fmt.Errorf("columnar: side file of row group %d has %d row groups", j.rg, len(srg))
		}
		side, sideCols = f, srg[0].Columns
	}
	var err error
	start := asm.off
	cols := make([]format.ColumnChunk, len(p.src))
	irg := &in.Metadata().RowGroups[j.rg]
	for c, src := range p.src {
		switch {
		case j.full:
			cols[c], err = asm.copyChunk(side, &sideCols[c])
		case src >= 0:
			cols[c], err = asm.copyChunk(r.source(j.file, in), &irg.Columns[src])
		default:
			name := p.compute[c]
			k, ok := chunkIdx[name]
			if !ok {
				cols[c], err = consts.copyChunk(asm, name, j.st.Rows)
				break
			}
			cols[c], err = asm.copyChunk(side, &sideCols[k])
			cols[c].MetaData.PathInSchema = []string{name} // an alias's chunk is its twin's
		}
		if err != nil {
			return err
		}
	}
	asm.addRowGroup(cols, j.st.Rows, start)
	sidePool.Put(j.side[:0])
	j.side = nil
	return nil
}

// source is what input file i's chunks are copied from: its *os.File when
// known, else in.
func (r *Runner) source(i int, in *parquet.File) io.ReaderAt {
	if i < len(r.Files) && r.Files[i] != nil {
		return r.Files[i]
	}
	return in
}

// wordTable interns flow words by their parts, shared by the workers.
type wordTable struct {
	mu     sync.RWMutex
	m      map[uint64]int32
	words  []wordPair
	protos map[string]uint64
	scorer *lda.Scorer
}

type wordPair struct {
	src, dst       string
	srcIdx, dstIdx int32 // model word indexes, -1 unseen
}

func newWordTable(s *lda.Scorer) *wordTable {
	return &wordTable{m: map[uint64]int32{}, protos: map[string]uint64{}, scorer: s}
}

// proc is one worker's state.
type proc struct {
	r     *Runner
	p     *plan
	words *wordTable
	// local caches
	local    wordKeys // word pairs' keys -> their index in words
	protos   map[string]protoID
	vals     []parquet.Value
	i32      [5][]int32
	i64      [2][]int64
	spans    [3][]int64 // with Runner.Times: tstart_ns, tend_ns, unix_tstamp
	tdur     []float32  // with Runner.Times
	eids     []int64    // with Runner.Rank
	bytes    [4]byteCol
	pairs    []int32
	keep     []bool
	srcDoc   []int32
	dstDoc   []int32
	docCache map[string]int32
	fused    []float64         // with Runner.Fuse: the final score per row
	verdicts []*detect.Verdict // with Runner.Fuse: what explains it, or nil
	needAddr bool              // read sip and dip even without a scorer (counting)
	enc      *chunkEncoder     // nil: parquet-go encodes every side file
	chunks   []format.ColumnChunk
	dictIdx  []int32   // a dictionary column's index of each row (or top_topic)
	f64      []float64 // a double column's values
	wordIdx  []int32   // by word pair: its index in the chunk's dictionary, -1: none yet
	full     *parquet.Schema
	extra    *parquet.Schema
	extraIdx map[string]int
	opts     []parquet.WriterOption

	// the last row's protocol name (a key of protos) and its id
	lastProto string
	lastPid   uint64
	haveProto bool
	shortDocs shortKeys // docs of addresses of up to shortMax bytes (docCache: the others)
	// with a scorer, by row: each side's score, the flow's (its lower
	// side's), and the flow's top topic and that topic's weight
	srcScore, dstScore, ldaScore, weight []float64
	topic                                []int32
}

// scores are the values of score column name, by row.
func (pr *proc) scores(name string) []float64 {
	switch name {
	case "src_score":
		return pr.srcScore
	case "dst_score":
		return pr.dstScore
	case "top_topic_weight":
		return pr.weight
	case "score":
		if pr.r.Fuse != nil {
			return pr.fused
		}
	}
	return pr.ldaScore
}

// protoID is a protocol name (held apart from the rows' buffers) and its
// id in the word table.
type protoID struct {
	name string
	pid  uint64
}

type byteCol struct {
	data []byte
	off  []uint32 // n+1 offsets
}

func (b *byteCol) at(i int) []byte { return b.data[b.off[i]:b.off[i+1]] }

func (pr *proc) rowGroup(rg parquet.RowGroup, copyOK bool) (side []byte, full bool, st Stats, err error) {
	defer ioformat.RecoverCorrupt("", &err)
	n := int(rg.NumRows())
	kept, st, err := pr.compute(rg)
	if err != nil {
		return nil, false, st, err
	}
	filter := kept != n
	return pr.encode(rg.ColumnChunks(), n, kept, filter, filter || !copyOK, st)
}

// rank computes a row group's scores and gives them to Runner.Rank.
func (pr *proc) rank(j *job) (st Stats, err error) {
	defer ioformat.RecoverCorrupt("", &err)
	n := int(j.group.NumRows())
	if _, st, err = pr.compute(j.group); err != nil {
		return st, err
	}
	pr.eids = pr.eids[:0]
	if c, ok := j.group.Schema().Lookup("eid"); ok {
		if pr.eids, err = pr.readInt64(j.group.ColumnChunks()[c.ColumnIndex], pr.eids); err != nil {
			return st, err
		}
	} else {
		pr.eids = append(pr.eids, make([]int64, n)...)
	}
	if len(pr.eids) != n {
		return st, fmt.Errorf("column eid has %d values for %d rows", len(pr.eids), n)
	}
	pr.r.Rank(RankedGroup{File: j.file, Group: j.rg, Before: j.before, Keep: pr.keep[:n], Score: pr.scores("score")[:n], EID: pr.eids})
	return st, nil
}

// compute reads a row group's columns and makes its rows' words and, with
// a scorer, their scores (and fused scores and verdicts); it returns the
// number of rows kept.
func (pr *proc) compute(rg parquet.RowGroup) (kept int, st Stats, err error) {
	n := int(rg.NumRows())
	chunks := rg.ColumnChunks()
	kept, st, err = pr.prepare(rg)
	if err != nil {
		return 0, st, err
	}
	if s := pr.r.Scorer; s != nil {
		pr.srcDoc = pr.docs(&pr.bytes[0], pr.srcDoc, n)
		pr.dstDoc = pr.docs(&pr.bytes[1], pr.dstDoc, n)
		pairs := pr.words.snapshot()
		for _, c := range []*[]float64{&pr.srcScore, &pr.dstScore, &pr.ldaScore, &pr.weight} {
			*c = growFloat(*c, n)
		}
		pr.topic = grow(pr.topic, n)
		var words, hosts int64 // rows whose words, whose host, the model knows
		for i := 0; i < n; i++ {
			if !pr.keep[i] {
				continue
			}
			wp := &pairs[pr.pairs[i]]
			sd, dd := pr.srcDoc[i], pr.dstDoc[i]
			if wp.srcIdx >= 0 && wp.dstIdx >= 0 {
				words++
			}
			if sd >= 0 || dd >= 0 {
				hosts++
			}
			src, dst, low := s.FlowIdx(sd, wp.srcIdx, dd, wp.dstIdx)
			pr.srcScore[i], pr.dstScore[i], pr.ldaScore[i], pr.topic[i], pr.weight[i] = src, dst, low.Score, low.TopTopic, low.TopTopicWeight
		}
		st.KnownWords, st.KnownHosts = words, hosts
		if fuse := pr.r.Fuse; fuse != nil {
			pr.fused = growFloat(pr.fused, n)
			if cap(pr.verdicts) < n {
				pr.verdicts = make([]*detect.Verdict, n)
			}
			pr.verdicts = pr.verdicts[:n]
			sip, dip, proto := &pr.bytes[0], &pr.bytes[1], &pr.bytes[2]
			if pr.r.Times {
				if err := pr.readSpans(chunks, n); err != nil {
					return 0, st, err
				}
			}
			for i := 0; i < n; i++ {
				if pr.keep[i] {
					k := FlowKey{SIP: stringOf(sip.at(i)), DIP: stringOf(dip.at(i)), SPort: pr.i32[0][i], DPort: pr.i32[1][i], Proto: stringOf(proto.at(i))}
					if pr.r.Times {
						k.T0, k.T1 = pr.span(i)
					}
					pr.fused[i], pr.verdicts[i] = fuse(k, pr.ldaScore[i])
				}
			}
		}
	}
	return kept, st, nil
}

// prepare reads the key columns of a row group and makes its rows' words
// (pr.pairs), keep flags (pr.keep) and addresses (pr.bytes[0:2]); it
// returns the number of rows kept.
func (pr *proc) prepare(rg parquet.RowGroup) (kept int, st Stats, err error) {
	defer ioformat.RecoverCorrupt("", &err)
	n := int(rg.NumRows())
	chunks := rg.ColumnChunks()
	k := pr.p.key
	// Columns read only for Spot's row filters are skipped when the column
	// chunk's statistics already prove every row passes.
	for i, name := range []string{"sport", "dport", "trhour", "trminute", "trsec"} {
		c := chunks[k[name]]
		if (name == "trminute" || name == "trsec") && inRange(c, 0, 59) {
			pr.i32[i] = zeros(pr.i32[i], n)
			continue
		}
		if pr.i32[i], err = pr.readInt32(c, pr.i32[i][:0]); err != nil {
			return 0, st, err
		}
	}
	for i, name := range []string{"ibyt", "ipkt"} {
		if pr.i64[i], err = pr.readInt64(chunks[k[name]], pr.i64[i][:0]); err != nil {
			return 0, st, err
		}
	}
	var present [4]bool // the column is known to have no empty value
	for i, name := range []string{"sip", "dip", "proto", "treceived"} {
		c := chunks[k[name]]
		if (name == "treceived" || (pr.r.Scorer == nil && !pr.needAddr && name != "proto")) && nonEmpty(c) {
			present[i] = true
			pr.bytes[i].data = pr.bytes[i].data[:0]
			pr.bytes[i].off = append(pr.bytes[i].off[:0], make([]uint32, n+1)...)
			continue
		}
		if err = pr.readBytes(c, &pr.bytes[i]); err != nil {
			return 0, st, err
		}
	}
	sport, dport, hour, minute, sec := pr.i32[0], pr.i32[1], pr.i32[2], pr.i32[3], pr.i32[4]
	ibyt, ipkt := pr.i64[0], pr.i64[1]
	sip, dip, proto, trec := &pr.bytes[0], &pr.bytes[1], &pr.bytes[2], &pr.bytes[3]
	for _, c := range [][]int32{sport, dport, hour, minute, sec} {
		if len(c) != n {
			return 0, st, fmt.Errorf("column has %d values for %d rows", len(c), n)
		}
	}
	if len(ibyt) != n || len(ipkt) != n || len(sip.off) != n+1 || len(dip.off) != n+1 || len(proto.off) != n+1 || len(trec.off) != n+1 {
		return 0, st, fmt.Errorf("columns of unequal length in a row group")
	}
	pr.pairs = grow(pr.pairs, n)
	pr.keep = growBool(pr.keep, n)
	for i := 0; i < n; i++ {
		why := ""
		switch {
		case hour[i] < 0 || hour[i] > 23:
			why = "trhour out of 0-23"
		case minute[i] < 0 || minute[i] > 59:
			why = "trminute out of 0-59"
		case sec[i] < 0 || sec[i] > 59:
			why = "trsec out of 0-59"
		case !present[3] && trec.off[i] == trec.off[i+1]:
			why = "no treceived"
		case !present[0] && sip.off[i] == sip.off[i+1]:
			why = "no sip"
		case !present[1] && dip.off[i] == dip.off[i+1]:
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
	return kept, st, nil
}

// encode writes a prepared row group's side file: the computed columns'
// chunks alone (pr.chunks) when chunkEncoder can, else a Parquet file.
func (pr *proc) encode(chunks []parquet.ColumnChunk, n, kept int, filter, reencode bool, st Stats) (side []byte, full bool, _ Stats, err error) {
	pr.chunks = nil
	if !reencode && pr.enc != nil {
		out := sidePool.Get().([]byte)[:0]
		ok, err := pr.encodeChunks(out, n)
		if err != nil {
			return nil, false, st, err
		}
		if ok {
			pr.r.chunked.Add(1)
			pr.chunks = append([]format.ColumnChunk(nil), pr.enc.chunks...)
			return pr.enc.out, false, st, nil
		}
	}
	buf := bytes.NewBuffer(sidePool.Get().([]byte)[:0])
	schema := pr.extra
	if reencode {
		schema = pr.full
	}
	w := parquet.NewGenericWriter[any](buf, append([]parquet.WriterOption{schema}, pr.opts...)...)
	cw := w.BeginRowGroup()
	cols := cw.ColumnWriters()
	for j, src := range pr.p.src {
		name := pr.p.compute[j]
		switch {
		case reencode && src >= 0:
			err = pr.copyColumn(cols[j], chunks[src], filter)
		case reencode:
			err = pr.computeColumn(cols[j], name, n)
		case src < 0:
			if k, ok := pr.extraIdx[name]; ok {
				err = pr.computeColumn(cols[k], name, n)
			}
		}
		if err != nil {
			return nil, false, st, err
		}
	}
	if kept > 0 {
		if _, err := cw.Commit(); err != nil {
			return nil, false, st, err
		}
	}
	if err := w.Close(); err != nil {
		return nil, false, st, err
	}
	return buf.Bytes(), reencode, st, nil
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
		if len(b) <= shortMax {
			d, ok := pr.shortDocs.get(b)
			if !ok {
				d = pr.r.Scorer.Doc(string(b))
				if pr.shortDocs.n < 1<<20 {
					pr.shortDocs.put(b, d)
				}
			}
			out[i] = d
			continue
		}
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
	if pr.protos == nil {
		pr.protos = map[string]protoID{}
	}
	pid := pr.lastPid // rows mostly repeat the last row's protocol
	if string(proto) != pr.lastProto || !pr.haveProto {
		id, ok := pr.protos[string(proto)]
		if !ok {
			id = protoID{name: string(proto), pid: pr.words.proto(string(proto))}
			pr.protos[id.name] = id
		}
		pid, pr.lastProto, pr.lastPid, pr.haveProto = id.pid, id.name, id.pid, true
	}
	p, sp, dp := feature.FlowWordParts(sport, dport)
	bb := uint64(ceilLog2Plus1(ibyt)) & 127
	pb := uint64(ceilLog2Plus1(ipkt)) & 127
	key := pid<<44 | uint64(uint32(p))&(1<<22-1)<<22 | uint64(hour)&31<<17 | bb<<10 | pb<<3
	if sp {
		key |= 1
	}
	if dp {
		key |= 2
	}
	if w, ok := pr.local.get(key); ok {
		return w
	}
	w := pr.words.get(key, sport, dport, string(proto), hour, ibyt, ipkt)
	pr.local.put(key, w)
	return w
}

// ceilLog2Plus1 is feature.CeilLog2(float64(n)+1), the words' size bins,
// in integers where that is exact: for 0 <= n < 2^53, n+1 is a float64
// exactly, and its ceiling log2 is the bit length of n.
func ceilLog2Plus1(n int64) int {
	if n >= 0 && n < 1<<53 {
		return bits.Len64(uint64(n))
	}
	return feature.CeilLog2(float64(n) + 1)
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
		pr.vals = make([]parquet.Value, batchRows)
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
		if pg.Type().Kind() == parquet.Int32 {
			d := pg.Data()
			if dict := pg.Dictionary(); dict != nil { // decode writes near-constant columns so
				dd := dict.Page().Data()
				var err error
				out, err = lookUp(out, d.Int32(), dd.Int32())
				return err
			}
			out = append(out, d.Int32()...)
			return nil
		}
		return readValues(pg, pr.buf(), func(v parquet.Value) { out = append(out, v.Int32()) })
	})
	return out, err
}

func (pr *proc) readInt64(chunk parquet.ColumnChunk, out []int64) ([]int64, error) {
	err := eachPage(chunk, func(pg parquet.Page) error {
		if pg.Type().Kind() == parquet.Int64 {
			d := pg.Data()
			if dict := pg.Dictionary(); dict != nil {
				dd := dict.Page().Data()
				var err error
				out, err = lookUp(out, d.Int32(), dd.Int64())
				return err
			}
			out = append(out, d.Int64()...)
			return nil
		}
		return readValues(pg, pr.buf(), func(v parquet.Value) { out = append(out, v.Int64()) })
	})
	return out, err
}

// lookUp appends the values of a dictionary-encoded page, its indexes
// into dict, to out.
func lookUp[V int32 | int64](out []V, idx []int32, dict []V) ([]V, error) {
	for _, i := range idx {
		if uint32(i) >= uint32(len(dict)) {
			return out, fmt.Errorf("dictionary index %d out of range", i)
		}
		out = append(out, dict[i])
	}
	return out, nil
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
		if dict := pg.Dictionary(); dict != nil && dict.Type().Kind() == parquet.ByteArray {
			// dictionary page: look the indexes up in the dictionary's values
			dd := dict.Page().Data()
			ddata, doff := dd.ByteArray()
			idx := pg.Data()
			for _, i := range idx.Int32() {
				if int(i)+1 >= len(doff) || i < 0 {
					return fmt.Errorf("dictionary index %d out of range", i)
				}
				out.data = append(out.data, ddata[doff[i]:doff[i+1]]...)
				out.off = append(out.off, uint32(len(out.data)))
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

// stringOf views b as a string without copying: for lookups that keep nothing.
func stringOf(b []byte) string { return unsafe.String(unsafe.SliceData(b), len(b)) }

// verdictText is the text column name of v.
func verdictText(v *detect.Verdict, name string) string {
	switch name {
	case "detector":
		return v.Detector
	case "subject":
		return v.Subject
	}
	return v.Evidence
}

// FlowKey is what Runner.Fuse is told of a row. Its strings live only for
// the call.
type FlowKey struct {
	SIP, DIP     string
	SPort, DPort int32
	Proto        string
	T0, T1       int64 // the flow's span, ns, as detect.FromFlow reads it (Runner.Times; else 0)
}

// readSpans reads a row group's time columns (Runner.Times).
func (pr *proc) readSpans(chunks []parquet.ColumnChunk, n int) (err error) {
	for i, name := range timeColumns[:3] {
		if pr.spans[i], err = pr.readInt64(chunks[pr.p.key[name]], pr.spans[i][:0]); err != nil {
			return err
		}
	}
	pr.tdur = pr.tdur[:0]
	err = eachPage(chunks[pr.p.key["tdur"]], func(pg parquet.Page) error {
		return readValues(pg, pr.buf(), func(v parquet.Value) { pr.tdur = append(pr.tdur, v.Float()) })
	})
	if err == nil && (len(pr.spans[0]) != n || len(pr.spans[1]) != n || len(pr.spans[2]) != n || len(pr.tdur) != n) {
		err = fmt.Errorf("time columns of unequal length in a row group")
	}
	return err
}

// span is row i's span, as detect.FromFlow makes it.
func (pr *proc) span(i int) (t0, t1 int64) {
	t0, t1 = pr.spans[0][i], pr.spans[1][i]
	if t0 == 0 {
		t0 = pr.spans[2][i] * 1e9
		t1 = t0 + int64(float64(pr.tdur[i])*1e9)
	}
	return t0, max(t1, t0)
}

func growFloat(s []float64, n int) []float64 {
	if cap(s) < n {
		return make([]float64, n)
	}
	return s[:n]
}

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
	pairs := pr.words.snapshot()
	emit := func(v parquet.Value) error {
		buf[k] = v
		k++
		if k == len(buf) {
			return flush()
		}
		return nil
	}
	var err error
	if v, ok := pr.r.constant(name); ok {
		for i := 0; i < n && err == nil; i++ {
			if pr.keep[i] {
				err = emit(v)
			}
		}
		if err != nil {
			return err
		}
		return flush()
	}
	switch name {
	case "src_word", "dst_word":
		src := name == "src_word"
		for i := 0; i < n && err == nil; i++ {
			if pr.keep[i] {
				wp := &pairs[pr.pairs[i]]
				w := wp.dst
				if src {
					w = wp.src
				}
				err = emit(parquet.ByteArrayValue(bytesOf(w)))
			}
		}
	case "top_topic":
		for i := 0; i < n && err == nil; i++ {
			if pr.keep[i] {
				err = emit(parquet.Int32Value(pr.topic[i]))
			}
		}
	case "detector", "subject", "evidence":
		for i := 0; i < n && err == nil; i++ {
			if pr.keep[i] {
				var b []byte
				if pr.verdicts[i] != nil {
					b = bytesOf(verdictText(pr.verdicts[i], name))
				}
				err = emit(parquet.ByteArrayValue(b))
			}
		}
	case "detector_score":
		for i := 0; i < n && err == nil; i++ {
			if pr.keep[i] {
				d := 0.0
				if pr.verdicts[i] != nil {
					d = pr.verdicts[i].Score
				}
				err = emit(parquet.DoubleValue(d))
			}
		}
	case "src_score", "dst_score", "score", "lda_score", "top_topic_weight":
		vals := pr.scores(name)
		for i := 0; i < n && err == nil; i++ {
			if pr.keep[i] {
				err = emit(parquet.DoubleValue(vals[i]))
			}
		}
	default:
		return fmt.Errorf("columnar: no rule for column %q", name)
	}
	if err != nil {
		return err
	}
	return flush()
}

// copyable reports whether the passed-through chunks of row group gi of f
// can be copied as they are: compressed with Snappy, as the columns the
// stage writes are (some readers expect one codec per column).
func copyable(f *parquet.File, gi int, p *plan) bool {
	cols := f.Metadata().RowGroups[gi].Columns
	for _, src := range p.src {
		if src >= 0 && (src >= len(cols) || cols[src].MetaData.Codec != format.Snappy || len(cols[src].EncryptedColumnMetadata) > 0) {
			return false
		}
	}
	return true
}

// inRange reports whether a column chunk's statistics prove every value
// lies in [lo, hi].
func inRange(c parquet.ColumnChunk, lo, hi int64) bool {
	b, ok := c.(interface {
		Bounds() (min, max parquet.Value, ok bool)
	})
	if !ok {
		return false
	}
	min, max, ok := b.Bounds()
	if !ok || min.IsNull() || max.IsNull() {
		return false
	}
	return min.Int64() >= lo && max.Int64() <= hi
}

// nonEmpty reports whether a byte-array column chunk's statistics prove no
// value is empty (the smallest value is not "").
func nonEmpty(c parquet.ColumnChunk) bool {
	b, ok := c.(interface {
		Bounds() (min, max parquet.Value, ok bool)
	})
	if !ok {
		return false
	}
	min, _, ok := b.Bounds()
	return ok && !min.IsNull() && len(min.ByteArray()) > 0
}

func zeros(s []int32, n int) []int32 {
	s = grow(s, n)
	clear(s)
	return s
}

// sidePool recycles the side files' buffers.
var sidePool = sync.Pool{New: func() any { return make([]byte, 0, 8<<20) }}

// ExtraSchema is the schema of the columns a stage adds to flows (the
// computed columns of full), in any order.
func ExtraSchema(full *parquet.Schema) *parquet.Schema {
	g := parquet.Group{}
	for _, f := range full.Fields() {
		if !computed[f.Name()] {
			continue
		}
		var n parquet.Node = f
		if f.Type().Kind() == parquet.ByteArray {
			// words and the method repeat: dictionary pages keep them small
			n = parquet.Encoded(f, &parquet.RLEDictionary)
		}
		g[f.Name()] = n
	}
	return parquet.NewSchema("extra", g)
}

// split parts extra into the columns each row group computes, those
// constant for the run and those that copy another's values.
func (r *Runner) split(extra *parquet.Schema) (*parquet.Schema, *constCols) {
	varying, fixed := parquet.Group{}, parquet.Group{}
	c := &constCols{idx: map[string]int{}, values: map[string]parquet.Value{}, aliases: map[string]string{}, files: map[int64]*sideFile{}}
	for _, f := range extra.Fields() {
		if same, ok := r.alias(f.Name()); ok && has(extra, same) {
			c.aliases[f.Name()] = same
			continue
		}
		if v, ok := r.constant(f.Name()); ok {
			fixed[f.Name()] = f
			c.values[f.Name()] = v
			continue
		}
		varying[f.Name()] = f
	}
	c.schema = parquet.NewSchema("constant", fixed)
	for k, path := range c.schema.Columns() {
		c.idx[path[0]] = k
	}
	return parquet.NewSchema("extra", varying), c
}

// constCols encodes the run's constant columns once per row count, in
// side files that the output's row groups copy their chunks from.
type constCols struct {
	schema  *parquet.Schema
	idx     map[string]int
	values  map[string]parquet.Value
	aliases map[string]string // column -> its twin in the computed columns
	opts    []parquet.WriterOption
	files   map[int64]*sideFile // by row count; few: row groups are mostly full
}

// copyChunk copies column name for a row group of rows rows.
func (c *constCols) copyChunk(asm *assembler, name string, rows int64) (format.ColumnChunk, error) {
	side, err := c.file(rows)
	if err != nil {
		return format.ColumnChunk{}, err
	}
	return asm.copyChunk(side, &side.pf.Metadata().RowGroups[0].Columns[c.idx[name]])
}

func (c *constCols) file(rows int64) (*sideFile, error) {
	if f := c.files[rows]; f != nil {
		return f, nil
	}
	var buf bytes.Buffer
	w := parquet.NewGenericWriter[any](&buf, append([]parquet.WriterOption{c.schema}, c.opts...)...)
	cw := w.BeginRowGroup()
	vals := make([]parquet.Value, min(rows, 4096))
	for k, path := range c.schema.Columns() {
		v := c.values[path[0]]
		for i := range vals {
			vals[i] = v
		}
		for left := rows; left > 0; {
			m := min(left, int64(len(vals)))
			if _, err := cw.ColumnWriters()[k].WriteRowValues(vals[:m]); err != nil {
				return nil, err
			}
			left -= m
		}
	}
	if _, err := cw.Commit(); err != nil {
		return nil, err
	}
	if err := w.Close(); err != nil {
		return nil, err
	}
	f, err := openSide(buf.Bytes())
	if err != nil {
		return nil, err
	}
	if len(c.files) >= 64 { // row counts all different: keep the cache small
		clear(c.files)
	}
	c.files[rows] = f
	return f, nil
}

func has(s *parquet.Schema, column string) bool {
	_, ok := s.Lookup(column)
	return ok
}
