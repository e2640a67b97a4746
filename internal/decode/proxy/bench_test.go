package proxy

import (
	"bytes"
	"io"
	"os"
	"testing"

	"github.com/spot-hunt/spot/internal/record"
)

func benchDecode(b *testing.B, file string, repeat int) {
	raw, err := os.ReadFile(file)
	if err != nil {
		b.Fatal(err)
	}
	var head []byte
	var body []byte = raw
	if raw[0] == '#' { // keep the W3C header once
		i := bytes.Index(raw, []byte("\n2"))
		head, body = raw[:i+1], raw[i+1:]
	}
	data := append([]byte(nil), head...)
	for range repeat {
		data = append(data, body...)
	}
	lines := bytes.Count(body, []byte{'\n'}) * repeat
	buf := make([]record.Proxy, 1024)
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		d, err := NewDecoder(bytes.NewReader(data), file, Options{})
		if err != nil {
			b.Fatal(err)
		}
		n := 0
		for {
			k, err := d.Read(buf)
			n += k
			if err == io.EOF {
				break
			}
		}
		if n != lines {
			b.Fatalf("%d records, want %d", n, lines)
		}
	}
	b.ReportMetric(float64(lines)*float64(b.N)/b.Elapsed().Seconds(), "lines/s")
}

func BenchmarkSquid(b *testing.B) {
	benchDecode(b, "../../../testdata/proxy/squid-native.access.log", 200)
}
func BenchmarkCombined(b *testing.B) {
	benchDecode(b, "../../../testdata/proxy/squid-combined.access.log", 200)
}
func BenchmarkW3C(b *testing.B) { benchDecode(b, "../../../testdata/proxy/squid-elff.access.log", 200) }
func BenchmarkBlueCoat(b *testing.B) {
	benchDecode(b, "../../../testdata/proxy/bluecoat-from-squid-elff.log", 200)
}
