package netflow

import (
	"io"
	"net/netip"
	"testing"

	"github.com/spot-hunt/spot/internal/decode/pcap"
	"github.com/spot-hunt/spot/internal/record"
)

// benchDecode decodes the export datagrams of a softflowd capture (real
// traffic, exported by softflowd) over and over.
func benchDecode(b *testing.B, capture string) {
	src, err := pcap.Open("../../../testdata/flow/"+capture, nil)
	if err != nil {
		b.Fatal(err)
	}
	var grams [][]byte
	for {
		p, err := src.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			b.Fatal(err)
		}
		if p.Status == pcap.OK && p.Proto == pcap.ProtoUDP {
			grams = append(grams, append([]byte(nil), p.Payload...))
		}
	}
	src.Close()
	exporter := netip.MustParseAddr("192.0.2.1")
	d := New("bench")
	out := make([]record.Flow, 0, 1024)
	records := 0
	b.ResetTimer()
	for range b.N {
		for _, g := range grams {
			out, _ = d.Decode(exporter, g, out[:0])
			records += len(out)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(records), "ns/record")
}

func BenchmarkV5(b *testing.B)    { benchDecode(b, "alexa-app.softflowd-v5.pcap") }
func BenchmarkIPFIX(b *testing.B) { benchDecode(b, "alexa-app.softflowd-v10.pcap") }
