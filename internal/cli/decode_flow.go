package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/netip"
	"strings"
	"sync/atomic"
	"time"

	"github.com/spf13/cobra"

	"github.com/spot-hunt/spot/internal/decode/flow"
	"github.com/spot-hunt/spot/internal/decode/live"
	"github.com/spot-hunt/spot/internal/decode/netflow"
	"github.com/spot-hunt/spot/internal/decode/pcap"
	"github.com/spot-hunt/spot/internal/ioformat"
	"github.com/spot-hunt/spot/internal/record"
)

type decodeFlowOptions struct {
	out    decodeOutput[record.Flow]
	input  string
	from   string
	listen string
	live   liveFlags
	ports  []int
	tz     string
	asm    flow.AssembleOptions
}

func newDecodeFlowCmd(g *globals) *cobra.Command {
	o := &decodeFlowOptions{}
	cmd := &cobra.Command{
		Use:   "flow [FILE...]",
		Short: "flows from NetFlow/IPFIX or sFlow exports, nfcapd files, Zeek and Suricata logs, nfdump CSV or raw packets",
		Long: withExitStatus(`Decode flow reads NetFlow v5/v9, IPFIX and sFlow v5 exports (in captures or as
raw datagrams), nfdump's binary files (nfcapd's storage, nfdump 1.6 and 1.7,
uncompressed or LZO, bzip2, LZ4 or zstd), nfdump CSV (stock -o csv and Apache
Spot's patched layout), or raw traffic captures, from which it assembles
bidirectional flows. With --listen it is a collector writing hourly Parquet
partitions. Streams.

Inputs are recognised by their first bytes: a pcap or pcapng capture, an
nfcapd file, a file of NetFlow/IPFIX or sFlow datagrams (as written by
"nc -u -l > file"), a Zeek conn.log (TSV or JSON), a Suricata EVE log
(eve.json), or nfdump CSV. An nfcapd file gives the records that
"nfdump -r FILE -o csv | spot decode flow" gives, without nfdump. A Zeek
conn.log row gives one flow; so does a Suricata flow event (both directions)
or netflow event (one direction), other event types counted and passed over:
"spot help schema flow zeek" (or suricata) says which field fills which
column.
In a capture, UDP datagrams to the --ports are decoded as exports. So are
those to any other UDP port whose every datagram is a NetFlow v5, v9, IPFIX
or sFlow v5 export by its content (version, counts and lengths that add up),
when they are most of the capture's first 2000 frames: decode says which
port. A capture with neither is raw traffic (--from forces either; --from
exports on a capture without any export fails).

From raw traffic, bidirectional flows are assembled: one record per 5-tuple
(ICMP type*256+code in dport, as nfdump), the first packet's source in sip,
packets and bytes (IP lengths) per direction (ipkt/ibyt from sip, opkt/obyt
back), TCP flags OR'ed. Flows end when idle (--idle-timeout), are cut when
long (--active-timeout), and end --fin-timeout after a RST or FINs from both
sides (a SYN meanwhile starts a new flow).
IPv4/IPv6 fragments are reassembled (a datagram counts as one packet, as
nfpcapd counts it). Packets inside tunnels (GRE, PPTP, ERSPAN, VXLAN,
Geneve, GTP-U, IP in IP, Teredo, AYIYA; see "spot decode dns --help") make
flows of their own beside the tunnel's, as Zeek reports them: the inner
flow's tunnel column names what carried its first packet (type, outer
addresses and ports, VNI, key or TEID), by which its outer flow is found.
Inner flows of different VXLAN or Geneve VNIs or GRE keys are kept apart.
With --interface IF, flows are assembled from the packets of a Linux
interface until SIGINT or SIGTERM, when the flows still open are written
(see "spot decode dns --help" for capturing). Flows are written as they
end: while the interface is quiet, when their timeouts pass by the wall
clock (a second late at most), an NDJSON or CSV stream flushed then.
The table holds at most --max-flows flows. Templates are kept per
exporter and observation domain; data that comes before its template is held
and decoded when it comes, or counted as dropped at the end.

The collector runs until SIGINT or SIGTERM: it then reads what the kernel
still holds (for up to 250 ms; a second signal cuts this short), writes
everything it received and exits 0, or 3 if it skipped malformed datagrams
(counted on stderr). A third signal abandons what is not yet written (it
says how many records) and exits 130; no temporary file is left.
Datagrams waiting to be decoded hold at most 16 MiB, whatever their size:
when the decoder falls further behind, the socket's buffer fills and what
the kernel drops is counted on stderr.

sFlow: each flow sample is a record, as nfdump's sfcapd makes it, from its
sampled packet header (outermost IP addresses, ports, TCP flags, TOS):
packets and bytes are the sample's scaled by its sampling rate (in the
"sampling" column), times are when the datagram was received (samples carry
none). Counter samples are counted and skipped.

nfdump prints local time: --tz names the zone its CSV was written in.
Packet and byte counts are as exported; the sampling interval an exporter
stated is in the "sampling" column.`),
		Example: `  spot decode flow exports.pcap -o flows.parquet
  spot decode flow /var/cache/nfdump/2026/01/01/nfcapd.2026010112* -o flows.parquet
  zcat conn.*.log.gz | spot decode flow | spot score -m flow.model | spot filter --top 50
  spot decode flow /var/log/suricata/eve.json -o flows.parquet
  nfdump -r nfcapd.202601011200 -o csv | spot decode flow
  nfdump -r nfcapd.202601011200 -o csv | spot decode flow --tz Europe/Paris -o flows.parquet
  spot decode flow --listen udp://0.0.0.0:2055 -o /data/flows
  spot decode flow --interface eth0 -o flows.parquet   # until Ctrl-C`,
		RunE: func(cmd *cobra.Command, args []string) error {
			return runDecodeFlow(g, o, args)
		},
	}
	f := cmd.Flags()
	o.out.addFlags(f)
	f.StringVarP(&o.input, "input-format", "i", "auto", "input `FORMAT`: auto, pcap, netflow, nfcapd, zeek, suricata, nfdump-csv or spot-csv")
	f.StringVar(&o.from, "from", "auto", "what a capture holds: auto|exports|packets")
	f.StringVar(&o.listen, "listen", "", "collect NetFlow/IPFIX and sFlow on `udp://ADDR:PORT`; -o names a directory of hourly partitions")
	f.IntSliceVar(&o.ports, "ports", flow.DefaultPorts, "UDP `PORTS` of NetFlow/IPFIX and sFlow exports in captures (replaces the list)")
	f.StringVar(&o.tz, "tz", "UTC", "time `ZONE` of sources that write local time (nfdump CSV)")
	f.DurationVar(&o.asm.ActiveTimeout, "active-timeout", 300*time.Second, "flows from packets: cut a flow active this `LONG` (the default is nfpcapd's)")
	f.DurationVar(&o.asm.IdleTimeout, "idle-timeout", 60*time.Second, "flows from packets: end a flow idle this `LONG` (the default is nfpcapd's)")
	f.DurationVar(&o.asm.FinTimeout, "fin-timeout", 5*time.Second, "flows from packets: a TCP flow ends this `LONG` after a RST or both FINs")
	o.live.addFlags(f)
	f.IntVar(&o.asm.MaxFlows, "max-flows", 1<<20, "flows from packets: hold at most `N` flows; the stalest is ended early (and counted) when full")
	return cmd
}

func runDecodeFlow(g *globals, o *decodeFlowOptions, args []string) error {
	switch o.input {
	case "auto", "pcap", "netflow", "nfcapd", "zeek", "suricata", "nfdump-csv", "spot-csv":
	default:
		return usagef("-i: unknown input format %q (want auto, pcap, netflow, nfcapd, zeek, suricata, nfdump-csv or spot-csv)", o.input)
	}
	switch o.from {
	case "auto", "exports", "packets":
	default:
		return usagef("--from: %q (want auto, exports or packets)", o.from)
	}
	if o.asm.ActiveTimeout <= 0 || o.asm.IdleTimeout <= 0 || o.asm.FinTimeout <= 0 || o.asm.MaxFlows < 1 {
		return usagef("--active-timeout, --idle-timeout, --fin-timeout and --max-flows must be positive")
	}
	for _, p := range o.ports {
		if p < 1 || p > 65535 {
			return usagef("--ports: %d is not a UDP port", p)
		}
	}
	loc, err := time.LoadLocation(o.tz)
	if err != nil {
		return usagef("--tz: %v", err)
	}
	if o.listen != "" {
		if o.live.iface != "" {
			return usagef("--listen and --interface: choose one")
		}
		return runCollector(g, o)
	}
	if err := o.live.check(args); err != nil {
		return err
	}
	if o.live.iface != "" {
		if o.from == "exports" || o.input != "auto" && o.input != "pcap" {
			return usagef("--interface assembles flows from packets (--from packets); exports are collected with --listen")
		}
		args = []string{o.live.iface}
	}
	args, err = inputArgs(args)
	if err != nil {
		return err
	}
	if err := o.out.resolve(g.io, record.Flow{}.Meta(), flowTime); err != nil {
		return err
	}
	files := args
	if o.live.iface != "" {
		files = nil
	}
	o.out.showProgress(g, "decode flow", files)
	skips := newInputSkips(g, args)
	return skips.finish(o.out.each(args, func(names []string, sw ioformat.Writer[record.Flow]) error {
		return decodeFlowFiles(g, o, loc, names, sw, skips)
	}))
}

func flowTime(r *record.Flow) int64 { return r.UnixTstamp }

// decodeFlowFiles decodes the inputs named into sw; NetFlow templates
// carry over from one input to the next. Inputs of no flow format are left
// out as skips says.
func decodeFlowFiles(g *globals, o *decodeFlowOptions, loc *time.Location, args []string, sw ioformat.Writer[record.Flow], skips *inputSkips) error {
	w := newAsyncWriter(sw)
	var skipped, dropped, left int64
	var bad ioformat.SkipLog
	unit := "packets"
	exports := netflow.New("")
	for _, name := range args {
		res, err := decodeFlowInput(g, o, loc, name, w, exports, &bad)
		if err != nil && skips.skip(name, err, flow.ErrNotCSV) {
			left++
			continue
		}
		if err != nil {
			if errors.Is(err, errWriterFailed) {
				if cerr := w.Close(); cerr != nil {
					return cerr // the output's own error
				}
			}
			w.Abort()
			return err
		}
		skipped += res.Skipped
		if res.Unit != "" && res.Skipped > 0 {
			unit = res.Unit
		}
		slog.Debug("decoded", "file", ioformat.DisplayName(name), "as", res.Kind, "records", res.Records,
			"skipped", res.Skipped, "dropped_sets", res.DroppedSets, "templates", res.Stats.Templates,
			"packets", res.Assembly.Packets, "fragments", res.Assembly.Fragments)
		if res.Assembly.Evicted > 0 {
			slog.Warn("flow table full: flows ended early (raise --max-flows)", "file", ioformat.DisplayName(name), "flows", res.Assembly.Evicted)
		}
	}
	if left == int64(len(args)) { // nothing to write
		w.Abort()
		return skippedOrNil(0, unit, left)
	}
	if err := w.Close(); err != nil {
		return err
	}
	if dropped = int64(exports.Flush()); dropped > 0 {
		slog.Warn("export data sets dropped: their template never came", "sets", dropped)
	}
	switch {
	case skipped > 0:
		return skippedOrNil(skipped, unit, left)
	case dropped > 0:
		return skippedOrNil(dropped, "export data sets without a template", left)
	}
	if left > 0 {
		return skippedOrNil(0, unit, left)
	}
	return o.live.lost()
}

func decodeFlowInput(g *globals, o *decodeFlowOptions, loc *time.Location, name string, w ioformat.Writer[record.Flow], exports *netflow.Decoder, skips *ioformat.SkipLog) (flow.Result, error) {
	display := ioformat.DisplayName(name)
	opts := flow.Options{
		Input: o.input, From: o.from, Ports: o.ports, Loc: loc, Exports: exports, Assemble: o.asm,
		Warn: func(unit string, n int64, err error) {
			skips.Skip("skipped malformed "+unit, name, unit, n, err)
		},
	}
	if o.input == "spot-csv" {
		opts.Input = "nfdump-csv" // the layout is recognised from the columns
	}
	if a, ok := w.(*asyncWriter); ok {
		opts.Handoff, opts.Idle = a.Handoff, a.Flush
	}
	var res flow.Result
	var err error
	if o.live.iface != "" {
		err = o.live.run(g, live.FilterSpec{}, func(ctx context.Context, src *pcap.Source) error {
			var err error
			res, err = flow.DecodePackets(ctx, src, name, opts, w.Write)
			return err
		})
	} else {
		var in io.ReadCloser
		if in, err = ioformat.OpenRawCounted(name, g.io.In, o.out.prog.reader()); err != nil {
			return flow.Result{}, err
		}
		defer in.Close()
		res, err = flow.Decode(g.ctx, name, in, opts, w.Write)
	}
	if err != nil {
		return res, fmt.Errorf("%s: %w", display, err)
	}
	switch {
	case res.Kind == "exports" && res.ExportPort != 0:
		slog.Warn("read as NetFlow/IPFIX or sFlow exports: its datagrams to a port outside --ports are exports by their content (add the port to --ports to say so)",
			"file", display, "port", res.ExportPort)
	case res.ExportPort != 0:
		slog.Warn("this capture was read as raw traffic, but its UDP datagrams to a port outside --ports look like NetFlow/IPFIX or sFlow exports: add that port to --ports, or use --from exports",
			"file", display, "port", res.ExportPort)
	}
	warnUndecoded(name, res.Tunnels)
	if res.SFlow.CounterSamples > 0 || res.SFlow.NoPacket > 0 {
		slog.Info("sFlow samples that describe no IP packet were counted and skipped", "file", display,
			"counter_samples", res.SFlow.CounterSamples, "flow_samples_without_ip", res.SFlow.NoPacket)
	}
	switch {
	case res.Kind == "suricata":
		slog.Info("EVE events of other types passed over: decode flow reads flow and netflow events (dns: decode dns; http: decode proxy)",
			"file", display, "events", res.Passed)
	default:
		for kind, n := range res.Passed {
			slog.Warn("rows of another Zeek log passed over: decode flow reads conn.log (dns.log: decode dns; http.log: decode proxy)",
				"file", display, "log", kind, "rows", n)
		}
	}
	if res.Kind == "exports" && res.Stats.Packets == 0 && res.SFlow.Datagrams == 0 && res.Skipped == 0 {
		if o.from == "exports" {
			return res, fmt.Errorf("%s: --from exports, but the capture holds no NetFlow/IPFIX or sFlow export: no UDP datagram to the --ports (%s), and none to another port is an export by its content (raw traffic? leave --from out)",
				display, strings.Trim(strings.Join(strings.Fields(fmt.Sprint(o.ports)), ","), "[]"))
		}
		slog.Warn("no NetFlow/IPFIX or sFlow datagrams to the --ports in this capture", "file", display, "ports", o.ports)
	}
	return res, nil
}

// asyncWriter writes batches in a goroutine of its own, so decoding the next
// batch overlaps encoding the last (two cores: up to twice the rate).
type asyncWriter struct {
	w      ioformat.Writer[record.Flow]
	work   chan []record.Flow
	free   chan []record.Flow
	done   chan error
	failed atomic.Bool
	closed bool
	made   int // batches made (see batch)
}

// asyncBatches is how many batches the two goroutines pass around at most:
// with more, a batch is written again only once the writer's core has let
// go of its cache lines (4 batches: 0.41 s for 2M NetFlow v9 records; 16:
// 0.39 s; 64 outgrow the caches: 0.46 s).
const asyncBatches = 16

func newAsyncWriter(w ioformat.Writer[record.Flow]) *asyncWriter {
	a := &asyncWriter{w: w, work: make(chan []record.Flow, asyncBatches-1), free: make(chan []record.Flow, asyncBatches), done: make(chan error, 1)}
	flusher, _ := w.(ioformat.Flusher)
	go func() {
		var err error
		for b := range a.work {
			if b == nil { // Flush's mark
				if err == nil && flusher != nil {
					if err = flusher.Flush(); err != nil {
						a.failed.Store(true)
					}
				}
				continue
			}
			if err == nil {
				if err = a.w.Write(b); err != nil {
					a.failed.Store(true)
				}
			}
			a.free <- b[:0]
		}
		a.done <- err
	}()
	return a
}

// Flush has the output flushed (a stream's: see ioformat.Flusher) once
// the batches queued before are written.
func (a *asyncWriter) Flush() error {
	if a.failed.Load() {
		return errWriterFailed
	}
	a.work <- nil
	return nil
}

var errWriterFailed = errors.New("output failed")

// Handoff queues recs, which the writer now owns, and returns an empty
// batch to fill next.
func (a *asyncWriter) Handoff(recs []record.Flow) ([]record.Flow, error) {
	if a.failed.Load() {
		return recs[:0], errWriterFailed
	}
	a.work <- recs
	return a.batch(), nil
}

// batch returns an empty batch: one the writer has freed, else a new one
// while fewer than asyncBatches were made, else the next one freed. A
// decoder that outpaces the writer (NetFlow) gets all asyncBatches; flows
// assembled from packets (a record per 16 packets of the bench's capture)
// use two or three, 5 MB less of memory held (272 B a record).
func (a *asyncWriter) batch() []record.Flow {
	select {
	case b := <-a.free:
		return b
	default:
	}
	if a.made < asyncBatches {
		a.made++
		return ioformat.Touched(make([]record.Flow, ioformat.BatchSize+256))[:0]
	}
	return <-a.free
}

// Write copies recs and queues them; an output error is returned by Close
// (and stops Write early).
func (a *asyncWriter) Write(recs []record.Flow) error {
	if a.failed.Load() {
		return errWriterFailed
	}
	a.work <- append(a.batch(), recs...)
	return nil
}

func (a *asyncWriter) finish() error {
	if a.closed {
		return nil
	}
	a.closed = true
	close(a.work)
	return <-a.done
}

func (a *asyncWriter) Close() error {
	if err := a.finish(); err != nil {
		a.w.Abort()
		return err
	}
	return a.w.Close()
}

func (a *asyncWriter) Abort() {
	a.finish()
	a.w.Abort()
}

// runCollector is "decode flow --listen": it runs until SIGINT/SIGTERM, then
// writes out what it received and reports its counts.
func runCollector(g *globals, o *decodeFlowOptions) error {
	if o.out.Path == "" || o.out.Path == "-" {
		return usagef("--listen needs -o DIR, the root of the hourly partitions")
	}
	if o.out.by != "" && o.out.by != "hour" {
		return usagef("--listen writes hourly partitions (--partition %s)", o.out.by)
	}
	if o.out.Format != "" && o.out.Format != "parquet" {
		return usagef("--listen writes Parquet partitions (-f %s)", o.out.Format)
	}
	if _, err := flow.ParseListen(o.listen); err != nil {
		return usagef("%v", err)
	}
	warned := 0
	hurry := make(chan struct{})
	var unwritten atomic.Int64
	setLateSignals(&lateSignals{
		hurry: func() {
			close(hurry)
			fmt.Fprintln(g.io.Err, "spot: decode flow: writing what was received without draining the socket (a third signal abandons it)")
		},
		lost: func() string {
			return fmt.Sprintf("%d flow records received were not written", unwritten.Load())
		},
	})
	defer setLateSignals(nil)
	st, err := flow.Collect(g.ctx, flow.CollectOptions{
		Listen: o.listen, Dir: o.out.Path, Hurry: hurry, Unwritten: &unwritten,
		Draining: func(d time.Duration) {
			slog.Info("stopping: reading what the kernel still holds, then writing everything received", "for", d)
		},
		Ready: func(a net.Addr) {
			slog.Info("collecting NetFlow/IPFIX and sFlow", "listen", a.String(), "dir", o.out.Path)
		},
		Warn: func(from netip.AddrPort, err error) {
			warned++
			if warned <= ioformat.MaxNamed {
				slog.Warn("malformed export datagram", "exporter", from.String(), "err", err)
			}
		},
	})
	slog.Info("collector stopped", "datagrams", st.Datagrams, "records", st.Records, "malformed", st.Malformed,
		"sflow_counter_samples", st.SFlow.CounterSamples,
		"dropped_sets", st.DroppedSets, "kernel_drops", st.KernelDrops, "files", st.Files)
	fmt.Fprintf(g.io.Err, "received %d datagrams, decoded %d flow records into %d files; dropped: %d malformed datagrams, %d data sets without a template, %d by the kernel\n",
		st.Datagrams, st.Records, st.Files, st.Malformed, st.DroppedSets, st.KernelDrops)
	if err != nil {
		return err
	}
	if st.Malformed > 0 {
		return &SkippedError{Count: st.Malformed, Unit: "datagrams"}
	}
	return nil
}
