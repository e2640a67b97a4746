package lda

import (
	"context"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"runtime"
	"sync"
	"time"
)

// Settings are the LDA hyperparameters of one training run.
type Settings struct {
	Topics     int     // K
	Alpha      float64 // document-topic Dirichlet concentration, > 1 (EM/MAP convention)
	Beta       float64 // topic-word Dirichlet concentration, > 1 (EM/MAP convention)
	Iterations int     // EM iterations
	Seed       uint64  // seed of the random initialisation
}

// DefaultSettings are Apache Spot's: 20 topics, α = 1.02, β = 1.001 (Spark
// MLlib's EM optimizer), 20 iterations.
func DefaultSettings() Settings {
	return Settings{Topics: 20, Alpha: 1.02, Beta: 1.001, Iterations: 20, Seed: 1}
}

// Validate reports settings training cannot use.
func (s Settings) Validate() error {
	switch {
	case s.Topics < 1 || s.Topics > 1<<16:
		return fmt.Errorf("lda: topics must be between 1 and 65536, not %d", s.Topics)
	case !(s.Alpha > 1) || math.IsInf(s.Alpha, 0):
		return fmt.Errorf("lda: alpha must be a finite number > 1 (Dirichlet concentration in Spark's EM convention; Spot used 1.02), not %v", s.Alpha)
	case !(s.Beta > 1) || math.IsInf(s.Beta, 0):
		return fmt.Errorf("lda: beta must be a finite number > 1 (Dirichlet concentration in Spark's EM convention; Spot used 1.001), not %v", s.Beta)
	case s.Iterations < 0:
		return fmt.Errorf("lda: iterations must be >= 0, not %d", s.Iterations)
	}
	return nil
}

// Progress reports one finished training iteration.
type Progress struct {
	Iteration, Iterations int
	LogLikelihood         float64 // of the training corpus under the model the iteration started from
	Elapsed               time.Duration
	// Snapshot builds the model as it stands after this iteration (its
	// Stats carry LogLikelihood). It costs a copy of θ and φ; valid only
	// during the callback.
	Snapshot func() *Model
}

// fixScale is the fixed-point scale of the word-topic accumulators: 2^24
// units per token. int64 holds 2^39 tokens of one word in one topic.
const fixScale = 1 << 24

var innerIters = 0
var initMix = 0.5

// trainer holds the state of one run.
type trainer struct {
	c       *Corpus
	k, v, d int
	a, b    float64   // pseudo-counts α−1, β−1
	nd      []float32 // D×K document-topic counts
	phi     []float64 // V×K (word-major): (n_wk+b)/(n_k+V·b)
	nk      []float64 // K topic totals
	parts   []int     // document boundaries of the workers
	acc     [][]int64 // per worker V×K fixed-point word-topic counts
	docLL   []float64 // per document log-likelihood of the last pass
	inner   int
}

// Train fits an LDA model to c. progress, if not nil, is called after every
// iteration. Train returns ctx.Err() if ctx is cancelled.
func Train(ctx context.Context, c *Corpus, s Settings, progress func(Progress)) (*Model, error) {
	if err := s.Validate(); err != nil {
		return nil, err
	}
	if err := c.Validate(); err != nil {
		return nil, err
	}
	if len(c.Docs) == 0 || len(c.Word) == 0 {
		return nil, errors.New("lda: the corpus is empty")
	}
	start := time.Now()
	t := newTrainer(c, s)
	t.init(s.Seed)
	t.inner = innerIters
	for it := 1; it <= s.Iterations; it++ {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		ll := t.pass(true)
		if progress != nil {
			progress(Progress{Iteration: it, Iterations: s.Iterations, LogLikelihood: ll, Elapsed: time.Since(start),
				Snapshot: func() *Model { return t.model(s, ll) }})
		}
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	ll := t.pass(false)
	return t.model(s, ll), nil
}

func newTrainer(c *Corpus, s Settings) *trainer {
	t := &trainer{
		c: c, k: s.Topics, v: len(c.Words), d: len(c.Docs),
		a: s.Alpha - 1, b: s.Beta - 1,
	}
	t.nd = make([]float32, t.d*t.k)
	t.phi = make([]float64, t.v*t.k)
	t.nk = make([]float64, t.k)
	t.docLL = make([]float64, t.d)
	workers := max(1, min(runtime.GOMAXPROCS(0), t.d))
	// Balance the workers by entries (plus a little per document).
	total := len(c.Word) + t.d
	t.parts = []int{0}
	for w := 1; w < workers; w++ {
		target := total * w / workers
		d := t.parts[len(t.parts)-1]
		for d < t.d && c.Ptr[d]+d < target {
			d++
		}
		t.parts = append(t.parts, d)
	}
	t.parts = append(t.parts, t.d)
	t.acc = make([][]int64, workers)
	for i := range t.acc {
		t.acc[i] = make([]int64, t.v*t.k)
	}
	return t
}

// parallel runs f(worker, firstDoc, endDoc) on every worker and waits.
func (t *trainer) parallel(f func(w, lo, hi int)) {
	var wg sync.WaitGroup
	for w := 0; w+1 < len(t.parts); w++ {
		wg.Go(func() { f(w, t.parts[w], t.parts[w+1]) })
	}
	wg.Wait()
}

// docSeed derives the random stream of one document from the seed, so the
// initialisation does not depend on the split across workers.
func docSeed(seed uint64, d int) (uint64, uint64) {
	return seed, uint64(d)*0x9e3779b97f4a7c15 + 0x632be59bd9b4e019
}

// init starts the topics from random documents: topic k's word
// distribution is a mix of one randomly chosen document's words and the
// corpus's word frequencies; every document starts with a uniform mixture.
// (Starting from random per-pair responsibilities instead leaves all topics
// near the corpus mean, and EM then needs tens of iterations to break the
// symmetry.)
func (t *trainer) init(seed uint64) {
	k := t.k
	freq := make([]float64, t.v)
	total := 0.0
	for j, w := range t.c.Word {
		freq[w] += t.c.Count[j]
		total += t.c.Count[j]
	}
	rng := rand.New(rand.NewPCG(seed, 0x1da5eed))
	perm := rng.Perm(t.d)
	lam := initMix
	for i := 0; i < k; i++ {
		d := perm[i%t.d]
		n := 0.0
		for j := t.c.Ptr[d]; j < t.c.Ptr[d+1]; j++ {
			n += t.c.Count[j]
		}
		for w := range t.v {
			t.phi[w*k+i] = lam * freq[w] / total
		}
		for j := t.c.Ptr[d]; j < t.c.Ptr[d+1]; j++ {
			t.phi[int(t.c.Word[j])*k+i] += (1 - lam) * t.c.Count[j] / n
		}
	}
	for d := range t.d {
		n := 0.0
		for j := t.c.Ptr[d]; j < t.c.Ptr[d+1]; j++ {
			n += t.c.Count[j]
		}
		for i := range k {
			t.nd[d*k+i] = float32(n / float64(k))
		}
	}
}

// reduce sums the workers' word-topic counts into phi and clears them.
func (t *trainer) reduce() {
	k := t.k
	clear(t.nk)
	for w := 0; w < t.v; w++ {
		row := t.phi[w*k : w*k+k]
		for i := range row {
			var s int64
			for _, acc := range t.acc {
				s += acc[w*k+i]
				acc[w*k+i] = 0
			}
			row[i] = float64(s) / fixScale
			t.nk[i] += row[i]
		}
	}
	inv := make([]float64, k)
	for i := range inv {
		inv[i] = 1 / (t.nk[i] + float64(t.v)*t.b)
	}
	for w := 0; w < t.v; w++ {
		row := t.phi[w*k : w*k+k]
		for i := range row {
			row[i] = (row[i] + t.b) * inv[i]
		}
	}
}

// pass runs one E-step over every entry with the current counts and
// returns the log-likelihood of the corpus under them. With update, it
// replaces the counts by the expected counts (the M-step).
func (t *trainer) pass(update bool) float64 {
	k := t.k
	a := t.a
	ka := float64(k) * a
	t.parallel(func(wk, lo, hi int) {
		acc := t.acc[wk]
		theta := make([]float64, k)
		row := make([]float64, k)
		g := make([]float64, k)
		for d := lo; d < hi; d++ {
			nd := t.nd[d*k : d*k+k]
			n := 0.0
			for i := range theta {
				theta[i] = float64(nd[i]) + a
				n += float64(nd[i])
			}
			ws := t.c.Word[t.c.Ptr[d]:t.c.Ptr[d+1]]
			cs := t.c.Count[t.c.Ptr[d]:t.c.Ptr[d+1]]
			if update {
				for range t.inner {
					clear(row)
					for j, w := range ws {
						off := int(w) * k
						p := t.phi[off : off+k]
						p = p[:len(g)]
						th := theta[:len(g)]
						s := 0.0
						for i := range g {
							x := th[i] * p[i]
							g[i] = x
							s += x
						}
						f := cs[j] / s
						r := row[:len(g)]
						for i, x := range g {
							r[i] += x * f
						}
					}
					for i := range theta {
						theta[i] = row[i] + a
					}
				}
			}
			clear(row)
			// ll = Σ c·log s: the pairs of count 1 multiply into prod,
			// renormalised by its binary exponent, to save their logs.
			ll, prod, exp := 0.0, 1.0, 0
			tokens := 0.0
			for j, w := range ws {
				c := cs[j]
				off := int(w) * k
				s := responsibilities(g, theta, t.phi[off:off+k])
				if c == 1 {
					prod *= s
					if prod < 0x1p-500 || prod > 0x1p500 {
						var e int
						prod, e = math.Frexp(prod)
						exp += e
					}
				} else {
					ll += c * fastLog(s)
				}
				tokens += c
				if update {
					accumulate(row, acc[off:off+k], g, c/s)
				}
			}
			ll += fastLog(prod) + float64(exp)*math.Ln2
			t.docLL[d] = ll - tokens*math.Log(n+ka)
			if update {
				for i := range row {
					nd[i] = float32(row[i])
				}
			}
		}
	})
	if update {
		t.reduce()
	}
	ll := 0.0
	for _, x := range t.docLL {
		ll += x
	}
	return ll
}

// responsibilities sets g[i] = theta[i]·phi[i] and returns their sum
// (in four interleaved partial sums, a fixed order).
func responsibilities(g, theta, phi []float64) float64 {
	n := len(g)
	theta, phi = theta[:n], phi[:n]
	var s0, s1, s2, s3 float64
	i := 0
	for ; i+4 <= n; i += 4 {
		t4, p4, g4 := theta[i:i+4:i+4], phi[i:i+4:i+4], g[i:i+4:i+4]
		x0 := t4[0] * p4[0]
		x1 := t4[1] * p4[1]
		x2 := t4[2] * p4[2]
		x3 := t4[3] * p4[3]
		g4[0], g4[1], g4[2], g4[3] = x0, x1, x2, x3
		s0 += x0
		s1 += x1
		s2 += x2
		s3 += x3
	}
	for ; i < n; i++ {
		x := theta[i] * phi[i]
		g[i] = x
		s0 += x
	}
	return (s0 + s1) + (s2 + s3)
}

// accumulate adds g·f to the document's row and, in fixed point, to the
// word's accumulator.
func accumulate(row []float64, acc []int64, g []float64, f float64) {
	n := len(g)
	row, acc = row[:n], acc[:n]
	for i, x := range g {
		x *= f
		row[i] += x
		acc[i] += int64(x * fixScale)
	}
}
