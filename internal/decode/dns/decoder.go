package dns

import (
	"fmt"
	"net/netip"
	"time"

	"github.com/spot-hunt/spot/internal/decode/pcap"
	"github.com/spot-hunt/spot/internal/ioformat"
	"github.com/spot-hunt/spot/internal/record"
)

// Options select what the decoder keeps.
type Options struct {
	Ports   []int // DNS ports (either end); default 53
	Queries bool  // also make records of queries (default: responses only)
	Answers bool  // fill record.DNS.Answers (every answer's data, as text)
	// ICMPQuotes also decodes the DNS messages that ICMP errors quote (as
	// tshark does): copies of datagrams that went undelivered, not
	// traffic of their own, so off by default.
	ICMPQuotes bool
}

// Bounds of the TCP reassembly state.
const (
	MaxConns      = 16384        // TCP half-connections followed at once
	MaxConnBuffer = 2 + 65535    // bytes held for one half-connection: one whole message
	MaxHeldBytes  = 32 << 20     // bytes of incomplete TCP messages held at once, all half-connections
	ConnIdle      = int64(300e9) // ns of capture time after which an idle half-connection is dropped
)

// Problem is one malformed DNS message (or packet) met by the decoder.
type Problem struct {
	Frame int64
	Err   error
	Kept  bool // a record was still written, with the fields before the error
}

func (p Problem) Error() string { return fmt.Sprintf("packet %d: %v", p.Frame, p.Err) }

type connKey struct {
	src, dst   netip.Addr
	sport, dpt uint16
}

type conn struct {
	buf     []byte
	nextSeq uint32
	synced  bool
	last    int64
	// after a missing segment: bytes up to skipTo belong to a message
	// that can't be completed
	skipping bool
	skipTo   uint32
}

// Decoder turns packets into DNS records.
type Decoder struct {
	opts   Options
	ports  [65536 / 64]uint64
	source string
	msg    Message
	conns  map[connKey]*conn
	order  []connRef // FIFO of connections by creation, for eviction
	head   int
	msgIdx int

	clock FrameTimes

	addrs    map[netip.Addr]string // text of recently seen addresses
	tunText  pcap.TunnelText
	quoteBuf []byte

	Evicted        int // half-connections dropped to keep the state bounded
	Messages       int // DNS messages read (records made, queries left out)
	QueriesLeftOut int // queries read but not written (Options.Queries unset)
	held           int // bytes held in conn buffers

	// Text, when set, keeps the strings of the records made (frame time,
	// names, answers) until its owner resets it, once their batch is
	// written; nil: each is allocated.
	Text *ioformat.Arena
}

type connRef struct {
	key connKey
	c   *conn
}

// NewDecoder returns a decoder; source names the input in event ids.
func NewDecoder(opts Options, source string) *Decoder {
	d := &Decoder{opts: opts, source: source, conns: make(map[connKey]*conn), addrs: make(map[netip.Addr]string)}
	ports := opts.Ports
	if len(ports) == 0 {
		ports = []int{53}
	}
	for _, p := range ports {
		if p >= 0 && p < 65536 {
			d.ports[p/64] |= 1 << (p % 64)
		}
	}
	return d
}

func (d *Decoder) isPort(p uint16) bool { return d.ports[p/64]&(1<<(p%64)) != 0 }

// Relevant reports whether a packet is DNS by its ports.
func (d *Decoder) Relevant(p *pcap.Packet) bool {
	return (p.Proto == pcap.ProtoUDP || p.Proto == pcap.ProtoTCP) && (d.isPort(p.SrcPort) || d.isPort(p.DstPort))
}

// Packet decodes the DNS messages of one packet (Status OK), appending a
// record per kept message to out. Malformed messages are returned as
// problems.
func (d *Decoder) Packet(p *pcap.Packet, out []record.DNS, problems []Problem) ([]record.DNS, []Problem) {
	if !d.Relevant(p) {
		if !d.opts.ICMPQuotes {
			return out, problems
		}
		if q, ok := icmpQuote(p); ok && (d.isPort(q.sport) || d.isPort(q.dport)) {
			return d.quoted(p, &q, out, problems)
		}
		return out, problems
	}
	d.msgIdx = 0
	if p.Proto == pcap.ProtoUDP {
		return d.message(p, p.Payload, "udp", out, problems)
	}
	return d.tcp(p, out, problems)
}

func (d *Decoder) message(p *pcap.Packet, msg []byte, transport string, out []record.DNS, problems []Problem) ([]record.DNS, []Problem) {
	d.msgIdx++
	d.msg.text = d.Text
	err := d.msg.Parse(msg, d.opts.Answers)
	if err != nil {
		pe := err.(*ParseError)
		if pe.Fatal() {
			return out, append(problems, Problem{Frame: p.Frame, Err: err})
		}
		problems = append(problems, Problem{Frame: p.Frame, Err: err, Kept: true})
	}
	m := &d.msg
	d.Messages++
	if !m.Response() && !d.opts.Queries {
		d.QueriesLeftOut++
		return out, problems
	}
	out = append(out, record.DNS{})
	r := &out[len(out)-1]
	var ft [48]byte
	r.FrameTime = d.Text.String(d.clock.Append(ft[:0], p.TsNs))
	r.UnixTstamp = floorDiv(p.TsNs, 1e9)
	r.FrameLen = int32(p.WireLen)
	r.IPDst = d.addrText(p.Dst)
	r.IPSrc = d.addrText(p.Src)
	r.ClientPort = int32(p.SrcPort)
	if m.Response() {
		r.ClientPort = int32(p.DstPort)
	}
	if m.HasQuestion {
		r.QryName = d.Text.String(m.QName)
		r.QryClass = hexClass(m.QClass)
		r.QryType = int32(m.QType)
	}
	if m.Response() {
		r.QryRcode = int32(m.Rcode())
	}
	r.A = d.Text.String(m.A)
	r.TsNs = p.TsNs
	r.ID = int32(m.ID)
	r.Response = m.Response()
	r.Transport = transport
	r.Answers = d.Text.Strings(m.Answers)
	r.ANCount = int32(m.ANCount)
	r.TTL = int64(m.TTL)
	r.Frame = p.Frame
	r.Tunnel = d.tunText.String(p.Tunnels)
	r.EID = record.EID(d.source, p.Frame<<8|int64(d.msgIdx&0xff), msg)
	return out, problems
}

// maxAddrCache bounds the address text cache.
const maxAddrCache = 8192

// addrText returns a's text, from a bounded cache (the same clients and
// servers recur).
func (d *Decoder) addrText(a netip.Addr) string {
	if s, ok := d.addrs[a]; ok {
		return s
	}
	if len(d.addrs) >= maxAddrCache {
		clear(d.addrs)
	}
	s := a.String()
	d.addrs[a] = s
	return s
}

func floorDiv(a, b int64) int64 {
	q := a / b
	if a%b != 0 && a < 0 {
		q--
	}
	return q
}

var hexDigits = "0123456789abcdef"

// HexClass is a question class as Spot writes it: 1 is 0x00000001.
func HexClass(c uint16) string { return hexClass(c) }

func hexClass(c uint16) string {
	if c == 1 {
		return "0x00000001"
	}
	var b [10]byte
	b[0], b[1] = '0', 'x'
	v := uint32(c)
	for i := 9; i >= 2; i-- {
		b[i] = hexDigits[v&15]
		v >>= 4
	}
	return string(b[:])
}

// FrameTimes formats times as tshark's frame.time in UTC:
// "Jan  4, 2017 04:41:06.337519000 UTC". The part up to the seconds is
// cached per second. The zero value is ready to use.
type FrameTimes struct {
	sec int64
	ok  bool
	pfx []byte
}

// Format formats ns, nanoseconds since the epoch.
func (c *FrameTimes) Format(ns int64) string {
	var b [64]byte
	return string(c.Append(b[:0], ns))
}

// Append appends ns, nanoseconds since the epoch, formatted, to dst.
func (c *FrameTimes) Append(dst []byte, ns int64) []byte {
	sec := floorDiv(ns, 1e9)
	frac := ns - sec*1e9
	if !c.ok || sec != c.sec {
		c.sec, c.ok = sec, true
		c.pfx = time.Unix(sec, 0).UTC().AppendFormat(c.pfx[:0], "Jan _2, 2006 15:04:05.")
	}
	dst = append(dst, c.pfx...)
	var f [9]byte
	for i := 8; i >= 0; i-- {
		f[i] = byte('0' + frac%10)
		frac /= 10
	}
	dst = append(dst, f[:]...)
	return append(dst, " UTC"...)
}

// tcp reassembles one direction of a TCP connection and decodes the
// length-prefixed messages it carries.
func (d *Decoder) tcp(p *pcap.Packet, out []record.DNS, problems []Problem) ([]record.DNS, []Problem) {
	k := connKey{p.Src, p.Dst, p.SrcPort, p.DstPort}
	c := d.conns[k]
	if p.TCPFlags&(pcap.TCPSyn|pcap.TCPRst) != 0 {
		if c != nil {
			d.drop(k, c)
			c = nil
		}
		if p.TCPFlags&pcap.TCPRst != 0 {
			return out, problems
		}
	}
	data := p.Payload
	if c == nil {
		if len(data) == 0 && p.TCPFlags&pcap.TCPSyn == 0 {
			return out, problems
		}
		d.expire(p.TsNs)
		c = &conn{}
		d.conns[k] = c
		d.order = append(d.order, connRef{k, c})
		if p.TCPFlags&pcap.TCPSyn != 0 {
			c.nextSeq = p.Seq + 1
			c.synced = true
		}
	}
	c.last = p.TsNs
	seq := p.Seq
	if p.TCPFlags&pcap.TCPSyn != 0 {
		seq++
	}
	if len(data) > 0 {
		if !c.synced { // connection seen without its SYN: start here
			c.nextSeq = seq
			c.synced = true
		}
		diff := int32(seq - c.nextSeq)
		switch {
		case diff < 0: // retransmission or overlap: keep only new bytes
			if int(-diff) >= len(data) {
				data = nil
			} else {
				data = data[-diff:]
			}
		case diff > 0:
			// A missing segment: the message it cut can't be completed.
			// When its length was seen, its end is known: resume there,
			// as Wireshark does; else try the next segment as is.
			if len(c.buf) >= 2 {
				end := c.nextSeq - uint32(len(c.buf)) + 2 + uint32(be.Uint16(c.buf))
				if int32(end-seq) > 0 {
					c.skipping, c.skipTo = true, end
				}
			}
			d.held -= len(c.buf)
			c.buf = c.buf[:0]
			c.nextSeq = seq
		}
		if c.skipping && len(data) > 0 {
			k := int(int32(c.skipTo - c.nextSeq))
			if k >= len(data) {
				c.nextSeq += uint32(len(data))
				data = nil
			} else {
				if k > 0 {
					data = data[k:]
					c.nextSeq += uint32(k)
				}
				c.skipping = false
			}
		}
		c.nextSeq += uint32(len(data)) // data now starts at the old nextSeq
		if len(data) > 0 {
			out, problems = d.frames(p, c, data, out, problems)
		}
	}
	if p.TCPFlags&pcap.TCPFin != 0 {
		d.drop(k, c)
	}
	return out, problems
}

// frames appends data to the half-connection's stream and decodes every
// complete length-prefixed message.
func (d *Decoder) frames(p *pcap.Packet, c *conn, data []byte, out []record.DNS, problems []Problem) ([]record.DNS, []Problem) {
	before := len(c.buf)
	defer func() {
		d.held += len(c.buf) - before
		if d.held > MaxHeldBytes {
			d.expire(p.TsNs)
		}
	}()
	buf := data
	if len(c.buf) > 0 {
		c.buf = append(c.buf, data...)
		buf = c.buf
	}
	for len(buf) >= 2 {
		n := int(be.Uint16(buf))
		if len(buf) < 2+n {
			break
		}
		out, problems = d.message(p, buf[2:2+n], "tcp", out, problems)
		buf = buf[2+n:]
	}
	if len(buf) > MaxConnBuffer {
		buf = nil
	}
	if len(buf) == 0 {
		c.buf = c.buf[:0]
		return out, problems
	}
	c.buf = append(c.buf[:0], buf...) // the incomplete rest (copy handles overlap)
	return out, problems
}

// expire drops idle half-connections and, over MaxConns, the oldest.
func (d *Decoder) expire(now int64) {
	for d.head < len(d.order) {
		ref := d.order[d.head]
		if d.conns[ref.key] != ref.c {
			d.head++
			continue
		}
		if now-ref.c.last > ConnIdle || len(d.conns) >= MaxConns || d.held > MaxHeldBytes {
			d.drop(ref.key, ref.c)
			d.Evicted++
			d.head++
			continue
		}
		break
	}
	if d.head > 1024 && d.head*2 > len(d.order) {
		d.order = append(d.order[:0], d.order[d.head:]...)
		d.head = 0
	}
}

func (d *Decoder) drop(k connKey, c *conn) {
	d.held -= len(c.buf)
	delete(d.conns, k)
}

// Conns is the number of TCP half-connections held.
func (d *Decoder) Conns() int { return len(d.conns) }
