package score

import (
	"context"
	"io"
	"slices"

	"github.com/spot-hunt/spot/internal/detect"
	"github.com/spot-hunt/spot/internal/ioformat"
	"github.com/spot-hunt/spot/internal/record"
)

// detectors are the detectors of one kind, after their pass over the input.
type detectors struct {
	dns      *detect.DNSSet
	flows    *detect.FlowSet
	proxy    *detect.ProxySet
	findings []record.Finding
}

// The columns the detectors read, as flat records so that Parquet is read
// only in those columns.
type dnsColumns struct {
	UnixTstamp int64  `parquet:"unix_tstamp" json:"unix_tstamp"`
	FrameLen   int32  `parquet:"frame_len" json:"frame_len"`
	IPDst      string `parquet:"ip_dst" json:"ip_dst"`
	IPSrc      string `parquet:"ip_src" json:"ip_src"`
	QryName    string `parquet:"dns_qry_name" json:"dns_qry_name"`
	QryType    int32  `parquet:"dns_qry_type" json:"dns_qry_type"`
	QryRcode   int32  `parquet:"dns_qry_rcode" json:"dns_qry_rcode"`
	TsNs       int64  `parquet:"ts_ns" json:"ts_ns"`
	Response   bool   `parquet:"response" json:"response"`
}

type flowColumns struct {
	UnixTstamp int64   `parquet:"unix_tstamp" json:"unix_tstamp"`
	TDur       float32 `parquet:"tdur" json:"tdur"`
	SIP        string  `parquet:"sip" json:"sip"`
	DIP        string  `parquet:"dip" json:"dip"`
	SPort      int32   `parquet:"sport" json:"sport"`
	DPort      int32   `parquet:"dport" json:"dport"`
	Proto      string  `parquet:"proto" json:"proto"`
	Flag       string  `parquet:"flag" json:"flag"`
	IPkt       int64   `parquet:"ipkt" json:"ipkt"`
	IByt       int64   `parquet:"ibyt" json:"ibyt"`
	OPkt       int64   `parquet:"opkt" json:"opkt"`
	OByt       int64   `parquet:"obyt" json:"obyt"`
	TStartNs   int64   `parquet:"tstart_ns" json:"tstart_ns"`
	TEndNs     int64   `parquet:"tend_ns" json:"tend_ns"`
}

type proxyColumns struct {
	ClientIP  string `parquet:"clientip" json:"clientip"`
	Host      string `parquet:"host" json:"host"`
	UserAgent string `parquet:"useragent" json:"useragent"`
	SCBytes   int64  `parquet:"scbytes" json:"scbytes"`
	CSBytes   int64  `parquet:"csbytes" json:"csbytes"`
	TsNs      int64  `parquet:"ts_ns" json:"ts_ns"`
}

// Detect runs the detectors of kind over every input (rewound, so that the
// inputs can then be read again to score) and returns their state, to be
// judged (Finish), written (WriteState) or merged with other shards'.
func Detect(ctx context.Context, ins []*ioformat.Input, kind record.Kind, lim detect.Limits) (detect.Set, error) {
	set, err := detect.New(kind, lim)
	if err != nil {
		return nil, err
	}
	switch s := set.(type) {
	case *detect.DNSSet:
		err = observe(ctx, ins, func(c *dnsColumns) {
			r := record.DNS{UnixTstamp: c.UnixTstamp, FrameLen: c.FrameLen, IPDst: c.IPDst, IPSrc: c.IPSrc, QryName: c.QryName,
				QryType: c.QryType, QryRcode: c.QryRcode, TsNs: c.TsNs, Response: c.Response}
			e := detect.FromDNS(&r)
			s.Observe(&e)
		})
	case *detect.FlowSet:
		err = observe(ctx, ins, func(c *flowColumns) {
			r := record.Flow{UnixTstamp: c.UnixTstamp, TDur: c.TDur, SIP: c.SIP, DIP: c.DIP, SPort: c.SPort, DPort: c.DPort,
				Proto: c.Proto, Flag: c.Flag, IPkt: c.IPkt, IByt: c.IByt, OPkt: c.OPkt, OByt: c.OByt, TStartNs: c.TStartNs, TEndNs: c.TEndNs}
			f := detect.FromFlow(&r)
			s.Observe(&f)
		})
	case *detect.ProxySet:
		err = observe(ctx, ins, func(c *proxyColumns) {
			r := record.Proxy{ClientIP: c.ClientIP, Host: c.Host, UserAgent: c.UserAgent, SCBytes: c.SCBytes, CSBytes: c.CSBytes, TsNs: c.TsNs}
			p := detect.FromProxy(&r)
			s.Observe(&p)
		})
	}
	return set, err
}

// judge finishes a set and keeps its kind's explainer.
func judge(set detect.Set) *detectors {
	d := &detectors{findings: set.Finish()}
	switch s := set.(type) {
	case *detect.DNSSet:
		d.dns = s
	case *detect.FlowSet:
		d.flows = s
	case *detect.ProxySet:
		d.proxy = s
	}
	return d
}

// observe reads every input again from the start, only in the columns of
// C that it has, and hands each record to fn.
func observe[C any](ctx context.Context, ins []*ioformat.Input, fn func(*C)) error {
	buf := make([]C, ioformat.BatchSize)
	for _, in := range ins {
		again, err := in.Rewind()
		if err != nil {
			return err
		}
		var cols []string
		if again.Format == ioformat.Parquet {
			have := again.Columns()
			for _, c := range columnsOf[C]() {
				if slices.Contains(have, c) {
					cols = append(cols, c)
				}
			}
		}
		r, err := ioformat.NewReader[C](again, cols...)
		if err != nil {
			again.Close()
			return err
		}
		for {
			if err := ctx.Err(); err != nil {
				r.Close()
				return err
			}
			n, err := r.Read(buf)
			for i := range buf[:n] {
				fn(&buf[i])
			}
			if err == io.EOF {
				break
			}
			if err != nil {
				r.Close()
				return err
			}
		}
		r.Close()
	}
	return nil
}

func columnsOf[C any]() []string {
	var cols []string
	for _, c := range record.Columns(*new(C)) {
		cols = append(cols, c.Name)
	}
	return cols
}
