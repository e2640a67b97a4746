package sflow_test

import (
	"net/netip"
	"path/filepath"
	"testing"

	"github.com/spot-hunt/spot/internal/decode/sflow"
	"github.com/spot-hunt/spot/internal/record"
	"github.com/spot-hunt/spot/internal/testenv"
)

func seeds(t testing.TB) [][]byte {
	files, _ := filepath.Glob(filepath.Join(testenv.Testdata(t, "flow/sflow"), "*.pcap"))
	var out [][]byte
	for _, f := range files {
		for _, g := range datagrams(t, f) {
			out = append(out, g.data)
		}
	}
	if len(out) == 0 {
		t.Fatal("no sFlow datagrams in testdata/flow/sflow")
	}
	return out
}

// TestIsLen: every real datagram is recognised and its length found; no
// prefix of one is.
func TestIsLen(t *testing.T) {
	for i, g := range seeds(t) {
		if !sflow.Is(g) {
			t.Fatalf("datagram %d not recognised", i)
		}
		if n, err := sflow.Len(append(g, 0, 0, 0, 5)); n != len(g) || err != nil {
			t.Fatalf("datagram %d: length %d, %v; want %d", i, n, err, len(g))
		}
		if n, err := sflow.Len(g[:len(g)-1]); err == nil {
			t.Fatalf("datagram %d cut short: length %d", i, n)
		}
	}
	for _, b := range [][]byte{nil, {0, 5, 0, 1}, make([]byte, 64)} {
		if sflow.Is(b) {
			t.Errorf("%x taken for sFlow", b)
		}
	}
}

// FuzzDecode decodes arbitrary bytes as a datagram: never a panic, and a
// record per flow sample that described a packet.
func FuzzDecode(f *testing.F) {
	for _, g := range seeds(f) {
		f.Add(g)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		d := sflow.New("fuzz")
		out, err := d.Decode(netip.MustParseAddr("192.0.2.1"), 1e18, b, nil)
		if err != nil {
			if len(out) != 0 {
				t.Fatal("records from a datagram that failed")
			}
			return
		}
		if int64(len(out)) != d.Stats.FlowSamples-d.Stats.NoPacket {
			t.Fatalf("%d records of %d samples", len(out), d.Stats.FlowSamples)
		}
		for _, r := range out {
			if r.Sampling < 1 || r.Source != "sflow" || r.SIP == "" {
				t.Fatalf("record %+v", r)
			}
			var _ record.Flow = r
		}
	})
}
