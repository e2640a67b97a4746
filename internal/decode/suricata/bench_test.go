package suricata

import (
	"bytes"
	"io"
	"path/filepath"
	"testing"

	"github.com/spot-hunt/spot/internal/testenv"
)

// BenchmarkReadFlows reads Slips' EVE log (flow, dns, alert, http, ...
// events), repeated 20 times, into flows, as decode flow does.
func BenchmarkReadFlows(b *testing.B) {
	benchRead(b, (*Reader).ReadFlows)
}

// BenchmarkReadDNS reads the same log into DNS records, as decode dns does.
func BenchmarkReadDNS(b *testing.B) {
	benchRead(b, (*Reader).ReadDNS)
}

func benchRead[T any](b *testing.B, read func(*Reader, []T, int) ([]T, error)) {
	one := testenv.ReadFile(b, filepath.Join(testenv.Testdata(b, "suricata"), "slips_test6-malicious.suricata.json.gz"))
	in := bytes.Repeat(one, 20)
	b.SetBytes(int64(len(in)))
	dst := make([]T, 0, 1024)
	var events int64
	var err error
	for b.Loop() {
		z := NewReader(bytes.NewReader(in), "eve.json")
		for {
			dst, err = read(z, dst[:0], 1024)
			if err == io.EOF {
				break
			}
			if err != nil {
				b.Fatal(err)
			}
		}
		if s := z.Stats(); s.Skipped != 0 || s.Records == 0 {
			b.Fatalf("%+v", s)
		}
		events += z.Stats().Events
	}
	b.ReportMetric(float64(events)/b.Elapsed().Seconds(), "events/s")
}
