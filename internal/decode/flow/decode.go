package flow

import (
	"bufio"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net/netip"
	"path/filepath"
	"slices"
	"time"

	"github.com/spot-hunt/spot/internal/decode/netflow"
	"github.com/spot-hunt/spot/internal/decode/nfcapd"
	"github.com/spot-hunt/spot/internal/decode/pcap"
	"github.com/spot-hunt/spot/internal/decode/sflow"
	"github.com/spot-hunt/spot/internal/decode/suricata"
	"github.com/spot-hunt/spot/internal/decode/tunnel"
	"github.com/spot-hunt/spot/internal/decode/zeek"
	"github.com/spot-hunt/spot/internal/ioformat"
	"github.com/spot-hunt/spot/internal/record"
)

// DefaultPorts are the UDP ports where captures are searched for exports:
// NetFlow (2055, 9995, 9996), IPFIX (4739) and sFlow (6343).
var DefaultPorts = []int{2055, 9995, 9996, 4739, 6343}

// Options say how to read one input.
type Options struct {
	Input string // auto|pcap|netflow|nfcapd|zeek|suricata|nfdump-csv|spot-csv
	From  string // what a capture holds: auto|exports|packets
	Ports []int  // UDP ports of exports in captures
	Loc   *time.Location
	// Warn is told about each skipped unit (unit is "packet" or "line").
	Warn func(unit string, number int64, err error)
	// BatchSize is how many records go to emit at a time (default 1024).
	BatchSize int
	// Handoff, if set, takes the batches of exports and assembled flows in
	// emit's place: it keeps each batch it is given and returns an empty
	// one to fill next, so batches reach another goroutine uncopied.
	Handoff func([]record.Flow) ([]record.Flow, error)
	// Assemble tunes flow assembly from packets.
	Assemble AssembleOptions
	// Exports, when set, is the export decoder shared by the inputs of one
	// run, so templates read from one file serve data in the next; the
	// caller then calls its Flush after the last input. Otherwise each
	// input has its own, flushed at its end.
	Exports *netflow.Decoder
	// Idle, for a live capture (DecodePackets), is called when flows that
	// ended while packets were few or none have been handed on: a caller
	// writing a stream flushes it, so that they reach the next stage then.
	Idle func() error

	readAhead *ioformat.ReadAhead // the input's, started for assembly
	// tick, for a live capture, is how often the wall clock is looked at:
	// after a whole tick without a packet, it moves the flows' time on.
	tick time.Duration
}

// Result counts what one input gave.
type Result struct {
	Kind        string // "exports", "datagrams", "csv", "packets"
	Records     int64
	Skipped     int64 // malformed packets or lines
	Unit        string
	DroppedSets int64 // export data sets whose template never came
	Stats       netflow.Stats
	Assembly    AssembleStats
	// Passed counts what a log held of other kinds, passed over (Zeek
	// rows of other logs, EVE events of other types), by kind.
	Passed map[string]int64
	// ExportPort is a port outside the --ports whose datagrams are
	// NetFlow/IPFIX or sFlow exports by their content: with Kind "exports"
	// the capture was read as exports to it (the most used of such ports);
	// otherwise it was read as raw traffic, those datagrams being too few.
	ExportPort int
	// Tunnels counts what was found inside encapsulations.
	Tunnels tunnel.Stats
	// SFlow counts what sFlow datagrams held.
	SFlow sflow.Stats
}

// Decode reads one input (name names it in messages and event ids) and
// hands its flow records to emit in batches.
func Decode(ctx context.Context, name string, r io.Reader, o Options, emit func([]record.Flow) error) (Result, error) {
	o.defaults()
	// Assembly starts reading ahead: parsing packets is its slowest stage.
	// Exports and CSV are bound elsewhere, and are read in line.
	ra := ioformat.NewReadAhead(r)
	defer ra.Close()
	o.readAhead = ra
	br := bufio.NewReaderSize(ra, 1<<20)
	head, _ := br.Peek(4)
	kind := o.Input
	if kind == "" || kind == "auto" {
		switch {
		case len(head) == 0:
			return Result{Kind: "empty"}, nil
		case pcap.IsCapture(head):
			kind = "pcap"
		case nfcapd.Sniff(head):
			kind = "nfcapd"
		case len(head) >= 2 && head[0] == 0 && (head[1] == 5 || head[1] == 9 || head[1] == 10),
			len(head) >= 4 && binary.BigEndian.Uint32(head) == 5: // sFlow v5
			kind = "netflow"
		case zeek.Sniff(ioformat.PeekLines(br, 8, 64<<10)):
			kind = "zeek"
		case suricata.Sniff(ioformat.PeekLines(br, 1, 64<<10)):
			kind = "suricata"
		default:
			kind = "nfdump-csv"
		}
	}
	switch kind {
	case "pcap":
		return decodeCapture(ctx, name, br, o, emit)
	case "netflow":
		return decodeDatagrams(ctx, name, br, o, emit)
	case "nfcapd":
		return decodeNfcapd(ctx, name, br, o, emit)
	case "zeek":
		return decodeZeek(ctx, name, br, o, emit)
	case "suricata":
		return decodeEVE(ctx, name, br, o, emit)
	case "nfdump-csv", "spot-csv":
		return decodeCSV(ctx, name, br, o, emit)
	}
	return Result{}, fmt.Errorf("unknown input format %q (want auto, pcap, netflow, nfcapd, zeek, suricata, nfdump-csv or spot-csv)", kind)
}

func (o *Options) defaults() {
	if o.BatchSize <= 0 {
		o.BatchSize = 1024
	}
	if o.Warn == nil {
		o.Warn = func(string, int64, error) {}
	}
	if len(o.Ports) == 0 {
		o.Ports = DefaultPorts
	}
}

// DecodePackets assembles flows from the packets of src (a live capture)
// until it ends, naming its input name in event ids. o.Input, o.From and
// o.Ports are not used. The packets' times are the wall clock's, so when
// none come for a while the wall clock ends the flows whose timeouts have
// passed (two ticks of a second at most after them); the records that
// ended meanwhile are handed on at each tick, then o.Idle is called.
func DecodePackets(ctx context.Context, src *pcap.Source, name string, o Options, emit func([]record.Flow) error) (res Result, err error) {
	o.defaults()
	o.tick = liveTick(o.Assemble)
	unwrap := tunnel.New()
	src.SetUnwrapper(unwrap)
	defer func() { res.Tunnels = unwrap.Stats }()
	asm := NewAssembler(filepath.Base(name), o.Assemble)
	return assemble(ctx, src, asm, newBatcher(o, emit), Result{Kind: "packets", Unit: "packets"}, o)
}

// decodeNfcapd reads an nfdump binary file (nfcapd's storage).
func decodeNfcapd(ctx context.Context, name string, br *bufio.Reader, o Options, emit func([]record.Flow) error) (Result, error) {
	res := Result{Kind: "nfcapd", Unit: "records"}
	r, err := nfcapd.NewReader(br, name)
	if err != nil {
		return res, err
	}
	defer r.Close()
	r.Warn = func(e *nfcapd.RecordError) {
		n := e.Record
		if n == 0 {
			n = e.Block
			o.Warn("block", n, e.Err)
			return
		}
		o.Warn("record", n, fmt.Errorf("block %d: %w", e.Block, e.Err))
	}
	b := newBatcher(o, emit)
	for {
		if err := ctx.Err(); err != nil {
			return res, err
		}
		var rerr error
		b.buf, rerr = r.Next(b.buf, o.BatchSize-len(b.buf))
		if err := b.flush(false); err != nil {
			return res, err
		}
		if rerr != nil {
			res.Skipped = r.Stats().Skipped
			if err := b.flush(true); err != nil {
				return res, err
			}
			res.Records = b.n
			if rerr == io.EOF {
				return res, nil
			}
			return res, rerr
		}
	}
}

// decodeZeek reads the conn.log rows of Zeek logs.
func decodeZeek(ctx context.Context, name string, br *bufio.Reader, o Options, emit func([]record.Flow) error) (Result, error) {
	z := zeek.NewReader(br, name)
	z.Warn = func(e *zeek.RowError) { o.Warn("line", e.Line, e.Err) }
	return decodeLog(ctx, "zeek", "rows", z.ReadFlows, func(res *Result) {
		st := z.Stats()
		res.Skipped = st.Skipped
		for k, n := range st.Passed {
			res.Passed[k.String()] += n
		}
	}, o, emit)
}

// decodeEVE reads the flow and netflow events of a Suricata EVE log.
func decodeEVE(ctx context.Context, name string, br *bufio.Reader, o Options, emit func([]record.Flow) error) (Result, error) {
	z := suricata.NewReader(br, name)
	z.Warn = func(e *suricata.LineError) { o.Warn("line", e.Line, e.Err) }
	return decodeLog(ctx, "suricata", "lines", z.ReadFlows, func(res *Result) {
		st := z.Stats()
		res.Skipped = st.Skipped
		for k, n := range st.Passed {
			res.Passed[k] += n
		}
	}, o, emit)
}

// decodeLog hands on the records read from a log of connections; count
// fills the result's counts at the end.
func decodeLog(ctx context.Context, kind, unit string, read func([]record.Flow, int) ([]record.Flow, error),
	count func(*Result), o Options, emit func([]record.Flow) error) (Result, error) {
	res := Result{Kind: kind, Unit: unit, Passed: map[string]int64{}}
	b := newBatcher(o, emit)
	for {
		if err := ctx.Err(); err != nil {
			return res, err
		}
		var rerr error
		b.buf, rerr = read(b.buf, o.BatchSize-len(b.buf))
		if err := b.flush(rerr != nil); err != nil {
			return res, err
		}
		if rerr != nil {
			count(&res)
			res.Records = b.n
			if rerr == io.EOF {
				return res, nil
			}
			return res, rerr
		}
	}
}

func decodeCSV(ctx context.Context, name string, br *bufio.Reader, o Options, emit func([]record.Flow) error) (Result, error) {
	res := Result{Kind: "csv", Unit: "lines"}
	cr := NewCSVReader(br, name, o.Loc)
	defer cr.Close()
	cr.Warn = func(e *LineError) { o.Warn("line", e.Line, e.Err) }
	for {
		if err := ctx.Err(); err != nil {
			return res, err
		}
		recs, err := cr.Next()
		res.Skipped = cr.Skipped()
		if err == io.EOF {
			return res, nil
		}
		if err != nil {
			return res, err
		}
		for len(recs) > 0 {
			k := min(len(recs), o.BatchSize)
			res.Records += int64(k)
			if err := emit(recs[:k]); err != nil {
				return res, err
			}
			recs = recs[k:]
		}
	}
}

// batcher collects records and hands them on in batches.
type batcher struct {
	buf     []record.Flow
	size    int
	emit    func([]record.Flow) error
	handoff func([]record.Flow) ([]record.Flow, error) // see Options.Handoff
	n       int64
}

func newBatcher(o Options, emit func([]record.Flow) error) *batcher {
	return &batcher{size: o.BatchSize, emit: emit, handoff: o.Handoff, buf: ioformat.Touched(make([]record.Flow, o.BatchSize+64))[:0]}
}

func (b *batcher) flush(force bool) error {
	if len(b.buf) == 0 || (!force && len(b.buf) < b.size) {
		return nil
	}
	b.n += int64(len(b.buf))
	if b.handoff != nil {
		var err error
		b.buf, err = b.handoff(b.buf)
		return err
	}
	err := b.emit(b.buf)
	b.buf = b.buf[:0]
	return err
}

func decodeDatagrams(ctx context.Context, name string, br *bufio.Reader, o Options, emit func([]record.Flow) error) (Result, error) {
	res := Result{Kind: "datagrams", Unit: "packets"}
	d := o.exportDecoder(name)
	sf := sflow.New(filepath.Base(name))
	// sFlow samples carry no time, and a file of datagrams no receive
	// time: its records take the time they are read, as sfcapd's do.
	readNs := time.Now().UnixNano()
	b := newBatcher(o, emit)
	var pkt int64
	// Stream the file: each datagram is at most 64 KiB, so a window of a
	// few of them always holds the next one whole.
	const window = 256 << 10
	for {
		if err := ctx.Err(); err != nil {
			return res, err
		}
		data, err := br.Peek(window)
		if len(data) == 0 {
			if err != nil && err != io.EOF && err != bufio.ErrBufferFull {
				return res, err
			}
			break
		}
		pkt++
		var n int
		var derr error
		if len(data) >= 4 && binary.BigEndian.Uint32(data) == 5 { // sFlow v5 (NetFlow v5 starts 0x0005)
			var lerr error
			if n, lerr = sflow.Len(data); lerr != nil {
				n = len(data)
			}
			b.buf, derr = sf.Decode(netip.Addr{}, readNs, data[:n], b.buf)
			if derr == nil {
				derr = lerr
			}
		} else {
			var lerr error
			n, lerr = netflow.PacketLen(data)
			if n <= 0 || n > len(data) {
				n = len(data)
			}
			b.buf, derr = d.Decode(netip.Addr{}, data[:n], b.buf)
			if derr == nil {
				derr = lerr
			}
		}
		if derr != nil {
			res.Skipped++
			o.Warn("packet", pkt, derr)
		}
		br.Discard(n)
		if err := b.flush(false); err != nil {
			return res, err
		}
	}
	if o.Exports == nil {
		res.DroppedSets = int64(d.Flush())
	}
	res.Stats = d.Stats
	res.SFlow = sf.Stats
	err := b.flush(true)
	res.Records = b.n
	return res, err
}

// looksLikeExport reports whether a UDP payload has a plausible NetFlow v5,
// v9 or IPFIX header and first set, or is an sFlow v5 datagram.
func looksLikeExport(p []byte) bool {
	if len(p) < 16 {
		return false
	}
	if sflow.Is(p) {
		return true
	}
	switch binary.BigEndian.Uint16(p) {
	case 5:
		c := int(binary.BigEndian.Uint16(p[2:]))
		return c >= 1 && c <= 30 && len(p) >= 24+48*c
	case 9:
		if len(p) < 24 {
			return false
		}
		id, l := binary.BigEndian.Uint16(p[20:]), int(binary.BigEndian.Uint16(p[22:]))
		return (id <= 1 || id >= 256) && l >= 4 && 20+l <= len(p)
	case 10:
		if len(p) < 20 || int(binary.BigEndian.Uint16(p[2:])) > len(p) {
			return false
		}
		id, l := binary.BigEndian.Uint16(p[16:]), int(binary.BigEndian.Uint16(p[18:]))
		return (id == 2 || id == 3 || id >= 256) && l >= 4 && 16+l <= len(p)
	}
	return false
}

// minExportHint is how many export-like datagrams to a port outside the
// --ports make decode suggest that port.
const minExportHint = 3

// detectFrames is how many frames of a capture are looked at to decide
// whether it holds exports.
const detectFrames = 2000

type heldDatagram struct {
	frame int64
	tsNs  int64
	src   netip.Addr
	port  uint16
	data  []byte
}

func decodeCapture(ctx context.Context, name string, br *bufio.Reader, o Options, emit func([]record.Flow) error) (res Result, err error) {
	res = Result{Kind: "exports", Unit: "packets"}
	src, err := pcap.NewSource(br, name)
	if err != nil {
		return res, fmt.Errorf("reading capture: %w", err)
	}
	unwrap := tunnel.New()
	src.SetUnwrapper(unwrap)
	defer func() { res.Tunnels = unwrap.Stats }()
	isPort := func(p uint16) bool { return slices.Contains(o.Ports, int(p)) }
	// next returns the next UDP datagram to an export port (nil for other
	// frames), counting malformed frames.
	next := func() (*pcap.Packet, error) {
		p, err := src.Next()
		if err != nil {
			return nil, err
		}
		switch {
		case p.Status == pcap.Malformed:
			res.Skipped++
			o.Warn("packet", p.Frame, p.Err)
		case p.Status == pcap.OK && p.Proto == pcap.ProtoUDP && isPort(p.DstPort):
			return p, nil
		}
		return nil, nil
	}
	// Decide what the capture holds from its first frames, keeping the
	// datagrams read meanwhile, and assembling flows from them in case it
	// holds raw traffic.
	var held []heldDatagram
	exports := o.From == "exports"
	var readErr error
	asm := NewAssembler(filepath.Base(name), o.Assemble)
	b := newBatcher(o, emit)
	if o.From == "packets" {
		return assemble(ctx, src, asm, b, res, o)
	}
	auto := o.From == "" || o.From == "auto"
	if auto || exports {
		elsewhere := map[uint16]int{} // export-like datagrams to other ports
		found := exportPorts{}        // what the datagrams to other ports are
		frames, listed := 0, false    // listed: exports to the --ports
		for i := 0; i < detectFrames && !listed; i++ {
			p, err := src.Next()
			if err != nil {
				readErr = err
				break
			}
			if p.Status == pcap.Malformed {
				res.Skipped++
				o.Warn("packet", p.Frame, p.Err)
				continue
			}
			if p.Status != pcap.OK {
				continue
			}
			frames++
			if auto {
				b.buf = asm.Add(p, b.buf)
			}
			if p.Proto != pcap.ProtoUDP {
				continue
			}
			if isPort(p.DstPort) {
				held = append(held, heldDatagram{p.Frame, p.TsNs, p.Src, p.DstPort, append([]byte(nil), p.Payload...)})
				listed = !auto || looksLikeExport(p.Payload)
				continue
			}
			if looksLikeExport(p.Payload) {
				elsewhere[p.DstPort]++
			}
			if found.add(p.DstPort, p.Payload) {
				held = append(held, heldDatagram{p.Frame, p.TsNs, p.Src, p.DstPort, append([]byte(nil), p.Payload...)})
			}
		}
		exports = listed
		if ports := found.ports(frames, !auto); !listed && len(ports) > 0 {
			// Exports to ports outside the --ports, by their content.
			exports, res.ExportPort = true, ports[0]
			o.Ports = append(slices.Clip(o.Ports), ports...)
		}
		held = slices.DeleteFunc(held, func(h heldDatagram) bool { return !isPort(h.port) })
		if !exports && !auto {
			exports = true // said so: the datagrams to the --ports, if any come
		}
		if !exports {
			best := minExportHint - 1
			for port, n := range elsewhere {
				if n > best || n == best && int(port) < res.ExportPort {
					best, res.ExportPort = n, int(port)
				}
			}
			// Raw traffic: go on assembling (the records so far are kept).
			if readErr != nil {
				return finishAssembly(src, asm, b, res, readErr, o)
			}
			return assemble(ctx, src, asm, b, res, o)
		}
		b.buf = b.buf[:0] // exports: what assembly made of them is dropped
	}
	dec := o.exportDecoder(name)
	sf := sflow.New(filepath.Base(name))
	defer func() { res.SFlow = sf.Stats }()
	one := func(frame, tsNs int64, srcAddr netip.Addr, port uint16, payload []byte) {
		if len(payload) >= 4 && binary.BigEndian.Uint32(payload) == 5 { // sFlow v5 (NetFlow v5 starts 0x0005)
			var err error
			if b.buf, err = sf.Decode(srcAddr, tsNs, payload, b.buf); err != nil {
				res.Skipped++
				o.Warn("packet", frame, err)
			}
			return
		}
		// A datagram may hold several export packets back to back (nfdump
		// reads them all; some exporters and replays send them so).
		for len(payload) > 0 {
			n, lerr := netflow.PacketLen(payload)
			if n <= 0 || n > len(payload) {
				n = len(payload)
			}
			var derr error
			b.buf, derr = dec.Decode(srcAddr, payload[:n], b.buf)
			if derr == nil && lerr != nil && lerr != netflow.ErrVersion {
				derr = lerr
			}
			if derr != nil {
				res.Skipped++
				o.Warn("packet", frame, derr)
				return
			}
			if binary.BigEndian.Uint16(payload) != 5 {
				return // v9 and IPFIX: one message per datagram
			}
			payload = payload[n:]
			if len(payload) < 4 || !looksLikeExport(payload) {
				return // padding or trailing bytes
			}
		}
	}
	for _, h := range held {
		one(h.frame, h.tsNs, h.src, h.port, h.data)
	}
	held = nil
	for readErr == nil {
		if err := ctx.Err(); err != nil {
			return res, err
		}
		p, err := next()
		if err != nil {
			readErr = err
			break
		}
		if p != nil {
			one(p.Frame, p.TsNs, p.Src, p.DstPort, p.Payload)
			if err := b.flush(false); err != nil {
				return res, err
			}
		}
	}
	if o.Exports == nil {
		res.DroppedSets = int64(dec.Flush())
	}
	res.Stats = dec.Stats
	if err := b.flush(true); err != nil {
		return res, err
	}
	res.Records = b.n
	var ce *pcap.CaptureError
	if errors.As(readErr, &ce) {
		// A truncated capture: what was read is kept, the rest is skipped.
		res.Skipped++
		o.Warn("packet", ce.Frame, ce.Err)
	} else if readErr != io.EOF {
		return res, readErr
	}
	return res, nil
}

func (o *Options) exportDecoder(name string) *netflow.Decoder {
	if o.Exports == nil {
		return netflow.New(filepath.Base(name))
	}
	o.Exports.StartInput(filepath.Base(name))
	return o.Exports
}

// liveTick is how often a live capture's flows look at the wall clock: a
// quarter of the shortest timeout, between 100 ms and 1 s. The wall clock
// is taken a tick behind, and a tick is longer than a packet waits in a
// live capture's buffers when none follows it (package live: 60 ms), so no
// flow is ended before a packet of its that is on its way.
func liveTick(o AssembleOptions) time.Duration {
	o = o.withDefaults()
	return min(max(min(o.IdleTimeout, o.FinTimeout)/4, 100*time.Millisecond), time.Second)
}

// assemble builds flows from the rest of a capture of raw traffic.
func assemble(ctx context.Context, src *pcap.Source, asm *Assembler, b *batcher, res Result, o Options) (Result, error) {
	if o.readAhead != nil {
		o.readAhead.Start()
		src.ReadBlocks(o.readAhead)
	}
	batches, quit := parsePackets(src)
	defer close(quit)
	var tick <-chan time.Time
	if o.tick > 0 {
		t := time.NewTicker(o.tick)
		defer t.Stop()
		tick = t.C
	}
	var readErr error
	quiet := false // no packet since the last tick
	for {
		var pb *packetBatch
		select {
		case pb = <-batches:
		case now := <-tick:
			if quiet {
				// A whole tick without a packet: time is the wall
				// clock's, a tick behind (see liveTick).
				b.buf = asm.Advance(now.Add(-o.tick).UnixNano(), b.buf)
			}
			quiet = true
			if len(b.buf) > 0 {
				if err := b.flush(true); err != nil {
					return res, err
				}
				if o.Idle != nil {
					if err := o.Idle(); err != nil {
						return res, err
					}
				}
			}
			continue
		}
		if pb == nil {
			break // the source ended
		}
		quiet = false
		if err := ctx.Err(); err != nil {
			return res, err
		}
		for _, m := range pb.bad { // they count in no flow: warned of first
			res.Skipped++
			o.Warn("packet", m.frame, m.err)
		}
		asm.batch = pb.tunnels
		for i := range pb.pkts {
			b.buf = asm.add(&pb.pkts[i], b.buf)
			if err := b.flush(false); err != nil {
				return res, err
			}
		}
		asm.batch = nil // pb's, handed back
		readErr = pb.err
		pb.free <- pb
	}
	return finishAssembly(src, asm, b, res, readErr, o)
}

type malformed struct {
	frame int64
	err   error
}

// packetBatch is packets parsed ahead, the malformed frames among them,
// and the error that ended the capture (io.EOF at its end) in the last
// batch.
type packetBatch struct {
	pkts    []packet
	tunnels []tunnelEntry // the tunnels of pkts inside tunnels
	bad     []malformed
	err     error
	free    chan *packetBatch
}

// addTunneled appends p, a packet inside tunnels, and its tunnels' entry
// if it is not the last one's.
func (pb *packetBatch) addTunneled(p *pcap.Packet, text *pcap.TunnelText) {
	e := newTunnelEntry(p.Tunnels, text)
	if n := len(pb.tunnels); n == 0 || pb.tunnels[n-1] != e {
		pb.tunnels = append(pb.tunnels, e)
	}
	pb.pkts = pb.pkts[:len(pb.pkts)+1]
	q := &pb.pkts[len(pb.pkts)-1]
	q.set(p)
	q.setTunnel(&e, len(pb.tunnels))
}

// parsePackets reads and parses src on a goroutine of its own, handing on
// in batches what the flow table needs, so that parsing the capture
// overlaps counting flows. Closing quit stops it.
func parsePackets(src *pcap.Source) (<-chan *packetBatch, chan<- struct{}) {
	const inFlight, batchPackets = 4, 1024
	batches := make(chan *packetBatch, inFlight)
	free := make(chan *packetBatch, inFlight)
	for range inFlight {
		free <- &packetBatch{pkts: make([]packet, 0, batchPackets), free: free}
	}
	quit := make(chan struct{})
	go func() {
		defer close(batches)
		var tunText pcap.TunnelText
		for {
			var pb *packetBatch
			select {
			case pb = <-free:
			case <-quit:
				return
			}
			pb.pkts, pb.bad, pb.tunnels = pb.pkts[:0], pb.bad[:0], pb.tunnels[:0]
			for len(pb.pkts)+len(pb.bad) < batchPackets {
				p, err := src.Next()
				if err != nil {
					pb.err = err
					break
				}
				switch p.Status {
				case pcap.OK:
					if len(p.Tunnels) > 0 { // tested first: p is not needed after set
						pb.addTunneled(p, &tunText)
						break
					}
					pb.pkts = pb.pkts[:len(pb.pkts)+1]
					pb.pkts[len(pb.pkts)-1].set(p)
				case pcap.Malformed:
					pb.bad = append(pb.bad, malformed{p.Frame, p.Err})
				}
				if src.Drained() {
					break // the next read may wait on a live capture: hand these on now
				}
			}
			select {
			case batches <- pb:
			case <-quit:
				return
			}
			if pb.err != nil {
				return
			}
		}
	}()
	return batches, quit
}

func finishAssembly(src *pcap.Source, asm *Assembler, b *batcher, res Result, readErr error, o Options) (Result, error) {
	res.Kind = "packets"
	b.buf = asm.Flush(b.buf)
	if err := b.flush(true); err != nil {
		return res, err
	}
	res.Records = b.n
	res.Assembly = asm.Stats
	var ce *pcap.CaptureError
	if errors.As(readErr, &ce) {
		res.Skipped++
		o.Warn("packet", ce.Frame, ce.Err)
	} else if readErr != io.EOF {
		return res, readErr
	}
	return res, nil
}
