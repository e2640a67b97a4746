package detect

import (
	"bytes"
	"errors"
	"fmt"
	"math/rand/v2"
	"reflect"
	"testing"
)

// judgedRound writes s judged, reads it back, and checks that the judged
// set gives the same findings, writes the same bytes again, and refuses to
// merge or be written as a full state.
func judgedRound(t *testing.T, s Set) Set {
	t.Helper()
	var buf bytes.Buffer
	if err := s.WriteJudged(&buf); !errors.Is(err, ErrNotFinished) {
		t.Fatalf("WriteJudged before Finish: %v, want ErrNotFinished", err)
	}
	want := s.Finish()
	if len(want) < 2 {
		t.Fatalf("%d findings: the test needs some", len(want))
	}
	if err := s.WriteJudged(&buf); err != nil {
		t.Fatal(err)
	}
	first := bytes.Clone(buf.Bytes())
	j, err := ReadState(&buf, Limits{})
	if err != nil {
		t.Fatal(err)
	}
	if got := j.Finish(); !reflect.DeepEqual(got, want) {
		t.Fatalf("judged findings:\n%+v\nwant:\n%+v", got, want)
	}
	var again bytes.Buffer
	if err := j.WriteJudged(&again); err != nil || !bytes.Equal(again.Bytes(), first) {
		t.Errorf("a judged state read back writes %d bytes (%v), want the %d it was read from", again.Len(), err, len(first))
	}
	if err := j.Merge(s); !errors.Is(err, errJudged) {
		t.Errorf("merging a judged state: %v", err)
	}
	if err := s.Merge(j); !errors.Is(err, errJudged) {
		t.Errorf("merging into a judged state: %v", err)
	}
	if err := j.WriteState(&again); !errors.Is(err, errJudged) {
		t.Errorf("writing a judged state in full: %v", err)
	}
	return j
}

// A judged state explains every event as the full state it was judged
// from: flows (pairs, scans, host verdicts), DNS (resolvers included) and
// proxy logs.
func TestJudgedState(t *testing.T) {
	t.Run("flow", func(t *testing.T) {
		rnd := rand.New(rand.NewPCG(21, 22))
		t0 := int64(1_700_000_000e9)
		fs := scanAndBeacon(rnd)
		// the scanner's and the beacon's other traffic takes their host verdict
		for i := range 500 {
			at := t0 + rnd.Int64N(1800e9)
			fs = append(fs, Flow{TsNs: at, EndNs: at + 1e9, Src: []string{"10.0.0.66", "10.0.0.7"}[i%2], Dst: fmt.Sprintf("192.0.2.%d", 100+i), SPort: 40000, DPort: 80, Proto: "TCP", OutBytes: 5000, OutPkts: 9, InBytes: 9000, InPkts: 9})
		}
		s := NewFlow(Limits{})
		for i := range fs {
			s.Observe(&fs[i])
		}
		j := judgedRound(t, s).(*FlowSet)
		explained, hosts := 0, 0
		for _, f := range fs {
			a, b := s.Explain(f.Src, f.Dst, f.SPort, f.DPort, f.Proto), j.Explain(f.Src, f.Dst, f.SPort, f.DPort, f.Proto)
			if (a == nil) != (b == nil) || a != nil && *a != *b {
				t.Fatalf("flow %+v explained by %+v and, judged, %+v", f, a, b)
			}
			if a != nil {
				explained++
				if a.Detector == "host" {
					hosts++
				}
			}
		}
		if explained == 0 || hosts == 0 {
			t.Errorf("%d flows explained, %d by a host verdict: the test needs both", explained, hosts)
		}
	})
	t.Run("dns", func(t *testing.T) {
		evs := dnsNetwork(300)
		rnd := rand.New(rand.NewPCG(23, 24))
		for _, ts := range beats(rnd, 1_700_000_000e9, 40, 60, 0.2) {
			evs = append(evs, DNS{TsNs: ts, Client: "10.0.0.9", Name: "c2.beacon.example", QType: 16, Size: 150})
		}
		// a resolver: it answers two clients and asks upstream itself
		for i := range 200 {
			evs = append(evs, DNS{TsNs: 1_700_000_000e9 + int64(i)*1e9, Client: "10.0.0.53", Server: "192.0.2.53", Name: fmt.Sprintf("x%d.t.example", i), QType: 16, Size: 200})
		}
		for i := range 4 {
			evs = append(evs, DNS{TsNs: 1_700_000_000e9 + int64(i)*1e9, Client: fmt.Sprintf("10.0.0.%d", 1+i%2), Server: "10.0.0.53", Name: "www.example.com", QType: 1, Size: 90})
		}
		s := NewDNS(Limits{})
		for i := range evs {
			s.Observe(&evs[i])
		}
		j := judgedRound(t, s).(*DNSSet)
		if len(j.resolver) == 0 || !reflect.DeepEqual(j.resolver, s.resolver) {
			t.Errorf("resolvers %v, want %v (the test needs one)", j.resolver, s.resolver)
		}
		for i := range evs {
			a, b := s.Explain(&evs[i]), j.Explain(&evs[i])
			if (a == nil) != (b == nil) || a != nil && *a != *b {
				t.Fatalf("message %+v explained by %+v and, judged, %+v", evs[i], a, b)
			}
		}
	})
	t.Run("proxy", func(t *testing.T) {
		rnd := rand.New(rand.NewPCG(7, 7))
		t0 := int64(1_700_000_000e9)
		var ps []Proxy
		for c := 1; c <= 12; c++ {
			for range 40 {
				ps = append(ps, Proxy{TsNs: t0 + int64(rnd.IntN(3600))*1e9, Client: fmt.Sprintf("10.0.0.%d", c), Host: fmt.Sprintf("site%d.example", rnd.IntN(30)),
					UserAgent: "Mozilla/5.0", Sent: int64(300 + rnd.IntN(500)), Received: int64(5000 + rnd.IntN(50000))})
			}
		}
		for _, ts := range beats(rnd, t0, 60, 60, 0.1) {
			ps = append(ps, Proxy{TsNs: ts, Client: "10.0.0.3", Host: "c2.example", UserAgent: "updater/1.0", Sent: 200, Received: 120})
		}
		s := NewProxy(Limits{})
		for i := range ps {
			s.Observe(&ps[i])
		}
		j := judgedRound(t, s).(*ProxySet)
		for i := range ps {
			a, b := s.Explain(&ps[i]), j.Explain(&ps[i])
			if (a == nil) != (b == nil) || a != nil && *a != *b {
				t.Fatalf("request %+v explained by %+v and, judged, %+v", ps[i], a, b)
			}
		}
	})
}

// A state of version 1 (before judged states: no form after the kind)
// still reads.
func TestStateVersion1(t *testing.T) {
	s := NewFlow(Limits{})
	f := Flow{TsNs: 1e9, EndNs: 2e9, Src: "a", Dst: "b", DPort: 1, Proto: "TCP", OutPkts: 1, OutBytes: 60}
	s.Observe(&f)
	v1 := rawState(1, "flow", func(e *enc) {
		e.i(s.w0)
		e.i(s.w1)
		encTable(e, s.pairs, (*flowPair).encode)
		encTable(e, s.vscan, (*scanState).encode)
		encTable(e, s.hscan, (*scanState).encode)
	})
	back, err := ReadState(bytes.NewReader(v1), Limits{})
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(stateBytes(t, back), stateBytes(t, s)) {
		t.Error("a version 1 state reads as another state")
	}
}
