package report

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"golang.org/x/net/publicsuffix"

	"github.com/spot-hunt/spot/internal/enrich"
	"github.com/spot-hunt/spot/internal/feature"
	"github.com/spot-hunt/spot/internal/record"
)

func explanation(row *Row, e *record.Explanation) {
	row.Score, row.Topic, row.LDAScore = e.Score, e.TopTopic, e.LDAScore
	row.Detector, row.DetectorScore, row.Subject, row.Evidence = e.Detector, e.DetectorScore, e.Subject, e.Evidence
}

func verdict(row *Row, v *record.Verdict) {
	row.Country, row.Reputation, row.RepHits = v.Country, v.Reputation, v.RepHits
}

func flowTime(f *record.Flow) int64 {
	if f.TStartNs != 0 {
		return f.TStartNs
	}
	return f.UnixTstamp * 1e9
}

func flowOps(en *enrich.Enricher) ops[record.EnrichedScoredFlow, record.Flow] {
	k := ops[record.EnrichedScoredFlow, record.Flow]{
		event: func(s *record.EnrichedScoredFlow) *record.Flow { return &s.Flow },
		ts:    flowTime,
		row: func(s *record.EnrichedScoredFlow) Row {
			f := &s.Flow
			ns := flowTime(f)
			row := Row{TsNs: ns, Time: fmtTime(ns), Src: f.SIP, Dst: f.DIP, SPort: f.SPort, DPort: f.DPort, Proto: f.Proto,
				What: fmt.Sprintf("%s %d", f.Proto, f.DPort), Bytes: f.IByt + f.OByt, Packets: f.IPkt + f.OPkt,
				EID: eidText(f.EID), SrcNet: s.SrcNet, DstNet: s.DstNet}
			row.Detail = fmt.Sprintf("%s bytes in %s packets, %.3g s", count(f.IByt+f.OByt), count(f.IPkt+f.OPkt), f.TDur)
			if f.Flag != "" && strings.Trim(f.Flag, ".") != "" {
				row.Detail += ", flags " + f.Flag
			}
			explanation(&row, &s.Explanation)
			verdict(&row, &s.Verdict)
			row.Word = s.SrcWord
			if s.DstScore < s.SrcScore {
				row.Word = s.DstWord
			}
			return row
		},
		host: func(row *Row, s *record.EnrichedScoredFlow) string {
			// the side whose word is unusual for it: the flow's document
			if s.DstScore < s.SrcScore {
				return s.DIP
			}
			return s.SIP
		},
		place: func(s *record.EnrichedScoredFlow) (float64, float64) {
			if !s.DstInternal || s.SrcInternal {
				return s.DstLat, s.DstLon
			}
			return s.SrcLat, s.SrcLon
		},
		view: func(f *record.Flow) view {
			return view{ns: flowTime(f), src: f.SIP, dst: f.DIP, bytes: f.IByt + f.OByt, pkts: f.IPkt + f.OPkt}
		},
		detail: func(f *record.Flow, v *view) {
			v.item = fmt.Sprintf("%s:%d > %s:%d %s", f.SIP, f.SPort, f.DIP, f.DPort, f.Proto)
		},
		cols:  []string{"tstart_ns", "unix_tstamp", "sip", "dip", "sport", "dport", "proto", "ibyt", "obyt", "ipkt", "opkt"},
		peers: "peers (in: they reached it; out: it reached them)",
		top:   "connections (source > destination, by events)",
		unit:  "bytes",
	}
	if en != nil {
		k.enrich = func(s *record.EnrichedScoredFlow) { en.Flow(&s.Flow, &s.FlowContext) }
	}
	return k
}

func dnsTime(d *record.DNS) int64 {
	if d.TsNs != 0 {
		return d.TsNs
	}
	return d.UnixTstamp * 1e9
}

func dnsServer(d *record.DNS) string {
	if d.Response {
		return d.IPSrc
	}
	return d.IPDst
}

func dnsOps(en *enrich.Enricher) ops[record.EnrichedScoredDNS, record.DNS] {
	k := ops[record.EnrichedScoredDNS, record.DNS]{
		event: func(s *record.EnrichedScoredDNS) *record.DNS { return &s.DNS },
		ts:    dnsTime,
		row: func(s *record.EnrichedScoredDNS) Row {
			d := &s.DNS
			ns := dnsTime(d)
			client := feature.DNSDoc(d)
			row := Row{TsNs: ns, Time: fmtTime(ns), Src: client, Dst: dnsServer(d), What: d.QryName, Bytes: int64(d.FrameLen),
				EID: eidText(d.EID), SrcNet: s.ClientNet, Word: s.Word}
			typ, rc := s.QryTypeName, s.QryRcodeName
			if typ == "" {
				typ = enrich.DNSTypeName(d.QryType)
			}
			if rc == "" {
				rc = enrich.DNSRcodeName(d.QryRcode)
			}
			row.Detail = typ + " " + rc
			if d.A != "" {
				row.Detail += " " + d.A
			} else if len(d.Answers) > 0 {
				row.Detail += " " + d.Answers[0]
			}
			explanation(&row, &s.Explanation)
			verdict(&row, &s.Verdict)
			return row
		},
		host:  func(row *Row, s *record.EnrichedScoredDNS) string { return row.Src },
		place: func(s *record.EnrichedScoredDNS) (float64, float64) { return s.AnswerLat, s.AnswerLon },
		view: func(d *record.DNS) view {
			name := strings.ToLower(strings.TrimSuffix(d.QryName, "."))
			return view{ns: dnsTime(d), src: feature.DNSDoc(d), dst: registrable(name), bytes: int64(d.FrameLen), item: name}
		},
		detail: func(d *record.DNS, v *view) {
			v.detail = enrich.DNSTypeName(d.QryType) + " " + enrich.DNSRcodeName(d.QryRcode)
		},
		cols:  []string{"ts_ns", "unix_tstamp", "ip_dst", "ip_src", "response", "dns_qry_name", "dns_qry_type", "dns_qry_rcode", "frame_len"},
		peers: "domains queried (registrable domains)",
		top:   "names queried (by events)",
		unit:  "events",
	}
	if en != nil {
		k.enrich = func(s *record.EnrichedScoredDNS) { en.DNS(&s.DNS, &s.DNSContext) }
	}
	return k
}

func proxyTime(p *record.Proxy) int64 {
	if p.TsNs != 0 {
		return p.TsNs
	}
	t, err := time.Parse(timeLayout, p.PDate+" "+p.PTime)
	if err != nil {
		return 0
	}
	return t.UnixNano()
}

func proxyOps(en *enrich.Enricher) ops[record.EnrichedScoredProxy, record.Proxy] {
	k := ops[record.EnrichedScoredProxy, record.Proxy]{
		event: func(s *record.EnrichedScoredProxy) *record.Proxy { return &s.Proxy },
		ts:    proxyTime,
		row: func(s *record.EnrichedScoredProxy) Row {
			p := &s.Proxy
			ns := proxyTime(p)
			row := Row{TsNs: ns, Time: fmtTime(ns), Src: p.ClientIP, Dst: p.Host, What: p.ReqMethod + " " + p.FullURI,
				Bytes: p.SCBytes + p.CSBytes, EID: eidText(p.EID), SrcNet: s.ClientNet, Word: s.Word}
			name := s.RespCodeName
			if name == "" {
				name = enrich.HTTPStatusName(p.RespCode)
			}
			row.Detail = p.RespCode + " " + name + ", " + p.ResContType + ", " + p.UserAgent
			explanation(&row, &s.Explanation)
			verdict(&row, &s.Verdict)
			return row
		},
		host:  func(row *Row, s *record.EnrichedScoredProxy) string { return row.Src },
		place: func(s *record.EnrichedScoredProxy) (float64, float64) { return s.HostLat, s.HostLon },
		view: func(p *record.Proxy) view {
			return view{ns: proxyTime(p), src: p.ClientIP, dst: strings.ToLower(p.Host), bytes: p.SCBytes + p.CSBytes}
		},
		detail: func(p *record.Proxy, v *view) {
			v.item, v.detail, v.agent = p.FullURI, p.ReqMethod+" "+p.RespCode, p.UserAgent
		},
		cols:  []string{"ts_ns", "p_date", "p_time", "clientip", "host", "fulluri", "reqmethod", "respcode", "useragent", "scbytes", "csbytes"},
		peers: "hosts requested",
		top:   "URIs requested (by events)",
		unit:  "events",
	}
	if en != nil {
		k.enrich = func(s *record.EnrichedScoredProxy) { en.Proxy(&s.Proxy, &s.ProxyContext) }
	}
	return k
}

// registrable is a name's registrable domain by the Public Suffix List
// (the name itself when it has none).
func registrable(name string) string {
	if d, err := publicsuffix.EffectiveTLDPlusOne(name); err == nil {
		return d
	}
	return name
}

// count writes n with thousands separators.
func count(n int64) string {
	s := strconv.FormatInt(n, 10)
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	var b strings.Builder
	for i, c := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	if neg {
		return "-" + b.String()
	}
	return b.String()
}
