package score

import (
	"context"
	"fmt"
	"io"
	"math"
	"os"
	"slices"
	"sync"

	"github.com/parquet-go/parquet-go"

	"github.com/spot-hunt/spot/internal/columnar"
	"github.com/spot-hunt/spot/internal/detect"
	"github.com/spot-hunt/spot/internal/feature"
	"github.com/spot-hunt/spot/internal/filter"
	"github.com/spot-hunt/spot/internal/ioformat"
	"github.com/spot-hunt/spot/internal/lda"
	"github.com/spot-hunt/spot/internal/record"
)

// Options are a scoring run's settings.
type Options struct {
	Model  string // the model file from spot train
	Method Method
	// Within is the topic-model method that orders events within a level
	// of the fused ranking (default: Apache Spot's, lda.Spot).
	Within lda.Method
	Unseen lda.UnseenDoc
	// Findings, when not nil, is where the fused method writes its findings.
	Findings *ioformat.Dest
	// State, when not nil, is the detectors' state of the whole input (from
	// spot detect --state, merged over shards): the fused method judges it
	// instead of running the detectors over the inputs.
	State  detect.Set
	Limits detect.Limits // bounds of the detectors' state
	// Lookups, when set, reads the DNS records of the same traffic of the
	// clients given (flows, the fused method on files or with State;
	// ReadLookups): a
	// lookup flow that led to a strong finding shares its verdict
	// (detect.FlowSet.JoinLookups).
	Lookups func(clients map[string]bool) (*detect.Lookups, error)
	// Progress, when set, is told how many more records were read to be
	// scored (a pipe's, under the fused method, as they are held).
	// DetectProgress, when set, is told how many more records the
	// detectors' pass over files has read (the fused method, before it
	// scores).
	Progress, DetectProgress func(n int)
	// Top, when > 0, writes only the Top events that rank lowest (score,
	// then eid, then input order), lowest first: what filter --top Top
	// keeps of the whole output, as Apache Spot's maxresults did. Nothing
	// is written until the input ends.
	Top int
}

// Stats say what a run did.
type Stats struct {
	Rejected int64            // rows Apache Spot's filters reject, left out
	Reasons  map[string]int64 // why, by reason
	Skipped  int64            // malformed records the readers skipped
	Findings []record.Finding // the detectors' findings (fused), strongest first
	// Scored is how many events were scored. Of them, KnownWords had
	// every word in the model (a flow: both sides' words; the others score
	// 0) and KnownHosts a host in it (a flow: either side; the others were
	// scored as a typical host, or 0 with lda.UnseenZero). See Unfamiliar.
	Scored, KnownWords, KnownHosts int64
	// LookupsSkipped counts the malformed DNS records of Options.Lookups
	// the readers skipped.
	LookupsSkipped int64
}

func (st *Stats) reject(why string) {
	st.Rejected++
	if st.Reasons == nil {
		st.Reasons = map[string]int64{}
	}
	st.Reasons[why]++
}

// job is a loaded model with its featurizer.
type job struct {
	scorer *lda.Scorer
	fz     *feature.Featurizer
	method Method
	// lookups: flows are explained with their times (lookups were joined)
	lookups bool
	top     int // Options.Top
	// what the model knew of the events scored so far (Stats.Scored,
	// KnownWords, KnownHosts): counted on the one goroutine that scores
	known struct{ events, words, hosts int64 }
}

// count counts an event whose words were all known or not, and whose host
// (either) was known or not.
func (j *job) count(words, host bool) {
	j.known.events++
	if words {
		j.known.words++
	}
	if host {
		j.known.hosts++
	}
}

func load(path string, kind record.Kind, method Method, topic lda.Method, unseen lda.UnseenDoc) (*job, error) {
	m, err := lda.ReadFile(path)
	if err != nil {
		return nil, err
	}
	if err := m.CheckKind(string(kind)); err != nil {
		return nil, fmt.Errorf("model %s: %w", path, err)
	}
	fz, err := feature.FromSettings(kind, m.Features)
	if err != nil {
		return nil, fmt.Errorf("model %s: %w", path, err)
	}
	s, err := lda.NewScorer(m, topic, unseen)
	if err != nil {
		return nil, fmt.Errorf("model %s: %w", path, err)
	}
	return &job{scorer: s, fz: fz, method: method}, nil
}

// Run scores the records of ins, events or featurized events of meta's
// kind, into d: featurize (with the model's settings), then, for the fused
// method, the detectors (a first pass over the inputs), then each event's
// score and explanation, then the writer. It closes the inputs.
func Run(ctx context.Context, ins []*ioformat.Input, meta record.Meta, d ioformat.Dest, o Options) (st Stats, err error) {
	defer func() {
		for _, in := range ins {
			in.Close()
		}
	}()
	if meta.Stream != record.StreamEvents && meta.Stream != record.StreamFeaturized {
		return st, fmt.Errorf("score reads events or featurized events; %s holds %s records", ioformat.DisplayName(ins[0].Name), meta)
	}
	j, err := load(o.Model, meta.Kind, o.Method, o.Method.topic(o.Within), o.Unseen)
	if err != nil {
		return st, err
	}
	j.top = o.Top
	defer func() {
		st.Scored += j.known.events
		st.KnownWords += j.known.words
		st.KnownHosts += j.known.hosts
	}()
	var det *detectors
	var l *live
	held := meta.Kind == record.KindProxy && meta.Stream == record.StreamEvents && j.fz.Options().UserAgents == nil
	if o.Lookups != nil && (o.Method != Fused || meta.Kind != record.KindFlow || (o.State == nil && piped(ins))) {
		return st, fmt.Errorf("lookups are joined to flows by the fused method, from files or a state (not %s, %s, standard input)", o.Method, meta.Kind)
	}
	if o.Method == Fused && o.State == nil && piped(ins) && !held {
		set, err := detect.New(meta.Kind, o.Limits)
		if err != nil {
			return st, err
		}
		l = &live{set: set, det: &det, findings: o.Findings, st: &st}
	} else if o.Method == Fused {
		set := o.State
		if set == nil {
			if set, err = Detect(ctx, ins, meta.Kind, o.Limits, o.DetectProgress); err != nil {
				return st, err
			}
		} else if set.Kind() != meta.Kind {
			return st, fmt.Errorf("the detector state is of %s events; the input holds %s", set.Kind(), meta.Kind)
		}
		det = judge(set)
		st.Findings = det.findings
		if o.Lookups != nil {
			lk, err := o.Lookups(det.flows.LookupClients())
			if err != nil {
				return st, err
			}
			det.flows.JoinLookups(lk)
			st.LookupsSkipped = lk.Malformed
			j.lookups = true
		}
		if o.Findings != nil {
			if err := WriteFindings(*o.Findings, det.findings); err != nil {
				return st, err
			}
		}
		set.(interface{ Forget() }).Forget() // scoring needs the verdicts, not the subjects' state
	}
	out := record.Meta{Kind: meta.Kind, Stream: record.StreamScored}
	ev := meta.Stream == record.StreamEvents
	if meta.Kind == record.KindFlow && ev && d.ResolvedFormat() == ioformat.Parquet && l == nil {
		if done, err := j.columnar(ctx, ins, out, d, det, &st, o.Progress); done {
			return st, err
		}
	}
	switch {
	case meta.Kind == record.KindFlow && ev:
		return st, pipe(ctx, ins, meta, out, d, j.top, &st, l, o.Progress, func(e *record.Flow, to *record.ScoredFlow) string {
			if why := feature.FlowReject(e); why != "" {
				return why
			}
			src, dst := feature.FlowWords(e.SPort, e.DPort, e.Proto, e.TrHour, e.IByt, e.IPkt)
			j.flow(&record.FeaturizedFlow{Flow: *e, SrcWord: src, DstWord: dst}, to, det)
			return ""
		})
	case meta.Kind == record.KindFlow:
		return st, pipe(ctx, ins, meta, out, d, j.top, &st, l, o.Progress, func(e *record.FeaturizedFlow, to *record.ScoredFlow) string {
			j.flow(e, to, det)
			return ""
		})
	case meta.Kind == record.KindDNS && ev:
		return st, pipe(ctx, ins, meta, out, d, j.top, &st, l, o.Progress, func(e *record.DNS, to *record.ScoredDNS) string {
			if why := feature.DNSReject(e); why != "" {
				return why
			}
			j.dns(&record.FeaturizedDNS{DNS: *e, Doc: feature.DNSDoc(e), Word: j.fz.DNSWord(e)}, to, det)
			return ""
		})
	case meta.Kind == record.KindDNS:
		return st, pipe(ctx, ins, meta, out, d, j.top, &st, l, o.Progress, func(e *record.FeaturizedDNS, to *record.ScoredDNS) string {
			j.dns(e, to, det)
			return ""
		})
	case meta.Kind == record.KindProxy && ev:
		return st, j.proxyEvents(ctx, ins, meta, out, d, &det, &st, l, o.Progress)
	case meta.Kind == record.KindProxy:
		return st, pipe(ctx, ins, meta, out, d, j.top, &st, l, o.Progress, func(e *record.FeaturizedProxy, to *record.ScoredProxy) string {
			j.proxy(e, to, det)
			return ""
		})
	}
	return st, fmt.Errorf("cannot score %s records", meta)
}

func (j *job) explain(r lda.Result) record.Explanation {
	return record.Explanation{Score: r.Score, LDAScore: r.Score, Method: string(j.method), TopTopic: r.TopTopic, TopTopicWeight: r.TopTopicWeight}
}

func (j *job) flow(e *record.FeaturizedFlow, to *record.ScoredFlow, det *detectors) {
	s := j.scorer
	sd, sw, dd, dw := s.Doc(e.SIP), s.Word(e.SrcWord), s.Doc(e.DIP), s.Word(e.DstWord)
	j.count(sw >= 0 && dw >= 0, sd >= 0 || dd >= 0)
	src, dst, low := s.FlowIdx(sd, sw, dd, dw)
	*to = record.ScoredFlow{FeaturizedFlow: *e, SrcScore: src, DstScore: dst, Explanation: j.explain(low)}
	if det != nil {
		var t0, t1 int64
		if j.lookups {
			f := detect.FromFlow(&e.Flow)
			t0, t1 = f.TsNs, f.EndNs
		}
		explainFused(&to.Explanation, det.flows.ExplainAt(e.SIP, e.DIP, e.SPort, e.DPort, e.Proto, t0, t1))
	}
}

// score scores document doc saying word, counting what the model knew.
func (j *job) score(doc, word string) lda.Result {
	d, w := j.scorer.Doc(doc), j.scorer.Word(word)
	j.count(w >= 0, d >= 0)
	return j.scorer.ScoreIdx(d, w)
}

func (j *job) dns(e *record.FeaturizedDNS, to *record.ScoredDNS, det *detectors) {
	*to = record.ScoredDNS{FeaturizedDNS: *e, Explanation: j.explain(j.score(e.Doc, e.Word))}
	if det != nil {
		ev := detect.FromDNS(&e.DNS)
		explainFused(&to.Explanation, det.dns.Explain(&ev))
	}
}

func (j *job) proxy(e *record.FeaturizedProxy, to *record.ScoredProxy, det *detectors) {
	*to = record.ScoredProxy{FeaturizedProxy: *e, Explanation: j.explain(j.score(e.Doc, e.Word))}
	if det != nil {
		ev := detect.FromProxy(&e.Proxy)
		explainFused(&to.Explanation, det.proxy.Explain(&ev))
	}
}

// pipe is stream, or streamLive for the fused method on piped inputs (l).
func pipe[E, S any](ctx context.Context, ins []*ioformat.Input, in, out record.Meta, d ioformat.Dest, top int, st *Stats, l *live, progress func(int), fn func(*E, *S) string) error {
	if l != nil {
		return streamLive(ctx, ins, in, out, d, top, l, progress, fn)
	}
	return stream(ctx, ins, out, d, top, st, progress, fn)
}

// create makes the writer of scored records: with top > 0, one that keeps
// the top records and writes them when closed (Options.Top).
func create[S any](d ioformat.Dest, meta record.Meta, top int) (ioformat.Writer[S], error) {
	w, err := ioformat.Create[S](d, meta)
	if err != nil || top <= 0 {
		return w, err
	}
	tw, err := filter.NewTopWriter(w, top)
	if err != nil {
		w.Abort()
		return nil, err
	}
	return tw, nil
}

// stream scores every record of the inputs with fn, which fills the scored
// record or returns why the row is rejected.
func stream[E, S any](ctx context.Context, ins []*ioformat.Input, meta record.Meta, d ioformat.Dest, top int, st *Stats, progress func(int), fn func(*E, *S) string) error {
	r, err := ioformat.NewConcat[E](ctx, ins)
	if err != nil {
		return err
	}
	defer r.Close()
	w, err := create[S](d, meta, top)
	if err != nil {
		return err
	}
	ioformat.FlushWhenIdle(r, w) // live pipes stay live
	in := make([]E, ioformat.BatchSize)
	out := make([]S, ioformat.BatchSize)
	for {
		if err := ctx.Err(); err != nil {
			w.Abort()
			return err
		}
		n, rerr := r.Read(in)
		if progress != nil {
			progress(n)
		}
		if k := scoreBatch(in[:n], out, st, fn); k > 0 {
			if err := w.Write(out[:k]); err != nil {
				w.Abort()
				return err
			}
		}
		if rerr == io.EOF {
			break
		}
		if rerr != nil {
			w.Abort()
			return rerr
		}
	}
	if err := w.Close(); err != nil {
		return err
	}
	st.Skipped += r.Skipped()
	return nil
}

// scoreBatch scores events into out (at least as long) with fn, counting
// the rows rejected, and returns how many it scored.
func scoreBatch[E, S any](events []E, out []S, st *Stats, fn func(*E, *S) string) int {
	k := 0
	for i := range events {
		if why := fn(&events[i], &out[k]); why != "" {
			st.reject(why)
			continue
		}
		k++
	}
	return k
}

// proxyEvents scores proxy lines. With the model's user-agent counts it
// streams; a model trained on words only has none, and the lines are then
// held to count them (as Spot's scoring did).
func (j *job) proxyEvents(ctx context.Context, ins []*ioformat.Input, in, meta record.Meta, d ioformat.Dest, dp **detectors, st *Stats, l *live, progress func(int)) error {
	if ua := j.fz.Options().UserAgents; ua != nil {
		return pipe(ctx, ins, in, meta, d, j.top, st, l, progress, func(e *record.Proxy, to *record.ScoredProxy) string {
			if why := feature.ProxyReject(e); why != "" {
				return why
			}
			j.proxy(&record.FeaturizedProxy{Proxy: *e, Doc: e.ClientIP, Word: j.fz.ProxyWord(e, ua[feature.ProxyAgent(e)])}, to, *dp)
			return ""
		})
	}
	det := *dp
	r, err := ioformat.NewConcat[record.Proxy](ctx, ins)
	if err != nil {
		return err
	}
	lines, err := feature.ReadAllProxy(ctx, r)
	st.Skipped += r.Skipped()
	r.Close()
	if err != nil {
		return err
	}
	ua := feature.UserAgentCounts(lines)
	w, err := create[record.ScoredProxy](d, meta, j.top)
	if err != nil {
		return err
	}
	out := ioformat.Touched(make([]record.ScoredProxy, ioformat.BatchSize))[:0]
	done := 0 // lines told to progress
	flush := func(upTo int) error {
		if progress != nil {
			progress(upTo - done)
			done = upTo
		}
		if len(out) == 0 {
			return nil
		}
		err := w.Write(out)
		out = out[:0]
		return err
	}
	for i := range lines {
		e := &lines[i]
		if why := feature.ProxyReject(e); why != "" {
			st.reject(why)
			continue
		}
		var s record.ScoredProxy
		j.proxy(&record.FeaturizedProxy{Proxy: *e, Doc: e.ClientIP, Word: j.fz.ProxyWord(e, ua[feature.ProxyAgent(e)])}, &s, det)
		out = append(out, s)
		if len(out) == cap(out) {
			if err := flush(i + 1); err != nil {
				w.Abort()
				return err
			}
		}
	}
	if err := flush(len(lines)); err != nil {
		w.Abort()
		return err
	}
	return w.Close()
}

// columnar is the Parquet-to-Parquet path for flow events, column by column;
// it reports whether it handled the request.
func (j *job) columnar(ctx context.Context, ins []*ioformat.Input, out record.Meta, d ioformat.Dest, det *detectors, st *Stats, progress func(int)) (bool, error) {
	var files []*parquet.File
	var names []string
	var srcs []*os.File
	for _, in := range ins {
		pf := in.ParquetFile()
		if pf == nil {
			return false, nil
		}
		files = append(files, pf)
		names = append(names, ioformat.DisplayName(in.Name))
		srcs = append(srcs, in.SourceFile())
	}
	full := parquet.SchemaOf(new(record.ScoredFlow))
	plan, ok := columnar.Flows(files, full)
	if !ok || (j.lookups && !plan.Times()) {
		return false, nil // lookups join by time: without the time columns, the row path reads them
	}
	r := &columnar.Runner{Names: names, Scorer: j.scorer, Method: string(j.method), Options: ioformat.ParquetOptions(out), Progress: progress,
		Times: j.lookups, Files: srcs}
	if det != nil {
		r.Fuse = func(k columnar.FlowKey, lda float64) (float64, *detect.Verdict) {
			v := det.flows.ExplainAt(k.SIP, k.DIP, k.SPort, k.DPort, k.Proto, k.T0, k.T1)
			d := 0.0
			if v != nil {
				d = v.Score
			}
			return Fuse(d, lda), v
		}
	}
	if j.top > 0 {
		run := func(w io.Writer) (columnar.Stats, error) {
			return r.Run(ctx, files, plan, full, columnar.ExtraSchema(full), w)
		}
		return true, j.columnarTop(ctx, ins, r, run, out, d, det, st)
	}
	w, err := ioformat.CreateRaw(d)
	if err != nil {
		return true, err
	}
	cs, err := r.Run(ctx, files, plan, full, columnar.ExtraSchema(full), w)
	if err != nil {
		w.Abort()
		return true, err
	}
	st.add(cs)
	return true, w.Close()
}

// add adds what a columnar run did.
func (st *Stats) add(cs columnar.Stats) {
	st.Rejected += cs.Rejected
	st.Scored += cs.Rows
	st.KnownWords += cs.KnownWords
	st.KnownHosts += cs.KnownHosts
	for k, v := range cs.Reasons {
		if st.Reasons == nil {
			st.Reasons = map[string]int64{}
		}
		st.Reasons[k] += v
	}
}

// columnarTop is columnar with Options.Top: the runner ranks every row
// group by its final scores, then the rows kept are read whole and scored
// again by the row path, which the columnar path matches value for value
// (checked here, row by row).
func (j *job) columnarTop(ctx context.Context, ins []*ioformat.Input, r *columnar.Runner, run func(io.Writer) (columnar.Stats, error), out record.Meta, d ioformat.Dest, det *detectors, st *Stats) error {
	var mu sync.Mutex
	top := filter.NewTopN[columnar.Pick](j.top)
	r.Rank = func(g columnar.RankedGroup) {
		mu.Lock()
		defer mu.Unlock()
		for i, keep := range g.Keep {
			if !keep {
				continue
			}
			k := filter.Key{Score: g.Score[i], EID: g.EID[i], Seq: g.Before + int64(i) + 1}
			if top.Wants(k) {
				top.Offer(k, columnar.Pick{File: g.File, Group: g.Group, Row: int64(i)})
			}
		}
	}
	cs, err := run(io.Discard)
	if err != nil {
		return err
	}
	st.add(cs)
	entries := top.Entries()
	slices.SortFunc(entries, func(a, b filter.Entry[columnar.Pick]) int {
		if a.Key.Less(b.Key) {
			return -1
		}
		return 1
	})
	picks := make([]columnar.Pick, len(entries))
	for i, e := range entries {
		picks[i] = e.Rec
	}
	flows, err := columnar.ReadPicks[record.Flow](ctx, ins, picks)
	if err != nil {
		return err
	}
	known := j.known // the rows were counted once, by the runner
	defer func() { j.known = known }()
	recs := make([]record.ScoredFlow, len(flows))
	for i := range flows {
		e := &flows[i]
		src, dst := feature.FlowWords(e.SPort, e.DPort, e.Proto, e.TrHour, e.IByt, e.IPkt)
		j.flow(&record.FeaturizedFlow{Flow: *e, SrcWord: src, DstWord: dst}, &recs[i], det)
		if s, want := recs[i].Score, entries[i].Key.Score; s != want && !(math.IsNaN(s) && math.IsNaN(want)) {
			p := picks[i]
			return fmt.Errorf("%s: row %d of row group %d scores %v read whole and %v by column", ioformat.DisplayName(ins[p.File].Name), p.Row, p.Group, s, want)
		}
	}
	w, err := ioformat.Create[record.ScoredFlow](d, out)
	if err != nil {
		return err
	}
	if len(recs) > 0 {
		if err := w.Write(recs); err != nil {
			w.Abort()
			return err
		}
	}
	return w.Close()
}

// WriteFindings writes findings to d.
func WriteFindings(d ioformat.Dest, fs []record.Finding) error {
	w, err := ioformat.Create[record.Finding](d, record.Finding{}.Meta())
	if err != nil {
		return err
	}
	if len(fs) > 0 {
		if err := w.Write(fs); err != nil {
			w.Abort()
			return err
		}
	}
	return w.Close()
}
