package pcap

import (
	"encoding/binary"
	"errors"
	"net/netip"
)

var be, le = binary.BigEndian, binary.LittleEndian

// LinkType is the link-layer header type of a capture's frames, a
// LINKTYPE_ value of tcpdump.org (gopacket's layers.LinkType has the same
// values; importing that package for them cost every spot command its
// init and its 5 MB of tables, which each garbage collection scans).
type LinkType uint16

// The link types decode reads.
const (
	LinkNull     LinkType = 0   // BSD loopback, host-order family
	LinkEthernet LinkType = 1   // Ethernet II, 802.1Q/802.1ad VLANs, MPLS, PPPoE
	LinkPPP      LinkType = 9   // PPP
	LinkFDDI     LinkType = 10  // FDDI
	LinkPPPHDLC  LinkType = 50  // PPP in HDLC-like framing
	LinkRaw      LinkType = 101 // raw IPv4 or IPv6
	LinkLoop     LinkType = 108 // OpenBSD loopback, network-order family
	LinkLinuxSLL LinkType = 113 // Linux cooked capture v1
	linkRawBSD12 LinkType = 12  // DLT_RAW on some BSDs, found in pcap files
	linkRawBSD14 LinkType = 14  // DLT_RAW on OpenBSD
	linkIPv4     LinkType = 228 // LINKTYPE_IPV4
	linkIPv6     LinkType = 229 // LINKTYPE_IPV6
	linkNFLOG    LinkType = 239 // LINKTYPE_NFLOG
	linkSLL2     LinkType = 276 // LINKTYPE_LINUX_SLL2
)

type malformed string

func (m malformed) Error() string { return string(m) }

var (
	errShortLink   = malformed("link header truncated")
	errShortIPv4   = malformed("IPv4 header truncated")
	errBadIPv4     = malformed("IPv4 header invalid")
	errShortIPv6   = malformed("IPv6 header truncated")
	errShortExt    = malformed("IPv6 extension header truncated")
	errShortTCP    = malformed("TCP header truncated")
	errBadTCP      = malformed("TCP header length invalid")
	errShortUDP    = malformed("UDP header truncated")
	errShortICMP   = malformed("ICMP header truncated")
	errBadFragment = malformed("IP fragment invalid")
	errShortNFLOG  = malformed("NFLOG header truncated")
)

// IsMalformed reports whether err is a header problem reported in
// Packet.Err (as opposed to an I/O error).
func IsMalformed(err error) bool {
	var m malformed
	return errors.As(err, &m)
}

// decode parses p's frame (p.Data, of link type p.LinkType).
func (s *Source) decode(p *Packet) {
	b := p.Data
	var ethertype uint16
	switch link := p.LinkType; link {
	case LinkEthernet:
		if len(b) < 14 {
			s.bad(p, errShortLink)
			return
		}
		ethertype, b = be.Uint16(b[12:14]), b[14:]
	case LinkRaw, linkRawBSD12, linkRawBSD14:
		if len(b) == 0 {
			s.bad(p, errShortLink)
			return
		}
		if ethertype = ipEthertype(b[0]); ethertype == 0 {
			p.Status = NotIP
			return
		}
	case linkIPv4:
		ethertype = 0x0800
	case linkIPv6:
		ethertype = 0x86dd
	case LinkNull, LinkLoop:
		if len(b) < 4 {
			s.bad(p, errShortLink)
			return
		}
		var fam uint32
		if link == LinkLoop {
			fam = be.Uint32(b)
		} else {
			fam = binary.LittleEndian.Uint32(b)
			if fam > 0xffff { // written on a big-endian host
				fam = be.Uint32(b)
			}
		}
		b = b[4:]
		switch fam {
		case 2:
			ethertype = 0x0800
		case 10, 24, 28, 30:
			ethertype = 0x86dd
		default:
			p.Status = NotIP
			return
		}
	case LinkLinuxSLL:
		if len(b) < 16 {
			s.bad(p, errShortLink)
			return
		}
		ethertype, b = be.Uint16(b[14:16]), b[16:]
	case linkSLL2:
		if len(b) < 20 {
			s.bad(p, errShortLink)
			return
		}
		ethertype, b = be.Uint16(b[0:2]), b[20:]
	case linkNFLOG:
		var err error
		if ethertype, b, err = nflog(b); err != nil {
			s.bad(p, err)
			return
		}
	case LinkPPP, LinkPPPHDLC:
		var ok bool
		if ethertype, b, ok = ppp(b); !ok {
			s.bad(p, errShortLink)
			return
		}
	case LinkFDDI:
		// frame control, destination, source, then LLC/SNAP
		if len(b) < 21 {
			s.bad(p, errShortLink)
			return
		}
		if b[13] != 0xaa || b[14] != 0xaa || b[15] != 0x03 {
			p.Status = NotIP
			return
		}
		ethertype, b = be.Uint16(b[19:21]), b[21:]
	default:
		p.Status = NotIP
		return
	}
	switch ethertype { // IP right after the link header: no call to network
	case 0x0800:
		s.ipv4(p, b)
	case 0x86dd:
		s.ipv6(p, b)
	default:
		s.network(p, ethertype, b)
	}
}

// network parses b, which follows a link header naming it by ethertype
// (VLAN tags, MPLS labels and PPPoE in between).
func (s *Source) network(p *Packet, ethertype uint16, b []byte) {
	for {
		switch ethertype {
		case 0x0800:
			s.ipv4(p, b)
			return
		case 0x86dd:
			s.ipv6(p, b)
			return
		case 0x8100, 0x88a8, 0x9100, 0x9200, 0x9300: // 802.1Q, QinQ
			if len(b) < 4 {
				s.bad(p, errShortLink)
				return
			}
			ethertype, b = be.Uint16(b[2:4]), b[4:]
		case 0x8847, 0x8848: // MPLS: labels until bottom of stack
			for {
				if len(b) < 4 {
					s.bad(p, errShortLink)
					return
				}
				bos := b[2]&1 != 0
				b = b[4:]
				if bos {
					break
				}
			}
			if len(b) == 0 {
				s.bad(p, errShortLink)
				return
			}
			if ethertype = ipEthertype(b[0]); ethertype == 0 {
				p.Status = NotIP
				return
			}
		case 0x8864: // PPPoE session
			if len(b) < 8 {
				s.bad(p, errShortLink)
				return
			}
			n := int(be.Uint16(b[4:6]))
			ethertype = pppEthertype(be.Uint16(b[6:8]))
			b = b[8:]
			if n >= 2 && n-2 < len(b) {
				b = b[:n-2]
			}
		case EthertypePPP: // PPP, as PPTP's GRE carries it
			var ok bool
			if ethertype, b, ok = ppp(b); !ok {
				s.bad(p, errShortLink)
				return
			}
		default:
			if ethertype < 0x0600 { // 802.3 length: LLC/SNAP?
				if len(b) >= 8 && b[0] == 0xaa && b[1] == 0xaa && b[2] == 0x03 {
					ethertype, b = be.Uint16(b[6:8]), b[8:]
					continue
				}
			}
			p.Status = NotIP
			return
		}
	}
}

// ppp strips a PPP header: the address and control bytes if present, and
// the protocol, of one byte when compressed (RFC 1661 6.5).
func ppp(b []byte) (ethertype uint16, rest []byte, ok bool) {
	if len(b) >= 2 && b[0] == 0xff && b[1] == 0x03 {
		b = b[2:]
	}
	switch {
	case len(b) >= 1 && b[0]&1 != 0: // compressed protocol field
		return pppEthertype(uint16(b[0])), b[1:], true
	case len(b) >= 2:
		return pppEthertype(be.Uint16(b)), b[2:], true
	}
	return 0, nil, false
}

func pppEthertype(proto uint16) uint16 {
	switch proto {
	case 0x0021:
		return 0x0800
	case 0x0057:
		return 0x86dd
	}
	return 0xffff
}

// nflog finds the packet payload TLV of an NFLOG record.
func nflog(b []byte) (uint16, []byte, error) {
	if len(b) < 4 {
		return 0, nil, errShortNFLOG
	}
	fam := b[0]
	b = b[4:]
	for len(b) >= 4 {
		// TLV lengths and types are in host byte order; captures are
		// little-endian in practice.
		l := int(binary.LittleEndian.Uint16(b[0:2]))
		t := binary.LittleEndian.Uint16(b[2:4])
		if l < 4 || l > len(b) {
			return 0, nil, errShortNFLOG
		}
		if t&0x7fff == 9 { // NFULA_PAYLOAD
			payload := b[4:l]
			switch {
			case fam == 2:
				return 0x0800, payload, nil
			case fam == 10:
				return 0x86dd, payload, nil
			case len(payload) > 0 && payload[0]>>4 == 4:
				return 0x0800, payload, nil
			case len(payload) > 0 && payload[0]>>4 == 6:
				return 0x86dd, payload, nil
			}
			return 0xffff, nil, nil
		}
		l = (l + 3) &^ 3
		if l > len(b) {
			break
		}
		b = b[l:]
	}
	return 0xffff, nil, nil
}

func (s *Source) bad(p *Packet, err error) {
	p.Status = Malformed
	p.Err = err
}

func (s *Source) ipv4(p *Packet, b []byte) {
	if len(b) < 20 {
		s.bad(p, errShortIPv4)
		return
	}
	ihl := int(b[0]&0x0f) * 4
	if b[0]>>4 != 4 || ihl < 20 {
		s.bad(p, errBadIPv4)
		return
	}
	if len(b) < ihl {
		s.bad(p, errShortIPv4)
		return
	}
	total := int(be.Uint16(b[2:4]))
	switch {
	case total == 0: // TSO: length left to the capture
		total = len(b)
	case total < ihl:
		s.bad(p, errBadIPv4)
		return
	case total < len(b): // link padding
		b = b[:total]
	}
	p.IPVer = 4
	p.TOS = b[1]
	p.TTL = b[8]
	p.Proto = b[9]
	p.FragID = uint32(be.Uint16(b[4:6]))
	p.Src = netip.AddrFrom4([4]byte(b[12:16]))
	p.Dst = netip.AddrFrom4([4]byte(b[16:20]))
	p.IPLen = total
	ff := be.Uint16(b[6:8])
	mf := ff&0x2000 != 0
	off := int(ff&0x1fff) * 8
	payload := b[ihl:]
	if mf || off != 0 {
		d, n, ok, err := s.frags.add(p, off, mf, payload)
		if err != nil {
			s.bad(p, err)
			return
		}
		if !ok {
			p.Status = Fragment
			return
		}
		p.Reasm, p.Frags = true, n
		p.IPLen = ihl + len(d)
		payload = d
	}
	s.transport(p, payload)
}

func (s *Source) ipv6(p *Packet, b []byte) {
	if len(b) < 40 {
		s.bad(p, errShortIPv6)
		return
	}
	if b[0]>>4 != 6 {
		s.bad(p, malformed("IPv6 version invalid"))
		return
	}
	plen := int(be.Uint16(b[4:6]))
	if plen != 0 && 40+plen < len(b) {
		b = b[:40+plen]
	}
	p.IPVer = 6
	p.TOS = byte(be.Uint16(b[0:2]) >> 4)
	p.TTL = b[7]
	p.Src = netip.AddrFrom16([16]byte(b[8:24]))
	p.Dst = netip.AddrFrom16([16]byte(b[24:40]))
	p.IPLen = len(b)
	nh := b[6]
	rest := b[40:]
	for {
		switch nh {
		case 0, 43, 60: // hop-by-hop, routing, destination options
			if len(rest) < 8 {
				s.bad(p, errShortExt)
				return
			}
			l := (int(rest[1]) + 1) * 8
			if l > len(rest) {
				s.bad(p, errShortExt)
				return
			}
			nh, rest = rest[0], rest[l:]
			continue
		case 51: // authentication header
			if len(rest) < 8 {
				s.bad(p, errShortExt)
				return
			}
			l := (int(rest[1]) + 2) * 4
			if l > len(rest) {
				s.bad(p, errShortExt)
				return
			}
			nh, rest = rest[0], rest[l:]
			continue
		case 44: // fragment
			if len(rest) < 8 {
				s.bad(p, errShortExt)
				return
			}
			fo := be.Uint16(rest[2:4])
			off := int(fo &^ 7)
			mf := fo&1 != 0
			p.FragID = be.Uint32(rest[4:8])
			p.Proto = rest[0]
			hdrLen := len(b) - len(rest) + 8
			payload := rest[8:]
			if !mf && off == 0 { // atomic fragment
				nh, rest = rest[0], payload
				continue
			}
			d, n, ok, err := s.frags.add(p, off, mf, payload)
			if err != nil {
				s.bad(p, err)
				return
			}
			if !ok {
				p.Status = Fragment
				return
			}
			p.Reasm, p.Frags = true, n
			p.IPLen = hdrLen + len(d)
			s.transport(p, d)
			return
		}
		break
	}
	p.Proto = nh
	s.transport(p, rest)
}

func (s *Source) transport(p *Packet, b []byte) {
	switch p.Proto {
	case ProtoUDP:
		if len(b) < 8 {
			s.bad(p, errShortUDP)
			return
		}
		p.SrcPort = be.Uint16(b[0:2])
		p.DstPort = be.Uint16(b[2:4])
		ulen := int(be.Uint16(b[4:6]))
		if ulen >= 8 && ulen <= len(b) {
			b = b[:ulen]
		}
		p.Payload = b[8:]
		p.Status = OK
		if s.unwrap != nil {
			s.unwrapPacket(p) // a UDP encapsulation?
		}
		return
	case ProtoTCP:
		if len(b) < 20 {
			s.bad(p, errShortTCP)
			return
		}
		p.SrcPort = be.Uint16(b[0:2])
		p.DstPort = be.Uint16(b[2:4])
		p.Seq = be.Uint32(b[4:8])
		p.Ack = be.Uint32(b[8:12])
		doff := int(b[12]>>4) * 4
		p.TCPFlags = b[13]
		if doff < 20 || doff > len(b) {
			s.bad(p, errBadTCP)
			return
		}
		p.Payload = b[doff:]
	case ProtoICMP, ProtoICMPv6:
		if len(b) < 4 {
			s.bad(p, errShortICMP)
			return
		}
		p.ICMPType, p.ICMPCode = b[0], b[1]
		p.Payload = b[4:]
	case 4, 41, 47: // IPv4, IPv6 or GRE in IP
		p.Payload = b
		p.Status = OK
		s.unwrapPacket(p)
		return
	default:
		p.Payload = b
	}
	p.Status = OK
}

// ipEthertype is the ethertype of an IP packet starting with byte v (its
// version nibble), for links without one; 0 when it is not IP.
func ipEthertype(v byte) uint16 {
	switch v >> 4 {
	case 4:
		return 0x0800
	case 6:
		return 0x86dd
	}
	return 0
}
