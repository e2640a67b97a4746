package report

import (
	"slices"
	"time"
)

// steps are the bin widths a histogram moves through as it fills: a minute
// first, as Apache Spot's ingest summary, then wider.
var steps = []time.Duration{time.Minute, 5 * time.Minute, 15 * time.Minute, time.Hour, 6 * time.Hour, 24 * time.Hour, 7 * 24 * time.Hour, 30 * 24 * time.Hour, 365 * 24 * time.Hour}

// bins counts events per time bin in bounded memory: when more than max
// bins hold events, the bins widen to the next step.
type bins struct {
	step int // index into steps
	max  int
	m    map[int64]int64 // bin start (ns) -> count
}

func newBins(max int) *bins { return &bins{max: max, m: map[int64]int64{}} }

func (b *bins) add(ns, n int64) {
	w := int64(steps[b.step])
	k := ns - mod(ns, w)
	b.m[k] += n
	for len(b.m) > b.max && b.step < len(steps)-1 {
		b.step++
		w = int64(steps[b.step])
		old := b.m
		b.m = make(map[int64]int64, len(old)/2)
		for t, c := range old {
			b.m[t-mod(t, w)] += c
		}
	}
}

func mod(a, b int64) int64 {
	m := a % b
	if m < 0 {
		m += b
	}
	return m
}

// histogram returns the bins in time order, empty ones left out.
func (b *bins) histogram() Histogram {
	h := Histogram{Step: int64(steps[b.step])}
	keys := make([]int64, 0, len(b.m))
	for k := range b.m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		h.Bins = append(h.Bins, [2]int64{k, b.m[k]})
	}
	return h
}
