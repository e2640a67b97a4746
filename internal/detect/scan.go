package detect

import (
	"fmt"
	"math"
	"strings"
)

// scan: a source probing many ports of one host (vertical) or one port of
// many hosts (horizontal) with connections no service takes up (see
// Flow.unanswered). Zeek's scan policy alerts at 15 ports or 25 hosts in 5
// minutes, Slips at 5 and 5. spot counts the distinct targets over the
// subject's span and scales them to 5 minutes (a scan that took an hour
// needs 12 times as many), then scores on a log scale: 0.3 at Slips' 5,
// 0.6 at Zeek's 15 ports or 25 hosts, 0.9 at ten times Zeek's. A
// horizontal sweep over UDP scores three quarters of that: Zeek's policy
// counts failed TCP connections only, and unanswered UDP to many hosts is
// often benign (peer-to-peer pings, discovery); Slips counts both.
type scanState struct {
	src, dst    string // dst: the host probed (vertical)
	dport       int32  // the port probed (horizontal)
	proto       string
	vertical    bool
	targets     distinct // ports (vertical) or hosts (horizontal)
	probes      int64
	first, last int64
}

func (s *scanState) observe(f *Flow, target uint64) {
	s.probes++
	s.targets.add(target, 0)
	if s.first == 0 || f.TsNs < s.first {
		s.first = f.TsNs
	}
	s.last = max(s.last, f.TsNs)
}

func (s *scanState) merge(o *scanState) {
	s.targets.merge(&o.targets)
	s.probes += o.probes
	if o.first != 0 && (s.first == 0 || o.first < s.first) {
		s.first = o.first
	}
	s.last = max(s.last, o.last)
}

func (s *scanState) subject() string {
	if s.vertical {
		return s.src + " > " + s.dst + ":*"
	}
	return s.src + " > *" + endpoint("", s.dport, s.proto)
}

func (s *scanState) judge() (float64, string) {
	n := s.targets.count()
	minutes := math.Max(5, float64(s.last-s.first)/60e9)
	per5 := n * 5 / minutes
	slips, zeek, what := 5.0, 25.0, "hosts"
	if s.vertical {
		zeek, what = 15, "ports"
	}
	if per5 < slips {
		return 0, ""
	}
	var score float64
	if per5 < zeek {
		score = 0.3 + 0.3*math.Log(per5/slips)/math.Log(zeek/slips)
	} else {
		score = 0.6 + 0.3*math.Log10(per5/zeek)
	}
	target := s.dst
	if !s.vertical {
		target = strings.TrimPrefix(strings.TrimPrefix(endpoint("", s.dport, s.proto), ":"), "/")
		if s.proto == "UDP" {
			score *= 0.75
		}
	}
	return clamp01(score), fmt.Sprintf("probed %s %s of %s in %s with %s unanswered connections",
		count(n), what, target, span(s.last-s.first), count(float64(s.probes)))
}
