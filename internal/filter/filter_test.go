package filter

import (
	"math/rand/v2"
	"slices"
	"sort"
	"testing"
)

func TestTopNExactAndOrderIndependent(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	var keys []Key
	for i := 0; i < 5000; i++ {
		// few distinct scores, so ties are common
		keys = append(keys, Key{Score: float64(r.IntN(20)) / 10, EID: int64(r.IntN(1000)), Seq: int64(i)})
	}
	want := slices.Clone(keys)
	sort.Slice(want, func(i, j int) bool { return want[i].Less(want[j]) })
	for _, n := range []int{0, 1, 7, 100, 5000, 6000} {
		for trial := 0; trial < 3; trial++ {
			shuffled := slices.Clone(keys)
			r.Shuffle(len(shuffled), func(i, j int) { shuffled[i], shuffled[j] = shuffled[j], shuffled[i] })
			top := NewTopN[Key](n)
			for _, k := range shuffled {
				top.Offer(k, k)
			}
			got := top.Sorted()
			w := want[:min(n, len(want))]
			if !slices.Equal(got, w) {
				t.Fatalf("n=%d: top-N differs from a full sort", n)
			}
		}
	}
}

func TestKeyTies(t *testing.T) {
	a := Key{Score: 0.1, EID: 5, Seq: 9}
	b := Key{Score: 0.1, EID: 6, Seq: 1}
	if !a.Less(b) || b.Less(a) {
		t.Fatal("ties must break on eid")
	}
	c := Key{Score: 0.1, EID: 5, Seq: 10}
	if !a.Less(c) {
		t.Fatal("then on position")
	}
}

// Wants gates Offer as spot filter does (internal/cli): gated or not, the
// kept records are a full sort's first N, and Wants says yes exactly when
// Offer would keep the record.
func TestTopNWants(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	var keys []Key
	for i := 0; i < 2000; i++ {
		keys = append(keys, Key{Score: float64(r.IntN(50)) / 7, EID: int64(r.IntN(300)), Seq: int64(i)})
	}
	want := slices.Clone(keys)
	sort.Slice(want, func(i, j int) bool { return want[i].Less(want[j]) })
	for _, n := range []int{0, 1, 2, 10, 500, 2000, 2001} {
		top := NewTopN[Key](n)
		for _, k := range keys {
			kept := slices.Contains(want[:min(n, len(want))], k)
			wants := top.Wants(k)
			if kept && !wants {
				t.Fatalf("n=%d: Wants(%v) false for a record of the final top N", n, k)
			}
			if wants {
				top.Offer(k, k)
			}
		}
		if got := top.Sorted(); !slices.Equal(got, want[:min(n, len(want))]) {
			t.Fatalf("n=%d: Wants-gated top N differs from a full sort", n)
		}
	}
	// with the heap full, Wants is true only for keys below its worst
	top := NewTopN[Key](2)
	top.Offer(Key{Score: 1}, Key{})
	if !top.Wants(Key{Score: 5}) {
		t.Fatal("Wants false with room left")
	}
	top.Offer(Key{Score: 2}, Key{})
	for _, c := range []struct {
		k    Key
		want bool
	}{{Key{Score: 1.5}, true}, {Key{Score: 2}, false}, {Key{Score: 2, Seq: -1}, true}, {Key{Score: 3}, false}} {
		if got := top.Wants(c.k); got != c.want {
			t.Errorf("Wants(%v) = %v with keys 1 and 2 kept", c.k, got)
		}
	}
	if NewTopN[Key](0).Wants(Key{}) {
		t.Error("a top 0 wants nothing")
	}
}

// CappedTopN keeps what taking the records lowest key first, passing over
// those whose subject already has per, keeps: in any order of offering,
// with few subjects and many.
func TestCappedTopNIsGreedy(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	type rec struct {
		k       Key
		subject string
	}
	for trial := range 300 {
		subjects := 1 + r.IntN(30)
		var recs []rec
		for i := range 1 + r.IntN(400) {
			recs = append(recs, rec{Key{Score: float64(r.IntN(40)) / 8, EID: int64(r.IntN(100)), Seq: int64(i)}, string(rune('a' + r.IntN(subjects)))})
		}
		n, per := r.IntN(60), 1+r.IntN(5)
		sorted := slices.Clone(recs)
		sort.Slice(sorted, func(i, j int) bool { return sorted[i].k.Less(sorted[j].k) })
		var want []rec
		count := map[string]int{}
		for _, x := range sorted {
			if len(want) < n && count[x.subject] < per {
				want = append(want, x)
				count[x.subject]++
			}
		}
		r.Shuffle(len(recs), func(i, j int) { recs[i], recs[j] = recs[j], recs[i] })
		top := NewCappedTopN[rec](n, per)
		for _, x := range recs {
			wants := top.Wants(x.k, x.subject)
			if wants && !top.MayWant(x.k) {
				t.Fatalf("trial %d: MayWant says no where Wants says yes", trial)
			}
			before := slices.Clone(top.h)
			top.Offer(x.k, x.subject, x)
			if changed := !slices.Equal(before, top.h); changed != wants {
				t.Fatalf("trial %d: Wants said %v, Offer changed the kept records: %v", trial, wants, changed)
			}
		}
		if got := top.Sorted(); !slices.Equal(got, want) {
			t.Fatalf("trial %d (n=%d, per=%d): kept %v, want %v", trial, n, per, got, want)
		}
	}
}

// MayWant, the cheap test before a record's subject is found, says no to
// a record worse than every one a full CappedTopN keeps, and a top 0 wants
// nothing.
func TestCappedTopNMayWant(t *testing.T) {
	top := NewCappedTopN[int](2, 1)
	if !top.MayWant(Key{Score: 9}) {
		t.Fatal("MayWant false with room left")
	}
	top.Offer(Key{Score: 1}, "a", 1)
	top.Offer(Key{Score: 2}, "b", 2)
	for _, c := range []struct {
		k    Key
		want bool
	}{{Key{Score: 1.5}, true}, {Key{Score: 2}, false}, {Key{Score: 2, Seq: -1}, true}, {Key{Score: 3}, false}} {
		if got := top.MayWant(c.k); got != c.want {
			t.Errorf("MayWant(%v) = %v with keys 1 and 2 kept", c.k, got)
		}
	}
	if NewCappedTopN[int](0, 1).MayWant(Key{}) || NewCappedTopN[int](0, 1).Wants(Key{}, "a") {
		t.Error("a top 0 wants something")
	}
}
