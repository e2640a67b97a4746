package suricata

import (
	"bytes"
	"io"
	"path/filepath"
	"testing"

	"github.com/spot-hunt/spot/internal/record"
	"github.com/spot-hunt/spot/internal/testenv"
)

// BenchmarkReadFlows reads Slips' EVE log (flow, dns, alert, http, ...
// events), repeated 20 times, into flows, as decode flow does.
func BenchmarkReadFlows(b *testing.B) {
	one := testenv.ReadFile(b, filepath.Join(testenv.Testdata(b, "suricata"), "slips_test6-malicious.suricata.json.gz"))
	in := bytes.Repeat(one, 20)
	b.SetBytes(int64(len(in)))
	dst := make([]record.Flow, 0, 1024)
	var events int64
	var err error
	for b.Loop() {
		z := NewReader(bytes.NewReader(in), "eve.json")
		for {
			dst, err = z.ReadFlows(dst[:0], 1024)
			if err == io.EOF {
				break
			}
			if err != nil {
				b.Fatal(err)
			}
		}
		if s := z.Stats(); s.Skipped != 0 {
			b.Fatalf("%+v", s)
		}
		events += z.Stats().Events
	}
	b.ReportMetric(float64(events)/b.Elapsed().Seconds(), "events/s")
}
