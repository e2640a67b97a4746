package detect

import (
	"fmt"
	"math"
	"strings"
)

// dns-tunnel: how much information the distinct query names under one
// registrable domain carry, per (client, domain) and per domain over all
// clients. A tunnel, an exfiltration or a C2 channel over DNS must put its
// data in the names it asks, each different from the last; benign clients
// ask a few names of a domain again and again.
//
// The information of a name's prefix (the labels left of the registrable
// domain, by the Public Suffix List) is estimated as its length in
// characters times the Shannon entropy of those characters, lowercased (so
// that a resolver's 0x20 case randomisation adds nothing): about 5 bits a
// character for base32 or base64 data, 2-3 for hostnames like mail or
// www2. A subject's information is the sum over its distinct prefixes
// (Paxson et al., USENIX Security 2013, bound the same quantity by the
// compressed size of the names), per day when it spans more than one.
//
// Score, anchored at Paxson's alert threshold of 4 kB a day: 0.2 at 4 kbit,
// rising 0.2 for each doubling, 0.8 at 32 kbit (4 kB), 1 from 64 kbit; 0
// below 2 kbit. Modifiers, applied when the score is above 0 (as RITA's):
// +0.1 when most queries ask unusual types (TXT, NULL, KEY, CNAME, MX,
// private 65280-65534), +0.1 when the names carry 100 bits or more each on
// average (data, not hostnames), +0.05 when most answers are NXDOMAIN, and
// the domain's prevalence (context.go). The domain-level subject divides its
// information by the square root of its number of clients: a domain many
// clients use is expected to have many names. Names under .arpa, .local
// and other names with no registrable domain are not judged (as RITA).
type tunnelState struct {
	client, domain string   // client "" for the domain-level subject
	names          distinct // distinct prefixes, weighted by their bits
	events         int64
	odd, nx        int64 // queries of unusual types; NXDOMAIN answers
	overlong       int64 // names too long to print (see overlong)
	maxLabel       int
	first, last    int64
	example        string // the longest name seen
}

// observe adds message e, whose name is ni.
func (s *tunnelState) observe(e *DNS, ni *nameInfo) {
	s.events++
	if s.first == 0 || e.TsNs < s.first {
		s.first = e.TsNs
	}
	if e.TsNs > s.last {
		s.last = e.TsNs
	}
	if oddType(e.QType) {
		s.odd++
	}
	if e.RCode == 3 {
		s.nx++
	}
	if e.Name == overlong {
		s.overlong++
		return
	}
	if s.names.add(ni.hash, ni.bits) {
		if longer(e.Name, s.example) {
			s.example = strings.Clone(e.Name)
		}
		if l := longestLabel(ni.prefix); l > s.maxLabel {
			s.maxLabel = l
		}
	}
}

func (s *tunnelState) merge(o *tunnelState) {
	s.names.merge(&o.names)
	s.events += o.events
	s.odd += o.odd
	s.nx += o.nx
	s.overlong += o.overlong
	s.maxLabel = max(s.maxLabel, o.maxLabel)
	if o.first != 0 && (s.first == 0 || o.first < s.first) {
		s.first = o.first
	}
	s.last = max(s.last, o.last)
	if longer(o.example, s.example) {
		s.example = o.example
	}
}

// judge scores the subject; users is the number of clients that asked
// names of the domain, and prevalence the domain's context modifier.
func (s *tunnelState) judge(users, prevalence float64) (score float64, evidence string) {
	bits := s.names.sum() + overlongBits*float64(s.overlong)
	days := math.Max(1, float64(s.last-s.first)/86400e9)
	perDay := bits / days
	clients := 1.0
	if s.client == "" {
		clients = math.Max(1, users)
	}
	score = tunnelBitsScore(perDay / math.Sqrt(clients))
	if score > 0 {
		if 2*s.odd >= s.events {
			score += 0.1
		}
		if bits >= dataBits*s.names.count() {
			score += 0.1 // names that carry data
		}
		if 2*s.nx >= s.events {
			score += 0.05
		}
		score = clamp01(score + prevalence)
	}
	n := s.names.count()
	approx := ""
	if !s.names.exact() {
		approx = "~"
	}
	var b strings.Builder
	if s.overlong > 0 {
		fmt.Fprintf(&b, "%s names too long to print, ", count(float64(s.overlong)))
	}
	fmt.Fprintf(&b, "%s%s distinct names under %s, ~%s of names in %s", approx, count(n), s.domain, size(bits/8), span(s.last-s.first))
	if s.client == "" {
		fmt.Fprintf(&b, " from %s clients", count(clients))
	}
	fmt.Fprintf(&b, ", %s queries", count(float64(s.events)))
	if s.odd > 0 {
		fmt.Fprintf(&b, ", %s TXT/NULL/KEY/CNAME/MX/private", pct(float64(s.odd), float64(s.events)))
	}
	if s.nx > 0 {
		fmt.Fprintf(&b, ", %s NXDOMAIN", pct(float64(s.nx), float64(s.events)))
	}
	fmt.Fprintf(&b, ", labels up to %d characters", s.maxLabel)
	return score, b.String()
}

// dataBits is the mean information of distinct names that carry data: 100
// bits, about 13 bytes of random data in each name (a hostname carries 10
// to 50: www2, mail, r4---sn-25glene6).
const dataBits = 100

// overlongBits is the information counted for a name too long to print:
// 255 characters at 4 bits each, the least such a name can carry.
const overlongBits = 255 * 4

// tunnelBitsScore maps information per day to a score (see above).
func tunnelBitsScore(bits float64) float64 {
	if bits < 2048 {
		return 0
	}
	return clamp01(0.2 + 0.2*math.Log2(bits/4096))
}

// oddType reports whether a query type is one tunnels favour and clients
// seldom ask: TXT, NULL, KEY, CNAME, MX or a private type.
func oddType(t int32) bool {
	switch t {
	case 16, 10, 25, 5, 15:
		return true
	}
	return t >= 65280 && t <= 65534
}

// nameBits estimates the information in a name prefix: its length without
// dots times the Shannon entropy of its (lowercased) characters.
func nameBits(prefix string) float64 {
	var counts [256]int32
	n := 0
	for i := 0; i < len(prefix); i++ {
		c := prefix[i]
		if c == '.' {
			continue
		}
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		counts[c]++
		n++
	}
	if n < 2 {
		return float64(n)
	}
	var h float64
	inv := 1 / float64(n)
	for _, k := range counts {
		if k > 0 {
			p := float64(k) * inv
			h -= p * math.Log2(p)
		}
	}
	return h * float64(n)
}

// longer reports whether a should replace b as the example: longer, or as
// long and first in order, so that the example does not depend on the
// order of the events.
func longer(a, b string) bool {
	return len(a) > len(b) || len(a) == len(b) && a < b
}

func longestLabel(name string) int {
	best := 0
	for l := range strings.SplitSeq(name, ".") {
		best = max(best, len(l))
	}
	return best
}
