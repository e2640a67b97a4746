package cli

import (
	"github.com/spf13/cobra"
)

type reportOptions struct {
	out    string
	format string
}

func newReportCmd(g *globals) *cobra.Command {
	o := &reportOptions{}
	cmd := &cobra.Command{
		Use:   "report [FILE...]",
		Short: "show the suspicious events for a person to read",
		Long: withExitStatus(`Report reads scored, filtered events (NDJSON or Parquet) and shows them as a
terminal table, JSON or a self-contained HTML page. It reads all its input
before writing (it sorts).`),
		Example: `  spot score -m dns.model dns.parquet | spot filter --top 20 | spot report
  spot report top.parquet -f html -o hunt.html`,
		RunE: func(cmd *cobra.Command, args []string) error {
			return errNotYet("report", 0)
		},
	}
	f := cmd.Flags()
	f.StringVarP(&o.out, "output", "o", "-", "write to `PATH` (- is stdout)")
	f.StringVarP(&o.format, "format", "f", "table", "output `FORMAT`: table|json|html")
	return cmd
}
