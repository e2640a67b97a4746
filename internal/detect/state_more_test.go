package detect

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"testing"
)

func TestIsState(t *testing.T) {
	for head, want := range map[string]bool{stateMagic + "\x03": true, "spot": true, "spo": false, "": false, "PAR1": false, "Spot": false, "spoT-detect": false} {
		if IsState([]byte(head)) != want {
			t.Errorf("IsState(%q) = %v", head, !want)
		}
	}
}

// Headers and ends that are not a state's: an unknown form, a state cut
// before its checksum, and one whose checksum does not match.
func TestStateEnds(t *testing.T) {
	if _, err := ReadState(bytes.NewReader(rawState(stateVersion, "flow", func(e *enc) { e.u(7) })), Limits{}); err == nil || err.Error() != "corrupt detector state: unknown form 7" {
		t.Errorf("form 7: %v", err)
	}
	s := NewFlow(Limits{})
	ok := stateBytes(t, s)
	if _, err := ReadState(bytes.NewReader(ok[:len(ok)-2]), Limits{}); !errors.Is(err, io.ErrUnexpectedEOF) {
		t.Errorf("a state cut in its checksum: %v, want unexpected EOF", err)
	}
	bad := bytes.Clone(ok)
	bad[len(bad)-1] ^= 1
	if _, err := ReadState(bytes.NewReader(bad), Limits{}); err == nil || err.Error() != "corrupt detector state: checksum mismatch" {
		t.Errorf("a wrong checksum: %v", err)
	}
}

// Subjects at their caps read back whole: maxExact distinct names and
// maxBeats beats.
func TestStateAtCaps(t *testing.T) {
	s := NewDNS(Limits{})
	t0 := int64(1_700_000_000e9)
	for i := range maxBeats {
		e := DNS{TsNs: t0 + int64(i)*1e9, Client: "10.0.0.1", Name: fmt.Sprintf("n%d.x.example", i%maxExact), QType: 1, Size: 90}
		s.Observe(&e)
	}
	tun, _ := s.tunnels.lookup(s.key("10.0.0.1", "x.example"))
	b, _ := s.beacons.lookup(s.key("10.0.0.1", "x.example"))
	if tun == nil || len(tun.names.items) != maxExact || !tun.names.exact() || b == nil || len(b.ts) != maxBeats || b.mask != 0 {
		t.Fatalf("the subject does not hold exactly its caps")
	}
	back, err := ReadState(bytes.NewReader(stateBytes(t, s)), Limits{})
	if err != nil {
		t.Fatalf("a state at its caps: %v", err)
	}
	if !bytes.Equal(stateBytes(t, back), stateBytes(t, s)) {
		t.Error("a state at its caps reads back as another")
	}
}

// Proxy pairs and agents merge as one pass over both shards' requests.
func TestProxyMerges(t *testing.T) {
	t0 := int64(1_700_000_000e9)
	reqs := []Proxy{
		{TsNs: t0 + 5e9, Client: "10.0.0.5", Host: "a.example", UserAgent: "x/1", Sent: 10, Received: 20},
		{TsNs: t0 + 2e9, Client: "10.0.0.5", Host: "a.example", UserAgent: "x/1", Sent: 30, Received: 40},
		{TsNs: t0 + 9e9, Client: "10.0.0.2", Host: "a.example", UserAgent: "x/1", Sent: 50, Received: 60},
		{TsNs: t0 + 1e9, Client: "10.0.0.9", Host: "b.example", UserAgent: "y/2", Sent: 70, Received: 80},
	}
	dump := func(s *ProxySet) string {
		var out []string
		for _, p := range s.pairs.all() {
			out = append(out, fmt.Sprintf("%s>%s %d %d %d %d..%d %d", p.client, p.host, p.sent, p.received, p.maxSent, p.first-t0, p.last-t0, p.events))
		}
		for _, a := range s.agents.all() {
			out = append(out, fmt.Sprintf("%s %s %d %.0f", a.agent, a.client, a.requests, a.clients.count()))
		}
		slices.Sort(out)
		return strings.Join(out, "; ")
	}
	whole := NewProxy(Limits{})
	for i := range reqs {
		whole.Observe(&reqs[i])
	}
	for _, split := range [][]int{{0}, {1}, {2}, {3}, {0, 3}, {1, 2}, {}} {
		a, b := NewProxy(Limits{}), NewProxy(Limits{})
		for i := range reqs {
			if slices.Contains(split, i) {
				a.Observe(&reqs[i])
			} else {
				b.Observe(&reqs[i])
			}
		}
		if err := a.Merge(b); err != nil {
			t.Fatal(err)
		}
		if got, want := dump(a), dump(whole); got != want {
			t.Errorf("shard %v merged:\n%s\nwant\n%s", split, got, want)
		}
	}
}
