package detect

// table holds per-subject state keyed by a 64-bit hash of the subject, at
// most max subjects. When it is full, a new subject first makes room by
// lossy counting: the subjects seen at most k times are dropped, k rising
// from 1 until a quarter of the table is free. Busy subjects (the heavy
// hitters, where detectors find tunnels, beacons and scans) stay; what was
// dropped is counted so that Finish can say so.
type table[S any] struct {
	max     int
	m       map[uint64]*S
	events  func(*S) int64 // how many events a state has seen
	dropped int64          // subjects dropped to stay within max
}

func newTable[S any](max int, events func(*S) int64) *table[S] {
	return &table[S]{max: max, m: make(map[uint64]*S), events: events}
}

// get returns the state of subject h, made by mk when h is new (mk may use
// the subject's strings; it is only called for new subjects).
func (t *table[S]) get(h uint64, mk func() *S) *S {
	if s, ok := t.m[h]; ok {
		return s
	}
	if len(t.m) >= t.max {
		t.shrink()
	}
	s := mk()
	t.m[h] = s
	return s
}

func (t *table[S]) shrink() {
	for k := int64(1); len(t.m) > t.max*3/4; k++ {
		for h, s := range t.m {
			if t.events(s) <= k {
				delete(t.m, h)
				t.dropped++
			}
		}
	}
}

// merge adds o's subjects to t, combining the states of subjects in both.
func (t *table[S]) merge(o *table[S], combine func(dst, src *S)) {
	for h, s := range o.m {
		if d, ok := t.m[h]; ok {
			combine(d, s)
			continue
		}
		if len(t.m) >= t.max {
			t.shrink()
		}
		t.m[h] = s
	}
	t.dropped += o.dropped
}
