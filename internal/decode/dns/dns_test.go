package dns

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"net/netip"
	"reflect"
	"strings"
	"testing"

	"github.com/spot-hunt/spot/internal/decode/pcap"
	"github.com/spot-hunt/spot/internal/record"
)

// buildMsg makes a DNS message: header, one question, and answer RRs given
// as (type, rdata) with the question name compressed.
func buildMsg(id uint16, response bool, rcode int, qname string, qtype uint16, answers ...[]byte) []byte {
	b := binary.BigEndian.AppendUint16(nil, id)
	flags := uint16(rcode)
	if response {
		flags |= 0x8000
	}
	b = binary.BigEndian.AppendUint16(b, flags)
	b = binary.BigEndian.AppendUint16(b, 1)
	b = binary.BigEndian.AppendUint16(b, uint16(len(answers)))
	b = append(b, 0, 0, 0, 0)
	for _, l := range strings.Split(qname, ".") {
		b = append(b, byte(len(l)))
		b = append(b, l...)
	}
	b = append(b, 0)
	b = binary.BigEndian.AppendUint16(b, qtype)
	b = binary.BigEndian.AppendUint16(b, 1)
	for _, a := range answers {
		b = append(b, a...)
	}
	return b
}

func rr(typ uint16, ttl uint32, rdata []byte) []byte {
	b := []byte{0xc0, 12} // pointer to the question name
	b = binary.BigEndian.AppendUint16(b, typ)
	b = binary.BigEndian.AppendUint16(b, 1)
	b = binary.BigEndian.AppendUint32(b, ttl)
	b = binary.BigEndian.AppendUint16(b, uint16(len(rdata)))
	return append(b, rdata...)
}

func udpPacket(frame int64, msg []byte, toServer bool) *pcap.Packet {
	p := &pcap.Packet{Frame: frame, TsNs: 1483504866337519000 + frame, WireLen: 42 + len(msg), Status: pcap.OK, IPVer: 4,
		Proto: pcap.ProtoUDP, Src: netip.MustParseAddr("10.0.0.1"), Dst: netip.MustParseAddr("10.0.0.53"), SrcPort: 40000, DstPort: 53, Payload: msg}
	if !toServer {
		p.Src, p.Dst, p.SrcPort, p.DstPort = p.Dst, p.Src, p.DstPort, p.SrcPort
	}
	return p
}

func TestUDPResponse(t *testing.T) {
	cname := append([]byte{3, 'w', 'w', 'w'}, 0xc0, 12)
	msg := buildMsg(0x1234, true, 3, "example.com", 1,
		rr(typeCNAME, 300, cname),
		rr(typeAAAA, 60, netip.MustParseAddr("2001:db8::1").AsSlice()),
		rr(typeA, 60, []byte{192, 0, 2, 7}))
	d := NewDecoder(Options{Answers: true}, "test.pcap")
	recs, probs := d.Packet(udpPacket(5, msg, false), nil, nil)
	if len(probs) != 0 || len(recs) != 1 {
		t.Fatalf("recs %d probs %v", len(recs), probs)
	}
	r := recs[0]
	want := record.DNS{FrameTime: "Jan  4, 2017 04:41:06.337519005 UTC", UnixTstamp: 1483504866, FrameLen: int32(42 + len(msg)),
		IPDst: "10.0.0.1", IPSrc: "10.0.0.53", QryName: "example.com", QryClass: "0x00000001", QryType: 1, QryRcode: 3,
		A: "192.0.2.7", TsNs: 1483504866337519005, ID: 0x1234, Response: true, Transport: "udp", ClientPort: 40000,
		Answers: []string{"www.example.com", "2001:db8::1", "192.0.2.7"}, ANCount: 3, TTL: 300, Frame: 5, EID: r.EID}
	if r.EID <= 0 || !equalDNS(r, want) {
		t.Fatalf("got  %+v\nwant %+v", r, want)
	}
	// queries are dropped by default, kept with Queries
	q := buildMsg(0x1234, false, 0, "example.com", 1)
	if recs, _ := d.Packet(udpPacket(4, q, true), nil, nil); len(recs) != 0 {
		t.Fatal("query kept without Queries")
	}
	dq := NewDecoder(Options{Queries: true}, "test.pcap")
	if recs, _ := dq.Packet(udpPacket(4, q, true), nil, nil); len(recs) != 1 || recs[0].Response || recs[0].IPSrc != "10.0.0.1" {
		t.Fatalf("query: %+v", recs)
	}
	// every message read is counted; a query left out is counted apart
	if d.Messages != 2 || d.QueriesLeftOut != 1 || dq.Messages != 1 || dq.QueriesLeftOut != 0 {
		t.Errorf("messages %d, queries left out %d (with Queries: %d, %d); want 2, 1 (1, 0)", d.Messages, d.QueriesLeftOut, dq.Messages, dq.QueriesLeftOut)
	}
	// only A/AAAA: AAAA when there is no A
	msg6 := buildMsg(1, true, 0, "v6.example", 28, rr(typeAAAA, 1, netip.MustParseAddr("2001:db8::2").AsSlice()))
	if recs, _ := d.Packet(udpPacket(6, msg6, false), nil, nil); recs[0].A != "2001:db8::2" {
		t.Fatalf("AAAA: %q", recs[0].A)
	}
	// other ports ignored unless listed
	p := udpPacket(7, msg, false)
	p.SrcPort = 5353
	if recs, _ := d.Packet(p, nil, nil); len(recs) != 0 {
		t.Fatal("port 5353 decoded by default")
	}
	d2 := NewDecoder(Options{Ports: []int{5353}}, "x")
	if recs, _ := d2.Packet(p, nil, nil); len(recs) != 1 {
		t.Fatal("--ports 5353 not decoded")
	}
}

func equalDNS(a, b record.DNS) bool { return reflect.DeepEqual(a, b) }

func TestMalformedMessages(t *testing.T) {
	good := buildMsg(7, true, 0, "example.com", 1, rr(typeA, 1, []byte{1, 2, 3, 4}))
	loop := buildMsg(7, true, 0, "a", 1)
	loop = append(loop[:12], 0xc0, 12, 0, 1, 0, 1) // question name points at itself
	long := []byte{0, 7, 0x80, 0, 0, 1, 0, 0, 0, 0, 0, 0}
	for i := 0; i < 5; i++ {
		long = append(long, 63)
		long = append(long, bytes.Repeat([]byte{'a'}, 63)...)
	}
	long = append(long, 0, 0, 1, 0, 1)
	cases := []struct {
		name  string
		msg   []byte
		recs  int
		probs int
		qname string
	}{
		{"short header", good[:11], 0, 1, ""},
		{"cut question", good[:20], 0, 1, ""},
		{"rdata beyond message", good[:len(good)-2], 1, 1, "example.com"},
		{"count beyond message", append(append([]byte{}, good[:7]...), append([]byte{9}, good[8:]...)...), 1, 1, "example.com"},
		{"pointer loop", loop, 1, 0, "<Name contains a pointer that loops>"},
		{"label over 63 bytes", append(append([]byte{}, good[:12]...), 0x40, 'a'), 0, 1, ""},
		{"name too long", long, 1, 0, "<Name too long>"},
		{"junk", []byte("GET / HTTP/1.1\r\nHost: x\r\n\r\n"), 0, 1, ""},
		{"cut type and class", good[:12+13+2], 0, 1, ""}, // "example.com" takes 13 bytes
		{"cut label", good[:19:19], 0, 1, ""},            // "example" needs 20 bytes: none past its end to read from
		{"cut pointer", append(good[:12:12], 0xc0), 0, 1, ""},
	}
	// a name whose last label ends the message lacks its end, not its label
	_, probs := NewDecoder(Options{}, "x").Packet(udpPacket(1, good[:20], false), nil, nil)
	if len(probs) != 1 || !strings.Contains(probs[0].Error(), "name runs past the message") {
		t.Errorf("name cut after a label: %v", probs)
	}
	// an answer's name cut in its label (skipped, not decoded): the label
	// runs past
	// an answer's name (skipped, not decoded) cut in a label, after a
	// label, in a pointer, after a pointer: each says where
	for _, c := range []struct {
		tail []byte
		why  string
	}{
		{[]byte{3, 'a', 'b'}, "label runs past the message"},
		{[]byte{2, 'a', 'b'}, "name runs past the message"},
		{[]byte{0xc0}, "truncated compression pointer"},
		{[]byte{0xc0, 12}, "truncated record header"},
	} {
		cut := append(append([]byte{}, good[:12+13+4]...), c.tail...)
		if _, probs := NewDecoder(Options{}, "x").Packet(udpPacket(1, cut, false), nil, nil); len(probs) != 1 ||
			!strings.Contains(probs[0].Error(), "answer") || !strings.Contains(probs[0].Error(), c.why) {
			t.Errorf("answer name ending % x: %v, want %q", c.tail, probs, c.why)
		}
	}
	for _, c := range cases {
		d := NewDecoder(Options{Queries: true}, "x")
		recs, probs := d.Packet(udpPacket(1, c.msg, false), nil, nil)
		if len(recs) != c.recs || len(probs) != c.probs {
			t.Errorf("%s: %d records, problems %v", c.name, len(recs), probs)
			continue
		}
		if c.recs > 0 && recs[0].QryName != c.qname {
			t.Errorf("%s: name %q", c.name, recs[0].QryName)
		}
		for _, p := range probs {
			if p.Frame != 1 || p.Kept != (c.recs > 0) {
				t.Errorf("%s: problem %+v", c.name, p)
			}
		}
	}
}

type tcpConn struct {
	d         *Decoder
	seq       uint32
	frame     int64
	recs      []record.DNS
	probs     []Problem
	src, dst  netip.Addr
	sp, dport uint16
}

func (c *tcpConn) seg(flags uint8, payload []byte) {
	c.frame++
	p := &pcap.Packet{Frame: c.frame, TsNs: c.frame * 1e9, WireLen: 54 + len(payload), Status: pcap.OK, IPVer: 4, Proto: pcap.ProtoTCP,
		Src: c.src, Dst: c.dst, SrcPort: c.sp, DstPort: c.dport, TCPFlags: flags, Seq: c.seq, Payload: payload}
	c.recs, c.probs = c.d.Packet(p, c.recs, c.probs)
	c.seq += uint32(len(payload))
	if flags&(pcap.TCPSyn|pcap.TCPFin) != 0 {
		c.seq++
	}
}

func framed(msgs ...[]byte) []byte {
	var b []byte
	for _, m := range msgs {
		b = binary.BigEndian.AppendUint16(b, uint16(len(m)))
		b = append(b, m...)
	}
	return b
}

func newTCP(d *Decoder) *tcpConn {
	return &tcpConn{d: d, seq: 1000, src: netip.MustParseAddr("10.0.0.53"), dst: netip.MustParseAddr("10.0.0.1"), sp: 53, dport: 40000}
}

func TestTCPReassembly(t *testing.T) {
	m := func(id uint16) []byte {
		return buildMsg(id, true, 0, "example.com", 1, rr(typeA, 1, []byte{1, 2, 3, byte(id)}))
	}
	d := NewDecoder(Options{}, "x")
	c := newTCP(d)
	c.seg(pcap.TCPSyn, nil)
	// two messages and half a third in one segment, the rest in two more
	stream := framed(m(1), m(2), m(3))
	cut := len(framed(m(1), m(2))) + 10
	c.seg(pcap.TCPAck, stream[:cut])
	if len(c.recs) != 2 || c.recs[0].ID != 1 || c.recs[1].ID != 2 || c.recs[1].Frame != 2 || c.recs[0].Transport != "tcp" {
		t.Fatalf("after segment 1: %+v", c.recs)
	}
	// each message's event id: its frame and its 1-based place in it
	// (position frame<<8 | place), and its bytes
	for i, r := range c.recs {
		if want := record.EID("x", 2<<8|int64(i+1), m(uint16(i+1))); r.EID != want {
			t.Errorf("message %d of frame 2: eid %d, want %d", i+1, r.EID, want)
		}
	}
	c.seg(pcap.TCPAck, stream[cut:cut+5])
	// a retransmission of what came before adds nothing
	saved := c.seq
	c.seq -= 5
	c.seg(pcap.TCPAck, stream[cut:cut+5])
	c.seq = saved
	c.seg(pcap.TCPAck, stream[cut+5:])
	if len(c.recs) != 3 || c.recs[2].ID != 3 || c.recs[2].Frame != 5 || c.recs[2].A != "1.2.3.3" {
		t.Fatalf("after reassembly: %+v", c.recs)
	}
	// a missing segment drops the message it cut; the next one decodes
	s2 := framed(m(4))
	c.seg(pcap.TCPAck, s2[:8])
	c.seq += 8 // lost
	c.seg(pcap.TCPAck, s2[16:])
	c.seg(pcap.TCPAck, framed(m(5)))
	if len(c.recs) != 4 || c.recs[3].ID != 5 {
		t.Fatalf("after gap: %d records, last %+v", len(c.recs), c.recs[len(c.recs)-1])
	}
	c.seg(pcap.TCPFin|pcap.TCPAck, nil)
	if d.Conns() != 0 {
		t.Fatalf("%d connections after FIN", d.Conns())
	}
	// a connection seen without its SYN
	c2 := newTCP(d)
	c2.seq = 77777
	c2.seg(pcap.TCPAck, framed(m(9)))
	if len(c2.recs) != 1 || c2.recs[0].ID != 9 {
		t.Fatalf("no SYN: %+v", c2.recs)
	}
}

func TestTCPStateBounded(t *testing.T) {
	d := NewDecoder(Options{}, "x")
	msg := framed(buildMsg(1, true, 0, "example.com", 1))
	for i := 0; i < 3*MaxConns; i++ {
		c := newTCP(d)
		c.dport = uint16(i)
		c.dst = netip.AddrFrom4([4]byte{10, 1, byte(i >> 8), byte(i)})
		c.frame = int64(i)
		c.seg(pcap.TCPAck, msg[:5]) // an incomplete message held
	}
	if d.Conns() > MaxConns || d.Evicted < 2*MaxConns-1 {
		t.Fatalf("%d connections held, %d evicted", d.Conns(), d.Evicted)
	}
	// idle connections go after ConnIdle of capture time
	c := newTCP(d)
	c.frame = 1e6
	c.seg(pcap.TCPAck, msg[:5])
	if d.Conns() != 1 {
		t.Fatalf("%d connections after idle time", d.Conns())
	}
}

func TestTCPHeldBytesBounded(t *testing.T) {
	d := NewDecoder(Options{}, "x")
	// each half-connection holds most of a 60 kB message
	head := binary.BigEndian.AppendUint16(nil, 60000)
	part := append(head, make([]byte, 50000)...)
	for i := 0; i < 2*MaxHeldBytes/50000; i++ {
		c := newTCP(d)
		c.dport = uint16(i)
		c.frame = int64(i)
		c.seg(pcap.TCPAck, part)
	}
	if d.held > MaxHeldBytes || d.Evicted == 0 {
		t.Fatalf("%d bytes held, %d evicted", d.held, d.Evicted)
	}
}

// TestNamesAsTshark: names as tshark 4.0.17 prints them (the oracle tests
// check every byte value and code point against tshark itself).
func TestNamesAsTshark(t *testing.T) {
	l63 := bytes.Repeat([]byte{'a'}, 63)
	cases := []struct {
		qname []byte
		want  string
	}{
		{dnsName([]byte("a\tb\x1fc\n"), []byte("example"), []byte("com")), `a\tb\037c\n.example.com`},
		{dnsName([]byte("caf\xe9\x7f")), "caf\uFFFD\\177"},
		{dnsName([]byte("\x00\x07\x08\x0b\x0c\x0d\x1b\x20\x7e")), `\000\a\b\v\f\r\033 ~`},
		{dnsName([]byte("caf\xc3\xa9"), []byte("\xf0\x9f\x98\x80")), "café.😀"},
		{dnsName([]byte("\xc2\x85\xe2\x80\x8b\xef\xbf\xbe\xf3\xa0\x80\x81\xf4\x8f\xbf\xbf")), `\u0085\u200B\uFFFE\U000E0001\U0010FFFF`},
		{dnsName([]byte("\xc1\x81\xc0\x80\xe0\x80\x8a\xf8\x80\x80\x81\x81")), `A\u0000\u000AA`},
		{dnsName([]byte("\xed\xa0\x80\xf4\x90\x80\x80\xfe\xbf\xe2\x82")), "\uFFFD\uFFFD\uFFFD\uFFFD\uFFFD"},
		{dnsName([]byte("\xee\x80\x80\xc2\xa0\xe2\x80\xa8")), "\ue000\u00a0\u2028"},
		{dnsName([]byte(`a.b\c`)), `a.b\c`},
		{dnsName(l63, l63, l63, bytes.Repeat([]byte{'z'}, 61)), string(l63) + "." + string(l63) + "." + string(l63) + "." + strings.Repeat("z", 61)},
		{dnsName(l63, l63, l63, bytes.Repeat([]byte{'z'}, 62)), "<Name too long>"},
		{dnsName(bytes.Repeat([]byte{1}, 63), []byte("x")), strings.Repeat(`\001`, 63) + ".x"},
		{[]byte{0}, "<Root>"},
	}
	for _, c := range cases {
		m := response(1, c.qname)
		var msg Message
		if err := msg.Parse(m, false); err != nil {
			t.Errorf("%q: %v", c.qname, err)
			continue
		}
		if string(msg.QName) != c.want {
			t.Errorf("%q: got %q, want %q", c.qname, msg.QName, c.want)
		}
	}
	// compression: a chain of 255 pointers is followed, 256 loop; a
	// pointer to two bytes past its end loops (tshark's check); a bare
	// pointer to a name starting with a zero byte is the root
	for _, c := range []struct {
		msg  []byte
		want string
	}{
		{pointerChain(255), "z"},
		{pointerChain(256), "<Name contains a pointer that loops>"},
		{response(1, []byte{1, 'a', 0xc0, 18}, nullRR(dnsName([]byte("b")))), "<Name contains a pointer that loops>"},
		{response(1, []byte{0xc0, 29}, nullRR(dnsName([]byte{0, 'x'}))), "<Root>"},
		{response(1, []byte{1, 'a', 0xc0, 31}, nullRR(dnsName([]byte{0, 'x'}))), `a.\000x`},
	} {
		var msg Message
		if err := msg.Parse(c.msg, false); err != nil || string(msg.QName) != c.want {
			t.Errorf("got %q (%v), want %q", msg.QName, err, c.want)
		}
	}
}

// Ports 0 and 65535 can be listed; values outside 0-65535 are ignored.
func TestPortEdges(t *testing.T) {
	d := NewDecoder(Options{Ports: []int{-1, 0, 65535, 65536, 1 << 20}}, "x")
	for p, want := range map[uint16]bool{0: true, 65535: true, 53: false, 1: false, 65534: false} {
		if got := d.isPort(p); got != want {
			t.Errorf("port %d: %v, want %v", p, got, want)
		}
	}
}

// TestAFromAnswersOnly: dns_a is the first A (else AAAA) of the answer
// section; the glue of the additional section (ns1.google.com's address
// after a PTR answer) is not the answer.
func TestAFromAnswersOnly(t *testing.T) {
	ptr := []byte{3, 'n', 's', '1', 6, 'g', 'o', 'o', 'g', 'l', 'e', 3, 'c', 'o', 'm', 0}
	msg := buildMsg(7, true, 0, "206.218.58.216.in-addr.arpa", typePTR, rr(typePTR, 60, ptr))
	msg = append(msg, rr(typeA, 60, []byte{216, 239, 32, 10})...)
	binary.BigEndian.PutUint16(msg[10:], 1) // ARCOUNT: the A record is glue
	d := NewDecoder(Options{Answers: true}, "test.pcap")
	recs, probs := d.Packet(udpPacket(1, msg, false), nil, nil)
	if len(probs) != 0 || len(recs) != 1 {
		t.Fatalf("recs %d probs %v", len(recs), probs)
	}
	if r := recs[0]; r.A != "" || len(r.Answers) != 1 || r.Answers[0] != "ns1.google.com" {
		t.Errorf("dns_a %q, answers %q; want no dns_a and the PTR answer", r.A, r.Answers)
	}
	// an AAAA answer is dns_a when the answer section has no A
	msg = buildMsg(8, true, 0, "example.com", typeAAAA, rr(typeAAAA, 60, netip.MustParseAddr("2001:db8::1").AsSlice()))
	msg = append(msg, rr(typeA, 60, []byte{192, 0, 2, 1})...)
	binary.BigEndian.PutUint16(msg[10:], 1)
	if recs, _ := d.Packet(udpPacket(2, msg, false), nil, nil); len(recs) != 1 || recs[0].A != "2001:db8::1" {
		t.Errorf("dns_a of an AAAA answer with A glue: %+v", recs)
	}
}

// floorDiv rounds toward minus infinity: a capture time before 1970 falls
// in the second that starts before it.
func TestFloorDiv(t *testing.T) {
	for _, c := range []struct{ a, want int64 }{
		{0, 0}, {1, 0}, {999_999_999, 0}, {1e9, 1}, {-1, -1}, {-999_999_999, -1}, {-1e9, -1}, {-2e9, -2}, {-2e9 - 1, -3},
	} {
		if got := floorDiv(c.a, 1e9); got != c.want {
			t.Errorf("floorDiv(%d, 1e9) = %d, want %d", c.a, got, c.want)
		}
	}
}

// TCP edges, each with exact counts: the connection bound at one capture
// time, idle expiry at exactly ConnIdle, RST and SYN restarting a
// half-connection, empty segments, overlaps and gaps, and the bytes held.
func TestTCPEdges(t *testing.T) {
	m := func(id uint16) []byte {
		return buildMsg(id, true, 0, "example.com", 1, rr(typeA, 1, []byte{1, 2, 3, byte(id)}))
	}
	ids := func(rs []record.DNS) (out []uint16) {
		for _, r := range rs {
			out = append(out, uint16(r.ID))
		}
		return out
	}

	// MaxConns half-connections at most, the oldest dropped first; each
	// holds 5 bytes of a message, and the bytes of a dropped one are freed
	d := NewDecoder(Options{}, "x")
	for i := 0; i < 2*MaxConns+5; i++ {
		c := newTCP(d)
		c.dport = uint16(i)
		c.dst = netip.AddrFrom4([4]byte{10, 1, byte(i >> 8), byte(i)})
		c.seg(pcap.TCPAck, framed(m(1))[:5]) // all at capture time 1 s: none idle
	}
	if d.Conns() != MaxConns || d.Evicted != MaxConns+5 || d.held != 5*MaxConns {
		t.Errorf("%d connections, %d evicted, %d bytes held; want %d, %d, %d", d.Conns(), d.Evicted, d.held, MaxConns, MaxConns+5, 5*MaxConns)
	}

	// idle: kept at exactly ConnIdle of capture time, dropped past it
	d = NewDecoder(Options{}, "x")
	a := newTCP(d)
	a.seg(pcap.TCPAck, framed(m(1))[:5]) // at 1 s
	b := newTCP(d)
	b.dport, b.frame = 40001, ConnIdle/1e9 // at 1 s + ConnIdle
	b.seg(pcap.TCPAck, framed(m(1))[:5])
	if d.Conns() != 2 || d.Evicted != 0 {
		t.Errorf("idle exactly ConnIdle: %d connections, %d evicted", d.Conns(), d.Evicted)
	}
	c := newTCP(d)
	c.dport, c.frame = 40002, ConnIdle/1e9+1
	c.seg(pcap.TCPAck, framed(m(1))[:5])
	if d.Conns() != 2 || d.Evicted != 1 || d.held != 10 {
		t.Errorf("idle past ConnIdle: %d connections, %d evicted, %d held", d.Conns(), d.Evicted, d.held)
	}

	// an empty segment of an unknown half-connection opens none
	d = NewDecoder(Options{}, "x")
	e := newTCP(d)
	e.seg(pcap.TCPAck, nil)
	if d.Conns() != 0 {
		t.Errorf("empty ACK: %d connections", d.Conns())
	}
	// RST drops the half-connection and what it held: the rest of the cut
	// message, arriving after, is not a message
	s := framed(m(7))
	e.seg(pcap.TCPAck, s[:10])
	e.seg(pcap.TCPRst, nil)
	if d.Conns() != 0 || d.held != 0 {
		t.Errorf("after RST: %d connections, %d held", d.Conns(), d.held)
	}
	// SYN restarts a half-connection: its held bytes go
	e.seg(pcap.TCPSyn, nil)
	e.seg(pcap.TCPAck, s[:10])
	e.seg(pcap.TCPSyn, nil)
	if d.Conns() != 1 || d.held != 0 {
		t.Errorf("after a second SYN: %d connections, %d held", d.Conns(), d.held)
	}
	// an overlap: 4 bytes again, then new ones; the message once
	e.seg(pcap.TCPAck, s[:10])
	e.seq -= 4
	e.seg(pcap.TCPAck, s[6:])
	e.seg(pcap.TCPFin|pcap.TCPAck, nil)
	if got := ids(e.recs); len(got) != 1 || got[0] != 7 || d.Conns() != 0 || d.held != 0 {
		t.Errorf("overlap: messages %v, %d connections, %d held", got, d.Conns(), d.held)
	}

	// gaps: with the cut message's length known, decoding resumes at its
	// end, within a segment or segments later; without it (1 byte seen),
	// at the next segment
	d = NewDecoder(Options{}, "x")
	g := newTCP(d)
	g.seg(pcap.TCPSyn, nil)
	s = framed(m(1), m(2))
	l1 := len(framed(m(1)))
	g.seg(pcap.TCPAck, s[:8])
	g.seq += 8                 // lost
	g.seg(pcap.TCPAck, s[16:]) // the rest of m(1), then m(2)
	s = framed(m(3), m(4))
	g.seg(pcap.TCPAck, s[:6])
	g.seq += 6                     // lost
	g.seg(pcap.TCPAck, s[12:l1-5]) // within m(3): nothing
	g.seg(pcap.TCPAck, s[l1-5:])   // m(3)'s last 5 bytes, then m(4)
	s = framed(m(5))
	g.seg(pcap.TCPAck, s[:1])
	g.seq += 3 // lost: m(5)'s length was never seen
	g.seg(pcap.TCPAck, framed(m(6)))
	if got := ids(g.recs); fmt.Sprint(got) != "[2 4 6]" || d.held != 0 {
		t.Errorf("gaps: messages %v, %d held; want [2 4 6], 0", got, d.held)
	}
}

// Classes as Spot's Hive tables wrote them: 8 hex digits.
func TestHexClass(t *testing.T) {
	for c, want := range map[uint16]string{1: "0x00000001", 3: "0x00000003", 0xff: "0x000000ff", 0x8001: "0x00008001", 0xffff: "0x0000ffff", 0: "0x00000000"} {
		if got := HexClass(c); got != want {
			t.Errorf("HexClass(%#x) = %q, want %q", c, got, want)
		}
	}
}

// frame.time before 1970 counts back from the second before.
func TestFrameTimesBefore1970(t *testing.T) {
	var c FrameTimes
	for ns, want := range map[int64]string{
		-1:               "Dec 31, 1969 23:59:59.999999999 UTC",
		-1e9:             "Dec 31, 1969 23:59:59.000000000 UTC",
		0:                "Jan  1, 1970 00:00:00.000000000 UTC",
		1483504866e9 + 5: "Jan  4, 2017 04:41:06.000000005 UTC",
	} {
		if got := c.Format(ns); got != want {
			t.Errorf("Format(%d) = %q, want %q", ns, got, want)
		}
	}
}

// A record ending exactly at the message's end (EDNS's OPT, no data) is
// whole; a TXT string whose length runs past its data ends the text there.
func TestRecordsAtTheEdge(t *testing.T) {
	msg := buildMsg(7, true, 0, "example.com", 16, rr(typeTXT, 60, []byte{3, 'a', 'b', 'c', 9, 'x'}))
	msg[11] = 1                                            // ARCOUNT 1
	msg = append(msg, 0, 0, 41, 0x10, 0, 0, 0, 0, 0, 0, 0) // OPT: root, type 41, 4096 bytes, no data
	d := NewDecoder(Options{Answers: true}, "x")
	recs, probs := d.Packet(udpPacket(1, msg, false), nil, nil)
	if len(recs) != 1 || len(probs) != 0 {
		t.Fatalf("%d records, problems %v", len(recs), probs)
	}
	if len(recs[0].Answers) != 1 || recs[0].Answers[0] != "abc" {
		t.Errorf("TXT answers %q, want [abc]", recs[0].Answers)
	}
}

// ICMP errors quote the datagram that caused them after their 8-byte header
// (RFC 792: destination unreachable 3, source quench 4, redirect 5, time
// exceeded 11, parameter problem 12; RFC 4443: ICMPv6 1 to 4); other ICMP
// messages (echo 0 and 8, ICMPv6 echo 128) quote nothing, whatever their
// data looks like. A quote's UDP length bounds its payload.
func TestICMPQuotes(t *testing.T) {
	msg := buildMsg(9, false, 0, "example.com", 1)
	udp := binary.BigEndian.AppendUint16(nil, 40000)
	udp = binary.BigEndian.AppendUint16(udp, 53)
	udp = binary.BigEndian.AppendUint16(udp, uint16(8+len(msg)))
	udp = append(udp, 0, 0)
	udp = append(append(udp, msg...), 0xde, 0xad) // 2 bytes past the UDP length
	v4 := []byte{0x45, 0, 0, 0, 0, 0, 0, 0, 64, 17, 0, 0, 192, 0, 2, 1, 192, 0, 2, 53}
	v6 := append([]byte{0x60, 0, 0, 0, 0, 0, 17, 64}, append(netip.MustParseAddr("2001:db8::1").AsSlice(), netip.MustParseAddr("2001:db8::53").AsSlice()...)...)
	d := NewDecoder(Options{Queries: true, ICMPQuotes: true}, "x")
	for _, c := range []struct {
		proto, typ uint8
		quote      []byte
		src        string
		ok         bool
	}{
		{pcap.ProtoICMP, 3, v4, "192.0.2.1", true},
		{pcap.ProtoICMP, 4, v4, "192.0.2.1", true},
		{pcap.ProtoICMP, 5, v4, "192.0.2.1", true},
		{pcap.ProtoICMP, 11, v4, "192.0.2.1", true},
		{pcap.ProtoICMP, 12, v4, "192.0.2.1", true},
		{pcap.ProtoICMP, 0, v4, "", false},
		{pcap.ProtoICMP, 8, v4, "", false},
		{pcap.ProtoICMP, 13, v4, "", false},
		{pcap.ProtoICMP, 3, v6, "", false}, // an IPv6 quote in ICMP
		{pcap.ProtoICMPv6, 1, v6, "2001:db8::1", true},
		{pcap.ProtoICMPv6, 2, v6, "2001:db8::1", true},
		{pcap.ProtoICMPv6, 3, v6, "2001:db8::1", true},
		{pcap.ProtoICMPv6, 4, v6, "2001:db8::1", true},
		{pcap.ProtoICMPv6, 0, v6, "", false},
		{pcap.ProtoICMPv6, 5, v6, "", false},
		{pcap.ProtoICMPv6, 128, v6, "", false},
		{pcap.ProtoICMPv6, 1, v4, "", false},
	} {
		p := &pcap.Packet{Frame: 1, TsNs: 1e9, Status: pcap.OK, IPVer: 4, Proto: c.proto, ICMPType: c.typ, ICMPCode: 3,
			Src: netip.MustParseAddr("192.0.2.254"), Dst: netip.MustParseAddr("192.0.2.1"),
			Payload: append([]byte{0, 0, 0, 0}, append(append([]byte{}, c.quote...), udp...)...)}
		recs, probs := d.Packet(p, nil, nil)
		if !c.ok {
			if len(recs)+len(probs) != 0 {
				t.Errorf("proto %d type %d: %d records, problems %v; want none", c.proto, c.typ, len(recs), probs)
			}
			continue
		}
		want := fmt.Sprintf("icmp 192.0.2.254>192.0.2.1 type=%d code=3", c.typ)
		if len(recs) != 1 || len(probs) != 0 || recs[0].IPSrc != c.src || recs[0].QryName != "example.com" || recs[0].Tunnel != want ||
			recs[0].EID != record.EID("x", 1<<8|1, msg) {
			t.Errorf("proto %d type %d: %+v, problems %v", c.proto, c.typ, recs, probs)
		}
	}
}

// More TCP: data on a SYN (TCP Fast Open, RFC 7413) starts after its
// sequence number; an old segment again adds nothing; a gap after a length
// prefix alone still skips the cut message; a zero-length frame is a
// malformed message, not a wait for more.
func TestTCPMoreEdges(t *testing.T) {
	m := func(id uint16) []byte {
		return buildMsg(id, true, 0, "example.com", 1, rr(typeA, 1, []byte{1, 2, 3, byte(id)}))
	}
	ids := func(rs []record.DNS) string {
		var out []string
		for _, r := range rs {
			out = append(out, fmt.Sprint(r.ID))
		}
		return strings.Join(out, " ")
	}
	d := NewDecoder(Options{}, "x")
	c := newTCP(d)
	c.seg(pcap.TCPSyn, framed(m(1)))
	c.seg(pcap.TCPAck, framed(m(2)))
	s := framed(m(3))
	c.seg(pcap.TCPAck, s[:10])
	c.seq -= 20 // an older segment again, 10 bytes of what came before
	c.seg(pcap.TCPAck, framed(m(2))[:10])
	c.seq += 10
	c.seg(pcap.TCPAck, s[10:])
	s = framed(m(4), m(5))
	c.seg(pcap.TCPAck, s[:2]) // m(4)'s length alone
	c.seq += 6                // lost
	c.seg(pcap.TCPAck, s[8:])
	if got := ids(c.recs); got != "1 2 3 5" || len(c.probs) != 0 {
		t.Errorf("messages %q, problems %v; want 1 2 3 5", got, c.probs)
	}
	// the same gap at sequence numbers past 2^31 and across 2^32: they
	// compare modulo 2^32 (RFC 793)
	for _, isn := range []uint32{1 << 30, 1<<31 + 5, 0xffffffff - 20} {
		g := newTCP(d)
		g.dport, g.seq = uint16(isn>>20), isn
		g.seg(pcap.TCPSyn, nil)
		g.seg(pcap.TCPAck, s[:2])
		g.seq += 6
		g.seg(pcap.TCPAck, s[8:])
		if got := ids(g.recs); got != "5" || len(g.probs) != 0 {
			t.Errorf("gap at sequence %#x: messages %q, problems %v; want 5", isn, got, g.probs)
		}
	}
	e := newTCP(d)
	e.dport = 40001
	e.seg(pcap.TCPAck, []byte{0, 0})
	if len(e.recs) != 0 || len(e.probs) != 1 {
		t.Errorf("zero-length frame: %d records, problems %v; want one problem", len(e.recs), e.probs)
	}
}

// An MX or SRV record too short for its name prints its data, never a name
// read past it.
func TestShortMXAndSRV(t *testing.T) {
	for _, c := range []struct {
		typ   uint16
		rdata []byte
		want  string
	}{
		{typeMX, []byte{0, 10}, "000a"},
		{typeSRV, []byte{0, 1, 0, 2, 0, 53}, "000100020035"},
	} {
		msg := buildMsg(1, true, 0, "example.com", c.typ, rr(c.typ, 60, c.rdata), rr(typeA, 60, []byte{192, 0, 2, 1}))
		recs, probs := NewDecoder(Options{Answers: true}, "x").Packet(udpPacket(1, msg, false), nil, nil)
		if len(recs) != 1 || len(probs) != 0 || len(recs[0].Answers) != 2 || recs[0].Answers[0] != c.want {
			t.Errorf("type %d, data % x: %+v, problems %v; want answer %s", c.typ, c.rdata, recs, probs, c.want)
		}
	}
}

// A quoted datagram whose UDP length is 8 has no payload, whatever bytes
// the ICMP error copied after it.
func TestICMPQuoteEmptyUDP(t *testing.T) {
	msg := buildMsg(9, false, 0, "example.com", 1)
	udp := []byte{0x9c, 0x40, 0, 53, 0, 8, 0, 0}
	v4 := []byte{0x45, 0, 0, 0, 0, 0, 0, 0, 64, 17, 0, 0, 192, 0, 2, 1, 192, 0, 2, 53}
	p := &pcap.Packet{Frame: 1, TsNs: 1e9, Status: pcap.OK, IPVer: 4, Proto: pcap.ProtoICMP, ICMPType: 3, ICMPCode: 3,
		Src: netip.MustParseAddr("192.0.2.254"), Dst: netip.MustParseAddr("192.0.2.1"),
		Payload: append(append(append([]byte{0, 0, 0, 0}, v4...), udp...), msg...)}
	if recs, probs := NewDecoder(Options{Queries: true, ICMPQuotes: true}, "x").Packet(p, nil, nil); len(recs)+len(probs) != 0 {
		t.Errorf("UDP length 8: %d records, problems %v; want none", len(recs), probs)
	}
}

// The bytes held bound evicts past MaxHeldBytes, not at it: 512
// half-connections holding 65,536 bytes each (a 65,535-byte message but its
// last byte) hold exactly MaxHeldBytes, and a new one carrying a whole
// message evicts nothing.
func TestTCPHeldBytesExactly(t *testing.T) {
	d := NewDecoder(Options{}, "x")
	part := append(binary.BigEndian.AppendUint16(nil, 65535), make([]byte, 65534)...)
	for i := range MaxHeldBytes / len(part) {
		c := newTCP(d)
		c.dport = uint16(i)
		c.seg(pcap.TCPAck, part)
	}
	c := newTCP(d)
	c.dport = 60000
	c.seg(pcap.TCPAck, framed(buildMsg(1, true, 0, "example.com", 1)))
	if d.held != MaxHeldBytes || d.Evicted != 0 || d.Conns() != MaxHeldBytes/len(part)+1 || len(c.recs) != 1 {
		t.Errorf("%d bytes held, %d evicted, %d connections, %d records; want %d, 0, %d, 1", d.held, d.Evicted, d.Conns(), len(c.recs), MaxHeldBytes, MaxHeldBytes/len(part)+1)
	}
}
