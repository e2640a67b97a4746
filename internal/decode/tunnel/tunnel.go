package tunnel

import (
	"encoding/binary"
	"errors"
	"fmt"
	"net/netip"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"

	"github.com/spot-hunt/spot/internal/decode/pcap"
)

// UDP ports of the UDP encapsulations.
const (
	PortVXLAN  = 4789
	PortGeneve = 6081
	PortGTPU   = 2152
	PortGREUDP = 4754 // GRE in UDP (RFC 8086)
	PortTeredo = 3544
	PortAYIYA  = 5072
)

// Ethertypes of what GRE carries, beyond IP and Ethernet.
const (
	ethertypeERSPAN2 = 0x88be // ERSPAN type II (type I without GRE sequence numbers)
	ethertypeERSPAN3 = 0x22eb
	ethertypeMPLS    = 0x8847
	ethertypeMPLSMC  = 0x8848
)

// Stats count what an Unwrapper met.
type Stats struct {
	// Unwrapped counts the packets found inside each type of tunnel.
	Unwrapped [16]int64
	// Undecoded counts encapsulations whose content spot does not decode
	// (GRE carrying 802.11 frames or another protocol, Geneve carrying
	// another protocol than Ethernet, IP or ARP): each is counted as the
	// outer packet it is, nothing more.
	Undecoded int64
	// UndecodedWhat names the first of them.
	UndecodedWhat string
	// Broken counts encapsulations with a truncated or invalid header, or
	// whose inner frame is cut short (the inner packet is reported as
	// malformed).
	Broken int64
}

// Unwrapper finds the packets inside encapsulations, with gopacket's
// layers (GRE, ERSPAN II, VXLAN, Geneve, GTP-U) and small decoders of
// spot's own (ERSPAN III, Teredo, AYIYA). It implements pcap.Unwrapper.
// It is not safe for concurrent use.
type Unwrapper struct {
	Stats Stats

	gre    layers.GRE
	erspan layers.ERSPANII
	vxlan  layers.VXLAN
	geneve layers.Geneve
	gtp    layers.GTPv1U
}

// New returns an Unwrapper.
func New() *Unwrapper { return &Unwrapper{} }

// Unwrap implements pcap.Unwrapper.
func (u *Unwrapper) Unwrap(p *pcap.Packet) (t pcap.Tunnel, ethertype uint16, inner []byte, ok bool, err error) {
	switch p.Proto {
	case pcap.ProtoUDP:
		if !isTunnelPort(p.DstPort) && !isTunnelPort(p.SrcPort) && !maybeTeredo(p.Payload) {
			return
		}
	case 4, 41, 47:
	default:
		return
	}
	defer func() {
		if r := recover(); r != nil { // gopacket's layers are fuzzed, but not by us
			ok, err = true, fmt.Errorf("%s header: decoder failed: %v", t.Type, r)
		}
		if ok {
			if err != nil {
				u.Stats.Broken++
			} else {
				u.Stats.Unwrapped[t.Type%16]++
			}
		}
	}()
	t.Src, t.Dst = p.Src, p.Dst
	switch p.Proto {
	case 4: // IPv4 in IPv4 or IPv6
		t.Type = pcap.Tunnel4in4
		if p.IPVer == 6 {
			t.Type = pcap.Tunnel4in6
		}
		return t, 0x0800, p.Payload, true, nil
	case 41: // IPv6 in IPv4 or IPv6
		t.Type = pcap.Tunnel6in4
		if p.IPVer == 6 {
			t.Type = pcap.Tunnel6in6
		}
		return t, 0x86dd, p.Payload, true, nil
	case 47:
		t.Type = pcap.TunnelGRE
		return u.unwrapGRE(t, p.Payload)
	}
	t.SrcPort, t.DstPort = p.SrcPort, p.DstPort
	// The destination port first: a reply from a tunnel port to another
	// service is that service's.
	for _, port := range [2]uint16{p.DstPort, p.SrcPort} {
		switch port {
		case PortVXLAN:
			return u.unwrapVXLAN(t, p.Payload)
		case PortGeneve:
			return u.unwrapGeneve(t, p.Payload)
		case PortGTPU:
			if t, et, in, ok, err := u.unwrapGTP(t, p.Payload); ok {
				return t, et, in, ok, err
			}
		case PortGREUDP:
			t.Type = pcap.TunnelGRE
			return u.unwrapGRE(t, p.Payload)
		case PortTeredo:
			if in, _, ok := teredo(p.Payload); ok {
				t.Type = pcap.TunnelTeredo
				return t, 0x86dd, in, true, nil
			}
		case PortAYIYA:
			if et, in, ok := ayiya(p.Payload); ok {
				t.Type = pcap.TunnelAYIYA
				return t, et, in, true, nil
			}
		}
	}
	// Teredo between a client and a relay is on any ports: recognised by
	// its content, as Zeek's DPD signature finds it, an IPv6 packet of
	// exactly the datagram's length, after a Teredo indication or to or
	// from a Teredo address (2001:0::/32).
	if in, indicated, ok := teredo(p.Payload); ok && (indicated || teredoAddr(in)) {
		t.Type = pcap.TunnelTeredo
		return t, 0x86dd, in, true, nil
	}
	return pcap.Tunnel{}, 0, nil, false, nil
}

// UDPPorts are the ports of the UDP encapsulations (Teredo is also found
// on other ports, by its content).
var UDPPorts = []int{PortVXLAN, PortGeneve, PortGTPU, PortGREUDP, PortTeredo, PortAYIYA}

var tunnelPorts = func() (b [65536 / 64]uint64) {
	for _, p := range UDPPorts {
		b[p/64] |= 1 << (p % 64)
	}
	return b
}()

func isTunnelPort(p uint16) bool { return tunnelPorts[p/64]&(1<<(p%64)) != 0 }

func (u *Unwrapper) undecoded(what string) {
	u.Stats.Undecoded++
	if u.Stats.UndecodedWhat == "" {
		u.Stats.UndecodedWhat = what
	}
}

// unwrapGRE reads a GRE header (over IP, or over UDP) and what it carries.
func (u *Unwrapper) unwrapGRE(t pcap.Tunnel, b []byte) (pcap.Tunnel, uint16, []byte, bool, error) {
	g := &u.gre
	if err := g.DecodeFromBytes(b, gopacket.NilDecodeFeedback); err != nil {
		return t, 0, nil, true, fmt.Errorf("GRE header: %w", err)
	}
	payload := g.LayerPayload()
	proto := uint16(g.Protocol)
	switch g.Version {
	case 0:
		if g.KeyPresent {
			t.ID, t.HasID = g.Key, true
		}
	case 1: // PPTP's enhanced GRE: the key holds the payload length and the call id
		t.Type = pcap.TunnelPPTP
		if g.KeyPresent {
			t.ID, t.HasID = g.Key&0xffff, true
			if n := int(g.Key >> 16); n <= len(payload) {
				payload = payload[:n]
			}
		}
		if proto != pcap.EthertypePPP {
			return t, 0, nil, true, fmt.Errorf("PPTP GRE carrying protocol 0x%04x, not PPP", proto)
		}
		if len(payload) == 0 { // an acknowledgement only: nothing inside
			return pcap.Tunnel{}, 0, nil, false, nil
		}
		return t, proto, payload, true, nil
	default:
		return t, 0, nil, true, fmt.Errorf("GRE version %d", g.Version)
	}
	switch proto {
	case 0x0800, 0x86dd, ethertypeMPLS, ethertypeMPLSMC, pcap.EthertypeEthernet, pcap.EthertypePPP:
		return t, proto, payload, true, nil
	case ethertypeERSPAN2:
		t.Type, t.HasID, t.ID = pcap.TunnelERSPAN2, false, 0
		if !g.SeqPresent { // type I: no ERSPAN header
			return t, pcap.EthertypeEthernet, payload, true, nil
		}
		e := &u.erspan
		if err := e.DecodeFromBytes(payload, gopacket.NilDecodeFeedback); err != nil {
			return t, 0, nil, true, fmt.Errorf("ERSPAN header: %w", err)
		}
		t.ID, t.HasID = uint32(e.SessionID), true
		return t, pcap.EthertypeEthernet, e.LayerPayload(), true, nil
	case ethertypeERSPAN3:
		t.Type, t.HasID, t.ID = pcap.TunnelERSPAN3, false, 0
		session, et, in, err := erspan3(payload)
		if err != nil {
			return t, 0, nil, true, err
		}
		t.ID, t.HasID = uint32(session), true
		return t, et, in, true, nil
	}
	u.undecoded(fmt.Sprintf("GRE carrying protocol 0x%04x", proto))
	return pcap.Tunnel{}, 0, nil, false, nil
}

// erspan3 reads an ERSPAN type III header: its session and the frame it
// carries.
func erspan3(b []byte) (session uint16, ethertype uint16, inner []byte, err error) {
	if len(b) < 12 {
		return 0, 0, nil, errors.New("ERSPAN III header truncated")
	}
	if v := b[0] >> 4; v != 2 {
		return 0, 0, nil, fmt.Errorf("ERSPAN version %d in a type III header", v)
	}
	session = binary.BigEndian.Uint16(b[2:4]) & 0x3ff
	ft := b[10] >> 2 & 0x1f
	n := 12
	if b[11]&1 != 0 { // O: a platform-specific subheader follows
		n += 8
	}
	if len(b) < n {
		return 0, 0, nil, errors.New("ERSPAN III platform subheader truncated")
	}
	switch ft {
	case 0:
		return session, pcap.EthertypeEthernet, b[n:], nil
	case 2:
		if len(b) > n && b[n]>>4 == 6 {
			return session, 0x86dd, b[n:], nil
		}
		return session, 0x0800, b[n:], nil
	}
	return 0, 0, nil, fmt.Errorf("ERSPAN III frame type %d", ft)
}

func (u *Unwrapper) unwrapVXLAN(t pcap.Tunnel, b []byte) (pcap.Tunnel, uint16, []byte, bool, error) {
	t.Type = pcap.TunnelVXLAN
	v := &u.vxlan
	if err := v.DecodeFromBytes(b, gopacket.NilDecodeFeedback); err != nil {
		return t, 0, nil, true, fmt.Errorf("VXLAN header: %w", err)
	}
	if v.ValidIDFlag {
		t.ID, t.HasID = v.VNI, true
	}
	return t, pcap.EthertypeEthernet, v.LayerPayload(), true, nil
}

func (u *Unwrapper) unwrapGeneve(t pcap.Tunnel, b []byte) (pcap.Tunnel, uint16, []byte, bool, error) {
	t.Type = pcap.TunnelGeneve
	g := &u.geneve
	if err := g.DecodeFromBytes(b, gopacket.NilDecodeFeedback); err != nil {
		return t, 0, nil, true, fmt.Errorf("Geneve header: %w", err)
	}
	if g.Version != 0 {
		return t, 0, nil, true, fmt.Errorf("Geneve version %d", g.Version)
	}
	t.ID, t.HasID = g.VNI, true
	// The header's length, from its own field: gopacket's offset is a byte
	// and wraps past 255 bytes of options.
	payload := b[8+int(b[0]&0x3f)*4:]
	switch et := uint16(g.Protocol); et {
	case pcap.EthertypeEthernet, 0x0800, 0x86dd:
		return t, et, payload, true, nil
	case 0x0806: // ARP: no IP packet inside
		return pcap.Tunnel{}, 0, nil, false, nil
	default:
		u.undecoded(fmt.Sprintf("Geneve carrying protocol 0x%04x", et))
		return pcap.Tunnel{}, 0, nil, false, nil
	}
}

// unwrapGTP reads a GTP-U header. Only G-PDUs (message type 255) carry a
// user's packet; other messages (echo, error indication, end marker) are
// the tunnel's own. A datagram that is no GTP version 1 at all is not a
// tunnel: ok is false.
func (u *Unwrapper) unwrapGTP(t pcap.Tunnel, b []byte) (pcap.Tunnel, uint16, []byte, bool, error) {
	if len(b) < 8 || b[0]>>5 != 1 || b[0]&0x10 == 0 {
		return t, 0, nil, false, nil
	}
	t.Type = pcap.TunnelGTP
	g := &u.gtp
	if err := g.DecodeFromBytes(b, gopacket.NilDecodeFeedback); err != nil {
		return t, 0, nil, true, fmt.Errorf("GTP-U header: %w", err)
	}
	t.ID, t.HasID = g.TEID, true
	if g.MessageType != 255 { // the tunnel's own messages: nothing inside
		return pcap.Tunnel{}, 0, nil, false, nil
	}
	payload := g.LayerPayload()
	// Bytes past the message's length (padding) are not the packet's.
	if end := 8 + int(g.MessageLength) - len(g.LayerContents()); end >= 0 && end < len(payload) {
		payload = payload[:end]
	}
	if len(payload) == 0 {
		return t, 0, nil, true, errors.New("GTP-U G-PDU without a packet")
	}
	switch payload[0] >> 4 {
	case 4:
		return t, 0x0800, payload, true, nil
	case 6:
		return t, 0x86dd, payload, true, nil
	}
	return t, 0, nil, true, fmt.Errorf("GTP-U G-PDU carrying IP version %d", payload[0]>>4)
}

// maybeTeredo is a quick look at a UDP payload on another port than
// Teredo's: could it be an IPv6 packet, or one of Teredo's indications?
func maybeTeredo(b []byte) bool {
	return len(b) >= 40 && (b[0]>>4 == 6 || b[0] == 0 && b[1] <= 1)
}

// teredo reads a Teredo datagram (RFC 4380 5.1.1): optional authentication
// and origin indications (indicated: one was there), then an IPv6 packet
// whose payload length is the rest of the datagram (as Zeek checks it).
func teredo(b []byte) (inner []byte, indicated, ok bool) {
	if len(b) >= 2 && b[0] == 0 && b[1] == 1 { // authentication
		if len(b) < 4 {
			return nil, false, false
		}
		n := 4 + int(b[2]) + int(b[3]) + 8 + 1
		if len(b) < n {
			return nil, false, false
		}
		b, indicated = b[n:], true
	}
	if len(b) >= 2 && b[0] == 0 && b[1] == 0 { // origin indication
		if len(b) < 8 {
			return nil, false, false
		}
		b, indicated = b[8:], true
	}
	if len(b) < 40 || b[0]>>4 != 6 || int(binary.BigEndian.Uint16(b[4:6])) != len(b)-40 {
		return nil, false, false
	}
	return b, indicated, true
}

var teredoPrefix = netip.MustParsePrefix("2001::/32")

// teredoAddr reports whether an IPv6 packet is to or from a Teredo address.
func teredoAddr(b []byte) bool {
	src, dst := netip.AddrFrom16([16]byte(b[8:24])), netip.AddrFrom16([16]byte(b[24:40]))
	return teredoPrefix.Contains(src) || teredoPrefix.Contains(dst)
}

// ayiya reads an AYIYA header (Anything In Anything, as SixXS used it): a
// forwarded (opcode 1) IPv6 or IPv4 packet.
func ayiya(b []byte) (uint16, []byte, bool) {
	if len(b) < 8 {
		return 0, nil, false
	}
	n := 8 + 1<<(b[0]>>4) + int(b[1]>>4)*4
	if len(b) < n || b[2]&0x0f != 1 {
		return 0, nil, false
	}
	switch b[3] {
	case 41:
		return 0x86dd, b[n:], true
	case 4:
		return 0x0800, b[n:], true
	}
	return 0, nil, false
}
