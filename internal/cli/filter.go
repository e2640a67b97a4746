package cli

import (
	"github.com/spf13/cobra"

	"github.com/spot-hunt/spot/internal/ioformat"
	"github.com/spot-hunt/spot/internal/record"
)

type filterOptions struct {
	out      OutputFlags
	maxScore float64
	top      int
	where    string
	feedback string
}

func newFilterCmd(g *globals) *cobra.Command {
	o := &filterOptions{}
	cmd := &cobra.Command{
		Use:   "filter [FILE...]",
		Short: "keep the records that matter: a score threshold, the top N, an expression",
		Long: withExitStatus(`Filter reads record streams (NDJSON or Parquet, sniffed; several files are
read one after the other and must hold one kind) and writes the records that
pass every predicate given. It streams; --top N keeps a bounded heap of N.

With no predicate, filter copies its input unchanged: that makes it the
format converter between NDJSON, Parquet and CSV.`),
		Example: `  # convert NDJSON to Parquet and back
  spot filter flows.ndjson -o flows.parquet
  spot filter flows.parquet | head

  # the 100 most suspicious DNS events of a day
  spot score -m dns.model day/*.parquet | spot filter --top 100`,
		RunE: func(cmd *cobra.Command, args []string) error {
			if cmd.Flags().Changed("max-score") || o.top > 0 || o.where != "" || o.feedback != "" {
				return errNotYet("filter with predicates (--max-score, --top, --where, --feedback)", 6)
			}
			d, err := o.out.Dest(g.io)
			if err != nil {
				return err
			}
			ins, meta, err := openInputs(args, g.io.In)
			if err != nil {
				return err
			}
			if len(ins) == 0 { // every input was empty: write an empty stream
				return emptyOutput(d)
			}
			return copyAny(g.ctx, ins, meta, d, g.newProgress("filter", "records", -1))
		},
	}
	f := cmd.Flags()
	o.out.AddFlags(f, "ndjson|parquet|csv")
	f.Float64Var(&o.maxScore, "max-score", 1, "keep records whose score is at most `X` (Apache Spot's threshold)")
	f.IntVar(&o.top, "top", 0, "keep the `N` lowest-scoring records (exact, deterministic on ties)")
	f.StringVar(&o.where, "where", "", "keep records for which `EXPR` is true")
	f.StringVar(&o.feedback, "feedback", "", "drop records an analyst marked low risk (severity 3) in `FILE`")
	return cmd
}

// emptyOutput writes an empty NDJSON stream (nothing) or refuses other formats,
// which cannot be written without knowing the records' kind.
func emptyOutput(d ioformat.Dest) error {
	if d.ResolvedFormat() != ioformat.NDJSON {
		return usagef("the input is empty: no record kind to write %s with", d.ResolvedFormat())
	}
	w, err := ioformat.Create[record.Flow](d, record.Flow{}.Meta())
	if err != nil {
		return err
	}
	return w.Close()
}
