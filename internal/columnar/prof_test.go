package columnar

import (
	"context"
	"os"
	"testing"

	"github.com/parquet-go/parquet-go"

	"github.com/spot-hunt/spot/internal/ioformat"
	"github.com/spot-hunt/spot/internal/lda"
	"github.com/spot-hunt/spot/internal/record"
	"github.com/spot-hunt/spot/internal/score"
)

func TestProfileFlows(t *testing.T) {
	path := os.Getenv("SPOT_PROF_FLOWS")
	if path == "" {
		t.Skip("SPOT_PROF_FLOWS not set")
	}
	f, _ := os.Open(path)
	st, _ := f.Stat()
	pf, err := parquet.OpenFile(f, st.Size())
	if err != nil {
		t.Fatal(err)
	}
	m, err := lda.ReadFile(os.Getenv("SPOT_PROF_MODEL"))
	if err != nil {
		t.Fatal(err)
	}
	s, _ := score.New(score.Model{Docs: m.Docs, Words: m.Words, DocTopic: m.DocTopic, TopicWord: m.TopicWord}, score.Spot, score.UnseenMean)
	w, err := ioformat.CreateRaw(ioformat.Dest{Path: t.TempDir() + "/out.parquet"})
	if err != nil {
		t.Fatal(err)
	}
	full := parquet.SchemaOf(new(record.ScoredFlow))
	p, ok := Flows([]*parquet.File{pf}, full)
	if !ok {
		t.Fatal("no plan")
	}
	r := &Runner{Scorer: s, Method: "spot", Workers: 1, Options: ioformat.ParquetOptions(record.ScoredFlow{}.Meta())}
	if _, err := r.Run(context.Background(), []*parquet.File{pf}, p, full, ExtraSchema(full), w); err != nil {
		t.Fatal(err)
	}
	w.Close()
}
