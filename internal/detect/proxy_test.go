package detect

import (
	"fmt"
	"math"
	"slices"
	"testing"

	"github.com/spot-hunt/spot/internal/record"
)

// proxyNet is twelve clients browsing two sites for 12 minutes, one client
// beaconing to c2.example with a user agent of its own, one uploading
// 20 MB, and requests with no user agent ("" and "-") from one client.
func proxyNet() []Proxy {
	t0 := int64(1_700_000_000e9)
	var ps []Proxy
	for c := 1; c <= 12; c++ {
		for i, host := range []string{"www.example.com", "cdn.example.net"} {
			ps = append(ps, Proxy{TsNs: t0 + int64(c*30+i)*1e9, Client: fmt.Sprintf("10.0.0.%d", c), Host: host,
				UserAgent: "Mozilla/5.0", Sent: int64(1000 + 10*c + i), Received: 50e3})
		}
	}
	for i := range 13 {
		ps = append(ps, Proxy{TsNs: t0 + int64(i)*60e9, Client: "10.0.0.3", Host: "c2.example", UserAgent: "updater/1.0", Sent: 200, Received: 120})
	}
	ps = append(ps,
		Proxy{TsNs: t0 + 100e9, Client: "10.0.0.9", Host: "upload.example", UserAgent: "Mozilla/5.0", Sent: 15e6, Received: 1000},
		Proxy{TsNs: t0 + 400e9, Client: "10.0.0.9", Host: "upload.example", UserAgent: "Mozilla/5.0", Sent: 5e6, Received: 1000},
		Proxy{TsNs: t0 + 200e9, Client: "10.0.0.11", Host: "www.example.com", UserAgent: "-", Sent: 1000, Received: 50e3},
		Proxy{TsNs: t0 + 210e9, Client: "10.0.0.11", Host: "www.example.com", UserAgent: "", Sent: 1000, Received: 50e3},
		// an agent two clients send is not rare
		Proxy{TsNs: t0 + 220e9, Client: "10.0.0.1", Host: "www.example.com", UserAgent: "wget/1.21", Sent: 1000, Received: 50e3},
		Proxy{TsNs: t0 + 230e9, Client: "10.0.0.2", Host: "www.example.com", UserAgent: "wget/1.21", Sent: 1000, Received: 50e3},
	)
	return ps
}

func TestProxyFindings(t *testing.T) {
	s := NewProxy(Limits{})
	ps := proxyNet()
	for i := range ps {
		s.Observe(&ps[i])
	}
	fs := s.Finish()
	t0 := int64(1_700_000_000e9)
	// exfil: 20 MB over the 95th percentile of the 26 pairs' bytes sent
	// (index 24 of 26: 10.0.0.11's 3,110 B to www), from a host one client
	// of 12 uses (+0.1)
	exfil := 0.2 + 0.3*math.Log10(20) + 0.1
	want := []record.Finding{
		{Detector: "beacon", Subject: "10.0.0.3 > c2.example", Src: "10.0.0.3", Dst: "c2.example", DetectorScore: 0.9, Events: 13,
			Evidence: "every 60 s ± 0.0 s, 13 times over 12 min (regularity 1.00, sizes 1.00, duration 1.00)", TStartNs: t0, TEndNs: t0 + 720e9},
		{Detector: "exfil", Subject: "10.0.0.9 > upload.example", Src: "10.0.0.9", Dst: "upload.example", DetectorScore: exfil, Events: 2,
			Evidence: "sent 20 MB, received 2.0 kB, 6431× what a pair usually sends (3.1 kB), in 2 connection(s) over 5 min; largest 15 MB", TStartNs: t0 + 100e9, TEndNs: t0 + 400e9},
		{Detector: "rare-agent", Subject: "10.0.0.3 uses updater/1.0", Src: "10.0.0.3", DetectorScore: 0.25, Events: 13,
			Evidence: `user agent "updater/1.0" sent by 1 client of 12, 13 requests`},
	}
	if len(fs) != len(want) {
		t.Fatalf("%d findings, want %d: %+v", len(fs), len(want), fs)
	}
	for i, w := range want {
		f := fs[i]
		if f.Detector != w.Detector || f.Subject != w.Subject || f.Src != w.Src || f.Dst != w.Dst || !near(f.DetectorScore, w.DetectorScore, 1e-9) ||
			f.Events != w.Events || f.Evidence != w.Evidence || f.TStartNs != w.TStartNs || f.TEndNs != w.TEndNs || f.EventKind != "proxy" {
			t.Errorf("finding %d:\n%+v, want\n%+v", i, f, w)
		}
	}
	for _, c := range []struct {
		p    Proxy
		want string // detector
	}{
		{ps[len(ps)-7], "beacon"}, // a beacon request
		{Proxy{Client: "10.0.0.3", Host: "www.example.com", UserAgent: "updater/1.0"}, "rare-agent"},
		{Proxy{Client: "10.0.0.9", Host: "upload.example", UserAgent: "Mozilla/5.0"}, "exfil"},
		{Proxy{Client: "10.0.0.1", Host: "www.example.com", UserAgent: "wget/1.21"}, ""},
		{Proxy{Client: "10.0.0.11", Host: "www.example.com", UserAgent: "-"}, ""},
	} {
		v := s.Explain(&c.p)
		if got := ""; v != nil {
			got = v.Detector
			if got != c.want {
				t.Errorf("%+v explained by %+v, want %s", c.p, v, c.want)
			}
		} else if c.want != "" {
			t.Errorf("%+v explained by nothing, want %s", c.p, c.want)
		}
	}

	// No weaker verdicts: a pair that is no beacon and no exfil is nothing,
	// whatever its context.
	s = NewProxy(Limits{Report: 1e-9})
	for i := range ps {
		s.Observe(&ps[i])
	}
	if fs := s.Finish(); len(fs) != 3 {
		t.Errorf("Report 1e-9: %d findings, want the same 3: %+v", len(fs), fs)
	}
	// A verdict scoring exactly Report is a finding.
	s = NewProxy(Limits{Report: 0.25})
	for i := range ps {
		s.Observe(&ps[i])
	}
	if fs := s.Finish(); len(fs) != 3 || fs[2].Detector != "rare-agent" {
		t.Errorf("Report 0.25: %+v, want the rare agent (0.25) last", fs)
	}
	// Only exfil: no beacon, no rare agent.
	s = NewProxy(Limits{Only: []string{"exfil"}})
	for i := range ps {
		s.Observe(&ps[i])
	}
	if fs := s.Finish(); len(fs) != 1 || fs[0].Detector != "exfil" {
		t.Errorf("exfil only: %+v", fs)
	}
	if v := s.Explain(&ps[len(ps)-7]); v != nil {
		t.Errorf("exfil only: beacon request explained by %+v", v)
	}
	// Only beacon and rare agents: the upload is nothing.
	s = NewProxy(Limits{Only: []string{"beacon", "rare-agent"}})
	for i := range ps {
		s.Observe(&ps[i])
	}
	if fs := s.Finish(); len(fs) != 2 || fs[0].Detector != "beacon" || fs[1].Detector != "rare-agent" {
		t.Errorf("beacon and rare-agent only: %+v", fs)
	}
	if v := s.Explain(&Proxy{Client: "10.0.0.9", Host: "upload.example"}); v != nil {
		t.Errorf("beacon and rare-agent only: upload explained by %+v", v)
	}

	// Ten clients are enough to call an agent rare, nine too few.
	for _, c := range []struct {
		drop []string
		rare int
	}{{[]string{"10.0.0.12", "10.0.0.11"}, 1}, {[]string{"10.0.0.12", "10.0.0.11", "10.0.0.10"}, 0}} {
		s = NewProxy(Limits{})
		for i := range ps {
			if p := ps[i]; !slices.Contains(c.drop, p.Client) {
				s.Observe(&p)
			}
		}
		rare := 0
		for _, f := range s.Finish() {
			if f.Detector == "rare-agent" {
				rare++
			}
		}
		if rare != c.rare {
			t.Errorf("%d clients: %d rare agents, want %d", 12-len(c.drop), rare, c.rare)
		}
	}
}

// What a pair and an agent keep of their requests, whatever their order.
func TestProxyObserve(t *testing.T) {
	t0 := int64(1_700_000_000e9)
	s := NewProxy(Limits{})
	for _, p := range []Proxy{
		{TsNs: t0 + 5e9, Client: "10.0.0.2", Host: "a.example", UserAgent: "x/1", Sent: 100, Received: 5000},
		{TsNs: t0 + 2e9, Client: "10.0.0.2", Host: "a.example", UserAgent: "x/1", Sent: 300, Received: 1},
		{TsNs: t0 + 9e9, Client: "10.0.0.1", Host: "a.example", UserAgent: "x/1", Sent: 3e9, Received: 0},
		{TsNs: t0 + 1e9, Client: "10.0.0.3", Host: "b.example", UserAgent: "x/1", Sent: 1, Received: 1},
	} {
		s.Observe(&p)
	}
	if s.w0 != t0+1e9 || s.w1 != t0+9e9 {
		t.Errorf("window %d..%d", s.w0-t0, s.w1-t0)
	}
	var a *proxyPair
	for _, p := range s.pairs.all() {
		if p.client == "10.0.0.2" {
			a = p
		}
	}
	if a == nil || a.sent != 400 || a.received != 5001 || a.maxSent != 300 || a.first != t0+2e9 || a.last != t0+5e9 || a.events != 2 ||
		fmt.Sprint(a.sizes) != "[5100 301]" {
		t.Fatalf("pair %+v", a)
	}
	for _, p := range s.pairs.all() {
		if p.client == "10.0.0.1" && fmt.Sprint(p.sizes) != fmt.Sprint([]int32{math.MaxInt32}) {
			t.Errorf("3 GB request: size %v, want capped", p.sizes)
		}
	}
	for _, ag := range s.agents.all() {
		if ag.agent != "x/1" || ag.client != "10.0.0.1" || ag.requests != 4 || ag.clients.count() != 3 {
			t.Errorf("agent %+v", ag)
		}
	}
}

// A host every client uses takes 0.15 off its pairs' verdicts: a beacon
// over 12 of the input's 48 minutes scores 0.8·(0.6 + 0.2·7/12 + 0.2) −
// 0.15, and a faint one (6 beats) nothing at all. No requests, no findings.
func TestProxyCommonHost(t *testing.T) {
	if fs := NewProxy(Limits{}).Finish(); len(fs) != 0 {
		t.Errorf("no requests: %+v", fs)
	}
	t0 := int64(1_700_000_000e9)
	s := NewProxy(Limits{})
	for c := 1; c <= 4; c++ {
		for _, at := range []int64{0, 1440, 2880} {
			p := Proxy{TsNs: t0 + at*1e9 + int64(c)*1e9, Client: fmt.Sprintf("10.0.0.%d", c), Host: "update.example", Sent: 500, Received: 5000}
			s.Observe(&p)
		}
	}
	for i := range 13 {
		p := Proxy{TsNs: t0 + int64(i)*60e9, Client: "10.0.0.1", Host: "update.example", Sent: 300, Received: 300}
		s.Observe(&p)
	}
	for i := range 6 {
		p := Proxy{TsNs: t0 + 100e9 + int64(i)*60e9, Client: "10.0.0.2", Host: "update.example", Sent: 300, Received: 300}
		s.Observe(&p)
	}
	fs := s.Finish()
	if want := 0.8*(0.6+0.2*7/12+0.2) - 0.15; len(fs) != 1 || fs[0].Subject != "10.0.0.1 > update.example" || !near(fs[0].DetectorScore, want, 0.02) {
		t.Errorf("findings %+v, want one beacon of about %.3f", fs, want)
	}
	if v := s.Explain(&Proxy{Client: "10.0.0.2", Host: "update.example"}); v != nil {
		t.Errorf("the faint beacon explained by %+v, want nothing", v)
	}
}
