package detect

import (
	"fmt"
	"math"
	"strings"
	"testing"

	"github.com/zeebo/xxh3"
)

// rotations returns n distinct rotations of s (n ≤ len(s)): names of the
// same characters, so of the same information.
func rotations(s string, n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = s[i:] + s[:i]
	}
	return out
}

// tunnel observes one query of each name under t.example, a second apart
// from t0, into a (client, domain) subject; qtype and rcode give each
// query's type and answer.
func tunnel(prefixes []string, qtype, rcode func(i int) int32) *tunnelState {
	s := &tunnelState{client: "10.0.0.3", domain: "t.example"}
	t0 := int64(1_700_000_000e9)
	for i, p := range prefixes {
		name := p + ".t.example"
		ni := splitName(name)
		e := DNS{TsNs: t0 + int64(i)*1e9, Client: "10.0.0.3", Name: name, QType: qtype(i), RCode: rcode(i)}
		s.observe(&e, &ni)
	}
	return s
}

// prefixInfo is a name's nameInfo as splitName makes it, of its prefix p.
func prefixInfo(p string) *nameInfo {
	return &nameInfo{prefix: p, hash: xxh3.HashString(p), bits: float32(nameBits(p))}
}

func always(v int32) func(int) int32 { return func(int) int32 { return v } }

// firstOf gives v to the first n queries and w to the rest.
func firstOf(n int, v, w int32) func(int) int32 {
	return func(i int) int32 {
		if i < n {
			return v
		}
		return w
	}
}

func TestTunnelJudgeAnchors(t *testing.T) {
	// 64 names of 16 distinct characters: 64 bits each, 4096 in all (0.2)
	b64 := rotations("0123456789abcdef", 16)
	b64 = append(b64, rotations("ghijklmnopqrstuv", 16)...)
	b64 = append(b64, rotations("0123456789ghijkl", 16)...)
	b64 = append(b64, rotations("abcdefmnopqrstuv", 16)...)
	// 16 names of 128 bits and 16 of 72: 100 bits a name on average
	mixed := rotations("0123456789abcdef0123456789abcdef", 16)
	mixed = append(mixed, rotations("ghijklmnghijklmnghijklmn", 8)...)
	mixed = append(mixed, rotations("opqrstuvopqrstuvopqrstuv", 8)...)
	for _, c := range []struct {
		name       string
		s          *tunnelState
		prevalence float64
		score      float64
		ev         string
	}{
		{"4 kbit", tunnel(b64, always(1), always(0)), 0, 0.2,
			"64 distinct names under t.example, ~512 B of names in 63 s, 64 queries, labels up to 16 characters"},
		{"half TXT", tunnel(b64, firstOf(32, 16, 1), always(0)), 0, 0.3,
			"64 distinct names under t.example, ~512 B of names in 63 s, 64 queries, 50% TXT/NULL/KEY/CNAME/MX/private, labels up to 16 characters"},
		{"under half TXT", tunnel(b64, firstOf(31, 16, 1), always(0)), 0, 0.2, ""},
		{"half NXDOMAIN", tunnel(b64, always(1), firstOf(32, 3, 0)), 0, 0.25,
			"64 distinct names under t.example, ~512 B of names in 63 s, 64 queries, 50% NXDOMAIN, labels up to 16 characters"},
		{"under half NXDOMAIN", tunnel(b64, always(1), firstOf(31, 3, 2)), 0, 0.2, ""},
		{"100 bits a name", tunnel(mixed, always(1), always(0)), 0, 0.2 + 0.2*math.Log2(3200.0/4096) + 0.1,
			"32 distinct names under t.example, ~400 B of names in 31 s, 32 queries, labels up to 32 characters"},
		{"under 100 bits a name", tunnel(mixed[1:], always(1), always(0)), 0, 0.2 + 0.2*math.Log2(3072.0/4096), ""},
		{"a rare domain", tunnel(b64, always(16), always(3)), 0.1, 0.45, ""},
		{"a common domain", tunnel(b64, always(1), always(0)), -0.15, 0.05, ""},
		{"too little to score: no modifiers", tunnel(b64[:31], always(16), always(3)), 0.1, 0, ""},
	} {
		score, ev := c.s.judge(1, c.prevalence)
		if !near(score, c.score, 1e-9) {
			t.Errorf("%s: score %.4f, want %.4f (%s)", c.name, score, c.score, ev)
		}
		if c.ev != "" && ev != c.ev {
			t.Errorf("%s: evidence\n%q, want\n%q", c.name, ev, c.ev)
		}
	}

	// The domain-level subject: its information over the square root of
	// its clients (4 clients: 8192 bits count as 4096).
	more := rotations("cdefghijklmnopqr", 16)
	for _, set := range []string{"stuvwxyz01234567", "89abcdefghijklmn", "opqrstuvwxyz0123"} {
		more = append(more, rotations(set, 16)...)
	}
	add := func(s *tunnelState, ts int64, p string) {
		e := DNS{TsNs: ts, Name: p + ".t.example", QType: 1}
		s.observe(&e, prefixInfo(p))
	}
	t0 := int64(1_700_000_000e9)
	s := tunnel(b64, always(1), always(0))
	for i, p := range more {
		add(s, t0+int64(64+i)*1e9, p)
	}
	s.client = ""
	if s.names.count() != 128 {
		t.Fatalf("%.0f names", s.names.count())
	}
	score, ev := s.judge(4, 0)
	if want := "128 distinct names under t.example, ~1.0 kB of names in 2 min from 4 clients, 128 queries, labels up to 16 characters"; !near(score, 0.2, 1e-9) || ev != want {
		t.Errorf("domain subject of 4 clients: %.4f %q, want 0.2 %q", score, ev, want)
	}
	if score, _ := s.judge(0.5, 0); !near(score, 0.4, 1e-9) {
		t.Errorf("domain subject of under one client: %.4f, want 0.4 (counted as one)", score)
	}

	// Information per day: 8192 bits over two days count as 4096.
	two := tunnel(b64, always(1), always(0))
	for i, p := range more {
		add(two, t0+int64(1+i%2)*86400e9, p)
	}
	if score, ev := two.judge(1, 0); !near(score, 0.2, 1e-9) || !strings.Contains(ev, "in 2.0 d,") {
		t.Errorf("8192 bits over 2 days: %.4f %q, want 0.2", score, ev)
	}

	// Names too long to print: 1020 bits each, said first.
	long := tunnel(b64[:2], always(1), always(0))
	for i := range 3 {
		e := DNS{TsNs: t0 + int64(2+i)*1e9, Name: overlong, QType: 10}
		long.observe(&e, &nameInfo{})
	}
	score, ev = long.judge(1, 0)
	if want := "3 names too long to print, 2 distinct names under t.example, ~398 B of names in 4 s, 5 queries, 60% TXT/NULL/KEY/CNAME/MX/private, labels up to 16 characters"; ev != want {
		t.Errorf("overlong names: %q, want %q", ev, want)
	}
	if want := 0.2 + 0.2*math.Log2((3*1020+128)/4096.0) + 0.1 + 0.1; !near(score, want, 1e-9) {
		t.Errorf("overlong names: score %.4f, want %.4f", score, want)
	}

	// Past maxExact names, the count is an estimate and says so.
	var many []string
	for i := range 3000 {
		many = append(many, fmt.Sprintf("n%05dx", i))
	}
	if _, ev := tunnel(many, always(1), always(0)).judge(1, 0); !strings.HasPrefix(ev, "~") {
		t.Errorf("3000 names: evidence %q, want an estimate", ev)
	}
}

func TestTunnelStateObserve(t *testing.T) {
	t0 := int64(1_700_000_000e9)
	var s tunnelState
	for _, c := range []struct {
		ts     int64
		prefix string
	}{{t0 + 5e9, "abc.def"}, {t0 + 2e9, "abcdefgh.x"}, {t0 + 9e9, "abc.def"}, {t0 + 3e9, "zz.yyyyyyyyyy"}, {t0 + 4e9, "bbc.def"}} {
		e := DNS{TsNs: c.ts, Name: c.prefix + ".t.example", QType: 1}
		s.observe(&e, prefixInfo(c.prefix))
	}
	if s.first != t0+2e9 || s.last != t0+9e9 || s.events != 5 || s.names.count() != 4 || s.maxLabel != 10 ||
		s.example != "zz.yyyyyyyyyy.t.example" {
		t.Errorf("state %+v", s)
	}
	// Merging keeps the longest example (the first in order among equals),
	// the longest label and the span.
	o := tunnelState{events: 2, odd: 1, nx: 2, overlong: 1, maxLabel: 40, first: t0 + 1e9, last: t0 + 20e9, example: "aa.yyyyyyyyyy.t.example"}
	s.merge(&o)
	if s.first != t0+1e9 || s.last != t0+20e9 || s.events != 7 || s.odd != 1 || s.nx != 2 || s.overlong != 1 || s.maxLabel != 40 ||
		s.example != "aa.yyyyyyyyyy.t.example" {
		t.Errorf("merged %+v", s)
	}
	s.merge(&tunnelState{example: "short"})
	if s.first != t0+1e9 || s.example != "aa.yyyyyyyyyy.t.example" {
		t.Errorf("an empty state merged: %+v", s)
	}
	var e tunnelState
	e.merge(&s)
	if e.first != s.first || e.example != s.example || e.names.count() != 4 {
		t.Errorf("merged into an empty state: %+v", e)
	}
	for _, c := range []struct {
		a, b string
		want bool
	}{{"abcd", "abc", true}, {"abc", "abcd", false}, {"abc", "abd", true}, {"abd", "abc", false}, {"abc", "abc", false}} {
		if longer(c.a, c.b) != c.want {
			t.Errorf("longer(%q, %q) = %v", c.a, c.b, !c.want)
		}
	}
	for q, want := range map[int32]bool{16: true, 10: true, 25: true, 5: true, 15: true, 65280: true, 65534: true, 65279: false, 65535: false, 1: false, 28: false, 12: false} {
		if oddType(q) != want {
			t.Errorf("oddType(%d) = %v", q, !want)
		}
	}
	if l := longestLabel("a.bcd.ef"); l != 3 {
		t.Errorf("longestLabel = %d", l)
	}
}
