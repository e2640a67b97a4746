package detect

import (
	"fmt"
	"math"
	"slices"
	"sort"

	"gonum.org/v1/gonum/stat"
)

// beacon: an implant that calls home does so on a timer, so its events to
// one place come at regular intervals, often of regular sizes, for as long
// as it runs. Subjects are (source, destination, port, protocol) for flows,
// (client, name) and (client, domain) for DNS and (client, host) for proxy
// logs.
//
// RITA v5 (analysis/beacons.go) scores the sorted gaps between events: a
// timestamp score (the mean of 1 - |Bowley skew| and 1 - MAD/median), the
// same on sizes, a histogram score and a duration score (the share of the
// window covered, or the longest run of busy bins of 24, over 12), averaged.
// Simulated here, its timestamp score passes 16% of Poisson processes of 12
// events at 0.7 and misses 15% of beacons with 30% jitter, because Bowley's
// skew of a few gaps is noise; 1 - MAD/median alone separates them (a
// Poisson process has MAD/median near 0.69, a beacon with uniform jitter of
// ±j near j/2). So spot's beacon score is
//
//	cap · conf · regularity · (0.6 + 0.2 · duration + 0.2 · sizes)
//
// where regularity is 1 when the MAD of the gaps is at most 10% of their
// median, 0 from 30% (linear between), duration is RITA's duration score,
// sizes is RITA's regularity score of the sizes (1 - |Bowley| and
// 1 - MAD/median, averaged), and conf grows with the number of beats: 0 for
// 5 or fewer, 1 from 12 (linear between). Events less than a second apart
// are one beat (retries, parallel connections, A and AAAA asked together),
// so bursts do not look like a 0-second beacon (rita-legacy issue #117).
// The context modifiers come on top. cap is 0.8 for flows and proxy logs
// (RITA's top bucket, before modifiers) and 0.5 for DNS names: benign
// software polls names all the time (monitors, updaters, a resolver
// refreshing its cache), RITA's users report FQDN beacons as its worst
// false positives (rita-legacy #721), so a DNS beacon needs a second sign
// to score high: a query type tunnels favour (+0.2), a new name at nearly
// every beat, data or cache-busting (+0.2), a domain few clients use.
type beaconState struct {
	ts     []int64 // event times, ns
	sizes  []int32
	mask   uint64 // events are kept when hash(ts)&mask == 0 (see add)
	events int64
}

// maxBeats is how many event times one subject keeps before thinning them
// by hash; a subject that busy is judged on the kept sample.
const maxBeats = 8192

// Beats needed before a subject is judged, and for full confidence.
const (
	minBeats  = 6
	fullBeats = 12
)

// beatArena hands out room for subjects' first beats from shared blocks:
// most subjects of a busy network are seen once or twice, and then cost no
// allocation of their own.
type beatArena struct {
	ts    []int64
	sizes []int32
}

// room gives b space for two beats if it has none.
func (a *beatArena) room(b *beaconState) {
	if b.ts != nil {
		return
	}
	if len(a.ts) < 2 {
		a.ts, a.sizes = make([]int64, 4096), make([]int32, 4096)
	}
	b.ts, b.sizes = a.ts[:0:2], a.sizes[:0:2]
	a.ts, a.sizes = a.ts[2:], a.sizes[2:]
}

func (b *beaconState) add(ts int64, size int32) {
	b.events++
	if uint64(mix64(uint64(ts)))&b.mask != 0 {
		return
	}
	b.ts = append(b.ts, ts)
	b.sizes = append(b.sizes, size)
	if len(b.ts) > maxBeats {
		b.thin()
	}
}

func (b *beaconState) thin() {
	for len(b.ts) > maxBeats {
		b.mask = b.mask<<1 | 1
		k := 0
		for i, t := range b.ts {
			if uint64(mix64(uint64(t)))&b.mask == 0 {
				b.ts[k], b.sizes[k] = t, b.sizes[i]
				k++
			}
		}
		b.ts, b.sizes = b.ts[:k], b.sizes[:k]
	}
}

func (b *beaconState) merge(o *beaconState) {
	b.events += o.events
	for o.mask > b.mask {
		b.mask = b.mask<<1 | 1
	}
	for i, t := range o.ts {
		if uint64(mix64(uint64(t)))&b.mask == 0 {
			b.ts = append(b.ts, t)
			b.sizes = append(b.sizes, o.sizes[i])
		}
	}
	b.thin()
}

// mix64 is a 64-bit finaliser (SplitMix64's): a hash of a timestamp.
func mix64(x uint64) uint64 {
	x ^= x >> 30
	x *= 0xbf58476d1ce4e5b9
	x ^= x >> 27
	x *= 0x94d049bb133111eb
	x ^= x >> 31
	return x
}

// beaconResult is what judging a beacon subject found.
type beaconResult struct {
	score       float64 // before context modifiers
	beats       int
	period, mad float64 // median gap and its MAD, seconds
	ts, ds, dur float64
	first, last int64
}

func (r *beaconResult) evidence() string {
	return fmt.Sprintf("every %s ± %s, %d times over %s (regularity %.2f, sizes %.2f, duration %.2f)",
		seconds(r.period), seconds(r.mad), r.beats, span(r.last-r.first), r.ts, r.ds, r.dur)
}

func seconds(s float64) string {
	switch {
	case s < 10:
		return fmt.Sprintf("%.1f s", s)
	case s < 600:
		return fmt.Sprintf("%.0f s", s)
	case s < 36000:
		return fmt.Sprintf("%.1f min", s/60)
	}
	return fmt.Sprintf("%.1f h", s/3600)
}

// judge scores the subject against the input's window [w0, w1].
func (b *beaconState) judge(w0, w1 int64) beaconResult {
	var r beaconResult
	if len(b.ts) < minBeats {
		return r
	}
	idx := make([]int, len(b.ts))
	for i := range idx {
		idx[i] = i
	}
	if !slices.IsSorted(b.ts) {
		sort.SliceStable(idx, func(i, j int) bool { return b.ts[idx[i]] < b.ts[idx[j]] })
	}
	// beats: events less than a second after the beat's first event join it
	var times []int64
	var sizes []float64
	for _, i := range idx {
		t := b.ts[i]
		if n := len(times); n > 0 && t-times[n-1] < 1e9 {
			sizes[n-1] += float64(b.sizes[i])
			continue
		}
		times = append(times, t)
		sizes = append(sizes, float64(b.sizes[i]))
	}
	if len(times) < minBeats {
		return r
	}
	gaps := make([]float64, len(times)-1)
	for i := range gaps {
		gaps[i] = float64(times[i+1]-times[i]) / 1e9
	}
	r.first, r.last = times[0], times[len(times)-1]
	r.period, r.mad, r.ts, r.beats = rhythm(gaps)
	r.ds, _, _ = regularity(sizes)
	r.dur = duration(times, w0, w1)
	conf := clamp01(float64(r.beats-5) / float64(fullBeats-5))
	r.score = conf * r.ts * (0.6 + 0.2*r.dur + 0.2*r.ds)
	return r
}

// rhythm finds a subject's period and how well its events keep it. Gaps
// shorter than a fifth of the 75th percentile are bursts (a command's
// results sent after a check-in, retries) and set aside; the period is the
// median of the other gaps, and the regularity the share of them within
// 30% of it: 0 at half or less, 1 from 90% (linear between). A beacon
// with up to 30% jitter keeps nearly all its gaps within 30%; a Poisson
// process about a quarter. beats counts the beats without the bursts.
func rhythm(gaps []float64) (period, mad, reg float64, beats int) {
	s := slices.Clone(gaps)
	slices.Sort(s)
	cut := stat.Quantile(0.75, stat.LinInterp, s, nil) / 5
	long := s[sort.SearchFloat64s(s, cut):]
	if len(long) == 0 {
		return 0, 0, 0, 1
	}
	period = stat.Quantile(0.5, stat.LinInterp, long, nil)
	on := 0
	dev := make([]float64, len(long))
	for i, g := range long {
		dev[i] = math.Abs(g - period)
		if dev[i] <= 0.3*period {
			on++
		}
	}
	slices.Sort(dev)
	mad = stat.Quantile(0.5, stat.LinInterp, dev, nil)
	reg = clamp01((float64(on)/float64(len(long)) - 0.5) / 0.4)
	if 2*len(long) < len(s) {
		reg = 0 // more bursts than beats: no rhythm to speak of
	}
	return period, mad, reg, len(long) + 1
}

// regularity is RITA's score of a series (gaps or sizes): the mean of
// 1 - |Bowley skew| and 1 - MAD/median, with the median and MAD.
func regularity(x []float64) (score, median, mad float64) {
	s := slices.Clone(x)
	slices.Sort(s)
	q1 := stat.Quantile(0.25, stat.LinInterp, s, nil)
	q2 := stat.Quantile(0.5, stat.LinInterp, s, nil)
	q3 := stat.Quantile(0.75, stat.LinInterp, s, nil)
	dev := make([]float64, len(s))
	for i, v := range s {
		dev[i] = math.Abs(v - q2)
	}
	slices.Sort(dev)
	mad = stat.Quantile(0.5, stat.LinInterp, dev, nil)
	if q2 < 1 {
		return 0, q2, mad
	}
	skew := 0.0
	if q3-q1 >= 0.05*q2 && q2 != q1 && q2 != q3 {
		skew = (q1 + q3 - 2*q2) / (q3 - q1)
	}
	madScore := math.Max(0, 1-mad/q2)
	return (1 - math.Abs(skew) + madScore) / 2, q2, mad
}

// duration is RITA's duration score of beat times in the window [w0, w1]
// cut in 24 bins: the larger of the share of the window covered and the
// longest run of busy bins over 12. (RITA's histogram score, the evenness
// of the busy bins' counts, is not part of spot's score: see beaconState.)
func duration(times []int64, w0, w1 int64) float64 {
	const bins = 24
	width := float64(w1-w0) / bins
	if width <= 0 {
		return 1
	}
	var busy [bins]bool
	for _, t := range times {
		busy[min(bins-1, max(0, int(float64(t-w0)/width)))] = true
	}
	run, best := 0, 0
	for _, b := range busy {
		if b {
			run++
			best = max(best, run)
		} else {
			run = 0
		}
	}
	cover := float64(times[len(times)-1]-times[0]) / float64(w1-w0)
	return math.Min(1, math.Max(cover, float64(best)/12))
}
