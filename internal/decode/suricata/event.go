package suricata

import (
	"errors"
	"fmt"
	"strconv"

	"github.com/spot-hunt/spot/internal/decode/jsonscan"
)

// event holds what the decoders read of one EVE line: the common fields,
// unescaped, and the raw objects of the event types read.
type event struct {
	typ, ts, flowID, srcIP, destIP, proto []byte
	srcPort, destPort                     int64
	icmpType, icmpCode                    int64
	hasICMP                               bool
	flow, netflow, tcp, dns, http         []byte // raw objects
	scratch                               []byte // unescaped strings
}

var errNoType = errors.New("no event_type")

// errOther stops the reading of an event of a type not wanted.
var errOther = errors.New("event of another type")

// parse reads line, an EVE JSON object, when wants takes its event_type;
// otherwise it stops at event_type and reports other (the rest of the line
// is not read, so not checked either).
func (e *event) parse(line []byte, wants func(typ []byte) bool) (other bool, err error) {
	*e = event{scratch: e.scratch[:0]}
	var perr error
	str := func(v []byte) []byte {
		s, scratch, err := jsonscan.Unquote(e.scratch, v)
		e.scratch = scratch
		if err != nil && perr == nil {
			perr = err
		}
		return s
	}
	num := func(k, v []byte) int64 {
		n, err := integer(v)
		if err != nil && perr == nil {
			perr = fmt.Errorf("%s %q: %w", k, v, err)
		}
		return n
	}
	_, err = jsonscan.Object(line, func(k, v []byte) error {
		switch string(k) {
		case "event_type":
			e.typ = str(v)
			if perr == nil && !wants(e.typ) {
				return errOther
			}
		case "timestamp":
			e.ts = str(v)
		case "flow_id":
			e.flowID = v
		case "src_ip":
			e.srcIP = str(v)
		case "dest_ip":
			e.destIP = str(v)
		case "src_port":
			e.srcPort = num(k, v)
		case "dest_port":
			e.destPort = num(k, v)
		case "proto":
			e.proto = str(v)
		case "icmp_type":
			e.icmpType, e.hasICMP = num(k, v), true
		case "icmp_code":
			e.icmpCode = num(k, v)
		case "flow":
			e.flow = v
		case "netflow":
			e.netflow = v
		case "tcp":
			e.tcp = v
		case "dns":
			e.dns = v
		case "http":
			e.http = v
		}
		return nil
	})
	switch {
	case err == errOther:
		return true, nil
	case err != nil:
		return false, err
	case perr != nil:
		return false, perr
	case e.typ == nil:
		return false, errNoType
	}
	return false, nil
}

// integer reads a JSON number (or a number in a string, as some writers
// quote them) that must be a whole number; null is 0.
func integer(v []byte) (int64, error) {
	if len(v) >= 2 && v[0] == '"' {
		v = v[1 : len(v)-1]
	}
	if jsonscan.IsNull(v) {
		return 0, nil
	}
	var n int64
	if len(v) == 0 {
		return 0, errors.New("not a number")
	}
	for _, d := range v {
		if d < '0' || d > '9' || n > (1<<62)/10 {
			f, err := strconv.ParseFloat(string(v), 64)
			if err != nil || f < -(1<<62) || f > 1<<62 || f != float64(int64(f)) {
				return 0, errors.New("not a whole number")
			}
			return int64(f), nil
		}
		n = n*10 + int64(d-'0')
	}
	return n, nil
}

// members calls f with each member of the raw object obj (nothing when obj
// is absent or null).
func members(obj []byte, f func(k, v []byte) error) error {
	if len(obj) == 0 || jsonscan.IsNull(obj) {
		return nil
	}
	_, err := jsonscan.Object(obj, f)
	return err
}
