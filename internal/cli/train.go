package cli

import (
	"fmt"
	"io"
	"time"

	"github.com/spf13/cobra"

	"github.com/spot-hunt/spot/internal/feature"
	"github.com/spot-hunt/spot/internal/ioformat"
	"github.com/spot-hunt/spot/internal/lda"
	"github.com/spot-hunt/spot/internal/train"
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
	f.Float64Var(&o.alpha, "alpha", 1.02, "document-topic concentration (the default is Apache Spot's)")
	f.Float64Var(&o.beta, "beta", 1.001, "topic-word concentration (the default is Apache Spot's)")
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
	if err := ioformat.CheckPath(o.out); err != nil {
		return err // before the training, not after
	}
	if o.topics < 1 || o.iterations < 1 {
		return usagef("--topics and --iterations must be at least 1")
	}
	if o.dupFactor < 0 {
		return usagef("--dup-factor must not be negative")
	}
	settings := lda.Settings{Topics: o.topics, Alpha: o.alpha, Beta: o.beta, Iterations: o.iterations, Seed: uint64(o.seed)}
	if err := settings.Validate(); err != nil {
		return usageError{err}
	}
	fo, err := o.feat.options()
	if err != nil {
		return err
	}
	args, err = inputArgs(args)
	if err != nil {
		return err
	}
	reading := g.newProgress("train: reading", "records", -1)
	res, err := train.Corpus(g.ctx, args, g.io.In, train.Options{Features: fo, Feedback: o.feedback, DupFactor: o.dupFactor, Progress: reading.adder()})
	reading.Done()
	if err != nil {
		return err
	}
	var progress func(lda.Progress)
	if g.showProgress() {
		progress = progressPrinter(g.io.Err, o.iterations, g.verbose)
	}
	m, err := lda.Train(g.ctx, res.Corpus, settings, progress)
	if progress != nil {
		fmt.Fprintln(g.io.Err)
	}
	if err != nil {
		return err
	}
	m.Kind = string(res.Kind)
	m.Features = res.Features
	if err := m.WriteFile(o.out); err != nil {
		return err
	}
	res.Rejected.Log(res.Kind, feature.HintFeaturize)
	if res.Skipped > 0 {
		return &SkippedError{Count: res.Skipped, Unit: "records"}
	}
	return nil
}

// progressPrinter shows iteration and time left on one terminal line, and
// with loglik (at -v) the log-likelihood, which costs a quarter of an
// iteration to compute.
func progressPrinter(w io.Writer, total int, loglik bool) func(lda.Progress) {
	start := time.Now()
	return func(p lda.Progress) {
		done := p.Iteration
		eta := time.Duration(0)
		if done > 0 {
			eta = time.Since(start) / time.Duration(done) * time.Duration(total-done)
		}
		ll := ""
		if loglik {
			ll = fmt.Sprintf("  log-likelihood %.6g", p.LogLikelihood())
		}
		fmt.Fprintf(w, "\rtrain: iteration %d/%d%s  %s left   ", done, total, ll, eta.Round(time.Second))
	}
}
