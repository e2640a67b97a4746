package zeek

import (
	"bytes"
	"errors"
	"fmt"
	"net/netip"
	"strconv"
	"strings"
	"time"

	"github.com/spot-hunt/spot/internal/decode/dns"
	"github.com/spot-hunt/spot/internal/decode/flowrec"
	"github.com/spot-hunt/spot/internal/decode/proxy"
	"github.com/spot-hunt/spot/internal/record"
)

// mapper turns rows into records.
type mapper struct {
	times  flowrec.Times
	strs   flowrec.Interner
	frames dns.FrameTimes
	proxy  proxy.Filler
	list   []byte
}

func (m *mapper) init() {}

// conn fills a flow record from a conn.log row.
func (m *mapper) conn(r *row, f *record.Flow) error {
	ts, err := r.time(cTs)
	if err != nil {
		return err
	}
	if !r.has[cOrigH] || !r.has[cRespH] {
		return errors.New("no id.orig_h or id.resp_h")
	}
	var dur int64
	if r.has[cDuration] {
		if dur, err = seconds(r.val[cDuration]); err != nil {
			return fmt.Errorf("duration: %w", err)
		}
	}
	f.SIP = m.strs.Get(r.val[cOrigH])
	f.DIP = m.strs.Get(r.val[cRespH])
	sp, err1 := r.count(cOrigP)
	dp, err2 := r.count(cRespP)
	f.IPkt, err = r.count(cOrigPkts)
	f.IByt, _ = r.count(cOrigIPBytes)
	f.OPkt, _ = r.count(cRespPkts)
	f.OByt, _ = r.count(cRespIPBytes)
	if err = errors.Join(err1, err2, err); err != nil {
		return err
	}
	proto, ok := m.proto(r, f.SIP)
	f.Proto = proto
	switch {
	case !ok:
	case proto == "ICMP" || proto == "ICMP6":
		// Zeek logs the ICMP type as the originator's port and the code as
		// the responder's; spot, as nfdump, has type*256+code in dport.
		f.SPort, f.DPort = 0, int32(sp*256+dp)
	default:
		f.SPort, f.DPort = int32(sp), int32(dp)
	}
	if proto == "TCP" {
		f.Flag = flowrec.Flags(historyFlags(r.val[cHistory]))
	} else {
		f.Flag = flowrec.Flags(0)
	}
	m.times.Set(f, ts, ts+dur)
	f.Source = "zeek"
	return nil
}

// proto is the row's protocol as nfdump names it: from ip_proto (Zeek 6
// and later) when the log has it, else from proto (tcp, udp, icmp: ICMP6
// for an IPv6 connection); empty for unknown_transport without ip_proto.
func (m *mapper) proto(r *row, sip string) (string, bool) {
	if n, err := r.count(cIPProto); err == nil && r.has[cIPProto] && n >= 0 && n < 256 {
		return flowrec.ProtoName(uint8(n)), true
	}
	switch string(r.val[cProto]) {
	case "tcp":
		return "TCP", true
	case "udp":
		return "UDP", true
	case "icmp":
		if strings.IndexByte(sip, ':') >= 0 {
			return "ICMP6", true
		}
		return "ICMP", true
	}
	return "", false
}

// historyFlags ORs the TCP flags a conn.log history implies, both
// directions' letters alike: S a SYN, H a SYN-ACK, A an ACK, D data (sent
// with ACK), F a FIN, R a RST; other letters (checksum errors, gaps,
// retransmissions, ...) carry no flag.
func historyFlags(h []byte) uint8 {
	var f uint8
	for _, c := range h {
		switch c | 0x20 { // lower case
		case 's':
			f |= 0x02
		case 'h':
			f |= 0x12
		case 'a', 'd':
			f |= 0x10
		case 'f':
			f |= 0x01
		case 'r':
			f |= 0x04
		}
	}
	return f
}

// dns fills a DNS record from a dns.log row: a response (the client in
// ip_dst, as in a response packet) when the row saw one, else a query.
func (m *mapper) dns(r *row, d *record.DNS) error {
	ts, err := r.time(cTs)
	if err != nil {
		return err
	}
	if !r.has[cOrigH] || !r.has[cRespH] {
		return errors.New("no id.orig_h or id.resp_h")
	}
	d.Response = r.has[cRcode] || r.has[cAnswers]
	client, server := m.strs.Get(r.val[cOrigH]), m.strs.Get(r.val[cRespH])
	if d.Response {
		d.IPDst, d.IPSrc = client, server
	} else {
		d.IPDst, d.IPSrc = server, client
	}
	d.TsNs = ts
	d.UnixTstamp = floorDiv(ts, 1e9)
	d.FrameTime = m.frames.Format(ts)
	d.QryName = string(r.val[cQuery])
	if r.has[cQClass] {
		c, err := r.count(cQClass)
		if err != nil || c < 0 || c > 0xffff {
			return fmt.Errorf("qclass %q", r.val[cQClass])
		}
		d.QryClass = dns.HexClass(uint16(c))
	}
	qt, err1 := r.count(cQType)
	rc, err2 := r.count(cRcode)
	id, err3 := r.count(cTransID)
	port, err4 := r.count(cOrigP)
	if err4 == nil && port > 0xffff {
		err4 = fmt.Errorf("id.orig_p %d: not a port", port)
	}
	if err := errors.Join(err1, err2, err3, err4); err != nil {
		return err
	}
	d.QryType, d.QryRcode, d.ID, d.ClientPort = int32(qt), int32(rc), int32(id), int32(port)
	d.Transport = string(r.val[cProto])
	if d.Transport == "udp" || d.Transport == "tcp" {
		d.Transport = m.strs.Get(r.val[cProto])
	}
	var a4, a6 string
	err = r.elems(cAnswers, m.list, func(e []byte) {
		if t, ok := txtStrings(e); ok {
			e = t
		}
		s := string(e)
		d.Answers = append(d.Answers, s)
		if a4 == "" || a6 == "" {
			if ip, err := netip.ParseAddr(s); err == nil {
				if ip.Is4() && a4 == "" {
					a4 = s
				} else if ip.Is6() && a6 == "" {
					a6 = s
				}
			}
		}
	})
	if err != nil {
		return fmt.Errorf("answers: %w", err)
	}
	if d.A = a4; a4 == "" {
		d.A = a6
	}
	d.ANCount = int32(len(d.Answers))
	first := true
	err = r.elems(cTTLs, m.list, func(e []byte) {
		if first {
			first = false
			if ns, err := seconds(e); err == nil {
				d.TTL = ns / 1e9
			}
		}
	})
	return err
}

// txtStrings reads a TXT answer as Zeek writes it, each of its strings as
// "TXT <length> <string>", space-separated, and returns the strings
// joined, as tshark (and so spot, from a capture) writes a TXT record's
// data; ok is false for text not of that form.
func txtStrings(e []byte) (joined []byte, ok bool) {
	if !bytes.HasPrefix(e, []byte("TXT ")) {
		return nil, false
	}
	for len(e) > 0 {
		rest, found := bytes.CutPrefix(e, []byte("TXT "))
		sp := bytes.IndexByte(rest, ' ')
		if !found || sp < 1 {
			return nil, false
		}
		n, err := strconv.Atoi(string(rest[:sp]))
		if err != nil || n < 0 || n > len(rest)-sp-1 {
			return nil, false
		}
		joined = append(joined, rest[sp+1:sp+1+n]...)
		e = rest[sp+1+n:]
		if len(e) > 0 {
			if e[0] != ' ' {
				return nil, false
			}
			e = e[1:]
		}
	}
	return joined, true
}

// http fills a proxy record from an http.log row.
func (m *mapper) http(r *row, p *record.Proxy) error {
	ts, err := r.time(cTs)
	if err != nil {
		return err
	}
	if !r.has[cOrigH] {
		return errors.New("no id.orig_h")
	}
	str := func(c int) string {
		if !r.has[c] || len(r.val[c]) == 0 {
			return ""
		}
		return string(r.val[c])
	}
	p.ClientIP = m.strs.Get(r.val[cOrigH])
	p.ServerIP = m.strs.Get(r.val[cRespH])
	p.ReqMethod = str(cMethod)
	p.UserAgent = str(cUserAgent)
	p.Referer = str(cReferrer)
	p.Username = str(cUsername)
	if r.has[cStatusCode] {
		p.RespCode = str(cStatusCode)
	}
	_ = r.elems(cRespMIME, m.list, func(e []byte) {
		if p.ResContType == "" {
			p.ResContType = string(e)
		}
	})
	sc, err1 := r.count(cRespBodyLen)
	cs, err2 := r.count(cReqBodyLen)
	if err := errors.Join(err1, err2); err != nil {
		return err
	}
	p.SCBytes, p.CSBytes = sc, cs
	port := ""
	if r.has[cRespP] {
		port = string(r.val[cRespP])
	}
	m.proxy.URL(p, str(cHost), str(cURI), port)
	m.proxy.Finish(p, ts)
	return nil
}

// time reads a ts column: seconds since the epoch with a fraction (TSV,
// and JSON's default), or an ISO 8601 time (JSON with
// LogAscii::json_timestamps = JSON::TS_ISO8601).
func (r *row) time(c int) (int64, error) {
	if !r.has[c] {
		return 0, fmt.Errorf("no %s", colNames[c])
	}
	v := r.val[c]
	if len(v) > 0 && (v[0] >= '0' && v[0] <= '9' || v[0] == '-') && !bytes.ContainsAny(v, "T:") {
		ns, err := seconds(v)
		if err != nil {
			return 0, fmt.Errorf("%s %q: %w", colNames[c], v, err)
		}
		return ns, nil
	}
	t, err := time.Parse(time.RFC3339Nano, string(v))
	if err != nil {
		return 0, fmt.Errorf("%s %q: not a time", colNames[c], v)
	}
	return t.UnixNano(), nil
}

// count reads a count or port column; 0 when unset.
func (r *row) count(c int) (int64, error) {
	if !r.has[c] || len(r.val[c]) == 0 {
		return 0, nil
	}
	v := r.val[c]
	n := int64(0)
	for _, d := range v {
		if d < '0' || d > '9' || n > (1<<62)/10 {
			if f, err := strconv.ParseFloat(string(v), 64); err == nil && f >= 0 && f < 1<<62 && f == float64(int64(f)) {
				return int64(f), nil // JSON may write a count as 1e3
			}
			return 0, fmt.Errorf("%s %q: not a count", colNames[c], v)
		}
		n = n*10 + int64(d-'0')
	}
	return n, nil
}

// seconds reads a time or interval in seconds with up to 9 decimals ("1379288667.631940") as
// nanoseconds, exactly.
func seconds(v []byte) (int64, error) {
	neg := false
	if len(v) > 0 && v[0] == '-' {
		neg, v = true, v[1:]
	}
	if len(v) == 0 {
		return 0, errors.New("not a number")
	}
	var s, frac int64
	i := 0
	for ; i < len(v) && v[i] != '.'; i++ {
		if v[i] < '0' || v[i] > '9' || s > 1e11 {
			return secondsFloat(v, neg)
		}
		s = s*10 + int64(v[i]-'0')
	}
	scale := int64(1e9)
	if i < len(v) {
		for _, d := range v[i+1:] {
			if d < '0' || d > '9' {
				return secondsFloat(v, neg)
			}
			if scale > 1 {
				scale /= 10
				frac += int64(d-'0') * scale
			}
		}
	}
	ns := s*1e9 + frac
	if neg {
		ns = -ns
	}
	return ns, nil
}

// secondsFloat reads what seconds cannot (an exponent, as JSON writers
// may print small durations: 1.2e-05).
func secondsFloat(v []byte, neg bool) (int64, error) {
	f, err := strconv.ParseFloat(string(v), 64)
	if err != nil || f > 1e11 {
		return 0, errors.New("not a number of seconds")
	}
	if neg {
		f = -f
	}
	return int64(f * 1e9), nil
}

func floorDiv(a, b int64) int64 {
	q := a / b
	if a%b != 0 && a < 0 {
		q--
	}
	return q
}
