package cli

import (
	"github.com/spf13/cobra"
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
}

func newTrainCmd(g *globals) *cobra.Command {
	o := &trainOptions{}
	cmd := &cobra.Command{
		Use:   "train [FILE...] -o MODEL",
		Short: "fit an LDA topic model of what each host normally does",
		Long: withExitStatus(`Train reads events, featurized events or (doc, word, count) tables (NDJSON or
Parquet, any number of shards) and fits an LDA topic model over the
document-by-word count matrix. It does not stream: it holds the count matrix
(never the events) in memory. The same inputs, seed and settings give a
byte-identical model file.`),
		Example: `  spot decode dns capture.pcap | spot train -o dns.model
  spot train counts/*.parquet --topics 20 --seed 1 -o flow.model`,
		RunE: func(cmd *cobra.Command, args []string) error {
			return errNotYet("train", 6)
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
	return cmd
}
