package tunnel_test

import (
	"bytes"
	"io"
	"os"
	"path/filepath"
	"testing"

	"github.com/spot-hunt/spot/internal/decode/pcap"
	"github.com/spot-hunt/spot/internal/decode/tunnel"
	"github.com/spot-hunt/spot/internal/testenv"
)

// FuzzUnwrap reads an arbitrary Ethernet frame with the Unwrapper: never a
// panic, each packet found one tunnel deeper than the one carrying it, at
// most pcap.MaxTunnelDepth, every malformed one with its reason. The seeds
// are the frames of Zeek's tunnel traces (testdata/tunnels, and the whole
// corpus's tunnels/zeek when it is there).
func FuzzUnwrap(f *testing.F) {
	dirs := []string{testenv.Testdata(f, "tunnels")}
	if root := os.Getenv("SPOT_CORPUS"); root != "" {
		dirs = append(dirs, filepath.Join(root, "tunnels", "zeek"))
	}
	for _, dir := range dirs {
		names, _ := filepath.Glob(filepath.Join(dir, "*.pcap*"))
		for _, name := range names {
			src, err := pcap.Open(name, nil)
			if err != nil {
				f.Fatal(err)
			}
			for n := 0; n < 200; n++ {
				p, err := src.Next()
				if err != nil {
					break
				}
				if len(p.Tunnels) == 0 && p.LinkType == pcap.LinkEthernet {
					f.Add(append([]byte(nil), p.Data...))
				}
			}
			src.Close()
		}
	}
	f.Add(eth(0x0800, ip4(7, 8, 47, gre(0x10, 0, 0x22eb, []uint32{1}, cat([]byte{0x20, 0, 0, 9, 0, 0, 0, 0, 0, 0, 0, 1}, make([]byte, 8), eth(0x0800, ip4(1, 2, 17, dnsQuery)))))))
	f.Add(eth(0x0800, ip4(7, 8, 17, udp(5072, 5072, cat([]byte{0x41, 0x52, 0x11, 41, 0, 0, 0, 0}, make([]byte, 16+20), ip6(17, dnsQuery))))))
	f.Fuzz(func(t *testing.T, frame []byte) {
		src, err := pcap.NewSource(bytes.NewReader(capture(frame)), "fuzz")
		if err != nil {
			t.Fatal(err)
		}
		src.SetUnwrapper(tunnel.New())
		depth := 0
		for {
			p, err := src.Next()
			if err == io.EOF {
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if p.Frame != 1 {
				t.Fatalf("frame %d", p.Frame)
			}
			if len(p.Tunnels) != depth || len(p.Tunnels) > pcap.MaxTunnelDepth {
				t.Fatalf("packet in %d tunnels after one in %d", len(p.Tunnels), depth-1)
			}
			if p.Status == pcap.Malformed && p.Err == nil {
				t.Fatal("malformed without a reason")
			}
			if !p.Carrier {
				return
			}
			depth++
		}
	})
}
