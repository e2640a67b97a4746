package live

import (
	"encoding/json"
	"fmt"
	"io"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"testing"

	"golang.org/x/net/bpf"

	"github.com/spot-hunt/spot/internal/decode/dns"
	"github.com/spot-hunt/spot/internal/decode/pcap"
	"github.com/spot-hunt/spot/internal/decode/tunnel"
	"github.com/spot-hunt/spot/internal/record"
	"github.com/spot-hunt/spot/internal/testenv"
)

type testFrame struct {
	data []byte
	ts   int64
	wire int
}

// frames is a FrameReader over frames in memory.
type frames struct {
	f []testFrame
	i int
}

func (r *frames) ReadFrame() ([]byte, int64, int, error) {
	if r.i == len(r.f) {
		return nil, 0, 0, io.EOF
	}
	f := r.f[r.i]
	r.i++
	return f.data, f.ts, f.wire, nil
}

func (r *frames) Buffered() bool { return r.i < len(r.f) }

// readFrames reads a capture's frames and their link type (ok false when
// they are of several types or another than Ethernet).
func readFrames(t *testing.T, path string) (fs []testFrame, ok bool) {
	t.Helper()
	src, err := pcap.Open(path, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	ok = true
	for {
		p, err := src.Next()
		if err != nil {
			break // a truncated capture: its frames so far
		}
		ok = ok && p.LinkType == pcap.LinkEthernet
		fs = append(fs, testFrame{slices.Clone(p.Data), p.TsNs, p.WireLen})
	}
	return fs, ok
}

// decodeDNS decodes frames as a live capture's, each record as JSON
// without its frame number and event id (which depend on the frames
// before it), sorted.
func decodeDNS(fs []testFrame, link pcap.LinkType, o dns.Options) []string {
	src := pcap.NewFrameSource(&frames{f: fs}, link, "test")
	src.SetUnwrapper(tunnel.New())
	dec := dns.NewDecoder(o, "test")
	var recs []record.DNS
	for {
		p, err := src.Next()
		if err != nil {
			break
		}
		if p.Status == pcap.OK {
			recs, _ = dec.Packet(p, recs, nil)
		}
	}
	var out []string
	for _, r := range recs {
		r.Frame, r.EID = 0, 0
		b, _ := json.Marshal(r)
		out = append(out, string(b))
	}
	slices.Sort(out)
	return out
}

// run keeps the frames prog keeps, cut to the length it says.
func run(t *testing.T, prog []bpf.RawInstruction, fs []testFrame) (kept []testFrame) {
	t.Helper()
	ins, ok := bpf.Disassemble(prog)
	if !ok {
		t.Fatal("filter does not disassemble")
	}
	vm, err := bpf.NewVM(ins)
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range fs {
		n, err := vm.Run(f.data)
		if err != nil {
			t.Fatal(err)
		}
		if n > 0 {
			kept = append(kept, testFrame{f.data[:min(n, len(f.data))], f.ts, f.wire}) // the VM returns the value, the kernel cuts
		}
	}
	return kept
}

// rawIP strips the Ethernet headers of untagged IP frames, as frames of an
// interface without a link header (a tunnel's) come.
func rawIP(fs []testFrame) (out []testFrame) {
	for _, f := range fs {
		if len(f.data) > 14 && (f.data[12] == 0x08 && f.data[13] == 0x00 || f.data[12] == 0x86 && f.data[13] == 0xdd) {
			out = append(out, testFrame{f.data[14:], f.ts, f.wire - 14})
		}
	}
	return out
}

// The kernel filter of "decode dns --interface" drops only frames that hold
// no DNS message for the decoder: every DNS and tunnel trace decodes, from
// the frames it keeps, to the records that all frames give (Ethernet
// frames, and the same as raw IP packets), with --icmp-quotes and without.
func TestFilterKeepsEveryDNSMessage(t *testing.T) {
	var files []string
	for _, dir := range []string{"dns", "tunnels", "flow"} {
		m, _ := filepath.Glob(filepath.Join(testenv.Testdata(t, dir), "*.pcap*"))
		files = append(files, m...)
	}
	var total, dropped int
	for _, quotes := range []bool{false, true} {
		spec := FilterSpec{Ports: []int{53}, ICMP: quotes, Tunnels: true, TunnelPorts: tunnel.UDPPorts}
		opts := dns.Options{Ports: []int{53}, Queries: true, Answers: true, ICMPQuotes: quotes}
		for _, path := range files {
			fs, ok := readFrames(t, path)
			if !ok {
				continue
			}
			for _, link := range []pcap.LinkType{pcap.LinkEthernet, pcap.LinkRaw} {
				if link == pcap.LinkRaw {
					fs = rawIP(fs)
				}
				prog, err := Filter(link, spec, 262144)
				if err != nil {
					t.Fatal(err)
				}
				kept := run(t, prog, fs)
				total += len(fs)
				dropped += len(fs) - len(kept)
				want, got := decodeDNS(fs, link, opts), decodeDNS(kept, link, opts)
				if !slices.Equal(got, want) {
					name := fmt.Sprintf("%s (link %d, icmp-quotes %v)", filepath.Base(path), link, quotes)
					t.Errorf("%s: %d records from the %d frames kept, %d from all %d", name, len(got), len(kept), len(want), len(fs))
					for _, r := range want {
						if !slices.Contains(got, r) {
							t.Logf("lost: %s", r)
							break
						}
					}
				}
			}
		}
	}
	t.Logf("%d of %d frames dropped by the filter", dropped, total)
	if dropped == 0 {
		t.Error("the filter dropped nothing")
	}
}

// A kept packet is cut to the snap length; with no ports the filter keeps
// every packet, cut.
func TestFilterSnaplen(t *testing.T) {
	fs, _ := readFrames(t, filepath.Join(testenv.Testdata(t, "dns"), "ndpi_dns.pcap"))
	for _, spec := range []FilterSpec{{Ports: []int{53}}, {}} {
		prog, err := Filter(pcap.LinkEthernet, spec, 64)
		if err != nil {
			t.Fatal(err)
		}
		kept := run(t, prog, fs)
		if len(kept) == 0 {
			t.Fatalf("%+v: nothing kept", spec)
		}
		for _, f := range kept {
			if want := min(64, f.wire); len(f.data) != want {
				t.Fatalf("%+v: kept %d bytes, want %d", spec, len(f.data), want)
			}
		}
		if len(spec.Ports) == 0 && len(kept) != len(fs) {
			t.Errorf("no ports: %d of %d frames kept", len(kept), len(fs))
		}
	}
}

// Every frame tcpdump's own filter for the ports keeps ("port 53", compiled
// by libpcap for the capture's link type) is kept by spot's.
func TestFilterKeepsWhatTcpdumpKeeps(t *testing.T) {
	tcpdump := testenv.Tool(t, "tcpdump")
	spec := FilterSpec{Ports: []int{53, 5353}}
	prog, err := Filter(pcap.LinkEthernet, spec, 262144)
	if err != nil {
		t.Fatal(err)
	}
	files, _ := filepath.Glob(filepath.Join(testenv.Testdata(t, "dns"), "*.pcap"))
	line := regexp.MustCompile(`\{ 0x([0-9a-f]+), (\d+), (\d+), 0x([0-9a-f]+) \}`)
	checked := 0
	for _, path := range files {
		fs, ok := readFrames(t, path)
		if !ok {
			continue
		}
		out, err := exec.Command(tcpdump, "-r", path, "-dd", "port 53 or port 5353").Output()
		if err != nil {
			t.Fatalf("tcpdump -dd: %v", err)
		}
		var theirs []bpf.RawInstruction
		for _, m := range line.FindAllStringSubmatch(string(out), -1) {
			op, _ := strconv.ParseUint(m[1], 16, 16)
			jt, _ := strconv.Atoi(m[2])
			jf, _ := strconv.Atoi(m[3])
			k, _ := strconv.ParseUint(m[4], 16, 32)
			theirs = append(theirs, bpf.RawInstruction{Op: uint16(op), Jt: uint8(jt), Jf: uint8(jf), K: uint32(k)})
		}
		if len(theirs) == 0 {
			t.Fatalf("tcpdump -dd printed no program: %s", out)
		}
		mine, theirKept := run(t, prog, fs), run(t, theirs, fs)
		if len(mine) < len(theirKept) {
			t.Errorf("%s: spot's filter keeps %d frames, tcpdump's %d", filepath.Base(path), len(mine), len(theirKept))
		}
		for _, f := range theirKept {
			if !slices.ContainsFunc(mine, func(g testFrame) bool { return g.ts == f.ts && len(g.data) == len(f.data) }) {
				t.Errorf("%s: a frame of %d bytes at %d kept by tcpdump's filter only", filepath.Base(path), len(f.data), f.ts)
			}
		}
		checked += len(theirKept)
	}
	if checked == 0 {
		t.Error("tcpdump's filter kept no frame")
	}
}
