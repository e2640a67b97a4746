package detect

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"hash/crc32"
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
	if tun == nil || tun.names.len() != maxExact || !tun.names.exact() || b == nil || len(b.ts) != maxBeats || b.mask != 0 {
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

// encoded returns the bytes body writes, and a decoder over them.
func encoded(body func(*enc)) *dec {
	var buf bytes.Buffer
	e := &enc{w: bufio.NewWriter(&buf), crc: crc32.NewIEEE()}
	body(e)
	e.w.Flush()
	return newDec(bytes.NewReader(buf.Bytes()))
}

// The decoder's bounds: counts up to maxItems, strings up to 1 MiB (read
// past its buffer), any int64 (negative times too), and no varint past 64
// bits.
func TestDecBounds(t *testing.T) {
	d := encoded(func(e *enc) { e.u(maxItems); e.u(maxItems + 1) })
	if n := d.n(); n != maxItems || d.err != nil {
		t.Errorf("count maxItems: %d, %v", n, d.err)
	}
	if d.n(); d.err == nil || d.err.Error() != fmt.Sprintf("count %d out of range", maxItems+1) {
		t.Errorf("count maxItems+1: %v", d.err)
	}
	long := strings.Repeat("abcdefgh", 1<<17) // 1 MiB
	d = encoded(func(e *enc) { e.s(long); e.s(long + "x") })
	if s := d.s(); s != long || d.err != nil {
		t.Errorf("a string of 1 MiB: %d bytes back, %v", len(s), d.err)
	}
	if d.s(); d.err == nil || d.err.Error() != fmt.Sprintf("string of %d bytes", 1<<20+1) {
		t.Errorf("a string past 1 MiB: %v", d.err)
	}
	ints := []int64{0, 1, -1, -5e9, 1 << 62, -1 << 63, 1<<63 - 1}
	d = encoded(func(e *enc) {
		for _, x := range ints {
			e.i(x)
		}
	})
	for _, x := range ints {
		if got := d.i(); got != x || d.err != nil {
			t.Errorf("int %d read back as %d (%v)", x, got, d.err)
		}
	}
	// (the first varint fills the buffer, so the second is read from it)
	d = encoded(func(e *enc) { e.u(1); e.raw(bytes.Repeat([]byte{0xff}, 12)); e.raw(make([]byte, 20)) })
	if x := d.u(); x != 1 || d.err != nil {
		t.Fatalf("first varint %d, %v", x, d.err)
	}
	if d.u(); d.err == nil {
		t.Error("a varint of 12 bytes read without error")
	}
	d = encoded(func(e *enc) { e.raw(bytes.Repeat([]byte{0xff}, 12)); e.raw(make([]byte, 20)) })
	if d.u(); d.err == nil {
		t.Error("a varint of 12 bytes read without error, first")
	}
	// Flows before 1970 keep their times through a state.
	s := NewFlow(Limits{})
	for i := range 13 {
		f := Flow{TsNs: -900e9 + int64(i)*60e9, EndNs: -899e9 + int64(i)*60e9, Src: "10.0.0.1", Dst: "10.0.0.2", DPort: 443, Proto: "TCP", OutBytes: 500, OutPkts: 5, InBytes: 500, InPkts: 5}
		s.Observe(&f)
	}
	back, err := ReadState(bytes.NewReader(stateBytes(t, s)), Limits{})
	if err != nil {
		t.Fatal(err)
	}
	if got, want := fmt.Sprint(back.Finish()), fmt.Sprint(s.Finish()); got != want || !strings.Contains(want, "beacon") {
		t.Errorf("findings read back:\n%s\nwant\n%s", got, want)
	}
}
