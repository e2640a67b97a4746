package train

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"

	"github.com/parquet-go/parquet-go"

	"github.com/spot-hunt/spot/internal/columnar"
	"github.com/spot-hunt/spot/internal/feature"
	"github.com/spot-hunt/spot/internal/ioformat"
	"github.com/spot-hunt/spot/internal/lda"
	"github.com/spot-hunt/spot/internal/partition"
	"github.com/spot-hunt/spot/internal/record"
)

// Options say how events become words and which feedback to add.
type Options struct {
	Features feature.Options
	// Feedback is an analyst feedback file ("" for none): its severity-3
	// (low risk) rows have their words rebuilt from their event columns and
	// are added DupFactor times, as Apache Spot did.
	Feedback  string
	DupFactor int
	// Progress, when set, is told how many more records of the inputs were
	// read (a negative count when count tables found out of order are read
	// again to be counted).
	Progress func(n int)
}

// Result is a gathered corpus and what a model trained on it records.
type Result struct {
	Corpus   *lda.Corpus
	Kind     record.Kind
	Features map[string]string // the featurizer's settings (lda.Model.Features)
	// Rejected counts the rows Apache Spot's filters leave out, by reason.
	Rejected feature.Rejects[struct{}]
	// Skipped counts the malformed records the readers passed over.
	Skipped int64
}

// ErrNoPairs says that the inputs gave nothing to train on.
var ErrNoPairs = errors.New("no (document, word) pairs to train on (every row was rejected?)")

// Corpus gathers the corpus of the named inputs (files, folders or globs
// of partitions; none or "-" reads stdin, which feedback may also name).
func Corpus(ctx context.Context, names []string, stdin io.Reader, o Options) (*Result, error) {
	g := &gatherer{ctx: ctx, counts: feature.NewCounter(), fo: o.Features, stdin: stdin, progress: o.Progress}
	defer func() {
		if g.counts != nil {
			g.counts.Close() // its scratch files, when it failed
		}
	}()
	c, err := g.corpus(names, o)
	if err != nil {
		return nil, err
	}
	return &Result{Corpus: c, Kind: g.kind, Features: g.featurizer().Settings(), Rejected: g.rejects, Skipped: g.skipped}, nil
}

// gatherer gathers the count matrix from inputs of one kind.
type gatherer struct {
	ctx      context.Context
	stdin    io.Reader
	progress func(int) // Options.Progress
	kind     record.Kind
	fo       feature.Options
	fz       *feature.Featurizer
	counts   *feature.Counter
	rejects  feature.Rejects[struct{}]
	skipped  int64
	proxy    []record.Proxy // proxy events wait for the user-agent counts
	// proxy feedback rows, each counted dup times
	proxyFeedback []record.Proxy
	dup           int64
	agents        map[string]int64
}

// corpus merges count tables in order when it can (mergeCounts), and
// counts everything else first.
func (g *gatherer) corpus(names []string, o Options) (*lda.Corpus, error) {
	if o.Feedback == "" {
		c, ok, err := g.mergeCounts(names)
		if err != nil {
			return nil, err
		}
		if ok {
			return c, nil
		}
	}
	if err := g.readInputs(names); err != nil {
		return nil, err
	}
	if g.kind == "" {
		return nil, fmt.Errorf("no records to train on")
	}
	if o.Feedback != "" {
		if err := g.addFeedback(o.Feedback, o.DupFactor); err != nil {
			return nil, err
		}
	}
	if err := g.finishProxy(); err != nil {
		return nil, err
	}
	if g.counts.Empty() {
		return nil, ErrNoPairs
	}
	b := lda.NewSortedBuilder()
	err := g.counts.EachSorted(func(c record.Count) error { return b.Add(c.Doc, c.Word, float64(c.Count)) })
	g.counts.Close()
	g.counts = nil
	if err != nil {
		return nil, err
	}
	return b.Build(), nil
}

// mergeCounts builds the corpus of inputs that are all count tables on
// files by merging them in order; it reports false, having kept nothing,
// when they are not (stdin, other records, a table out of order).
func (g *gatherer) mergeCounts(names []string) (*lda.Corpus, bool, error) {
	if len(names) == 0 {
		return nil, false, nil // stdin
	}
	names, err := partition.Files(names)
	if err != nil {
		return nil, false, err
	}
	var ins []*ioformat.Input
	defer func() {
		for _, in := range ins {
			in.Close()
		}
	}()
	var kind record.Kind
	for _, name := range names {
		if name == "-" || name == "" {
			return nil, false, nil
		}
		in, err := ioformat.Open(name, nil)
		if err != nil {
			return nil, false, err
		}
		if in.Meta == (record.Meta{}) {
			in.Close()
			continue
		}
		ins = append(ins, in)
		if in.Meta.Stream != record.StreamCounts || kind != "" && in.Meta.Kind != kind {
			return nil, false, nil // the other path reads them, or says what is wrong
		}
		kind = in.Meta.Kind
	}
	if len(ins) == 0 {
		return nil, false, nil
	}
	readers := make([]ioformat.Reader[record.Count], len(ins))
	merged := make([]ioformat.Reader[record.Count], len(ins)) // readers, counted
	tables := make([]string, len(ins))
	read := 0
	for i, in := range ins {
		if readers[i], err = ioformat.NewReader[record.Count](in); err != nil {
			return nil, false, err
		}
		// The merge clones what it keeps of the rows: lent strings spare
		// copying every row's (most of reading's memory and time).
		ioformat.LendStrings(readers[i], 1)
		merged[i] = counted(readers[i], func(n int) {
			read += n
			g.progress(n)
		}, g.progress != nil)
		tables[i] = ioformat.DisplayName(in.Name)
	}
	b := lda.NewSortedBuilder()
	var rows int64 // the most pairs the merge gives
	for _, in := range ins {
		if pf := in.ParquetFile(); pf != nil {
			rows += pf.NumRows()
		}
	}
	b.Grow(int(min(rows, 1<<31)))
	err = feature.MergeCounts(g.ctx, merged, tables, func(doc, word string, n int64) error {
		return b.Add(doc, word, float64(n))
	})
	var skipped int64
	for _, r := range readers {
		if s, ok := r.(ioformat.Skipper); ok {
			skipped += s.Skipped()
		}
		r.Close()
	}
	if errors.Is(err, feature.ErrUnsorted) || errors.Is(err, lda.ErrUnsorted) {
		slog.Debug("count tables not in order: counting them instead of merging", "err", err)
		if g.progress != nil {
			g.progress(-read) // they are read again
		}
		return nil, false, nil
	}
	if err != nil {
		return nil, false, err
	}
	c := b.Build()
	if c.Entries() == 0 {
		return nil, false, ErrNoPairs
	}
	g.kind, g.skipped = kind, skipped
	return c, true, nil
}

func (g *gatherer) featurizer() *feature.Featurizer {
	if g.fz == nil {
		o := g.fo
		if g.kind == record.KindProxy {
			o.UserAgents = g.agents // nil (trained on words only): score counts its input's
		}
		g.fz = feature.New(g.kind, o)
	}
	return g.fz
}

func (g *gatherer) readInputs(names []string) error {
	if len(names) == 0 {
		names = []string{"-"}
	}
	names, err := partition.Files(names)
	if err != nil {
		return err
	}
	for _, name := range names {
		in, err := ioformat.Open(name, g.stdin)
		if err != nil {
			return err
		}
		if in.Meta == (record.Meta{}) {
			in.Close()
			continue
		}
		if g.kind != "" && in.Meta.Kind != g.kind {
			in.Close()
			return fmt.Errorf("%s holds %s records, but earlier inputs hold %s: inputs must be of one kind",
				ioformat.DisplayName(name), in.Meta.Kind, g.kind)
		}
		g.kind = in.Meta.Kind
		if err := g.readOne(in); err != nil {
			in.Close()
			return err
		}
	}
	return nil
}

func (g *gatherer) readOne(in *ioformat.Input) error {
	ins := []*ioformat.Input{in}
	switch in.Meta.Stream {
	case record.StreamCounts:
		return eachRecord(g, ins, func(c *record.Count) {
			if c.Word != "" && c.Count > 0 {
				g.counts.Add(c.Doc, c.Word, c.Count)
			}
		})
	case record.StreamEvents:
		switch g.kind {
		case record.KindFlow:
			if pf := in.ParquetFile(); pf != nil {
				if p, ok := columnar.CountPlan([]*parquet.File{pf}); ok {
					defer in.Close()
					st, err := columnar.CountFlows(g.ctx, []*parquet.File{pf}, []string{ioformat.DisplayName(in.Name)}, p, g.counts, 0, g.progress)
					g.addRejects(st.Rejected, st.Reasons)
					return err
				}
			}
			return withReader(g, ins, func(r ioformat.Reader[record.Flow]) error {
				rej := &feature.Rejects[record.Flow]{}
				_, err := feature.FeaturizeFlows(g.ctx, r, nil, g.counts, rej)
				g.addRejects(rej.Count, rej.Reasons)
				return err
			})
		case record.KindDNS:
			return withReader(g, ins, func(r ioformat.Reader[record.DNS]) error {
				rej := &feature.Rejects[record.DNS]{}
				_, err := g.featurizer().FeaturizeDNS(g.ctx, r, nil, g.counts, rej)
				g.addRejects(rej.Count, rej.Reasons)
				return err
			})
		case record.KindProxy:
			return withReader(g, ins, func(r ioformat.Reader[record.Proxy]) error {
				lines, err := feature.ReadAllProxy(g.ctx, r)
				g.proxy = append(g.proxy, lines...)
				return err
			})
		}
	case record.StreamFeaturized, record.StreamScored:
		switch g.kind {
		case record.KindFlow:
			return eachRecord(g, ins, func(f *record.FeaturizedFlow) {
				if f.SrcWord != "" {
					g.counts.Add(f.SIP, f.SrcWord, 1)
				}
				if f.DstWord != "" {
					g.counts.Add(f.DIP, f.DstWord, 1)
				}
			})
		case record.KindDNS:
			return eachRecord(g, ins, func(f *record.FeaturizedDNS) {
				if f.Word != "" {
					g.counts.Add(f.Doc, f.Word, 1)
				}
			})
		case record.KindProxy:
			return eachRecord(g, ins, func(f *record.FeaturizedProxy) {
				if f.Word != "" {
					g.counts.Add(f.Doc, f.Word, 1)
				}
			})
		}
	}
	return fmt.Errorf("%s: cannot train on %s records", ioformat.DisplayName(in.Name), in.Meta)
}

func (g *gatherer) addRejects(n int64, reasons map[string]int64) {
	for k, v := range reasons {
		if g.rejects.Reasons == nil {
			g.rejects.Reasons = map[string]int64{}
		}
		g.rejects.Reasons[k] += v
	}
	g.rejects.Count += n
}

func withReader[T any](g *gatherer, ins []*ioformat.Input, fn func(ioformat.Reader[T]) error) error {
	r, err := ioformat.NewConcat[T](g.ctx, ins)
	if err != nil {
		return err
	}
	defer r.Close()
	if err := fn(counted[T](r, g.progress, g.progress != nil)); err != nil {
		return err
	}
	g.skipped += r.Skipped()
	return nil
}

// counted returns r telling progress how many records each Read returned,
// or r itself when not on.
func counted[T any](r ioformat.Reader[T], progress func(int), on bool) ioformat.Reader[T] {
	if !on {
		return r
	}
	return &countingReader[T]{r, progress}
}

type countingReader[T any] struct {
	ioformat.Reader[T]
	progress func(int)
}

func (c *countingReader[T]) Read(buf []T) (int, error) {
	n, err := c.Reader.Read(buf)
	c.progress(n)
	return n, err
}

func eachRecord[T any](g *gatherer, ins []*ioformat.Input, fn func(*T)) error {
	return withReader(g, ins, func(r ioformat.Reader[T]) error {
		buf := ioformat.Touched(make([]T, ioformat.BatchSize))
		for {
			if err := g.ctx.Err(); err != nil {
				return err
			}
			n, err := r.Read(buf)
			for i := range buf[:n] {
				fn(&buf[i])
			}
			if err == io.EOF {
				return nil
			}
			if err != nil {
				return err
			}
		}
	})
}

// addFeedback adds every severity-3 row of the feedback file dup times.
func (g *gatherer) addFeedback(path string, dup int) error {
	in, err := ioformat.Open(path, g.stdin)
	if err != nil {
		return fmt.Errorf("--feedback: %w", err)
	}
	if in.Meta == (record.Meta{}) {
		in.Close()
		return nil
	}
	if in.Meta.Kind != g.kind {
		in.Close()
		return fmt.Errorf("--feedback %s holds %s rows, but the training data is %s", path, in.Meta.Kind, g.kind)
	}
	ins := []*ioformat.Input{in}
	var kept int
	var row int64
	var bad ioformat.SkipLog
	severity3 := func(f *record.Feedback) bool { // and named, counted if malformed
		row++
		judged, err := f.Judged()
		if err != nil {
			bad.Skip("skipped malformed feedback row", path, "row", row, err)
		}
		return judged && f.Severity == 3
	}
	switch g.kind {
	case record.KindFlow:
		err = eachRecord(g, ins, func(f *record.FeedbackFlow) {
			if !severity3(&f.Feedback) || feature.FlowReject(&f.Flow) != "" {
				return
			}
			kept++
			src, dst := feature.FlowWords(f.SPort, f.DPort, f.Proto, f.TrHour, f.IByt, f.IPkt)
			g.counts.Add(f.SIP, src, int64(dup))
			g.counts.Add(f.DIP, dst, int64(dup))
		})
	case record.KindDNS:
		err = eachRecord(g, ins, func(f *record.FeedbackDNS) {
			if !severity3(&f.Feedback) || feature.DNSReject(&f.DNS) != "" {
				return
			}
			kept++
			g.counts.Add(feature.DNSDoc(&f.DNS), g.featurizer().DNSWord(&f.DNS), int64(dup))
		})
	case record.KindProxy:
		err = eachRecord(g, ins, func(f *record.FeedbackProxy) {
			if !severity3(&f.Feedback) {
				return
			}
			kept++
			g.proxyFeedback = append(g.proxyFeedback, f.Proxy)
		})
	}
	if err != nil {
		return fmt.Errorf("--feedback: %w", err)
	}
	g.skipped += bad.Count()
	if kept == 0 {
		slog.Warn("feedback file has no severity-3 rows to add", "file", path)
	}
	g.dup = int64(dup)
	return nil
}

// finishProxy makes the words of the proxy lines, now that every line (and
// feedback row) is in and the user agents can be counted.
func (g *gatherer) finishProxy() error {
	if g.kind != record.KindProxy {
		return nil
	}
	// Spot counted the user agents over the training set including the
	// feedback rows, dup times each.
	if len(g.proxy) == 0 && len(g.proxyFeedback) == 0 {
		return nil
	}
	g.agents = feature.UserAgentCounts(g.proxy)
	for i := range g.proxyFeedback {
		if feature.ProxyReject(&g.proxyFeedback[i]) == "" {
			g.agents[feature.ProxyAgent(&g.proxyFeedback[i])] += g.dup
		}
	}
	fz := g.featurizer()
	rej := &feature.Rejects[record.Proxy]{}
	err := fz.FeaturizeProxy(g.ctx, g.proxy, nil, g.counts, rej)
	g.addRejects(rej.Count, rej.Reasons)
	for i := range g.proxyFeedback {
		e := &g.proxyFeedback[i]
		if feature.ProxyReject(e) == "" {
			g.counts.Add(e.ClientIP, fz.ProxyWord(e, g.agents[feature.ProxyAgent(e)]), g.dup)
		}
	}
	g.proxy, g.proxyFeedback = nil, nil
	return err
}
