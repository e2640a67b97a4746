package detect

import (
	"fmt"
	"math"
	"strings"
	"testing"
)

// flowNet is twelve hosts browsing for 12 minutes, with a beacon, a long
// connection, an upload, password guessing and a scan among them.
func flowNet() []Flow {
	t0 := int64(1_700_000_000e9)
	var fs []Flow
	web := func(src, dst string, at int64) Flow {
		return Flow{TsNs: t0 + at*1e9, EndNs: t0 + at*1e9 + 2e9, Src: src, Dst: dst, SPort: 50000, DPort: 443, Proto: "TCP",
			OutBytes: 2000, OutPkts: 12, InBytes: 40000, InPkts: 30}
	}
	for c := 1; c <= 12; c++ {
		src := fmt.Sprintf("10.0.0.%d", c)
		fs = append(fs, web(src, "192.0.2.1", int64(c*50)), web(src, "192.0.2.2", int64(c*50+10)))
	}
	for i := range 13 { // 10.0.0.3 beacons to 198.51.100.9:8443 every minute
		at := t0 + int64(i)*60e9
		fs = append(fs, Flow{TsNs: at, EndNs: at + 1e9, Src: "10.0.0.3", Dst: "198.51.100.9", SPort: 40000, DPort: 8443, Proto: "TCP",
			OutBytes: 600, OutPkts: 6, InBytes: 800, InPkts: 5})
	}
	// 10.0.0.4 uploads 30 MB to 203.0.113.5 in one connection of 10 min
	fs = append(fs, Flow{TsNs: t0 + 60e9, EndNs: t0 + 660e9, Src: "10.0.0.4", Dst: "203.0.113.5", SPort: 40001, DPort: 443, Proto: "TCP",
		OutBytes: 30e6, OutPkts: 25000, InBytes: 500e3, InPkts: 9000})
	// 10.0.0.5 holds an SSH session for 6 hours (two flows)
	for _, at := range []int64{0, 10800} {
		fs = append(fs, Flow{TsNs: t0 - 21600e9 + at*1e9, EndNs: t0 - 21600e9 + (at+10800)*1e9, Src: "10.0.0.5", Dst: "192.0.2.22", SPort: 40002, DPort: 22, Proto: "TCP",
			OutBytes: 300e3, OutPkts: 3000, InBytes: 900e3, InPkts: 3000})
	}
	// 10.0.0.6 guesses passwords: 100 short SSH connections in 100 s
	for i := range 100 {
		at := t0 + 200e9 + int64(i)*1e9
		fs = append(fs, Flow{TsNs: at, EndNs: at + 500e6, Src: "10.0.0.6", Dst: "192.0.2.30", SPort: int32(41000 + i), DPort: 22, Proto: "TCP",
			OutBytes: 2500, OutPkts: 15, InBytes: 3000, InPkts: 14})
	}
	// 10.0.0.66 probes 30 hosts' port 23 in a minute (SYNs)
	for h := range 30 {
		at := t0 + 300e9 + int64(h)*2e9
		fs = append(fs, Flow{TsNs: at, EndNs: at, Src: "10.0.0.66", Dst: fmt.Sprintf("10.9.0.%d", h), SPort: 40003, DPort: 23, Proto: "TCP",
			OutBytes: 60, OutPkts: 1, Flags: "......S."})
	}
	return fs
}

// TestFlowFindings checks every verdict on flowNet, worked out from the
// rules (the window spans the SSH session's 6 hours, so a 12-minute beacon
// covers one bin of 24: duration 1/12); each destination but the web
// servers is one client's of 13 (+0.1).
func TestFlowFindings(t *testing.T) {
	s := NewFlow(Limits{Report: 0.01})
	fs := flowNet()
	for i := range fs {
		s.Observe(&fs[i])
	}
	t0 := int64(1_700_000_000e9)
	beacon := 0.8*(0.6+0.2/12+0.2) + 0.1
	want := []struct {
		detector, subject string
		score             float64
		events            int64
		evidence          string
		first, last       float64 // s after t0
		src, dst          string
		dport             int32
	}{
		{"beacon", "10.0.0.3 > 198.51.100.9:8443/TCP", beacon, 13,
			"every 60 s ± 0.0 s, 13 times over 12 min (regularity 1.00, sizes 1.00, duration 0.08)", 0, 721, "10.0.0.3", "198.51.100.9", 8443},
		{"beacon", "10.0.0.6 > 192.0.2.30:22/TCP", beacon, 100,
			"every 1.0 s ± 0.0 s, 100 times over 99 s (regularity 1.00, sizes 1.00, duration 0.08)", 200, 299.5, "10.0.0.6", "192.0.2.30", 22},
		// 30 MB over the 95th percentile of 58 pairs (index 55: 250 kB)
		{"exfil", "10.0.0.4 > 203.0.113.5:443/TCP", 0.2 + 0.3*math.Log10(30) + 0.1, 1,
			"sent 30 MB, received 500 kB, 120× what a pair usually sends (250 kB), in 1 connection(s) over 10 min; largest 30 MB", 60, 660, "10.0.0.4", "203.0.113.5", 443},
		// 100 to SSH, and at about one a second
		{"brute-force", "10.0.0.6 > 192.0.2.30:22/TCP", 0.3 + 0.5*math.Log10(100.0/30) + 0.1, 100,
			"100 connections in 100 s, 100% short and small (under 10 s and 10 kB), 250 kB sent, 300 kB received", 200, 299.5, "10.0.0.6", "192.0.2.30", 22},
		// 30 hosts in 5 minutes; scans take no context
		{"scan", "10.0.0.66 > *:23/TCP", 0.6 + 0.3*math.Log10(30.0/25), 30,
			"probed 30 hosts of 23/TCP in 58 s with 30 unanswered connections", 300, 358, "10.0.0.66", "", 23},
		{"long-conn", "10.0.0.5 > 192.0.2.22:22/TCP", 0.5 + 0.1, 2,
			"connected for 6.0 h in all over 2 connection(s), 600 kB sent, 1.8 MB received", -21600, 0, "10.0.0.5", "192.0.2.22", 22},
	}
	got := s.Finish()
	if len(got) != len(want) {
		t.Errorf("%d findings, want %d: %+v", len(got), len(want), got)
	}
	for i, f := range got[:min(len(got), len(want))] {
		w := want[i]
		if f.Detector != w.detector || f.Subject != w.subject || !near(f.DetectorScore, w.score, 1e-9) || f.Events != w.events ||
			f.Evidence != w.evidence || f.TStartNs != t0+int64(w.first*1e9) || f.TEndNs != t0+int64(w.last*1e9) ||
			f.Src != w.src || f.Dst != w.dst || f.DPort != w.dport || f.Proto != "TCP" || f.EventKind != "flow" {
			t.Errorf("finding %d: %+v\nwant %+v", i, f, w)
		}
	}
	for _, c := range []struct {
		src, dst     string
		sport, dport int32
		proto        string
		detector     string
		score        float64
	}{
		{"10.0.0.3", "198.51.100.9", 40000, 8443, "TCP", "beacon", beacon},
		{"198.51.100.9", "10.0.0.3", 8443, 40000, "TCP", "beacon", beacon}, // its reply
		{"10.0.0.6", "192.0.2.30", 41000, 22, "TCP", "beacon", beacon},     // the stronger of two
		{"10.0.0.66", "10.9.0.99", 40003, 23, "TCP", "scan", want[4].score},
		{"10.9.0.1", "10.0.0.66", 23, 40003, "TCP", "scan", want[4].score},
		{"10.0.0.66", "192.0.2.123", 123, 123, "UDP", "host", want[4].score / 2},
		{"10.0.0.3", "192.0.2.1", 50000, 443, "TCP", "host", beacon / 2},
		{"192.0.2.1", "10.0.0.4", 443, 50000, "TCP", "host", want[2].score / 2},
		{"10.0.0.4", "10.0.0.3", 1, 2, "UDP", "host", beacon / 2}, // the stronger host
		{"10.0.0.5", "192.0.2.1", 50000, 443, "TCP", "host", 0.3},
		{"10.0.0.7", "192.0.2.1", 50000, 443, "TCP", "", 0},
	} {
		v := s.Explain(c.src, c.dst, c.sport, c.dport, c.proto)
		if c.detector == "" {
			if v != nil {
				t.Errorf("%s > %s:%d explained by %+v", c.src, c.dst, c.dport, v)
			}
			continue
		}
		if v == nil || v.Detector != c.detector || !near(v.Score, c.score, 1e-9) {
			t.Errorf("%s > %s:%d explained by %+v, want %s %.4f", c.src, c.dst, c.dport, v, c.detector, c.score)
		}
	}
	if v := s.Explain("10.0.0.4", "10.0.0.3", 1, 2, "UDP"); v == nil || v.Subject != "10.0.0.3" {
		t.Errorf("10.0.0.4 > 10.0.0.3 explained by %+v, want the host verdict of 10.0.0.3 (its beacon)", v)
	}

	// By default only verdicts of 0.2 or more are findings; Only picks detectors.
	for _, c := range []struct {
		lim  Limits
		want string
	}{
		{Limits{}, "beacon beacon exfil brute-force scan long-conn"},
		{Limits{Report: 0.7}, "beacon beacon exfil"},
		{Limits{Only: []string{"scan", "long-conn"}}, "scan long-conn"},
		{Limits{Only: []string{"exfil", "brute-force"}}, "exfil brute-force"},
	} {
		s := NewFlow(c.lim)
		for i := range fs {
			s.Observe(&fs[i])
		}
		var ds []string
		for _, f := range s.Finish() {
			ds = append(ds, f.Detector)
		}
		if strings.Join(ds, " ") != c.want {
			t.Errorf("%+v: findings %v, want %s", c.lim, ds, c.want)
		}
		if v := s.Explain("10.0.0.66", "192.0.2.123", 123, 123, "UDP"); (v != nil) != (c.lim.Only == nil) {
			t.Errorf("%+v: the scanner's NTP explained by %+v", c.lim, v)
		}
	}
}

// The window is the input's own span: a beacon that lasts as long as the
// input covers all of it (duration 1), from however late an epoch.
func TestFlowWindow(t *testing.T) {
	s := NewFlow(Limits{})
	t0 := int64(1_700_000_000e9)
	for i := range 13 {
		at := t0 + int64(i)*60e9
		f := Flow{TsNs: at, EndNs: at, Src: "10.0.0.3", Dst: "198.51.100.9", SPort: 40000, DPort: 8443, Proto: "TCP", OutBytes: 600, OutPkts: 6, InBytes: 800, InPkts: 5}
		s.Observe(&f)
	}
	if s.w0 != t0 || s.w1 != t0+720e9 {
		t.Errorf("window %d..%d, want %d..%d", s.w0, s.w1, t0, t0+720e9)
	}
	fs := s.Finish()
	if len(fs) != 1 || !near(fs[0].DetectorScore, 0.8, 1e-9) || !strings.Contains(fs[0].Evidence, "duration 1.00") {
		t.Errorf("findings %+v, want a beacon of 0.8 over the whole window", fs)
	}
}

// A destination half the clients use takes 0.15 off: a weak upload to it
// (0.1) is no verdict at all, for Explain as for findings.
func TestFlowCommonDestination(t *testing.T) {
	s := NewFlow(Limits{Report: 1e-9})
	t0 := int64(1_700_000_000e9)
	add := func(src, dst string, out int64) {
		f := Flow{TsNs: t0, EndNs: t0 + 1e9, Src: src, Dst: dst, SPort: 50000, DPort: 443, Proto: "TCP", OutBytes: out, OutPkts: 100, InBytes: 0, InPkts: 100}
		s.Observe(&f)
	}
	// four clients use 192.0.2.1; 10.0.0.1 sends it 1 MB, 10 times the
	// 95th percentile of 24 pairs (100 kB)
	for c := 1; c <= 4; c++ {
		add(fmt.Sprintf("10.0.0.%d", c), "192.0.2.1", 100e3)
	}
	add("10.0.0.1", "192.0.2.1", 900e3)
	for i := range 20 {
		add(fmt.Sprintf("10.0.0.%d", 2+i%3), fmt.Sprintf("198.51.100.%d", i), 100e3)
	}
	if fs := s.Finish(); len(fs) != 0 {
		t.Errorf("findings %+v, want none", fs)
	}
	if v := s.Explain("10.0.0.1", "192.0.2.1", 50000, 443, "TCP"); v != nil {
		t.Errorf("the upload explained by %+v, want nothing", v)
	}
	p, _ := s.pairs.lookup(s.key('p', "10.0.0.1", "192.0.2.1", 443, "TCP"))
	if score, _ := p.exfil(s.volumeNorms()); !near(score, 0.1, 1e-9) {
		t.Errorf("the upload's exfil score %.4f before context, want 0.1", score)
	}
}
