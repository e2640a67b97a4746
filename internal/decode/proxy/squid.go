package proxy

import (
	"bytes"
	"fmt"

	"github.com/spot-hunt/spot/internal/record"
)

// parseSquid decodes a line of Squid's native access.log, logformat "squid":
//
//	%ts.%03tu %6tr %>a %Ss/%03>Hs %<st %rm %ru %[un %Sh/%<a %mt
//
// time (Unix seconds), elapsed ms, client, action/status, reply bytes,
// method, URL, user, hierarchy/peer address, content type. Fields after
// the tenth (log_mime_hdrs and the like) are ignored.
func (d *Decoder) parseSquid(l []byte, base int, r *record.Proxy) error {
	t := d.tok[:11]
	if n := splitFields(l, t); n < 10 {
		return fmt.Errorf("squid: %d fields, want 10", n)
	}
	f := func(i int) []byte { return l[t[i][0]:t[i][1]] }
	s := func(i int) string { return d.str(base+t[i][0], base+t[i][1]) }

	sec, nsec, ok := parseEpoch(f(0))
	if !ok {
		return fmt.Errorf("squid: bad time %q", f(0))
	}
	el, ok := atoiDash(f(1))
	if !ok {
		return fmt.Errorf("squid: bad elapsed time %q", f(1))
	}
	r.Duration = clampInt32(el)
	r.ClientIP = s(2)
	code := f(3)
	slash := bytes.IndexByte(code, '/')
	if slash < 0 {
		return fmt.Errorf("squid: bad result code %q (want ACTION/STATUS)", code)
	}
	r.Action = d.str(base+t[3][0], base+t[3][0]+slash)
	r.RespCode = d.status(base+t[3][0]+slash+1, base+t[3][1])
	if r.SCBytes, ok = atoiDash(f(4)); !ok {
		return fmt.Errorf("squid: bad byte count %q", f(4))
	}
	r.ReqMethod = s(5)
	d.setURL(r, splitURL(d.arena, base+t[6][0], base+t[6][1]))
	r.Username = s(7)
	hier := f(8)
	if k := bytes.IndexByte(hier, '/'); k >= 0 {
		r.ServerIP = d.str(base+t[8][0]+k+1, base+t[8][1])
	}
	r.ResContType = s(9)
	d.finish(r, sec, nsec)
	return nil
}

// status normalises an HTTP status at arena offsets [a, b): leading zeros
// dropped ("000" -> "0", as other formats write a missing status).
func (d *Decoder) status(a, b int) string {
	for a < b-1 && d.arena[a] == '0' {
		a++
	}
	return d.str(a, b)
}

// parseEpoch parses Unix seconds with an optional fraction ("1461576382.642").
func parseEpoch(b []byte) (sec, nsec int64, ok bool) {
	dot := bytes.IndexByte(b, '.')
	if dot < 0 {
		sec, ok = atoi(b)
		return sec, 0, ok
	}
	if sec, ok = atoi(b[:dot]); !ok {
		return 0, 0, false
	}
	nsec, ok = fraction(b[dot+1:])
	return sec, nsec, ok
}

func clampInt32(v int64) int32 {
	switch {
	case v > 1<<31-1:
		return 1<<31 - 1
	case v < -1<<31:
		return -1 << 31
	}
	return int32(v)
}
