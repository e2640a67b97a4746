package cli

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"path/filepath"
	"sync/atomic"

	"github.com/spf13/cobra"

	"github.com/spot-hunt/spot/internal/decode/dns"
	"github.com/spot-hunt/spot/internal/decode/live"
	"github.com/spot-hunt/spot/internal/decode/pcap"
	"github.com/spot-hunt/spot/internal/decode/suricata"
	"github.com/spot-hunt/spot/internal/decode/tunnel"
	"github.com/spot-hunt/spot/internal/decode/zeek"
	"github.com/spot-hunt/spot/internal/ioformat"
	"github.com/spot-hunt/spot/internal/record"
)

type decodeDNSOptions struct {
	out        decodeOutput[record.DNS]
	input      string
	ports      []int
	queries    bool
	icmpQuotes bool
	live       liveFlags
}

func newDecodeDNSCmd(g *globals) *cobra.Command {
	o := &decodeDNSOptions{}
	cmd := &cobra.Command{
		Use:   "dns [FILE...]",
		Short: "DNS messages from pcap and pcapng captures, Zeek dns.log and Suricata EVE",
		Long: withExitStatus(`Decode dns reads pcap and pcapng captures (files or an endless stream on
stdin; gzip and zstd unwrapped) and writes one dns record per DNS message,
UDP or TCP. By default only responses are kept, as Apache Spot did: ip_dst is
then the client. Streams: records are flushed whenever the input is idle.

Fields are those tshark prints (frame.time, dns.qry.name, dns.a, ...); frame
is the packet's number in its capture, as Wireshark numbers it. IP fragments
and TCP streams (the 2-byte length framing) are reassembled, with bounded
state. Link layers: Ethernet (VLAN, QinQ, MPLS, PPPoE), Linux cooked (SLL,
SLL2), raw IP, BSD loopback, NFLOG, PPP, FDDI.

Packets inside tunnels are decoded, up to 8 deep: GRE (keyed, in GRE, over
UDP 4754), PPTP, ERSPAN I-III, VXLAN (UDP 4789), Geneve (6081), GTP-U (2152),
IPv4/IPv6 in IPv4/IPv6, Teredo and AYIYA. A record then carries the innermost
addresses, and its tunnel column names what carried the packet, outermost
first: "vxlan 192.0.2.1:49152>192.0.2.2:4789 vni=42; gre 10.0.0.1>10.0.0.2".
With --icmp-quotes, DNS messages quoted by ICMP errors are decoded too, as
tshark decodes them (their tunnel column ends "icmp SRC>DST type=3 code=3").

With --interface IF, packets are captured from a Linux interface (AF_PACKET,
no libpcap; needs CAP_NET_RAW; "any" captures every interface's IP packets,
without their link headers) until SIGINT or SIGTERM; the packets the
kernel had delivered by then are decoded and written, and the counts of
packets captured and dropped by the kernel go to stderr (exit status 3 if it
dropped any). A kernel filter keeps what the decoder reads (TCP and UDP on
the --ports, IP fragments, tunnels, ICMP with --icmp-quotes); --snaplen cuts
each packet.

A malformed packet or DNS message is skipped and named on stderr (file and
packet number); a message whose answer sections are malformed keeps a record
with the fields before the error. A truncated capture keeps what came before
it. Either way the run ends with exit status 3.

A Zeek dns.log (TSV or JSON, recognised by its first lines, or -i zeek) gives
a record per row: a response record for each query that saw a response (the
client in ip_dst), and with --queries a query record for each that did not.
"spot help schema dns zeek" (and suricata) says which field fills which
column; frame_len and frame have no source there and stay 0.

A Suricata EVE log (eve.json, recognised by its first line, or -i suricata)
gives a record per dns response event (and with --queries per query event),
in each of EVE's layouts: version 1's events of one answer record each are
gathered into their response's record, versions 2 (detailed or grouped
answers) and 3 (Suricata 8) give one event a response. Events of other types
are counted and passed over. EVE logs no query class: dns_qry_class stays
empty.`),
		Example: `  spot decode dns capture.pcap -o dns.parquet
  tcpdump -i eth0 -w - port 53 | spot decode dns --queries
  spot decode dns --interface eth0 --queries -o dns.parquet   # until Ctrl-C
  zcat dns.*.log.gz | spot decode dns | spot score -m dns.model | spot filter --top 50
  spot decode dns /var/log/suricata/eve.json -o dns.parquet`,
		RunE: func(cmd *cobra.Command, args []string) error {
			return runDecodeDNS(g, o, args)
		},
	}
	f := cmd.Flags()
	o.out.addFlags(f)
	f.StringVarP(&o.input, "input-format", "i", "auto", "input `FORMAT`: auto|pcap|zeek|suricata")
	f.IntSliceVar(&o.ports, "ports", []int{53}, "DNS `PORTS` (replaces the list), e.g. 53,5353,5355")
	f.BoolVar(&o.queries, "queries", false, "also write queries, not only responses")
	f.BoolVar(&o.icmpQuotes, "icmp-quotes", false, "also decode DNS messages quoted by ICMP errors, as tshark does (copies, not traffic: off by default)")
	o.live.addFlags(f)
	return cmd
}

func runDecodeDNS(g *globals, o *decodeDNSOptions, args []string) error {
	switch o.input {
	case "auto", "pcap", "zeek", "suricata":
	default:
		return usagef("-i: unknown input format %q (want auto, pcap, zeek or suricata)", o.input)
	}
	for _, p := range o.ports {
		if p < 1 || p > 65535 {
			return usagef("--ports: %d is not a port", p)
		}
	}
	if err := o.live.check(args); err != nil {
		return err
	}
	if o.live.iface != "" {
		args = []string{o.live.iface}
	}
	args, err := inputArgs(args)
	if err != nil {
		return err
	}
	if err := o.out.resolve(g.io, record.Meta{Kind: record.KindDNS, Stream: record.StreamEvents}, dnsTime); err != nil {
		return err
	}
	files := args
	if o.live.iface != "" {
		files = nil
	}
	o.out.showProgress(g, "decode dns", files)
	defer relaxGC(96 << 20)() // peak RSS well under 200 MB
	skips := newInputSkips(g, args)
	return skips.finish(o.out.each(args, func(names []string, w ioformat.Writer[record.DNS]) error {
		return decodeDNSFiles(g, o, names, w, skips)
	}))
}

func dnsTime(r *record.DNS) int64 { return r.UnixTstamp }

// decodeDNSFiles decodes the captures named into w; inputs that are not
// captures are left out as skips says.
func decodeDNSFiles(g *globals, o *decodeDNSOptions, args []string, w ioformat.Writer[record.DNS], skips *inputSkips) error {
	out := newBatchWriter(w)
	var bad ioformat.SkipLog
	opts := dns.Options{Ports: o.ports, Queries: o.queries, Answers: true, ICMPQuotes: o.icmpQuotes}
	var left int64
	for _, name := range args {
		var err error
		if o.live.iface != "" {
			spec := live.FilterSpec{Ports: o.ports, ICMP: o.icmpQuotes, Tunnels: true, TunnelPorts: tunnel.UDPPorts}
			err = o.live.run(g, spec, func(ctx context.Context, src *pcap.Source) error {
				return decodeDNSSource(ctx, src, name, name, opts, out, &bad)
			})
		} else {
			err = decodeDNSFile(g, name, o.input, opts, out, &bad, o.out.prog.reader())
		}
		if err != nil {
			if skips.skip(name, err, pcap.ErrNotCapture) {
				left++
				continue
			}
			out.abort()
			return err
		}
	}
	if left == int64(len(args)) { // nothing to write
		out.abort()
	} else if err := out.close(); err != nil {
		return err
	}
	if err := skippedOrNil(bad.Count(), "packets", left); err != nil {
		return err
	}
	return o.live.lost()
}

// batchWriter writes batches of records on its own goroutine, so decoding
// and encoding run side by side. Each batch comes with an arena for its
// records' strings, reset when the batch has been written.
type batchWriter[T any] struct {
	w       ioformat.Writer[T]
	flusher ioformat.Flusher
	batch   []T
	text    *ioformat.Arena // for the strings of batch's records
	queue   chan writeBatch[T]
	free    chan writeBatch[T]
	done    chan error
	failed  atomic.Bool
	closed  bool
	err     error
}

type writeBatch[T any] struct {
	recs  []T
	text  *ioformat.Arena
	flush bool
}

func newBatchWriter[T any](w ioformat.Writer[T]) *batchWriter[T] {
	const inFlight = 4
	b := &batchWriter[T]{w: w, queue: make(chan writeBatch[T], inFlight), free: make(chan writeBatch[T], inFlight+2), done: make(chan error, 1)}
	b.flusher, _ = w.(ioformat.Flusher)
	for range inFlight + 1 {
		b.free <- writeBatch[T]{recs: ioformat.Touched(make([]T, ioformat.BatchSize))[:0], text: new(ioformat.Arena)}
	}
	b.batch = ioformat.Touched(make([]T, ioformat.BatchSize))[:0]
	b.text = new(ioformat.Arena)
	go func() {
		var err error
		for wb := range b.queue {
			if err == nil && len(wb.recs) > 0 {
				err = b.w.Write(wb.recs)
			}
			if err == nil && wb.flush && b.flusher != nil {
				err = b.flusher.Flush()
			}
			if err != nil {
				b.failed.Store(true)
			}
			clear(wb.recs)
			wb.text.Reset() // Write kept nothing of the records
			b.free <- writeBatch[T]{recs: wb.recs[:0], text: wb.text}
		}
		b.done <- err
	}()
	return b
}

// full reports whether the current batch should be sent.
func (b *batchWriter[T]) full() bool { return len(b.batch) >= ioformat.BatchSize }

// send hands the current batch to the writer; flush asks it to flush its
// output after writing it. The next batch and its arena are b.batch and
// b.text. It returns false when writing has failed.
func (b *batchWriter[T]) send(flush bool) bool {
	if len(b.batch) == 0 && !flush {
		return !b.failed.Load()
	}
	b.queue <- writeBatch[T]{b.batch, b.text, flush}
	next := <-b.free
	b.batch, b.text = next.recs, next.text
	return !b.failed.Load()
}

// finish sends the last batch and waits for the writer goroutine.
func (b *batchWriter[T]) finish() error {
	if !b.closed {
		b.closed = true
		b.send(false)
		close(b.queue)
		b.err = <-b.done
	}
	return b.err
}

func (b *batchWriter[T]) close() error {
	if err := b.finish(); err != nil {
		b.w.Abort()
		return err
	}
	return b.w.Close()
}

func (b *batchWriter[T]) abort() {
	b.finish()
	b.w.Abort()
}

func decodeDNSFile(g *globals, name, input string, opts dns.Options, out *batchWriter[record.DNS], skips *ioformat.SkipLog, read func(int)) error {
	rc, err := ioformat.OpenRawCounted(name, g.io.In, read)
	if err != nil {
		return err
	}
	defer rc.Close()
	br := bufio.NewReaderSize(rc, 1<<20)
	head, _ := br.Peek(4)
	if input == "auto" && !pcap.IsCapture(head) {
		switch lines := ioformat.PeekLines(br, 8, 64<<10); {
		case zeek.Sniff(lines):
			input = "zeek"
		case suricata.Sniff(lines):
			input = "suricata"
		}
	}
	switch input {
	case "zeek":
		return decodeDNSZeek(g, name, br, opts, out, skips)
	case "suricata":
		return decodeDNSEVE(g, name, br, opts, out, skips)
	}
	src, err := pcap.NewSource(br, name)
	if err != nil {
		return fmt.Errorf("%s: %w", ioformat.DisplayName(name), err)
	}
	source := "stdin"
	if name != "-" && name != "" {
		source = filepath.Base(name)
	}
	return decodeDNSSource(g.ctx, src, name, source, opts, out, skips)
}

// decodeDNSSource decodes src (named name in messages, source in event
// ids) until it ends or ctx is done.
func decodeDNSSource(ctx context.Context, src *pcap.Source, name, source string, opts dns.Options, out *batchWriter[record.DNS], skips *ioformat.SkipLog) error {
	unwrap := tunnel.New()
	src.SetUnwrapper(unwrap)
	dec := dns.NewDecoder(opts, source)
	var problems []dns.Problem
	for {
		if err := ctx.Err(); err != nil {
			return err
		}
		p, err := src.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			var ce *pcap.CaptureError
			if errors.As(err, &ce) {
				skips.Skip("capture truncated or corrupt: rest of file skipped", name, "packet", ce.Frame, ce.Err)
				break
			}
			return fmt.Errorf("%s: %w", ioformat.DisplayName(name), err)
		}
		switch p.Status {
		case pcap.OK:
			dec.Text = out.text // the strings go with their batch
			out.batch, problems = dec.Packet(p, out.batch, problems[:0])
			for _, pr := range problems {
				if pr.Kept {
					skips.Skip("malformed DNS message: record kept with the fields before the error", name, "packet", pr.Frame, pr.Err)
				} else {
					skips.Skip("skipped malformed DNS message", name, "packet", pr.Frame, pr.Err)
				}
			}
		case pcap.Malformed:
			skips.Skip("skipped malformed packet", name, "packet", p.Frame, p.Err)
		}
		if drained := src.Drained(); drained || out.full() {
			if !out.send(drained) {
				return out.finishErr()
			}
		}
	}
	warnUndecoded(name, unwrap.Stats)
	switch {
	case dec.Messages == 0 && src.Frames() > 0:
		ports := opts.Ports
		if len(ports) == 0 {
			ports = []int{53}
		}
		slog.Warn("no DNS messages to or from the --ports in this capture", "file", ioformat.DisplayName(name), "frames", src.Frames(), "ports", ports)
	case dec.Messages == dec.QueriesLeftOut && dec.Messages > 0:
		slog.Warn("only DNS queries in this capture, and queries are not written without --queries", "file", ioformat.DisplayName(name), "queries", dec.QueriesLeftOut)
	}
	return nil
}

// finishErr stops the writer and returns its error.
func (b *batchWriter[T]) finishErr() error {
	err := b.finish()
	if err == nil {
		err = errors.New("output failed")
	}
	return err
}

// warnUndecoded says how many packets came in tunnels whose content spot
// does not decode (they count as the outer packets they are).
func warnUndecoded(name string, st tunnel.Stats) {
	if st.Undecoded > 0 {
		slog.Warn("packets in tunnels carrying what spot does not decode: only their outer packets are counted",
			"file", ioformat.DisplayName(name), "packets", st.Undecoded, "first", st.UndecodedWhat)
	}
}

// decodeDNSZeek decodes the dns.log rows of Zeek logs.
func decodeDNSZeek(g *globals, name string, br *bufio.Reader, opts dns.Options, out *batchWriter[record.DNS], skips *ioformat.SkipLog) error {
	z := zeek.NewReader(br, name)
	z.Queries = opts.Queries
	z.Warn = func(e *zeek.RowError) { skips.Skip("skipped malformed Zeek row", name, "line", e.Line, e.Err) }
	if err := decodeDNSLog(g, name, z.ReadDNS, out); err != nil {
		return err
	}
	st := z.Stats()
	for kind, n := range st.Passed {
		slog.Warn("rows of another Zeek log passed over: decode dns reads dns.log (conn.log: decode flow; http.log: decode proxy)",
			"file", ioformat.DisplayName(name), "log", kind.String(), "rows", n)
	}
	if st.Records == 0 && st.QueriesLeft > 0 {
		slog.Warn("only queries that saw no response in this dns.log, and queries are not written without --queries",
			"file", ioformat.DisplayName(name), "queries", st.QueriesLeft)
	}
	return nil
}

// decodeDNSEVE decodes the dns events of a Suricata EVE log.
func decodeDNSEVE(g *globals, name string, br *bufio.Reader, opts dns.Options, out *batchWriter[record.DNS], skips *ioformat.SkipLog) error {
	z := suricata.NewReader(br, name)
	z.Queries = opts.Queries
	z.Warn = func(e *suricata.LineError) { skips.Skip("skipped malformed EVE line", name, "line", e.Line, e.Err) }
	if err := decodeDNSLog(g, name, z.ReadDNS, out); err != nil {
		return err
	}
	st := z.Stats()
	slog.Info("EVE events of other types passed over: decode dns reads dns events (flow, netflow: decode flow; http: decode proxy)",
		"file", ioformat.DisplayName(name), "events", st.Passed)
	if st.Records == 0 && st.QueriesLeft > 0 {
		slog.Warn("only DNS queries in this EVE log, and queries are not written without --queries",
			"file", ioformat.DisplayName(name), "queries", st.QueriesLeft)
	}
	return nil
}

// decodeDNSLog writes the records read from a log of DNS transactions.
func decodeDNSLog(g *globals, name string, read func([]record.DNS, int) ([]record.DNS, error), out *batchWriter[record.DNS]) error {
	for {
		if err := g.ctx.Err(); err != nil {
			return err
		}
		var err error
		out.batch, err = read(out.batch, ioformat.BatchSize-len(out.batch))
		if out.full() || err != nil {
			if !out.send(err != nil) {
				return out.finishErr()
			}
		}
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return fmt.Errorf("%s: %w", ioformat.DisplayName(name), err)
		}
	}
}
