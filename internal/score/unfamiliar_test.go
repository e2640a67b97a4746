package score

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	"github.com/spot-hunt/spot/internal/ioformat"
	"github.com/spot-hunt/spot/internal/lda"
	"github.com/spot-hunt/spot/internal/record"
)

// TestUnfamiliar (#20 item 7): every score path counts the events whose
// words and hosts the model knows, and a model of other traffic (other
// hours, another network) says so, where its scores were all 0 in silence.
func TestUnfamiliar(t *testing.T) {
	const n = 3000
	path, model := flowsAndModel(t, n)
	flows := readFlows(t, path)
	dir := t.TempDir()
	variant := func(name string, change func(i int, f *record.Flow)) string {
		fs := append([]record.Flow(nil), flows...)
		for i := range fs {
			change(i, &fs[i])
		}
		p := filepath.Join(dir, name+".ndjson")
		writeFlows(t, p, fs)
		return p
	}
	otherHour := func(f *record.Flow) { f.TrHour = 3 } // a flow's words hold its hour
	net := strings.NewReplacer("10.0.", "172.16.", "192.0.2.", "203.0.113.", "198.51.100.", "100.64.0.")
	otherNet := func(f *record.Flow) { f.SIP, f.DIP = net.Replace(f.SIP), net.Replace(f.DIP) }
	for _, tc := range []struct {
		name          string
		change        func(int, *record.Flow)
		words, hosts  int64
		warn, notWarn string
	}{
		{"own traffic", func(int, *record.Flow) {}, n, n, "", "knows"},
		{"other hours", func(_ int, f *record.Flow) { otherHour(f) }, 0, n, "knows none of the input's words", "hosts"},
		{"other network", func(_ int, f *record.Flow) { otherNet(f) }, n, 0, "knows none of the input's hosts: each was scored as a typical host", "words"},
		{"mostly other hours", func(i int, f *record.Flow) {
			if i%20 != 0 {
				otherHour(f)
			}
		}, n / 20, n, "knows the words of few of the input's events", "hosts"},
	} {
		ndjson := variant(strings.ReplaceAll(tc.name, " ", "-"), tc.change)
		for _, in := range []struct{ path, out string }{
			{ndjson, "scored.ndjson"},                   // streaming
			{toParquet(t, ndjson, n), "scored.parquet"}, // columnar
		} {
			for _, m := range []Method{Method(lda.Spot), Fused} {
				name := fmt.Sprintf("%s, %s to %s, %s", tc.name, filepath.Ext(in.path), in.out, m)
				input, err := ioformat.Open(in.path, nil)
				if err != nil {
					t.Fatal(err)
				}
				o := Options{Model: model, Method: m}
				st, err := Run(context.Background(), []*ioformat.Input{input}, input.Meta, ioformat.Dest{Path: filepath.Join(dir, in.out)}, o)
				if err != nil {
					t.Fatal(err)
				}
				if st.Scored != n || st.KnownWords != tc.words || st.KnownHosts != tc.hosts {
					t.Errorf("%s: scored %d, known words %d, hosts %d; want %d, %d, %d", name, st.Scored, st.KnownWords, st.KnownHosts, n, tc.words, tc.hosts)
				}
				got := fmt.Sprint(st.Unfamiliar(o))
				if tc.warn != "" && !strings.Contains(got, tc.warn) || strings.Contains(got, tc.notWarn) {
					t.Errorf("%s: warnings %s; want %q, not %q", name, got, tc.warn, tc.notWarn)
				}
			}
		}
	}
	// the share is said; under --unseen-doc zero unknown hosts score 0, and
	// the population method reads no host
	st := Stats{Scored: 1000, KnownWords: 31, KnownHosts: 0}
	if got := fmt.Sprint(st.Unfamiliar(Options{Method: Fused, Unseen: lda.UnseenZero})); !strings.Contains(got, "share 3.1%") ||
		!strings.Contains(got, "every event's topic-model score is 0 (--unseen-doc zero)") {
		t.Errorf("31 known words of 1000, no host, --unseen-doc zero: %s", got)
	}
	if got := st.Unfamiliar(Options{Method: Method(lda.Population)}); len(got) != 1 {
		t.Errorf("population: %v, want the words' warning only", got)
	}
}

func readFlows(t *testing.T, path string) []record.Flow {
	t.Helper()
	in, err := ioformat.Open(path, nil)
	if err != nil {
		t.Fatal(err)
	}
	r, err := ioformat.NewReader[record.Flow](in)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	var fs []record.Flow
	buf := make([]record.Flow, 1024)
	for {
		k, err := r.Read(buf)
		fs = append(fs, buf[:k]...)
		if err != nil {
			return fs
		}
	}
}

func writeFlows(t *testing.T, path string, fs []record.Flow) {
	t.Helper()
	w, err := ioformat.Create[record.Flow](ioformat.Dest{Path: path}, record.Flow{}.Meta())
	if err != nil {
		t.Fatal(err)
	}
	if err := w.Write(fs); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
}
