// Package ldatest builds synthetic corpora from LDA's generative process
// and judges topic models, trained by spot or by a peer, with one held-out
// evaluator: the tests of package lda and the benchmarks use it.
package ldatest

import (
	"bufio"
	"encoding/binary"
	"fmt"
	"maps"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"github.com/spot-hunt/spot/internal/lda"
)

// Spec describes a synthetic corpus.
type Spec struct {
	Docs, Words, Topics int     // training documents, vocabulary, true topics
	TestDocs            int     // held-out documents
	MeanLength          float64 // mean tokens per document
	Alpha, Beta         float64 // generating Dirichlet parameters
	Seed                uint64
}

// Doc is a sparse document: word indexes (into the training corpus's
// vocabulary) and counts.
type Doc struct {
	Words  []int32
	Counts []float64
}

// HeldOut is a held-out document split for "document completion": the
// model infers θ from Observed and is judged on Held.
type HeldOut struct {
	Observed, Held Doc
}

// Data is a training corpus and its held-out documents.
type Data struct {
	Train *lda.Corpus
	Test  []HeldOut
}

// Generate draws a corpus from LDA's generative process.
func Generate(s Spec) *Data {
	rng := rand.New(rand.NewPCG(s.Seed, 0x5eed))
	phi := make([][]float64, s.Topics) // cumulative distributions
	for k := range phi {
		phi[k] = cumulative(dirichlet(rng, s.Words, s.Beta))
	}
	name := func(w int) string { return fmt.Sprintf("w%06d", w) }
	doc := func() []int {
		theta := cumulative(dirichlet(rng, s.Topics, s.Alpha))
		n := max(2, int(poisson(rng, s.MeanLength)))
		toks := make([]int, n)
		for i := range toks {
			toks[i] = draw(rng, phi[draw(rng, theta)])
		}
		return toks
	}
	b := lda.NewBuilder()
	for d := range s.Docs {
		for _, w := range doc() {
			b.Add(fmt.Sprintf("d%06d", d), name(w), 1)
		}
	}
	c := b.Build()
	data := &Data{Train: c}
	for range s.TestDocs {
		obs, held := map[int32]float64{}, map[int32]float64{}
		for i, w := range doc() {
			wi, ok := indexOf(c.Words, name(w))
			if !ok {
				continue // a word the training corpus never saw: no model knows it
			}
			if i%2 == 0 {
				obs[int32(wi)]++
			} else {
				held[int32(wi)]++
			}
		}
		data.Test = append(data.Test, HeldOut{sparse(obs), sparse(held)})
	}
	return data
}

func indexOf(words []string, w string) (int, bool) {
	lo, hi := 0, len(words)
	for lo < hi {
		m := (lo + hi) / 2
		if words[m] < w {
			lo = m + 1
		} else {
			hi = m
		}
	}
	return lo, lo < len(words) && words[lo] == w
}

func sparse(m map[int32]float64) Doc {
	var d Doc
	for _, w := range slices.Sorted(maps.Keys(m)) {
		d.Words = append(d.Words, w)
		d.Counts = append(d.Counts, m[w])
	}
	return d
}

func dirichlet(rng *rand.Rand, n int, a float64) []float64 {
	x := make([]float64, n)
	s := 0.0
	for i := range x {
		x[i] = gamma(rng, a)
		s += x[i]
	}
	for i := range x {
		x[i] /= s
	}
	return x
}

// gamma draws Gamma(a, 1) (Marsaglia and Tsang; boosted for a < 1).
func gamma(rng *rand.Rand, a float64) float64 {
	if a < 1 {
		return gamma(rng, a+1) * math.Pow(rng.Float64(), 1/a)
	}
	d := a - 1.0/3
	c := 1 / math.Sqrt(9*d)
	for {
		x := rng.NormFloat64()
		v := 1 + c*x
		if v <= 0 {
			continue
		}
		v = v * v * v
		u := rng.Float64()
		if math.Log(u) < 0.5*x*x+d-d*v+d*math.Log(v) {
			return d * v
		}
	}
}

func poisson(rng *rand.Rand, mean float64) float64 {
	if mean > 30 {
		return math.Max(0, math.Round(mean+math.Sqrt(mean)*rng.NormFloat64()))
	}
	l, k, p := math.Exp(-mean), 0.0, 1.0
	for {
		p *= rng.Float64()
		if p <= l {
			return k
		}
		k++
	}
}

func cumulative(p []float64) []float64 {
	c := make([]float64, len(p))
	s := 0.0
	for i, x := range p {
		s += x
		c[i] = s
	}
	return c
}

func draw(rng *rand.Rand, cum []float64) int {
	u := rng.Float64() * cum[len(cum)-1]
	lo, hi := 0, len(cum)-1
	for lo < hi {
		m := (lo + hi) / 2
		if cum[m] < u {
			lo = m + 1
		} else {
			hi = m
		}
	}
	return lo
}

// FoldInIterations and FoldInPseudoCount fix the evaluator's fold-in: EM
// with the topic-word matrix held fixed and pseudo-count 0.1 on θ, the
// same for every model judged.
const (
	FoldInIterations  = 50
	FoldInPseudoCount = 0.1
)

// Perplexity is the held-out perplexity of the topic-word matrix phi
// (K × V, rows sum to 1) by document completion: θ is folded in from each
// document's observed half and the held half is scored,
// exp(−Σ c·log Σ_k θ_k φ_kw / Σ c).
func Perplexity(phi [][]float32, test []HeldOut) float64 {
	ll, n := 0.0, 0.0
	for _, t := range test {
		theta := lda.FoldIn(phi, t.Observed.Words, t.Observed.Counts, FoldInPseudoCount, FoldInIterations)
		for j, w := range t.Held.Words {
			p := 0.0
			for k, row := range phi {
				p += theta[k] * float64(row[w])
			}
			c := t.Held.Counts[j]
			ll += c * math.Log(max(p, 1e-300))
			n += c
		}
	}
	return math.Exp(-ll / n)
}

// Save writes the data into dir: train.txt ("doc word count" lines of
// indexes, the first line "docs words entries"), test.txt ("o|h doc word
// count" lines).
func (d *Data) Save(dir string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	f, err := os.Create(filepath.Join(dir, "train.txt"))
	if err != nil {
		return err
	}
	w := bufio.NewWriter(f)
	c := d.Train
	fmt.Fprintf(w, "%d %d %d\n", len(c.Docs), len(c.Words), len(c.Word))
	for doc := range c.Docs {
		for j := c.Ptr[doc]; j < c.Ptr[doc+1]; j++ {
			fmt.Fprintf(w, "%d %d %g\n", doc, c.Word[j], c.Count[j])
		}
	}
	if err := w.Flush(); err != nil {
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	f, err = os.Create(filepath.Join(dir, "test.txt"))
	if err != nil {
		return err
	}
	w = bufio.NewWriter(f)
	for i, t := range d.Test {
		for j, x := range t.Observed.Words {
			fmt.Fprintf(w, "o %d %d %g\n", i, x, t.Observed.Counts[j])
		}
		for j, x := range t.Held.Words {
			fmt.Fprintf(w, "h %d %d %g\n", i, x, t.Held.Counts[j])
		}
	}
	if err := w.Flush(); err != nil {
		return err
	}
	return f.Close()
}

// Load reads what Save wrote. Document and word names are their indexes.
func Load(dir string) (*Data, error) {
	f, err := os.Open(filepath.Join(dir, "train.txt"))
	if err != nil {
		return nil, err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<16), 1<<20)
	if !sc.Scan() {
		return nil, fmt.Errorf("%s: empty train.txt", dir)
	}
	var nd, nw, ne int
	if _, err := fmt.Sscan(sc.Text(), &nd, &nw, &ne); err != nil {
		return nil, err
	}
	c := &lda.Corpus{Docs: make([]string, nd), Words: make([]string, nw), Ptr: make([]int, nd+1)}
	for i := range c.Docs {
		c.Docs[i] = fmt.Sprintf("d%09d", i)
	}
	for i := range c.Words {
		c.Words[i] = fmt.Sprintf("w%09d", i)
	}
	c.Word = make([]int32, 0, ne)
	c.Count = make([]float64, 0, ne)
	for sc.Scan() {
		fs := strings.Fields(sc.Text())
		if len(fs) != 3 {
			return nil, fmt.Errorf("train.txt: bad line %q", sc.Text())
		}
		doc, _ := strconv.Atoi(fs[0])
		word, _ := strconv.Atoi(fs[1])
		cnt, _ := strconv.ParseFloat(fs[2], 64)
		c.Ptr[doc+1]++
		c.Word = append(c.Word, int32(word))
		c.Count = append(c.Count, cnt)
	}
	for i := range nd {
		c.Ptr[i+1] += c.Ptr[i]
	}
	if err := c.Validate(); err != nil {
		return nil, err
	}
	data := &Data{Train: c}
	g, err := os.Open(filepath.Join(dir, "test.txt"))
	if err != nil {
		return nil, err
	}
	defer g.Close()
	sc = bufio.NewScanner(g)
	for sc.Scan() {
		fs := strings.Fields(sc.Text())
		if len(fs) != 4 {
			return nil, fmt.Errorf("test.txt: bad line %q", sc.Text())
		}
		i, _ := strconv.Atoi(fs[1])
		word, _ := strconv.Atoi(fs[2])
		cnt, _ := strconv.ParseFloat(fs[3], 64)
		for len(data.Test) <= i {
			data.Test = append(data.Test, HeldOut{})
		}
		d := &data.Test[i].Observed
		if fs[0] == "h" {
			d = &data.Test[i].Held
		}
		d.Words = append(d.Words, int32(word))
		d.Counts = append(d.Counts, cnt)
	}
	return data, sc.Err()
}

// WritePhi writes a K × V matrix as little-endian float32, row by row.
func WritePhi(path string, phi [][]float32) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	w := bufio.NewWriter(f)
	for _, row := range phi {
		if err := binary.Write(w, binary.LittleEndian, row); err != nil {
			return err
		}
	}
	if err := w.Flush(); err != nil {
		return err
	}
	return f.Close()
}

// ReadPhi reads a K × V little-endian float32 matrix (as written by
// WritePhi or numpy's tofile) and normalises its rows to sum to 1.
func ReadPhi(path string, k, v int) ([][]float32, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	if len(b) != 4*k*v {
		return nil, fmt.Errorf("%s: %d bytes, want %d×%d float32", path, len(b), k, v)
	}
	phi := make([][]float32, k)
	for i := range phi {
		row := make([]float32, v)
		s := 0.0
		for j := range row {
			row[j] = math.Float32frombits(binary.LittleEndian.Uint32(b[4*(i*v+j):]))
			s += float64(row[j])
		}
		for j := range row {
			row[j] = float32(float64(row[j]) / s)
		}
		phi[i] = row
	}
	return phi, nil
}

// Unigram is the one-topic model of the corpus's word frequencies, the
// baseline a topic model must beat.
func Unigram(c *lda.Corpus) [][]float32 {
	row := make([]float32, len(c.Words))
	n := c.Tokens()
	for j, w := range c.Word {
		row[w] += float32(c.Count[j] / n)
	}
	return [][]float32{row}
}
