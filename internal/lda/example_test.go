package lda_test

import (
	"context"
	"fmt"
	"os"

	"github.com/spot-hunt/spot/internal/lda"
)

// Count tables from any number of shards go through a Builder; the model
// is written atomically and read back.
func Example() {
	b := lda.NewBuilder()
	for _, host := range []string{"10.0.0.1", "10.0.0.2", "10.0.0.3"} {
		b.Add(host, "53_UDP_12_8_2", 120)
		b.Add(host, "-1_53_UDP_12_8_2", 118)
	}
	b.Add("10.0.0.9", "443_TCP_3_14_5", 40)
	b.Add("10.0.0.9", "-1_443_TCP_3_14_5", 40)
	corpus := b.Build()

	s := lda.DefaultSettings()
	s.Topics = 2
	m, err := lda.Train(context.Background(), corpus, s, nil)
	if err != nil {
		panic(err)
	}
	m.Kind = "flow"
	path := os.TempDir() + "/example.model"
	if err := m.WriteFile(path); err != nil {
		panic(err)
	}
	defer os.Remove(path)
	back, err := lda.ReadFile(path)
	if err != nil {
		panic(err)
	}
	d, _ := back.DocIndex("10.0.0.9")
	w, _ := back.WordIndex("53_UDP_12_8_2")
	// Spot's score: Σ_k θ_dk φ_kw.
	score := 0.0
	for k := range back.TopicWord {
		score += float64(back.DocTopic[d][k]) * float64(back.TopicWord[k][w])
	}
	fmt.Printf("%d documents, %d words, rare event score %.3f\n", back.Stats.Documents, back.Stats.Words, score)
	// Output: 4 documents, 4 words, rare event score 0.000
}
