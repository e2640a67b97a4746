package pcap

import (
	"errors"
	"fmt"
	"io"
	"time"
)

// pcapng, read block by block from the same window as classic pcap's
// records: a packet's bytes are not copied out. It reads what gopacket's
// pcapgo.NgReader reads, as that reader returns them (timestamps, link
// types per interface, snap lengths, sections), and TestNgMatchesGopacket
// and FuzzSource hold it to that; it is lenient where NgReader fails on
// blocks that do not make packets (statistics, names, secrets, options of
// a packet).

// pcapng block types.
const (
	ngSection    = 0x0a0d0d0a
	ngInterface  = 1
	ngOldPacket  = 2
	ngSimple     = 3
	ngEnhanced   = 6
	ngByteOrder  = 0x1a2b3c4d
	maxNgPacket  = 32 + maxRecord + 4096 // a packet block's bytes, options included
	ngSkipStride = 64 << 10              // bytes skipped at a time past a big block
	maxNgIfaces  = 1 << 16               // interfaces held: a file of nothing else must not exhaust memory
)

// ngIface is an interface description: its link type, snap length and
// timestamp units (ts/mask seconds after offset, the rest scaled to ns).
type ngIface struct {
	link                   LinkType
	snap                   uint32
	mask, up, down, offset uint64
}

var zeroTimeNs = time.Time{}.UnixNano() // a simple packet's timestamp, as gopacket gives it

// ngStart reads the section header a pcapng file starts with.
func (s *Source) ngStart() error {
	s.mode, s.input = modeNg, modeNg
	if err := s.fill(12); err != nil {
		return noEOF(err)
	}
	if s.u32(s.win[0:4]) != ngSection {
		return fmt.Errorf("unknown magic %x", s.win[0:4])
	}
	_, _, err := s.ngBlock()
	return err
}

// ngNext reads blocks until a packet's.
func (s *Source) ngNext() (data []byte, tsNs int64, wireLen int, link LinkType, err error) {
	for {
		typ, b, err := s.ngBlock()
		if err != nil {
			return nil, 0, 0, 0, err
		}
		var iface uint32
		var caplen, origlen uint32
		var ts uint64
		hdr := 28
		switch typ {
		case ngEnhanced, ngOldPacket:
			if len(b) < 32 {
				return nil, 0, 0, 0, fmt.Errorf("packet block of %d bytes", len(b))
			}
			if typ == ngEnhanced {
				iface = s.u32(b[8:12])
			} else {
				iface = uint32(s.u16(b[8:10]))
			}
			ts = uint64(s.u32(b[12:16]))<<32 | uint64(s.u32(b[16:20]))
			caplen, origlen = s.u32(b[20:24]), s.u32(b[24:28])
		case ngSimple:
			if len(b) < 16 {
				return nil, 0, 0, 0, fmt.Errorf("simple packet block of %d bytes", len(b))
			}
			if len(s.ifaces) == 0 {
				return nil, 0, 0, 0, errors.New("a simple packet block before any interface")
			}
			hdr, origlen = 12, s.u32(b[8:12])
			caplen = origlen
			if snap := s.ifaces[0].snap; snap != 0 && caplen > snap {
				caplen = snap
			}
		default: // sections and interfaces (applied), blocks skipped
			continue
		}
		if int(iface) >= len(s.ifaces) {
			return nil, 0, 0, 0, fmt.Errorf("interface %d not in the section (it has %d)", iface, len(s.ifaces))
		}
		if uint64(caplen) > uint64(len(b)-hdr-4) {
			return nil, 0, 0, 0, fmt.Errorf("packet of %d bytes in a block of %d", caplen, len(b))
		}
		f := &s.ifaces[iface]
		if typ == ngSimple {
			tsNs = zeroTimeNs
		} else { // as time.Unix(sec, ns).UnixNano() of gopacket's seconds and ns
			tsNs = int64(ts/f.mask+f.offset)*1e9 + int64(ts%f.mask*f.up/f.down)
		}
		return b[hdr : hdr+int(caplen) : hdr+int(caplen)], tsNs, int(origlen), f.link, nil
	}
}

// ngBlock takes the next block off the window: its type and bytes (nil
// for a block skipped for its size); a section header or an interface
// description is applied. It returns io.EOF at the end of the input.
func (s *Source) ngBlock() (typ uint32, b []byte, err error) {
	if len(s.win) < 12 {
		if err := s.fill(12); err != nil {
			if err == io.EOF && len(s.win) == 0 {
				return 0, nil, io.EOF
			}
			return 0, nil, fmt.Errorf("truncated block header: %w", noEOF(err))
		}
	}
	if typ = s.u32(s.win[0:4]); typ == ngSection { // the same in either byte order
		switch {
		case be.Uint32(s.win[8:12]) == ngByteOrder:
			s.swap = true
		case le.Uint32(s.win[8:12]) == ngByteOrder:
			s.swap = false
		default:
			return 0, nil, errors.New("section header: byte-order magic invalid")
		}
	}
	n := uint64(s.u32(s.win[4:8]))
	if n < 12 {
		return 0, nil, fmt.Errorf("block of %d bytes", n)
	}
	if n > maxNgPacket {
		if typ == ngEnhanced || typ == ngOldPacket || typ == ngSimple || typ == ngSection || typ == ngInterface {
			return 0, nil, fmt.Errorf("block of %d bytes exceeds %d", n, maxNgPacket)
		}
		return typ, nil, s.skip(int(n))
	}
	if len(s.win) < int(n) {
		if err := s.fill(int(n)); err != nil {
			return 0, nil, fmt.Errorf("truncated block (%d of %d bytes): %w", len(s.win), n, noEOF(err))
		}
	}
	b = s.win[:n:n]
	s.win = s.win[n:]
	s.used += int(n)
	switch typ {
	case ngSection:
		if len(b) < 28 {
			return 0, nil, fmt.Errorf("section header of %d bytes", len(b))
		}
		if major, minor := s.u16(b[12:14]), s.u16(b[14:16]); major != 1 || minor != 0 {
			return 0, nil, fmt.Errorf("section of version %d.%d (only 1.0 is read)", major, minor)
		}
		s.ifaces = s.ifaces[:0]
	case ngInterface:
		if len(b) < 20 {
			return 0, nil, fmt.Errorf("interface description of %d bytes", len(b))
		}
		if len(s.ifaces) >= maxNgIfaces {
			return 0, nil, fmt.Errorf("more than %d interfaces in a section", maxNgIfaces)
		}
		if err := s.ngInterface(b); err != nil {
			return 0, nil, err
		}
	}
	return typ, b, nil
}

// ngInterface adds the interface block b describes.
func (s *Source) ngInterface(b []byte) error {
	f := ngIface{link: LinkType(s.u16(b[8:10])), snap: s.u32(b[12:16])}
	var res uint8
	for o := b[16 : len(b)-4]; len(o) >= 4; {
		code, n := s.u16(o[0:2]), int(s.u16(o[2:4]))
		if code == 0 || 4+n > len(o) {
			break
		}
		v := o[4 : 4+n]
		switch {
		case code == 9 && n >= 1: // if_tsresol
			res = v[0]
		case code == 14 && n >= 8: // if_tsoffset
			f.offset = s.u64(v)
		}
		o = o[min(len(o), 4+(n+3)&^3):]
	}
	if res == 0 {
		res = 6 // microseconds
	}
	exp := uint64(res & 0x7f)
	if exp > 63 {
		return fmt.Errorf("timestamp resolution of %d digits or bits", exp)
	}
	if res&0x80 != 0 {
		f.mask = 1 << exp
	} else {
		f.mask = 1
		for range exp {
			f.mask *= 10 // past 10^19 it wraps, as gopacket's does
		}
	}
	f.up, f.down = 1, 1
	if f.mask < 1e9 {
		f.up = 1e9 / f.mask
	} else {
		f.down = f.mask / 1e9
	}
	s.ifaces = append(s.ifaces, f)
	return nil
}

// skip drops the next n bytes of the input.
func (s *Source) skip(n int) error {
	for n > 0 {
		if len(s.win) == 0 {
			if err := s.fill(min(n, ngSkipStride)); err != nil && len(s.win) == 0 {
				return fmt.Errorf("truncated block: %w", noEOF(err))
			}
		}
		k := min(n, len(s.win))
		s.win = s.win[k:]
		s.used += k
		n -= k
	}
	return nil
}

func (s *Source) u16(b []byte) uint16 {
	if s.swap {
		return be.Uint16(b)
	}
	return le.Uint16(b)
}

func (s *Source) u64(b []byte) uint64 {
	if s.swap {
		return be.Uint64(b)
	}
	return le.Uint64(b)
}
