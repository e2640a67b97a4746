package netflow

import (
	"encoding/binary"
	"errors"
	"fmt"
	"net/netip"
	"strings"
	"testing"
	"unsafe"

	"github.com/spot-hunt/spot/internal/record"
)

// Packet builders: every test datagram here is written field by field, so
// each path of the decoder meets the bytes that take it.

// be appends big-endian values: uint8, uint16, uint32, uint64, []byte, string.
func bytesOf(parts ...any) []byte {
	var b []byte
	for _, p := range parts {
		switch v := p.(type) {
		case uint8:
			b = append(b, v)
		case uint16:
			b = binary.BigEndian.AppendUint16(b, v)
		case uint32:
			b = binary.BigEndian.AppendUint32(b, v)
		case uint64:
			b = binary.BigEndian.AppendUint64(b, v)
		case []byte:
			b = append(b, v...)
		case string:
			b = append(b, v...)
		default:
			panic(fmt.Sprintf("bytesOf: %T", p))
		}
	}
	return b
}

func ip4(s string) []byte { a := netip.MustParseAddr(s).As4(); return a[:] }
func ip6(s string) []byte { a := netip.MustParseAddr(s).As16(); return a[:] }

// set is a flow set: id, length, body.
func set(id uint16, body ...[]byte) []byte {
	b := bytesOf(id, uint16(0))
	for _, x := range body {
		b = append(b, x...)
	}
	binary.BigEndian.PutUint16(b[2:], uint16(len(b)))
	return b
}

// tmpl is a template record: id, field count, then (type, length) pairs
// (an IPFIX enterprise element, type|0x8000, is followed by its enterprise
// number as two more values).
func tmpl(id uint16, typeLen ...uint16) []byte {
	n := 0
	for i := 0; i < len(typeLen); i += 2 {
		n++
		if typeLen[i]&0x8000 != 0 {
			i += 2
		}
	}
	b := bytesOf(id, uint16(n))
	for _, x := range typeLen {
		b = binary.BigEndian.AppendUint16(b, x)
	}
	return b
}

// ipfixOpts is an IPFIX options template record: id, field count, scope
// count, then (type, length) pairs.
func ipfixOpts(id, scope uint16, typeLen ...uint16) []byte {
	b := bytesOf(id, uint16(len(typeLen)/2), scope)
	for _, x := range typeLen {
		b = binary.BigEndian.AppendUint16(b, x)
	}
	return b
}

// v9Opts is a NetFlow v9 options template record: id, the byte lengths of
// the scope and option field lists, then the (type, length) pairs of each.
func v9Opts(id uint16, scope, opts []uint16) []byte {
	b := bytesOf(id, uint16(2*len(scope)), uint16(2*len(opts)))
	for _, x := range append(append([]uint16(nil), scope...), opts...) {
		b = binary.BigEndian.AppendUint16(b, x)
	}
	return b
}

func v9(uptime, secs, source uint32, sets ...[]byte) []byte {
	b := bytesOf(uint16(9), uint16(len(sets)), uptime, secs, uint32(0), source)
	for _, s := range sets {
		b = append(b, s...)
	}
	return b
}

func ipfix(export, domain uint32, sets ...[]byte) []byte {
	b := bytesOf(uint16(10), uint16(0), export, uint32(0), domain)
	for _, s := range sets {
		b = append(b, s...)
	}
	binary.BigEndian.PutUint16(b[2:], uint16(len(b)))
	return b
}

// v5rec is a NetFlow v5 record.
type v5rec struct {
	src, dst          string
	in, out           uint16
	pkts, byts        uint32
	first, last       uint32
	sport, dport      uint16
	flags, proto, tos uint8
	srcAS, dstAS      uint16
}

func v5(uptime, secs, nsecs uint32, sampling uint16, recs ...v5rec) []byte {
	b := bytesOf(uint16(5), uint16(len(recs)), uptime, secs, nsecs, uint32(0), uint16(0), sampling)
	for _, r := range recs {
		b = append(b, bytesOf(ip4(r.src), ip4(r.dst), ip4("192.0.2.254"), r.in, r.out, r.pkts, r.byts, r.first, r.last,
			r.sport, r.dport, uint8(0), r.flags, r.proto, r.tos, r.srcAS, r.dstAS, uint8(24), uint8(16), uint16(0))...)
	}
	return b
}

var (
	exA = netip.MustParseAddr("192.0.2.1")
	exB = netip.MustParseAddr("2001:db8::2")
)

// shadows are decoders that read the same packets as the decoder they shadow
// field by field (d.generic).
var shadows = map[*Decoder]*Decoder{}

// run decodes packets (each from exporter ex) with the fixed-layout path and,
// in d's shadow, field by field; it fails the test where the two disagree and
// returns the records and the error of each packet.
func run(t *testing.T, d *Decoder, ex netip.Addr, pkts ...[]byte) ([]record.Flow, []error) {
	t.Helper()
	slow := shadows[d]
	if slow == nil {
		slow = New(d.Source)
		slow.Limits, slow.generic = d.Limits, true
		shadows[d] = slow
	}
	var recs []record.Flow
	var errs []error
	for i, p := range pkts {
		a, errA := d.Decode(ex, p, nil)
		z, errZ := slow.Decode(ex, p, nil)
		if fmt.Sprint(errA) != fmt.Sprint(errZ) || fmt.Sprint(a) != fmt.Sprint(z) {
			t.Fatalf("packet %d: by offsets %v %+v; field by field %v %+v", i, errA, a, errZ, z)
		}
		recs = append(recs, a...)
		errs = append(errs, errA)
	}
	if d.Stats != slow.Stats {
		t.Fatalf("stats by offsets %+v, field by field %+v", d.Stats, slow.Stats)
	}
	return recs, errs
}

func ms(t int64) int64 { return t * 1e6 } // ms since the epoch, in ns

// errIs: err is nil if want is empty, else its text is want.
func errIs(err error, want string) bool {
	if want == "" {
		return err == nil
	}
	return err != nil && err.Error() == want
}

// TestDecodeStats: what the decoder counts for each kind of packet.
func TestDecodeStats(t *testing.T) {
	d := New("x")
	if _, err := d.Decode(exA, []byte{0, 5, 0}, nil); !errors.Is(err, ErrShort) {
		t.Errorf("3 bytes: %v, want ErrShort", err)
	}
	if _, err := d.Decode(exA, []byte{0, 7, 0, 1}, nil); !errors.Is(err, ErrVersion) || !strings.Contains(err.Error(), "version 7") {
		t.Errorf("4 bytes of version 7: %v, want ErrVersion", err)
	}
	if _, err := d.Decode(exA, []byte{0, 5, 0, 1}, nil); !errors.Is(err, ErrShort) {
		t.Errorf("a v5 header cut short: %v, want ErrShort", err)
	}
	want := Stats{Packets: 1, Malformed: 2, Unsupported: 1}
	if d.Stats != want {
		t.Errorf("stats %+v, want %+v", d.Stats, want)
	}
	out, err := d.Decode(exA, v5(1000, 1700000000, 0, 0, v5rec{src: "10.0.0.1", dst: "10.0.0.2", pkts: 1, byts: 40}), nil)
	if err != nil || len(out) != 1 {
		t.Fatalf("v5: %d records, %v", len(out), err)
	}
	want.Packets, want.Records = 2, 1
	if d.Stats != want {
		t.Errorf("stats %+v, want %+v", d.Stats, want)
	}
}

// TestExporterAddress: each record names the exporter of its packet.
func TestExporterAddress(t *testing.T) {
	d := New("x")
	p := v5(1000, 1700000000, 0, 0, v5rec{src: "10.0.0.1", dst: "10.0.0.2"})
	for _, c := range []struct {
		ex   netip.Addr
		want string
	}{{exA, "192.0.2.1"}, {exB, "2001:db8::2"}, {exB, "2001:db8::2"}, {exA, "192.0.2.1"}, {netip.Addr{}, ""}, {exA, "192.0.2.1"}} {
		out, err := d.Decode(c.ex, p, nil)
		if err != nil || len(out) != 1 || out[0].RIP != c.want {
			t.Errorf("from %v: %+v, %v; want rip %q", c.ex, out, err, c.want)
		}
	}
}

// TestPacketLen: how files of datagrams back to back are split.
func TestPacketLen(t *testing.T) {
	tpl := set(0, tmpl(256, 8, 4))
	one := v9(1, 2, 0, tpl, set(256, ip4("10.0.0.1")), set(256))
	two := v9(1, 2, 0, tpl)
	five := v5(1, 2, 0, 0, v5rec{src: "10.0.0.1", dst: "10.0.0.2"}, v5rec{src: "10.0.0.1", dst: "10.0.0.2"})
	fix := ipfix(1, 2, set(2, tmpl(256, 8, 4)))
	for _, c := range []struct {
		name string
		b    []byte
		n    int
		err  error
	}{
		{"3 bytes", []byte{0, 9, 0}, 0, ErrShort},
		{"a v9 header's first 4 bytes", []byte{0, 9, 0, 1}, 4, nil},
		{"v9, another after it", append(append([]byte(nil), one...), two...), len(one), nil},
		{"v9, the first 4 bytes of another after it", append(append([]byte(nil), two...), 0, 9, 0, 1), len(two), nil},
		{"v9 with a set length below 4", append(v9(1, 2, 0, tpl), 1, 0, 0, 3, 0, 9, 0, 0), len(two) + 8, nil},
		{"v9 alone", two, len(two), nil},
		{"v5 of 2 records", append(append([]byte(nil), five...), five...), len(five), nil},
		{"v5 cut short", five[:len(five)-1], len(five) - 1, ErrShort},
		{"ipfix header alone", ipfix(1, 2), 16, nil},
		{"ipfix, another after it", append(append([]byte(nil), fix...), fix...), len(fix), nil},
		{"ipfix length 15", []byte{0, 10, 0, 15, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0}, 16, ErrShort},
		{"ipfix cut short", fix[:len(fix)-1], len(fix) - 1, ErrShort},
		{"version 7", []byte{0, 7, 0, 0, 0, 0}, 6, ErrVersion},
	} {
		n, err := PacketLen(c.b)
		if n != c.n || !errors.Is(err, c.err) || (err == nil) != (c.err == nil) {
			t.Errorf("%s: %d, %v; want %d, %v", c.name, n, err, c.n, c.err)
		}
	}
}

// TestV5 checks every field of NetFlow v5 records, their times from the
// exporter's uptime (also across its 2^32 ms wrap), the sampling interval
// without its mode bits, event ids by position, and the count checks.
func TestV5(t *testing.T) {
	d := New("r.dat")
	// boot: 1700000000 s + 500 ms - 100 s of uptime
	const boot = 1700000000*1000 + 500 - 100000
	p := v5(100000, 1700000000, 500_000_000, 0x4000|100,
		v5rec{"10.0.0.1", "10.0.0.2", 3, 4, 5, 230, 40000, 90000, 54435, 22, 0x1b, 6, 16, 64500, 64501},
		v5rec{"10.0.0.2", "10.0.0.1", 4, 3, 1, 40, 0xfffff000, 1000, 22, 54435, 0x10, 6, 0, 0, 0},
		v5rec{"10.0.0.3", "10.0.0.4", 0, 0, 1, 60, 50000, 50000, 0, 771, 0, 1, 0, 0, 0})
	out, errs := run(t, d, exA, p)
	if errs[0] != nil || len(out) != 3 {
		t.Fatalf("%d records, %v", len(out), errs[0])
	}
	f := out[0]
	if f.SIP != "10.0.0.1" || f.DIP != "10.0.0.2" || f.Input != 3 || f.Output != 4 || f.IPkt != 5 || f.IByt != 230 ||
		f.SPort != 54435 || f.DPort != 22 || f.Flag != "...AP.SF" || f.Proto != "TCP" || f.STos != 16 ||
		f.SAS != 64500 || f.DAS != 64501 || f.Sampling != 100 || f.Source != "netflow5" || f.RIP != "192.0.2.1" {
		t.Errorf("record 0: %+v", f)
	}
	if f.TStartNs != ms(boot+40000) || f.TEndNs != ms(boot+90000) || f.TDur != 50 || f.UnixTstamp != (boot+40000)/1000 {
		t.Errorf("record 0 times: %d..%d (%v s), want %d..%d", f.TStartNs, f.TEndNs, f.TDur, ms(boot+40000), ms(boot+90000))
	}
	// first seen before the uptime wrapped, last seen after
	if f := out[1]; f.TStartNs != ms(boot+0xfffff000-1<<32) || f.TEndNs != ms(boot+1000) {
		t.Errorf("record 1 times: %d..%d, want %d..%d", f.TStartNs, f.TEndNs, ms(boot-4096), ms(boot+1000))
	}
	if f := out[2]; f.TStartNs != ms(boot+50000) || f.TEndNs != f.TStartNs || f.Proto != "ICMP" || f.DPort != 771 {
		t.Errorf("record 2: %+v", f)
	}
	for i, f := range out {
		raw := p[24+48*i : 24+48*(i+1)]
		if want := record.EID("r.dat", int64(i+1), raw); f.EID != want {
			t.Errorf("record %d: eid %d, want %d (position %d)", i, f.EID, want, i+1)
		}
	}
	// The next input numbers its records from 1 again.
	d.StartInput("s.dat")
	out2, _ := d.Decode(exA, p, nil)
	if want := record.EID("s.dat", 1, p[24:72]); out2[0].EID != want {
		t.Errorf("next input: eid %d, want %d", out2[0].EID, want)
	}

	for _, c := range []struct {
		name string
		p    []byte
		err  string
	}{
		{"header alone", p[:24], "v5: count 3 needs 168 bytes, packet has 24"},
		{"count 0", bytesOf(uint16(5), uint16(0), make([]byte, 20)), "v5: count 0 needs 24 bytes, packet has 24"},
		{"count 2, room for 1.5", append(bytesOf(uint16(5), uint16(2)), p[4:24+72]...), "v5: count 2 needs 120 bytes, packet has 96"},
		{"count 31", append(bytesOf(uint16(5), uint16(31)), make([]byte, 20+48*31)...), "v5: count 31 needs 1512 bytes, packet has 1512"},
		{"23 bytes", p[:23], ErrShort.Error()},
	} {
		d := New("x")
		out, err := d.Decode(exA, c.p, nil)
		if err == nil || err.Error() != c.err || len(out) != 0 || d.Stats.Malformed != 1 || d.Stats.Records != 0 {
			t.Errorf("%s: %d records, %v; want %q", c.name, len(out), err, c.err)
		}
	}
}

// TestHeaders: a v9 or IPFIX header with no sets is a packet of nothing; an
// IPFIX message length is obeyed.
func TestHeaders(t *testing.T) {
	tpl := set(2, tmpl(256, 8, 4, 12, 4))
	data := set(256, ip4("10.0.0.1"), ip4("10.0.0.2"))
	for _, c := range []struct {
		name string
		p    []byte
		recs int
		err  string
	}{
		{"v9 header alone", v9(1, 2, 3), 0, ""},
		{"v9 header cut short", v9(1, 2, 3)[:19], 0, ErrShort.Error()},
		{"ipfix header alone", ipfix(1, 2), 0, ""},
		{"ipfix header cut short", ipfix(1, 2)[:15], 0, ErrShort.Error()},
		{"ipfix length 15", append(bytesOf(uint16(10), uint16(15)), make([]byte, 20)...), 0, "ipfix: message length 15"},
		{"ipfix bytes past its length", append(ipfix(1, 2, tpl, data), 0xde, 0xad, 0xbe, 0xef, 0, 5), 1, ""},
		{"ipfix longer than its datagram", ipfix(1, 2, tpl, data, data)[:16+len(tpl)+len(data)], 1,
			fmt.Sprintf("ipfix: message length %d, datagram %d", 16+len(tpl)+2*len(data), 16+len(tpl)+len(data))},
		{"ipfix longer than its datagram, a set cut", ipfix(1, 2, tpl, data)[:16+len(tpl)+4], 0, "v10: set 256 length 12, 4 bytes left"},
	} {
		d := New("x")
		out, errs := run(t, d, exA, c.p)
		if len(out) != c.recs || !errIs(errs[0], c.err) {
			t.Errorf("%s: %d records, %v; want %d, %q", c.name, len(out), errs[0], c.recs, c.err)
		}
		if (c.err == "") != (d.Stats.Malformed == 0) || d.Stats.Packets != 1 {
			t.Errorf("%s: stats %+v", c.name, d.Stats)
		}
	}
}

// TestSets: how a packet's sets are walked.
func TestSets(t *testing.T) {
	tpl := set(2, tmpl(256, 8, 4))
	rec := func(a string) []byte { return set(256, ip4(a)) }
	for _, c := range []struct {
		name string
		p    []byte
		srcs string
		err  string
	}{
		{"an empty data set midway", ipfix(1, 2, tpl, set(256), rec("10.0.0.1")), "10.0.0.1", ""},
		{"an empty template set midway", ipfix(1, 2, set(2), tpl, rec("10.0.0.1")), "10.0.0.1", ""},
		{"zero padding after the sets", append(v9(1, 2, 3, set(0, tmpl(256, 8, 4)), rec("10.0.0.1")), 0, 0, 0, 0, 0, 0), "10.0.0.1", ""},
		{"a set header cut at the end", ipfix(1, 2, tpl, rec("10.0.0.1"), bytesOf(uint16(256), uint16(8))), "10.0.0.1", "v10: set 256 length 8, 4 bytes left"},
		{"a set length below 4", ipfix(1, 2, tpl, rec("10.0.0.1"), bytesOf(uint16(256), uint16(3)), rec("10.0.0.2")), "10.0.0.1", "v10: set 256 length 3, 12 bytes left"},
		{"a reserved set id", ipfix(1, 2, tpl, rec("10.0.0.1"), set(5), rec("10.0.0.2")), "10.0.0.1", "v10: reserved set id 5"},
		{"a v9 reserved set id", v9(1, 2, 3, set(0, tmpl(256, 8, 4)), set(2), rec("10.0.0.2")), "", "v9: reserved set id 2"},
		{"two records in a set, then padding", ipfix(1, 2, tpl, set(256, ip4("10.0.0.1"), ip4("10.0.0.2"), []byte{9, 9, 9})), "10.0.0.1 10.0.0.2", ""},
	} {
		d := New("x")
		out, errs := run(t, d, exA, c.p)
		var srcs []string
		for _, f := range out {
			srcs = append(srcs, f.SIP)
		}
		if strings.Join(srcs, " ") != c.srcs || !errIs(errs[0], c.err) {
			t.Errorf("%s: sources %q, %v; want %q, %q", c.name, srcs, errs[0], c.srcs, c.err)
		}
	}
}

// TestHeldSets: data sets that come before their template are held, within
// Limits, and decoded (in the order they came) when it comes; those of
// other templates or exporters wait on.
func TestHeldSets(t *testing.T) {
	data := func(a string) []byte { return ipfix(1, 7, set(256, ip4(a))) }
	tpl := func(id uint16) []byte { return ipfix(1, 7, set(2, tmpl(id, 8, 4))) }
	d := New("x")
	out, _ := run(t, d, exA, data("10.0.0.1"), ipfix(1, 7, set(257, ip4("10.0.0.9"))), ipfix(1, 7, set(256)), data("10.0.0.2"))
	if len(out) != 0 || d.Stats.Pending != 3 || len(d.pending) != 3 {
		t.Fatalf("%d records, stats %+v, %d held", len(out), d.Stats, len(d.pending))
	}
	// The same template from another exporter, and in another domain,
	// releases nothing.
	out, _ = run(t, d, exB, tpl(256))
	out2, _ := run(t, d, exA, ipfix(1, 8, set(2, tmpl(256, 8, 4))))
	if len(out)+len(out2) != 0 || len(d.pending) != 3 {
		t.Fatalf("another exporter's or domain's template released %d records", len(out)+len(out2))
	}
	out, _ = run(t, d, exA, tpl(256))
	if len(out) != 2 || out[0].SIP != "10.0.0.1" || out[1].SIP != "10.0.0.2" || len(d.pending) != 1 || d.pendingBytes != 4 {
		t.Fatalf("released %+v; %d held (%d bytes)", out, len(d.pending), d.pendingBytes)
	}
	if n := d.Flush(); n != 1 || d.Stats.DroppedSets != 1 || len(d.pending) != 0 || d.pendingBytes != 0 {
		t.Errorf("Flush = %d, stats %+v", n, d.Stats)
	}

	// Limits: the oldest held sets go first.
	d = New("x")
	d.Limits.PendingSets = 2
	run(t, d, exA, data("10.0.0.1"), data("10.0.0.2"), data("10.0.0.3"))
	out, _ = run(t, d, exA, tpl(256))
	if len(out) != 2 || out[0].SIP != "10.0.0.2" || out[1].SIP != "10.0.0.3" || d.Stats.DroppedSets != 1 {
		t.Errorf("2 sets held at most: released %+v, stats %+v", out, d.Stats)
	}
	d = New("x")
	d.Limits.PendingBytes = 12 // three 4-byte records
	run(t, d, exA, data("10.0.0.1"), data("10.0.0.2"), data("10.0.0.3"))
	if d.Stats.DroppedSets != 0 || d.pendingBytes != 12 {
		t.Errorf("exactly PendingBytes held: stats %+v, %d bytes", d.Stats, d.pendingBytes)
	}
	run(t, d, exA, data("10.0.0.4"))
	out, _ = run(t, d, exA, tpl(256))
	if len(out) != 3 || out[0].SIP != "10.0.0.2" || d.Stats.DroppedSets != 1 {
		t.Errorf("one byte past PendingBytes: released %+v, stats %+v", out, d.Stats)
	}
	// A set of PendingBytes is held; a larger one is dropped at once.
	d = New("x")
	d.Limits.PendingBytes = 8
	run(t, d, exA, ipfix(1, 7, set(256, ip4("10.0.0.1"), ip4("10.0.0.2"))))
	if d.Stats.DroppedSets != 0 || len(d.pending) != 1 {
		t.Errorf("a set of PendingBytes: stats %+v", d.Stats)
	}
	d = New("x")
	d.Limits.PendingBytes = 7
	run(t, d, exA, ipfix(1, 7, set(256, ip4("10.0.0.1"), ip4("10.0.0.2"))))
	if d.Stats.DroppedSets != 1 || d.Stats.Pending != 1 || len(d.pending) != 0 {
		t.Errorf("a set past PendingBytes: stats %+v", d.Stats)
	}
}

// TestSessionLimit: an exporter past Limits.Sessions gets no templates, so
// its data is held, not decoded.
func TestSessionLimit(t *testing.T) {
	d := New("x")
	d.Limits.Sessions = 2
	p := ipfix(1, 7, set(2, tmpl(256, 8, 4)), set(256, ip4("10.0.0.1")))
	for i, ex := range []netip.Addr{exA, exB, netip.MustParseAddr("192.0.2.3")} {
		out, _ := run(t, d, ex, p)
		if want := min(1, 2-i); len(out) != want {
			t.Errorf("exporter %d: %d records, want %d", i, len(out), want)
		}
	}
	if d.Stats.TemplatesCapped != 1 || d.Stats.Templates != 2 || d.Stats.Pending != 1 || len(d.sessions) != 2 {
		t.Errorf("stats %+v, %d sessions", d.Stats, len(d.sessions))
	}
}

// TestFieldValues reads one IPFIX record of each kind of field, by offsets
// and field by field.
func TestFieldValues(t *testing.T) {
	tpl := tmpl(256,
		8, 4, 12, 4, 7, 2, 11, 2, 4, 1, 6, 1, 5, 1, 55, 1,
		1, 8, 2, 3, // reduced-size encoding: packets in 3 bytes
		10, 4, 14, 2, 16, 4, 17, 4, 61, 1, 89, 1, 152, 8, 153, 8,
		24, 4, 23, 6, // out packets and bytes (6 bytes)
		99, 2, // an element spot does not read
	)
	rec := bytesOf(ip4("10.1.1.1"), ip4("10.2.2.2"), uint16(51000), uint16(443), uint8(6), uint8(0x12), uint8(8), uint8(32),
		uint64(1<<40+5), []byte{1, 2, 3},
		uint32(7), uint16(9), uint32(4200000000), uint32(65000), uint8(1), uint8(64),
		uint64(1700000000123), uint64(1700000001456),
		uint32(17), []byte{0, 0, 0, 1, 0, 0}, uint16(0xffff))
	d := New("x")
	out, errs := run(t, d, exA, ipfix(1700000100, 1, set(2, tpl), set(256, rec, rec)))
	if errs[0] != nil || len(out) != 2 {
		t.Fatalf("%d records, %v", len(out), errs[0])
	}
	f := out[0]
	if f.SIP != "10.1.1.1" || f.DIP != "10.2.2.2" || f.SPort != 51000 || f.DPort != 443 || f.Proto != "TCP" || f.Flag != "...A..S." ||
		f.STos != 8 || f.DTos != 32 || f.IByt != 1<<40+5 || f.IPkt != 0x010203 || f.Input != 7 || f.Output != 9 ||
		f.SAS != -94967296 || f.DAS != 65000 || f.Dir != 1 || f.Fwd != 64 || f.OPkt != 17 || f.OByt != 1<<16 ||
		f.Source != "ipfix" || f.Sampling != 0 {
		t.Errorf("record: %+v", f)
	}
	if f.TStartNs != ms(1700000000123) || f.TEndNs != ms(1700000001456) || f.TDur != 1.333 {
		t.Errorf("times %d..%d (%v s)", f.TStartNs, f.TEndNs, f.TDur)
	}
	if t2 := d.sessions[sessionKey{exA, 10, 1}].templates[256]; t2.fixed == nil {
		t.Errorf("the template is not read by offsets")
	}
	p := ipfix(1700000100, 1, set(2, tpl), set(256, rec, rec))
	base := len(p) - 2*len(rec)
	for i, f := range out {
		if want := record.EID("x", int64(i+1), p[base+i*len(rec):base+(i+1)*len(rec)]); f.EID != want {
			t.Errorf("record %d: eid %d, want %d", i, f.EID, want)
		}
	}
}

// TestTimeFields: every way IPFIX and v9 state a flow's start and end.
func TestTimeFields(t *testing.T) {
	const export = 1700000100 // s
	ntp := func(unixMs int64) []byte {
		sec, frac := uint32(unixMs/1000+ntpEpoch), uint32((unixMs%1000)<<32/1000)
		return bytesOf(sec, frac)
	}
	src := ip4("10.0.0.1")
	for _, c := range []struct {
		name       string
		fields     []uint16
		data       []byte
		start, end int64 // ms
	}{
		{"seconds", []uint16{8, 4, 150, 4, 151, 4}, bytesOf(src, uint32(1700000000), uint32(1700000005)), 1700000000000, 1700000005000},
		{"milliseconds", []uint16{8, 4, 152, 8, 153, 8}, bytesOf(src, uint64(1700000000001), uint64(1700000000999)), 1700000000001, 1700000000999},
		{"microseconds (NTP)", []uint16{8, 4, 154, 8, 155, 8}, bytesOf(src, ntp(1700000000500), ntp(1700000002250)), 1700000000500, 1700000002250},
		{"nanoseconds (NTP)", []uint16{8, 4, 156, 8, 157, 8}, bytesOf(src, ntp(1700000000750), ntp(1700000003000)), 1700000000750, 1700000003000},
		{"NTP in 4 bytes: not read", []uint16{8, 4, 154, 4}, bytesOf(src, uint32(12345)), 0, 0},
		{"µs before the export", []uint16{8, 4, 158, 4, 159, 4}, bytesOf(src, uint32(5_000_000), uint32(1_500)), export*1000 - 5000, export*1000 - 1},
		{"start alone", []uint16{8, 4, 152, 8}, bytesOf(src, uint64(1700000000001)), 1700000000001, 1700000000001},
		{"uptime, no boot time stated", []uint16{8, 4, 22, 4, 21, 4}, bytesOf(src, uint32(1000), uint32(3000)), 1000, 3000},
		{"no time", []uint16{8, 4}, src, 0, 0},
	} {
		d := New("x")
		out, errs := run(t, d, exA, ipfix(export, 1, set(2, tmpl(256, c.fields...)), set(256, c.data)))
		if errs[0] != nil || len(out) != 1 {
			t.Errorf("%s: %d records, %v", c.name, len(out), errs[0])
			continue
		}
		if f := out[0]; f.TStartNs != ms(c.start) || f.TEndNs != ms(c.end) {
			t.Errorf("%s: %d..%d, want %d..%d", c.name, f.TStartNs/1e6, f.TEndNs/1e6, c.start, c.end)
		}
	}

	// IPFIX uptime from the boot time an options record stated.
	d := New("x")
	const boot = 1699990000000
	out, _ := run(t, d, exA, ipfix(export, 1,
		set(3, ipfixOpts(300, 1, 144, 4, 160, 8)), set(300, bytesOf(uint32(1), uint64(boot))),
		set(2, tmpl(256, 8, 4, 22, 4, 21, 4)), set(256, bytesOf(src, uint32(1000), uint32(3000)))))
	if len(out) != 1 || out[0].TStartNs != ms(boot+1000) || out[0].TEndNs != ms(boot+3000) || d.Stats.OptionRecords != 1 {
		t.Errorf("uptime after a stated boot time: %+v, stats %+v", out, d.Stats)
	}

	// v9: boot from the header (unix secs - uptime); a first seen after
	// the last means the uptime wrapped; a last seen alone is also the first.
	d = New("x")
	const v9boot = 1700000000*1000 - 60000
	out, _ = run(t, d, exA, v9(60000, 1700000000, 1, set(0, tmpl(256, 8, 4, 22, 4, 21, 4), tmpl(257, 8, 4, 21, 4)),
		set(256, bytesOf(src, uint32(10000), uint32(20000)), bytesOf(src, uint32(0xffffff00), uint32(100)),
			bytesOf(src, uint32(500), uint32(500))),
		set(257, bytesOf(src, uint32(30000)))))
	want := [][2]int64{{v9boot + 10000, v9boot + 20000}, {v9boot + 0xffffff00 - 1<<32, v9boot + 100}, {v9boot + 500, v9boot + 500}, {v9boot + 30000, v9boot + 30000}}
	if len(out) != len(want) {
		t.Fatalf("v9 uptimes: %d records", len(out))
	}
	for i, w := range want {
		if out[i].TStartNs != ms(w[0]) || out[i].TEndNs != ms(w[1]) || out[i].Source != "netflow9" {
			t.Errorf("v9 record %d: %d..%d %s, want %d..%d", i, out[i].TStartNs/1e6, out[i].TEndNs/1e6, out[i].Source, w[0], w[1])
		}
	}
}

// TestICMP: ICMP flows carry type*256+code in the destination port, as
// nfdump prints them, from whichever elements state them.
func TestICMP(t *testing.T) {
	src := ip4("10.0.0.1")
	for _, c := range []struct {
		name         string
		fields       []uint16
		data         []byte
		sport, dport int32
	}{
		{"icmpTypeCodeIPv4", []uint16{8, 4, 4, 1, 7, 2, 11, 2, 32, 2}, bytesOf(src, uint8(1), uint16(9), uint16(9), uint16(0x0303)), 0, 0x0303},
		{"icmpTypeCodeIPv6", []uint16{8, 4, 4, 1, 139, 2}, bytesOf(src, uint8(58), uint16(0x8000)), 0, 0x8000},
		{"type and code", []uint16{8, 4, 4, 1, 176, 1, 177, 1}, bytesOf(src, uint8(1), uint8(8), uint8(3)), 0, 0x0803},
		{"code and type", []uint16{8, 4, 4, 1, 177, 1, 176, 1}, bytesOf(src, uint8(1), uint8(3), uint8(8)), 0, 0x0803},
		{"IPv6 type and code", []uint16{8, 4, 4, 1, 178, 1, 179, 1}, bytesOf(src, uint8(58), uint8(135), uint8(0)), 0, 135 << 8},
		{"TCP: ports, not the ICMP field", []uint16{8, 4, 4, 1, 7, 2, 11, 2, 32, 2}, bytesOf(src, uint8(6), uint16(1234), uint16(80), uint16(0x0303)), 1234, 80},
		{"ICMP without its field", []uint16{8, 4, 4, 1, 7, 2, 11, 2}, bytesOf(src, uint8(1), uint16(0), uint16(0x0800)), 0, 0x0800},
	} {
		out, errs := run(t, New("x"), exA, ipfix(1, 1, set(2, tmpl(256, c.fields...)), set(256, c.data)))
		if errs[0] != nil || len(out) != 1 || out[0].SPort != c.sport || out[0].DPort != c.dport {
			t.Errorf("%s: %+v %v; want ports %d, %d", c.name, out, errs[0], c.sport, c.dport)
		}
	}
}

// TestBiflowCounters: RFC 5103 reverse elements, initiator/responder
// counters (Cisco ASA) and total counters fill the in and out columns.
func TestBiflowCounters(t *testing.T) {
	src := ip4("10.0.0.1")
	rev := func(ie uint16, n uint16) []uint16 {
		return []uint16{ie | 0x8000, n, penReverse >> 16, penReverse & 0xffff}
	}
	cat := func(xs ...[]uint16) []uint16 {
		var out []uint16
		for _, x := range xs {
			out = append(out, x...)
		}
		return out
	}
	for _, c := range []struct {
		name                   string
		fields                 []uint16
		data                   []byte
		ibyt, ipkt, obyt, opkt int64
	}{
		{"RFC 5103 reverse octets and packets", cat([]uint16{8, 4, 1, 4, 2, 4}, rev(1, 4), rev(2, 4)),
			bytesOf(src, uint32(1000), uint32(10), uint32(5000), uint32(20)), 1000, 10, 5000, 20},
		{"another enterprise's octets", cat([]uint16{8, 4, 1, 4}, []uint16{1 | 0x8000, 4, 0, 9}), bytesOf(src, uint32(1000), uint32(77)), 1000, 0, 0, 0},
		{"initiator and responder", []uint16{8, 4, 231, 4, 232, 4, 298, 4, 299, 4},
			bytesOf(src, uint32(300), uint32(400), uint32(3), uint32(4)), 300, 3, 400, 4},
		{"responder alone", []uint16{8, 4, 232, 4, 299, 4}, bytesOf(src, uint32(400), uint32(4)), 0, 0, 400, 4},
		{"totals", []uint16{8, 4, 85, 8, 86, 8}, bytesOf(src, uint64(9000), uint64(9)), 9000, 9, 0, 0},
		{"in counters win over initiator ones", []uint16{8, 4, 1, 4, 2, 4, 231, 4, 298, 4},
			bytesOf(src, uint32(100), uint32(1), uint32(300), uint32(3)), 100, 1, 0, 0},
		{"numbers of 0 or 9 bytes: not read", []uint16{8, 4, 1, 0, 2, 9}, bytesOf(src, make([]byte, 8), uint8(1)), 0, 0, 0, 0},
	} {
		d := New("x")
		out, errs := run(t, d, exA, ipfix(1, 1, set(2, tmpl(256, c.fields...)), set(256, c.data)))
		if errs[0] != nil || len(out) != 1 {
			t.Errorf("%s: %d records, %v", c.name, len(out), errs[0])
			continue
		}
		if f := out[0]; f.IByt != c.ibyt || f.IPkt != c.ipkt || f.OByt != c.obyt || f.OPkt != c.opkt {
			t.Errorf("%s: in %d B %d pkts, out %d B %d pkts; want %d %d %d %d", c.name, f.IByt, f.IPkt, f.OByt, f.OPkt, c.ibyt, c.ipkt, c.obyt, c.opkt)
		}
	}
}

// TestAddressFields: templates with IPv4 and IPv6 addresses both (the
// unused ones zero) and templates with none.
func TestAddressFields(t *testing.T) {
	for _, c := range []struct {
		name     string
		fields   []uint16
		data     []byte
		sip, dip string
	}{
		{"v4 zero, then v6", []uint16{8, 4, 12, 4, 27, 16, 28, 16},
			bytesOf(ip4("0.0.0.0"), ip4("10.0.0.2"), ip6("2001:db8::1"), ip6("::")), "2001:db8::1", "10.0.0.2"},
		{"v6, then v4 zero", []uint16{27, 16, 28, 16, 8, 4, 12, 4},
			bytesOf(ip6("2001:db8::1"), ip6("::"), ip4("0.0.0.0"), ip4("10.0.0.2")), "2001:db8::1", "10.0.0.2"},
		{"v6 then v4, both given: the last", []uint16{27, 16, 28, 16, 8, 4, 12, 4},
			bytesOf(ip6("2001:db8::1"), ip6("2001:db8::2"), ip4("10.0.0.1"), ip4("10.0.0.2")), "10.0.0.1", "10.0.0.2"},
		{"v4 then v6, both given: the last", []uint16{8, 4, 12, 4, 27, 16, 28, 16},
			bytesOf(ip4("10.0.0.1"), ip4("10.0.0.2"), ip6("2001:db8::1"), ip6("2001:db8::2")), "2001:db8::1", "2001:db8::2"},
		{"all zero", []uint16{8, 4, 12, 4, 27, 16, 28, 16}, make([]byte, 40), "0.0.0.0", "0.0.0.0"},
		{"v6 only", []uint16{27, 16, 28, 16}, bytesOf(ip6("::"), ip6("2001:db8::2")), "::", "2001:db8::2"},
		{"none", []uint16{7, 2, 11, 2}, bytesOf(uint16(1), uint16(2)), "0.0.0.0", "0.0.0.0"},
		{"a v4 address in 16 bytes: not read", []uint16{8, 16, 12, 4}, bytesOf(make([]byte, 15), uint8(1), ip4("10.0.0.2")), "0.0.0.0", "10.0.0.2"},
	} {
		out, errs := run(t, New("x"), exA, ipfix(1, 1, set(2, tmpl(256, c.fields...)), set(256, c.data)))
		if errs[0] != nil || len(out) != 1 || out[0].SIP != c.sip || out[0].DIP != c.dip {
			t.Errorf("%s: %+v %v; want %s -> %s", c.name, out, errs[0], c.sip, c.dip)
		}
	}
}

// TestSampling: the sampling interval an options record states applies to
// the exporter's later flows, unless a flow states its own.
func TestSampling(t *testing.T) {
	src := ip4("10.0.0.1")
	d := New("x")
	out, errs := run(t, d, exA, v9(1, 2, 5,
		set(1, v9Opts(300, []uint16{1, 4}, []uint16{34, 4, 35, 1, 1, 4})),
		set(300, bytesOf(uint32(0), uint32(512), uint8(2), uint32(99))),
		set(0, tmpl(256, 8, 4), tmpl(257, 8, 4, 34, 2)),
		set(256, src), set(257, bytesOf(src, uint16(64)))))
	if errs[0] != nil || len(out) != 2 || out[0].Sampling != 512 || out[1].Sampling != 64 || d.Stats.OptionRecords != 1 || d.Stats.Records != 2 {
		t.Errorf("v9: %+v %v, stats %+v", out, errs[0], d.Stats)
	}
	// IPFIX: every field a scope field; samplingInterval as scope.
	d = New("x")
	out, errs = run(t, d, exA, ipfix(1, 5,
		set(3, ipfixOpts(300, 1, 305, 4)), set(300, bytesOf(uint32(1000))),
		set(2, tmpl(256, 8, 4)), set(256, src)))
	if errs[0] != nil || len(out) != 1 || out[0].Sampling != 1000 {
		t.Errorf("ipfix: %+v %v", out, errs[0])
	}
	// Another exporter is not sampled.
	out, _ = run(t, d, exB, ipfix(1, 5, set(2, tmpl(256, 8, 4)), set(256, src)))
	if len(out) != 1 || out[0].Sampling != 0 {
		t.Errorf("another exporter: %+v", out)
	}
}

// TestTemplateErrors: malformed template records are errors that name them;
// the records before them are kept.
func TestTemplateErrors(t *testing.T) {
	for _, c := range []struct {
		name string
		p    []byte
		err  string
	}{
		{"a field past its set", ipfix(1, 1, set(2, bytesOf(uint16(256), uint16(3), uint16(8), uint16(4), uint16(12), uint16(4)))),
			"template 256: field 3 of 3 runs past its set"},
		{"an enterprise field past its set", ipfix(1, 1, set(2, bytesOf(uint16(256), uint16(2), uint16(8), uint16(4), uint16(0x8001), uint16(4), uint16(0)))),
			"template 256: enterprise field 2 runs past its set"},
		{"IPFIX options: more scope fields than fields", ipfix(1, 1, set(3, ipfixOpts(300, 2, 144, 4))),
			"template 300: 2 scope fields of 1"},
		{"IPFIX options: fields missing", ipfix(1, 1, set(3, bytesOf(uint16(300), uint16(2), uint16(1)))),
			"template 300: field 1 of 2 runs past its set"},
		{"v9 options: fields missing", v9(1, 2, 3, set(1, bytesOf(uint16(300), uint16(4), uint16(4)))),
			"template 300: field 1 of 2 runs past its set"},
	} {
		d := New("x")
		out, errs := run(t, d, exA, c.p)
		if !errIs(errs[0], c.err) || len(out) != 0 || d.Stats.Templates != 0 || d.Stats.Malformed != 1 {
			t.Errorf("%s: %v, stats %+v; want %q", c.name, errs[0], d.Stats, c.err)
		}
	}
	// A template before the bad one is kept, and decodes.
	d := New("x")
	out, errs := run(t, d, exA, ipfix(1, 1, set(2, tmpl(256, 8, 4), bytesOf(uint16(257), uint16(1))), set(256, ip4("10.0.0.1"))))
	if errs[0] == nil || len(out) != 0 || d.Stats.Templates != 1 {
		t.Errorf("a good template before a bad one: %v, stats %+v", errs[0], d.Stats)
	}
	out, _ = run(t, d, exA, ipfix(1, 1, set(256, ip4("10.0.0.1"))))
	if len(out) != 1 {
		t.Errorf("the good template does not decode: %d records", len(out))
	}
}

// TestWithdrawal: IPFIX template withdrawals (RFC 7011 8.1), of one
// template and of all; a template id below 256 ends the set (padding).
func TestWithdrawal(t *testing.T) {
	src := ip4("10.0.0.1")
	tpls := set(2, tmpl(256, 8, 4), tmpl(257, 8, 4))
	data := ipfix(1, 1, set(256, src), set(257, src))
	count := func(d *Decoder, p ...[]byte) int {
		out, _ := run(t, d, exA, p...)
		return len(out)
	}
	d := New("x")
	if n := count(d, ipfix(1, 1, tpls), data); n != 2 {
		t.Fatalf("%d records before withdrawals", n)
	}
	if n := count(d, ipfix(1, 1, set(2, tmpl(256), tmpl(999))), data); n != 1 || d.Stats.Pending != 1 {
		t.Errorf("256 withdrawn (and 999, never defined): %d records, stats %+v", n, d.Stats)
	}
	if n := count(d, ipfix(1, 1, set(2, tmpl(2), tmpl(258, 8, 4))), data, ipfix(1, 1, set(258, src))); n != 1 || d.tmplBytes != d.sessions[sessionKey{exA, 10, 1}].templates[258].size {
		t.Errorf("all withdrawn, then 258 defined: %d records, %d template bytes", n, d.tmplBytes)
	}
	// A withdrawal from an exporter with no templates changes nothing.
	if n := count(New("x"), ipfix(1, 1, set(2, tmpl(256), tmpl(2))), ipfix(1, 1, tpls), data); n != 2 {
		t.Errorf("withdrawals before any template: %d records", n)
	}
	// Template id 3 (reserved) with no fields: the rest of the set is padding.
	d = New("x")
	if n := count(d, ipfix(1, 1, set(2, tmpl(256, 8, 4), tmpl(3), tmpl(257, 8, 4))), data); n != 1 || d.Stats.Templates != 1 {
		t.Errorf("after a reserved id: %d records, stats %+v", n, d.Stats)
	}
	// An options template is withdrawn by id too (6-byte header, no fields).
	d = New("x")
	count(d, ipfix(1, 1, set(3, ipfixOpts(300, 1, 34, 4)), set(300, bytesOf(uint32(10)))))
	count(d, ipfix(1, 1, set(3, ipfixOpts(300, 0))), ipfix(1, 1, set(300, bytesOf(uint32(20)))))
	if d.Stats.OptionRecords != 1 || d.Stats.Pending != 1 || d.tmplBytes != 0 {
		t.Errorf("options template withdrawn: stats %+v, %d template bytes", d.Stats, d.tmplBytes)
	}
}

// TestVariableLength: variable-length fields (RFC 7011 7), one-byte and
// three-byte length prefixes, empty at a set's end.
func TestVariableLength(t *testing.T) {
	src := ip4("10.0.0.1")
	for _, c := range []struct {
		name   string
		fields []uint16
		data   []byte
		recs   int
		sip    string // of every record
		ibyt   int64
	}{
		{"short prefix", []uint16{8, 4, 82, varLen, 1, 4}, bytesOf(src, uint8(3), "eth", uint32(77)), 1, "10.0.0.1", 77},
		{"long prefix", []uint16{8, 4, 82, varLen, 1, 4}, bytesOf(src, uint8(255), uint16(3), "eth", uint32(77)), 1, "10.0.0.1", 77},
		{"empty at the set's end", []uint16{8, 4, 82, varLen}, bytesOf(src, uint8(0)), 1, "10.0.0.1", 0},
		{"empty, long prefix, at the set's end", []uint16{8, 4, 82, varLen}, bytesOf(src, uint8(255), uint16(0)), 1, "10.0.0.1", 0},
		{"first, then one byte", []uint16{82, varLen, 4, 1}, bytesOf(uint8(3), "eth", uint8(6)), 1, "0.0.0.0", 0},
		{"two records, then a cut one", []uint16{8, 4, 82, varLen, 1, 4},
			bytesOf(src, uint8(1), "a", uint32(77), src, uint8(0), uint32(77), src, uint8(5), "ab"), 2, "10.0.0.1", 77},
		{"cut in its long prefix", []uint16{8, 4, 82, varLen}, bytesOf(src, uint8(0), src, uint8(255), uint8(0)), 1, "10.0.0.1", 0},
		{"cut before its prefix", []uint16{8, 4, 82, varLen, 1, 4}, bytesOf(src, uint8(0), uint32(77), src), 1, "10.0.0.1", 77},
	} {
		d := New("x")
		out, errs := run(t, d, exA, ipfix(1, 1, set(2, tmpl(256, c.fields...)), set(256, c.data)))
		if errs[0] != nil || len(out) != c.recs {
			t.Errorf("%s: %d records, %v; want %d", c.name, len(out), errs[0], c.recs)
			continue
		}
		for _, f := range out {
			if f.SIP != c.sip || f.IByt != c.ibyt {
				t.Errorf("%s: %+v", c.name, f)
			}
		}
	}
	// The first field variable and a one-byte field: the record's proto.
	out, _ := run(t, New("x"), exA, ipfix(1, 1, set(2, tmpl(256, 82, varLen, 4, 1)), set(256, bytesOf(uint8(0), uint8(17)))))
	if len(out) != 1 || out[0].Proto != "UDP" {
		t.Errorf("a variable field first: %+v", out)
	}
}

// TestTemplateMemory: Limits.TemplateBytes bounds what templates hold: each
// counts at least its bytes and its fields; a limit of 0 is no limit.
func TestTemplateMemory(t *testing.T) {
	d := New("x")
	run(t, d, exA, ipfix(1, 1, set(2, tmpl(256, 8, 4, 12, 4, 7, 2, 11, 2, 1, 4))))
	tm := d.sessions[sessionKey{exA, 10, 1}].templates[256]
	if min := len(tm.raw) + len(tm.fields)*int(unsafe.Sizeof(field{})); d.tmplBytes != tm.size || tm.size < min {
		t.Errorf("template of %d raw bytes and %d fields counts %d bytes (%d in all), want ≥ %d", len(tm.raw), len(tm.fields), tm.size, d.tmplBytes, min)
	}
	size := tm.size
	// A vendor template of a hundred fields (Cisco's and Palo Alto's have
	// 80 and more) counts its fields' memory, not a constant.
	big := New("x")
	var fields []uint16
	for i := range 100 {
		fields = append(fields, uint16(400+i), 4)
	}
	run(t, big, exA, ipfix(1, 1, set(2, tmpl(256, fields...))))
	tm = big.sessions[sessionKey{exA, 10, 1}].templates[256]
	if min := len(tm.raw) + len(tm.fields)*int(unsafe.Sizeof(field{})); len(tm.fields) != 100 || tm.size < min {
		t.Errorf("template of %d raw bytes and %d fields counts %d bytes, want ≥ %d", len(tm.raw), len(tm.fields), tm.size, min)
	}
	p := func(id uint16) []byte { return ipfix(1, 1, set(2, tmpl(id, 8, 4, 12, 4, 7, 2, 11, 2, 1, 4))) }
	d = New("x")
	d.Limits.TemplateBytes = 2 * size
	run(t, d, exA, p(256), p(257), p(258))
	if d.Stats.Templates != 2 || d.Stats.TemplatesCapped != 1 || d.tmplBytes != 2*size {
		t.Errorf("room for exactly 2: stats %+v, %d bytes", d.Stats, d.tmplBytes)
	}
	// A redefinition at the limit replaces the old template's bytes; a
	// resend changes nothing.
	run(t, d, exA, ipfix(1, 1, set(2, tmpl(256, 8, 4, 12, 4, 7, 2, 11, 2, 2, 4))), p(257))
	if d.Stats.Templates != 3 || d.tmplBytes != 2*size {
		t.Errorf("after a redefinition: stats %+v, %d bytes", d.Stats, d.tmplBytes)
	}
	// A redefinition that does not fit drops the old template: its data
	// is held, not read with the old layout.
	run(t, d, exA, ipfix(1, 1, set(2, tmpl(256, 8, 4, 12, 4, 7, 2, 11, 2, 2, 4, 1, 4))))
	out, _ := run(t, d, exA, ipfix(1, 1, set(256, make([]byte, 20))), ipfix(1, 1, set(257, make([]byte, 16))))
	if len(out) != 1 || d.Stats.TemplatesCapped != 2 || d.Stats.Pending != 1 || d.tmplBytes != size {
		t.Errorf("a redefinition past the limit: %d records, stats %+v, %d bytes", len(out), d.Stats, d.tmplBytes)
	}
	d = New("x")
	d.Limits.TemplateBytes = 0
	run(t, d, exA, p(256), p(257), p(258))
	if d.Stats.Templates != 3 || d.Stats.TemplatesCapped != 0 {
		t.Errorf("TemplateBytes 0: stats %+v", d.Stats)
	}
}

// TestFixedLayoutChoice: templates read by offsets are those where the
// order of the fields cannot change a value (the vendor samples' templates
// are checked in TestFixedLayout, with the corpus).
func TestFixedLayoutChoice(t *testing.T) {
	f := func(act action, n uint16) field { return field{length: n, act: act} }
	for _, c := range []struct {
		name   string
		fields []field
		want   int // fields kept; -1: not fixed
	}{
		{"a v6 destination alone", []field{f(aDst6, 16), f(aSkip, 4)}, 1},
		{"v4 and v6 destinations", []field{f(aDst4, 4), f(aDst6, 16)}, -1},
		{"a start and an end", []field{f(aStartMs, 8), f(aEndMs, 8)}, 2},
		{"two ends", []field{f(aEndSec, 4), f(aEndNTP, 8)}, -1},
		{"ICMP type-code alone", []field{f(aICMPTypeCode, 2)}, 1},
		{"ICMP code and type-code", []field{f(aICMPCode, 1), f(aICMPTypeCode, 2)}, -1},
		{"responder packets", []field{f(aRespPkts, 4), f(aInitPkts, 4)}, 2},
	} {
		got := fixedLayout(c.fields)
		if (got == nil) != (c.want < 0) || c.want >= 0 && len(got) != c.want {
			t.Errorf("%s: fixedLayout = %v, want %d fields", c.name, got, c.want)
		}
	}
}
