package columnar

import (
	"context"
	"io"
	"syscall"
	"testing"
	"time"

	"github.com/parquet-go/parquet-go"

	"github.com/spot-hunt/spot/internal/feature"
	"github.com/spot-hunt/spot/internal/ioformat"
	"github.com/spot-hunt/spot/internal/lda"
	"github.com/spot-hunt/spot/internal/record"
)

// BenchmarkScoreFlows scores 200k flows (Snappy Parquet in memory, no
// rejected rows) into io.Discard; b.N runs, events/s and CPU time per event
// reported.
func BenchmarkScoreFlows(b *testing.B) {
	flows := testFlows(200_000, 9)
	for i := range flows {
		flows[i].TrMinute, flows[i].DIP = 1, "192.168.1.1"
		if flows[i].SPort < 0 {
			flows[i].SPort = 7
		}
	}
	t := &testing.T{}
	pf := writeParquet(t, flows, ioformat.RowGroupRows, parquet.Compression(&parquet.Snappy))
	c := feature.NewCounter()
	for _, f := range flows {
		s, d := feature.FlowWords(f.SPort, f.DPort, f.Proto, f.TrHour, f.IByt, f.IPkt)
		c.Add(f.SIP, s, 1)
		c.Add(f.DIP, d, 1)
	}
	var m lda.Model
	seen := map[string]bool{}
	rows, err := c.Rows()
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range rows {
		if !seen["d"+r.Doc] {
			seen["d"+r.Doc] = true
			m.Docs = append(m.Docs, r.Doc)
			m.DocTopic = append(m.DocTopic, make([]float32, 20))
			m.DocTopic[len(m.DocTopic)-1][len(m.Docs)%20] = 1
		}
		if !seen["w"+r.Word] {
			seen["w"+r.Word] = true
			m.Words = append(m.Words, r.Word)
		}
	}
	for k := 0; k < 20; k++ {
		row := make([]float32, len(m.Words))
		for w := range row {
			row[w] = float32((w+k)%7 + 1)
		}
		m.TopicWord = append(m.TopicWord, row)
	}
	sc, err := lda.NewScorer(&m, lda.Spot, lda.UnseenMean)
	if err != nil {
		b.Fatal(err)
	}
	full := parquet.SchemaOf(new(record.ScoredFlow))
	p, ok := Flows([]*parquet.File{pf}, full)
	if !ok {
		b.Fatal("no plan")
	}
	b.ResetTimer()
	cpu0 := cpuTime()
	for i := 0; i < b.N; i++ {
		r := &Runner{Scorer: sc, Method: "spot", Options: ioformat.ParquetOptions(record.ScoredFlow{}.Meta())}
		if _, err := r.Run(context.Background(), []*parquet.File{pf}, p, full, ExtraSchema(full), io.Discard); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(len(flows)*b.N)/b.Elapsed().Seconds(), "events/s")
	b.ReportMetric(float64(cpuTime()-cpu0)/float64(len(flows)*b.N), "cpu-ns/event")
}

// cpuTime is the process's user+system CPU time: per event, it measures the
// work of every thread, less swayed by a loaded machine than wall time.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
