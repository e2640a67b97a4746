package suricata

import (
	"bytes"
	"errors"
	"fmt"
	"net/netip"
	"strconv"

	"github.com/spot-hunt/spot/internal/decode/dns"
	"github.com/spot-hunt/spot/internal/decode/flowrec"
	"github.com/spot-hunt/spot/internal/decode/jsonscan"
	"github.com/spot-hunt/spot/internal/decode/proxy"
	"github.com/spot-hunt/spot/internal/record"
)

// mapper turns events into records.
type mapper struct {
	times   flowrec.Times
	strs    flowrec.Interner
	frames  dns.FrameTimes
	proxy   proxy.Filler
	scratch []byte
}

// flow fills a flow record from a flow event (both directions) or a
// netflow event (one direction).
func (m *mapper) flow(e *event, f *record.Flow) error {
	if len(e.srcIP) == 0 || len(e.destIP) == 0 {
		return errors.New("no src_ip or dest_ip")
	}
	var start, end []byte
	var err error
	counts := func(k, v []byte) error {
		var n int64
		switch string(k) {
		case "start":
			start, m.scratch, err = jsonscan.Unquote(m.scratch[:0], v)
			return err
		case "end":
			end, _, err = jsonscan.Unquote(nil, v)
			return err
		case "pkts_toserver", "pkts":
			n, err = integer(v)
			f.IPkt = n
		case "bytes_toserver", "bytes":
			n, err = integer(v)
			f.IByt = n
		case "pkts_toclient":
			n, err = integer(v)
			f.OPkt = n
		case "bytes_toclient":
			n, err = integer(v)
			f.OByt = n
		default:
			return nil
		}
		if err != nil {
			return fmt.Errorf("%s %q: %w", k, v, err)
		}
		return nil
	}
	obj := e.flow
	if string(e.typ) == "netflow" {
		obj = e.netflow
	}
	if err := members(obj, counts); err != nil {
		return fmt.Errorf("%s: %w", e.typ, err)
	}
	if start == nil {
		start = e.ts
	}
	if end == nil {
		end = start
	}
	t0, err := parseTime(start)
	if err != nil {
		return err
	}
	t1, err := parseTime(end)
	if err != nil {
		return err
	}
	f.SIP = m.strs.Get(e.srcIP)
	f.DIP = m.strs.Get(e.destIP)
	p, ok := protoNumber(e.proto)
	if !ok {
		return fmt.Errorf("proto %q: not a protocol", e.proto)
	}
	f.Proto = flowrec.ProtoName(p)
	switch {
	case p == 1 || p == 58:
		// No ports; the ICMP type and code, as nfdump writes them.
		f.SPort, f.DPort = 0, int32(e.icmpType*256+e.icmpCode)
	default:
		f.SPort, f.DPort = int32(e.srcPort), int32(e.destPort)
	}
	var flags uint8
	if p == 6 {
		err := members(e.tcp, func(k, v []byte) error {
			if string(k) == "tcp_flags" {
				s, _, _ := jsonscan.Unquote(nil, v)
				n, err := strconv.ParseUint(string(s), 16, 8)
				if err != nil {
					return fmt.Errorf("tcp_flags %q: %w", v, err)
				}
				flags = uint8(n)
			}
			return nil
		})
		if err != nil {
			return fmt.Errorf("tcp: %w", err)
		}
	}
	f.Flag = flowrec.Flags(flags)
	m.times.Set(f, t0, t1)
	f.Source = "suricata"
	return nil
}

// protoNumber reads EVE's proto: a name as Suricata writes it (TCP, UDP,
// ICMP, IPv6-ICMP, GRE, ...) or a number ("047").
func protoNumber(s []byte) (uint8, bool) {
	switch string(s) {
	case "TCP":
		return 6, true
	case "UDP":
		return 17, true
	case "ICMP":
		return 1, true
	case "IPv6-ICMP", "ICMPv6", "ICMP6":
		return 58, true
	}
	if n, err := strconv.ParseUint(string(s), 10, 8); err == nil {
		return uint8(n), true
	}
	return flowrec.ProtoNumber(string(bytes.ToUpper(s)))
}

// dnsEvent is what a dns event says.
type dnsEvent struct {
	version        int64
	typ            []byte
	id             int64
	rrname, rrtype []byte // v1/v2: the query's (v1 answers: the answer's)
	rcode          []byte
	ttl            int64
	hasTTL         bool
	rdata          []byte
	answers        []byte // raw array (v2 detailed, v3)
	grouped        []byte // raw object (v2 and v3 grouped)
	queries        []byte // raw array (v3)
}

func (d *dnsEvent) read(obj []byte, scratch *[]byte) error {
	*d = dnsEvent{}
	*scratch = (*scratch)[:0]
	str := func(v []byte) ([]byte, error) {
		s, sc, err := jsonscan.Unquote(*scratch, v)
		*scratch = sc
		return s, err
	}
	return members(obj, func(k, v []byte) error {
		var err error
		switch string(k) {
		case "version":
			d.version, err = integer(v)
		case "type":
			d.typ, err = str(v)
		case "id":
			d.id, err = integer(v)
		case "rrname":
			d.rrname, err = str(v)
		case "rrtype":
			d.rrtype, err = str(v)
		case "rcode":
			d.rcode, err = str(v)
		case "ttl":
			d.ttl, err = integer(v)
			d.hasTTL = true
		case "rdata":
			d.rdata, err = str(v)
		case "answers":
			d.answers = v
		case "grouped":
			d.grouped = v
		case "queries":
			d.queries = v
		}
		if err != nil {
			return fmt.Errorf("dns.%s: %w", k, err)
		}
		return nil
	})
}

// response tells a response (v1/v2 "answer", v3 "response") from a query
// (v1/v2 "query", v3 "request").
func (d *dnsEvent) response() (bool, error) {
	switch string(d.typ) {
	case "answer", "response":
		return true, nil
	case "query", "request":
		return false, nil
	}
	return false, fmt.Errorf("dns.type %q: neither a query nor an answer", d.typ)
}

// dnsServerPorts are the ports a DNS server answers on.
func dnsServerPort(p int64) bool { return p == 53 || p == 5353 || p == 5355 || p == 853 }

// dns fills a DNS record from a dns event d of e.
func (m *mapper) dns(e *event, d *dnsEvent, r *record.DNS) error {
	ts, err := parseTime(e.ts)
	if err != nil {
		return err
	}
	if len(e.srcIP) == 0 || len(e.destIP) == 0 {
		return errors.New("no src_ip or dest_ip")
	}
	resp, err := d.response()
	if err != nil {
		return err
	}
	// The client: a query's source. A response's source is the server in
	// EVE versions 1 and 3 (the packet's direction) and the client in
	// version 2 (the flow's); the ports decide where they tell.
	srcIsClient := !resp || d.version == 2
	switch sp, dp := dnsServerPort(e.srcPort), dnsServerPort(e.destPort); {
	case sp && !dp:
		srcIsClient = false
	case dp && !sp:
		srcIsClient = true
	}
	client, server := m.strs.Get(e.srcIP), m.strs.Get(e.destIP)
	port := e.srcPort
	if !srcIsClient {
		client, server = server, client
		port = e.destPort
	}
	if port >= 0 && port <= 0xffff {
		r.ClientPort = int32(port)
	}
	r.Response = resp
	if resp {
		r.IPDst, r.IPSrc = client, server
	} else {
		r.IPDst, r.IPSrc = server, client
	}
	r.TsNs = ts
	r.UnixTstamp = floorDiv(ts, 1e9)
	r.FrameTime = m.frames.Format(ts)
	r.ID = int32(d.id)
	switch string(e.proto) {
	case "UDP":
		r.Transport = "udp"
	case "TCP":
		r.Transport = "tcp"
	default:
		r.Transport = string(bytes.ToLower(e.proto))
	}
	name, typ := d.rrname, d.rrtype
	if len(d.queries) > 0 && !jsonscan.IsNull(d.queries) {
		first := true
		err := jsonscan.Array(d.queries, func(q []byte) error {
			if !first {
				return nil
			}
			first = false
			return members(q, func(k, v []byte) error {
				var err error
				switch string(k) {
				case "rrname":
					name, _, err = jsonscan.Unquote(nil, v)
				case "rrtype":
					typ, _, err = jsonscan.Unquote(nil, v)
				}
				return err
			})
		})
		if err != nil {
			return fmt.Errorf("dns.queries: %w", err)
		}
	}
	r.QryName = string(name)
	qt, ok := code(rrtypes, typ)
	if !ok {
		return fmt.Errorf("dns rrtype %q: unknown", typ)
	}
	r.QryType = qt
	if resp {
		rc, ok := code(rcodes, d.rcode)
		if !ok {
			return fmt.Errorf("dns rcode %q: unknown", d.rcode)
		}
		r.QryRcode = rc
	}
	if !resp {
		return nil
	}
	if d.version < 2 && (len(d.rdata) > 0 || d.hasTTL) {
		// version 1: this event is one answer record
		m.addAnswer(r, typ, d.rdata, d.ttl, d.hasTTL)
	}
	if err := m.answers(r, d); err != nil {
		return err
	}
	return nil
}

// addAnswer appends one answer record's data.
func (m *mapper) addAnswer(r *record.DNS, typ, rdata []byte, ttl int64, hasTTL bool) {
	if r.ANCount == 0 && hasTTL {
		r.TTL = ttl
	}
	r.ANCount++
	if rdata == nil {
		return
	}
	s := string(rdata)
	r.Answers = append(r.Answers, s)
	switch string(typ) {
	case "A":
		if r.A == "" || !isV4(r.A) {
			r.A = s
		}
	case "AAAA":
		// Suricata writes IPv6 addresses long (2001:0db8:0000:...); tshark,
		// and so spot, short.
		if a, err := netip.ParseAddr(s); err == nil {
			s = a.String()
			r.Answers[len(r.Answers)-1] = s
		}
		if r.A == "" {
			r.A = s
		}
	}
}

func isV4(s string) bool {
	a, err := netip.ParseAddr(s)
	return err == nil && a.Is4()
}

// answers reads a version 2 or 3 response's answers: the detailed list
// when there is one, else the grouped lists.
func (m *mapper) answers(r *record.DNS, d *dnsEvent) error {
	if len(d.answers) > 0 && !jsonscan.IsNull(d.answers) {
		err := jsonscan.Array(d.answers, func(a []byte) error {
			var typ, rdata []byte
			var ttl int64
			hasTTL := false
			err := members(a, func(k, v []byte) error {
				var err error
				switch string(k) {
				case "rrtype":
					typ, _, err = jsonscan.Unquote(nil, v)
				case "rdata":
					rdata, _, err = jsonscan.Unquote(nil, v)
				case "ttl":
					ttl, err = integer(v)
					hasTTL = true
				}
				return err
			})
			if err == nil {
				m.addAnswer(r, typ, rdata, ttl, hasTTL)
			}
			return err
		})
		if err != nil {
			return fmt.Errorf("dns.answers: %w", err)
		}
		return nil
	}
	err := members(d.grouped, func(k, v []byte) error {
		typ := bytes.Clone(k)
		if len(v) == 0 || v[0] != '[' {
			return nil
		}
		return jsonscan.Array(v, func(a []byte) error {
			var rdata []byte
			if len(a) > 0 && a[0] == '"' {
				var err error
				if rdata, _, err = jsonscan.Unquote(nil, a); err != nil {
					return err
				}
			}
			m.addAnswer(r, typ, rdata, 0, false)
			return nil
		})
	})
	if err != nil {
		return fmt.Errorf("dns.grouped: %w", err)
	}
	return nil
}

// http fills a proxy record from an http event.
func (m *mapper) http(e *event, p *record.Proxy) error {
	ts, err := parseTime(e.ts)
	if err != nil {
		return err
	}
	if len(e.srcIP) == 0 {
		return errors.New("no src_ip")
	}
	var host, url, port []byte
	err = members(e.http, func(k, v []byte) error {
		s := func() string {
			t, _, err2 := jsonscan.Unquote(nil, v)
			if err2 != nil {
				err = err2
			}
			if jsonscan.IsNull(t) {
				return ""
			}
			return string(t)
		}
		switch string(k) {
		case "hostname":
			host, _, err = jsonscan.Unquote(nil, v)
		case "url":
			url, _, err = jsonscan.Unquote(nil, v)
		case "http_port":
			port = v
		case "http_method":
			p.ReqMethod = s()
		case "http_user_agent":
			p.UserAgent = s()
		case "http_refer":
			p.Referer = s()
		case "http_content_type":
			p.ResContType = s()
		case "status":
			p.RespCode = s()
		case "length":
			p.SCBytes, err = integer(v)
		}
		if err != nil {
			return fmt.Errorf("http.%s: %w", k, err)
		}
		return nil
	})
	if err != nil {
		return err
	}
	p.ClientIP = m.strs.Get(e.srcIP)
	p.ServerIP = m.strs.Get(e.destIP)
	ps := string(port)
	if len(port) == 0 && e.destPort > 0 {
		ps = strconv.FormatInt(e.destPort, 10)
	}
	m.proxy.URL(p, string(host), string(url), ps)
	m.proxy.Finish(p, ts)
	return nil
}

func floorDiv(a, b int64) int64 {
	q := a / b
	if a%b != 0 && a < 0 {
		q--
	}
	return q
}
