package cli

import (
	"errors"
	"fmt"
	"io"
	"log/slog"
	"path/filepath"

	"github.com/spf13/cobra"

	"github.com/spot-hunt/spot/internal/decode/dns"
	"github.com/spot-hunt/spot/internal/decode/pcap"
	"github.com/spot-hunt/spot/internal/ioformat"
	"github.com/spot-hunt/spot/internal/record"
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
			return runDecodeDNS(g, o, args)
		},
	}
	f := cmd.Flags()
	o.out.AddFlags(f, "ndjson|parquet|csv")
	f.IntSliceVar(&o.ports, "ports", []int{53}, "DNS `PORTS` (replaces the list), e.g. 53,5353,5355")
	f.BoolVar(&o.queries, "queries", false, "also write queries, not only responses")
	return cmd
}

// maxWarnings is how many malformed packets are named on stderr per run.
const maxWarnings = 10

func runDecodeDNS(g *globals, o *decodeDNSOptions, args []string) error {
	for _, p := range o.ports {
		if p < 1 || p > 65535 {
			return usagef("--ports: %d is not a port", p)
		}
	}
	if len(args) == 0 {
		args = []string{"-"}
	}
	stdin := 0
	for _, a := range args {
		if a == "-" {
			stdin++
		}
	}
	if stdin > 1 {
		return usagef("stdin (-) named more than once")
	}
	dest, err := o.out.Dest(g.io)
	if err != nil {
		return err
	}
	w, err := ioformat.Create[record.DNS](dest, record.Meta{Kind: record.KindDNS, Stream: record.StreamEvents})
	if err != nil {
		return err
	}
	flusher, _ := w.(ioformat.Flusher)
	var skipped, warned int64
	warn := func(name string, frame int64, msg string, err error) {
		skipped++
		if warned < maxWarnings {
			warned++
			slog.Warn(msg, "file", ioformat.DisplayName(name), "packet", frame, "err", err)
		}
	}
	opts := dns.Options{Ports: o.ports, Queries: o.queries, Answers: true}
	batch := make([]record.DNS, 0, ioformat.BatchSize)
	var problems []dns.Problem
	flush := func(force bool) error {
		if len(batch) > 0 {
			if err := w.Write(batch); err != nil {
				return err
			}
			clear(batch)
			batch = batch[:0]
		}
		if force && flusher != nil {
			return flusher.Flush()
		}
		return nil
	}
	for _, name := range args {
		err := decodeDNSFile(g, name, opts, &batch, &problems, warn, flush)
		if err != nil {
			w.Abort()
			return err
		}
	}
	if err := flush(false); err != nil {
		w.Abort()
		return err
	}
	if err := w.Close(); err != nil {
		return err
	}
	if skipped > warned {
		slog.Warn(fmt.Sprintf("%d more malformed packets not named", skipped-warned))
	}
	if skipped > 0 {
		return &SkippedError{Count: skipped, Unit: "packets"}
	}
	return nil
}

func decodeDNSFile(g *globals, name string, opts dns.Options, batch *[]record.DNS, problems *[]dns.Problem,
	warn func(string, int64, string, error), flush func(bool) error) error {
	src, err := pcap.Open(name, g.io.In)
	if err != nil {
		return err
	}
	defer src.Close()
	source := "stdin"
	if name != "-" && name != "" {
		source = filepath.Base(name)
	}
	dec := dns.NewDecoder(opts, source)
	for {
		if err := g.ctx.Err(); err != nil {
			return err
		}
		p, err := src.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			var ce *pcap.CaptureError
			if errors.As(err, &ce) {
				warn(name, ce.Frame, "capture truncated or corrupt; rest of file skipped", ce.Err)
				break
			}
			return fmt.Errorf("%s: %w", ioformat.DisplayName(name), err)
		}
		switch p.Status {
		case pcap.OK:
			*batch, *problems = dec.Packet(p, *batch, (*problems)[:0])
			for _, pr := range *problems {
				if pr.Kept {
					warn(name, pr.Frame, "malformed DNS message; record kept with the fields before the error", pr.Err)
				} else {
					warn(name, pr.Frame, "malformed DNS message skipped", pr.Err)
				}
			}
		case pcap.Malformed:
			warn(name, p.Frame, "malformed packet skipped", p.Err)
		}
		if len(*batch) >= ioformat.BatchSize {
			if err := flush(false); err != nil {
				return err
			}
		}
		if src.Drained() {
			if err := flush(true); err != nil {
				return err
			}
		}
	}
	return nil
}
