package proxy

import (
	"bytes"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/spot-hunt/spot/internal/record"
)

// seedLines adds each line of the fixtures (and, for W3C, the whole small
// files, headers included) to f's seed corpus.
func seedLines(f *testing.F, whole bool, names ...string) {
	for _, name := range names {
		data, err := os.ReadFile(filepath.Join(fixtures, name))
		if err != nil {
			f.Fatal(err)
		}
		if whole && len(data) < 4096 {
			f.Add(data)
		}
		for i, line := range bytes.Split(data, []byte{'\n'}) {
			if i < 40 && len(line) > 0 {
				f.Add(line)
			}
		}
	}
}

// fuzzDecode decodes data in format and checks that the decoder neither
// panics nor loses lines, and that every record is complete.
func fuzzDecode(t *testing.T, format Format, data []byte) {
	var skipped int64
	d, err := NewDecoder(bytes.NewReader(data), "fuzz", Options{Format: format, OnSkip: func(error) { skipped++ }})
	if err != nil {
		if format == Auto {
			return
		}
		t.Fatal(err)
	}
	buf := make([]record.Proxy, 3)
	var n int64
	for {
		k, err := d.Read(buf)
		for _, r := range buf[:k] {
			if r.FullURI == "" || r.PDate == "" || r.Host == "" || r.URIPath == "" || r.URIQuery == "" {
				t.Fatalf("incomplete record %+v", r)
			}
			if len(r.PDate) != 10 || len(r.PTime) != 8 {
				t.Fatalf("p_date %q p_time %q", r.PDate, r.PTime)
			}
		}
		n += int64(k)
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
	}
	lines := int64(bytes.Count(data, []byte{'\n'}) + 1)
	if n+skipped > lines || d.Skipped() != skipped {
		t.Fatalf("%d records + %d skipped > %d lines", n, skipped, lines)
	}
}

func FuzzSquid(f *testing.F) {
	seedLines(f, false, "squid-native.access.log", "metron_SquidExampleOutput.txt")
	f.Fuzz(func(t *testing.T, data []byte) { fuzzDecode(t, Squid, data) })
}

func FuzzCombined(f *testing.F) {
	seedLines(f, false, "squid-combined.access.log")
	f.Add([]byte(`10.0.0.1 - - [31/Dec/2026:22:00:00 -0330] "GET / HTTP/1.0" 200 10`))
	f.Fuzz(func(t *testing.T, data []byte) { fuzzDecode(t, Combined, data) })
}

func FuzzW3C(f *testing.F) {
	seedLines(f, true, "squid-elff.access.log", "lnav_logfile_w3c.0.log", "lnav_logfile_w3c.1.log",
		"lnav_logfile_w3c.2.log", "lnav_logfile_w3c.3.log", "lnav_logfile_w3c.4.log", "lnav_logfile_w3c.5.log")
	f.Fuzz(func(t *testing.T, data []byte) {
		// W3C lines need their header: fuzz the header and the lines together
		if !bytes.HasPrefix(data, []byte("#")) {
			data = append([]byte("#Fields: date time time-taken c-ip cs-username sc-status s-action cs-method rs(Content-Type) cs-uri-scheme cs-host cs-uri-port cs-uri-path cs(User-Agent) cs(Referer) s-ip sc-bytes cs-bytes cs-uri\n"), data...)
		}
		fuzzDecode(t, W3C, data)
	})
}

func FuzzBlueCoat(f *testing.F) {
	seedLines(f, false, "bluecoat-from-squid-elff.log")
	f.Fuzz(func(t *testing.T, data []byte) { fuzzDecode(t, BlueCoat, data) })
}

// FuzzDetect feeds anything to detection and whichever parser it picks.
func FuzzDetect(f *testing.F) {
	for _, name := range []string{"squid-native.access.log", "squid-combined.access.log", "squid-elff.access.log", "bluecoat-from-squid-elff.log", "lnav_logfile_w3c.3.log"} {
		data, err := os.ReadFile(filepath.Join(fixtures, name))
		if err != nil {
			f.Fatal(err)
		}
		lines := strings.SplitAfter(string(data), "\n")
		f.Add([]byte(strings.Join(lines[:min(6, len(lines))], "")))
	}
	f.Fuzz(func(t *testing.T, data []byte) { fuzzDecode(t, Auto, data) })
}
