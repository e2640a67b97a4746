package ioformat

import (
	"io"
	"math/rand/v2"
	"path/filepath"
	"reflect"
	"testing"

	"github.com/spot-hunt/spot/internal/record"
)

// dnsBeforeClientPort is record.DNS as spot wrote it before the
// client_port column.
type dnsBeforeClientPort struct {
	FrameTime  string   `parquet:"frame_time"`
	UnixTstamp int64    `parquet:"unix_tstamp"`
	FrameLen   int32    `parquet:"frame_len"`
	IPDst      string   `parquet:"ip_dst"`
	IPSrc      string   `parquet:"ip_src"`
	QryName    string   `parquet:"dns_qry_name"`
	QryClass   string   `parquet:"dns_qry_class"`
	QryType    int32    `parquet:"dns_qry_type"`
	QryRcode   int32    `parquet:"dns_qry_rcode"`
	A          string   `parquet:"dns_a"`
	TsNs       int64    `parquet:"ts_ns"`
	ID         int32    `parquet:"dns_id"`
	Response   bool     `parquet:"response"`
	Transport  string   `parquet:"transport"`
	Answers    []string `parquet:"answers,list"`
	ANCount    int32    `parquet:"ancount"`
	TTL        int64    `parquet:"ttl"`
	Frame      int64    `parquet:"frame"`
	Tunnel     string   `parquet:"tunnel"`
	EID        int64    `parquet:"eid"`
}

// TestDNSParquetBeforeClientPort: DNS Parquet written before the
// client_port column reads, whole or a few columns at a time, with every
// other field as written and the port 0 (unknown).
func TestDNSParquetBeforeClientPort(t *testing.T) {
	if _, ok := reflect.TypeOf(record.DNS{}).FieldByName("ClientPort"); !ok {
		t.Fatal("record.DNS has no ClientPort")
	}
	old := random[dnsBeforeClientPort](rand.New(rand.NewPCG(15, 1)), 300)
	path := filepath.Join(t.TempDir(), "old.parquet")
	w, err := Create[dnsBeforeClientPort](Dest{Path: path}, record.DNS{}.Meta())
	if err != nil {
		t.Fatal(err)
	}
	if err := w.Write(old); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	for _, cols := range [][]string{nil, {"ip_dst", "client_port", "ts_ns", "dns_qry_name"}} {
		in, err := Open(path, nil)
		if err != nil {
			t.Fatal(err)
		}
		r, err := NewReader[record.DNS](in, cols...)
		if err != nil {
			t.Fatalf("columns %v: %v", cols, err)
		}
		buf := make([]record.DNS, 1000)
		n, err := r.Read(buf)
		if err != nil && err != io.EOF {
			t.Fatal(err)
		}
		r.Close()
		if n != len(old) {
			t.Fatalf("columns %v: read %d records, wrote %d", cols, n, len(old))
		}
		for i, o := range old {
			g := buf[i]
			if g.ClientPort != 0 {
				t.Fatalf("columns %v: record %d: client_port %d, want 0", cols, i, g.ClientPort)
			}
			if g.IPDst != o.IPDst || g.TsNs != o.TsNs || g.QryName != o.QryName {
				t.Fatalf("columns %v: record %d: %+v, wrote %+v", cols, i, g, o)
			}
			if cols == nil && (g.EID != o.EID || g.Tunnel != o.Tunnel || len(g.Answers) != len(o.Answers) || g.Response != o.Response) {
				t.Fatalf("record %d: %+v, wrote %+v", i, g, o)
			}
		}
	}
}
