package pcap

import (
	"bytes"
	"encoding/binary"
	"errors"
	"io"
	"math/rand"
	"net/netip"
	"os"
	"path/filepath"
	"reflect"
	"testing"
	"time"

	"compress/gzip"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
	"github.com/gopacket/gopacket/pcapgo"

	"github.com/spot-hunt/spot/internal/testenv"
)

func ipv4Header(src, dst [4]byte, proto byte, id uint16, fragOff int, mf bool, payloadLen int) []byte {
	h := make([]byte, 20)
	h[0] = 0x45
	binary.BigEndian.PutUint16(h[2:], uint16(20+payloadLen))
	binary.BigEndian.PutUint16(h[4:], id)
	ff := uint16(fragOff / 8)
	if mf {
		ff |= 0x2000
	}
	binary.BigEndian.PutUint16(h[6:], ff)
	h[8] = 64
	h[9] = proto
	copy(h[12:], src[:])
	copy(h[16:], dst[:])
	return h
}

func udp(sport, dport uint16, payload []byte) []byte {
	u := make([]byte, 8, 8+len(payload))
	binary.BigEndian.PutUint16(u[0:], sport)
	binary.BigEndian.PutUint16(u[2:], dport)
	binary.BigEndian.PutUint16(u[4:], uint16(8+len(payload)))
	return append(u, payload...)
}

func ipv4UDP(payload []byte) []byte {
	u := udp(40000, 53, payload)
	return append(ipv4Header([4]byte{10, 0, 0, 1}, [4]byte{10, 0, 0, 2}, 17, 7, 0, false, len(u)), u...)
}

func ipv6UDP(payload []byte) []byte {
	u := udp(40000, 53, payload)
	// with a hop-by-hop header in front of UDP
	hbh := []byte{17, 0, 1, 4, 0, 0, 0, 0}
	h := make([]byte, 40)
	h[0] = 0x60
	binary.BigEndian.PutUint16(h[4:], uint16(len(hbh)+len(u)))
	h[6] = 0
	h[7] = 64
	h[23] = 1
	h[39] = 2
	h[8], h[24] = 0x20, 0x20
	return append(append(h, hbh...), u...)
}

func ether(ethertype uint16, tags []byte, payload []byte) []byte {
	b := make([]byte, 12, 14+len(tags)+len(payload))
	b = append(b, tags...)
	b = binary.BigEndian.AppendUint16(b, ethertype)
	return append(b, payload...)
}

// writePcap writes frames of one link type as a classic pcap.
func writePcap(t *testing.T, link LinkType, frames ...[]byte) []byte {
	t.Helper()
	var buf bytes.Buffer
	w := pcapgo.NewWriterNanos(&buf)
	if err := w.WriteFileHeader(262144, layers.LinkType(link)); err != nil {
		t.Fatal(err)
	}
	for i, f := range frames {
		ci := gopacket.CaptureInfo{Timestamp: time.Unix(1700000000, int64(i)*1000+1).UTC(), CaptureLength: len(f), Length: len(f) + 4}
		if err := w.WritePacket(ci, f); err != nil {
			t.Fatal(err)
		}
	}
	return buf.Bytes()
}

func readAll(t *testing.T, data []byte) ([]Packet, error) {
	t.Helper()
	src, err := NewSource(bytes.NewReader(data), "test")
	if err != nil {
		t.Fatal(err)
	}
	var out []Packet
	for {
		p, err := src.Next()
		if err == io.EOF {
			return out, nil
		}
		if err != nil {
			return out, err
		}
		c := *p
		c.Payload = append([]byte(nil), p.Payload...)
		c.Data = nil
		out = append(out, c)
	}
}

func TestLinkTypes(t *testing.T) {
	dns := []byte("dns-payload")
	v4, v6 := ipv4UDP(dns), ipv6UDP(dns)
	le32 := func(v uint32) []byte { return binary.LittleEndian.AppendUint32(nil, v) }
	be32 := func(v uint32) []byte { return binary.BigEndian.AppendUint32(nil, v) }
	sll := func(proto uint16, ip []byte) []byte {
		h := make([]byte, 14)
		return append(binary.BigEndian.AppendUint16(h, proto), ip...)
	}
	sll2 := func(proto uint16, ip []byte) []byte {
		h := binary.BigEndian.AppendUint16(nil, proto)
		return append(append(h, make([]byte, 18)...), ip...)
	}
	nflog := func(ip []byte) []byte {
		b := []byte{2, 0, 0, 0}
		b = append(b, 8, 0, 1, 0, 0, 0, 0, 0) // NFULA_PACKET_HDR-ish TLV
		l := 4 + len(ip)
		b = binary.LittleEndian.AppendUint16(b, uint16(l))
		b = binary.LittleEndian.AppendUint16(b, 9)
		b = append(b, ip...)
		for len(b)%4 != 0 {
			b = append(b, 0)
		}
		return b
	}
	mpls := []byte{0, 1, 0, 64, 0, 2, 1, 64} // two labels, bottom of stack on the second
	pppoe := func(ip []byte, ppp uint16) []byte {
		h := []byte{0x11, 0, 0, 1}
		h = binary.BigEndian.AppendUint16(h, uint16(len(ip)+2))
		h = binary.BigEndian.AppendUint16(h, ppp)
		return append(h, ip...)
	}
	cases := []struct {
		name  string
		link  LinkType
		frame []byte
		ver   uint8
	}{
		{"ethernet", LinkEthernet, append(ether(0x0800, nil, v4), 0, 0, 0, 0), 4},
		{"ethernet-ipv6-hbh", LinkEthernet, ether(0x86dd, nil, v6), 6},
		{"vlan", LinkEthernet, ether(0x8100, nil, append([]byte{0, 11, 0x08, 0x00}, v4...)), 4},
		{"qinq", LinkEthernet, ether(0x88a8, nil, append([]byte{0, 11, 0x81, 0x00, 0, 12, 0x86, 0xdd}, v6...)), 6},
		{"mpls", LinkEthernet, ether(0x8847, nil, append(append([]byte{}, mpls...), v4...)), 4},
		{"pppoe", LinkEthernet, ether(0x8864, nil, pppoe(v4, 0x0021)), 4},
		{"pppoe-ipv6", LinkEthernet, ether(0x8864, nil, pppoe(v6, 0x0057)), 6},
		{"sll", LinkLinuxSLL, sll(0x0800, v4), 4},
		{"sll2", linkSLL2, sll2(0x86dd, v6), 6},
		{"raw", LinkRaw, v4, 4},
		{"raw6", LinkRaw, v6, 6},
		{"ipv4", linkIPv4, v4, 4},
		{"ipv6", linkIPv6, v6, 6},
		{"null", LinkNull, append(le32(2), v4...), 4},
		{"null6", LinkNull, append(le32(30), v6...), 6},
		{"loop", LinkLoop, append(be32(2), v4...), 4},
		{"nflog", linkNFLOG, nflog(v4), 4},
		{"ppp", LinkPPP, append([]byte{0xff, 0x03, 0x00, 0x21}, v4...), 4},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			pkts, err := readAll(t, writePcap(t, c.link, c.frame))
			if err != nil || len(pkts) != 1 {
				t.Fatalf("got %d packets, err %v", len(pkts), err)
			}
			p := pkts[0]
			if p.Status != OK || p.IPVer != c.ver || p.Proto != ProtoUDP || p.SrcPort != 40000 || p.DstPort != 53 {
				t.Fatalf("got %+v", p)
			}
			if !bytes.Equal(p.Payload, dns) {
				t.Fatalf("payload %q", p.Payload)
			}
			if p.Frame != 1 || p.WireLen != len(c.frame)+4 || p.CapLen != len(c.frame) || p.TsNs != 1700000000e9+1 {
				t.Fatalf("frame info %d %d %d %d", p.Frame, p.WireLen, p.CapLen, p.TsNs)
			}
			wantSrc := "10.0.0.1"
			if c.ver == 6 {
				wantSrc = "2000::1"
			}
			if p.Src.String() != wantSrc {
				t.Fatalf("src %s", p.Src)
			}
		})
	}
}

func TestIPv4Fragments(t *testing.T) {
	payload := bytes.Repeat([]byte("0123456789abcdef"), 100) // 1600 bytes
	u := udp(53, 40000, payload)
	src, dst := [4]byte{192, 0, 2, 1}, [4]byte{192, 0, 2, 2}
	frag := func(off, end int, mf bool) []byte {
		return ether(0x0800, nil, append(ipv4Header(src, dst, 17, 99, off, mf, end-off), u[off:end]...))
	}
	other := ether(0x0806, nil, make([]byte, 28)) // ARP between fragments
	// out of order: last, first, ARP, middle
	pkts, err := readAll(t, writePcap(t, LinkEthernet,
		frag(1200, len(u), false), frag(0, 600, true), other, frag(600, 1200, true)))
	if err != nil {
		t.Fatal(err)
	}
	want := []Status{Fragment, Fragment, NotIP, OK}
	for i, p := range pkts {
		if p.Status != want[i] {
			t.Fatalf("frame %d: status %v, want %v", i+1, p.Status, want[i])
		}
	}
	p := pkts[3]
	if !p.Reasm || p.Frags != 3 || p.Frame != 4 || p.SrcPort != 53 || !bytes.Equal(p.Payload, payload) || p.IPLen != 20+len(u) {
		t.Fatalf("reassembled: reasm %v frags %d frame %d port %d len %d iplen %d", p.Reasm, p.Frags, p.Frame, p.SrcPort, len(p.Payload), p.IPLen)
	}
	if p.Src != netip.MustParseAddr("192.0.2.1") {
		t.Fatal(p.Src)
	}
}

func TestIPv6Fragments(t *testing.T) {
	payload := bytes.Repeat([]byte("x"), 1000)
	u := udp(53, 40000, payload)
	frag := func(off, end int, mf bool) []byte {
		h := make([]byte, 40)
		h[0] = 0x60
		binary.BigEndian.PutUint16(h[4:], uint16(8+end-off))
		h[6] = 44
		h[7] = 64
		h[8], h[23] = 0x20, 1
		h[24], h[39] = 0x20, 2
		fo := uint16(off)
		if mf {
			fo |= 1
		}
		fh := []byte{17, 0, byte(fo >> 8), byte(fo), 0, 0, 0x12, 0x34}
		return append(append(h, fh...), u[off:end]...)
	}
	pkts, err := readAll(t, writePcap(t, LinkRaw, frag(0, 504, true), frag(504, len(u), false)))
	if err != nil {
		t.Fatal(err)
	}
	if pkts[0].Status != Fragment || pkts[1].Status != OK || !bytes.Equal(pkts[1].Payload, payload) || pkts[1].Proto != ProtoUDP {
		t.Fatalf("got %v %v %d", pkts[0].Status, pkts[1].Status, len(pkts[1].Payload))
	}
}

func TestFragmentStateBounded(t *testing.T) {
	r := newReassembler()
	p := &Packet{IPVer: 4, Proto: 17, Src: netip.MustParseAddr("10.0.0.1"), Dst: netip.MustParseAddr("10.0.0.2")}
	for i := 0; i < 3*MaxPendingFrags; i++ {
		p.FragID = uint32(i)
		p.TsNs = int64(i)
		if _, _, ok, err := r.add(p, 0, true, make([]byte, 1000)); ok || err != nil {
			t.Fatal(ok, err)
		}
	}
	if len(r.m) > MaxPendingFrags || r.bytes > MaxPendingBytes || r.evicted < 2*MaxPendingFrags {
		t.Fatalf("pending %d bytes %d evicted %d", len(r.m), r.bytes, r.evicted)
	}
	// a datagram older than FragTimeout is evicted
	p.FragID, p.TsNs = 1<<30, 4*FragTimeout
	r.add(p, 0, true, make([]byte, 8))
	if len(r.m) != 1 {
		t.Fatalf("after timeout %d pending", len(r.m))
	}
	if len(r.queue)-r.head > 2*MaxPendingFrags {
		t.Fatalf("queue grew to %d", len(r.queue)-r.head)
	}
}

func TestMalformedHeaders(t *testing.T) {
	v4 := ipv4UDP([]byte("x"))
	tcp := append(ipv4Header([4]byte{1, 1, 1, 1}, [4]byte{2, 2, 2, 2}, 6, 1, 0, false, 20), make([]byte, 20)...)
	tcp[20+12] = 0xf0 // data offset 60 > segment
	cases := map[string][]byte{
		"short-ether":  {1, 2, 3},
		"short-ipv4":   ether(0x0800, nil, v4[:12]),
		"bad-ihl":      ether(0x0800, nil, append([]byte{0x42}, v4[1:]...)),
		"short-udp":    ether(0x0800, nil, append(ipv4Header([4]byte{1, 1, 1, 1}, [4]byte{2, 2, 2, 2}, 17, 1, 0, false, 4), 0, 53, 0, 53)),
		"bad-tcp-doff": ether(0x0800, nil, tcp),
		"short-vlan":   ether(0x8100, nil, []byte{0}),
		"short-ipv6":   ether(0x86dd, nil, make([]byte, 30)),
	}
	for name, frame := range cases {
		pkts, err := readAll(t, writePcap(t, LinkEthernet, frame, ether(0x0800, nil, v4)))
		if err != nil || len(pkts) != 2 {
			t.Fatalf("%s: %d packets, %v", name, len(pkts), err)
		}
		if pkts[0].Status != Malformed || !IsMalformed(pkts[0].Err) {
			t.Errorf("%s: status %v err %v", name, pkts[0].Status, pkts[0].Err)
		}
		if pkts[1].Status != OK || pkts[1].Frame != 2 {
			t.Errorf("%s: next packet %v", name, pkts[1].Status)
		}
	}
}

func TestCorruptCaptures(t *testing.T) {
	good := writePcap(t, LinkEthernet, ether(0x0800, nil, ipv4UDP([]byte("a"))), ether(0x0800, nil, ipv4UDP([]byte("b"))))
	first := 24 + 16 + len(ether(0x0800, nil, ipv4UDP([]byte("a"))))
	huge := append([]byte(nil), good...)
	binary.LittleEndian.PutUint32(huge[first+8:], 1<<30) // second record's captured length
	cases := map[string][]byte{
		"truncated-record": good[:len(good)-5],
		"truncated-header": good[:first+7],
		"huge-caplen":      huge,
	}
	for name, data := range cases {
		pkts, err := readAll(t, data)
		var ce *CaptureError
		if len(pkts) != 1 || !errors.As(err, &ce) || ce.Frame != 2 {
			t.Errorf("%s: %d packets, err %v", name, len(pkts), err)
		}
	}
	if _, err := NewSource(bytes.NewReader([]byte("hello world, not a capture")), "x"); !errors.Is(err, ErrNotCapture) {
		t.Errorf("junk: %v", err)
	}
	if _, err := NewSource(bytes.NewReader(nil), "x"); !errors.Is(err, ErrNotCapture) {
		t.Errorf("empty: %v", err)
	}
	if _, err := NewSource(bytes.NewReader(good[:10]), "x"); err == nil {
		t.Errorf("short header: no error")
	}
}

func TestPcapngMixedLinkTypes(t *testing.T) {
	var buf bytes.Buffer
	w, err := pcapgo.NewNgWriterInterface(&buf, pcapgo.NgInterface{LinkType: layers.LinkTypeEthernet, SnapLength: 65535, TimestampResolution: 9}, pcapgo.DefaultNgWriterOptions)
	if err != nil {
		t.Fatal(err)
	}
	raw, err := w.AddInterface(pcapgo.NgInterface{LinkType: layers.LinkTypeRaw, SnapLength: 65535, TimestampResolution: 9})
	if err != nil {
		t.Fatal(err)
	}
	f1 := ether(0x0800, nil, ipv4UDP([]byte("eth")))
	f2 := ipv6UDP([]byte("raw"))
	ts := time.Unix(1600000000, 123456789)
	w.WritePacket(gopacket.CaptureInfo{Timestamp: ts, CaptureLength: len(f1), Length: len(f1), InterfaceIndex: 0}, f1)
	w.WritePacket(gopacket.CaptureInfo{Timestamp: ts, CaptureLength: len(f2), Length: len(f2), InterfaceIndex: raw}, f2)
	w.Flush()
	pkts, err := readAll(t, buf.Bytes())
	if err != nil || len(pkts) != 2 {
		t.Fatal(len(pkts), err)
	}
	if pkts[0].LinkType != LinkEthernet || string(pkts[0].Payload) != "eth" || pkts[0].TsNs != ts.UnixNano() {
		t.Errorf("frame 1: %+v", pkts[0])
	}
	if pkts[1].LinkType != LinkRaw || string(pkts[1].Payload) != "raw" || pkts[1].Frame != 2 || pkts[1].IPVer != 6 {
		t.Errorf("frame 2: %+v", pkts[1])
	}
	// truncated pcapng: CaptureError naming the frame
	_, err = readAll(t, buf.Bytes()[:buf.Len()-10])
	var ce *CaptureError
	if !errors.As(err, &ce) || ce.Frame != 2 {
		t.Errorf("truncated pcapng: %v", err)
	}
}

func TestOpenCompressed(t *testing.T) {
	// gzip via ioformat.OpenRaw
	data := writePcap(t, LinkEthernet, ether(0x0800, nil, ipv4UDP([]byte("z"))))
	var gz bytes.Buffer
	zw := newGzip(&gz)
	zw.Write(data)
	zw.Close()
	name := filepath.Join(t.TempDir(), "x.pcap.gz")
	if err := os.WriteFile(name, gz.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	src, err := Open(name, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	p, err := src.Next()
	if err != nil || string(p.Payload) != "z" {
		t.Fatal(p, err)
	}
	if _, err := src.Next(); err != io.EOF {
		t.Fatal(err)
	}
}

func BenchmarkSource(b *testing.B) {
	var frames [][]byte
	for i := 0; i < 1000; i++ {
		frames = append(frames, ether(0x0800, nil, ipv4UDP(make([]byte, 60))))
	}
	data := writePcap(&testing.T{}, LinkEthernet, frames...)
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		src, _ := NewSource(bytes.NewReader(data), "b")
		for {
			if _, err := src.Next(); err != nil {
				break
			}
		}
	}
}

var _ = testenv.InCI

func newGzip(w io.Writer) io.WriteCloser { return gzip.NewWriter(w) }

// TestPacketReset: reset leaves no field of the previous frame behind.
func TestPacketReset(t *testing.T) {
	var p Packet
	v := reflect.ValueOf(&p).Elem()
	for i := range v.NumField() {
		f := v.Field(i)
		if !f.CanSet() {
			continue
		}
		switch f.Kind() {
		case reflect.Bool:
			f.SetBool(true)
		case reflect.Int, reflect.Int64:
			f.SetInt(1)
		case reflect.Uint8, reflect.Uint16, reflect.Uint32:
			f.SetUint(1)
		case reflect.Slice:
			f.Set(reflect.MakeSlice(f.Type(), 1, 1))
		case reflect.Interface:
			f.Set(reflect.ValueOf(errors.New("x")))
		case reflect.Struct: // netip.Addr
			f.Set(reflect.ValueOf(netip.MustParseAddr("::1")))
		default:
			t.Fatalf("field %s: kind %s not covered by this test", v.Type().Field(i).Name, f.Kind())
		}
		if f.IsZero() {
			t.Fatalf("field %s still zero", v.Type().Field(i).Name)
		}
	}
	p.reset(0, 0, 0, 0, nil)
	for i := range v.NumField() {
		if !v.Field(i).IsZero() {
			t.Errorf("reset left field %s set", v.Type().Field(i).Name)
		}
	}
}

// blocks serves data both as a reader, in short reads, and as Blocks of
// random sizes, each a copy the next call overwrites: a source that kept
// a block past the next call would read garbage.
type blocks struct {
	data []byte
	rng  *rand.Rand
	max  int
	buf  []byte
}

func (c *blocks) Read(p []byte) (int, error) {
	if len(c.data) == 0 {
		return 0, io.EOF
	}
	n := copy(p[:min(len(p), 1+c.rng.Intn(c.max))], c.data)
	c.data = c.data[n:]
	return n, nil
}

func (c *blocks) Block() ([]byte, error) {
	if len(c.data) == 0 {
		return nil, io.EOF
	}
	for i := range c.buf {
		c.buf[i] = 0xee
	}
	n := min(len(c.data), 1+c.rng.Intn(c.max))
	c.buf = append(c.buf[:0], c.data[:n]...)
	c.data = c.data[n:]
	return c.buf, nil
}

func (c *blocks) Ready() bool { return true }

// TestReadBlocks: a capture read from blocks, after some frames read from
// the source's own buffer, gives the frames a plain read gives, whatever
// the block sizes, and the same error where it is cut short.
func TestReadBlocks(t *testing.T) {
	data := testenv.ReadFile(t, "../../../testdata/hunt/gnutella.pcap.gz")
	type frame struct {
		p    Packet
		data string
		err  string
	}
	read := func(src *Source, c *blocks, switchAt int) (out []frame) {
		for i := 0; ; i++ {
			if i == switchAt {
				src.ReadBlocks(c)
			}
			p, err := src.Next()
			if err != nil {
				if err != io.EOF {
					out = append(out, frame{err: err.Error()})
				}
				return out
			}
			f := frame{p: *p, data: string(p.Data)}
			f.p.Data, f.p.Payload = nil, nil
			out = append(out, f)
		}
	}
	for _, cut := range []int{len(data), len(data) - 7, len(data) - 200} {
		input := data[:cut]
		src, err := NewSource(bytes.NewReader(input), "test")
		if err != nil {
			t.Fatal(err)
		}
		want := read(src, nil, -1)
		rng := rand.New(rand.NewSource(int64(cut)))
		for _, max := range []int{1, 17, 300, 5000, 1 << 20} {
			for _, switchAt := range []int{0, 1, 50} {
				c := &blocks{data: input, rng: rng, max: max}
				src, err := NewSource(c, "test")
				if err != nil {
					t.Fatal(err)
				}
				got := read(src, c, switchAt)
				if len(got) != len(want) {
					t.Fatalf("cut %d, blocks of up to %d, switch at %d: %d frames, want %d", cut, max, switchAt, len(got), len(want))
				}
				for i := range want {
					if !reflect.DeepEqual(got[i], want[i]) {
						t.Fatalf("cut %d, blocks of up to %d, switch at %d: frame %d differs:\n%+v\nwant\n%+v", cut, max, switchAt, i+1, got[i], want[i])
					}
				}
			}
		}
	}
}

// TestLinkTypeValues: pcap's link types are gopacket's (and tcpdump.org's).
func TestLinkTypeValues(t *testing.T) {
	for ours, theirs := range map[LinkType]layers.LinkType{
		LinkNull: layers.LinkTypeNull, LinkEthernet: layers.LinkTypeEthernet, LinkPPP: layers.LinkTypePPP,
		LinkFDDI: layers.LinkTypeFDDI, LinkPPPHDLC: layers.LinkTypePPP_HDLC, LinkRaw: layers.LinkTypeRaw,
		LinkLoop: layers.LinkTypeLoop, LinkLinuxSLL: layers.LinkTypeLinuxSLL, linkIPv4: layers.LinkTypeIPv4,
		linkIPv6: layers.LinkTypeIPv6, linkSLL2: layers.LinkTypeLinuxSLL2,
	} {
		if uint16(ours) != uint16(theirs) {
			t.Errorf("%d is gopacket's %v (%d)", ours, theirs, theirs)
		}
	}
}
