package score

import (
	"bytes"
	"context"
	"fmt"
	"path/filepath"
	"runtime"
	"testing"

	"github.com/spot-hunt/spot/internal/detect"
	"github.com/spot-hunt/spot/internal/ioformat"
	"github.com/spot-hunt/spot/internal/record"
)

// hiveFlow is a flow file of Spot's Hive table: no tstart_ns, tend_ns.
type hiveFlow struct {
	UnixTstamp int64   `parquet:"unix_tstamp"`
	TDur       float32 `parquet:"tdur"`
	SIP        string  `parquet:"sip"`
	DIP        string  `parquet:"dip"`
	SPort      int32   `parquet:"sport"`
	DPort      int32   `parquet:"dport"`
	Proto      string  `parquet:"proto"`
	Flag       string  `parquet:"flag"`
	IPkt       int64   `parquet:"ipkt"`
	IByt       int64   `parquet:"ibyt"`
	OPkt       int64   `parquet:"opkt"`
	OByt       int64   `parquet:"obyt"`
}

// nullFlow has them, null where unknown, as DuckDB writes them.
type nullFlow struct {
	hiveFlow
	TStartNs *int64 `parquet:"tstart_ns,optional"`
	TEndNs   *int64 `parquet:"tend_ns,optional"`
}

// The detectors' pass over Parquet, read column by column into their
// events, leaves the state its pass over the same records in NDJSON
// (read as records) leaves: flows with and without tstart_ns (zero, null
// or no such column: times from unix_tstamp and tdur), DNS queries and
// responses with and without ts_ns, one file or a Parquet and an NDJSON
// file in one pass.
func TestDetectColumnsAsRecords(t *testing.T) {
	dir := t.TempDir()
	t0 := int64(1_700_000_000)
	var fs []record.Flow
	var hive []hiveFlow
	var nulls []nullFlow
	for i := range (detect.InFlight + 4) * ioformat.BatchSize { // batches are used again
		h := hiveFlow{UnixTstamp: t0 + int64(i)/7, TDur: float32(i%13) / 4,
			SIP: fmt.Sprintf("10.0.%d.%d", i%3, i%5), DIP: fmt.Sprintf("198.51.100.%d", i%40),
			SPort: int32(40000 + i%7), DPort: int32([]int{443, 53, 22, 8080}[i%4] + i%900/300), Proto: [...]string{"TCP", "UDP", "ICMP"}[i%3],
			Flag: [...]string{"......S.", ".A..S...", ".AP.SF"}[i%3], IPkt: int64(1 + i%5), IByt: int64(60 + i%4000), OPkt: int64(i % 3), OByt: int64(i % 7 * 100)}
		f := record.Flow{UnixTstamp: h.UnixTstamp, TDur: h.TDur, SIP: h.SIP, DIP: h.DIP, SPort: h.SPort, DPort: h.DPort, Proto: h.Proto,
			Flag: h.Flag, IPkt: h.IPkt, IByt: h.IByt, OPkt: h.OPkt, OByt: h.OByt}
		n := nullFlow{hiveFlow: h}
		if i%3 != 0 {
			start, end := h.UnixTstamp*1e9+int64(i%1000)*1e6, h.UnixTstamp*1e9+int64(i%1777)*1e6
			f.TStartNs, f.TEndNs, n.TStartNs, n.TEndNs = start, end, &start, &end
		}
		fs, hive, nulls = append(fs, f), append(hive, h), append(nulls, n)
	}
	var noTimes []record.Flow
	for _, f := range fs {
		f.TStartNs, f.TEndNs = 0, 0
		noTimes = append(noTimes, f)
	}
	var ds []record.DNS
	for i := range (detect.InFlight + 4) * ioformat.BatchSize {
		d := record.DNS{UnixTstamp: t0 + int64(i)/5, FrameLen: int32(60 + i%300), IPDst: fmt.Sprintf("10.1.0.%d", i%9),
			IPSrc: fmt.Sprintf("192.0.2.%d", i%4), QryName: fmt.Sprintf("%x.t%d.example.com", i*7919, i%3), QryType: []int32{1, 16, 28}[i%3],
			QryRcode: int32(i % 4 / 3 * 3), Response: i%2 == 1, A: fmt.Sprintf("203.0.113.%d", i%50)}
		if i%5 != 0 {
			d.TsNs = d.UnixTstamp*1e9 + int64(i)*1e3
		}
		ds = append(ds, d)
	}
	state := func(kind record.Kind, paths ...string) []byte {
		t.Helper()
		var ins []*ioformat.Input
		for _, p := range paths {
			ins = append(ins, openFile(t, p))
		}
		s, err := Detect(context.Background(), ins, kind, detect.Limits{}, nil)
		if err != nil {
			t.Fatal(err)
		}
		var b bytes.Buffer
		if err := s.WriteState(&b); err != nil {
			t.Fatal(err)
		}
		return b.Bytes()
	}
	path := func(name string) string { return filepath.Join(dir, name) }
	write(t, path("flows.parquet"), record.Flow{}.Meta(), fs)
	write(t, path("flows.ndjson"), record.Flow{}.Meta(), fs)
	write(t, path("a.parquet"), record.Flow{}.Meta(), fs[:len(fs)/3])
	write(t, path("b.ndjson"), record.Flow{}.Meta(), fs[len(fs)/3:])
	write(t, path("nulls.parquet"), record.Flow{}.Meta(), nulls)
	write(t, path("hive.parquet"), record.Flow{}.Meta(), hive)
	write(t, path("no-times.ndjson"), record.Flow{}.Meta(), noTimes)
	write(t, path("dns.parquet"), record.DNS{}.Meta(), ds)
	write(t, path("dns.ndjson"), record.DNS{}.Meta(), ds)
	for _, c := range []struct {
		kind        record.Kind
		read, as    []string
		differently bool
	}{
		{record.KindFlow, []string{"flows.parquet"}, []string{"flows.ndjson"}, false},
		{record.KindFlow, []string{"a.parquet", "b.ndjson"}, []string{"flows.ndjson"}, false},
		{record.KindFlow, []string{"nulls.parquet"}, []string{"flows.ndjson"}, false},
		{record.KindFlow, []string{"hive.parquet"}, []string{"no-times.ndjson"}, false},
		{record.KindFlow, []string{"hive.parquet"}, []string{"flows.ndjson"}, true}, // the test can tell
		{record.KindDNS, []string{"dns.parquet"}, []string{"dns.ndjson"}, false},
	} {
		var read, as []string
		for _, p := range c.read {
			read = append(read, path(p))
		}
		for _, p := range c.as {
			as = append(as, path(p))
		}
		got, want := state(c.kind, read...), state(c.kind, as...)
		if bytes.Equal(got, want) == c.differently {
			t.Errorf("%v read as %v: the states are equal: %v", c.read, c.as, !c.differently)
		}
	}
}

// The DNS detectors' pass over Parquet, whose reader lends the strings of
// the batches in flight, leaves the state its pass over NDJSON leaves, as
// TestDetectLentStrings has it for flows: on one CPU, so that as many
// batches are in flight as may be, over many pages of new names, clients
// and servers (the detectors clone what they keep: a names cache that
// keeps the name it was lent fails it).
func TestDetectDNSLentStrings(t *testing.T) {
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(1))
	var ds []record.DNS
	t0 := int64(1_700_000_000)
	for i := range 60 * ioformat.BatchSize {
		ds = append(ds, record.DNS{UnixTstamp: t0 + int64(i)/40, TsNs: (t0+int64(i)/40)*1e9 + int64(i), FrameLen: 90,
			IPDst: fmt.Sprintf("10.%d.%d.%d", i>>16&255, i>>8&255, i&255), IPSrc: fmt.Sprintf("192.0.%d.%d", i>>8&3, i&255),
			QryName: fmt.Sprintf("h%d.x%d.example%d.com", i, i%977, i%13), QryType: 1, Response: i%3 != 0,
			A: fmt.Sprintf("203.0.%d.%d", i>>8&255, i&255)})
	}
	dir := t.TempDir()
	state := func(name string) []byte {
		path := filepath.Join(dir, name)
		write(t, path, record.DNS{}.Meta(), ds)
		s, err := Detect(context.Background(), []*ioformat.Input{openFile(t, path)}, record.KindDNS, detect.Limits{}, nil)
		if err != nil {
			t.Fatal(err)
		}
		var b bytes.Buffer
		if err := s.WriteState(&b); err != nil {
			t.Fatal(err)
		}
		return b.Bytes()
	}
	if lent, given := state("dns.parquet"), state("dns.ndjson"); !bytes.Equal(lent, given) {
		t.Errorf("the state read from Parquet (%d bytes) differs from the state read from NDJSON (%d bytes)", len(lent), len(given))
	}
}
