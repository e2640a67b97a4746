package jsonscan

import (
	"bytes"
	"path/filepath"
	"testing"

	"github.com/spot-hunt/spot/internal/testenv"
)

// BenchmarkObject walks every member of the events of Slips' EVE log, and of
// the objects they hold, as the Suricata decoder reads its flow events.
func BenchmarkObject(b *testing.B) {
	data := testenv.ReadFile(b, filepath.Join(testenv.Testdata(b, "suricata"), "slips_test6-malicious.suricata.json.gz"))
	lines := bytes.Split(bytes.TrimSpace(data), []byte("\n"))
	b.SetBytes(int64(len(data)))
	var walk func(k, v []byte) error
	walk = func(k, v []byte) error {
		if len(v) > 0 && v[0] == '{' {
			_, err := Object(v, walk)
			return err
		}
		return nil
	}
	for b.Loop() {
		for _, l := range lines {
			if _, err := Object(l, walk); err != nil {
				b.Fatal(err)
			}
		}
	}
	b.ReportMetric(float64(len(lines))*float64(b.N)/b.Elapsed().Seconds(), "events/s")
}
