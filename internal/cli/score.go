package cli

import (
	"github.com/spf13/cobra"
)

type scoreOptions struct {
	out    OutputFlags
	model  string
	method string
}

func newScoreCmd(g *globals) *cobra.Command {
	o := &scoreOptions{}
	cmd := &cobra.Command{
		Use:   "score -m MODEL [FILE...]",
		Short: "score each event by how likely its host is to say it",
		Long: withExitStatus(`Score reads event streams (NDJSON or Parquet) and a model from "spot train",
and writes scored events: each event's word(s), document, score and the topic
that explains it best. Low scores are the suspicious events. Streams, with
memory bounded by the model.`),
		Example: `  spot decode dns capture.pcap | spot score -m dns.model | spot filter --top 20
  spot score -m flow.model day/h=13/*.parquet -o scored/h=13.parquet`,
		RunE: func(cmd *cobra.Command, args []string) error {
			return errNotYet("score", 6)
		},
	}
	f := cmd.Flags()
	o.out.AddFlags(f, "ndjson|parquet|csv")
	f.StringVarP(&o.model, "model", "m", envOr("SPOT_MODEL", ""), "model `FILE` from spot train (default: $SPOT_MODEL)")
	f.StringVar(&o.method, "method", "spot", "scoring `METHOD`: spot (Apache Spot's sum over topics)")
	return cmd
}
