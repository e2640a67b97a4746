package zeek

import (
	"bytes"
	"io"
	"os"
	"path/filepath"
	"testing"

	"github.com/spot-hunt/spot/internal/record"
	"github.com/spot-hunt/spot/internal/testenv"
)

// FuzzReader decodes any input as conn, dns and http logs: no panic, and
// every data row is accounted for: a record, a counted skip, a row of
// another log passed over, or a query left out.
func FuzzReader(f *testing.F) {
	files, _ := filepath.Glob(testenv.Testdata(f, "zeek/*.log*"))
	for _, file := range files {
		data := testenv.ReadFile(f, file)
		lines := bytes.Split(data, []byte{'\n'})
		f.Add(bytes.Join(lines[:min(len(lines), 14)], []byte{'\n'}))
	}
	if data, err := os.ReadFile(testenv.Testdata(f, "zeek/zat_json_conn.log")); err == nil {
		for _, l := range bytes.Split(data, []byte{'\n'})[:5] {
			f.Add(l)
		}
	}
	f.Add([]byte("#separator \\x2c\n#fields,ts,id.orig_h,id.resp_h,proto,history\n1.5,a,b,tcp,ShADadFf\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		for _, k := range []Kind{Conn, DNS, HTTP} {
			z := NewReader(bytes.NewReader(data), "fuzz")
			z.Queries = k == DNS && len(data)%2 == 0
			var n int64
			var err error
			for i := 0; err == nil; i++ {
				switch k {
				case Conn:
					var recs []record.Flow
					recs, err = z.ReadFlows(nil, 3)
					for _, r := range recs {
						if r.SIP == "" || r.DIP == "" || r.Flag == "" || r.TReceived == "" {
							t.Fatalf("incomplete flow %+v", r)
						}
					}
					n += int64(len(recs))
				case DNS:
					var recs []record.DNS
					recs, err = z.ReadDNS(nil, 3)
					n += int64(len(recs))
				case HTTP:
					var recs []record.Proxy
					recs, err = z.ReadProxy(nil, 3)
					for _, r := range recs {
						if r.ClientIP == "" || r.FullURI == "" || len(r.PDate) != 10 {
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
			for _, p := range st.Passed {
				passed += p
			}
			if st.Records != n || st.Rows != n+st.Skipped-st.HeaderErrors+passed+st.QueriesLeft {
				t.Fatalf("%v: %d rows; %d records (%d counted), %d skipped (%d headers), %d passed, %d queries left",
					k, st.Rows, n, st.Records, st.Skipped, st.HeaderErrors, passed, st.QueriesLeft)
			}
		}
	})
}
