package suricata

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"strings"
	"testing"

	"github.com/spot-hunt/spot/internal/decode/dns"
	"github.com/spot-hunt/spot/internal/decode/pcap"
	"github.com/spot-hunt/spot/internal/record"
	"github.com/spot-hunt/spot/internal/testenv"
)

// TestPcapAgainstEVE: for the suricata-verify captures whose EVE log
// Suricata wrote (testdata/suricata/sv-*.pcap and .eve.json), the DNS
// responses spot decodes from the capture and from the log agree: client,
// server, name, type, rcode, id, transport and answers. So do the times
// (one log writes them at -0600) over UDP; over TCP Suricata stamps a
// response with the packet on which it reassembled the stream (the ACK
// after it, 15 µs later here), spot with the segment carrying it.
func TestPcapAgainstEVE(t *testing.T) {
	for _, name := range []string{"sv-eve-dns", "sv-single-dns-request", "sv-dns-tcp-www-google-com"} {
		t.Run(name, func(t *testing.T) {
			fromPcap := pcapResponses(t, testenv.Testdata(t, "suricata/"+name+".pcap"))
			data := testenv.ReadFile(t, testenv.Testdata(t, "suricata/"+name+".eve.json"))
			z := NewReader(bytes.NewReader(data), name)
			fromEVE, err := z.ReadDNS(nil, 1000)
			if err != io.EOF || z.Stats().Skipped != 0 {
				t.Fatalf("%v, %d skipped", err, z.Stats().Skipped)
			}
			if len(fromPcap) == 0 || len(fromPcap) != len(fromEVE) {
				t.Fatalf("%d responses from the capture, %d from the log", len(fromPcap), len(fromEVE))
			}
			for i := range fromPcap {
				p, e := fromPcap[i], fromEVE[i]
				if got, want := key(e), key(p); got != want {
					t.Errorf("response %d: from the log %s\nfrom the capture %s", i, got, want)
				}
				if d := e.TsNs/1000 - p.TsNs/1000; d != 0 && (p.Transport != "tcp" || d < 0 || d > 1e6) {
					t.Errorf("response %d: time %d from the log, %d from the capture", i, e.TsNs, p.TsNs)
				}
			}
		})
	}
}

func key(r record.DNS) string {
	return fmt.Sprint(r.IPDst, " ", r.IPSrc, " ", r.QryName, " type ", r.QryType, " rcode ", r.QryRcode, " id ", r.ID,
		" ", r.Transport, " a ", r.A, " answers ", strings.Join(r.Answers, ","), " ttl ", r.TTL)
}

func pcapResponses(t *testing.T, path string) []record.DNS {
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	src, err := pcap.NewSource(f, path)
	if err != nil {
		t.Fatal(err)
	}
	dec := dns.NewDecoder(dns.Options{Answers: true}, "x")
	var out []record.DNS
	for {
		p, err := src.Next()
		if err == io.EOF {
			return out
		}
		if err != nil {
			t.Fatal(err)
		}
		if p.Status == pcap.OK {
			out, _ = dec.Packet(p, out, nil)
		}
	}
}
