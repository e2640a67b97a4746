package cli

import (
	"errors"
	"log/slog"
	"strings"

	"github.com/spf13/cobra"

	"github.com/spot-hunt/spot/internal/ioformat"
)

func newDecodeCmd(g *globals) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "decode dns|flow|proxy [FILE...]",
		Short: "turn captures, flow exports and proxy logs into event records",
		Long: withExitStatus(`Decode reads raw sources (files or stdin; gzip and zstd are unwrapped) and
writes one event record per DNS message, flow or log line, as NDJSON (default)
or Parquet. It streams: records are written as they are decoded.

Malformed packets and lines are skipped, counted and named on stderr; the run
then ends with exit status 3. So is an input of several that is not of a
format the decoder reads (a README among captures): the others are written.
With --strict such an input ends the run and nothing is written.`),
		Example: `  spot decode dns capture.pcap -o dns.parquet
  tcpdump -i eth0 -w - port 53 | spot decode dns | spot score -m dns.model
  spot decode flow nfcapd.202601011200 -o flows.parquet
  spot decode proxy access.log.gz -o proxy.parquet`,
	}
	cmd.AddCommand(newDecodeDNSCmd(g), newDecodeFlowCmd(g), newDecodeProxyCmd(g))
	cmd.PersistentFlags().BoolVar(&g.strict, "strict", false, "an input that is not of a format the decoder reads ends the run, with nothing written (without it, such an input among several is named, skipped and counted: exit 3)")
	groupOnly(cmd)
	return cmd
}

// inputSkips leaves out of a run of several inputs one that is not of a
// format the decoder reads: it is named on stderr and counted, and the
// others are written (exit 3). With --strict, or a single input, it ends
// the run.
type inputSkips struct {
	total   int
	strict  bool
	skipped int64
	first   error
}

func newInputSkips(g *globals, names []string) *inputSkips {
	return &inputSkips{total: len(names), strict: g.strict}
}

// skip reports whether the input name, which failed with err, is left out:
// err must be notFormat (the decoder's "not a capture" error).
func (s *inputSkips) skip(name string, err, notFormat error) bool {
	if s.strict || s.total < 2 || !errors.Is(err, notFormat) {
		return false
	}
	if s.first == nil {
		s.first = err
	}
	s.skipped++
	slog.Warn("skipped an input that is not of a format the decoder reads", "file", ioformat.DisplayName(name),
		"err", strings.TrimPrefix(err.Error(), ioformat.DisplayName(name)+": "))
	return true
}

// finish returns the run's error: the first input's when every input was
// left out, else err.
func (s *inputSkips) finish(err error) error {
	if s.skipped > 0 && s.skipped == int64(s.total) {
		return s.first
	}
	return err
}
