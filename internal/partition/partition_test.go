package partition

import (
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/spot-hunt/spot/internal/ioformat"
	"github.com/spot-hunt/spot/internal/record"
)

func TestPathMatchesTimePackage(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	times := []int64{0, -1, 3599, 3600, 86399, 86400, -86400, -86401, 951782400 /* 2000-02-29 */, 4102444800 /* 2100-01-01 */, 253402300799}
	for range 2000 {
		times = append(times, rng.Int64N(1<<36)-1<<35)
	}
	for _, unix := range times {
		tm := time.Unix(unix, 0).UTC()
		want := tm.Format("y=2006/m=01/d=02/h=15")
		if got := filepath.ToSlash(Hour.Path(Hour.Key(unix))); tm.Year() >= 0 && tm.Year() < 10000 && got != want {
			t.Fatalf("Hour.Path(%d) = %s, want %s", unix, got, want)
		}
		want = tm.Format("y=2006/m=01/d=02")
		if got := filepath.ToSlash(Day.Path(Day.Key(unix))); tm.Year() >= 0 && tm.Year() < 10000 && got != want {
			t.Fatalf("Day.Path(%d) = %s, want %s", unix, got, want)
		}
		if Hour.Key(unix) != int64(tm.Truncate(time.Hour).Unix()/3600) && unix >= 0 {
			t.Fatalf("Hour.Key(%d) = %d", unix, Hour.Key(unix))
		}
	}
	if Hour.Key(-1) != -1 || Day.Key(-1) != -1 || Hour.Key(0) != 0 {
		t.Fatal("keys must floor, not truncate")
	}
}

func TestParseAndName(t *testing.T) {
	for s, want := range map[string]By{"": None, "hour": Hour, "DAY": Day} {
		if got, err := Parse(s); err != nil || got != want {
			t.Errorf("Parse(%q) = %v, %v", s, got, err)
		}
	}
	if _, err := Parse("week"); err == nil || !strings.Contains(err.Error(), "hour or day") {
		t.Errorf("Parse(week): %v", err)
	}
	for in, want := range map[string]string{
		"-": "stdin", "": "stdin", "/data/day/nfcapd.202611230500": "nfcapd.202611230500",
		"caps/capture-13.pcap.gz": "capture-13.pcap", "x.log.zst": "x.log", ".gz": ".gz",
	} {
		if got := Name(in); got != want {
			t.Errorf("Name(%q) = %q, want %q", in, got, want)
		}
	}
}

func flowAt(unix int64, eid int64) record.Flow {
	return record.Flow{UnixTstamp: unix, SIP: "10.0.0.1", DIP: "10.0.0.2", EID: eid}
}

func flowTime(f *record.Flow) int64 { return f.UnixTstamp }

func readFlows(t *testing.T, names ...string) []record.Flow {
	t.Helper()
	var all []record.Flow
	for _, n := range names {
		in, err := ioformat.Open(n, nil)
		if err != nil {
			t.Fatal(err)
		}
		r, err := ioformat.NewReader[record.Flow](in)
		if err != nil {
			t.Fatal(err)
		}
		buf := make([]record.Flow, 100)
		for {
			k, err := r.Read(buf)
			all = append(all, buf[:k]...)
			if err != nil {
				break
			}
		}
		r.Close()
		in.Close()
	}
	return all
}

func TestWriterPartitionsAndReplaces(t *testing.T) {
	root := t.TempDir()
	base := time.Date(2026, 11, 23, 22, 30, 0, 0, time.UTC).Unix()
	write := func(input string, times ...int64) []string {
		t.Helper()
		w, err := NewWriter[record.Flow](root, Hour, input, ioformat.Parquet, record.Flow{}.Meta(), flowTime)
		if err != nil {
			t.Fatal(err)
		}
		var recs []record.Flow
		for i, ts := range times {
			recs = append(recs, flowAt(ts, int64(i)))
		}
		// two batches, the second going back to an hour already open
		if err := w.Write(recs[:len(recs)/2]); err != nil {
			t.Fatal(err)
		}
		if err := w.Write(recs[len(recs)/2:]); err != nil {
			t.Fatal(err)
		}
		files := w.Files()
		if err := w.Close(); err != nil {
			t.Fatal(err)
		}
		return files
	}
	files := write("/x/caps/a.pcap.gz", base, base+1, base+3600, base+7200, base+5, base+3601)
	want := []string{"y=2026/m=11/d=23/h=22/a.pcap.parquet", "y=2026/m=11/d=23/h=23/a.pcap.parquet", "y=2026/m=11/d=24/h=00/a.pcap.parquet"}
	for i := range files {
		files[i] = filepath.ToSlash(files[i])
	}
	if !slices.Equal(files, want) {
		t.Fatalf("files %v, want %v", files, want)
	}
	got := readFlows(t, filepath.Join(root, want[0]))
	if len(got) != 3 || got[0].EID != 0 || got[1].EID != 1 || got[2].EID != 4 {
		t.Fatalf("hour 22 holds %+v", got)
	}
	// Another input beside it; a rerun of a.pcap over fewer hours replaces
	// its files and removes the one it no longer writes.
	write("b.pcap", base+3600)
	write("a.pcap", base+3600)
	all, err := Files([]string{root})
	if err != nil {
		t.Fatal(err)
	}
	for i := range all {
		all[i] = filepath.ToSlash(strings.TrimPrefix(all[i], root+string(filepath.Separator)))
	}
	if !slices.Equal(all, []string{"y=2026/m=11/d=23/h=23/a.pcap.parquet", "y=2026/m=11/d=23/h=23/b.pcap.parquet"}) {
		t.Fatalf("after the rerun: %v", all)
	}
	if n := len(readFlows(t, filepath.Join(root, "y=2026/m=11/d=23/h=23/a.pcap.parquet"))); n != 1 {
		t.Fatalf("the rerun's file holds %d records, want 1", n)
	}
}

func TestWriterAbortLeavesNothing(t *testing.T) {
	root := t.TempDir()
	w, err := NewWriter[record.Flow](root, Day, "a.pcap", ioformat.NDJSON, record.Flow{}.Meta(), flowTime)
	if err != nil {
		t.Fatal(err)
	}
	if err := w.Write([]record.Flow{flowAt(0, 1), flowAt(86400*3, 2)}); err != nil {
		t.Fatal(err)
	}
	w.Abort()
	var left []string
	filepath.WalkDir(root, func(p string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			left = append(left, p)
		}
		return nil
	})
	if len(left) > 0 {
		t.Fatalf("Abort left %v", left)
	}
}

func touch(t *testing.T, root string, names ...string) {
	t.Helper()
	for _, n := range names {
		p := filepath.Join(root, filepath.FromSlash(n))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, nil, 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

func TestFiles(t *testing.T) {
	root := t.TempDir()
	touch(t, root, "y=2026/m=11/d=23/h=09/b.parquet", "y=2026/m=11/d=23/h=09/a.ndjson.gz",
		"y=2026/m=11/d=23/h=10/a.parquet", "y=2026/m=11/d=23/h=10/.a.parquet.tmp-123",
		"y=2026/m=11/d=23/h=10/notes.txt", "_inputs/a.parquet.files", "_SUCCESS", ".hidden/x.parquet",
		"y=2026/m=11/d=24/h=00/a.parquet")
	rel := func(files []string) []string {
		out := make([]string, len(files))
		for i, f := range files {
			out[i] = filepath.ToSlash(strings.TrimPrefix(f, root+string(filepath.Separator)))
		}
		return out
	}
	got, err := Files([]string{root})
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"y=2026/m=11/d=23/h=09/a.ndjson.gz", "y=2026/m=11/d=23/h=09/b.parquet", "y=2026/m=11/d=23/h=10/a.parquet", "y=2026/m=11/d=24/h=00/a.parquet"}
	if !slices.Equal(rel(got), want) {
		t.Fatalf("folder: %v, want %v", rel(got), want)
	}
	for pattern, want := range map[string][]string{
		"**/*.parquet":                {"y=2026/m=11/d=23/h=09/b.parquet", "y=2026/m=11/d=23/h=10/a.parquet", "y=2026/m=11/d=24/h=00/a.parquet"},
		"y=2026/m=11/d=23/*/":         nil,
		"y=*/m=*/d=23/h=1?/*.parquet": {"y=2026/m=11/d=23/h=10/a.parquet"},
		"y=2026/**":                   {"y=2026/m=11/d=23/h=09/a.ndjson.gz", "y=2026/m=11/d=23/h=09/b.parquet", "y=2026/m=11/d=23/h=10/a.parquet", "y=2026/m=11/d=23/h=10/notes.txt", "y=2026/m=11/d=24/h=00/a.parquet"},
		"_inputs/*":                   {"_inputs/a.parquet.files"},
	} {
		got, err := Files([]string{filepath.Join(root, pattern)})
		if want == nil {
			if err == nil || !strings.Contains(err.Error(), "no file matches") {
				t.Errorf("%s: %v, %v; want no match", pattern, got, err)
			}
			continue
		}
		if err != nil || !slices.Equal(rel(got), want) {
			t.Errorf("%s: %v (%v), want %v", pattern, rel(got), err, want)
		}
	}
	// Names stand for themselves, stdin stays, an empty folder is an error.
	got, err = Files([]string{"-", filepath.Join(root, "missing.parquet")})
	if err != nil || len(got) != 2 || got[0] != "-" {
		t.Errorf("plain names: %v, %v", got, err)
	}
	if _, err := Files([]string{filepath.Join(root, "_inputs")}); err == nil {
		t.Error("a folder without record files should be an error")
	}
	if _, err := Files([]string{filepath.Join(root, "[")}); err == nil {
		t.Error("a malformed pattern should be an error")
	}
}

func TestGlobRelative(t *testing.T) {
	root := t.TempDir()
	touch(t, root, "out/y=2026/m=11/d=23/h=09/a.parquet")
	wd, _ := os.Getwd()
	defer os.Chdir(wd)
	if err := os.Chdir(root); err != nil {
		t.Fatal(err)
	}
	got, err := Files([]string{"out/**/*.parquet", "./out/y=*/m=*/d=*/h=*/a.parquet"})
	want := []string{"out/y=2026/m=11/d=23/h=09/a.parquet", "out/y=2026/m=11/d=23/h=09/a.parquet"}
	if err != nil || !slices.Equal(got, want) {
		t.Fatalf("%v, %v", got, err)
	}
}
