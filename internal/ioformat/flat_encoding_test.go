package ioformat

import (
	"bytes"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/parquet-go/parquet-go"
	"github.com/parquet-go/parquet-go/format"

	"github.com/spot-hunt/spot/internal/record"
)

// netflowLike returns n flows shaped as a NetFlow export's: columns of one
// value (interfaces, AS numbers, TOS), of a few (the hour, the seconds),
// random ones (ports, counts, event ids), first-seen times by the second;
// obyt has a few values for the first half of every row group of rg rows
// and a new one in every row after, near int64's extremes by turns (their
// differences wrap around); input is random over all 32 bits; sas holds
// the extremes of int32, opkt those of int64.
func netflowLike(rng *rand.Rand, n, rg int) []record.Flow {
	flows := make([]record.Flow, n)
	base := time.Date(2026, 11, 23, 0, 0, 0, 0, time.UTC).UnixNano()
	for i := range flows {
		f := &flows[i]
		ns := base + int64(i)*7_300_000 - rng.Int64N(30e9) // about 140 a second, out of order by up to 30 s
		t := time.Unix(0, ns).UTC()
		f.TReceived, f.UnixTstamp = t.Format("2006-01-02 15:04:05"), t.Unix()
		f.TrYear, f.TrMonth, f.TrDay = int32(t.Year()), int32(t.Month()), int32(t.Day())
		f.TrHour, f.TrMinute, f.TrSec = int32(t.Hour()), int32(t.Minute()), int32(t.Second())
		f.TStartNs, f.TEndNs = ns, ns+rng.Int64N(60e9)
		f.TDur = float32(f.TEndNs-f.TStartNs) / 1e9
		f.SIP = fmt.Sprintf("10.%d.%d.%d", rng.IntN(4), rng.IntN(256), rng.IntN(256))
		f.DIP = fmt.Sprintf("192.168.%d.%d", rng.IntN(256), rng.IntN(256))
		f.SPort, f.DPort = rng.Int32N(65536), []int32{53, 80, 443, 123}[rng.IntN(4)]
		f.Proto, f.Flag = []string{"TCP", "UDP"}[rng.IntN(2)], ".A...."
		f.IPkt, f.IByt = 1+rng.Int64N(50), 40+rng.Int64N(1<<20)
		f.OByt = int64(rng.IntN(3))
		if i%rg >= rg/2 {
			f.OByt = math.MaxInt64 - int64(i)
			if i%2 == 1 {
				f.OByt = math.MinInt64 + int64(i)
			}
		}
		f.OPkt = []int64{math.MinInt64, math.MaxInt64, 0, -1}[rng.IntN(4)]
		f.SAS = []int32{math.MinInt32, math.MaxInt32}[rng.IntN(2)]
		f.Input = int32(rng.Uint32())
		f.Output, f.DAS, f.STos, f.DTos, f.Dir, f.Fwd, f.Sampling = 3, 64512, 0, 0, 1, 0, 0
		f.RIP, f.Source = "192.0.2.1", "netflow9"
		f.EID = rng.Int64N(1 << 53)
	}
	return flows
}

// TestFlatWriterEncodings pins the encodings flatWriter chooses for a
// NetFlow export's columns (see flatWriter): RLE_DICTIONARY for integers
// and strings whose values repeat, given up mid-chunk when they stop
// repeating; DELTA_BINARY_PACKED for other integers, PLAIN where that
// would be larger; packed deltas and addresses stored uncompressed.
// parquet-go reads the records back, with the statistics and page bounds
// parquet-go writes (matchParquetGo), and so does spot's own reader.
func TestFlatWriterEncodings(t *testing.T) {
	rng := rand.New(rand.NewPCG(19, 4))
	const rg = 3000
	flows := netflowLike(rng, 4*rg+rg*3/4, rg) // the last row group's obyt gives up its dictionary too
	small := []parquet.WriterOption{parquet.PageBufferSize(4 << 10), parquet.MaxRowsPerRowGroup(rg)}
	f := matchParquetGo(t, flows, small)

	dictionary := []format.Encoding{format.Plain, format.RLEDictionary}
	deltas := []format.Encoding{format.DeltaBinaryPacked}
	want := map[string][]format.Encoding{
		"treceived": dictionary, "unix_tstamp": dictionary, "tryear": dictionary, "trhour": dictionary,
		"trminute": dictionary, "trsec": dictionary, "dport": dictionary, "output": dictionary, "das": dictionary,
		"sampling": dictionary, "sas": dictionary, "opkt": dictionary, "ipkt": dictionary,
		"sport": deltas, "ibyt": deltas, "tstart_ns": deltas, "tend_ns": deltas, "eid": deltas, "obyt": deltas,
		"input": {format.Plain}, // random over 32 bits: deltas would take 33
		"sip":   {format.DeltaLengthByteArray}, "dip": {format.DeltaLengthByteArray},
	}
	for i, g := range f.Metadata().RowGroups {
		for _, c := range g.Columns {
			md := c.MetaData
			name := md.PathInSchema[0]
			w, ok := want[name]
			if !ok {
				continue
			}
			if !slices.Equal(md.Encoding, w) {
				t.Errorf("row group %d column %s: encodings %v, want %v", i, name, md.Encoding, w)
			}
			// Packed deltas and addresses are stored as they are.
			if (slices.Equal(w, deltas) || name == "sip" || name == "dip") && md.TotalCompressedSize != md.TotalUncompressedSize {
				t.Errorf("row group %d column %s: %d bytes compressed, %d uncompressed", i, name, md.TotalCompressedSize, md.TotalUncompressedSize)
			}

		}
	}

	// spot's reader
	path := filepath.Join(t.TempDir(), "flows.parquet")
	writeWith(t, path, flows, small)
	in, err := Open(path, nil)
	if err != nil {
		t.Fatal(err)
	}
	same(t, "spot's reader", flows, readAll[record.Flow](t, in))
}

// TestDuckDBReadsFlatEncodings: DuckDB reads every value of a file of the
// encodings TestFlatWriterEncodings pins.
func TestDuckDBReadsFlatEncodings(t *testing.T) {
	rng := rand.New(rand.NewPCG(19, 5))
	flows := netflowLike(rng, 2*3000+500, 3000)
	slices.SortFunc(flows, func(a, b record.Flow) int { return int(a.EID - b.EID) }) // DuckDB's rows are read in eid order
	path := filepath.Join(t.TempDir(), "flows.parquet")
	writeWith(t, path, flows, []parquet.WriterOption{parquet.PageBufferSize(4 << 10), parquet.MaxRowsPerRowGroup(3000)})
	checkEngine(t, path, flows)
}

// writeWith writes flows to path through flatWriter with extra options.
func writeWith(t *testing.T, path string, flows []record.Flow, extra []parquet.WriterOption) {
	t.Helper()
	var buf bytes.Buffer
	w, ok := newFlatWriter[record.Flow](newOutput(&buf, ""), append(ParquetOptions(record.Flow{}.Meta()), extra...))
	if !ok {
		t.Fatal("not written by flatWriter")
	}
	if err := w.Write(flows); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
}
