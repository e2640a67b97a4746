package lda_test

import (
	"bytes"
	"cmp"
	"context"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"testing"
	"unsafe"

	"github.com/spot-hunt/spot/internal/lda"
	"github.com/spot-hunt/spot/internal/lda/ldatest"
)

type triple struct {
	doc, word string
	count     float64
}

// triples draws a small corpus with real structure: hosts of three kinds,
// each kind using its own words, and counts of all sizes.
func triples(seed uint64) []triple {
	rng := rand.New(rand.NewPCG(seed, 1))
	var ts []triple
	for h := range 60 {
		kind := h % 3
		for range 40 {
			w := fmt.Sprintf("k%d_w%02d", kind, rng.IntN(15))
			if rng.IntN(10) == 0 {
				w = fmt.Sprintf("rare_%02d", rng.IntN(30))
			}
			ts = append(ts, triple{fmt.Sprintf("10.0.%d.%d", h/10, h), w, float64(1 + rng.IntN(3)*rng.IntN(100))})
		}
	}
	return ts
}

func build(ts []triple) *lda.Corpus {
	b := lda.NewBuilder()
	for _, t := range ts {
		b.Add(t.doc, t.word, t.count)
	}
	return b.Build()
}

func encode(t *testing.T, m *lda.Model) []byte {
	t.Helper()
	var buf bytes.Buffer
	if err := m.Encode(&buf); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func train(t *testing.T, c *lda.Corpus, s lda.Settings) *lda.Model {
	t.Helper()
	m, err := lda.Train(context.Background(), c, s, nil)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func TestBuilderOrderAndShards(t *testing.T) {
	ts := triples(1)
	ts = append(ts, triple{"a", "x", 0.1}, triple{"a", "x", 0.2}, triple{"a", "x", 0.3}, triple{"a", "x", 1e16})
	want := build(ts)
	if err := want.Validate(); err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(2, 2))
	for trial := range 5 {
		shuffled := slices.Clone(ts)
		rng.Shuffle(len(shuffled), func(i, j int) { shuffled[i], shuffled[j] = shuffled[j], shuffled[i] })
		// Shards: split every count in parts, as hourly count tables would.
		var sharded []triple
		for _, x := range shuffled {
			if x.count > 1 && x.count == math.Trunc(x.count) && x.count < 1e9 && trial%2 == 1 {
				part := math.Floor(x.count / 2)
				sharded = append(sharded, triple{x.doc, x.word, part})
				x.count -= part
			}
			sharded = append(sharded, x)
		}
		got := build(sharded)
		if fmt.Sprint(got) != fmt.Sprint(want) {
			t.Fatalf("trial %d: corpus depends on insertion order or sharding", trial)
		}
	}
	b := lda.NewBuilder()
	b.Add("d", "w", 0)
	b.Add("d", "w", -1)
	b.Add("d", "w", math.NaN())
	b.Add("d", "w", math.Inf(1))
	if c := b.Build(); len(c.Docs) != 0 || b.Skipped() != 4 {
		t.Errorf("bad counts: %d docs, %d skipped; want 0, 4", len(c.Docs), b.Skipped())
	}
}

// TestSortedBuilder: triples in order make the corpus Builder makes of
// them, though their strings are overwritten after each Add (as a reader
// that lends its strings overwrites them); out of order they are refused.
func TestSortedBuilder(t *testing.T) {
	sums := map[[2]string]float64{}
	for _, x := range triples(3) {
		sums[[2]string{x.doc, x.word}] += x.count
	}
	keys := make([][2]string, 0, len(sums))
	for k := range sums {
		keys = append(keys, k)
	}
	slices.SortFunc(keys, func(a, b [2]string) int { return cmp.Or(strings.Compare(a[0], b[0]), strings.Compare(a[1], b[1])) })
	b, sb := lda.NewBuilder(), lda.NewSortedBuilder()
	for i, k := range keys {
		n := sums[k]
		if i%17 == 0 {
			n = 0 // skipped by both
		}
		b.Add(k[0], k[1], n)
		buf := []byte(k[0] + k[1])
		doc, word := unsafe.String(&buf[0], len(k[0])), unsafe.String(&buf[len(k[0])], len(k[1]))
		if err := sb.Add(doc, word, n); err != nil {
			t.Fatal(err)
		}
		for i := range buf {
			buf[i] = 0xff
		}
	}
	want, got := b.Build(), sb.Build()
	if err := got.Validate(); err != nil {
		t.Fatal(err)
	}
	if fmt.Sprint(got) != fmt.Sprint(want) || sb.Skipped() != b.Skipped() {
		t.Fatalf("SortedBuilder's corpus differs from Builder's (%d and %d entries)", got.Entries(), want.Entries())
	}
	sb = lda.NewSortedBuilder()
	for _, x := range []triple{{"b", "x", 1}, {"b", "y", 1}} {
		if err := sb.Add(x.doc, x.word, x.count); err != nil {
			t.Fatal(err)
		}
	}
	for _, x := range []triple{{"b", "y", 1}, {"b", "a", 1}, {"a", "z", 1}} {
		if err := sb.Add(x.doc, x.word, x.count); !errors.Is(err, lda.ErrUnsorted) {
			t.Errorf("Add(%v) after (b, y): %v, want ErrUnsorted", x, err)
		}
	}
	if c := sb.Build(); c.Entries() != 2 || len(c.Docs) != 1 {
		t.Errorf("refused triples were added: %d entries", c.Entries())
	}
}

// TestDeterminism: the same corpus, seed and settings give byte-identical
// model files with GOMAXPROCS 1, 2 and 3, and from shuffled and sharded
// input.
func TestDeterminism(t *testing.T) {
	ts := triples(3)
	s := lda.DefaultSettings()
	s.Topics = 5
	s.Iterations = 15
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(0))
	var files [][]byte
	for _, procs := range []int{1, 2, 3} {
		runtime.GOMAXPROCS(procs)
		shuffled := slices.Clone(ts)
		rand.New(rand.NewPCG(uint64(procs), 9)).Shuffle(len(shuffled), func(i, j int) { shuffled[i], shuffled[j] = shuffled[j], shuffled[i] })
		if procs == 3 { // and as two shards of count tables
			n := len(shuffled)
			for i := range n {
				if x := shuffled[i]; x.count >= 2 {
					shuffled[i].count = 1
					shuffled = append(shuffled, triple{x.doc, x.word, x.count - 1})
				}
			}
		}
		m := train(t, build(shuffled), s)
		path := filepath.Join(t.TempDir(), "m.spot")
		if err := m.WriteFile(path); err != nil {
			t.Fatal(err)
		}
		b, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		files = append(files, b)
	}
	for i := 1; i < len(files); i++ {
		if !bytes.Equal(files[0], files[i]) {
			t.Fatalf("model file differs between GOMAXPROCS=1 and GOMAXPROCS=%d", i+1)
		}
	}
	// A different seed gives a different model (the seed is used).
	s.Seed++
	if bytes.Equal(files[0], encode(t, train(t, build(ts), s))) {
		t.Error("the seed does not change the model")
	}
}

// TestLargerDeterminism repeats the GOMAXPROCS check on a corpus big enough
// for the workers to split it unevenly.
func TestLargerDeterminism(t *testing.T) {
	d := ldatest.Generate(ldatest.Spec{Docs: 3000, Words: 500, Topics: 10, MeanLength: 50, Alpha: 0.1, Beta: 0.05, Seed: 5})
	s := lda.DefaultSettings()
	s.Iterations = 5
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(0))
	runtime.GOMAXPROCS(1)
	a := encode(t, train(t, d.Train, s))
	runtime.GOMAXPROCS(2)
	b := encode(t, train(t, d.Train, s))
	runtime.GOMAXPROCS(7)
	c := encode(t, train(t, d.Train, s))
	if !bytes.Equal(a, b) || !bytes.Equal(a, c) {
		t.Fatal("model differs with GOMAXPROCS")
	}
}

// TestProgressDoesNotChangeTheModel: the log-likelihood is computed only
// when a progress callback asks for it; asking (every iteration, or only
// some, with snapshots) or not gives the same model file, and the last
// iteration's log-likelihood is the model's.
func TestProgressDoesNotChangeTheModel(t *testing.T) {
	d := ldatest.Generate(ldatest.Spec{Docs: 800, Words: 300, Topics: 6, MeanLength: 40, Alpha: 0.1, Beta: 0.05, Seed: 11})
	s := lda.DefaultSettings()
	s.Topics = 7 // not a multiple of 4: the sums' tails
	s.Iterations = 6
	want := encode(t, train(t, d.Train, s))
	var lls []float64
	var snap *lda.Model
	m, err := lda.Train(context.Background(), d.Train, s, func(p lda.Progress) {
		lls = append(lls, p.LogLikelihood())
		if p.Iteration == 3 {
			snap = p.Snapshot()
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(encode(t, m), want) {
		t.Fatal("reading the log-likelihood during training changed the model")
	}
	if len(lls) != s.Iterations || lls[len(lls)-1] != m.Stats.LogLikelihood {
		t.Errorf("log-likelihoods %v, the model's %v", lls, m.Stats.LogLikelihood)
	}
	if snap == nil || snap.Stats.LogLikelihood != lls[2] {
		t.Errorf("snapshot's log-likelihood is not its iteration's (%v)", lls)
	}
	// A model trained for 3 iterations is the snapshot after the third.
	s3 := s
	s3.Iterations = 3
	m3 := train(t, d.Train, s3)
	snap.Settings = s3
	if !bytes.Equal(encode(t, m3), encode(t, snap)) {
		t.Error("the snapshot after iteration 3 is not the model of 3 iterations")
	}
	half, err := lda.Train(context.Background(), d.Train, s, func(p lda.Progress) {
		if p.Iteration%2 == 0 {
			p.LogLikelihood()
		}
	})
	if err != nil || !bytes.Equal(encode(t, half), want) {
		t.Fatalf("reading some log-likelihoods changed the model (%v)", err)
	}
}

func TestModelShapeAndStructure(t *testing.T) {
	c := build(triples(4))
	s := lda.DefaultSettings()
	s.Topics = 3
	s.Iterations = 50
	var lls []float64
	m, err := lda.Train(context.Background(), c, s, func(p lda.Progress) {
		if p.Iterations != 50 || p.Iteration != len(lls)+1 {
			t.Errorf("progress %+v", p)
		}
		lls = append(lls, p.LogLikelihood())
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(lls) != 50 {
		t.Fatalf("%d progress calls, want 50", len(lls))
	}
	// EM for the MAP estimate never decreases the objective; the
	// likelihood part of it should rise overall.
	if !(lls[49] > lls[0]) || m.Stats.LogLikelihood != lls[49] {
		t.Errorf("log-likelihood did not improve: first %v last %v final %v", lls[0], lls[49], m.Stats.LogLikelihood)
	}
	if m.Stats.Documents != len(c.Docs) || m.Stats.Words != len(c.Words) || m.Stats.Entries != c.Entries() || m.Stats.Tokens != c.Tokens() {
		t.Errorf("stats %+v", m.Stats)
	}
	if want := math.Exp(-m.Stats.LogLikelihood / m.Stats.Tokens); math.Abs(m.Stats.Perplexity-want) > 1e-9*want {
		t.Errorf("perplexity %v, want %v", m.Stats.Perplexity, want)
	}
	for d, row := range m.DocTopic {
		if sum := sum32(row); math.Abs(sum-1) > 1e-5 {
			t.Fatalf("θ row %d sums to %v", d, sum)
		}
	}
	for k, row := range m.TopicWord {
		if sum := sum32(row); math.Abs(sum-1) > 1e-4 {
			t.Fatalf("φ row %d sums to %v", k, sum)
		}
	}
	// Hosts of one kind share a dominant topic; kinds differ.
	dominant := func(d int) int {
		row := m.DocTopic[d]
		return slices.Index(row, slices.Max(row))
	}
	kindTopic := map[int]int{}
	for d, name := range m.Docs {
		var h int
		fmt.Sscanf(name[strings.LastIndexByte(name, '.')+1:], "%d", &h)
		if k, ok := kindTopic[h%3]; !ok {
			kindTopic[h%3] = dominant(d)
		} else if k != dominant(d) {
			t.Errorf("host %s: dominant topic %d, its kind's %d", name, dominant(d), k)
		}
	}
	if kindTopic[0] == kindTopic[1] || kindTopic[1] == kindTopic[2] || kindTopic[0] == kindTopic[2] {
		t.Errorf("kinds share topics: %v", kindTopic)
	}
	// Lookups.
	if i, ok := m.DocIndex(m.Docs[7]); !ok || i != 7 {
		t.Errorf("DocIndex = %d, %v", i, ok)
	}
	if _, ok := m.WordIndex("no such word"); ok {
		t.Error("WordIndex found a missing word")
	}
	// Fold-in of a kind-1 host's words puts it in kind 1's topic.
	var words []int32
	var counts []float64
	for _, w := range []string{"k1_w00", "k1_w03", "k1_w07", "k1_w11"} {
		i, ok := m.WordIndex(w)
		if !ok {
			t.Fatalf("word %s missing", w)
		}
		words = append(words, int32(i))
		counts = append(counts, 5)
	}
	theta := m.Infer(words, counts, 50)
	if best := slices.Index(theta, slices.Max(theta)); best != kindTopic[1] || math.Abs(sum64(theta)-1) > 1e-9 {
		t.Errorf("Infer = %v: best %d, want kind 1's topic %d", theta, best, kindTopic[1])
	}
	uniform := m.Infer([]int32{-1, 1 << 30}, []float64{1, 1}, 10)
	if math.Abs(uniform[0]-1.0/3) > 1e-12 {
		t.Errorf("Infer with no known word = %v, want uniform", uniform)
	}
	var out bytes.Buffer
	m.Kind = "dns"
	m.Describe(&out, 3)
	for _, want := range []string{"kind:           dns\n", "topics:         3\n", "alpha:          1.02\n", "pairs:          " + fmt.Sprint(c.Entries()) + "\n", "topic 2 ("} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("Describe lacks %q:\n%s", want, out.String())
		}
	}
}

func sum32(xs []float32) float64 {
	s := 0.0
	for _, x := range xs {
		s += float64(x)
	}
	return s
}

func sum64(xs []float64) float64 {
	s := 0.0
	for _, x := range xs {
		s += x
	}
	return s
}

func TestModelFile(t *testing.T) {
	s := lda.DefaultSettings()
	s.Topics = 4
	m := train(t, build(triples(6)), s)
	m.Kind = "flow"
	m.Features = map[string]string{"top-domains": "google.com\nexample.org", "user-domain": "apache", "empty": ""}
	dir := t.TempDir()
	path := filepath.Join(dir, "flow.spot")
	if err := m.WriteFile(path); err != nil {
		t.Fatal(err)
	}
	got, err := lda.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if fmt.Sprintf("%+v", got) != fmt.Sprintf("%+v", m) {
		t.Fatalf("round trip changed the model:\n got %+v\nwant %+v", got.Stats, m.Stats)
	}
	if err := got.CheckKind("flow"); err != nil {
		t.Error(err)
	}
	if err := got.CheckKind("dns"); err == nil || !strings.Contains(err.Error(), "trained on flow events, not dns") {
		t.Errorf("CheckKind(dns) = %v", err)
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 1 {
		t.Errorf("temporary files left: %v", entries)
	}
	b, _ := os.ReadFile(path)
	bad := func(name string, data []byte, want string) {
		t.Helper()
		p := filepath.Join(dir, name)
		os.WriteFile(p, data, 0o644)
		_, err := lda.ReadFile(p)
		if err == nil || !strings.Contains(err.Error(), want) || !strings.Contains(err.Error(), p) {
			t.Errorf("%s: error %v, want one naming the file and saying %q", name, err, want)
		}
	}
	bad("text", []byte("sip,dip\n1.2.3.4,5.6.7.8\n"), "not a spot model")
	bad("empty", nil, "not a spot model")
	newer := bytes.Clone(b)
	newer[len(lda.Magic)] = 2
	bad("newer", newer, "format version 2")
	bad("truncated", b[:len(b)-100], "damaged")
	flipped := bytes.Clone(b)
	flipped[len(b)/2] ^= 1
	bad("flipped", flipped, "damaged")
	bad("header", b[:len(lda.Magic)+5], "truncated")
}

func TestTrainRefuses(t *testing.T) {
	c := build(triples(7))
	for _, s := range []lda.Settings{
		{Topics: 0, Alpha: 1.1, Beta: 1.1, Iterations: 1},
		{Topics: 2, Alpha: 1, Beta: 1.1, Iterations: 1},
		{Topics: 2, Alpha: 1.1, Beta: 0.5, Iterations: 1},
		{Topics: 2, Alpha: math.NaN(), Beta: 1.1, Iterations: 1},
		{Topics: 2, Alpha: 1.1, Beta: 1.1, Iterations: -1},
	} {
		if _, err := lda.Train(context.Background(), c, s, nil); err == nil {
			t.Errorf("Train accepted %+v", s)
		}
	}
	if _, err := lda.Train(context.Background(), lda.NewBuilder().Build(), lda.DefaultSettings(), nil); err == nil {
		t.Error("Train accepted an empty corpus")
	}
	broken := build(triples(7))
	broken.Word[3] = int32(len(broken.Words))
	if _, err := lda.Train(context.Background(), broken, lda.DefaultSettings(), nil); err == nil {
		t.Error("Train accepted a word index out of range")
	}
	ctx, cancel := context.WithCancel(context.Background())
	s := lda.DefaultSettings()
	_, err := lda.Train(ctx, c, s, func(p lda.Progress) {
		if p.Iteration == 2 {
			cancel()
		}
	})
	if !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled Train returned %v", err)
	}
}

func FuzzDecode(f *testing.F) {
	s := lda.DefaultSettings()
	s.Topics = 2
	s.Iterations = 2
	m, err := lda.Train(context.Background(), build(triples(8)[:50]), s, nil)
	if err != nil {
		f.Fatal(err)
	}
	m.Features = map[string]string{"a": "b"}
	var buf bytes.Buffer
	m.Encode(&buf)
	f.Add(buf.Bytes())
	f.Add([]byte(lda.Magic))
	f.Fuzz(func(t *testing.T, b []byte) {
		roundTrip(t, b)
		// Also past the checksum: re-sum the altered body.
		if len(b) > 8 {
			roundTrip(t, lda.Resum(b))
		}
	})
}

// roundTrip: bytes that decode to a model encode back to bytes that
// decode to the same model, which encodes to the same bytes again; and a
// decoded model's shapes agree with its settings.
func roundTrip(t *testing.T, b []byte) {
	m, err := lda.Decode(b)
	if err != nil {
		return
	}
	if len(m.DocTopic) != len(m.Docs) || len(m.TopicWord) != m.Settings.Topics {
		t.Fatalf("decoded %d doc rows for %d docs, %d topic rows for K=%d", len(m.DocTopic), len(m.Docs), len(m.TopicWord), m.Settings.Topics)
	}
	for _, row := range m.TopicWord {
		if len(row) != len(m.Words) {
			t.Fatalf("topic row of %d for %d words", len(row), len(m.Words))
		}
	}
	var enc1, enc2 bytes.Buffer
	if err := m.Encode(&enc1); err != nil {
		t.Fatalf("a decoded model does not encode: %v", err)
	}
	m2, err := lda.Decode(enc1.Bytes())
	if err != nil {
		t.Fatalf("a re-encoded model does not decode: %v", err)
	}
	if err := m2.Encode(&enc2); err != nil || !bytes.Equal(enc1.Bytes(), enc2.Bytes()) {
		t.Fatalf("encode(decode(encode(m))) differs from encode(m) (%v)", err)
	}
}

func TestZeroIterationsAndTinyCorpora(t *testing.T) {
	b := lda.NewBuilder()
	b.Add("only", "word", 3)
	c := b.Build()
	for _, s := range []lda.Settings{
		{Topics: 4, Alpha: 1.02, Beta: 1.001, Iterations: 0, Seed: 1},
		{Topics: 4, Alpha: 1.02, Beta: 1.001, Iterations: 3, Seed: 1},
		{Topics: 1, Alpha: 1.5, Beta: 1.5, Iterations: 2, Seed: 9},
	} {
		m, err := lda.Train(context.Background(), c, s, nil)
		if err != nil {
			t.Fatal(err)
		}
		if len(m.DocTopic) != 1 || len(m.TopicWord) != s.Topics || math.Abs(sum32(m.DocTopic[0])-1) > 1e-6 {
			t.Errorf("%+v: shapes %d×%d", s, len(m.DocTopic), len(m.TopicWord))
		}
		for k, row := range m.TopicWord {
			if row[0] < 0.999 {
				t.Errorf("%+v: topic %d gives the only word %v", s, k, row[0])
			}
		}
		if math.IsNaN(m.Stats.LogLikelihood) || m.Stats.Perplexity < 0.999 || m.Stats.Perplexity > 1.001 {
			t.Errorf("%+v: stats %+v", s, m.Stats)
		}
	}
}

func TestValidate(t *testing.T) {
	good := func() *lda.Corpus { return build(triples(10)) }
	for name, breakIt := range map[string]func(c *lda.Corpus){
		"docs unsorted":   func(c *lda.Corpus) { c.Docs[0], c.Docs[1] = c.Docs[1], c.Docs[0] },
		"words repeated":  func(c *lda.Corpus) { c.Words[1] = c.Words[0] },
		"short pointers":  func(c *lda.Corpus) { c.Ptr = c.Ptr[:len(c.Ptr)-1] },
		"counts missing":  func(c *lda.Corpus) { c.Count = c.Count[1:] },
		"word order":      func(c *lda.Corpus) { c.Word[0], c.Word[1] = c.Word[1], c.Word[0] },
		"negative count":  func(c *lda.Corpus) { c.Count[5] = -1 },
		"NaN count":       func(c *lda.Corpus) { c.Count[5] = math.NaN() },
		"pointers shrink": func(c *lda.Corpus) { c.Ptr[2] = c.Ptr[1] - 1 },
	} {
		c := good()
		breakIt(c)
		if err := c.Validate(); err == nil {
			t.Errorf("%s: Validate accepted it", name)
		}
	}
	if err := good().Validate(); err != nil {
		t.Error(err)
	}
}
