package detect

import (
	"fmt"
	"math"
)

// exfil: a pair whose source sent far more than it received and far more
// than its host's other pairs and nearly every pair in the input usually
// send. Slips alerts at 100 MB to one destination in a time window; spot
// scores the bytes sent on a log scale anchored there: 0.2 at 1 MB, 0.5 at
// 10 MB, 0.8 at 100 MB, and asks first for what makes it an outlier: at
// least twice what came back, and at least 10 times the larger of the
// host's median pair and the 95th percentile of every pair (the score
// counts fully from 100 times).
func (p *flowPair) exfil(n *volumeNorms) (float64, string) {
	out := float64(p.out)
	if !p.exfilCandidate() {
		return 0, ""
	}
	norm := math.Max(1, math.Max(n.peers, n.host[p.src]))
	ratio := out / norm
	if ratio < 10 {
		return 0, ""
	}
	score := (0.2 + 0.3*math.Log10(out/1e6)) * math.Min(1, math.Log10(ratio)/2)
	return clamp01(score), fmt.Sprintf("sent %s, received %s, %.0f× what a pair usually sends (%s), in %s connection(s) over %s; largest %s",
		size(out), size(float64(p.in)), ratio, size(norm), count(float64(p.conns)), span(p.last-p.first), size(float64(p.maxOut)))
}

// exfilCandidate reports whether the pair sent enough, and enough more
// than it received, for exfil to weigh it against the norms.
func (p *flowPair) exfilCandidate() bool {
	return p.out >= 1e6 && p.out >= 2*p.in
}

// long-conn: RITA's long connection score, the total time a pair's flows
// lasted: 0.2 at 1 hour, 0.4 at 4, 0.6 at 8, 0.8 at 12 and more
// (interpolated; none under an hour).
func (p *flowPair) longConn() (float64, string) {
	h := float64(p.dur) / 3600e9
	if h < 1 {
		return 0, ""
	}
	steps := []struct{ h, s float64 }{{1, 0.2}, {4, 0.4}, {8, 0.6}, {12, 0.8}}
	score := 0.8
	for i := 1; i < len(steps); i++ {
		if h < steps[i].h {
			a, b := steps[i-1], steps[i]
			score = a.s + (b.s-a.s)*(h-a.h)/(b.h-a.h)
			break
		}
	}
	return score, fmt.Sprintf("connected for %s in all over %s connection(s), %s sent, %s received",
		span(p.dur), count(float64(p.conns)), size(float64(p.out)), size(float64(p.in)))
}
