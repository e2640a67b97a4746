package cli

import (
	"github.com/spf13/cobra"
)

type decodeDNSOptions struct {
	out     OutputFlags
	ports   []int
	queries bool
}

func newDecodeDNSCmd(g *globals) *cobra.Command {
	o := &decodeDNSOptions{}
	cmd := &cobra.Command{
		Use:   "dns [FILE...]",
		Short: "DNS messages from pcap and pcapng captures",
		Long: withExitStatus(`Decode dns reads pcap and pcapng captures (files or an endless stream on
stdin; gzip and zstd unwrapped) and writes one dns record per DNS message,
UDP or TCP. By default only responses are kept, as Apache Spot did: ip_dst is
then the client. Streams.`),
		Example: `  spot decode dns capture.pcap -o dns.parquet
  tcpdump -i eth0 -w - port 53 | spot decode dns --queries`,
		RunE: func(cmd *cobra.Command, args []string) error {
			return errNotYet("decode dns", 3)
		},
	}
	f := cmd.Flags()
	o.out.AddFlags(f, "ndjson|parquet|csv")
	f.IntSliceVar(&o.ports, "ports", []int{53}, "DNS `PORTS` (replaces the list), e.g. 53,5353,5355")
	f.BoolVar(&o.queries, "queries", false, "also write queries, not only responses")
	return cmd
}
