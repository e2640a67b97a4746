package score

import (
	"math"
	"math/big"
	"math/rand/v2"
	"slices"
	"testing"
)

func TestFuse(t *testing.T) {
	// Spot's range and convention: [0, 1], lower is more suspicious.
	for _, d := range []float64{0, 0.2, 0.55, 1} {
		for _, l := range []float64{0, 1e-8, 1e-3, 0.5, 1} {
			if f := Fuse(d, l); f < 0 || f > 1 || math.IsNaN(f) {
				t.Errorf("Fuse(%v, %v) = %v, outside [0, 1]", d, l, f)
			}
		}
	}
	// A stronger verdict ranks first; within one, the rarer word.
	if !(Fuse(0.9, 0.5) < Fuse(0.5, 1e-8)) {
		t.Error("a strong verdict does not outrank a weak one with a rare word")
	}
	if !(Fuse(1, 1e-6) < Fuse(1, 1e-2)) || !(Fuse(0, 1e-6) < Fuse(0, 1e-2)) {
		t.Error("the topic model does not order events within a level")
	}
	// A verdict of 0.55 or more ranks before every event with none.
	if !(Fuse(0.55, 1) < Fuse(0, 0)) {
		t.Errorf("Fuse(0.55, 1) = %v, not below Fuse(0, 0) = %v", Fuse(0.55, 1), Fuse(0, 0))
	}
	// Out-of-range topic scores are clamped, never NaN.
	if f := Fuse(0, -1); f != Fuse(0, 0) {
		t.Errorf("Fuse(0, -1) = %v", f)
	}
}

// eighthRoot is within an ulp of the true eighth root (math/big's, to 200
// bits) over Fuse's domain: scores of every magnitude Spot writes,
// subnormals and the ends; it never decreases; NaN stays NaN.
func TestEighthRoot(t *testing.T) {
	xs := []float64{0, math.SmallestNonzeroFloat64, 1e-310, 0x1p-1022, 1e-300, 1e-8, 0.5, math.Nextafter(1, 0), 1}
	rnd := rand.New(rand.NewPCG(1, 2))
	for range 20_000 {
		xs = append(xs, rnd.Float64(), math.Ldexp(rnd.Float64(), -rnd.IntN(1075)), math.Ldexp(1, -rnd.IntN(1075)))
	}
	slices.Sort(xs)
	prev := 0.0
	for _, x := range xs {
		got := eighthRoot(x)
		r := new(big.Float).SetPrec(200).SetFloat64(x)
		for range 3 {
			r.Sqrt(r)
		}
		want, _ := r.Float64()
		if d := int64(math.Float64bits(got)) - int64(math.Float64bits(want)); d < -1 || d > 1 {
			t.Fatalf("eighthRoot(%g) = %v, %d ulps from %v", x, got, d, want)
		}
		if got < prev {
			t.Fatalf("eighthRoot(%g) = %v, below the root of a smaller score (%v)", x, got, prev)
		}
		prev = got
	}
	if !math.IsNaN(eighthRoot(math.NaN())) {
		t.Error("eighthRoot(NaN) is a number")
	}
}

func TestParseMethod(t *testing.T) {
	for _, s := range []string{"fused", "FUSED", "spot", "population", "peer", "hybrid"} {
		if _, err := ParseMethod(s); err != nil {
			t.Errorf("ParseMethod(%q): %v", s, err)
		}
	}
	if _, err := ParseMethod("rita"); err == nil {
		t.Error("unknown method accepted")
	}
}
