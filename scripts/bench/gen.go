package main

import (
	"fmt"
	"math/rand/v2"
	"net/netip"
	"os"
	"time"

	"github.com/spot-hunt/spot/internal/ioformat"
	"github.com/spot-hunt/spot/internal/record"
)

// genFlows writes n synthetic but realistic flow records to path (format
// from its extension): a few thousand internal hosts talking to a long tail
// of external ones on skewed ports, over one day. Deterministic: the same n
// gives the same file.
func genFlows(path string, n int) error {
	if exists(path) {
		return nil
	}
	w, err := ioformat.Create[record.Flow](ioformat.Dest{Path: path}, record.Flow{}.Meta())
	if err != nil {
		return err
	}
	rng := rand.New(rand.NewPCG(1, uint64(n)))
	ports := []int32{443, 80, 53, 22, 25, 123, 445, 3389, 8080, 993, 389, 1514}
	protos := []string{"TCP", "TCP", "TCP", "UDP", "UDP", "ICMP"}
	flags := []string{".AP.SF", ".A..S.", "......", ".AP...", ".A.R..", "...RS."}
	internal := func() string {
		return netip.AddrFrom4([4]byte{10, byte(rng.IntN(4)), byte(rng.IntN(16)), byte(1 + rng.IntN(250))}).String()
	}
	external := func() string {
		// Zipf-like: most traffic to few addresses.
		x := uint32(rng.ExpFloat64() * 5000)
		return netip.AddrFrom4([4]byte{byte(23 + x%180), byte(x >> 8), byte(x >> 3), byte(x)}).String()
	}
	day := time.Date(2016, 5, 5, 0, 0, 0, 0, time.UTC).UnixNano()
	batch := make([]record.Flow, 0, ioformat.BatchSize)
	for i := range n {
		t := day + int64(i)*int64(24*time.Hour)/int64(n)
		dur := rng.ExpFloat64() * 2
		tt := time.Unix(0, t).UTC()
		pkt := 1 + int64(rng.ExpFloat64()*20)
		f := record.Flow{
			TReceived: tt.Format(time.DateTime), UnixTstamp: tt.Unix(),
			TrYear: int32(tt.Year()), TrMonth: int32(tt.Month()), TrDay: int32(tt.Day()),
			TrHour: int32(tt.Hour()), TrMinute: int32(tt.Minute()), TrSec: int32(tt.Second()),
			TDur: float32(int(dur*1000)) / 1000,
			SIP:  internal(), DIP: external(),
			SPort: int32(1024 + rng.IntN(64000)), DPort: ports[min(int(rng.ExpFloat64()*2), len(ports)-1)],
			Proto: protos[rng.IntN(len(protos))], Flag: flags[rng.IntN(len(flags))],
			IPkt: pkt, IByt: pkt * int64(40+rng.IntN(1460)),
			Input: int32(rng.IntN(4)), Output: int32(rng.IntN(4)),
			RIP:      "10.219.32.250",
			TStartNs: t, TEndNs: t + int64(dur*1e9), Source: "netflow9",
		}
		if rng.IntN(2) == 0 {
			f.OPkt = 1 + int64(rng.ExpFloat64()*30)
			f.OByt = f.OPkt * int64(40+rng.IntN(1460))
		}
		f.EID = record.EID("bench", int64(i), nil)
		batch = append(batch, f)
		if len(batch) == cap(batch) {
			if err := w.Write(batch); err != nil {
				w.Abort()
				return err
			}
			batch = batch[:0]
		}
	}
	if err := w.Write(batch); err != nil {
		w.Abort()
		return err
	}
	if err := w.Close(); err != nil {
		return fmt.Errorf("generating %s: %w", path, err)
	}
	fmt.Fprintf(os.Stderr, "bench: generated %s\n", path)
	return nil
}
