package filter

import (
	"testing"

	"github.com/spot-hunt/spot/internal/record"
)

// The noise filter matches on each kind's key and nothing else
// (DESIGN.md "Feedback").
func TestNoiseKeys(t *testing.T) {
	n := NewNoise()
	flow := record.Flow{SIP: "10.0.0.1", DIP: "10.0.0.2", SPort: 5000, DPort: 53, Proto: "UDP", IByt: 10}
	dns := record.DNS{IPDst: "10.0.0.9", IPSrc: "10.0.0.53", QryName: "Www.Example.com.", Response: true, TsNs: 1}
	proxy := record.Proxy{ClientIP: "10.0.0.7", FullURI: "example.com/a", Host: "example.com"}
	n.AddFlow(&flow)
	n.AddDNS(&dns)
	n.AddProxy(&proxy)
	if n.Len() != 3 {
		t.Fatalf("%d keys", n.Len())
	}
	// the same key with other columns changed still matches
	f2 := flow
	f2.SPort, f2.IByt = 6000, 99
	d2 := dns
	d2.QryName, d2.IPSrc = "www.example.COM", "192.0.2.1"
	p2 := proxy
	p2.Host = "other"
	if !n.Flow(&f2) || !n.DNS(&d2) || !n.Proxy(&p2) {
		t.Fatal("a record with a marked key is not matched")
	}
	// a change in any key column does not match
	for i, f := range []func(*record.Flow){
		func(f *record.Flow) { f.SIP = "10.0.0.3" },
		func(f *record.Flow) { f.DIP = "10.0.0.3" },
		func(f *record.Flow) { f.DPort = 54 },
		func(f *record.Flow) { f.Proto = "TCP" },
		func(f *record.Flow) { f.SIP, f.DIP = f.DIP, f.SIP },
	} {
		g := flow
		f(&g)
		if n.Flow(&g) {
			t.Errorf("flow change %d still matches", i)
		}
	}
	for i, f := range []func(*record.DNS){
		func(r *record.DNS) { r.IPDst = "10.0.0.8" },
		func(r *record.DNS) { r.QryName = "www.example.org" },
		func(r *record.DNS) { r.Response = false }, // a query's client is ip_src
	} {
		g := dns
		f(&g)
		if n.DNS(&g) {
			t.Errorf("dns change %d still matches", i)
		}
	}
	for i, f := range []func(*record.Proxy){
		func(p *record.Proxy) { p.ClientIP = "10.0.0.8" },
		func(p *record.Proxy) { p.FullURI = "example.com/b" },
	} {
		g := proxy
		f(&g)
		if n.Proxy(&g) {
			t.Errorf("proxy change %d still matches", i)
		}
	}
}
