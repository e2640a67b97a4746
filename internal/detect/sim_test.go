package detect

import (
	"math/rand/v2"
	"testing"
)

// The beacon score separates jittered beacons from Poisson processes of the
// same rate: at 12 events, at most 5% of Poisson processes score 0.2 or
// more and at least 95% of beacons with 30% jitter do; at 40 events, none
// and all.
func TestBeaconRates(t *testing.T) {
	rnd := rand.New(rand.NewPCG(9, 9))
	t0 := int64(1_700_000_000e9)
	found := func(n int, jitter float64) float64 {
		hits := 0
		const trials = 1000
		for k := 0; k < trials; k++ {
			var b beaconState
			for _, ts := range beats(rnd, t0, n, 60, jitter) {
				b.add(ts, 100)
			}
			if b.judge(t0, t0+int64(n)*60e9).score >= 0.2 {
				hits++
			}
		}
		return float64(hits) / trials
	}
	for _, c := range []struct {
		n        int
		jitter   float64
		min, max float64
	}{
		{12, -1, 0, 0.05}, {12, 0.3, 0.95, 1}, {12, 0.1, 0.99, 1},
		{40, -1, 0, 0.005}, {40, 0.3, 0.995, 1},
	} {
		if got := found(c.n, c.jitter); got < c.min || got > c.max {
			t.Errorf("%d events, jitter %.1f: %.3f found, want %.3f..%.3f", c.n, c.jitter, got, c.min, c.max)
		}
	}
}
