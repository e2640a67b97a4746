package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"time"

	"github.com/parquet-go/parquet-go"
	"github.com/spf13/cobra"

	"github.com/spot-hunt/spot/internal/columnar"
	"github.com/spot-hunt/spot/internal/feature"
	"github.com/spot-hunt/spot/internal/ioformat"
	"github.com/spot-hunt/spot/internal/lda"
	"github.com/spot-hunt/spot/internal/partition"
	"github.com/spot-hunt/spot/internal/record"
)

type trainOptions struct {
	out        string
	topics     int
	iterations int
	seed       int64
	alpha      float64
	beta       float64
	feedback   string
	dupFactor  int
	describe   string
	topWords   int
	feat       featureFlags
}

func newTrainCmd(g *globals) *cobra.Command {
	o := &trainOptions{}
	cmd := &cobra.Command{
		Use:   "train [FILE...] -o MODEL",
		Short: "fit an LDA topic model of what each host normally does",
		Long: withExitStatus(`Train reads events, featurized events or (doc, word, count) tables (NDJSON or
Parquet, any number of shards, of one kind) and fits an LDA topic model over the
document-by-word count matrix. It does not stream: it holds the count matrix
(never the events) in memory. The same inputs, seed and settings give a
byte-identical model file, however the inputs are sharded.

Events are featurized with --top-domains, --user-domain and --domain-parser
(see spot featurize); the model records them, so spot score makes the same
words. Featurized events and count tables already carry their words: give the
flags they were made with, so the model records them.

Analyst feedback (--feedback F): rows of F with severity 3 (low risk) have their
words rebuilt from their event columns and are added --dup-factor times to the
corpus, as Apache Spot did, so similar events score higher next time.

spot train --describe MODEL prints a model's settings, corpus statistics and
top words per topic (no training).`),
		Example: `  spot decode dns capture.pcap | spot train -o dns.model
  spot train counts/*.parquet --topics 20 --seed 1 -o flow.model
  spot train --describe flow.model`,
		RunE: func(cmd *cobra.Command, args []string) error {
			if o.describe != "" {
				return describeModel(g, o.describe, o.topWords)
			}
			return runTrain(g, o, args)
		},
	}
	f := cmd.Flags()
	f.StringVarP(&o.out, "output", "o", "", "write the model to `MODEL` (required)")
	f.IntVar(&o.topics, "topics", 20, "number of topics")
	f.IntVar(&o.iterations, "iterations", 20, "training iterations")
	f.Int64Var(&o.seed, "seed", 1, "random seed")
	f.Float64Var(&o.alpha, "alpha", 1.02, "document-topic concentration (Apache Spot's default)")
	f.Float64Var(&o.beta, "beta", 1.001, "topic-word concentration (Apache Spot's default)")
	f.StringVar(&o.feedback, "feedback", "", "analyst feedback `FILE`: severity-3 rows are added to the corpus")
	f.IntVar(&o.dupFactor, "dup-factor", 1000, "how many times each severity-3 feedback row is added")
	f.StringVar(&o.describe, "describe", "", "show `MODEL`'s settings, corpus statistics and top words per topic, and exit")
	f.IntVar(&o.topWords, "top-words", 10, "with --describe: words shown per topic")
	o.feat.add(cmd)
	return cmd
}

func describeModel(g *globals, path string, topWords int) error {
	m, err := lda.ReadFile(path)
	if err != nil {
		return err
	}
	m.Describe(g.io.Out, topWords)
	return nil
}

func runTrain(g *globals, o *trainOptions, args []string) error {
	if o.out == "" {
		return usagef("train needs -o MODEL")
	}
	if o.topics < 1 || o.iterations < 1 {
		return usagef("--topics and --iterations must be at least 1")
	}
	if o.dupFactor < 0 {
		return usagef("--dup-factor must not be negative")
	}
	fo, err := o.feat.options()
	if err != nil {
		return err
	}
	t := &trainer{ctx: g.ctx, counts: feature.NewCounter(), fo: fo}
	corpus, err := t.corpus(args, g.io.In, o)
	if err != nil {
		return err
	}
	settings := lda.Settings{Topics: o.topics, Alpha: o.alpha, Beta: o.beta, Iterations: o.iterations, Seed: uint64(o.seed)}
	var progress func(lda.Progress)
	if g.showProgress() {
		progress = progressPrinter(g.io.Err, o.iterations)
	}
	m, err := lda.Train(g.ctx, corpus, settings, progress)
	if progress != nil {
		fmt.Fprintln(g.io.Err)
	}
	if err != nil {
		return err
	}
	m.Kind = string(t.kind)
	m.Features = t.featurizer().Settings()
	if err := m.WriteFile(o.out); err != nil {
		return err
	}
	t.rejects.Log(t.kind)
	if t.skipped > 0 {
		return &SkippedError{Count: t.skipped, Unit: "records"}
	}
	return nil
}

// corpus gathers the document-by-word count matrix of the inputs. Count
// tables on files, without feedback, are merged in order straight into the
// corpus (feature.MergeCounts): memory is the corpus, 12 bytes a pair.
// Other inputs, or tables out of order, are counted first.
func (t *trainer) corpus(args []string, stdin io.Reader, o *trainOptions) (*lda.Corpus, error) {
	if o.feedback == "" {
		c, ok, err := t.mergeCounts(args)
		if err != nil {
			return nil, err
		}
		if ok {
			return c, nil
		}
	}
	if err := t.readInputs(args, stdin, t.fo); err != nil {
		return nil, err
	}
	if t.kind == "" {
		return nil, fmt.Errorf("no records to train on")
	}
	if o.feedback != "" {
		if err := t.addFeedback(o.feedback, o.dupFactor); err != nil {
			return nil, err
		}
	}
	if err := t.finishProxy(); err != nil {
		return nil, err
	}
	if t.counts.Len() == 0 {
		return nil, errNoPairs
	}
	b := lda.NewSortedBuilder()
	var err error
	t.counts.EachSorted(func(c record.Count) {
		if err == nil {
			err = b.Add(c.Doc, c.Word, float64(c.Count))
		}
	})
	t.counts = nil
	return b.Build(), err
}

var errNoPairs = errors.New("no (document, word) pairs to train on (every row was rejected?)")

// mergeCounts builds the corpus of inputs that are all count tables on
// files by merging them in order; it reports false, having kept nothing,
// when they are not (stdin, other records, a table out of order).
func (t *trainer) mergeCounts(names []string) (*lda.Corpus, bool, error) {
	if len(names) == 0 {
		return nil, false, nil // stdin
	}
	names, err := partition.Files(names)
	if err != nil {
		return nil, false, err
	}
	var ins []*ioformat.Input
	defer func() { closeInputs(ins) }()
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
	for i, in := range ins {
		if readers[i], err = ioformat.NewReader[record.Count](in); err != nil {
			return nil, false, err
		}
	}
	b := lda.NewSortedBuilder()
	err = feature.MergeCounts(t.ctx, readers, inputNames(ins), func(doc, word string, n int64) error {
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
		return nil, false, nil
	}
	if err != nil {
		return nil, false, err
	}
	c := b.Build()
	if c.Entries() == 0 {
		return nil, false, errNoPairs
	}
	t.kind, t.skipped = kind, skipped
	return c, true, nil
}

// progressPrinter shows iteration, log-likelihood and time left on one
// terminal line.
func progressPrinter(w io.Writer, total int) func(lda.Progress) {
	start := time.Now()
	return func(p lda.Progress) {
		done := p.Iteration
		eta := time.Duration(0)
		if done > 0 {
			eta = time.Since(start) / time.Duration(done) * time.Duration(total-done)
		}
		fmt.Fprintf(w, "\rtrain: iteration %d/%d  log-likelihood %.6g  %s left   ", done, total, p.LogLikelihood, eta.Round(time.Second))
	}
}

// trainer gathers the count matrix from inputs of one kind.
type trainer struct {
	ctx     context.Context
	kind    record.Kind
	fo      feature.Options
	fz      *feature.Featurizer
	counts  *feature.Counter
	rejects countedRejects
	skipped int64
	proxy   []record.Proxy // proxy events wait for the user-agent counts
	// proxy feedback rows, each counted dup times
	proxyFeedback []record.Proxy
	dup           int64
	agents        map[string]int64
}

// countedRejects counts rejected rows of any kind.
type countedRejects struct{ feature.Rejects[struct{}] }

func (t *trainer) featurizer() *feature.Featurizer {
	if t.fz == nil {
		o := t.fo
		if t.kind == record.KindProxy {
			o.UserAgents = t.agents // nil (trained on words only): score counts its input's
		}
		t.fz = feature.New(t.kind, o)
	}
	return t.fz
}

func (t *trainer) readInputs(names []string, stdin io.Reader, fo feature.Options) error {
	t.fo = fo
	if len(names) == 0 {
		names = []string{"-"}
	}
	names, err := partition.Files(names)
	if err != nil {
		return err
	}
	for _, name := range names {
		in, err := ioformat.Open(name, stdin)
		if err != nil {
			return err
		}
		if in.Meta == (record.Meta{}) {
			in.Close()
			continue
		}
		if t.kind != "" && in.Meta.Kind != t.kind {
			in.Close()
			return fmt.Errorf("%s holds %s records, but earlier inputs hold %s: inputs must be of one kind",
				ioformat.DisplayName(name), in.Meta.Kind, t.kind)
		}
		t.kind = in.Meta.Kind
		if err := t.readOne(in); err != nil {
			in.Close()
			return err
		}
	}
	return nil
}

func (t *trainer) readOne(in *ioformat.Input) error {
	ins := []*ioformat.Input{in}
	switch in.Meta.Stream {
	case record.StreamCounts:
		return eachRecord(t, ins, func(c *record.Count) {
			if c.Word != "" && c.Count > 0 {
				t.counts.Add(c.Doc, c.Word, c.Count)
			}
		})
	case record.StreamEvents:
		switch t.kind {
		case record.KindFlow:
			if pf := in.ParquetFile(); pf != nil {
				if p, ok := columnar.CountPlan([]*parquet.File{pf}); ok {
					defer in.Close()
					st, err := columnar.CountFlows(t.ctx, []*parquet.File{pf}, []string{ioformat.DisplayName(in.Name)}, p, t.counts, 0)
					t.addRejects(st.Rejected, st.Reasons)
					return err
				}
			}
			return withReader[record.Flow](t, ins, func(r ioformat.Reader[record.Flow]) error {
				rej := &feature.Rejects[record.Flow]{}
				_, err := feature.FeaturizeFlows(t.ctx, r, nil, t.counts, rej)
				t.addRejects(rej.Count, rej.Reasons)
				return err
			})
		case record.KindDNS:
			return withReader[record.DNS](t, ins, func(r ioformat.Reader[record.DNS]) error {
				rej := &feature.Rejects[record.DNS]{}
				_, err := t.featurizer().FeaturizeDNS(t.ctx, r, nil, t.counts, rej)
				t.addRejects(rej.Count, rej.Reasons)
				return err
			})
		case record.KindProxy:
			return withReader[record.Proxy](t, ins, func(r ioformat.Reader[record.Proxy]) error {
				lines, err := feature.ReadAllProxy(t.ctx, r)
				t.proxy = append(t.proxy, lines...)
				return err
			})
		}
	case record.StreamFeaturized, record.StreamScored:
		switch t.kind {
		case record.KindFlow:
			return eachRecord(t, ins, func(f *record.FeaturizedFlow) {
				if f.SrcWord != "" {
					t.counts.Add(f.SIP, f.SrcWord, 1)
				}
				if f.DstWord != "" {
					t.counts.Add(f.DIP, f.DstWord, 1)
				}
			})
		case record.KindDNS:
			return eachRecord(t, ins, func(f *record.FeaturizedDNS) {
				if f.Word != "" {
					t.counts.Add(f.Doc, f.Word, 1)
				}
			})
		case record.KindProxy:
			return eachRecord(t, ins, func(f *record.FeaturizedProxy) {
				if f.Word != "" {
					t.counts.Add(f.Doc, f.Word, 1)
				}
			})
		}
	}
	return fmt.Errorf("%s: cannot train on %s records", ioformat.DisplayName(in.Name), in.Meta)
}

func (t *trainer) addRejects(n int64, reasons map[string]int64) {
	for k, v := range reasons {
		if t.rejects.Reasons == nil {
			t.rejects.Reasons = map[string]int64{}
		}
		t.rejects.Reasons[k] += v
	}
	t.rejects.Count += n
}

func withReader[T any](t *trainer, ins []*ioformat.Input, fn func(ioformat.Reader[T]) error) error {
	r, err := newConcat[T](t.ctx, ins)
	if err != nil {
		return err
	}
	defer r.Close()
	if err := fn(r); err != nil {
		return err
	}
	t.skipped += r.Skipped()
	return nil
}

func eachRecord[T any](t *trainer, ins []*ioformat.Input, fn func(*T)) error {
	return withReader[T](t, ins, func(r ioformat.Reader[T]) error {
		buf := ioformat.Touched(make([]T, ioformat.BatchSize))
		for {
			if err := t.ctx.Err(); err != nil {
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
func (t *trainer) addFeedback(path string, dup int) error {
	in, err := ioformat.Open(path, os.Stdin)
	if err != nil {
		return fmt.Errorf("--feedback: %w", err)
	}
	if in.Meta == (record.Meta{}) {
		in.Close()
		return nil
	}
	if in.Meta.Kind != t.kind {
		in.Close()
		return fmt.Errorf("--feedback %s holds %s rows, but the training data is %s", path, in.Meta.Kind, t.kind)
	}
	ins := []*ioformat.Input{in}
	var kept int
	switch t.kind {
	case record.KindFlow:
		err = eachRecord(t, ins, func(f *record.FeedbackFlow) {
			if f.Severity != 3 || feature.FlowReject(&f.Flow) != "" {
				return
			}
			kept++
			src, dst := feature.FlowWords(f.SPort, f.DPort, f.Proto, f.TrHour, f.IByt, f.IPkt)
			t.counts.Add(f.SIP, src, int64(dup))
			t.counts.Add(f.DIP, dst, int64(dup))
		})
	case record.KindDNS:
		err = eachRecord(t, ins, func(f *record.FeedbackDNS) {
			if f.Severity != 3 || feature.DNSReject(&f.DNS) != "" {
				return
			}
			kept++
			t.counts.Add(feature.DNSDoc(&f.DNS), t.featurizer().DNSWord(&f.DNS), int64(dup))
		})
	case record.KindProxy:
		err = eachRecord(t, ins, func(f *record.FeedbackProxy) {
			if f.Severity != 3 {
				return
			}
			kept++
			t.proxyFeedback = append(t.proxyFeedback, f.Proxy)
		})
	}
	if err != nil {
		return fmt.Errorf("--feedback: %w", err)
	}
	if kept == 0 {
		slog.Warn("feedback file has no severity-3 rows to add", "file", path)
	}
	t.dup = int64(dup)
	return nil
}

// finishProxy makes the words of the proxy lines, now that every line (and
// feedback row) is in and the user agents can be counted.
func (t *trainer) finishProxy() error {
	if t.kind != record.KindProxy {
		return nil
	}
	// Spot counted the user agents over the training set including the
	// feedback rows, dup times each.
	if len(t.proxy) == 0 && len(t.proxyFeedback) == 0 {
		return nil
	}
	t.agents = feature.UserAgentCounts(t.proxy)
	for i := range t.proxyFeedback {
		if feature.ProxyReject(&t.proxyFeedback[i]) == "" {
			t.agents[feature.ProxyAgent(&t.proxyFeedback[i])] += t.dup
		}
	}
	fz := t.featurizer()
	rej := &feature.Rejects[record.Proxy]{}
	err := fz.FeaturizeProxy(t.ctx, t.proxy, nil, t.counts, rej)
	t.addRejects(rej.Count, rej.Reasons)
	for i := range t.proxyFeedback {
		e := &t.proxyFeedback[i]
		if feature.ProxyReject(e) == "" {
			t.counts.Add(e.ClientIP, fz.ProxyWord(e, t.agents[feature.ProxyAgent(e)]), t.dup)
		}
	}
	t.proxy, t.proxyFeedback = nil, nil
	return err
}
