package pcap

import (
	"bytes"
	"fmt"
	"io"
	"io/fs"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/spot-hunt/spot/internal/testenv"
)

// captures lists the pcap/pcapng files under dir.
func captures(t testing.TB, dir string) []string {
	t.Helper()
	var files []string
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if !d.IsDir() && (strings.HasSuffix(path, ".pcap") || strings.HasSuffix(path, ".pcapng")) {
			files = append(files, path)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(files) == 0 {
		t.Fatalf("no captures under %s", dir)
	}
	return files
}

type tsharkFrame struct {
	len      int
	tsNs     int64
	src, dst string
}

func parseEpochNs(s string) (int64, error) {
	sec, frac, _ := strings.Cut(s, ".")
	si, err := strconv.ParseInt(sec, 10, 64)
	if err != nil {
		return 0, err
	}
	frac = (frac + "000000000")[:9]
	fi, err := strconv.ParseInt(frac, 10, 64)
	if err != nil {
		return 0, err
	}
	return si*1e9 + fi, nil
}

func tsharkFrames(t *testing.T, tshark, file string) []tsharkFrame {
	t.Helper()
	cmd := exec.Command(tshark, "-n", "-r", file, "-T", "fields", "-E", "occurrence=f",
		"-e", "frame.number", "-e", "frame.len", "-e", "frame.time_epoch",
		"-e", "ip.src", "-e", "ip.dst", "-e", "ipv6.src", "-e", "ipv6.dst")
	cmd.Env = append(os.Environ(), "TZ=UTC")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil && len(out) == 0 {
		t.Fatalf("tshark %s: %v: %s", file, err, stderr.String())
	}
	var frames []tsharkFrame
	for _, line := range strings.Split(strings.TrimRight(string(out), "\n"), "\n") {
		if line == "" {
			continue
		}
		f := strings.Split(line, "\t")
		if len(f) != 7 {
			t.Fatalf("tshark %s: bad line %q", file, line)
		}
		n, _ := strconv.Atoi(f[0])
		if n != len(frames)+1 {
			t.Fatalf("tshark %s: frame %d out of order", file, n)
		}
		l, _ := strconv.Atoi(f[1])
		ts, err := parseEpochNs(f[2])
		if err != nil {
			t.Fatalf("tshark %s: time %q: %v", file, f[2], err)
		}
		fr := tsharkFrame{len: l, tsNs: ts, src: f[3], dst: f[4]}
		if fr.src == "" {
			fr.src, fr.dst = f[5], f[6]
		}
		frames = append(frames, fr)
	}
	return frames
}

// compareWithTshark checks frame numbering, lengths, times and network
// addresses of every frame against tshark's.
func compareWithTshark(t *testing.T, tshark, file string) int {
	want := tsharkFrames(t, tshark, file)
	src, err := Open(file, nil)
	if err != nil {
		t.Fatalf("%s: %v", file, err)
	}
	defer src.Close()
	var got int
	var problems []string
	for {
		p, err := src.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			problems = append(problems, err.Error())
			break
		}
		got++
		if int(p.Frame) != got {
			t.Fatalf("%s: frame %d numbered %d", file, got, p.Frame)
		}
		if got > len(want) {
			continue
		}
		w := want[got-1]
		var gs, gd string
		if p.IPVer != 0 {
			gs, gd = p.Src.String(), p.Dst.String()
		}
		if w.src != "" {
			// tshark prints addresses canonically too; normalise anyway.
			if a, err := netip.ParseAddr(w.src); err == nil {
				w.src = a.String()
			}
			if a, err := netip.ParseAddr(w.dst); err == nil {
				w.dst = a.String()
			}
		}
		if p.WireLen != w.len || p.TsNs != w.tsNs || gs != w.src || gd != w.dst {
			problems = append(problems, fmt.Sprintf("frame %d: got len %d ts %d %s>%s (%v %v), tshark len %d ts %d %s>%s",
				got, p.WireLen, p.TsNs, gs, gd, p.Status, p.Err, w.len, w.tsNs, w.src, w.dst))
		}
	}
	if got != len(want) {
		problems = append(problems, fmt.Sprintf("%d frames, tshark %d", got, len(want)))
	}
	if len(problems) > 0 {
		if len(problems) > 10 {
			problems = problems[:10]
		}
		t.Errorf("%s:\n  %s", file, strings.Join(problems, "\n  "))
	}
	return got
}

func TestFramesMatchTsharkTestdata(t *testing.T) {
	tshark := testenv.Tool(t, "tshark")
	n := 0
	for _, f := range captures(t, testenv.Testdata(t, "dns")) {
		n += compareWithTshark(t, tshark, f)
	}
	t.Logf("%d frames compared", n)
	if n < 1730 { // 1,730 frames in testdata/dns when this was written
		t.Errorf("only %d frames compared", n)
	}
}

func TestFramesMatchTsharkCorpus(t *testing.T) {
	dir := testenv.Corpus(t, "dns")
	tshark := testenv.Tool(t, "tshark")
	n := 0
	for _, f := range captures(t, dir) {
		n += compareWithTshark(t, tshark, f)
	}
	t.Logf("%d frames compared", n)
	if n < 37000 { // 37,228 frames in the corpus when this was written
		t.Errorf("only %d frames compared", n)
	}
}
