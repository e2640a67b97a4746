package tunnel

import (
	"encoding/binary"
	"errors"
	"fmt"
)

// The encapsulations' headers, read in place. Their error messages are
// gopacket's, whose layers these decoders replace (see doc.go).

var be = binary.BigEndian

// greHeader is what a GRE header (RFC 2784, 2890; version 1: PPTP's,
// RFC 2637) says.
type greHeader struct {
	version    uint8
	proto      uint16
	keyPresent bool
	seqPresent bool
	key        uint32
	payload    []byte
}

// maxGRERoutes bounds the source route entries read (as gopacket).
const maxGRERoutes = 1024

var errGRETruncated = errors.New("GRE packet truncated")

func parseGRE(b []byte) (g greHeader, err error) {
	if len(b) < 4 {
		return g, errors.New("GRE packet too small")
	}
	checksum, routing := b[0]&0x80 != 0, b[0]&0x40 != 0
	g.keyPresent, g.seqPresent = b[0]&0x20 != 0, b[0]&0x10 != 0
	g.version = b[1] & 7
	g.proto = be.Uint16(b[2:])
	// Only enhanced GRE (version 1) carries an acknowledgment number; in
	// version 0 the bit is reserved (RFC 2784 2.3).
	ack := g.version == 1 && b[1]&0x80 != 0
	off := 4
	if checksum || routing { // checksum and offset
		off += 4
	}
	if g.keyPresent {
		if len(b) < off+4 {
			return g, errGRETruncated
		}
		g.key = be.Uint32(b[off:])
		off += 4
	}
	if g.seqPresent {
		off += 4
	}
	if len(b) < off {
		return g, errGRETruncated
	}
	if routing {
		for n := 0; ; n++ {
			if len(b) < off+4 {
				return g, errGRETruncated
			}
			family, l := be.Uint16(b[off:]), int(b[off+3])
			if len(b) < off+4+l {
				return g, errGRETruncated
			}
			off += 4 + l
			if family == 0 && l == 0 {
				break
			}
			if n >= maxGRERoutes {
				return g, errors.New("GRE packet has too many source route entries")
			}
		}
	}
	if ack {
		if len(b) < off+4 {
			return g, errGRETruncated
		}
		off += 4
	}
	g.payload = b[off:]
	return g, nil
}

// erspan2 reads an ERSPAN type II header (version 1; 0, type I's, where a
// sequenced GRE carries one): its session and the frame after it.
func erspan2(b []byte) (session uint16, inner []byte, err error) {
	if len(b) < 8 {
		return 0, nil, errors.New("ERSPAN II header too short")
	}
	if v := b[0] >> 4; v > 1 {
		return 0, nil, fmt.Errorf("unsupported ERSPAN version: %d", v)
	}
	return be.Uint16(b[2:]) & 0x3ff, b[8:], nil
}

// vxlan reads a VXLAN header (RFC 7348): its VNI, if its I flag says the
// VNI is valid, and the Ethernet frame after it.
func vxlan(b []byte) (vni uint32, valid bool, inner []byte, err error) {
	if len(b) < 8 {
		return 0, false, nil, errors.New("vxlan packet too small")
	}
	return be.Uint32(b[4:]) >> 8, b[0]&0x08 != 0, b[8:], nil
}

// geneve reads a Geneve header (RFC 8926): its version, VNI, protocol and
// what follows its options.
func geneve(b []byte) (version uint8, vni uint32, proto uint16, inner []byte, err error) {
	if len(b) < 8 {
		return 0, 0, 0, nil, errors.New("geneve packet too short")
	}
	n := 8 + int(b[0]&0x3f)*4
	if len(b) < n {
		return 0, 0, 0, nil, errors.New("geneve packet too short")
	}
	for off := 8; off < n; { // each option: class, type, length in 4-byte words
		if len(b)-off < 4 || len(b)-off < 4+int(b[off+3]&0x1f)*4 {
			return 0, 0, 0, nil, errors.New("geneve option too small")
		}
		off += 4 + int(b[off+3]&0x1f)*4
	}
	return b[0] >> 6, be.Uint32(b[4:]) >> 8, be.Uint16(b[2:]), b[n:], nil
}

// gtpu reads a GTP-U version 1 header (3GPP TS 29.281 5.1): its TEID,
// message type and the message after its header and extension headers
// (bytes past the message's length are padding, left out).
func gtpu(b []byte) (teid uint32, typ uint8, msg []byte, err error) {
	if len(b) < 8 {
		return 0, 0, nil, fmt.Errorf("GTP packet too small: %d bytes", len(b))
	}
	typ, teid = b[1], be.Uint32(b[4:])
	end := 8 + int(be.Uint16(b[2:]))
	if len(b) < end {
		return 0, 0, nil, fmt.Errorf("GTP packet too small: %d bytes", len(b))
	}
	n := 8
	if b[0]&0x07 != 0 { // E, S or PN: sequence number, N-PDU number, next extension type
		n = 12
		if len(b) < n {
			return 0, 0, nil, fmt.Errorf("GTP packet too small: %d bytes", len(b))
		}
		// E says the next extension type is there; 0 in it means none
		// follows (TS 29.281 5.2.1).
		for b[0]&0x04 != 0 && b[n-1] != 0 {
			if n >= len(b) {
				return 0, 0, nil, fmt.Errorf("GTP packet too small: %d bytes", len(b))
			}
			l := int(b[n]) * 4 // in 4-byte units, its next type last
			if l == 0 {
				return 0, 0, nil, errors.New("GTP packet with invalid extension header")
			}
			if len(b) < n+l {
				return 0, 0, nil, fmt.Errorf("GTP packet with small extension header: %d bytes", len(b))
			}
			n += l
		}
	}
	if end < n {
		end = len(b)
	}
	return teid, typ, b[n:end], nil
}
