package lda

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
)

func testModel() *Model {
	return &Model{
		Docs:  []string{"a", "b", "c"},
		Words: []string{"x", "y", "z"},
		DocTopic: [][]float32{
			{1, 0},
			{0, 1},
			{0.5, 0.5},
		},
		TopicWord: [][]float32{
			{0.9, 0.1, 0},
			{2, 6, 2}, // not normalized: the scorer normalizes rows
		},
	}
}

func near(a, b float64) bool { return math.Abs(a-b) < 1e-6 }

func TestSpotScore(t *testing.T) {
	s, err := NewScorer(testModel(), Spot, UnseenMean)
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		doc, word string
		want      float64
		top       int32
	}{
		{"a", "x", 0.9, 0},
		{"a", "y", 0.1, 0},
		{"b", "y", 0.6, 1},
		{"c", "x", 0.5*0.9 + 0.5*0.2, 0},
		{"a", "z", 0, -1},    // topic 0 never says z
		{"a", "nope", 0, -1}, // unseen word: 0, as Spot
	}
	for _, c := range cases {
		r := s.Score(c.doc, c.word)
		if !near(r.Score, c.want) || r.TopTopic != c.top {
			t.Errorf("%s/%s: got %+v want score %v top %d", c.doc, c.word, r, c.want, c.top)
		}
	}
	// share of the top topic
	r := s.Score("c", "x")
	if !near(r.TopTopicWeight, 0.45/0.55) {
		t.Errorf("weight %v", r.TopTopicWeight)
	}
	// unseen doc: mean mixture (0.5, 0.5)
	if r := s.Score("new", "y"); !near(r.Score, 0.5*0.1+0.5*0.6) {
		t.Errorf("unseen doc mean: %v", r.Score)
	}
	z, _ := NewScorer(testModel(), Spot, UnseenZero)
	if r := z.Score("new", "y"); r.Score != 0 || r.TopTopic != -1 {
		t.Errorf("unseen doc zero: %+v", r)
	}
}

func TestFlowMin(t *testing.T) {
	s, _ := NewScorer(testModel(), Spot, UnseenMean)
	src, dst, low := s.Flow("a", "x", "b", "x")
	if !near(src.Score, 0.9) || !near(dst.Score, 0.2) || low != dst {
		t.Fatalf("src %+v dst %+v low %+v", src, dst, low)
	}
}

func TestPopulationAndHybrid(t *testing.T) {
	p, _ := NewScorer(testModel(), Population, UnseenMean)
	// mean mixture (0.5, 0.5) whatever the host
	if r := p.Score("a", "y"); !near(r.Score, 0.35) {
		t.Errorf("population: %v", r.Score)
	}
	pe, _ := NewScorer(testModel(), Peer, UnseenMean)
	// host b says y with 0.6, a typical host with 0.35: peer 0.35/0.6
	if r := pe.Score("b", "y"); !near(r.Score, 0.35/0.6) || r.TopTopic != 1 {
		t.Errorf("peer b/y: %+v", r)
	}
	if r := pe.Score("b", "nope"); r.Score != 0 || r.TopTopic != -1 {
		t.Errorf("peer unseen word: %+v", r)
	}
	h, _ := NewScorer(testModel(), Hybrid, UnseenMean)
	// host b: spot 0.6, peer 0.583: hybrid takes the peer score
	if r := h.Score("b", "y"); !near(r.Score, 0.35/0.6) {
		t.Errorf("hybrid b/y: %v", r.Score)
	}
	// host a rarely says y (spot 0.1, peer 3.5): hybrid keeps the host's 0.1
	if r := h.Score("a", "y"); !near(r.Score, 0.1) {
		t.Errorf("hybrid a/y: %v", r.Score)
	}
}

func TestBadModel(t *testing.T) {
	m := testModel()
	m.DocTopic = m.DocTopic[:2]
	if _, err := NewScorer(m, Spot, UnseenMean); err == nil {
		t.Fatal("mismatched model accepted")
	}
	if _, err := NewScorer(&Model{}, Spot, UnseenMean); err == nil {
		t.Fatal("empty model accepted")
	}
	if _, err := ParseMethod("nope"); err == nil {
		t.Fatal("bad method accepted")
	}
}

// The typical mixture is the per-topic median: a topic only one host in
// five uses has no weight in it, while the mean gives it a fifth.
func TestTypicalIsMedian(t *testing.T) {
	m := &Model{Docs: []string{"a", "b", "c", "d", "tunnel"}, Words: []string{"x", "t"},
		DocTopic:  [][]float32{{1, 0}, {1, 0}, {1, 0}, {1, 0}, {0, 1}},
		TopicWord: [][]float32{{1, 0}, {0, 1}}}
	p, _ := NewScorer(m, Population, UnseenMean)
	if r := p.Score("a", "t"); r.Score != 0 {
		t.Errorf("population score of the tunnel word: %v, want 0", r.Score)
	}
	if r := p.Score("tunnel", "x"); !near(r.Score, 1) {
		t.Errorf("population score of the common word: %v, want 1", r.Score)
	}
	pe, _ := NewScorer(m, Peer, UnseenMean)
	if r := pe.Score("tunnel", "t"); r.Score != 0 {
		t.Errorf("peer score of the tunnel host's word: %v, want 0", r.Score)
	}
	if r := pe.Score("a", "x"); !near(r.Score, 1) {
		t.Errorf("peer score of a common word: %v, want 1", r.Score)
	}
}

// TestFlowIdxBitExact scores flows of random models (K odd and even, weights
// of widely different sizes, so that any other order of additions changes
// low bits) with FlowIdx and with ScoreIdx a side at a time: the scores
// must be the same bit for bit, the explanation the lower side's.
func TestFlowIdxBitExact(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	weight := func() float32 {
		if rng.IntN(5) == 0 {
			return 0
		}
		return float32(math.Ldexp(rng.Float64(), -rng.IntN(30)))
	}
	for _, k := range []int{1, 2, 3, 7, 20, 33} {
		m := &Model{}
		for d := 0; d < 40; d++ {
			m.Docs = append(m.Docs, fmt.Sprint("d", d))
			row := make([]float32, k)
			for i := range row {
				row[i] = weight()
			}
			m.DocTopic = append(m.DocTopic, row)
		}
		for w := 0; w < 60; w++ {
			m.Words = append(m.Words, fmt.Sprint("w", w))
		}
		for i := 0; i < k; i++ {
			row := make([]float32, len(m.Words))
			for w := range row {
				row[w] = weight()
			}
			m.TopicWord = append(m.TopicWord, row)
		}
		for _, method := range Methods {
			for _, unseen := range []UnseenDoc{UnseenMean, UnseenZero} {
				s, err := NewScorer(m, method, unseen)
				if err != nil {
					t.Fatal(err)
				}
				for n := 0; n < 3000; n++ {
					sd, dd := int32(rng.IntN(42)-2), int32(rng.IntN(42)-2) // -2, -1: unseen
					sw, dw := int32(rng.IntN(62)-2), int32(rng.IntN(62)-2)
					if sd < 0 {
						sd = -1
					}
					if dd < 0 {
						dd = -1
					}
					if sw < 0 {
						sw = -1
					}
					if dw < 0 {
						dw = -1
					}
					src, dst, low := s.FlowIdx(sd, sw, dd, dw)
					a, b := s.ScoreIdx(sd, sw), s.ScoreIdx(dd, dw)
					want := a
					if b.Score < a.Score {
						want = b
					}
					if math.Float64bits(src) != math.Float64bits(a.Score) || math.Float64bits(dst) != math.Float64bits(b.Score) ||
						math.Float64bits(low.Score) != math.Float64bits(want.Score) || low.TopTopic != want.TopTopic ||
						math.Float64bits(low.TopTopicWeight) != math.Float64bits(want.TopTopicWeight) {
						t.Fatalf("K=%d %s %s FlowIdx(%d, %d, %d, %d) = %v, %v, %+v; a side at a time %v, %v, %+v",
							k, method, unseen, sd, sw, dd, dw, src, dst, low, a.Score, b.Score, want)
					}
				}
			}
		}
	}
}

// TestExplainPacked: explainPacked picks explainLoop's topic and weight,
// bit for bit, for every K it takes (1-32), with ties between topics (the
// first wins), zeros, subnormal and far apart weights; NewScorer takes it
// only for K <= 32 and weights finite and >= +0.
func TestExplainPacked(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 8))
	few := []float32{0, 0.5, 0.25, 1, 3e-39 /* subnormal */, math.MaxFloat32, math.SmallestNonzeroFloat32}
	weight := func() float32 {
		switch rng.IntN(3) {
		case 0:
			return few[rng.IntN(len(few))] // ties and edges
		case 1:
			return float32(math.Ldexp(rng.Float64(), -rng.IntN(120)))
		}
		return rng.Float32()
	}
	for k := 1; k <= 32; k++ {
		for n := 0; n < 20000; n++ {
			theta, phi := make([]float32, k), make([]float32, k)
			for i := range theta {
				theta[i], phi[i] = weight(), weight()
			}
			if n%7 == 0 { // all products 0 but one, or none
				clear(theta)
				if n%2 == 0 {
					theta[rng.IntN(k)] = weight()
				}
			}
			v := rng.Float64() + 0.5
			got, want := explainPacked(theta, phi, v), explainLoop(theta, phi, v)
			if got.TopTopic != want.TopTopic || math.Float64bits(got.TopTopicWeight) != math.Float64bits(want.TopTopicWeight) || got.Score != v {
				t.Fatalf("K=%d theta %v phi %v: packed %+v, loop %+v", k, theta, phi, got, want)
			}
		}
	}
	model := func(k int, w float32) *Model {
		m := &Model{Docs: []string{"d"}, Words: []string{"w"}, DocTopic: [][]float32{make([]float32, k)}}
		for i := 0; i < k; i++ {
			m.DocTopic[0][i] = 1 / float32(k)
			m.TopicWord = append(m.TopicWord, []float32{1})
		}
		m.DocTopic[0][0] = w
		return m
	}
	for _, c := range []struct {
		k    int
		w    float32
		want bool
	}{{20, 0.5, true}, {32, 0, true}, {33, 0.5, false}, {20, float32(math.Copysign(0, -1)), false}, {20, -0.5, false},
		{20, float32(math.Inf(1)), false}, {20, float32(math.NaN()), false}} {
		s, err := NewScorer(model(c.k, c.w), Spot, UnseenMean)
		if err != nil {
			t.Fatal(err)
		}
		if s.packed != c.want {
			t.Errorf("K=%d, a weight %v: packed %v, want %v", c.k, c.w, s.packed, c.want)
		}
	}
}
