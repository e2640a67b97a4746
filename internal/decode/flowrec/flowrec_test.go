package flowrec

import (
	"math/rand/v2"
	"testing"
	"time"

	"github.com/spot-hunt/spot/internal/record"
)

// TestTimes: the time columns are time.Format's and Date's, for seconds
// in the cache and out of it, days shared and not, over the whole range of
// nanoseconds in an int64.
func TestTimes(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 5))
	var c Times
	const span = 9_223_372_035 // seconds either side of the epoch
	secs := []int64{0, -1, 86399, 86400, -86400, 1700000000, span, -span}
	for range 20000 {
		switch rng.IntN(3) {
		case 0: // near the last: same day, often same second
			secs = append(secs, secs[len(secs)-1]+rng.Int64N(5))
		case 1:
			secs = append(secs, rng.Int64N(4e9)-1e9)
		default:
			secs = append(secs, rng.Int64N(2*span)-span)
		}
	}
	for _, sec := range secs {
		ns := sec*1e9 + rng.Int64N(7e8)
		var f record.Flow
		c.Set(&f, ns, ns+1_234_567_891)
		tm := time.Unix(0, ns).UTC()
		y, mo, d := tm.Date()
		h, mi, s := tm.Clock()
		want := record.Flow{TReceived: tm.Format("2006-01-02 15:04:05"), UnixTstamp: sec,
			TrYear: int32(y), TrMonth: int32(mo), TrDay: int32(d), TrHour: int32(h), TrMinute: int32(mi), TrSec: int32(s),
			TDur: float32(1.234), TStartNs: ns, TEndNs: ns + 1_234_567_891}
		if f != want {
			t.Fatalf("second %d:\n got %+v\nwant %+v", sec, f, want)
		}
	}
}
