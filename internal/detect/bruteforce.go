package detect

import (
	"fmt"
	"math"
)

// brute-force: many short connections from one source to one TCP service,
// as password guessing (SSH, RDP, web logins) and exploit tools make them:
// at least 30 connections, 80% of them under 10 s and 10 kB each way.
// Score on a log scale: 0.3 at 30 connections, 0.56 at 100, 0.8 at 300,
// and the destination's prevalence (a service many clients use is less
// suspicious) as for every pair.
func (p *flowPair) bruteForce() (float64, string) {
	if p.proto != "TCP" || p.conns < 30 || float64(p.short) < 0.8*float64(p.conns) {
		return 0, ""
	}
	score := 0.3 + 0.5*math.Log10(float64(p.conns)/30)
	return clamp01(score), fmt.Sprintf("%s connections in %s, %s short and small (under 10 s and 10 kB), %s sent, %s received",
		count(float64(p.conns)), span(p.last-p.first), pct(float64(p.short), float64(p.conns)), size(float64(p.out)), size(float64(p.in)))
}
