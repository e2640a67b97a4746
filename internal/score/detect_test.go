package score

import (
	"bytes"
	"context"
	"fmt"
	"path/filepath"
	"runtime"
	"testing"

	"github.com/spot-hunt/spot/internal/detect"
	"github.com/spot-hunt/spot/internal/ioformat"
	"github.com/spot-hunt/spot/internal/record"
)

// The flow detectors' pass over Parquet, whose reader lends the strings of
// batches still being observed (detect.InFlight of them), leaves the state
// its pass over the same flows in NDJSON leaves, whose strings are given:
// over many batches and pages of strings, every one of a pair of its own.
// In one file on one CPU, where the parts run only when the reader waits
// for them, so that as many batches are in flight as may be (lending
// through fewer reads fails it); and in many small files, whose readers'
// Close takes back what they lent (closing before the parts are done
// fails it).
func TestDetectLentStrings(t *testing.T) {
	var fs []record.Flow
	t0 := int64(1_700_000_000)
	for i := range 100 * ioformat.BatchSize {
		fs = append(fs, record.Flow{UnixTstamp: t0 + int64(i)/50, TStartNs: (t0 + int64(i)/50) * 1e9,
			SIP: fmt.Sprintf("10.%d.%d.%d", i>>16&255, i>>8&255, i&255), DIP: fmt.Sprintf("198.51.%d.%d", i>>8&255, i&255),
			SPort: 40000, DPort: int32(i % 1000), Proto: [...]string{"TCP", "UDP", "ICMP"}[i%3], IPkt: 1, IByt: 60})
	}
	for _, c := range []struct {
		name  string
		files int
		cpus  int
	}{{"one file, one CPU", 1, 1}, {"30 files", 30, runtime.GOMAXPROCS(0)}} {
		t.Run(c.name, func(t *testing.T) {
			defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(c.cpus))
			dir := t.TempDir()
			state := func(ext string) []byte {
				var ins []*ioformat.Input
				for i := range c.files {
					path := filepath.Join(dir, fmt.Sprintf("flows-%d.%s", i, ext))
					writeFlows(t, path, fs[i*len(fs)/c.files:(i+1)*len(fs)/c.files])
					ins = append(ins, openFile(t, path))
				}
				s, err := Detect(context.Background(), ins, record.KindFlow, detect.Limits{}, nil)
				if err != nil {
					t.Fatal(err)
				}
				var b bytes.Buffer
				if err := s.WriteState(&b); err != nil {
					t.Fatal(err)
				}
				return b.Bytes()
			}
			lent, given := state("parquet"), state("ndjson")
			if !bytes.Equal(lent, given) {
				t.Errorf("the state read from Parquet (%d bytes) differs from the state read from NDJSON (%d bytes)", len(lent), len(given))
			}
		})
	}
}
