package feature

import (
	"math"
	"strconv"
	"strings"
	"testing"

	"github.com/spot-hunt/spot/internal/record"
)

// Spot's FlowWordCreatorTest: 2132 -> 23, UDP, hour 12, 222 bytes, 3 packets.
func TestFlowWordsSpotVector(t *testing.T) {
	src, dst := FlowWords(2132, 23, "UDP", 12, 222, 3)
	if src != "23_UDP_12_8_2" || dst != "-1_23_UDP_12_8_2" {
		t.Fatalf("got src %q dst %q, want 23_UDP_12_8_2 and -1_23_UDP_12_8_2", src, dst)
	}
}

func TestFlowPortRules(t *testing.T) {
	cases := []struct {
		sport, dport int32
		src, dst     string
	}{
		{0, 0, "0_TCP_1_1_1", "0_TCP_1_1_1"},
		{5000, 0, "-1_5000_TCP_1_1_1", "5000_TCP_1_1_1"},
		{0, 80, "80_TCP_1_1_1", "-1_80_TCP_1_1_1"},
		{53, 80, "111111_TCP_1_1_1", "111111_TCP_1_1_1"},
		{1024, 1024, "111111_TCP_1_1_1", "111111_TCP_1_1_1"},
		{443, 50000, "-1_443_TCP_1_1_1", "443_TCP_1_1_1"},
		{50000, 1024, "1024_TCP_1_1_1", "-1_1024_TCP_1_1_1"},
		{1025, 50000, "333333_TCP_1_1_1", "333333_TCP_1_1_1"},
	}
	for _, c := range cases {
		s, d := FlowWords(c.sport, c.dport, "TCP", 1, 1, 1)
		if s != c.src || d != c.dst {
			t.Errorf("%d->%d: got %q %q want %q %q", c.sport, c.dport, s, d, c.src, c.dst)
		}
	}
}

func TestLogBins(t *testing.T) {
	// ceilLog2 and log2floor against the float formula Spot used, on
	// integers where a correctly rounded log10 is exact.
	for x := 1.0; x < 1<<20; x = math.Floor(x*1.37) + 1 {
		want := int(math.Ceil(math.Log10(x) / math.Log10(2)))
		if got := CeilLog2(x); got != want {
			t.Errorf("CeilLog2(%v) = %d, want %d", x, got, want)
		}
		wantF := int(math.Log10(x) / math.Log10(2))
		if got := Log2Floor(x); got != wantF {
			t.Errorf("Log2Floor(%v) = %d, want %d", x, got, wantF)
		}
	}
	for k := 0; k < 62; k++ {
		x := math.Ldexp(1, k)
		if CeilLog2(x) != k || Log2Floor(x) != k {
			t.Errorf("2^%d: ceil %d floor %d", k, CeilLog2(x), Log2Floor(x))
		}
	}
	if Log2Floor(0) != 0 || Log2Floor(-3) != 0 {
		t.Error("Log2Floor of 0 or negative must be 0")
	}
	if CeilLog2(223) != 8 || CeilLog2(4) != 2 {
		t.Error("Spot's vector bins")
	}
}

func TestEntropy(t *testing.T) {
	if got := Entropy("abcdefg"); math.Abs(got-2.807) > 0.0005 {
		t.Fatalf("entropy(abcdefg) = %v, want 2.807", got)
	}
	if Entropy("") != 0 || Entropy("aaaa") != 0 {
		t.Fatal("entropy of empty or constant string must be 0")
	}
	if got := Entropy("ab"); got != 1 {
		t.Fatalf("entropy(ab) = %v", got)
	}
	if Bin(0, EntropyCuts) != 0 || Bin(2.807, EntropyCuts) != 10 || Bin(100, EntropyCuts) != 19 || Bin(0.3, EntropyCuts) != 1 {
		t.Fatal("entropy bins")
	}
}

// Spot's DNSWordCreationTest.
func TestDNSWordSpotVector(t *testing.T) {
	f := New(record.KindDNS, Options{UserDomain: "apache"})
	r := &record.DNS{FrameTime: "May 20 2016 11:32:00.000000000 UTC", UnixTstamp: 1463743920, FrameLen: 213,
		IPDst: "10.0.0.1", QryName: "abcdefg.apache.com", QryClass: "0x00000001", QryType: 1, QryRcode: 0, Response: true}
	if why := DNSReject(r); why != "" {
		t.Fatalf("rejected: %s", why)
	}
	if got := f.DNSWord(r); got != "2_7_11_2_10_1_1_0" {
		t.Fatalf("got %q want 2_7_11_2_10_1_1_0", got)
	}
	// Without the user domain and without a top-domain list: class 0.
	if got := New(record.KindDNS, Options{}).DNSWord(r); !strings.HasPrefix(got, "0_") {
		t.Fatalf("got %q", got)
	}
	// A top-domain list with apache.org makes it class 1.
	if got := New(record.KindDNS, Options{TopDomains: []string{"apache"}}).DNSWord(r); !strings.HasPrefix(got, "1_") {
		t.Fatalf("got %q", got)
	}
}

func TestSplitDomain(t *testing.T) {
	cases := []struct {
		name      string
		p         DomainParser
		dom, sub  string
		numLabels int
	}{
		{"abcdefg.apache.com", ParserSpot, "apache", "abcdefg", 3},
		{"www.google.co.uk", ParserSpot, "co", "www.google", 4},
		{"www.google.co.uk", ParserPSL, "google", "www", 4},
		{"a.b.example.info", ParserSpot, None, None, 4},
		{"a.b.example.info", ParserPSL, "example", "a.b", 4},
		{"foo.io", ParserSpot, "foo", None, 2},
		{"1.2.3.4.in-addr.arpa", ParserSpot, None, None, 6},
		{"1.2.3.4.in-addr.arpa", ParserPSL, None, None, 6},
		{"com", ParserSpot, None, None, 1},
		{"google.com.", ParserSpot, "google", None, 2},
		{"", ParserSpot, None, None, 1},
	}
	for _, c := range cases {
		d, s, n := SplitDomain(c.name, c.p)
		if d != c.dom || s != c.sub || n != c.numLabels {
			t.Errorf("%s %q: got (%q, %q, %d) want (%q, %q, %d)", c.p, c.name, d, s, n, c.dom, c.sub, c.numLabels)
		}
	}
}

// The PSL option changes the words of names like www.google.co.uk: Spot's
// parser sees domain "co" (not a top domain) with subdomain "www.google".
func TestPSLChangesWord(t *testing.T) {
	r := &record.DNS{FrameTime: "Jan  4, 2017 04:41:06.337519000 UTC", FrameLen: 100, IPDst: "10.0.0.1",
		QryName: "www.google.co.uk", QryType: 1}
	top := []string{"google"}
	spot := New(record.KindDNS, Options{TopDomains: top}).DNSWord(r)
	psl := New(record.KindDNS, Options{TopDomains: top, Parser: ParserPSL}).DNSWord(r)
	// spot: class 0, subdomain "www.google" (10 chars -> 3, entropy 2.45 -> bin 9);
	// psl: class 1, subdomain "www" (3 chars -> 1, entropy 0 -> bin 0)
	if spot != "0_6_4_3_9_2_1_0" {
		t.Errorf("spot parser word %q", spot)
	}
	if psl != "1_6_4_1_0_2_1_0" {
		t.Errorf("psl parser word %q", psl)
	}
}

func TestFlowReject(t *testing.T) {
	ok := record.Flow{TReceived: "2016-05-05 13:54:58", SIP: "a", DIP: "b", TrHour: 13}
	if FlowReject(&ok) != "" {
		t.Fatal("good row rejected")
	}
	for _, mut := range []func(*record.Flow){
		func(r *record.Flow) { r.TrHour = 24 },
		func(r *record.Flow) { r.TrMinute = 60 },
		func(r *record.Flow) { r.TrSec = -1 },
		func(r *record.Flow) { r.SIP = "" },
		func(r *record.Flow) { r.DIP = "" },
		func(r *record.Flow) { r.TReceived = "" },
		func(r *record.Flow) { r.SPort = -1 },
		func(r *record.Flow) { r.IByt = -1 },
		func(r *record.Flow) { r.IPkt = -5 },
	} {
		r := ok
		mut(&r)
		if FlowReject(&r) == "" {
			t.Errorf("bad row kept: %+v", r)
		}
	}
}

func TestProxyWord(t *testing.T) {
	f := New(record.KindProxy, Options{UserDomain: "intel", TopDomains: []string{"google"}})
	r := &record.Proxy{PDate: "2016-10-03", PTime: "04:57:36", ClientIP: "10.0.0.1", Host: "www.google.com",
		ReqMethod: "GET", ResContType: "text/html", RespCode: "200", FullURI: "www.google.com/abc", UserAgent: "UA"}
	if ProxyReject(r) != "" {
		t.Fatal("rejected")
	}
	// ua count 5 -> 2, len 18 -> 4
	e := Bin(Entropy(r.FullURI), EntropyCuts)
	want := "1_4_GET_" + strconv.Itoa(e) + "_text_2_4_200"
	if got := f.ProxyWord(r, 5); got != want {
		t.Fatalf("got %q want %q", got, want)
	}
	r.Host = "mail.intel.com"
	r.ResContType = ""
	r.RespCode = ""
	if got := f.ProxyWord(r, 1); !strings.HasPrefix(got, "2_4_GET_") || !strings.Contains(got, "_-_0_") || !strings.HasSuffix(got, "_unknown_response_code") {
		t.Fatalf("got %q", got)
	}
}

func TestTopDomains(t *testing.T) {
	got, err := ReadTopDomains(strings.NewReader("rank,domain\n1,google.com\n2,Facebook.com\n3,google.co.uk\n4,amazon.de\n"), "x")
	if err != nil {
		t.Fatal(err)
	}
	if strings.Join(got, ",") != "amazon,facebook,google" {
		t.Fatalf("got %v", got)
	}
}

func TestSettingsRoundTrip(t *testing.T) {
	f := New(record.KindProxy, Options{TopDomains: []string{"a", "b"}, UserDomain: "x", Parser: ParserPSL, UserAgents: map[string]int64{"ua": 3}})
	g, err := FromSettings(record.KindProxy, f.Settings())
	if err != nil {
		t.Fatal(err)
	}
	o := g.Options()
	if o.Parser != ParserPSL || o.UserDomain != "x" || len(o.TopDomains) != 2 || o.UserAgents["ua"] != 3 {
		t.Fatalf("got %+v", o)
	}
}
