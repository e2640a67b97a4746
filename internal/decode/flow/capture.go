package flow

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net/netip"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
	"github.com/gopacket/gopacket/pcapgo"
)

// datagram is a UDP datagram found in a capture.
type datagram struct {
	frame            int64 // 1-based packet number in the capture
	tsNs             int64
	src, dst         netip.Addr
	srcPort, dstPort uint16
	payload          []byte
}

// packetReader is what both pcap and pcapng readers offer.
type packetReader interface {
	ZeroCopyReadPacketData() ([]byte, gopacket.CaptureInfo, error)
}

// captureSource hands out the UDP datagrams of a pcap or pcapng capture.
// (The export path needs only UDP; flows from packets use the shared packet
// source.) IP fragments are not reassembled: export datagrams above the path
// MTU are rare, and such a fragment is counted as not-UDP.
type captureSource struct {
	r     packetReader
	ng    *pcapgo.NgReader
	link  layers.LinkType
	frame int64
	d     datagram
}

// CaptureError is a capture that is corrupt or truncated from a frame on.
type CaptureError struct {
	Frame int64
	Err   error
}

func (e *CaptureError) Error() string {
	return fmt.Sprintf("capture unreadable after packet %d: %v", e.Frame, e.Err)
}
func (e *CaptureError) Unwrap() error { return e.Err }

// isCapture reports whether b starts with a pcap or pcapng magic number.
func isCapture(b []byte) bool {
	if len(b) < 4 {
		return false
	}
	switch binary.LittleEndian.Uint32(b) {
	case 0xa1b2c3d4, 0xd4c3b2a1, 0xa1b23c4d, 0x4d3cb2a1, 0x0a0d0d0a:
		return true
	}
	return false
}

func newCaptureSource(br *bufio.Reader) (*captureSource, error) {
	b, _ := br.Peek(4)
	if len(b) == 4 && binary.LittleEndian.Uint32(b) == 0x0a0d0d0a {
		ng, err := pcapgo.NewNgReader(br, pcapgo.DefaultNgReaderOptions)
		if err != nil {
			return nil, err
		}
		return &captureSource{r: ng, ng: ng, link: ng.LinkType()}, nil
	}
	r, err := pcapgo.NewReader(br)
	if err != nil {
		return nil, err
	}
	return &captureSource{r: r, link: r.LinkType()}, nil
}

// next returns the next UDP datagram (nil with ok=false for a frame that is
// not UDP or is truncated), io.EOF at the end, or a *CaptureError.
func (s *captureSource) next() (*datagram, bool, error) {
	data, ci, err := s.r.ZeroCopyReadPacketData()
	if err != nil {
		if err == io.EOF {
			return nil, false, io.EOF
		}
		return nil, false, &CaptureError{Frame: s.frame, Err: err}
	}
	s.frame++
	link := s.link
	if s.ng != nil {
		if i, err := s.ng.Interface(ci.InterfaceIndex); err == nil {
			link = i.LinkType
		}
	}
	d := &s.d
	*d = datagram{frame: s.frame, tsNs: ci.Timestamp.UnixNano()}
	ok := parseUDP(link, data, d)
	return d, ok, nil
}

var errNotUDP = errors.New("not UDP")

// parseUDP finds the UDP datagram in a frame of the given link type.
func parseUDP(link layers.LinkType, b []byte, d *datagram) bool {
	var et uint16
	switch link {
	case layers.LinkTypeEthernet:
		if len(b) < 14 {
			return false
		}
		et, b = binary.BigEndian.Uint16(b[12:]), b[14:]
	case layers.LinkTypeLinuxSLL:
		if len(b) < 16 {
			return false
		}
		et, b = binary.BigEndian.Uint16(b[14:]), b[16:]
	case 276: // Linux SLL2
		if len(b) < 20 {
			return false
		}
		et, b = binary.BigEndian.Uint16(b[0:]), b[20:]
	case layers.LinkTypeNull, layers.LinkTypeLoop:
		if len(b) < 4 {
			return false
		}
		b = b[4:]
		et = ipEtherType(b)
	case layers.LinkTypeRaw, 12, 14, 228, 229:
		et = ipEtherType(b)
	default:
		return false
	}
	for et == 0x8100 || et == 0x88a8 || et == 0x9100 { // VLAN tags
		if len(b) < 4 {
			return false
		}
		et, b = binary.BigEndian.Uint16(b[2:]), b[4:]
	}
	var proto uint8
	switch et {
	case 0x0800:
		if len(b) < 20 || b[0]>>4 != 4 {
			return false
		}
		ihl := int(b[0]&0x0f) * 4
		total := int(binary.BigEndian.Uint16(b[2:]))
		if ihl < 20 || len(b) < ihl || total < ihl {
			return false
		}
		if binary.BigEndian.Uint16(b[6:])&0x3fff != 0 { // a fragment
			return false
		}
		if total < len(b) {
			b = b[:total] // Ethernet padding
		}
		proto = b[9]
		d.src = netip.AddrFrom4([4]byte(b[12:16]))
		d.dst = netip.AddrFrom4([4]byte(b[16:20]))
		b = b[ihl:]
	case 0x86dd:
		if len(b) < 40 {
			return false
		}
		plen := int(binary.BigEndian.Uint16(b[4:]))
		proto = b[6]
		d.src = netip.AddrFrom16([16]byte(b[8:24]))
		d.dst = netip.AddrFrom16([16]byte(b[24:40]))
		b = b[40:]
		if plen < len(b) {
			b = b[:plen]
		}
		for proto == 0 || proto == 43 || proto == 60 { // hop-by-hop, routing, dest options
			if len(b) < 8 {
				return false
			}
			proto, b = b[0], b[min(len(b), 8+int(b[1])*8):]
		}
	default:
		return false
	}
	if proto != 17 || len(b) < 8 {
		return false
	}
	d.srcPort = binary.BigEndian.Uint16(b)
	d.dstPort = binary.BigEndian.Uint16(b[2:])
	ul := int(binary.BigEndian.Uint16(b[4:]))
	if ul >= 8 && ul < len(b) {
		b = b[:ul]
	}
	d.payload = b[8:]
	return true
}

func ipEtherType(b []byte) uint16 {
	if len(b) == 0 {
		return 0
	}
	switch b[0] >> 4 {
	case 4:
		return 0x0800
	case 6:
		return 0x86dd
	}
	return 0
}
