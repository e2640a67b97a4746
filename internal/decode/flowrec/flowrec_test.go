package flowrec

import (
	"encoding/binary"
	"math/rand/v2"
	"net/netip"
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

// TestAddrs: the cached texts are netip's, for addresses that collide in
// the caches and repeat, IPv4, IPv6 and IPv4-mapped IPv6.
func TestAddrs(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 7))
	var c Addrs
	var seen []netip.Addr
	for i := range 50000 {
		var a netip.Addr
		switch {
		case len(seen) > 0 && rng.IntN(3) == 0:
			a = seen[rng.IntN(len(seen))]
		case i%3 == 0:
			a = netip.AddrFrom4([4]byte{10, byte(rng.IntN(4)), byte(rng.IntN(256)), byte(rng.IntN(256))})
		case i%3 == 1:
			var b [16]byte
			b[0], b[1], b[15] = 0x20, 0x01, byte(rng.IntN(256))
			b[8] = byte(rng.IntN(8))
			a = netip.AddrFrom16(b)
		default:
			a = netip.AddrFrom16(netip.AddrFrom4([4]byte{192, 0, 2, byte(rng.IntN(256))}).As16())
		}
		seen = append(seen, a)
		want := a.String()
		if got := c.Addr(a); got != want {
			t.Fatalf("Addr(%v) = %q", a, got)
		}
		if a.Is4() {
			b := a.As4()
			if got := c.V4(binary.BigEndian.Uint32(b[:])); got != want {
				t.Fatalf("V4(%v) = %q", a, got)
			}
		} else if b := a.As16(); c.V6(b[:]) != want {
			t.Fatalf("V6(%v) = %q", a, c.V6(b[:]))
		}
	}
	if got := c.Addr(netip.MustParseAddr("fe80::1%eth0")); got != "fe80::1%eth0" {
		t.Errorf("zoned address: %q", got)
	}
	if got := c.Addr(netip.Addr{}); got != "" {
		t.Errorf("zero address: %q", got)
	}
}
