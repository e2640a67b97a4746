package score

import (
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/spot-hunt/spot/internal/detect"
	"github.com/spot-hunt/spot/internal/ioformat"
	"github.com/spot-hunt/spot/internal/record"
)

// TestReadContacts: flow records of any format give the (client, address)
// pairs the detectors' Contacts get from each flow, with the flows
// without two addresses, those of DNS and the malformed lines counted, and
// a warning for the flows left out; other records, a cancelled run and a
// read that fails are errors.
func TestReadContacts(t *testing.T) {
	path, _ := flowsAndModel(t, 3000)
	flows := readFlows(t, path)
	flows[7].DIP = ""          // no two addresses
	flows[8].SIP = "not an ip" // nor here
	flows[9].DPort, flows[9].Proto = 53, "UDP"
	dir := t.TempDir()
	nd := filepath.Join(dir, "flows.ndjson")
	writeFlows(t, nd, flows)
	pq := toParquet(t, nd, len(flows))
	want := detect.NewContacts(0)
	for i := range flows {
		want.AddFlow(&flows[i])
	}
	want.Seal()
	if want.Skipped != 2 || want.DNS < 1 {
		t.Fatalf("test data: %d skipped, %d DNS", want.Skipped, want.DNS)
	}
	data, err := os.ReadFile(nd)
	if err != nil {
		t.Fatal(err)
	}
	bad := filepath.Join(dir, "bad.ndjson")
	at := bytes.IndexByte(data, '\n') + 1
	if err := os.WriteFile(bad, append(append(data[:at:at], "{oops\n"...), data[at:]...), 0o644); err != nil {
		t.Fatal(err)
	}

	var logged bytes.Buffer
	defer slog.SetDefault(slog.Default())
	slog.SetDefault(slog.New(slog.NewTextHandler(&logged, nil)))
	for _, c := range []struct {
		paths     []string
		malformed int64
	}{{[]string{nd}, 0}, {[]string{pq}, 0}, {[]string{bad}, 1}, {[]string{pq, nd}, 0}} {
		var ins []*ioformat.Input
		for _, p := range c.paths {
			ins = append(ins, openFile(t, p))
		}
		logged.Reset()
		got, err := ReadContacts(context.Background(), ins, 0)
		if err != nil {
			t.Fatal(err)
		}
		k := int64(len(c.paths))
		if got.Records != k*want.Records || got.DNS != k*want.DNS || got.Skipped != k*want.Skipped || got.Len() != want.Len() || got.Malformed != c.malformed {
			t.Errorf("%v: %d records, %d DNS, %d skipped, %d pairs, %d malformed; want %d, %d, %d, %d, %d", c.paths, got.Records, got.DNS, got.Skipped, got.Len(), got.Malformed,
				k*want.Records, k*want.DNS, k*want.Skipped, want.Len(), c.malformed)
		}
		if !strings.Contains(logged.String(), "flow records without two addresses left out") {
			t.Errorf("%v: no warning of the flows left out: %s", c.paths, logged.String())
		}
	}
	clean := append([]record.Flow(nil), flows[10:]...)
	cleanPath := filepath.Join(dir, "clean.ndjson")
	writeFlows(t, cleanPath, clean)
	logged.Reset()
	if _, err := ReadContacts(context.Background(), []*ioformat.Input{openFile(t, cleanPath)}, 0); err != nil || strings.Contains(logged.String(), "without two addresses") {
		t.Errorf("no flow left out: %v, %s", err, logged.String())
	}

	dnsPath := write(t, filepath.Join(dir, "dns.ndjson"), record.DNS{}.Meta(), []record.DNS{{IPDst: "10.0.0.1", QryName: "a.example"}})
	if _, err := ReadContacts(context.Background(), []*ioformat.Input{openFile(t, nd), openFile(t, dnsPath)}, 0); err == nil ||
		!strings.Contains(err.Error(), "dns.ndjson holds dns events records") || !strings.Contains(err.Error(), "contacts are flows") {
		t.Errorf("DNS records as contacts: %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := ReadContacts(ctx, []*ioformat.Input{openFile(t, nd)}, 0); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled: %v", err)
	}
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	zw.Write(data)
	zw.Close()
	cut := filepath.Join(dir, "cut.ndjson.gz")
	if err := os.WriteFile(cut, gz.Bytes()[:gz.Len()/2], 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := ReadContacts(context.Background(), []*ioformat.Input{openFile(t, cut)}, 0); err == nil {
		t.Error("a truncated gzip file read without error")
	}
}
