package flow

import (
	"encoding/binary"
	"net/netip"
	"slices"
	"time"

	"github.com/spot-hunt/spot/internal/decode/flowrec"
	"github.com/spot-hunt/spot/internal/decode/pcap"
	"github.com/spot-hunt/spot/internal/record"
)

// AssembleOptions tune flow assembly from packets. The defaults are
// nfpcapd's: 300 s active, 60 s idle timeout.
type AssembleOptions struct {
	ActiveTimeout time.Duration // a flow longer than this is cut (0: 300 s)
	IdleTimeout   time.Duration // a flow quiet this long ends (0: 60 s)
	MaxFlows      int           // flows held at once; the stalest is ended when full (0: 1<<20)
	// FinTimeout is how long a TCP flow lingers after a RST, or after FINs
	// from both sides, for the last ACKs and retransmissions (0: 5 s).
	FinTimeout time.Duration
}

func (o AssembleOptions) withDefaults() AssembleOptions {
	if o.ActiveTimeout <= 0 {
		o.ActiveTimeout = 300 * time.Second
	}
	if o.IdleTimeout <= 0 {
		o.IdleTimeout = 60 * time.Second
	}
	if o.MaxFlows <= 0 {
		o.MaxFlows = 1 << 20
	}
	if o.FinTimeout <= 0 {
		o.FinTimeout = 5 * time.Second
	}
	return o
}

// AssembleStats count what the assembler did.
type AssembleStats struct {
	Packets   int64 // IP packets counted into flows (a reassembled datagram is one)
	Flows     int64 // flow records written
	Evicted   int64 // flows ended early because the table was full
	Fragments int64 // fragments that made up reassembled datagrams
}

// flowKey is a flow's 5-tuple in the direction of its first packet. For
// ICMP, as nfdump, the source port is 0 and the destination port is
// type*256+code. Inside a tunnel whose id names a virtual network (a VXLAN
// or Geneve VNI, a GRE key: pcap.TunnelType.VNet), the innermost such
// network is part of the flow's identity, since the addresses of two
// virtual networks may be the same; other tunnel layers are not (a flow's
// two directions often travel in different tunnels: GTP's two TEIDs,
// VXLAN's source ports). The key holds only a 16-bit tag of the network,
// in the bytes the struct's alignment leaves free: a plain packet's key and
// flow state are no larger for it (flows from packets at their speed
// before tunnels). The network itself is in the flow's tunnel entry, beside
// the table, and compared when tags are equal.
type flowKey struct {
	src, dst [16]byte
	sport    uint16
	dport    uint16
	proto    uint8
	v4       bool
	vnet     uint16 // vnetTag of the virtual network (0: none)
}

// vnetTag is the key's tag of a virtual network: never 0.
func vnetTag(kind pcap.TunnelType, id uint32) uint16 {
	if t := uint16(id) ^ uint16(id>>16) ^ uint16(kind)<<12; t != 0 {
		return t
	}
	return 1
}

// direction tells whether k is o's direction (fwd) or its reverse, or
// neither.
func (k *flowKey) direction(o *flowKey) (same, fwd bool) {
	if k.proto != o.proto || k.v4 != o.v4 || k.vnet != o.vnet {
		return false, false
	}
	if k.src == o.src && k.dst == o.dst && k.sport == o.sport && k.dport == o.dport {
		return true, true
	}
	return k.src == o.dst && k.dst == o.src && k.sport == o.dport && k.dport == o.sport, false
}

type flowState struct {
	key                      flowKey
	first, last              int64
	pkts, byts, rpkts, rbyts int64
	flags                    uint8
	tos                      uint8
	ended                    bool  // RST, or FIN from both sides, seen
	fins                     uint8 // 1: FIN from the initiator, 2: from the responder
	tunneled                 bool  // its first packet came in a tunnel: see Assembler.tunnels
	prev, next               *flowState
	hash                     uint64     // of key, in the table
	hnext                    *flowState // next in the table's bucket
}

// tunnelEntry is what carried a packet, or a flow's first packet: the text
// of its tunnels, and the virtual network its addresses belong to, if any.
type tunnelEntry struct {
	text  string
	vkind pcap.TunnelType // 0: none
	vnet  uint32
}

func newTunnelEntry(ts []pcap.Tunnel, text *pcap.TunnelText) tunnelEntry {
	e := tunnelEntry{text: text.String(ts)}
	for i := len(ts) - 1; i >= 0; i-- {
		if t := &ts[i]; t.HasID && t.Type.VNet() {
			e.vkind, e.vnet = t.Type, t.ID
			break
		}
	}
	return e
}

// Assembler builds bidirectional flows from packets: one record per flow,
// its initiator (the first packet's source) in sip, packets and bytes (IP
// lengths) per direction, TCP flags of both directions OR'ed. A flow ends
// when idle too long, when active too long (it goes on in a new record), or
// when the table is full (the stalest is ended, and counted). A RST, or FINs
// from both sides, end a TCP flow: it lingers FinTimeout for the last ACKs,
// and a SYN on the same 5-tuple meanwhile starts a new flow.
type Assembler struct {
	Stats AssembleStats

	opts    AssembleOptions
	source  string
	table   flowTable
	last    *flowState // the flow of the previous packet: consecutive packets mostly share a flow
	head    flowState  // sentinel of the list of flows, least recently seen first
	fin     flowState  // sentinel of the list of ended (lingering) TCP flows
	free    []*flowState
	out     []record.Flow
	times   flowrec.Times
	addrs   flowrec.Addrs
	tunText pcap.TunnelText
	// tunnels holds the tunnel entries of the flows whose first packet
	// came in a tunnel: plain captures never touch it.
	tunnels map[*flowState]tunnelEntry
	batch   []tunnelEntry // the entries the tun fields of the packets added refer to
	now     int64
	pos     int64
	eid     *record.EIDer
}

// NewAssembler returns an assembler naming its input source in event ids.
func NewAssembler(source string, o AssembleOptions) *Assembler {
	a := &Assembler{opts: o.withDefaults(), source: source, table: newFlowTable(), eid: record.NewEIDer(source),
		tunnels: map[*flowState]tunnelEntry{}}
	a.head.prev, a.head.next = &a.head, &a.head
	a.fin.prev, a.fin.next = &a.fin, &a.fin
	return a
}

func (a *Assembler) unlink(f *flowState) {
	f.prev.next, f.next.prev = f.next, f.prev
	f.prev, f.next = nil, nil
}

// pushBack puts f last in its list: the lingering list once ended.
func (a *Assembler) pushBack(f *flowState) {
	l := &a.head
	if f.ended {
		l = &a.fin
	}
	f.prev, f.next = l.prev, l
	l.prev.next = f
	l.prev = f
}

// packet is what the flow table needs of a packet: a third of a
// pcap.Packet's size, and no pointers, so batches of them are cheap to
// hand from the goroutine parsing a capture to the one counting flows.
type packet struct {
	key   flowKey
	ts    int64
	ipLen int32
	frags int32 // fragments of a reassembled datagram (0: not reassembled)
	tos   uint8
	flags uint8 // TCP flags
	tun   int32 // its tunnels, if any: 1 + the index of their entry in the batch's list
}

// set takes what the flow table needs of p (Status OK), in place: the
// packet is built where it is stored.
func (q *packet) set(p *pcap.Packet) {
	k := &q.key
	k.proto = p.Proto
	if k.v4 = p.Src.Is4(); k.v4 {
		// As16's bytes, stored in place (As16 goes through the stack).
		s, d := p.Src.As4(), p.Dst.As4()
		binary.BigEndian.PutUint64(k.src[:8], 0)
		binary.BigEndian.PutUint64(k.src[8:], 0xffff<<32|uint64(binary.BigEndian.Uint32(s[:])))
		binary.BigEndian.PutUint64(k.dst[:8], 0)
		binary.BigEndian.PutUint64(k.dst[8:], 0xffff<<32|uint64(binary.BigEndian.Uint32(d[:])))
	} else {
		k.src, k.dst = p.Src.As16(), p.Dst.As16()
	}
	k.sport, k.dport = 0, 0
	switch p.Proto {
	case pcap.ProtoTCP, pcap.ProtoUDP, 132: // SCTP ports too, when the source gives them
		k.sport, k.dport = p.SrcPort, p.DstPort
	case pcap.ProtoICMP, pcap.ProtoICMPv6:
		k.dport = uint16(p.ICMPType)<<8 | uint16(p.ICMPCode)
	}
	q.ts, q.ipLen, q.tos, q.flags, q.frags = p.TsNs, int32(p.IPLen), p.TOS, 0, 0
	if p.Proto == pcap.ProtoTCP {
		q.flags = p.TCPFlags
	}
	if p.Reasm {
		q.frags = int32(p.Frags)
	}
	k.vnet, q.tun = 0, 0
}

// setTunnel marks q as carried by the tunnels of entry e, number n (1 +
// its index) in its batch's list.
func (q *packet) setTunnel(e *tunnelEntry, n int) {
	q.tun = int32(n)
	if e.vkind != 0 {
		q.key.vnet = vnetTag(e.vkind, e.vnet)
	}
}

// Add counts one packet (Status OK) into its flow; records of flows that
// ended are appended to out and returned.
func (a *Assembler) Add(p *pcap.Packet, out []record.Flow) []record.Flow {
	var q packet
	q.set(p)
	if len(p.Tunnels) == 0 {
		return a.add(&q, out)
	}
	e := []tunnelEntry{newTunnelEntry(p.Tunnels, &a.tunText)}
	q.setTunnel(&e[0], 1)
	a.batch = e
	return a.add(&q, out)
}

// add counts p into its flow; a.batch holds the tunnel entry its tun
// field refers to, if any.
func (a *Assembler) add(p *packet, out []record.Flow) []record.Flow {
	a.out = out
	if p.ts > a.now {
		a.now = p.ts
		a.expire()
	}
	k := &p.key
	// A datagram reassembled from fragments is one packet of its full
	// length, as nfpcapd counts it; its fragments are counted in Stats.
	a.Stats.Fragments += int64(p.frags)
	a.Stats.Packets++
	byts := int64(p.ipLen)
	f := a.last
	var same, fwd bool
	if f != nil {
		same, fwd = k.direction(&f.key)
	}
	var h uint64
	if k.vnet != 0 {
		f, fwd, h = a.findNet(p, f, same, fwd)
	} else if !same {
		h = a.table.hash(k)
		f, fwd = a.table.find(k, h)
	}
	if f != nil && (p.ts-f.first > int64(a.opts.ActiveTimeout) || (f.ended && p.flags&pcap.TCPSyn != 0)) {
		h = f.hash
		a.end(f) // active timeout, or a new connection on the same ports
		f, fwd = nil, true
	}
	if f == nil {
		if a.table.n >= a.opts.MaxFlows {
			if a.fin.next != &a.fin {
				a.end(a.fin.next) // a finished flow first: nothing is cut
			} else {
				a.Stats.Evicted++
				a.end(a.head.next)
			}
		}
		f, fwd = a.newState(), true
		f.key, f.first, f.tos = *k, p.ts, p.tos
		if p.tun > 0 {
			f.tunneled = true
			a.tunnels[f] = a.batch[p.tun-1]
		}
		a.table.insert(f, h)
		a.pushBack(f)
	} else if f.next != &a.head && f.next != &a.fin { // not already the latest
		a.unlink(f)
		a.pushBack(f)
	}
	a.last = f
	f.last = p.ts
	if fwd {
		f.pkts++
		f.byts += byts
	} else {
		f.rpkts++
		f.rbyts += byts
	}
	if k.proto == pcap.ProtoTCP {
		f.flags |= p.flags
		if p.flags&pcap.TCPFin != 0 {
			if fwd {
				f.fins |= 1
			} else {
				f.fins |= 2
			}
		}
		if !f.ended && (p.flags&pcap.TCPRst != 0 || f.fins == 3) {
			f.ended = true
			a.unlink(f)
			a.pushBack(f)
		}
	}
	return a.out
}

// findNet is add's lookup of p's flow in a virtual network, whose flows
// are told apart by the network, not its tag: last is the flow of the
// previous packet, and same and lastFwd what p's key is to its key.
func (a *Assembler) findNet(p *packet, last *flowState, same, lastFwd bool) (f *flowState, fwd bool, h uint64) {
	e := &a.batch[p.tun-1]
	if same && a.sameNet(last, e) {
		return last, lastFwd, 0
	}
	k := &p.key
	h = a.table.hash(k)
	f, fwd = a.table.findFunc(k, h, func(f *flowState) bool { return a.sameNet(f, e) })
	return f, fwd, h
}

// sameNet reports whether flow f, whose key's tag is a virtual network's,
// is in the network of entry e.
func (a *Assembler) sameNet(f *flowState, e *tunnelEntry) bool {
	t := a.tunnels[f]
	return t.vkind == e.vkind && t.vnet == e.vnet
}

func (a *Assembler) newState() *flowState {
	if n := len(a.free); n > 0 {
		f := a.free[n-1]
		a.free = a.free[:n-1]
		*f = flowState{}
		return f
	}
	return &flowState{}
}

// Advance moves the assembler's clock on to now (ns since the epoch) when
// it is behind, ending the flows whose idle or FIN timeouts have passed by
// then, as a packet of that time would; their records are appended to out.
// A live capture calls it when no packet has come for a while, so that a
// quiet interface's flows end on time rather than at the next packet.
func (a *Assembler) Advance(now int64, out []record.Flow) []record.Flow {
	a.out = out
	if now > a.now {
		a.now = now
		a.expire()
	}
	return a.out
}

// expire ends the flows idle for longer than the idle timeout.
func (a *Assembler) expire() {
	idle := int64(a.opts.IdleTimeout)
	for f := a.head.next; f != &a.head && a.now-f.last > idle; f = a.head.next {
		a.end(f)
	}
	linger := int64(a.opts.FinTimeout)
	for f := a.fin.next; f != &a.fin && a.now-f.last > linger; f = a.fin.next {
		a.end(f)
	}
}

func (a *Assembler) end(f *flowState) {
	a.unlink(f)
	a.table.remove(f)
	if a.last == f {
		a.last = nil
	}
	a.out = append(a.out, record.Flow{})
	r := &a.out[len(a.out)-1]
	k := &f.key
	src, dst := netip.AddrFrom16(k.src), netip.AddrFrom16(k.dst)
	if k.v4 {
		r.SIP = a.addrs.V4(binary.BigEndian.Uint32(k.src[12:]))
		r.DIP = a.addrs.V4(binary.BigEndian.Uint32(k.dst[12:]))
	} else {
		r.SIP, r.DIP = src.String(), dst.String()
	}
	r.SPort, r.DPort = int32(k.sport), int32(k.dport)
	r.Proto = flowrec.ProtoName(k.proto)
	r.Flag = flowrec.Flags(f.flags)
	r.STos = int32(f.tos)
	r.IPkt, r.IByt, r.OPkt, r.OByt = f.pkts, f.byts, f.rpkts, f.rbyts
	a.times.Set(r, f.first, f.last)
	r.Source = "packets"
	var t tunnelEntry
	if f.tunneled {
		t = a.tunnels[f]
		delete(a.tunnels, f)
		r.Tunnel = t.text
	}
	a.pos++
	var content [48]byte
	copy(content[:16], k.src[:])
	copy(content[16:32], k.dst[:])
	binary.BigEndian.PutUint16(content[32:], k.sport)
	binary.BigEndian.PutUint16(content[34:], k.dport)
	content[36] = k.proto
	content[37] = byte(t.vkind)
	binary.BigEndian.PutUint16(content[38:], uint16(t.vnet))
	binary.BigEndian.PutUint64(content[40:], uint64(f.first))
	r.EID = a.eid.EID(a.pos, content[:])
	a.Stats.Flows++
	a.free = append(a.free, f)
}

// Flush ends every flow still open (at the end of the input), in order of
// first packet, appending their records to out.
func (a *Assembler) Flush(out []record.Flow) []record.Flow {
	a.out = out
	var open []*flowState
	for f := a.head.next; f != &a.head; f = f.next {
		open = append(open, f)
	}
	for f := a.fin.next; f != &a.fin; f = f.next {
		open = append(open, f)
	}
	slices.SortStableFunc(open, func(x, y *flowState) int {
		switch {
		case x.first < y.first:
			return -1
		case x.first > y.first:
			return 1
		}
		return 0
	})
	for _, f := range open {
		a.end(f)
	}
	return a.out
}

// Open is the number of flows held.
func (a *Assembler) Open() int { return a.table.n }
