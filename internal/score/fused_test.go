package score

import (
	"math"
	"math/rand/v2"
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

// eighthRoot is math.Pow(x, 1/8) bit for bit over Fuse's domain: scores
// of every magnitude Spot writes, subnormals, the ends and NaN.
func TestEighthRoot(t *testing.T) {
	xs := []float64{0, math.SmallestNonzeroFloat64, 1e-310, 0x1p-1022, 1e-300, 1e-8, 0.5, math.Nextafter(1, 0), 1, math.NaN()}
	rnd := rand.New(rand.NewPCG(1, 2))
	for range 1_000_000 {
		xs = append(xs, rnd.Float64(), math.Ldexp(rnd.Float64(), -rnd.IntN(1060)))
	}
	for _, x := range xs {
		if got, want := eighthRoot(x), math.Pow(x, 1.0/8); math.Float64bits(got) != math.Float64bits(want) {
			t.Fatalf("eighthRoot(%g) = %v, math.Pow = %v", x, got, want)
		}
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
