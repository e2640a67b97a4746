package detect

import (
	"testing"
)

// The scores below are worked out by hand from the rules in each
// detector's comment, so a change to a constant or a comparison shows.
// gonum's LinInterp quantile of n sorted values at p is x[k-1] for
// k = p·n when p·n is whole (x[2], x[5], x[8] for the quartiles of 12).

func TestRegularityAnchors(t *testing.T) {
	for _, c := range []struct {
		name              string
		x                 []float64
		score, median, md float64
	}{
		{"constant", []float64{100, 100, 100, 100, 100, 100, 100, 100, 100, 100, 100, 100}, 1, 100, 0},
		// q1 10, q2 20, q3 40: Bowley (10+40-40)/30 = 1/3; MAD 10: 1 - 10/20
		{"skewed", []float64{10, 10, 10, 10, 10, 20, 20, 20, 40, 40, 40, 40}, (2.0/3 + 0.5) / 2, 20, 10},
		// q1 98, q2 100, q3 103: the quartiles span 5% of the median, so the
		// skew counts: (98+103-200)/5 = 0.2; MAD 2
		{"skew at 5%", []float64{97, 97, 98, 98, 98, 100, 100, 100, 103, 103, 103, 103}, (0.8 + 0.98) / 2, 100, 2},
		// q1 99, q2 100, q3 103: under 5% the skew is noise and taken as 0; MAD 1
		{"skew under 5%", []float64{98, 98, 99, 99, 99, 100, 100, 100, 103, 103, 103, 103}, (1 + 0.99) / 2, 100, 1},
		// q2 == q3: no skew, whatever q1; MAD 0
		{"upper half flat", []float64{50, 50, 50, 80, 80, 100, 100, 100, 100, 100, 100, 100}, 1, 100, 0},
		// a median of 1 still counts
		{"ones", []float64{1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1}, 1, 1, 0},
		// a median under 1 (empty sizes) is no regularity
		{"zeros", []float64{0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0}, 0, 0, 0},
		// q1 0, q2 2, q3 20: Bowley 0.8; MAD as large as the median
		{"wild", []float64{0, 0, 0, 0, 0, 2, 20, 20, 20, 20, 20, 20}, (0.2 + 0) / 2, 2, 2},
	} {
		s, m, d := regularity(c.x)
		if !near(s, c.score, 1e-9) || !near(m, c.median, 1e-9) || !near(d, c.md, 1e-9) {
			t.Errorf("%s: regularity = %.4f, median %.4f, MAD %.4f; want %.4f, %.4f, %.4f", c.name, s, m, d, c.score, c.median, c.md)
		}
	}
}

func TestRhythmAnchors(t *testing.T) {
	for _, c := range []struct {
		name             string
		gaps             []float64
		period, mad, reg float64
		beats            int
	}{
		{"steady", []float64{60, 60, 60, 60, 60, 60, 60, 60, 60, 60, 60, 60}, 60, 0, 1, 13},
		// 7 of 12 gaps within 30% of 60 (18 s): (7/12 - 0.5)/0.4; MAD 10
		{"loose", []float64{30, 40, 50, 60, 60, 60, 60, 60, 70, 80, 90, 100}, 60, 10, (7.0/12 - 0.5) / 0.4, 13},
		// 10 of 12 within 18 s of 60: (10/12 - 0.5)/0.4; MAD 5
		{"jitter", []float64{40, 45, 50, 55, 60, 60, 60, 60, 65, 70, 75, 80}, 60, 5, (10.0/12 - 0.5) / 0.4, 13},
		// 18 s off is within 30% of 60
		{"edge of 30%", []float64{42, 60, 60, 60, 60, 60, 60, 60, 60, 60, 60, 78}, 60, 0, 1, 13},
		// q75 is 60, so gaps under 12 s are bursts; 7 beats remain, all on time
		{"bursts", []float64{0.2, 0.2, 0.2, 0.2, 0.2, 60, 60, 60, 60, 60, 60, 60}, 60, 0, 1, 8},
		// more bursts than beats: no rhythm
		{"mostly bursts", []float64{0.2, 0.2, 0.2, 0.2, 0.2, 0.2, 0.2, 60, 60, 60, 60, 60}, 60, 0, 0, 6},
		// as many bursts as beats still has one
		{"half bursts", []float64{0.2, 0.2, 0.2, 0.2, 0.2, 0.2, 60, 60, 60, 60, 60, 60}, 60, 0, 1, 7},
	} {
		p, m, r, b := rhythm(c.gaps)
		if !near(p, c.period, 1e-9) || !near(m, c.mad, 1e-9) || !near(r, c.reg, 1e-9) || b != c.beats {
			t.Errorf("%s: rhythm = period %.3f, MAD %.3f, regularity %.4f, %d beats; want %.3f, %.3f, %.4f, %d",
				c.name, p, m, r, b, c.period, c.mad, c.reg, c.beats)
		}
	}
}

func TestDurationAnchors(t *testing.T) {
	every := func(first, step int64, n int) []int64 {
		ts := make([]int64, n)
		for i := range ts {
			ts[i] = (first + int64(i)*step) * 1e9
		}
		return ts
	}
	for _, c := range []struct {
		name   string
		times  []int64
		w0, w1 int64 // seconds
		dur    float64
	}{
		// one beat in each of the first 12 of 24 bins: a 12-bin run
		{"half window", every(50, 100, 12), 0, 2400, 1},
		// every other bin of the first 11: runs of 1, so the cover 1000/2400 counts
		{"alternate bins", every(50, 200, 6), 0, 2400, 1000.0 / 2400},
		// two beats an hour for five hours of a day: a 5-bin run beats the cover of 4.5 h
		{"five busy hours", every(0, 1800, 10), 0, 86400, 5.0 / 12},
		// the last three bins: a 3-bin run
		{"end bins", []int64{2150e9, 2250e9, 2350e9}, 0, 2400, 3.0 / 12},
		// beats outside the window fall in its end bins; a cover past 1 is 1
		{"outside", []int64{-100e9, 3000e9}, 0, 2400, 1},
		// no window: nothing to compare with
		{"empty window", every(0, 60, 6), 100, 100, 1},
	} {
		if d := duration(c.times, c.w0*1e9, c.w1*1e9); !near(d, c.dur, 1e-9) {
			t.Errorf("%s: duration %.4f, want %.4f", c.name, d, c.dur)
		}
	}
}

func TestBeaconJudgeAnchors(t *testing.T) {
	t0 := int64(1_700_000_000e9)
	state := func(n int, step, extra int64, size int32) *beaconState {
		var b beaconState
		for i := 0; i < n; i++ {
			b.add(t0+int64(i)*step, size)
			if extra > 0 {
				b.add(t0+int64(i)*step+extra, 50)
			}
		}
		return &b
	}
	sized := func(n int, step int64, sizes []int32) *beaconState {
		var b beaconState
		for i := 0; i < n; i++ {
			b.add(t0+int64(i)*step, sizes[i])
		}
		return &b
	}
	for _, c := range []struct {
		name  string
		b     *beaconState
		w1    int64 // window end, seconds after t0
		score float64
		beats int
		ds    float64
		dur   float64
	}{
		// 13 beats a minute apart over the whole window: full marks
		{"13 beats", state(13, 60e9, 0, 100), 720, 1, 13, 1, 1},
		// a window four times as long: 7 busy bins of 24, duration 7/12
		{"13 beats, long window", state(13, 60e9, 0, 100), 2880, 0.6 + 0.2*7/12 + 0.2, 13, 1, 7.0 / 12},
		// sizes 10, 20 and 40 (4, 5 and 4 times): q1 10, q2 20, q3 35, Bowley
		// 0.2, MAD 10: sizes (0.8 + 0.5)/2
		{"13 beats, sizes vary", sized(13, 60e9, []int32{10, 20, 40, 10, 20, 40, 10, 20, 40, 10, 20, 40, 20}), 720, 0.6 + 0.2 + 0.2*0.65, 13, 0.65, 1},
		// confidence grows from 5 beats to 12
		{"9 beats", state(9, 60e9, 0, 100), 480, 4.0 / 7, 9, 1, 1},
		{"6 beats", state(6, 60e9, 0, 100), 300, 1.0 / 7, 6, 1, 1},
		{"5 beats", state(5, 60e9, 0, 100), 240, 0, 0, 0, 0},
		// an event under a second after a beat joins it (sizes add up)
		{"pairs 0.999 s apart", state(13, 60e9, 999e6, 100), 720, 1, 13, 1, 1},
		// a second apart they are beats of their own: as many bursts as
		// beats plus one, so no rhythm
		{"pairs 1 s apart", state(13, 60e9, 1e9, 100), 720, 0, 13, 1, 1},
	} {
		r := c.b.judge(t0, t0+c.w1*1e9)
		if !near(r.score, c.score, 1e-9) || r.beats != c.beats || !near(r.ds, c.ds, 1e-9) || !near(r.dur, c.dur, 1e-9) {
			t.Errorf("%s: score %.4f, %d beats, sizes %.4f, duration %.4f; want %.4f, %d, %.4f, %.4f",
				c.name, r.score, r.beats, r.ds, r.dur, c.score, c.beats, c.ds, c.dur)
		}
	}
	// the beats' span and the evidence
	r := state(13, 60e9, 0, 100).judge(t0, t0+720e9)
	if r.first != t0 || r.last != t0+720e9 || r.period != 60 || r.mad != 0 {
		t.Errorf("span %d..%d, period %.1f ± %.1f; want %d..%d, 60 ± 0", r.first, r.last, r.period, r.mad, t0, t0+720e9)
	}
	if got, want := r.evidence(), "every 60 s ± 0.0 s, 13 times over 12 min (regularity 1.00, sizes 1.00, duration 1.00)"; got != want {
		t.Errorf("evidence %q, want %q", got, want)
	}
}

func TestSeconds(t *testing.T) {
	for _, c := range []struct {
		s    float64
		want string
	}{{0.5, "0.5 s"}, {9.94, "9.9 s"}, {10, "10 s"}, {599, "599 s"}, {600, "10.0 min"}, {35999, "600.0 min"}, {36000, "10.0 h"}} {
		if got := seconds(c.s); got != c.want {
			t.Errorf("seconds(%v) = %q, want %q", c.s, got, c.want)
		}
	}
}

func TestBeatsKept(t *testing.T) {
	var b beaconState
	for i := 0; i < maxBeats; i++ {
		b.add(int64(i)*1e9, 1)
	}
	if len(b.ts) != maxBeats || b.mask != 0 || b.events != maxBeats {
		t.Fatalf("%d beats kept of %d (mask %#x, %d events), want all", len(b.ts), maxBeats, b.mask, b.events)
	}
	b.add(int64(maxBeats)*1e9, 1)
	if len(b.ts) > maxBeats || b.mask == 0 || b.events != maxBeats+1 {
		t.Errorf("%d beats kept of %d (mask %#x, %d events), want them thinned", len(b.ts), maxBeats+1, b.mask, b.events)
	}
	// the arena gives each subject room for two beats from shared blocks
	var a beatArena
	var s [3000]beaconState
	for i := range s {
		a.room(&s[i])
		if len(s[i].ts) != 0 || cap(s[i].ts) != 2 || cap(s[i].sizes) != 2 {
			t.Fatalf("subject %d: room len %d cap %d/%d, want 0 and 2", i, len(s[i].ts), cap(s[i].ts), cap(s[i].sizes))
		}
	}
	s[0].add(1, 1)
	s[0].add(2, 2)
	s[1].add(3, 3)
	if s[0].ts[1] != 2 || s[1].ts[0] != 3 {
		t.Errorf("subjects share their room: %v %v", s[0].ts, s[1].ts)
	}
}

func TestBruteForceAnchors(t *testing.T) {
	pair := func(proto string, dport int32, conns, short int64, secs float64) *flowPair {
		t0 := int64(1_700_000_000e9)
		return &flowPair{proto: proto, dport: dport, conns: conns, short: short, first: t0, last: t0 + int64(secs*1e9)}
	}
	for _, c := range []struct {
		name string
		p    *flowPair
		want float64
	}{
		{"30 to SSH, slow", pair("TCP", 22, 30, 30, 1000), 0.3},
		{"300 to SSH, slow", pair("TCP", 22, 300, 300, 3000), 0.8},
		{"29 to SSH, slow", pair("TCP", 22, 29, 29, 1000), 0},
		{"3000 to SSH: capped", pair("TCP", 22, 3000, 3000, 10000), 1},
		{"100 to 8080 in 10 s", pair("TCP", 8080, 100, 100, 10), 0.6},
		{"20 to 8080 in 20 s", pair("TCP", 8080, 20, 16, 20), 0.4},
		{"20 to 8080 in 21 s", pair("TCP", 8080, 20, 20, 21), 0},
		{"10 at once", pair("TCP", 8080, 10, 10, 0), 0.6},
		{"9 at once", pair("TCP", 8080, 9, 9, 0), 0},
		{"too few short", pair("TCP", 8080, 20, 15, 1), 0},
		{"UDP", pair("UDP", 22, 300, 300, 10), 0},
	} {
		c.p.out, c.p.in = 2500, 60000
		got, evidence := c.p.bruteForce()
		if !near(got, c.want, 1e-9) || (got > 0) != (evidence != "") {
			t.Errorf("%s: bruteForce = %.4f %q, want %.4f", c.name, got, evidence, c.want)
		}
	}
	_, ev := pair("TCP", 22, 300, 240, 3000).bruteForce()
	if want := "300 connections in 50 min, 80% short and small (under 10 s and 10 kB), 0 B sent, 0 B received"; ev != want {
		t.Errorf("evidence %q, want %q", ev, want)
	}
}

// A subject keeps its first maxExact distinct items exactly, then samples.
func TestDistinctExactUpTo(t *testing.T) {
	var d distinct
	for i := range maxExact {
		d.add(mix64(uint64(i)), 1)
	}
	if d.mask != 0 || d.count() != maxExact {
		t.Fatalf("%d items: mask %#x, count %.0f; want exact", maxExact, d.mask, d.count())
	}
	d.add(mix64(maxExact), 1)
	if d.mask == 0 || d.len() > maxExact {
		t.Errorf("%d items: mask %#x, %d kept; want sampled", maxExact+1, d.mask, d.len())
	}
}

func TestPrevalenceAnchors(t *testing.T) {
	for _, c := range []struct {
		users, all int
		want       float64
	}{
		{2, 4, -0.15}, {3, 3, 0}, {5, 10, -0.15}, {4, 10, 0},
		{2, 10, 0.1}, {3, 10, 0}, {4, 200, 0.1}, {5, 200, 0}, {1, 9, 0},
	} {
		p := newPrevalence()
		p.users[7], p.all = c.users, c.all
		if got := p.modifier(7); got != c.want {
			t.Errorf("%d of %d clients: modifier %.2f, want %.2f", c.users, c.all, got, c.want)
		}
	}
}

func TestFormats(t *testing.T) {
	for _, c := range []struct{ got, want string }{
		{count(0), "0"}, {count(999), "999"}, {count(1000), "1,000"}, {count(3412.4), "3,412"}, {count(1234567), "1,234,567"}, {count(-1234), "-1,234"},
		{size(999), "999 B"}, {size(1000), "1.0 kB"}, {size(21e3), "21 kB"}, {size(3.4e6), "3.4 MB"}, {size(250e6), "250 MB"}, {size(2e9), "2.0 GB"},
		{span(45e9), "45 s"}, {span(120e9), "2 min"}, {span(7200e9), "2.0 h"}, {span(172800e9), "2.0 d"},
		{pct(1, 3), "33%"}, {pct(1, 0), "0%"},
	} {
		if c.got != c.want {
			t.Errorf("got %q, want %q", c.got, c.want)
		}
	}
}
