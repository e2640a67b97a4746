package enrich

import (
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/spot-hunt/spot/internal/enrich/enrichtest"
	"github.com/spot-hunt/spot/internal/record"
)

func write(t *testing.T, name, text string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestIndicators(t *testing.T) {
	p := write(t, "feodo.txt", `# a threat list
indicator,level,label
203.0.113.7
198.51.100.0/24,2
198.51.100.128/25,1,narrower
10.1.1.10-10.1.1.20,3
2001:db8::/32,2
*.evil.example
bad.test,1,mine
http://Drop.Example:80/dl/payload.exe
0.0.0.0 ads.tracker.test
`)
	s, err := LoadIndicators(p, 3)
	if err != nil {
		t.Fatal(err)
	}
	addr := func(ip string) (int32, string, bool) {
		h, ok := s.AddrString(ip)
		return h.Level, h.Label, ok
	}
	for _, tc := range []struct {
		ip    string
		level int32
		label string
		ok    bool
	}{
		{"203.0.113.7", 3, "feodo", true},
		{"203.0.113.8", 0, "", false},
		{"198.51.100.5", 2, "feodo", true},
		{"198.51.100.200", 1, "narrower", true}, // longest prefix wins
		{"10.1.1.9", 0, "", false},
		{"10.1.1.10", 3, "feodo", true},
		{"10.1.1.17", 3, "feodo", true},
		{"10.1.1.20", 3, "feodo", true},
		{"10.1.1.21", 0, "", false},
		{"::ffff:203.0.113.7", 3, "feodo", true},
		{"2001:db8:1::5", 2, "feodo", true},
		{"not an address", 0, "", false},
	} {
		lv, label, ok := addr(tc.ip)
		if ok != tc.ok || lv != tc.level || label != tc.label {
			t.Errorf("%s: %d %q %v, want %d %q %v", tc.ip, lv, label, ok, tc.level, tc.label, tc.ok)
		}
	}
	for name, want := range map[string]int32{"evil.example": 3, "a.b.EVIL.example.": 3, "notevil.example": -9, "bad.test": 1, "x.bad.test": 1, "ads.tracker.test": 3, "tracker.test": -9} {
		h, ok := s.Domain(name)
		if (want == -9) == ok || (ok && h.Level != want) {
			t.Errorf("domain %s: %v %v, want level %d", name, h, ok, want)
		}
	}
	for u, want := range map[string]bool{
		"drop.example/dl/payload.exe":           true,
		"https://drop.example/dl/payload.exe?x": true,
		"drop.example/dl/payload.exe/more":      true,
		"drop.example/dl/payload.exe2":          false,
		"drop.example/dl":                       false,
		"www.evil.example/anything":             true, // by its host's domain
		"203.0.113.7/x.php":                     true, // by its host's address
		"[2001:db8::1]:8080/x":                  true,
	} {
		if _, ok := s.URL(u); ok != want {
			t.Errorf("url %s: matched %v, want %v", u, ok, want)
		}
	}
	if _, err := LoadIndicators(write(t, "bad.txt", "1.2.3.4\nnot_a thing at all\n"), 3); err == nil || !strings.Contains(err.Error(), "line 2") {
		t.Errorf("a bad line: %v, want an error naming line 2", err)
	}
	if _, err := LoadIndicators(write(t, "bad.txt", "1.2.3.4,7\n"), 3); err == nil || !strings.Contains(err.Error(), "level") {
		t.Errorf("a bad level: %v", err)
	}
}

func TestRangePrefixes(t *testing.T) {
	ps, err := rangePrefixes(netip.MustParseAddr("10.0.0.0"), netip.MustParseAddr("10.0.2.255"))
	if err != nil || len(ps) != 2 || ps[0].String() != "10.0.0.0/23" || ps[1].String() != "10.0.2.0/24" {
		t.Errorf("got %v %v", ps, err)
	}
	ps, _ = rangePrefixes(netip.MustParseAddr("0.0.0.0"), netip.MustParseAddr("255.255.255.255"))
	if len(ps) != 1 || ps[0].Bits() != 0 {
		t.Errorf("whole space: %v", ps)
	}
	if _, err := rangePrefixes(netip.MustParseAddr("10.0.0.5"), netip.MustParseAddr("10.0.0.1")); err == nil {
		t.Error("a reversed range was accepted")
	}
}

func TestNetworks(t *testing.T) {
	// Spot's ipranges.csv rows, then CIDR rows of our own
	p := write(t, "nets.csv", `network,name,where
10.0.0.0,10.255.255.255,corp
10.20.0.0/16,lab
192.0.2.0/24,partner,external
`)
	n, err := LoadNetworks(p)
	if err != nil {
		t.Fatal(err)
	}
	for ip, want := range map[string]Network{
		"10.1.2.3":        {"corp", true},
		"10.20.9.9":       {"lab", true},
		"192.0.2.55":      {"partner", false},
		"172.16.0.1":      {},
		"8.8.8.8":         {},
		"::ffff:10.0.0.1": {"corp", true},
	} {
		if got := n.Lookup(netip.MustParseAddr(ip)); got != want {
			t.Errorf("%s: %+v, want %+v", ip, got, want)
		}
	}
	var none *Networks
	if !none.Lookup(netip.MustParseAddr("172.16.0.1")).Internal || none.Lookup(netip.MustParseAddr("8.8.8.8")).Internal {
		t.Error("without a file, private addresses are internal and others not")
	}
	if _, err := LoadNetworks(write(t, "bad.csv", "10.0.0.0/8,a\nfoo,b\n")); err == nil || !strings.Contains(err.Error(), "line 2") {
		t.Errorf("bad row: %v", err)
	}
	// a first row that is a network is no header: its error is reported
	if _, err := LoadNetworks(write(t, "bad.csv", "10.0.0.0/8,a, b\n")); err == nil || !strings.Contains(err.Error(), "line 1") {
		t.Errorf("bad first row: %v", err)
	}
}

func TestGeo(t *testing.T) {
	dir := t.TempDir()
	db := filepath.Join(dir, "city.mmdb")
	enrichtest.WriteMMDB(t, db, map[string]enrichtest.Place{
		"198.51.100.0/24": {Country: "CZ", City: "Brno", Lat: 49.19, Lon: 16.61, ASN: 64500, ASOrg: "Example Net"},
		"2001:db8::/32":   {Country: "NL", ASN: 64501, ASOrg: "Six"},
	})
	iploc := write(t, "iploc.csv", `"3405803776","3405804031","US","United States","California","Mountain View","37.40","-122.07","Example Owner","example.com"
"3325256704","3325256959","XX","Nowhere","","","1.5","2.5","Other",""
`) // 203.0.113.0/24, then 198.51.100.0/24
	var g Geo
	if err := g.OpenMMDB(db); err != nil {
		t.Fatal(err)
	}
	defer g.Close()
	if err := g.LoadIPLoc(iploc); err != nil {
		t.Fatal(err)
	}
	p, err := g.Lookup(netip.MustParseAddr("198.51.100.9"))
	if err != nil || p.Country != "CZ" || p.City != "Brno" || p.ASN != 64500 || p.ASOrg != "Example Net" || p.Lat != 49.19 {
		t.Errorf("mmdb first: %+v %v", p, err)
	}
	p, _ = g.Lookup(netip.MustParseAddr("203.0.113.77"))
	if p.Country != "US" || p.City != "Mountain View" || p.Lon != -122.07 || p.ASOrg != "Example Owner" || p.Domain != "example.com" {
		t.Errorf("iploc: %+v", p)
	}
	p, _ = g.Lookup(netip.MustParseAddr("2001:db8::9"))
	if p.Country != "NL" || p.ASN != 64501 {
		t.Errorf("IPv6: %+v", p)
	}
	if p, _ := g.Lookup(netip.MustParseAddr("192.0.2.1")); p != (Place{}) {
		t.Errorf("unknown address: %+v", p)
	}
	if err := g.OpenMMDB(iploc); err == nil {
		t.Error("a CSV opened as an mmdb")
	}
}

func TestIANA(t *testing.T) {
	for got, want := range map[string]string{
		DNSTypeName(1): "A", DNSTypeName(28): "AAAA", DNSTypeName(65): "HTTPS", DNSTypeName(64999): "Unknown (64999)",
		DNSClassName("0x00000001"): "Internet (IN)", DNSClassName("1"): "Internet (IN)", DNSClassName("0x000000FF"): "QCLASS * (ANY)",
		DNSClassName("zz"): "Unknown (zz)",
		DNSRcodeName(3):    "NXDomain", DNSRcodeName(23): "BADCOOKIE",
		HTTPStatusName("404"): "Not Found", HTTPStatusName("-"): "Unknown (-)",
		ProtocolName(47): "GRE",
	} {
		if got != want {
			t.Errorf("got %q, want %q", got, want)
		}
	}
	for proto, want := range map[string]int32{"TCP": 6, "udp": 17, "ICMP6": 58, "47": 47, "BOGUS": -1} {
		if got := ProtocolNumber(proto); got != want {
			t.Errorf("ProtocolNumber(%s) = %d, want %d", proto, got, want)
		}
	}
}

func TestEnricher(t *testing.T) {
	dir := t.TempDir()
	db := filepath.Join(dir, "geo.mmdb")
	enrichtest.WriteMMDB(t, db, map[string]enrichtest.Place{"198.51.100.0/24": {Country: "RU", ASN: 64500, ASOrg: "Bad AS", Lat: 55.75, Lon: 37.62}})
	e, err := Open(Options{
		Networks:   []string{write(t, "n.csv", "10.0.0.0/8,office\n")},
		GeoIP:      []string{db},
		Reputation: []string{write(t, "ti.txt", "198.51.100.9,2\nevil.example,3\nexample.org/bad,1\n")},
	})
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	var fc record.FlowContext
	e.Flow(&record.Flow{SIP: "10.1.1.1", DIP: "198.51.100.9", Proto: "TCP"}, &fc)
	if fc.SrcNet != "office" || !fc.SrcInternal || fc.DstInternal || fc.DstCountry != "RU" || fc.Country != "RU" ||
		fc.DstRep != 2 || fc.Reputation != 2 || fc.ProtoNumber != 6 || !strings.Contains(fc.RepHits, "198.51.100.9 on ti (2)") {
		t.Errorf("flow: %+v", fc)
	}
	var dc record.DNSContext
	e.DNS(&record.DNS{IPDst: "10.2.2.2", IPSrc: "10.0.0.53", Response: true, QryName: "x.evil.example", A: "198.51.100.9", QryType: 16, QryRcode: 3, QryClass: "0x00000001"}, &dc)
	if dc.ClientNet != "office" || dc.QryRep != 3 || dc.AnswerRep != 2 || dc.Reputation != 3 || dc.Country != "RU" ||
		dc.QryTypeName != "TXT" || dc.QryRcodeName != "NXDomain" || dc.QryClassName != "Internet (IN)" {
		t.Errorf("dns: %+v", dc)
	}
	var pc record.ProxyContext
	e.Proxy(&record.Proxy{ClientIP: "10.3.3.3", Host: "example.org", FullURI: "example.org/bad/x.php", RespCode: "200"}, &pc)
	if pc.URIRep != 1 || pc.HostRep != 0 || pc.Reputation != 1 || pc.RespCodeName != "OK" {
		t.Errorf("proxy: %+v", pc)
	}
	e.Proxy(&record.Proxy{ClientIP: "10.3.3.3", Host: "198.51.100.9:8080", FullURI: "198.51.100.9:8080/a", RespCode: "404"}, &pc)
	if pc.HostCountry != "RU" || pc.HostRep != 2 || pc.Country != "RU" || pc.RespCodeName != "Not Found" {
		t.Errorf("proxy to an address: %+v", pc)
	}
}
