package dns

import (
	"bytes"
	"io"
	"os"
	"reflect"
	"testing"

	"github.com/spot-hunt/spot/internal/decode/pcap"
	"github.com/spot-hunt/spot/internal/decode/tunnel"
	"github.com/spot-hunt/spot/internal/ioformat"
	"github.com/spot-hunt/spot/internal/record"
	"github.com/spot-hunt/spot/internal/testenv"
)

// seedCaptures returns the test captures (copied from the corpus): DNS
// captures and Zeek's tunnel traces.
func seedCaptures(f *testing.F) [][]byte {
	var out [][]byte
	for _, name := range append(captureFiles(f, testenv.Testdata(f, "dns")), captureFiles(f, testenv.Testdata(f, "tunnels"))...) {
		data, err := os.ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
		out = append(out, data)
	}
	return out
}

// FuzzMessage parses arbitrary bytes as a DNS message: never a panic, and
// a message that parses keeps its fields consistent.
func FuzzMessage(f *testing.F) {
	for _, data := range seedCaptures(f) {
		src, err := pcap.NewSource(bytes.NewReader(data), "seed")
		if err != nil {
			continue
		}
		for {
			p, err := src.Next()
			if err != nil {
				break
			}
			if p.Status == pcap.OK && p.Proto == pcap.ProtoUDP && len(p.Payload) > 0 {
				f.Add(append([]byte(nil), p.Payload...))
			}
		}
	}
	var m Message
	f.Fuzz(func(t *testing.T, msg []byte) {
		err := m.Parse(msg, true)
		if err != nil {
			if _, ok := err.(*ParseError); !ok {
				t.Fatalf("error of type %T", err)
			}
			return
		}
		if m.HasQuestion && len(m.QName) == 0 {
			t.Fatal("question without a name")
		}
		if len(m.Answers) != int(m.ANCount) {
			t.Fatalf("%d answers, ancount %d", len(m.Answers), m.ANCount)
		}
	})
}

// FuzzDecode runs arbitrary bytes through the capture reader and the DNS
// decoder (UDP and TCP): never a panic, records name frames that were read,
// and a decoder keeping its strings in an arena, reset after every packet,
// makes the same records.
func FuzzDecode(f *testing.F) {
	for _, data := range seedCaptures(f) {
		if len(data) > 32<<10 {
			data = data[:32<<10]
		}
		f.Add(data)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		src, err := pcap.NewSource(bytes.NewReader(data), "fuzz")
		if err != nil {
			return
		}
		src.SetUnwrapper(tunnel.New())
		d := NewDecoder(Options{Queries: true, Answers: true}, "fuzz")
		da := NewDecoder(Options{Queries: true, Answers: true}, "fuzz")
		da.Text = new(ioformat.Arena)
		var recs, arecs []record.DNS
		var probs []Problem
		for {
			p, err := src.Next()
			if err == io.EOF {
				break
			}
			if err != nil {
				break
			}
			if p.Status == pcap.OK {
				recs, probs = d.Packet(p, recs[:0], probs[:0])
				for _, r := range recs {
					if r.Frame != p.Frame {
						t.Fatalf("record of frame %d from frame %d", r.Frame, p.Frame)
					}
				}
				da.Text.Reset()
				arecs, _ = da.Packet(p, arecs[:0], nil)
				if !reflect.DeepEqual(recs, arecs) {
					t.Fatalf("frame %d: with an arena\n%+v\nwithout\n%+v", p.Frame, arecs, recs)
				}
			}
		}
	})
}
