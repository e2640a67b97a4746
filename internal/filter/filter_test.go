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
