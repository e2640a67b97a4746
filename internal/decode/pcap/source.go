package pcap

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math/bits"
	"net/netip"

	"github.com/spot-hunt/spot/internal/ioformat"
)

// Status says what Next made of a frame.
type Status uint8

const (
	// OK: an IP packet (or a reassembled datagram) whose transport header,
	// if any, was parsed.
	OK Status = iota
	// NotIP: the frame carries no IP packet (ARP, LLDP, an unsupported link
	// type...).
	NotIP
	// Fragment: an IP fragment held for reassembly; its datagram is
	// returned with the frame that completes it.
	Fragment
	// Malformed: a link, IP or transport header is truncated or invalid;
	// Err says which.
	Malformed
)

func (s Status) String() string {
	switch s {
	case OK:
		return "ok"
	case NotIP:
		return "not-ip"
	case Fragment:
		return "fragment"
	case Malformed:
		return "malformed"
	}
	return fmt.Sprintf("status(%d)", uint8(s))
}

// IP protocol numbers of Packet.Proto.
const (
	ProtoICMP   = 1
	ProtoTCP    = 6
	ProtoUDP    = 17
	ProtoICMPv6 = 58
)

// TCP flag bits of Packet.TCPFlags.
const (
	TCPFin = 0x01
	TCPSyn = 0x02
	TCPRst = 0x04
	TCPPsh = 0x08
	TCPAck = 0x10
	TCPUrg = 0x20
)

// Packet is one captured frame, its headers parsed.
type Packet struct {
	Frame    int64      // 1-based frame number, as Wireshark numbers it
	TsNs     int64      // capture time, ns since the Unix epoch
	WireLen  int        // length on the wire (frame.len)
	CapLen   int        // captured length
	LinkType LinkType   // link type of the frame's interface
	Data     []byte     // the captured frame
	Status   Status     // what was made of it
	Err      error      // why, when Status is Malformed
	IPVer    uint8      // 4 or 6; 0 when not IP
	Src, Dst netip.Addr // network addresses
	Proto    uint8      // IP protocol (ProtoTCP, ProtoUDP, ...)
	TOS      uint8      // IPv4 TOS or IPv6 traffic class
	TTL      uint8      // IPv4 TTL or IPv6 hop limit
	IPLen    int        // IP datagram length, headers included (reassembled length for a datagram)
	FragID   uint32     // IP identification (IPv6: the fragment header's)
	Frags    int        // number of fragments when Reassembled
	Reasm    bool       // Reassembled: the datagram was put together from fragments
	SrcPort  uint16     // TCP/UDP ports
	DstPort  uint16     //
	TCPFlags uint8      // TCP flags (TCPSyn, ...)
	Seq, Ack uint32     // TCP sequence and acknowledgement numbers
	ICMPType uint8      // ICMP/ICMPv6 type and code
	ICMPCode uint8      //
	Payload  []byte     // transport payload (UDP/TCP data; else the IP payload)
	// Tunnels are the encapsulations the packet was found in, outermost
	// first (nil for a packet on the wire); see Source.SetUnwrapper.
	Tunnels []Tunnel
	// Carrier: the packet carries another, which the next call to Next
	// returns (same frame, one more tunnel).
	Carrier bool
	_       [0]func() // not comparable
}

// reset makes p a new frame, its other fields zero. It sets every field
// in place: assigning p a Packet literal builds one on the stack and copies
// it, and took a quarter of the time of reading a frame.
func (p *Packet) reset(frame, tsNs int64, wireLen int, link LinkType, data []byte) {
	p.Frame, p.TsNs, p.WireLen, p.CapLen, p.LinkType, p.Data = frame, tsNs, wireLen, len(data), link, data
	p.Status, p.Err = 0, nil
	p.IPVer, p.Proto, p.TOS, p.TTL = 0, 0, 0, 0
	p.Src, p.Dst = netip.Addr{}, netip.Addr{}
	p.IPLen, p.FragID, p.Frags, p.Reasm = 0, 0, 0, false
	p.SrcPort, p.DstPort, p.TCPFlags, p.Seq, p.Ack = 0, 0, 0, 0, 0
	p.ICMPType, p.ICMPCode, p.Payload = 0, 0, nil
	p.Tunnels, p.Carrier = nil, false
}

// Reassembled reports whether the packet's datagram was rebuilt from IP
// fragments.
func (p *Packet) Reassembled() bool { return p.Reasm }

// CaptureError is a corrupt or truncated capture: nothing after Frame-1
// could be read.
type CaptureError struct {
	Frame int64 // the frame that could not be read
	Err   error
}

func (e *CaptureError) Error() string {
	return fmt.Sprintf("packet %d: %v", e.Frame, e.Err)
}

func (e *CaptureError) Unwrap() error { return e.Err }

// ErrNotCapture is returned by Open and NewSource when the input is neither
// pcap nor pcapng.
var ErrNotCapture = errors.New("not a pcap or pcapng capture")

// maxRecord is the longest frame accepted in a classic pcap file; a longer
// record length means the file is corrupt (Wireshark's limit, 262144 bytes
// for most link types).
const maxRecord = 262144

// Source reads packets from one capture.
type Source struct {
	name   string
	closer io.Closer
	br     *bufio.Reader

	// classic pcap
	swap    bool // the file's byte order is big-endian
	nsScale int64
	link    LinkType
	win     []byte // bytes read and not yet taken as records
	used    int    // bytes taken from win since br last discarded
	blocks  Blocks // once set, where the bytes after br's come from
	next    []byte // the rest of a block, after a record that began in the one before
	carry   []byte // a record that spans two blocks, put together

	// pcapng
	ifaces []ngIface // the section's

	frames FrameReader // a source of frames other than a capture (NewFrameSource)
	link0  LinkType    // the frames' link type

	// mode is what Next reads next, tested once a packet: classic pcap
	// records and pcapng blocks take no other test for the other inputs,
	// for a packet inside the last or for the end.
	mode    mode
	input   mode // the input's mode, which follows modeInner
	frame   int64
	pkt     Packet
	frags   *reassembler
	linkOK  bool
	unwrap  Unwrapper
	inner   innerFrame             // a packet found inside the last, returned next
	tunnels [MaxTunnelDepth]Tunnel // the tunnels around it
}

// Open opens the capture name ("" or "-" = stdin), unwrapping gzip and
// zstd.
func Open(name string, stdin io.Reader) (*Source, error) {
	rc, err := ioformat.OpenRaw(name, stdin)
	if err != nil {
		return nil, err
	}
	s, err := NewSource(rc, name)
	if err != nil {
		rc.Close()
		return nil, fmt.Errorf("%s: %w", ioformat.DisplayName(name), err)
	}
	s.closer = rc
	return s, nil
}

// NewSource reads a capture from r (not decompressed); name is used in
// messages only.
func NewSource(r io.Reader, name string) (*Source, error) {
	s := &Source{name: name, frags: newReassembler()}
	s.br = bufio.NewReaderSize(r, 2*maxRecord)
	head, err := s.br.Peek(4)
	if err != nil {
		if err == io.EOF || err == io.ErrUnexpectedEOF {
			if len(head) == 0 {
				return nil, fmt.Errorf("%w: empty input", ErrNotCapture)
			}
			return nil, fmt.Errorf("%w: too short", ErrNotCapture)
		}
		return nil, err
	}
	switch binary.BigEndian.Uint32(head) {
	case 0x0a0d0d0a:
		if err := s.ngStart(); err != nil {
			return nil, fmt.Errorf("pcapng: %w", err)
		}
		return s, nil
	case 0xa1b2c3d4:
		s.swap, s.nsScale = true, 1000
	case 0xd4c3b2a1:
		s.nsScale = 1000
	case 0xa1b23c4d:
		s.swap, s.nsScale = true, 1
	case 0x4d3cb2a1:
		s.nsScale = 1
	default:
		return nil, ErrNotCapture
	}
	hdr, err := s.br.Peek(24)
	if err != nil {
		return nil, fmt.Errorf("pcap: file header: %w", noEOF(err))
	}
	s.link = LinkType(s.u32(hdr[20:24]) & 0xffff)
	s.br.Discard(24)
	return s, nil
}

// Name is the name the source was opened with.
func (s *Source) Name() string { return s.name }

// Close closes the underlying input (when opened by Open).
func (s *Source) Close() error {
	if s.closer != nil {
		err := s.closer.Close()
		s.closer = nil
		return err
	}
	return nil
}

// Frames is the number of frames read so far.
func (s *Source) Frames() int64 { return s.frame }

// FragStats reports the reassembler's counters: datagrams pending now, and
// datagrams evicted (timeout or bounds) so far.
func (s *Source) FragStats() (pending, evicted int) {
	return len(s.frags.m), s.frags.evicted
}

func noEOF(err error) error {
	if err == io.EOF {
		return io.ErrUnexpectedEOF
	}
	return err
}

// mode is what Next reads next.
type mode uint8

const (
	modePcap   mode = iota // a classic pcap record
	modeNg                 // a pcapng block
	modeFrames             // a FrameReader's frame
	modeInner              // the packet found inside the last one, then the input's mode again
	modeDone               // nothing: the input ended
)

// Next reads the next frame. It returns io.EOF at the end of the capture, and
// a *CaptureError when the capture is corrupt or truncated (after which it
// returns io.EOF).
func (s *Source) Next() (*Packet, error) {
	switch s.mode {
	case modePcap:
	case modeNg: // here, not in nextOther: a call less a packet
		data, tsNs, wireLen, link, err := s.ngNext()
		if err != nil {
			s.mode = modeDone
			if err == io.EOF {
				return nil, io.EOF
			}
			return nil, &CaptureError{Frame: s.frame + 1, Err: err}
		}
		s.frame++
		p := &s.pkt
		p.reset(s.frame, tsNs, wireLen, link, data)
		s.decode(p)
		return p, nil
	default:
		return s.nextOther()
	}
	if len(s.win) < 16 {
		if err := s.fill(16); err != nil {
			s.mode = modeDone
			if err == io.EOF && len(s.win) == 0 {
				return nil, io.EOF
			}
			return nil, &CaptureError{Frame: s.frame + 1, Err: fmt.Errorf("truncated record header: %w", noEOF(err))}
		}
	}
	h := s.win[:16]
	sec := int64(s.u32(h[0:4]))
	frac := int64(s.u32(h[4:8]))
	capLen := int(s.u32(h[8:12]))
	wireLen := int(s.u32(h[12:16]))
	if capLen > maxRecord || capLen < 0 {
		s.mode = modeDone
		return nil, &CaptureError{Frame: s.frame + 1, Err: fmt.Errorf("corrupt record: captured length %d exceeds %d", capLen, maxRecord)}
	}
	n := 16 + capLen
	if len(s.win) < n {
		if err := s.fill(n); err != nil {
			s.mode = modeDone
			return nil, &CaptureError{Frame: s.frame + 1, Err: fmt.Errorf("truncated record (%d of %d bytes): %w", len(s.win)-16, capLen, noEOF(err))}
		}
	}
	data := s.win[16:n:n]
	s.win = s.win[n:]
	s.used += n
	s.frame++
	p := &s.pkt
	p.reset(s.frame, sec*1e9+frac*s.nsScale, wireLen, s.link, data)
	s.decode(p)
	return p, nil
}

// nextOther is Next for a packet found inside the last one, a FrameReader's
// frame, or the end.
func (s *Source) nextOther() (*Packet, error) {
	switch s.mode {
	case modeInner:
		return s.nextInner(), nil
	case modeDone:
		return nil, io.EOF
	}
	data, tsNs, wireLen, err := s.frames.ReadFrame()
	if err != nil {
		s.mode = modeDone
		return nil, err
	}
	s.frame++
	p := &s.pkt
	p.reset(s.frame, tsNs, wireLen, s.link0, data)
	s.decode(p)
	return p, nil
}

// Blocks hands out an input in blocks, each valid until the next call.
type Blocks interface {
	Block() ([]byte, error)
	Ready() bool // whether Block would return without waiting
}

// ReadBlocks makes s read its records (pcap) or blocks (pcapng), once the
// bytes it has buffered are used, from b's blocks where they lie, copying
// only one that spans two blocks. b must be the reader s was made with (or
// the one under it).
func (s *Source) ReadBlocks(b Blocks) {
	if s.blocks != nil {
		return
	}
	s.br.Discard(s.used)
	s.used = 0
	s.win, _ = s.br.Peek(s.br.Buffered())
	s.blocks = b
}

// Drained reports whether every byte read from the input so far has been
// consumed, so the next call to Next may block on a slow stream: a
// streaming caller flushes its output then.
func (s *Source) Drained() bool {
	// Bytes in the window: not drained, said without a call (Drained
	// is asked after every packet).
	return len(s.win) == 0 && s.drained()
}

func (s *Source) drained() bool {
	if s.mode == modeInner {
		return false
	}
	if s.input == modeFrames {
		return !s.frames.Buffered()
	}
	return len(s.next) == 0 && (s.blocks == nil || !s.blocks.Ready())
}

// FrameReader hands out frames from elsewhere than a capture file: a live
// interface.
type FrameReader interface {
	// ReadFrame returns the next frame (valid until the next call), its
	// time in ns since the Unix epoch and its length on the wire. An error
	// ends the source: io.EOF when it is done.
	ReadFrame() (data []byte, tsNs int64, wireLen int, err error)
	// Buffered reports whether ReadFrame would return without waiting.
	Buffered() bool
}

// NewFrameSource reads the frames of r, all of link type link, as a
// capture's; name is used in messages.
func NewFrameSource(r FrameReader, link LinkType, name string) *Source {
	return &Source{name: name, frags: newReassembler(), frames: r, link0: link, mode: modeFrames, input: modeFrames}
}

// fill reads until the window holds n bytes, or the input ends (the window
// then holds what there was).
func (s *Source) fill(n int) error {
	if s.blocks != nil {
		return s.fillBlocks(n)
	}
	s.br.Discard(s.used)
	s.used = 0
	_, err := s.br.Peek(n)
	s.win, _ = s.br.Peek(s.br.Buffered())
	return err
}

func (s *Source) fillBlocks(n int) error {
	if len(s.win) == 0 {
		b, err := s.more()
		if err != nil {
			return err
		}
		if s.win = b; len(b) >= n {
			return nil
		}
	}
	// Copied before the block under it is handed back.
	s.carry = append(s.carry[:0], s.win...)
	for len(s.carry) < n {
		b, err := s.more()
		if err != nil {
			s.win = s.carry
			return err
		}
		k := min(n-len(s.carry), len(b))
		s.carry = append(s.carry, b[:k]...)
		s.next = b[k:]
	}
	s.win = s.carry
	return nil
}

// more is the next bytes in block mode: the rest of the current block,
// else the next block.
func (s *Source) more() ([]byte, error) {
	if len(s.next) > 0 {
		b := s.next
		s.next = nil
		return b, nil
	}
	return s.blocks.Block()
}

// u32 reads a number of a classic pcap file's headers.
func (s *Source) u32(b []byte) uint32 {
	v := binary.LittleEndian.Uint32(b)
	if s.swap {
		v = bits.ReverseBytes32(v)
	}
	return v
}
