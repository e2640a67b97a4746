package feature

import (
	"math"
	"os"
	"strings"
	"testing"

	"github.com/spot-hunt/spot/internal/record"
)

// FuzzTopDomains feeds arbitrary bytes to the top-domain list reader: it
// must return an error or a sorted list of lower-case first labels, never
// panic.
func FuzzTopDomains(f *testing.F) {
	f.Add([]byte("rank,domain\n1,google.com\n2,facebook.com\n"))
	f.Add([]byte("google.com\n\"a,b\".org\n"))
	f.Add([]byte("1,\"unterminated\n"))
	if b, err := os.ReadFile("../../testdata/hunt/flows.ndjson.gz"); err == nil && len(b) > 512 {
		f.Add(b[:512])
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		got, err := ReadTopDomains(strings.NewReader(string(data)), "fuzz")
		if err != nil {
			return
		}
		for i, d := range got {
			if strings.Contains(d, ".") || d != strings.ToLower(d) || (i > 0 && got[i-1] >= d) {
				t.Fatalf("bad list %q", got)
			}
		}
	})
}

// FuzzDNSWord makes words of arbitrary names and frame times with both
// parsers: words have 8 fields, entropy is finite and within [0, log2 n].
func FuzzDNSWord(f *testing.F) {
	f.Add("abcdefg.apache.com", "May 20, 2016 11:32:00.000000000 UTC", int32(213))
	f.Add("www.google.co.uk.", "Jan  4, 2017 04:41:06.337519000 UTC", int32(100))
	f.Add("1.2.3.4.in-addr.arpa", "x y z 99:00", int32(-1))
	f.Add("..", "", int32(0))
	f.Fuzz(func(t *testing.T, name, frameTime string, frameLen int32) {
		for _, p := range []DomainParser{ParserSpot, ParserPSL} {
			fz := New(record.KindDNS, Options{Parser: p, UserDomain: "apache", TopDomains: []string{"google"}})
			r := &record.DNS{FrameTime: frameTime, FrameLen: frameLen, IPDst: "10.0.0.1", QryName: name, QryType: 1}
			if DNSReject(r) != "" {
				continue
			}
			if w := fz.DNSWord(r); len(strings.Split(w, "_")) != 8 {
				t.Fatalf("word %q", w)
			}
		}
		e := Entropy(name)
		if n := len([]rune(name)); math.IsNaN(e) || e < 0 || (n > 0 && e > math.Log2(float64(n))+1e-9) {
			t.Fatalf("entropy(%q) = %v", name, e)
		}
	})
}
