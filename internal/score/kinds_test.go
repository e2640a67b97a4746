package score

import (
	"context"
	"fmt"
	"math"
	"path/filepath"
	"reflect"
	"testing"

	"github.com/spot-hunt/spot/internal/feature"
	"github.com/spot-hunt/spot/internal/ioformat"
	"github.com/spot-hunt/spot/internal/lda"
	"github.com/spot-hunt/spot/internal/record"
)

// DNS and proxy events, and featurized ones, through Run with Apache
// Spot's method: every kept event scored as the lda package's scorer
// scores its (document, word), Spot's rejected rows counted by reason, the
// events whose word and host the model knows counted, and progress told of
// every line. (These came from mutants of run.go no test noticed.)

func write[T any](t *testing.T, path string, meta record.Meta, rs []T) string {
	t.Helper()
	w, err := ioformat.Create[T](ioformat.Dest{Path: path}, meta)
	if err != nil {
		t.Fatal(err)
	}
	if err := w.Write(rs); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return path
}

func read[T any](t *testing.T, path string) []T {
	t.Helper()
	in, err := ioformat.Open(path, nil)
	if err != nil {
		t.Fatal(err)
	}
	r, err := ioformat.NewReader[T](in)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	var out []T
	buf := make([]T, 512)
	for {
		k, err := r.Read(buf)
		out = append(out, buf[:k]...)
		if err != nil {
			return out
		}
	}
}

// trained is a model of pairs, written to dir, with its scorer.
func trained(t *testing.T, dir string, kind record.Kind, fz *feature.Featurizer, pairs [][2]string) (string, *lda.Scorer) {
	t.Helper()
	b := lda.NewBuilder()
	for _, p := range pairs {
		b.Add(p[0], p[1], 1)
	}
	m, err := lda.Train(context.Background(), b.Build(), lda.Settings{Topics: 3, Alpha: 1.02, Beta: 1.001, Iterations: 5, Seed: 1}, nil)
	if err != nil {
		t.Fatal(err)
	}
	m.Kind = string(kind)
	m.Features = fz.Settings()
	path := filepath.Join(dir, string(kind)+".model")
	if err := m.WriteFile(path); err != nil {
		t.Fatal(err)
	}
	s, err := lda.NewScorer(m, lda.Spot, lda.UnseenMean)
	if err != nil {
		t.Fatal(err)
	}
	return path, s
}

func run(t *testing.T, path, model string, progress func(int)) Stats {
	t.Helper()
	in, err := ioformat.Open(path, nil)
	if err != nil {
		t.Fatal(err)
	}
	st, err := Run(context.Background(), []*ioformat.Input{in}, in.Meta, ioformat.Dest{Path: path + ".scored.ndjson"},
		Options{Model: model, Method: Method(lda.Spot), Progress: progress})
	if err != nil {
		t.Fatal(err)
	}
	return st
}

func TestRunDNS(t *testing.T) {
	dir := t.TempDir()
	fz := feature.New(record.KindDNS, feature.Options{})
	var events []record.DNS
	var pairs [][2]string
	for i := range 300 {
		e := record.DNS{FrameTime: fmt.Sprintf("Jul 13, 2016 %02d:45:03.000000000 UTC", i%5), UnixTstamp: 1468403103, FrameLen: int32(80 + i%40),
			IPDst: fmt.Sprintf("10.0.0.%d", i%9), IPSrc: "10.0.0.53", QryName: fmt.Sprintf("h%d.example%d.com", i%17, i%3), QryType: 1, Response: true}
		if i%50 == 7 {
			e.QryName = "" // Spot's filter: no dns_qry_name
		}
		if i >= 250 {
			e.FrameTime = "Jul 13, 2016 20:45:03.000000000 UTC" // an hour the model never saw: unknown words
		}
		events = append(events, e)
		if i < 200 && e.QryName != "" { // the model knows the first 200 events' words and hosts
			pairs = append(pairs, [2]string{feature.DNSDoc(&e), fz.DNSWord(&e)})
		}
	}
	model, scorer := trained(t, dir, record.KindDNS, fz, pairs)
	var kept []record.FeaturizedDNS
	var words, hosts int64
	for i := range events {
		e := &events[i]
		if feature.DNSReject(e) != "" {
			continue
		}
		f := record.FeaturizedDNS{DNS: *e, Doc: feature.DNSDoc(e), Word: fz.DNSWord(e)}
		kept = append(kept, f)
		if scorer.Word(f.Word) >= 0 {
			words++
		}
		if scorer.Doc(f.Doc) >= 0 {
			hosts++
		}
	}
	if words == int64(len(kept)) || hosts != int64(len(kept)) {
		t.Fatalf("test data: %d of %d words known (want some unknown), %d hosts", words, len(kept), hosts)
	}
	evPath := write(t, filepath.Join(dir, "dns.ndjson"), record.DNS{}.Meta(), events)
	fzPath := write(t, filepath.Join(dir, "dns.featurized.ndjson"), record.FeaturizedDNS{}.Meta(), kept)
	for _, path := range []string{evPath, fzPath} {
		told := 0
		st := run(t, path, model, func(n int) { told += n })
		wantRejected := int64(len(events) - len(kept))
		if path == fzPath {
			wantRejected = 0
		}
		if st.Scored != int64(len(kept)) || st.KnownWords != words || st.KnownHosts != hosts || st.Rejected != wantRejected ||
			wantRejected > 0 && !reflect.DeepEqual(st.Reasons, map[string]int64{"no dns_qry_name": wantRejected}) {
			t.Errorf("%s: %+v; want %d scored, %d known words, %d hosts, %d rejected", filepath.Base(path), st, len(kept), words, hosts, wantRejected)
		}
		if want := len(events); path == fzPath && told != len(kept) || path == evPath && told != want {
			t.Errorf("%s: progress told %d", filepath.Base(path), told)
		}
		got := read[record.ScoredDNS](t, path+".scored.ndjson")
		if len(got) != len(kept) {
			t.Fatalf("%s: %d rows, want %d", filepath.Base(path), len(got), len(kept))
		}
		for i, r := range got {
			want := scorer.Score(kept[i].Doc, kept[i].Word).Score
			if r.Word != kept[i].Word || r.Doc != kept[i].Doc || math.Abs(r.Score-want) > 1e-12 {
				t.Errorf("%s row %d: (%s, %s) %v, want (%s, %s) %v", filepath.Base(path), i, r.Doc, r.Word, r.Score, kept[i].Doc, kept[i].Word, want)
				break
			}
		}
	}
}

func TestRunProxy(t *testing.T) {
	dir := t.TempDir()
	var lines []record.Proxy
	agents := []string{"curl/8.0", "Mozilla/5.0", "", "Mozilla/5.0"}
	for i := range 2*ioformat.BatchSize + 300 {
		p := record.Proxy{PDate: "2016-07-13", PTime: fmt.Sprintf("%02d:10:00", i%3), ClientIP: fmt.Sprintf("10.0.0.%d", i%11),
			Host: fmt.Sprintf("www.site%d.com", i%5), FullURI: fmt.Sprintf("http://www.site%d.com/%d", i%5, i%13), ReqMethod: "GET",
			UserAgent: agents[i%4], RespCode: "200"}
		if i%400 == 9 {
			p.Host = "" // Spot's filter: no host
		}
		lines = append(lines, p)
	}
	ua := feature.UserAgentCounts(lines)
	for _, withAgents := range []bool{false, true} {
		opts := feature.Options{}
		if withAgents {
			opts.UserAgents = ua
		}
		fz := feature.New(record.KindProxy, opts)
		var kept []record.FeaturizedProxy
		var pairs [][2]string
		for i := range lines {
			p := &lines[i]
			if feature.ProxyReject(p) != "" {
				continue
			}
			f := record.FeaturizedProxy{Proxy: *p, Doc: p.ClientIP, Word: fz.ProxyWord(p, ua[feature.ProxyAgent(p)])}
			kept = append(kept, f)
			pairs = append(pairs, [2]string{f.Doc, f.Word})
		}
		model, scorer := trained(t, dir, record.KindProxy, fz, pairs)
		evPath := write(t, filepath.Join(dir, fmt.Sprint("proxy", withAgents, ".ndjson")), record.Proxy{}.Meta(), lines)
		fzPath := write(t, filepath.Join(dir, fmt.Sprint("proxy", withAgents, ".featurized.ndjson")), record.FeaturizedProxy{}.Meta(), kept)
		for _, path := range []string{evPath, fzPath} {
			told := 0
			st := run(t, path, model, func(n int) { told += n })
			wantRejected, wantTold := int64(len(lines)-len(kept)), len(lines)
			if path == fzPath {
				wantRejected, wantTold = 0, len(kept)
			}
			if st.Scored != int64(len(kept)) || st.KnownWords != int64(len(kept)) || st.KnownHosts != int64(len(kept)) || st.Rejected != wantRejected ||
				wantRejected > 0 && st.Reasons["no host"] != wantRejected || told != wantTold {
				t.Errorf("%s: %+v, progress %d; want %d scored and known, %d rejected, progress %d", filepath.Base(path), st, told, len(kept), wantRejected, wantTold)
			}
			got := read[record.ScoredProxy](t, path+".scored.ndjson")
			if len(got) != len(kept) {
				t.Fatalf("%s: %d rows, want %d", filepath.Base(path), len(got), len(kept))
			}
			for i, r := range got {
				want := scorer.Score(kept[i].Doc, kept[i].Word).Score
				if r.Word != kept[i].Word || math.Abs(r.Score-want) > 1e-12 {
					t.Errorf("%s row %d: %s %v, want %s %v", filepath.Base(path), i, r.Word, r.Score, kept[i].Word, want)
					break
				}
			}
		}
	}
}
