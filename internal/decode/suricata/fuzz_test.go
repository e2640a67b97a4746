package suricata

import (
	"bytes"
	"io"
	"path/filepath"
	"testing"

	"github.com/spot-hunt/spot/internal/record"
	"github.com/spot-hunt/spot/internal/testenv"
)

// FuzzReader decodes any input with each decoder: no panic, and every
// event is accounted for: a record, a counted skip, an event of another
// type passed over, a query left out or an answer merged into its
// response's record.
func FuzzReader(f *testing.F) {
	files, _ := filepath.Glob(testenv.Testdata(f, "suricata/*.json*"))
	for _, file := range files {
		data := testenv.ReadFile(f, file)
		lines := bytes.Split(data, []byte{'\n'})
		f.Add(bytes.Join(lines[:min(len(lines), 30)], []byte{'\n'}))
		for _, l := range lines[:min(len(lines), 20)] {
			f.Add(l)
		}
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		for _, kind := range []string{"flow", "dns", "dnsq", "http"} {
			z := NewReader(bytes.NewReader(data), "fuzz")
			z.Queries = kind == "dnsq"
			warned := int64(0)
			z.Warn = func(*LineError) { warned++ }
			var n int64
			var err error
			for i := 0; err == nil; i++ {
				switch kind {
				case "flow":
					var recs []record.Flow
					recs, err = z.ReadFlows(nil, 3)
					for _, r := range recs {
						if r.SIP == "" || r.DIP == "" || r.Proto == "" || r.Flag == "" || r.TReceived == "" {
							t.Fatalf("incomplete flow %+v", r)
						}
					}
					n += int64(len(recs))
				case "dns", "dnsq":
					var recs []record.DNS
					recs, err = z.ReadDNS(nil, 3)
					for _, r := range recs {
						if r.IPSrc == "" || r.IPDst == "" || r.FrameTime == "" || int(r.ANCount) < len(r.Answers) {
							t.Fatalf("incomplete DNS record %+v", r)
						}
					}
					n += int64(len(recs))
				case "http":
					var recs []record.Proxy
					recs, err = z.ReadProxy(nil, 3)
					for _, r := range recs {
						if r.ClientIP == "" || r.Host == "" || r.FullURI == "" || len(r.PDate) != 10 {
							t.Fatalf("incomplete proxy record %+v", r)
						}
					}
					n += int64(len(recs))
				}
				if i > len(data)+1 {
					t.Fatal("no progress")
				}
			}
			if err != io.EOF {
				t.Fatal(err)
			}
			st := z.Stats()
			passed := int64(0)
			for _, k := range st.Passed {
				passed += k
			}
			if st.Records != n || warned != st.Skipped ||
				st.Events != n+st.Skipped+passed+st.QueriesLeft+st.Merged {
				t.Fatalf("%s: %d events; %d records (%d counted), %d skipped (%d warned), %d passed, %d queries left, %d merged",
					kind, st.Events, n, st.Records, st.Skipped, warned, passed, st.QueriesLeft, st.Merged)
			}
		}
	})
}
