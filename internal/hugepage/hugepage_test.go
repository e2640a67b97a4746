package hugepage

import (
	"bytes"
	"os"
	"runtime"
	"strconv"
	"testing"
)

// TestMake: the slice works as make's would, whatever its size, and on
// Linux with transparent huge pages on request (madvise), filling a large
// one brings huge pages into the process.
func TestMake(t *testing.T) {
	for _, n := range []int{0, 1, 1000, 3 << 20} {
		s := Make[int64](n)
		if len(s) != 0 || cap(s) != n {
			t.Fatalf("Make(%d): len %d cap %d", n, len(s), cap(s))
		}
		for i := range n {
			s = append(s, int64(i))
		}
		for i, x := range s {
			if x != int64(i) {
				t.Fatalf("Make(%d)[%d] = %d", n, i, x)
			}
		}
	}
	mode, err := os.ReadFile("/sys/kernel/mm/transparent_hugepage/enabled")
	if runtime.GOOS != "linux" || err != nil || !bytes.Contains(mode, []byte("[madvise]")) {
		return // nothing to observe: no THP, or every page huge anyway
	}
	before := anonHuge(t)
	s := Make[byte](64 << 20)
	for i := 0; i < cap(s); i += 4096 {
		s = append(s[:i], 1)
	}
	s = s[:cap(s)]
	if got := anonHuge(t) - before; got < 2<<20 {
		t.Errorf("no huge pages after filling 64 MB (AnonHugePages grew by %d bytes)", got)
	}
	runtime.KeepAlive(s)
}

// anonHuge is the process's memory in anonymous huge pages.
func anonHuge(t *testing.T) int64 {
	b, err := os.ReadFile("/proc/self/smaps_rollup")
	if err != nil {
		t.Fatal(err)
	}
	for line := range bytes.Lines(b) {
		if f := bytes.Fields(line); len(f) == 3 && string(f[0]) == "AnonHugePages:" {
			kb, err := strconv.ParseInt(string(f[1]), 10, 64)
			if err != nil {
				t.Fatal(err)
			}
			return kb << 10
		}
	}
	return 0
}
