package pcap

import (
	"bytes"
	"io"
	"math/rand"
	"os"
	"path/filepath"
	"testing"

	"github.com/spot-hunt/spot/internal/testenv"
)

// FuzzSource reads arbitrary bytes as a capture: never a panic, frame
// numbers increase by one, the frames are the same read from small blocks,
// and a pcapng reads as gopacket's NgReader reads it.
func FuzzSource(f *testing.F) {
	for _, name := range captures(f, testenv.Testdata(f, "dns")) {
		data, err := os.ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
		if len(data) > 64<<10 {
			data = data[:64<<10]
		}
		f.Add(data)
	}
	ng, _ := filepath.Glob("../../../testdata/pcapng/*.pcapng")
	for _, name := range ng {
		data, err := os.ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		if len(data) >= 4 && string(data[:4]) == "\n\r\r\n" {
			compareNg(t, "fuzz", data, 0) // gopacket's pcapng reader as the oracle
		}
		src, err := NewSource(bytes.NewReader(data), "fuzz")
		if err != nil {
			return
		}
		// The same capture read from small blocks after its first frame
		// (TestReadBlocks' reader): the same frames, the same end.
		c := &blocks{data: data, rng: rand.New(rand.NewSource(int64(len(data)))), max: 1 + len(data)%300}
		inBlocks, _ := NewSource(c, "fuzz")
		var n int64
		for {
			p, err := src.Next()
			if n == 1 {
				inBlocks.ReadBlocks(c)
			}
			q, qerr := inBlocks.Next()
			if (err == nil) != (qerr == nil) || err != nil && err.Error() != qerr.Error() {
				t.Fatalf("frame %d: read %v, from blocks %v", n+1, err, qerr)
			}
			if err == io.EOF {
				return
			}
			if err != nil {
				if _, ok := err.(*CaptureError); !ok {
					t.Fatalf("error of type %T: %v", err, err)
				}
				return
			}
			n++
			if p.Frame != n {
				t.Fatalf("frame %d numbered %d", n, p.Frame)
			}
			if p.Status == Malformed && p.Err == nil {
				t.Fatal("malformed without a reason")
			}
			if q.Status != p.Status || !bytes.Equal(q.Data, p.Data) || q.TsNs != p.TsNs {
				t.Fatalf("frame %d differs when read from blocks", n)
			}
		}
	})
}
