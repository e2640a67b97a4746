package lda

import (
	"math"
	"math/rand/v2"
	"testing"
)

func TestFastLog(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	xs := []float64{1, 2, 0.5, math.Sqrt2, math.Nextafter(math.Sqrt2, 2), 1e-300, 1e300, 3, 0.1, 0, math.Inf(1), 5e-324}
	for range 100000 {
		xs = append(xs, math.Exp(rng.NormFloat64()*50))
	}
	for _, x := range xs {
		got, want := fastLog(x), math.Log(x)
		if got == want || math.Abs(got-want) <= 1e-10*math.Max(1, math.Abs(want)) {
			continue
		}
		t.Fatalf("fastLog(%g) = %v, want %v", x, got, want)
	}
}

func BenchmarkFastLog(b *testing.B) {
	s := 0.0
	for i := range b.N {
		s += fastLog(float64(i) + 0.5)
	}
	_ = s
}

func BenchmarkMathLog(b *testing.B) {
	s := 0.0
	for i := range b.N {
		s += math.Log(float64(i) + 0.5)
	}
	_ = s
}
