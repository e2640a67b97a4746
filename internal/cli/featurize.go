package cli

import (
	"github.com/spf13/cobra"
)

type featurizeOptions struct {
	out        OutputFlags
	counts     bool
	topDomains string
	userDomain string
	rejects    string
}

func newFeaturizeCmd(g *globals) *cobra.Command {
	o := &featurizeOptions{}
	cmd := &cobra.Command{
		Use:   "featurize [FILE...]",
		Short: "turn events into words and documents, as Apache Spot did",
		Long: withExitStatus(`Featurize reads event streams (NDJSON or Parquet) and writes them with their
document and word columns, made by Apache Spot's word rules. With --counts it
writes aggregated (doc, word, count) tables instead, which merge across shards
for training. Streams (--counts aggregates in memory by distinct pair).`),
		Example: `  spot decode flow exports.pcap | spot featurize -o flows.words.parquet
  spot featurize --counts day/h=*/*.parquet -o counts/part-07.parquet`,
		RunE: func(cmd *cobra.Command, args []string) error {
			return errNotYet("featurize", 6)
		},
	}
	f := cmd.Flags()
	o.out.AddFlags(f, "ndjson|parquet|csv")
	f.BoolVar(&o.counts, "counts", false, "write aggregated (doc, word, count) tables")
	f.StringVar(&o.topDomains, "top-domains", "", "top-domain list `FILE` (rank,domain CSV as Alexa/Tranco)")
	f.StringVar(&o.userDomain, "user-domain", "", "the organisation's own `DOMAIN` (DNS and proxy words)")
	f.StringVar(&o.rejects, "rejects", "", "write rows Apache Spot would reject to `FILE`")
	return cmd
}
