package score

import (
	"context"
	"io"
	"syscall"
	"testing"
	"time"

	"github.com/spot-hunt/spot/internal/detect"
	"github.com/spot-hunt/spot/internal/ioformat"
	"github.com/spot-hunt/spot/internal/lda"
)

// BenchmarkRun scores 100k flows from a Parquet file into io.Discard: by
// the streaming path (NDJSON out), Apache Spot's method and the fused one
// (the detectors' pass, then scoring), and by the columnar path (Parquet
// out); events/s reported, and the CPU time per event of every thread
// (less swayed by a loaded machine than wall time).
func BenchmarkRun(b *testing.B) {
	const n = 100_000
	path, model := flowsAndModel(b, n)
	parquetPath := toParquet(b, path, n)
	for _, bc := range []struct {
		name    string
		method  Method
		format  ioformat.Format
		lookups bool // fused with lookups (none found): the columnar path reads the flows' times too
	}{
		{"stream/spot", Method(lda.Spot), ioformat.NDJSON, false},
		{"stream/fused", Fused, ioformat.NDJSON, false},
		{"columnar/spot", Method(lda.Spot), ioformat.Parquet, false},
		{"columnar/fused", Fused, ioformat.Parquet, false},
		{"columnar/fused+lookups", Fused, ioformat.Parquet, true},
	} {
		b.Run(bc.name, func(b *testing.B) {
			cpu0 := cpuTime()
			for i := 0; i < b.N; i++ {
				in, err := ioformat.Open(parquetPath, nil)
				if err != nil {
					b.Fatal(err)
				}
				d := ioformat.Dest{Path: "-", Stdout: io.Discard, Format: bc.format, Force: true}
				o := Options{Model: model, Method: bc.method}
				if bc.lookups {
					o.Lookups = func(map[string]bool) (*detect.Lookups, error) { return detect.NewLookups(0), nil }
				}
				if _, err := Run(context.Background(), []*ioformat.Input{in}, in.Meta, d, o); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(n*b.N)/b.Elapsed().Seconds(), "events/s")
			b.ReportMetric(float64(cpuTime()-cpu0)/float64(n*b.N), "cpu-ns/event")
		})
	}
}

// cpuTime is the process's user+system CPU time.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
