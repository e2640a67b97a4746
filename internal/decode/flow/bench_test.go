package flow

import (
	"bytes"
	"os"
	"testing"
	"time"

	"github.com/spot-hunt/spot/internal/decode/pcap"
	"github.com/spot-hunt/spot/internal/record"
	"github.com/spot-hunt/spot/internal/testenv"
)

// gnutella is a real capture of raw traffic (3905 packets), in memory.
func gnutella(b *testing.B) []byte {
	return testenv.ReadFile(b, "../../../testdata/hunt/gnutella.pcap.gz")
}

// BenchmarkParsePackets reads a capture's frames and takes what the flow
// table needs of each.
func BenchmarkParsePackets(b *testing.B) {
	one := gnutella(b)
	data := one
	for range 19 { // its records 20 times: a run longer than the reader's buffer
		data = append(data, one[24:]...)
	}
	var n int
	var sink packet
	b.SetBytes(int64(len(data)))
	for range b.N {
		src, err := pcap.NewSource(bytes.NewReader(data), "bench")
		if err != nil {
			b.Fatal(err)
		}
		for {
			p, err := src.Next()
			if err != nil {
				break
			}
			if p.Status == pcap.OK {
				sink.set(p)
				n++
			}
		}
	}
	_ = sink
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(n), "ns/packet")
}

// BenchmarkAssembler counts a capture's packets into flows, each pass 120 s
// after the last (beyond the idle timeout: new flows), as the bench's
// repeated capture does.
func BenchmarkAssembler(b *testing.B) {
	data := gnutella(b)
	if f := os.Getenv("BENCH_CAPTURE"); f != "" {
		data, _ = os.ReadFile(f)
	}
	src, err := pcap.NewSource(bytes.NewReader(data), "bench")
	if err != nil {
		b.Fatal(err)
	}
	var pkts []packet
	for {
		p, err := src.Next()
		if err != nil {
			break
		}
		if p.Status == pcap.OK {
			pkts = append(pkts, packet{})
			pkts[len(pkts)-1].set(p)
		}
	}
	a := NewAssembler("bench", AssembleOptions{})
	out := make([]record.Flow, 0, 1024)
	var shift int64
	b.ResetTimer()
	for range b.N {
		for i := range pkts {
			q := pkts[i]
			q.ts += shift
			out = a.add(&q, out[:0])
		}
		shift += int64(120 * time.Second)
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*len(pkts)), "ns/packet")
}
