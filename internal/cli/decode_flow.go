package cli

import (
	"github.com/spf13/cobra"
)

type decodeFlowOptions struct {
	out    OutputFlags
	input  string
	from   string
	listen string
	ports  []int
	tz     string
}

func newDecodeFlowCmd(g *globals) *cobra.Command {
	o := &decodeFlowOptions{}
	cmd := &cobra.Command{
		Use:   "flow [FILE...]",
		Short: "flows from NetFlow/IPFIX exports, nfdump CSV or raw packets",
		Long: withExitStatus(`Decode flow reads NetFlow v5/v9 and IPFIX exports (in captures or as raw
datagrams), nfdump CSV (stock -o csv and Apache Spot's patched layout), or raw
traffic captures, from which it assembles bidirectional flows. With --listen it
is a collector writing hourly Parquet partitions. Streams.`),
		Example: `  spot decode flow exports.pcap -o flows.parquet
  nfdump -r nfcapd.202601011200 -o csv | spot decode flow
  spot decode flow --listen udp://0.0.0.0:2055 -o /data/flows`,
		RunE: func(cmd *cobra.Command, args []string) error {
			return errNotYet("decode flow", 4)
		},
	}
	f := cmd.Flags()
	o.out.AddFlags(f, "ndjson|parquet|csv")
	f.StringVarP(&o.input, "input-format", "i", "auto", "input `FORMAT`: auto|pcap|netflow|nfdump-csv|spot-csv")
	f.StringVar(&o.from, "from", "auto", "what a capture holds: auto|exports|packets")
	f.StringVar(&o.listen, "listen", "", "collect NetFlow/IPFIX on `udp://ADDR:PORT`; -o names a directory of hourly partitions")
	f.IntSliceVar(&o.ports, "ports", []int{2055, 4739, 9995, 9996}, "collector `PORTS` to look for in captures (replaces the list)")
	f.StringVar(&o.tz, "tz", "UTC", "time `ZONE` of sources that write local time (nfdump CSV)")
	return cmd
}
