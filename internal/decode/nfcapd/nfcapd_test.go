package nfcapd_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/spot-hunt/spot/internal/decode/flow"
	"github.com/spot-hunt/spot/internal/decode/nfcapd"
	"github.com/spot-hunt/spot/internal/decode/pcap"
	"github.com/spot-hunt/spot/internal/record"
	"github.com/spot-hunt/spot/internal/testenv"
)

// decode reads every record of an nfcapd file.
func decode(t testing.TB, data []byte, name string) ([]record.Flow, nfcapd.Stats, error) {
	t.Helper()
	r, err := nfcapd.NewReader(bytes.NewReader(data), name)
	if err != nil {
		return nil, nfcapd.Stats{}, err
	}
	defer r.Close()
	var out []record.Flow
	for {
		out, err = r.Next(out, 1000)
		if err == io.EOF {
			return out, r.Stats(), nil
		}
		if err != nil {
			return out, r.Stats(), err
		}
	}
}

func decodeFile(t testing.TB, path string) []record.Flow {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	recs, st, err := decode(t, data, path)
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	if st.Skipped != 0 {
		t.Errorf("%s: %d records skipped", path, st.Skipped)
	}
	return recs
}

// nfdumpCSV is what "nfdump -r FILE -o csv | spot decode flow" gives: the
// records of nfdump's CSV, read by spot's CSV decoder. nfdump prints times
// to the second, so it also returns each record's first and last times in
// milliseconds from nfdump's JSON output.
func nfdumpCSV(t testing.TB, path string) ([]record.Flow, [][2]int64) {
	t.Helper()
	nfdump := testenv.Tool(t, "nfdump")
	run := func(format string) []byte {
		cmd := exec.Command(nfdump, "-r", path, "-o", format)
		cmd.Env = append(os.Environ(), "TZ=UTC")
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		out, err := cmd.Output()
		if err != nil {
			t.Fatalf("nfdump -r %s -o %s: %v: %s", path, format, err, stderr.Bytes())
		}
		return out
	}
	cr := flow.NewCSVReader(bytes.NewReader(run("csv")), path, time.UTC)
	defer cr.Close()
	var recs []record.Flow
	for {
		b, err := cr.Next()
		recs = append(recs, b...)
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
	}
	if cr.Skipped() != 0 {
		t.Fatalf("nfdump's CSV of %s: %d lines skipped", path, cr.Skipped())
	}
	var js []map[string]any
	if err := json.Unmarshal(run("json"), &js); err != nil {
		t.Fatalf("nfdump JSON of %s: %v", path, err)
	}
	var times [][2]int64
	for _, r := range js {
		if r["type"] != "FLOW" {
			continue
		}
		first, _ := time.Parse("2006-01-02T15:04:05.000", fmt.Sprint(r["first"]))
		last, _ := time.Parse("2006-01-02T15:04:05.000", fmt.Sprint(r["last"]))
		times = append(times, [2]int64{first.UnixMilli(), last.UnixMilli()})
	}
	return recs, times
}

// same reports how got (read natively) differs from want (nfdump's CSV):
// every column but the event id and source; times to the second, as CSV
// has them, and to the millisecond against nfdump's JSON; no exporter
// address is empty where nfdump prints 0.0.0.0.
func same(got, want record.Flow, ms [2]int64) string {
	if want.RIP == "0.0.0.0" {
		want.RIP = ""
	}
	if got.TStartNs/1e6 != ms[0] || got.TEndNs/1e6 != ms[1] {
		return fmt.Sprintf("times %d..%d ms, nfdump %d..%d", got.TStartNs/1e6, got.TEndNs/1e6, ms[0], ms[1])
	}
	got.TStartNs, got.TEndNs = got.TStartNs/1e9, got.TEndNs/1e9
	want.TStartNs, want.TEndNs = want.TStartNs/1e9, want.TEndNs/1e9
	got.EID, want.EID, got.Source, want.Source = 0, 0, "", ""
	if got != want {
		return fmt.Sprintf("\n got %+v\nwant %+v", got, want)
	}
	return ""
}

func matchNfdump(t *testing.T, path string) int {
	t.Helper()
	got := decodeFile(t, path)
	want, times := nfdumpCSV(t, path)
	if len(got) != len(want) || len(times) != len(want) {
		t.Fatalf("%s: %d records, nfdump %d (JSON %d)", path, len(got), len(want), len(times))
	}
	bad := 0
	for i := range got {
		if d := same(got[i], want[i], times[i]); d != "" {
			if bad++; bad <= 5 {
				t.Errorf("%s: record %d: %s", filepath.Base(path), i+1, d)
			}
		}
		if got[i].Source != "nfcapd" || got[i].EID == 0 {
			t.Fatalf("record %d: source %q, eid %d", i+1, got[i].Source, got[i].EID)
		}
	}
	return len(got)
}

// TestFixturesMatchNfdump: the files nfcapd 1.6.25 wrote (layout 1,
// extension maps) uncompressed and under LZO, LZ4 and bzip2, and the file
// nfdump 1.7.8 wrote (layout 2, V3 records with elements nfdump 1.7.1 does
// not know), read record for record as nfdump reads them.
func TestFixturesMatchNfdump(t *testing.T) {
	files, _ := filepath.Glob(testenv.Testdata(t, "nfcapd/*.nfcapd"))
	n := 0
	for _, f := range files {
		if strings.Contains(f, "zstd") {
			continue // Debian's nfdump reads no zstd: see TestZstd
		}
		t.Run(filepath.Base(f), func(t *testing.T) {
			if got := matchNfdump(t, f); got < 900 {
				t.Errorf("%d records", got)
			}
		})
		n++
	}
	if n != 5 {
		t.Fatalf("%d fixtures", n)
	}
}

// TestZstd: the zstd file (nfdump 1.7.8) holds the records of its LZ4
// copy, which nfdump 1.7.1 reads in TestFixturesMatchNfdump.
func TestZstd(t *testing.T) {
	z := decodeFile(t, testenv.Testdata(t, "nfcapd/v178-zstd.nfcapd"))
	l := decodeFile(t, testenv.Testdata(t, "nfcapd/v178-lz4.nfcapd"))
	if len(z) != len(l) || len(z) < 900 {
		t.Fatalf("zstd %d records, lz4 %d", len(z), len(l))
	}
	for i := range z {
		z[i].EID, l[i].EID = 0, 0
		if z[i] != l[i] {
			t.Fatalf("record %d:\n zstd %+v\n  lz4 %+v", i+1, z[i], l[i])
		}
	}
}

// TestCorpusMatchesNfdump: the corpus's nfcapd files, nfdump 1.7 files
// of softflowd's exports and Slips' nfdump 1.6 file of a malware capture.
func TestCorpusMatchesNfdump(t *testing.T) {
	gen, _ := filepath.Glob(filepath.Join(testenv.Corpus(t, "netflow/generated"), "*.nfcapd"))
	files := append(gen, filepath.Join(testenv.Corpus(t, "labelled/slips"), "test1-malicious.nfdump"))
	if len(gen) != 6 {
		t.Fatalf("%d nfcapd files in netflow/generated", len(gen))
	}
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) { matchNfdump(t, f) })
	}
}

// TestFreshNfcapdEachCompression: Debian's nfcapd collects softflowd's
// NetFlow v5 and IPFIX exports (testdata/flow) into a file of its own,
// uncompressed and under each compression it writes (-z LZO, -y LZ4, -j
// bzip2; nfdump 1.7.1 writes no zstd: TestZstd covers it); each file reads
// as nfdump reads it.
func TestFreshNfcapdEachCompression(t *testing.T) {
	if testing.Short() {
		t.Skip("-short")
	}
	nfcapdBin := testenv.Tool(t, "nfcapd")
	testenv.Tool(t, "nfdump")
	var grams [][]byte
	for _, c := range []string{"alexa-app.softflowd-v5.pcap", "alexa-app.softflowd-v10.pcap"} {
		grams = append(grams, udpPayloads(t, testenv.Testdata(t, "flow/"+c))...)
	}
	for _, c := range []struct{ flag, want string }{{"", "none"}, {"-z", "lzo"}, {"-y", "lz4"}, {"-j", "bzip2"}} {
		t.Run(c.want, func(t *testing.T) {
			t.Parallel()
			file := collect(t, nfcapdBin, c.flag, grams)
			data, err := os.ReadFile(file)
			if err != nil {
				t.Fatal(err)
			}
			r, err := nfcapd.NewReader(bytes.NewReader(data), file)
			if err != nil {
				t.Fatal(err)
			}
			if h := r.Header(); h.Layout != 2 || h.Compression.String() != c.want {
				t.Fatalf("header %+v, want layout 2, %s", h, c.want)
			}
			if n := matchNfdump(t, file); n < 300 {
				t.Errorf("%d records: too few of the %d datagrams arrived", n, len(grams))
			}
		})
	}
}

// collect runs nfcapd (with flag) on a free loopback port, sends it grams
// and returns the file it wrote when stopped.
func collect(t *testing.T, bin, flag string, grams [][]byte) string {
	t.Helper()
	dir := t.TempDir()
	l, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := l.LocalAddr().(*net.UDPAddr).Port
	l.Close()
	args := []string{"-b", "127.0.0.1", "-p", fmt.Sprint(port), "-w", dir, "-t", "3600"}
	if flag != "" {
		args = append(args, flag)
	}
	nf := exec.Command(bin, args...)
	var out bytes.Buffer
	nf.Stdout, nf.Stderr = &out, &out
	if err := nf.Start(); err != nil {
		t.Fatal(err)
	}
	defer nf.Process.Kill()
	exited := make(chan error, 1)
	go func() { exited <- nf.Wait() }()
	// nfcapd is listening once the port is taken.
	for deadline := time.Now().Add(60 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		l, err := net.ListenPacket("udp", fmt.Sprintf("127.0.0.1:%d", port))
		if err != nil {
			break
		}
		l.Close()
		select {
		case err := <-exited:
			t.Fatalf("nfcapd exited before binding port %d (%v): %s", port, err, out.String())
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("nfcapd not listening on port %d after 60 s: %s", port, out.String())
		}
	}
	time.Sleep(200 * time.Millisecond)
	c, err := net.Dial("udp", fmt.Sprintf("127.0.0.1:%d", port))
	if err != nil {
		t.Fatal(err)
	}
	for _, g := range grams {
		c.Write(g)
		time.Sleep(time.Millisecond) // loopback drops what a slow reader has no room for
	}
	c.Close()
	time.Sleep(300 * time.Millisecond)
	nf.Process.Signal(syscall.SIGTERM)
	select {
	case <-exited:
	case <-time.After(30 * time.Second):
		t.Fatalf("nfcapd did not stop: %s", out.String())
	}
	files, _ := filepath.Glob(filepath.Join(dir, "nfcapd.2*"))
	if len(files) != 1 {
		t.Fatalf("nfcapd wrote %v: %s", files, out.String())
	}
	return files[0]
}

// udpPayloads returns the UDP payloads of a capture's frames.
func udpPayloads(t *testing.T, path string) [][]byte {
	t.Helper()
	src, err := pcap.Open(path, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	var out [][]byte
	for {
		p, err := src.Next()
		if err == io.EOF {
			return out
		}
		if err != nil {
			t.Fatal(err)
		}
		if p.Status == pcap.OK && p.Proto == pcap.ProtoUDP {
			out = append(out, append([]byte(nil), p.Payload...))
		}
	}
}

// TestMalformed: damage is skipped, counted and named, never fatal, and
// the records around it are kept.
func TestMalformed(t *testing.T) {
	plain, err := os.ReadFile(testenv.Testdata(t, "nfcapd/v16-none.nfcapd"))
	if err != nil {
		t.Fatal(err)
	}
	lzoFile, err := os.ReadFile(testenv.Testdata(t, "nfcapd/v16-lzo.nfcapd"))
	if err != nil {
		t.Fatal(err)
	}
	all, _, err := decode(t, plain, "x")
	if err != nil {
		t.Fatal(err)
	}
	const firstBlock = 276 // layout 1: header and statistics record
	mutate := func(b []byte, f func([]byte)) []byte {
		c := bytes.Clone(b)
		f(c)
		return c
	}
	le16 := func(b []byte) int { return int(b[0]) | int(b[1])<<8 }
	for _, c := range []struct {
		name        string
		data        []byte
		records     func(int) bool // of len(all)
		skipped     int64
		errContains string
	}{
		// The file's first block holds its 938 records, flows and maps;
		// its second, one record of exporter statistics.
		{"cut inside the first block", plain[:len(plain)/2], func(n int) bool { return n == 0 }, 938, "file ends inside the block (37"},
		{"cut inside the last block", plain[:len(plain)-10], func(n int) bool { return n == len(all) }, 1, "its 1 records are lost"},
		{"cut inside a block header", plain[:len(plain)-len(plain)%4-3], nil, -1, ""},
		{"record size overruns the block", mutate(plain, func(b []byte) {
			// the first flow record after the extension maps: its size
			// field set beyond the block
			p := firstBlock + blockHeader
			for le16(b[p:]) != 10 {
				p += le16(b[p+2:])
			}
			b[p+2], b[p+3] = 0xff, 0xff
		}), func(n int) bool { return n < len(all) }, -1, "does not fit"},
		{"record names no extension map", mutate(plain, func(b []byte) {
			p := firstBlock + blockHeader
			for le16(b[p:]) != 10 {
				p += le16(b[p+2:])
			}
			b[p+6], b[p+7] = 0x99, 0x99
		}), func(n int) bool { return n == len(all)-1 }, 1, "extension map 39321"},
		{"unknown record type", mutate(plain, func(b []byte) {
			p := firstBlock + blockHeader
			for le16(b[p:]) != 10 {
				p += le16(b[p+2:])
			}
			b[p] = 99
		}), func(n int) bool { return n == len(all)-1 }, 1, "unknown record type 99"},
		{"corrupt LZO block", mutate(lzoFile, func(b []byte) {
			for i := firstBlock + blockHeader; i < firstBlock+blockHeader+64; i++ {
				b[i] ^= 0x5a
			}
		}), func(n int) bool { return n < len(all) }, -1, "lzo block"},
	} {
		t.Run(c.name, func(t *testing.T) {
			r, err := nfcapd.NewReader(bytes.NewReader(c.data), "bad.nfcapd")
			if err != nil {
				t.Fatal(err)
			}
			var warned []string
			r.Warn = func(e *nfcapd.RecordError) { warned = append(warned, e.Error()) }
			var recs []record.Flow
			for err == nil {
				recs, err = r.Next(recs, 100)
			}
			if err != io.EOF {
				t.Fatalf("err %v, want the damage skipped", err)
			}
			st := r.Stats()
			if c.records != nil && !c.records(len(recs)) {
				t.Errorf("%d records of %d", len(recs), len(all))
			}
			if st.Skipped == 0 || c.skipped >= 0 && st.Skipped != c.skipped {
				t.Errorf("skipped %d, want %d", st.Skipped, c.skipped)
			}
			if len(warned) == 0 || !strings.Contains(strings.Join(warned, "\n"), c.errContains) {
				t.Errorf("warnings %q, want one saying %q", warned, c.errContains)
			}
		})
	}
}

const blockHeader = 12

// TestNotNfcapd: other files, and files nfdump does not write, are refused
// with a reason.
func TestNotNfcapd(t *testing.T) {
	for _, c := range []struct{ data, want string }{
		{"", "ends inside its header"},
		{"\x0c\xa5\x02\x00\x00", "ends inside its header"},
		{"\xa5\x0c\x00\x02" + strings.Repeat("\x00", 40), "big-endian"},
		{"\x0c\xa5\x03\x00" + strings.Repeat("\x00", 40), "not an nfcapd file"},
		{"\x0c\xa5\x02\x00" + strings.Repeat("\x00", 12) + "\x00\x01" + strings.Repeat("\x00", 22), "encrypted"},
		{"\x0c\xa5\x02\x00" + strings.Repeat("\x00", 12) + "\x07\x00" + strings.Repeat("\x00", 22), "compression 7"},
	} {
		if _, err := nfcapd.NewReader(strings.NewReader(c.data), "x"); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%q: err %v, want %q", c.data, err, c.want)
		}
	}
}
