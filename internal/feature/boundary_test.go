package feature

import (
	"math"
	"math/bits"
	"strconv"
	"strings"
	"testing"

	"github.com/spot-hunt/spot/internal/record"
)

// Word rules at their edges, against Apache Spot's rules as
// reference/apache-spot.md §2.3-2.4 states them. The expected values are
// written from the rules (or from math/bits), not from this package.

// Spot's port table: both 0 -> 0; dport 0 -> sport, src "-1_"; sport 0 ->
// dport, dst "-1_"; both <= 1024 -> 111111; sport <= 1024 < dport ->
// sport, src "-1_"; sport > 1024 >= dport -> dport, dst "-1_"; both > 1024
// -> 333333.
func TestFlowPortBoundaries(t *testing.T) {
	cases := []struct {
		sport, dport int32
		p            int32
		src, dst     bool // "-1_" on the source, destination word
	}{
		{1023, 1023, 111111, false, false},
		{1023, 1024, 111111, false, false},
		{1023, 1025, 1023, true, false},
		{1024, 1023, 111111, false, false},
		{1024, 1024, 111111, false, false},
		{1024, 1025, 1024, true, false},
		{1025, 1023, 1023, false, true},
		{1025, 1024, 1024, false, true},
		{1025, 1025, 333333, false, false},
		{0, 0, 0, false, false},
		{1, 0, 1, true, false},
		{0, 1, 1, false, true},
		{1, 1, 111111, false, false},
		{0, 1025, 1025, false, true},
		{1025, 0, 1025, true, false},
		{0, 1024, 1024, false, true},
		{1024, 0, 1024, true, false},
		{1, 65535, 1, true, false},
		{65535, 1, 1, false, true},
		{65535, 65535, 333333, false, false},
	}
	for _, c := range cases {
		p, sp, dp := FlowWordParts(c.sport, c.dport)
		if p != c.p || sp != c.src || dp != c.dst {
			t.Errorf("%d -> %d: P %d, prefixes %v %v; want %d, %v %v", c.sport, c.dport, p, sp, dp, c.p, c.src, c.dst)
		}
		base := strconv.Itoa(int(c.p)) + "_TCP_7_0_0"
		wantSrc, wantDst := base, base
		if c.src {
			wantSrc = "-1_" + base
		}
		if c.dst {
			wantDst = "-1_" + base
		}
		if s, d := FlowWords(c.sport, c.dport, "TCP", 7, 0, 0); s != wantSrc || d != wantDst {
			t.Errorf("%d -> %d: words %q %q, want %q %q", c.sport, c.dport, s, d, wantSrc, wantDst)
		}
	}
}

// ceilLog2(n+1) is the bit length of n: 0 -> 0, 1 -> 1, 2..3 -> 2,
// 4..7 -> 3, ...; checked at 2^k-1, 2^k and 2^k+1 for bytes and packets.
func TestFlowByteAndPacketBins(t *testing.T) {
	for k := 0; k < 53; k++ {
		for _, n := range []int64{1<<k - 1, 1 << k, 1<<k + 1} {
			want := strconv.Itoa(bits.Len64(uint64(n)))
			_, dst := FlowWords(40000, 80, "UDP", 0, n, 3)
			if w := "-1_80_UDP_0_" + want + "_2"; dst != w {
				t.Errorf("ibyt %d: %q, want %q", n, dst, w)
			}
			_, dst = FlowWords(40000, 80, "UDP", 0, 3, n)
			if w := "-1_80_UDP_0_2_" + want; dst != w {
				t.Errorf("ipkt %d: %q, want %q", n, dst, w)
			}
		}
	}
}

// Flow hours are trhour as is; rows outside 0-23 h, 0-59 min and s, or
// with a negative port, byte or packet count are Spot's invalid records.
func TestFlowHourAndRejectBoundaries(t *testing.T) {
	for h := int32(0); h < 24; h++ {
		if _, dst := FlowWords(40000, 80, "TCP", h, 0, 0); dst != "-1_80_TCP_"+strconv.Itoa(int(h))+"_0_0" {
			t.Errorf("hour %d: %q", h, dst)
		}
	}
	ok := record.Flow{TReceived: "2016-05-05 13:54:58", SIP: "a", DIP: "b"}
	cases := []struct {
		set  func(*record.Flow, int64)
		good []int64
		bad  []int64
	}{
		{func(r *record.Flow, v int64) { r.TrHour = int32(v) }, []int64{0, 23}, []int64{-1, 24}},
		{func(r *record.Flow, v int64) { r.TrMinute = int32(v) }, []int64{0, 59}, []int64{-1, 60}},
		{func(r *record.Flow, v int64) { r.TrSec = int32(v) }, []int64{0, 59}, []int64{-1, 60}},
		{func(r *record.Flow, v int64) { r.SPort = int32(v) }, []int64{0, 65535}, []int64{-1}},
		{func(r *record.Flow, v int64) { r.DPort = int32(v) }, []int64{0, 65535}, []int64{-1}},
		{func(r *record.Flow, v int64) { r.IByt = v }, []int64{0, 1}, []int64{-1}},
		{func(r *record.Flow, v int64) { r.IPkt = v }, []int64{0, 1}, []int64{-1}},
	}
	for i, c := range cases {
		for _, v := range c.good {
			r := ok
			c.set(&r, v)
			if why := FlowReject(&r); why != "" {
				t.Errorf("case %d value %d rejected: %s", i, v, why)
			}
		}
		for _, v := range c.bad {
			r := ok
			c.set(&r, v)
			if FlowReject(&r) == "" {
				t.Errorf("case %d value %d kept", i, v)
			}
		}
	}
}

// log2floor(n) is the bit length of n less one (0 for 0).
func log2floor(n int) int {
	if n <= 0 {
		return 0
	}
	return bits.Len(uint(n)) - 1
}

// DNS words at the edges of frame length, hour, subdomain length and
// label count: the fields are class_len_hour_sublen_entropy_parts_type_rcode.
func TestDNSWordBoundaries(t *testing.T) {
	f := New(record.KindDNS, Options{})
	word := func(frameLen int32, hour int, name string) []string {
		r := &record.DNS{FrameTime: "Jan  4, 2017 " + strconv.Itoa(hour) + ":41:06.337519000 UTC", FrameLen: frameLen,
			IPDst: "10.0.0.1", QryName: name, QryType: 16, QryRcode: 3, Response: true}
		if why := DNSReject(r); why != "" {
			t.Fatalf("%+v rejected: %s", r, why)
		}
		return strings.Split(f.DNSWord(r), "_")
	}
	for k := 0; k < 16; k++ {
		for _, n := range []int{1<<k - 1, 1 << k, 1<<k + 1} {
			if w := word(int32(n), 1, "a.example.com"); w[1] != strconv.Itoa(log2floor(n)) {
				t.Errorf("frame_len %d: %v", n, w)
			}
		}
	}
	for h := 0; h < 24; h++ {
		if w := word(100, h, "a.example.com"); w[2] != strconv.Itoa(h) {
			t.Errorf("hour %d: %v", h, w)
		}
	}
	// subdomain lengths 1, 2^k-1, 2^k, 2^k+1 (in labels of one letter
	// and dots), each with the label count that goes with it
	for k := 1; k < 8; k++ {
		for _, n := range []int{1<<k - 1, 1 << k, 1<<k + 1} {
			sub := strings.Repeat("a", n)
			if w := word(100, 1, sub+".example.com"); w[3] != strconv.Itoa(log2floor(n)) || w[5] != "1" {
				t.Errorf("subdomain of %d letters: %v", n, w)
			}
		}
	}
	for _, labels := range []int{1, 2, 3, 4, 5, 7, 8, 9, 15, 16, 17} {
		sub := strings.TrimSuffix(strings.Repeat("a.", labels), ".")
		w := word(100, 1, sub+".example.com")
		if w[5] != strconv.Itoa(log2floor(labels+2)) || w[3] != strconv.Itoa(log2floor(2*labels-1)) {
			t.Errorf("%d subdomain labels: %v", labels, w)
		}
	}
	// no subdomain: length and entropy 0
	if w := word(100, 1, "example.com"); w[3] != "0" || w[4] != "0" || w[5] != "1" || w[6] != "16" || w[7] != "3" {
		t.Errorf("no subdomain: %v", w)
	}
}

// Entropy bins: a value on a cut falls in that cut's bin, the next float
// above it in the next bin; and subdomains whose entropy is exactly 1, 2,
// 3 and 4 bits.
func TestEntropyBinEdges(t *testing.T) {
	cuts := []float64{0, 0.3, 0.6, 0.9, 1.2, 1.5, 1.8, 2.1, 2.4, 2.7, 3.0, 3.3, 3.6, 3.9, 4.2, 4.5, 4.8, 5.1, 5.4}
	if len(EntropyCuts) != 20 || !math.IsInf(EntropyCuts[19], 1) {
		t.Fatalf("cuts %v", EntropyCuts)
	}
	for i, c := range cuts {
		if EntropyCuts[i] != c {
			t.Errorf("cut %d is %v, want %v", i, EntropyCuts[i], c)
		}
		if b := Bin(c, EntropyCuts); b != i {
			t.Errorf("Bin(%v) = %d, want %d", c, b, i)
		}
		if b := Bin(math.Nextafter(c, math.Inf(-1)), EntropyCuts); i > 0 && b != i {
			t.Errorf("Bin(just under %v) = %d, want %d", c, b, i)
		}
		if b := Bin(math.Nextafter(c, math.Inf(1)), EntropyCuts); b != i+1 {
			t.Errorf("Bin(just over %v) = %d, want %d", c, b, i+1)
		}
	}
	if Bin(math.MaxFloat64, EntropyCuts) != 19 || Bin(-1, EntropyCuts) != 0 || Bin(1, []float64{0}) != -1 {
		t.Error("bins beyond the cuts")
	}
	f := New(record.KindDNS, Options{})
	for _, c := range []struct {
		sub  string
		bits float64
		bin  string
	}{{"ab", 1, "4"}, {"abcd", 2, "7"}, {"abcdefgh", 3, "10"}, {"abcdefghijklmnop", 4, "14"}, {"aaaa", 0, "0"}} {
		if e := Entropy(c.sub); math.Abs(e-c.bits) > 1e-12 {
			t.Errorf("entropy(%s) = %v", c.sub, e)
		}
		r := &record.DNS{FrameTime: "Jan  4, 2017 04:41:06.337519000 UTC", FrameLen: 100, IPDst: "10.0.0.1",
			QryName: c.sub + ".example.com", Response: true}
		if w := strings.Split(f.DNSWord(r), "_"); w[4] != c.bin {
			t.Errorf("%s: entropy bin %s, want %s (%v)", c.sub, w[4], c.bin, w)
		}
	}
}

// Proxy words at the edges of hour, user-agent count and URI length:
// class_hour_method_entropy_ctype_log2(uaCount)_log2(len)_respcode.
func TestProxyWordBoundaries(t *testing.T) {
	f := New(record.KindProxy, Options{})
	r := record.Proxy{PDate: "2016-10-03", ClientIP: "10.0.0.1", Host: "example.com", ReqMethod: "GET",
		ResContType: "text/html", RespCode: "404"}
	for h := 0; h < 24; h++ {
		r.PTime = strconv.Itoa(h) + ":57:36"
		r.FullURI = "example.com/x"
		if w := strings.Split(f.ProxyWord(&r, 1), "_"); w[1] != strconv.Itoa(h) {
			t.Errorf("hour %d: %v", h, w)
		}
	}
	r.PTime = "04:57:36"
	for k := 0; k < 40; k++ {
		for _, n := range []int64{1<<k - 1, 1 << k, 1<<k + 1} {
			if w := strings.Split(f.ProxyWord(&r, n), "_"); w[5] != strconv.Itoa(log2floor(int(n))) {
				t.Errorf("user-agent count %d: %v", n, w)
			}
		}
	}
	for k := 4; k < 12; k++ {
		for _, n := range []int{1<<k - 1, 1 << k, 1<<k + 1} {
			r.FullURI = "example.com/" + strings.Repeat("p", n-len("example.com/"))
			if w := strings.Split(f.ProxyWord(&r, 1), "_"); w[6] != strconv.Itoa(log2floor(n)) || w[7] != "404" {
				t.Errorf("uri of %d characters: %v", n, w)
			}
		}
	}
}

// Names made only of dots split as Java's String.split does: no parts.
func TestSplitDomainDotsOnly(t *testing.T) {
	for _, c := range []struct {
		name  string
		parts int
	}{{".", 0}, {"..", 0}, {"a..", 1}, {"", 1}} {
		d, s, n := SplitDomain(c.name, ParserSpot)
		if d != None || s != None || n != c.parts {
			t.Errorf("%q: (%q, %q, %d), want (None, None, %d)", c.name, d, s, n, c.parts)
		}
	}
}

// Only names ending in in-addr.arpa are left without a domain by that
// rule: an in-addr label elsewhere is a label like any other.
func TestSplitDomainInAddr(t *testing.T) {
	if d, s, n := SplitDomain("a.in-addr.com", ParserSpot); d != "in-addr" || s != "a" || n != 3 {
		t.Errorf("a.in-addr.com: (%q, %q, %d)", d, s, n)
	}
	if d, s, _ := SplitDomain("4.3.2.1.in-addr.arpa", ParserSpot); d != None || s != None {
		t.Errorf("4.3.2.1.in-addr.arpa: (%q, %q)", d, s)
	}
}
