package sflow

import (
	"encoding/binary"
	"errors"
	"fmt"
	"net/netip"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"

	"github.com/spot-hunt/spot/internal/decode/flowrec"
	"github.com/spot-hunt/spot/internal/record"
)

// Port is sFlow's UDP port.
const Port = 6343

// Stats count what a Decoder read.
type Stats struct {
	Datagrams      int64 // sFlow datagrams decoded
	FlowSamples    int64 // flow samples read
	CounterSamples int64 // counter samples: counted and skipped (they describe interfaces, not traffic)
	Records        int64 // flow records made
	// NoPacket counts flow samples with neither a sampled header nor a
	// sampled IPv4/IPv6 record, or whose header holds no IP packet (ARP,
	// LLDP...): they make no record.
	NoPacket int64
}

// Decoder turns sFlow v5 datagrams into flow records: one per flow sample,
// as nfdump's sfcapd makes them. It is not safe for concurrent use.
type Decoder struct {
	Stats Stats

	eid   *record.EIDer
	pos   int64
	times flowrec.Times
	addrs flowrec.Addrs
	dg    layers.SFlowDatagram
}

// New returns a Decoder naming its input source in event ids.
func New(source string) *Decoder {
	return &Decoder{eid: record.NewEIDer(source)}
}

// Is reports whether a UDP payload looks like an sFlow version 5 datagram:
// its version, a known agent address type and at least one sample of a
// known type whose length fits.
func Is(b []byte) bool {
	if len(b) < 28 || binary.BigEndian.Uint32(b) != 5 {
		return false
	}
	off := 8
	switch binary.BigEndian.Uint32(b[4:]) {
	case 1:
		off += 4
	case 2:
		off += 16
	default:
		return false
	}
	if len(b) < off+16+8 {
		return false
	}
	n := binary.BigEndian.Uint32(b[off+12:])
	off += 16
	typ, l := binary.BigEndian.Uint32(b[off:])&0xfff, binary.BigEndian.Uint32(b[off+4:])
	return n >= 1 && n <= 1<<16 && typ >= 1 && typ <= 4 && uint64(off)+8+uint64(l) <= uint64(len(b))
}

// Len is the length of the sFlow datagram at the start of b, found by
// walking its samples (a datagram states no length of its own): for files
// of datagrams written back to back.
func Len(b []byte) (int, error) {
	if len(b) < 8 || binary.BigEndian.Uint32(b) != 5 {
		return 0, errors.New("not an sFlow v5 datagram")
	}
	off := 8
	switch binary.BigEndian.Uint32(b[4:]) {
	case 1:
		off += 4
	case 2:
		off += 16
	default:
		return 0, fmt.Errorf("sFlow agent address type %d", binary.BigEndian.Uint32(b[4:]))
	}
	if len(b) < off+16 {
		return 0, errors.New("sFlow datagram header truncated")
	}
	n := binary.BigEndian.Uint32(b[off+12:])
	off += 16
	for i := uint32(0); i < n; i++ {
		if len(b) < off+8 {
			return 0, fmt.Errorf("sFlow sample %d of %d truncated", i+1, n)
		}
		l := uint64(binary.BigEndian.Uint32(b[off+4:]))
		if uint64(off)+8+l > uint64(len(b)) {
			return 0, fmt.Errorf("sFlow sample %d of %d truncated", i+1, n)
		}
		off += 8 + int(l)
	}
	return off, nil
}

// Decode decodes one datagram, sent by exporter and received at recvNs
// (ns since the Unix epoch: sFlow samples carry no time), appending a
// record per flow sample to out. On an error the datagram makes no record.
func (d *Decoder) Decode(exporter netip.Addr, recvNs int64, b []byte, out []record.Flow) (_ []record.Flow, err error) {
	defer func() {
		if r := recover(); r != nil { // gopacket's decoders are fuzzed, but not by us
			err = fmt.Errorf("sFlow datagram: decoder failed: %v", r)
		}
	}()
	dg := &d.dg
	if err := dg.DecodeFromBytes(b, gopacket.NilDecodeFeedback); err != nil {
		return out, fmt.Errorf("sFlow datagram: %w", err)
	}
	if dg.DatagramVersion != 5 {
		return out, fmt.Errorf("sFlow version %d (only 5 is read)", dg.DatagramVersion)
	}
	d.Stats.Datagrams++
	d.Stats.CounterSamples += int64(len(dg.CounterSamples))
	rip := ""
	if exporter.IsValid() {
		rip = exporter.Unmap().String()
	}
	for i := range dg.FlowSamples {
		s := &dg.FlowSamples[i]
		d.Stats.FlowSamples++
		var r record.Flow
		if !d.fill(&r, s) {
			d.Stats.NoPacket++
			continue
		}
		rate := int64(s.SamplingRate)
		if rate < 1 {
			rate = 1
		}
		r.IPkt *= rate
		r.IByt *= rate
		r.Sampling = int32(min(rate, 1<<31-1))
		r.Input, r.Output = int32(iface(s.InputInterface, s.Format)), int32(iface(s.OutputInterface, s.Format))
		r.RIP = rip
		r.Source = "sflow"
		d.times.Set(&r, recvNs, recvNs)
		d.pos++
		var content [28]byte
		copy(content[:16], dg.AgentAddress)
		binary.BigEndian.PutUint32(content[16:], dg.SubAgentID)
		binary.BigEndian.PutUint32(content[20:], dg.SequenceNumber)
		binary.BigEndian.PutUint32(content[24:], s.SequenceNumber)
		r.EID = d.eid.EID(d.pos, content[:])
		out = append(out, r)
		d.Stats.Records++
	}
	return out, nil
}

// iface is an interface index of a flow sample: in a compact sample its
// top two bits are a format, not part of the index.
func iface(v uint32, f layers.SFlowSampleType) uint32 {
	if f == layers.SFlowTypeFlowSample {
		return v & 0x3fffffff
	}
	return v
}

// fill sets r's addresses, ports, protocol, flags, TOS, one packet and its
// frame length from a flow sample's sampled header (decoded by gopacket),
// else from its sampled IPv4 or IPv6 record. It reports whether the
// sample described an IP packet.
func (d *Decoder) fill(r *record.Flow, s *layers.SFlowFlowSample) bool {
	var v4 *layers.SFlowIpv4Record
	var v6 *layers.SFlowIpv6Record
	for _, rec := range s.Records {
		switch rec := rec.(type) {
		case layers.SFlowRawPacketFlowRecord:
			if d.fromHeader(r, &rec) {
				return true
			}
		case layers.SFlowIpv4Record:
			v4 = &rec
		case layers.SFlowIpv6Record:
			v6 = &rec
		}
	}
	switch {
	case v4 != nil:
		src, _ := netip.AddrFromSlice(v4.IPSrc)
		dst, _ := netip.AddrFromSlice(v4.IPDst)
		d.setAddrs(r, src.Unmap(), dst.Unmap())
		d.setL4(r, uint8(v4.Protocol), uint16(v4.PortSrc), uint16(v4.PortDst), uint8(v4.TCPFlags))
		r.STos, r.IPkt, r.IByt = int32(uint8(v4.TOS)), 1, int64(v4.Length)
		return true
	case v6 != nil:
		src, _ := netip.AddrFromSlice(v6.IPSrc)
		dst, _ := netip.AddrFromSlice(v6.IPDst)
		d.setAddrs(r, src, dst)
		d.setL4(r, uint8(v6.Protocol), uint16(v6.PortSrc), uint16(v6.PortDst), uint8(v6.TCPFlags))
		r.STos, r.IPkt, r.IByt = int32(uint8(v6.Priority)), 1, int64(v6.Length)
		return true
	}
	return false
}

// fromHeader reads a sampled packet header: its outermost IP layer and
// the transport layer right after it, as sfcapd reads them.
func (d *Decoder) fromHeader(r *record.Flow, rec *layers.SFlowRawPacketFlowRecord) bool {
	pkt := rec.Header
	if pkt == nil {
		return false
	}
	switch rec.HeaderProtocol {
	case layers.SFlowProtoEthernet:
	case layers.SFlowProtoIPv4: // gopacket decodes every header as Ethernet
		pkt = gopacket.NewPacket(pkt.Data(), layers.LayerTypeIPv4, gopacket.Default)
	case layers.SFlowProtoIPv6:
		pkt = gopacket.NewPacket(pkt.Data(), layers.LayerTypeIPv6, gopacket.Default)
	default:
		return false
	}
	ls := pkt.Layers()
	for i, l := range ls {
		var proto uint8
		var payload []byte
		switch ip := l.(type) {
		case *layers.IPv4:
			src, _ := netip.AddrFromSlice(ip.SrcIP.To4())
			dst, _ := netip.AddrFromSlice(ip.DstIP.To4())
			d.setAddrs(r, src, dst)
			r.STos = int32(ip.TOS)
			proto, payload = uint8(ip.Protocol), ip.Payload
			if ip.FragOffset != 0 { // no transport header in this fragment
				r.Proto = flowrec.ProtoName(proto)
				r.Flag = flowrec.Flags(0)
				break
			}
			d.transport(r, proto, ls[i+1:], payload)
		case *layers.IPv6:
			src, _ := netip.AddrFromSlice(ip.SrcIP)
			dst, _ := netip.AddrFromSlice(ip.DstIP)
			d.setAddrs(r, src, dst)
			r.STos = int32(ip.TrafficClass)
			proto, payload = uint8(ip.NextHeader), ip.Payload
			next := ls[i+1:]
			// extension headers: the protocol is the last one's
			for len(next) > 0 {
				if x, ok := next[0].(*layers.IPv6HopByHop); ok {
					proto, payload, next = uint8(x.NextHeader), x.Payload, next[1:]
					continue
				}
				if x, ok := next[0].(*layers.IPv6Fragment); ok {
					proto = uint8(x.NextHeader)
					if x.FragmentOffset != 0 {
						payload = nil
					} else {
						payload = x.Payload
					}
					next = next[1:]
					continue
				}
				if x, ok := next[0].(*layers.IPv6Destination); ok {
					proto, payload, next = uint8(x.NextHeader), x.Payload, next[1:]
					continue
				}
				if x, ok := next[0].(*layers.IPv6Routing); ok {
					proto, payload, next = uint8(x.NextHeader), x.Payload, next[1:]
					continue
				}
				break
			}
			d.transport(r, proto, next, payload)
		default:
			continue
		}
		r.IPkt, r.IByt = 1, int64(rec.FrameLength)
		return true
	}
	return false
}

// transport sets ports and flags from the layer gopacket decoded after the
// IP layer or, when it did not (a header cut short), from the IP payload's
// first bytes.
func (d *Decoder) transport(r *record.Flow, proto uint8, next []gopacket.Layer, payload []byte) {
	var sport, dport uint16
	var flags uint8
	var l gopacket.Layer
	if len(next) > 0 {
		l = next[0]
	}
	switch t := l.(type) {
	case *layers.TCP:
		sport, dport = uint16(t.SrcPort), uint16(t.DstPort)
		flags = tcpFlags(t)
	case *layers.UDP:
		sport, dport = uint16(t.SrcPort), uint16(t.DstPort)
	case *layers.ICMPv4:
		dport = uint16(t.TypeCode)
	case *layers.ICMPv6:
		dport = uint16(t.TypeCode)
	default:
		switch {
		case (proto == 6 || proto == 17 || proto == 132) && len(payload) >= 4:
			sport, dport = binary.BigEndian.Uint16(payload), binary.BigEndian.Uint16(payload[2:])
			if proto == 6 && len(payload) >= 14 {
				flags = payload[13]
			}
		case (proto == 1 || proto == 58) && len(payload) >= 2:
			dport = binary.BigEndian.Uint16(payload)
		}
	}
	d.setL4(r, proto, sport, dport, flags)
}

func tcpFlags(t *layers.TCP) uint8 {
	var f uint8
	for i, set := range []bool{t.FIN, t.SYN, t.RST, t.PSH, t.ACK, t.URG, t.ECE, t.CWR} {
		if set {
			f |= 1 << i
		}
	}
	return f
}

func (d *Decoder) setAddrs(r *record.Flow, src, dst netip.Addr) {
	if src.Is4() && dst.Is4() {
		s, t := src.As4(), dst.As4()
		r.SIP, r.DIP = d.addrs.V4(binary.BigEndian.Uint32(s[:])), d.addrs.V4(binary.BigEndian.Uint32(t[:]))
		return
	}
	r.SIP, r.DIP = src.String(), dst.String()
}

// setL4 sets the protocol, ports and TCP flags, spot's way for every
// source: ICMP's type*256+code in dport, its sport 0.
func (d *Decoder) setL4(r *record.Flow, proto uint8, sport, dport uint16, flags uint8) {
	r.Proto = flowrec.ProtoName(proto)
	switch proto {
	case 6, 17, 132:
		r.SPort, r.DPort = int32(sport), int32(dport)
	case 1, 58:
		r.SPort, r.DPort = 0, int32(dport)
	default:
		r.SPort, r.DPort = 0, 0
	}
	if proto != 6 {
		flags = 0
	}
	r.Flag = flowrec.Flags(flags)
}
