package cli

import (
	"github.com/spf13/cobra"
)

func newDecodeCmd(g *globals) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "decode dns|flow|proxy [FILE...]",
		Short: "turn captures, flow exports and proxy logs into event records",
		Long: withExitStatus(`Decode reads raw sources (files or stdin; gzip and zstd are unwrapped) and
writes one event record per DNS message, flow or log line, as NDJSON (default)
or Parquet. It streams: records are written as they are decoded.

Malformed packets and lines are skipped, counted and named on stderr; the run
then ends with exit status 3.`),
		Example: `  spot decode dns capture.pcap -o dns.parquet
  tcpdump -i eth0 -w - port 53 | spot decode dns | spot score -m dns.model
  spot decode flow nfcapd.202601011200 -o flows.parquet
  spot decode proxy access.log.gz -o proxy.parquet`,
	}
	cmd.AddCommand(newDecodeDNSCmd(g), newDecodeFlowCmd(g), newDecodeProxyCmd(g))
	groupOnly(cmd)
	return cmd
}
