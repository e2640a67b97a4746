package dns

import (
	"net/netip"
	"strconv"

	"github.com/spot-hunt/spot/internal/decode/pcap"
	"github.com/spot-hunt/spot/internal/record"
)

// quote is the UDP datagram an ICMP error quotes: the packet that caused
// it, as far as the sender copied it.
type quote struct {
	src, dst     netip.Addr
	sport, dport uint16
	payload      []byte
}

// icmpQuote finds the UDP datagram an ICMP or ICMPv6 error message
// (unreachable, time exceeded, parameter problem; source quench and
// redirect for IPv4; packet too big for IPv6) quotes after its 8-byte
// header.
func icmpQuote(p *pcap.Packet) (q quote, ok bool) {
	switch {
	case p.Proto == pcap.ProtoICMP && (p.ICMPType == 3 || p.ICMPType == 4 || p.ICMPType == 5 || p.ICMPType == 11 || p.ICMPType == 12):
	case p.Proto == pcap.ProtoICMPv6 && p.ICMPType >= 1 && p.ICMPType <= 4:
	default:
		return q, false
	}
	b := p.Payload // after type, code and checksum: 4 more bytes, then the quote
	if len(b) < 4 {
		return q, false
	}
	b = b[4:]
	var proto byte
	switch {
	case p.Proto == pcap.ProtoICMP && len(b) >= 20 && b[0]>>4 == 4:
		ihl := int(b[0]&0x0f) * 4
		if ihl < 20 || len(b) < ihl || be.Uint16(b[6:8])&0x1fff != 0 { // not a first fragment: no UDP header
			return q, false
		}
		proto = b[9]
		q.src, q.dst = netip.AddrFrom4([4]byte(b[12:16])), netip.AddrFrom4([4]byte(b[16:20]))
		b = b[ihl:]
	case p.Proto == pcap.ProtoICMPv6 && len(b) >= 40 && b[0]>>4 == 6:
		proto = b[6]
		q.src, q.dst = netip.AddrFrom16([16]byte(b[8:24])), netip.AddrFrom16([16]byte(b[24:40]))
		b = b[40:]
	default:
		return q, false
	}
	if proto != pcap.ProtoUDP || len(b) < 8 {
		return q, false
	}
	q.sport, q.dport = be.Uint16(b[0:2]), be.Uint16(b[2:4])
	if n := int(be.Uint16(b[4:6])); n >= 8 && n < len(b) {
		b = b[:n]
	}
	q.payload = b[8:]
	return q, true
}

// quoted makes the record of a DNS message an ICMP error quotes, as
// tshark decodes it: its addresses and ports are the quoted datagram's,
// and its tunnel column ends with the ICMP error that carried it
// ("icmp 192.0.2.1>192.0.2.2 type=3 code=3"). A quote cut short before
// the end of the question makes no record, and is no malformed input: an
// ICMP error quotes as much of the datagram as its sender chose.
func (d *Decoder) quoted(p *pcap.Packet, q *quote, out []record.DNS, problems []Problem) ([]record.DNS, []Problem) {
	n := len(out)
	d.msgIdx = 0
	out, _ = d.message(p, q.payload, "udp", out, nil) // a quote cut short is no malformed input
	if len(out) == n {
		return out, problems
	}
	r := &out[n]
	r.IPSrc, r.IPDst = d.addrText(q.src), d.addrText(q.dst)
	r.ClientPort = int32(q.sport)
	if r.Response {
		r.ClientPort = int32(q.dport)
	}
	b := append(d.quoteBuf[:0], r.Tunnel...)
	if len(b) > 0 {
		b = append(b, "; "...)
	}
	b = append(b, "icmp "...)
	b = p.Src.AppendTo(b)
	b = append(b, '>')
	b = p.Dst.AppendTo(b)
	b = append(b, " type="...)
	b = strconv.AppendUint(b, uint64(p.ICMPType), 10)
	b = append(b, " code="...)
	b = strconv.AppendUint(b, uint64(p.ICMPCode), 10)
	d.quoteBuf = b
	r.Tunnel = string(b)
	return out, problems
}
