package pcap

import (
	"fmt"
	"net/netip"
	"strconv"
)

// TunnelType names an encapsulation.
type TunnelType uint8

// The encapsulations an Unwrapper may report.
const (
	TunnelNone    TunnelType = iota
	TunnelGRE                // GRE (RFC 2784, 2890), over IP or UDP (RFC 8086)
	TunnelPPTP               // PPTP's enhanced GRE (version 1) carrying PPP
	TunnelERSPAN2            // ERSPAN type I or II, in GRE
	TunnelERSPAN3            // ERSPAN type III, in GRE
	TunnelVXLAN              // VXLAN (RFC 7348)
	TunnelGeneve             // Geneve (RFC 8926)
	TunnelGTP                // GTP-U version 1, user plane (3GPP TS 29.281)
	Tunnel4in4               // IPv4 in IPv4
	Tunnel6in4               // IPv6 in IPv4 (6in4, 6to4, ISATAP)
	Tunnel4in6               // IPv4 in IPv6
	Tunnel6in6               // IPv6 in IPv6
	TunnelTeredo             // IPv6 over UDP (RFC 4380)
	TunnelAYIYA              // Anything In Anything, IPv6 or IPv4 over UDP
	numTunnelTypes
)

var tunnelNames = [numTunnelTypes]string{"", "gre", "pptp", "erspan2", "erspan3", "vxlan", "geneve", "gtp",
	"4in4", "6in4", "4in6", "6in6", "teredo", "ayiya"}

// idNames label a tunnel's ID in its text, per type.
var idNames = [numTunnelTypes]string{TunnelGRE: "key", TunnelPPTP: "call", TunnelERSPAN2: "session",
	TunnelERSPAN3: "session", TunnelVXLAN: "vni", TunnelGeneve: "vni", TunnelGTP: "teid"}

func (t TunnelType) String() string {
	if t < numTunnelTypes {
		return tunnelNames[t]
	}
	return "tunnel(" + strconv.Itoa(int(t)) + ")"
}

// VNet reports whether the ID of a tunnel of this type names a virtual
// network, whose addresses may overlap another's: a VXLAN or Geneve VNI, a
// GRE key.
func (t TunnelType) VNet() bool {
	return t == TunnelVXLAN || t == TunnelGeneve || t == TunnelGRE
}

// Tunnel is one encapsulation around a packet: what carried it, between
// which outer addresses.
type Tunnel struct {
	Type             TunnelType
	HasID            bool
	SrcPort, DstPort uint16     // outer UDP ports (UDP encapsulations; else 0)
	ID               uint32     // VNI, GRE key, TEID, ERSPAN session, PPTP call id (HasID)
	Src, Dst         netip.Addr // outer addresses
}

// AppendText appends t as a tunnel column shows it:
// "vxlan 192.0.2.1:49152>192.0.2.2:4789 vni=42", "gre 10.0.0.1>10.0.0.2",
// "gtp 10.0.0.1:2152>10.0.0.2:2152 teid=0x0000abcd".
func (t *Tunnel) AppendText(b []byte) []byte {
	b = append(b, t.Type.String()...)
	b = append(b, ' ')
	b = appendEnd(b, t.Src, t.SrcPort)
	b = append(b, '>')
	b = appendEnd(b, t.Dst, t.DstPort)
	if t.HasID {
		b = append(b, ' ')
		b = append(b, idNames[t.Type%numTunnelTypes]...)
		b = append(b, '=')
		switch t.Type {
		case TunnelGRE, TunnelGTP:
			b = fmt.Appendf(b, "0x%08x", t.ID)
		default:
			b = strconv.AppendUint(b, uint64(t.ID), 10)
		}
	}
	return b
}

func appendEnd(b []byte, a netip.Addr, port uint16) []byte {
	if port == 0 {
		return a.AppendTo(b)
	}
	if a.Is6() {
		b = append(b, '[')
		b = a.AppendTo(b)
		b = append(b, ']')
	} else {
		b = a.AppendTo(b)
	}
	b = append(b, ':')
	return strconv.AppendUint(b, uint64(port), 10)
}

// AppendTunnels appends the text of a packet's tunnels, outermost first,
// separated by "; ".
func AppendTunnels(b []byte, ts []Tunnel) []byte {
	for i := range ts {
		if i > 0 {
			b = append(b, "; "...)
		}
		b = ts[i].AppendText(b)
	}
	return b
}

// TunnelText turns a packet's tunnels into text, remembering the text of
// recent ones: packets of one tunnel come together.
type TunnelText struct {
	cache [64]tunnelEntry
	buf   []byte
}

type tunnelEntry struct {
	n    int
	ts   [2]Tunnel
	text string
}

// String is the text of ts ("" when there are none).
func (c *TunnelText) String(ts []Tunnel) string {
	if len(ts) == 0 {
		return ""
	}
	if len(ts) > 2 {
		c.buf = AppendTunnels(c.buf[:0], ts)
		return string(c.buf)
	}
	t := &ts[len(ts)-1]
	h := uint32(t.ID) ^ uint32(t.SrcPort)<<7 ^ uint32(t.DstPort)<<3 ^ uint32(t.Type)
	if t.Src.Is4() {
		a := t.Src.As4()
		h ^= uint32(a[3])<<11 ^ uint32(a[2])<<13
	}
	e := &c.cache[(h^h>>6)%uint32(len(c.cache))]
	if e.n == len(ts) && e.ts[0] == ts[0] && (len(ts) == 1 || e.ts[1] == ts[1]) && e.text != "" {
		return e.text
	}
	c.buf = AppendTunnels(c.buf[:0], ts)
	e.n = len(ts)
	copy(e.ts[:], ts)
	e.text = string(c.buf)
	return e.text
}

// MaxTunnelDepth is how many encapsulations deep a packet is unwrapped.
// A packet nested deeper is returned as Malformed.
const MaxTunnelDepth = 8

// Unwrapper finds the packet that an encapsulating packet carries. Package
// tunnel has spot's.
type Unwrapper interface {
	// Unwrap is given a packet whose headers were parsed (Status OK) and
	// that may carry another: a UDP datagram, or IP protocol 4 (IPv4), 41
	// (IPv6) or 47 (GRE); the fast path does not ask about others. When
	// it is an encapsulation, ok is true and Unwrap returns its layer and
	// the inner frame, named by the ethertype of what it starts with
	// (EthertypeEthernet for an Ethernet frame, 0x0800 IPv4, 0x86dd IPv6,
	// EthertypePPP, 0x8847 MPLS...). err, with ok, says that the
	// encapsulation is broken (a truncated header, an inner frame of no
	// known type): its inner packet is then returned as Malformed. ok is
	// false for a packet that is no encapsulation.
	Unwrap(p *Packet) (t Tunnel, ethertype uint16, inner []byte, ok bool, err error)
}

// Ethertypes of inner frames that are not plain ethertypes of IP.
const (
	EthertypeEthernet = 0x6558 // transparent Ethernet bridging: an Ethernet frame
	EthertypePPP      = 0x880b // a PPP frame (PPTP)
)

// SetUnwrapper makes s unwrap encapsulations with u: after a packet that
// carries another (Packet.Carrier), Next returns the inner packet, of the
// same frame, its Tunnels naming the layers around it; then the packet
// inside that, if any, to MaxTunnelDepth.
func (s *Source) SetUnwrapper(u Unwrapper) { s.unwrap = u }

// unwrapPacket asks the Unwrapper whether p, parsed (Status OK), carries
// another packet, and if so holds it for the next call to Next. transport
// calls it for the packets that may (see Unwrapper): a TCP or ICMP packet
// takes no test for tunnels.
func (s *Source) unwrapPacket(p *Packet) {
	if s.unwrap == nil {
		return
	}
	t, et, inner, ok, err := s.unwrap.Unwrap(p)
	if !ok {
		return
	}
	p.Carrier = true
	depth := len(p.Tunnels)
	s.inner = innerFrame{ethertype: et, data: inner, err: err, depth: depth + 1}
	s.mode = modeInner
	if depth >= MaxTunnelDepth {
		s.inner.err = errTunnelDepth
		return
	}
	s.tunnels[depth] = t
}

var errTunnelDepth = malformed(fmt.Sprintf("tunnels nested more than %d deep", MaxTunnelDepth))

// innerFrame is a packet found inside the last one, returned next.
type innerFrame struct {
	ethertype uint16
	data      []byte
	err       error
	depth     int
}

// nextInner returns the packet held by unwrapPacket.
func (s *Source) nextInner() *Packet {
	in := s.inner
	s.inner, s.mode = innerFrame{}, s.input
	p := &s.pkt
	p.reset(p.Frame, p.TsNs, p.WireLen, p.LinkType, p.Data)
	p.Tunnels = s.tunnels[:min(in.depth, MaxTunnelDepth)]
	if in.err != nil {
		s.bad(p, in.err)
		return p
	}
	// network unwraps the packet inside this one, if any, in turn.
	switch b := in.data; {
	case in.ethertype != EthertypeEthernet:
		s.network(p, in.ethertype, b)
	case len(b) < 14:
		s.bad(p, errShortLink)
	default:
		s.network(p, be.Uint16(b[12:14]), b[14:])
	}
	if p.Status == Malformed {
		p.Err = malformed("inside " + p.Tunnels[len(p.Tunnels)-1].Type.String() + ": " + p.Err.Error())
	}
	return p
}
