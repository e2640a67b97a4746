package cli

import (
	"github.com/spf13/cobra"
)

type decodeProxyOptions struct {
	out   OutputFlags
	input string
	tz    string
}

func newDecodeProxyCmd(g *globals) *cobra.Command {
	o := &decodeProxyOptions{}
	cmd := &cobra.Command{
		Use:   "proxy [FILE...]",
		Short: "web-proxy log lines from Blue Coat, W3C extended, Squid and combined logs",
		Long: withExitStatus(`Decode proxy reads web-proxy access logs (files or stdin; gzip and zstd
unwrapped) and writes one proxy record per request. The log format is detected
from the first lines; -i forces one. Streams.`),
		Example: `  spot decode proxy access.log -o proxy.parquet
  zcat bluecoat.log.gz | spot decode proxy -i bluecoat`,
		RunE: func(cmd *cobra.Command, args []string) error {
			return errNotYet("decode proxy", 5)
		},
	}
	f := cmd.Flags()
	o.out.AddFlags(f, "ndjson|parquet|csv")
	f.StringVarP(&o.input, "input-format", "i", "auto", "log `FORMAT`: auto|squid|combined|w3c|bluecoat")
	f.StringVar(&o.tz, "tz", "UTC", "time `ZONE` of logs that write local time without an offset")
	return cmd
}
