package main

import (
	"bufio"
	"compress/gzip"
	"encoding/csv"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/spot-hunt/spot/internal/feature"
	"github.com/spot-hunt/spot/internal/record"
	"github.com/spot-hunt/spot/scripts/eval/gen"
)

// datasets builds every dataset the corpus and testdata/eval provide.
func datasets(c *Config) ([]*dataset, error) {
	var out []*dataset
	dns, err := dnsperf(c)
	if err != nil {
		return nil, err
	}
	out = append(out, dns...)
	flows, err := ndpiFlows(c)
	if err != nil {
		return nil, err
	}
	out = append(out, flows...)
	made, err := generated(c)
	if err != nil {
		return nil, err
	}
	out = append(out, made...)
	zeek, err := zeekMixes(c)
	if err != nil {
		return nil, err
	}
	return append(out, zeek...), nil
}

// newDNS writes labelled DNS events as a dataset.
func newDNS(c *Config, name string, recs []record.DNS, labels []string) (*dataset, error) {
	d := &dataset{name: name, kind: record.KindDNS, path: filepath.Join(c.Work, name+".parquet"), labels: map[int64]string{}}
	for i, r := range recs {
		if _, dup := d.labels[r.EID]; dup {
			return nil, fmt.Errorf("%s: duplicate event id %d", name, r.EID)
		}
		d.labels[r.EID] = labels[i]
		if feature.DNSReject(&recs[i]) != "" {
			d.rejected++
			continue
		}
		// the baseline: long, high-entropy question names first
		n := r.QryName
		d.baseline = append(d.baseline, point{score: -float64(len(n)) * feature.Entropy(n), eid: r.EID, label: labels[i]})
	}
	return d, writeAll(d.path, record.DNS{}.Meta(), recs)
}

// newFlows writes labelled flows as a dataset. Events labelled
// gen.Unknown are written and scored but not measured.
func newFlows(c *Config, name string, recs []record.Flow, labels []string) (*dataset, error) {
	d := &dataset{name: name, kind: record.KindFlow, path: filepath.Join(c.Work, name+".parquet"), labels: map[int64]string{}, unknown: map[int64]bool{}}
	for i, r := range recs {
		if _, dup := d.labels[r.EID]; dup || d.unknown[r.EID] {
			return nil, fmt.Errorf("%s: duplicate event id %d", name, r.EID)
		}
		if labels[i] == gen.Unknown {
			d.unknown[r.EID] = true
		} else {
			d.labels[r.EID] = labels[i]
		}
		if feature.FlowReject(&recs[i]) != "" {
			d.rejected++
			continue
		}
		if labels[i] == gen.Unknown {
			continue
		}
		// the baseline: bytes sent, small flows first (scans, probes)
		d.baseline = append(d.baseline, point{score: float64(r.IByt), eid: r.EID, label: labels[i]})
	}
	return d, writeAll(d.path, record.Flow{}.Meta(), recs)
}

// ---- dnsperf: the corpus's labelled dnsperf -> NSD capture ----

var qtypes = map[string]int32{"A": 1, "NS": 2, "CNAME": 5, "SOA": 6, "NULL": 10, "PTR": 12, "MX": 15, "TXT": 16,
	"KEY": 25, "AAAA": 28, "SRV": 33, "ANY": 255, "CAA": 257}

type labelKey struct {
	client, name string
	qtype        int32
}

// dnsperf decodes dns/generated/dnsperf-nsd.pcap (20 benign dnsperf
// clients, 3 clients tunnelling with dns2tcp, iodine and dnscapy, every
// query labelled by client, name and type) into dns-dense, the capture as
// made, and dns-sparse: the benign hosts, each with ⌊1%⌋ of its count of
// tunnel responses injected (taken in turn from the tunnelling clients'),
// Apache Spot's home ground. Responses without a label are left out.
func dnsperf(c *Config) ([]*dataset, error) {
	pcap := filepath.Join(c.Corpus, "dns/generated/dnsperf-nsd.pcap")
	if _, err := os.Stat(pcap); err != nil {
		return nil, fmt.Errorf("corpus: %w", err)
	}
	events := filepath.Join(c.Work, "dnsperf.decoded.parquet")
	if err := run(c, "decode", "dns", pcap, "-o", events); err != nil {
		return nil, err
	}
	contacts, err := flowsOf(c, "dnsperf", pcap)
	if err != nil {
		return nil, err
	}
	labels, err := readLabelsCSV(filepath.Join(c.Corpus, "dns/generated/dnsperf-nsd.labels.csv"))
	if err != nil {
		return nil, err
	}
	recs, err := readAll[record.DNS](events)
	if err != nil {
		return nil, err
	}
	var all []record.DNS
	var ls []string
	for _, r := range recs {
		l, ok := labels[labelKey{r.IPDst, strings.TrimSuffix(strings.ToLower(r.QryName), "."), r.QryType}]
		if !ok {
			continue
		}
		all = append(all, r)
		ls = append(ls, l)
	}
	fmt.Fprintf(c.Log, "eval: dnsperf: %d responses decoded, %d labelled\n", len(recs), len(all))
	dense, err := newDNS(c, "dns-dense", all, ls)
	if err != nil {
		return nil, err
	}
	srecs, sls := sparse(all, ls)
	sp, err := newDNS(c, "dns-sparse", srecs, sls)
	if err != nil {
		return nil, err
	}
	sp.feedback = true
	dense.contacts, sp.contacts = contacts, contacts
	return []*dataset{sp, dense}, nil
}

func readLabelsCSV(path string) (map[labelKey]string, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	r := csv.NewReader(bufio.NewReader(f))
	r.FieldsPerRecord = 4
	m := map[labelKey]string{}
	for line := 0; ; line++ {
		rec, err := r.Read()
		if err == io.EOF {
			return m, nil
		}
		if err != nil {
			return nil, fmt.Errorf("%s: %w", path, err)
		}
		if line == 0 {
			continue
		}
		qt, ok := qtypes[rec[2]]
		if !ok {
			return nil, fmt.Errorf("%s: line %d: unknown qtype %q", path, line+1, rec[2])
		}
		m[labelKey{rec[0], strings.TrimSuffix(strings.ToLower(rec[1]), "."), qt}] = rec[3]
	}
}

// sparse keeps the benign hosts and injects into each ⌊1%⌋ of its count of
// tunnel responses, taken in turn from the tunnelling clients' responses.
func sparse(all []record.DNS, ls []string) ([]record.DNS, []string) {
	tunnelHost := map[string]bool{}
	for i, r := range all {
		if ls[i] != benign {
			tunnelHost[r.IPDst] = true
		}
	}
	var out []record.DNS
	var outL []string
	count := map[string]int{}
	var hosts []string
	byKind := map[string][]record.DNS{}
	var kinds []string
	for i, r := range all {
		switch {
		case tunnelHost[r.IPDst]:
			if ls[i] != benign {
				if byKind[ls[i]] == nil {
					kinds = append(kinds, ls[i])
				}
				byKind[ls[i]] = append(byKind[ls[i]], r)
			}
		default:
			if count[r.IPDst] == 0 {
				hosts = append(hosts, r.IPDst)
			}
			count[r.IPDst]++
			out = append(out, r)
			outL = append(outL, benign)
		}
	}
	sort.Strings(kinds)
	sort.Strings(hosts)
	next := 0
	for _, h := range hosts {
		for i := 0; i < count[h]/100; i++ {
			kind := kinds[next%len(kinds)]
			e := byKind[kind][(next/len(kinds))%len(byKind[kind])]
			next++
			e.IPDst = h
			e.EID = record.EID("eval-inject", int64(next), []byte(h+e.QryName))
			out = append(out, e)
			outL = append(outL, kind)
		}
	}
	return out, outL
}

// ---- nDPI's attack captures among its benign ones ----

var (
	benignFlows = []string{"1kxun.pcap", "alexa-app.pcapng", "gnutella.pcap"}
	attackFlows = map[string]string{"synscan.pcap": "scan-syn", "WebattackRCE.pcap": "web-rce"}
)

// ndpiFlows decodes nDPI's SYN-scan and web-RCE captures beside its 1kxun,
// alexa-app and gnutella captures: flows (the attacks are two thirds of the
// events) and flows-sparse (one attack flow in each stride of each attack
// capture's, about 1% of the benign flows each). A flow is an attack when
// it came from an attack capture.
func ndpiFlows(c *Config) ([]*dataset, error) {
	dir := filepath.Join(c.Corpus, "flows/ndpi")
	var all []record.Flow
	var ls []string
	for _, name := range append(append([]string{}, benignFlows...), "synscan.pcap", "WebattackRCE.pcap") {
		out := filepath.Join(c.Work, "flows-"+name+".parquet")
		if err := run(c, "decode", "flow", filepath.Join(dir, name), "-o", out); err != nil {
			return nil, err
		}
		recs, err := readAll[record.Flow](out)
		if err != nil {
			return nil, err
		}
		l := benign
		if a, ok := attackFlows[name]; ok {
			l = a
		}
		for _, r := range recs {
			all = append(all, r)
			ls = append(ls, l)
		}
	}
	dense, err := newFlows(c, "flows", all, ls)
	if err != nil {
		return nil, err
	}
	nBenign := 0
	total := map[string]int{}
	for _, l := range ls {
		total[l]++
		if l == benign {
			nBenign++
		}
	}
	var few []record.Flow
	var fewL []string
	seen := map[string]int{}
	for i, r := range all {
		l := ls[i]
		if l != benign {
			stride := max(1, total[l]/max(1, nBenign/100))
			seen[l]++
			if (seen[l]-1)%stride != 0 {
				continue
			}
		}
		few = append(few, r)
		fewL = append(fewL, l)
	}
	sp, err := newFlows(c, "flows-sparse", few, fewL)
	if err != nil {
		return nil, err
	}
	return []*dataset{dense, sp}, nil
}

// ---- testdata/eval: captures made with real tools, labelled per event ----

// generated decodes every NAME.labels.csv.gz in c.Data with its capture
// NAME.pcap.gz (scripts/eval/gen made them; testdata/eval/README.md says
// how): DNS labels are by frame, the packet's number, joined to decode
// dns's frame column; flow labels by connection, either way round. Every
// decoded event must have a label.
func generated(c *Config) ([]*dataset, error) {
	if c.Data == "" {
		return nil, nil
	}
	files, err := filepath.Glob(filepath.Join(c.Data, "*.labels.csv.gz"))
	if err != nil {
		return nil, err
	}
	sort.Strings(files)
	var out []*dataset
	for _, lf := range files {
		name := strings.TrimSuffix(filepath.Base(lf), ".labels.csv.gz")
		capture := filepath.Join(c.Data, name+".pcap.gz")
		if _, err := os.Stat(capture); err != nil {
			return nil, fmt.Errorf("%s: no capture beside it: %w", lf, err)
		}
		head, err := firstLine(lf)
		if err != nil {
			return nil, err
		}
		var d *dataset
		switch {
		case strings.HasPrefix(head, strings.Join(gen.DNSHeader, ",")):
			d, err = labelledDNS(c, name, capture, lf)
		case strings.HasPrefix(head, strings.Join(gen.FlowHeader, ",")):
			d, err = labelledFlows(c, name, capture, lf)
		default:
			err = fmt.Errorf("%s: a header of neither DNS nor flow labels: %q", lf, head)
		}
		if err != nil {
			return nil, err
		}
		out = append(out, d)
	}
	return out, nil
}

// firstLine returns the first line of a gzip-compressed file.
func firstLine(path string) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", err
	}
	defer f.Close()
	z, err := gzip.NewReader(f)
	if err != nil {
		return "", fmt.Errorf("%s: %w", path, err)
	}
	line, err := bufio.NewReader(z).ReadString('\n')
	if err != nil && err != io.EOF {
		return "", fmt.Errorf("%s: %w", path, err)
	}
	return strings.TrimSpace(line), nil
}

func labelledDNS(c *Config, name, capture, lf string) (*dataset, error) {
	byFrame, err := gen.ReadDNSLabels(lf)
	if err != nil {
		return nil, err
	}
	events := filepath.Join(c.Work, name+".decoded.parquet")
	if err := run(c, "decode", "dns", capture, "-o", events); err != nil {
		return nil, err
	}
	recs, err := readAll[record.DNS](events)
	if err != nil {
		return nil, err
	}
	contacts, err := flowsOf(c, name, capture)
	if err != nil {
		return nil, err
	}
	ls := make([]string, len(recs))
	for i, r := range recs {
		l, ok := byFrame[r.Frame]
		if !ok {
			return nil, fmt.Errorf("%s: decoded frame %d has no label in %s", name, r.Frame, lf)
		}
		ls[i] = l.Label
	}
	d, err := newDNS(c, name, recs, ls)
	if d != nil {
		d.contacts = contacts
	}
	return d, err
}

// flowsOf decodes the flows of a DNS dataset's capture, the contacts that
// its fused ranking is also measured with (score --contacts).
func flowsOf(c *Config, name, capture string) (string, error) {
	out := filepath.Join(c.Work, name+".contacts.parquet")
	return out, run(c, "decode", "flow", "--from", "packets", capture, "-o", out)
}

func labelledFlows(c *Config, name, capture, lf string) (*dataset, error) {
	byConn, err := gen.ReadFlowLabels(lf)
	if err != nil {
		return nil, err
	}
	events := filepath.Join(c.Work, name+".decoded.parquet")
	if err := run(c, "decode", "flow", capture, "-o", events); err != nil {
		return nil, err
	}
	recs, err := readAll[record.Flow](events)
	if err != nil {
		return nil, err
	}
	ls := make([]string, len(recs))
	for i, r := range recs {
		k := gen.FlowKey{Proto: r.Proto, SIP: r.SIP, SPort: r.SPort, DIP: r.DIP, DPort: r.DPort}.Canonical()
		l, ok := byConn[k]
		if !ok {
			return nil, fmt.Errorf("%s: decoded flow %s has no label in %s", name, k, lf)
		}
		ls[i] = l
	}
	lookups, err := lookupsOf(c, name, capture)
	if err != nil {
		return nil, err
	}
	d, err := newFlows(c, name, recs, ls)
	if d != nil {
		d.lookups = lookups
	}
	return d, err
}

// lookupsOf decodes the DNS records of a flow dataset's capture, which its
// fused ranking is given (score --lookups).
func lookupsOf(c *Config, name, capture string) (string, error) {
	out := filepath.Join(c.Work, name+".lookups.parquet")
	return out, run(c, "decode", "dns", capture, "-o", out)
}

// ---- labelled Zeek logs among benign flows ----

// zeekMix is a labelled Zeek conn.log of a real attack (its label column
// says Benign, Malicious or Unknown per row) mixed into the benign flows of
// a labelled capture of testdata/eval.
type zeekMix struct {
	name, log, attack string // dataset, conn.log in c.Data, the label of its Malicious rows
	benign            string // the dataset of c.Data whose benign connections it joins
}

// zeekMixList is the held-out set: CTU-SME-11 (Slips' test18, RemcosRAT on
// a Windows 7 VM, labelled by hand) among flows-lab's benign office
// traffic. testdata/eval/README.md says why these.
var zeekMixList = []zeekMix{{"mix-sme11-flowslab", "ctu-sme-11.conn.log.labeled.gz", "rat-remcos", "flows-lab"}}

// zeekMixes builds each zeekMix as scripts/eval/gen/mix.py builds a mix of
// captures: the log's times are shifted by whole seconds (ts only) so that
// its span sits in the middle of the benign capture's, the shifted log is
// decoded by spot decode flow and each flow labelled by its row (time and
// connection: every flow one row, every row one flow), and the capture's
// connections labelled benign are added. Rows labelled Unknown stay in the
// data, scored but not measured.
func zeekMixes(c *Config) ([]*dataset, error) {
	if c.Data == "" {
		return nil, nil
	}
	var out []*dataset
	for _, m := range zeekMixList {
		d, err := m.build(c)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", m.name, err)
		}
		out = append(out, d)
	}
	return out, nil
}

func (m zeekMix) build(c *Config) (*dataset, error) {
	// the benign capture's benign connections and their span
	byConn, err := gen.ReadFlowLabels(filepath.Join(c.Data, m.benign+".labels.csv.gz"))
	if err != nil {
		return nil, err
	}
	bpath := filepath.Join(c.Work, m.name+".benign.parquet")
	if err := run(c, "decode", "flow", filepath.Join(c.Data, m.benign+".pcap.gz"), "-o", bpath); err != nil {
		return nil, err
	}
	brecs, err := readAll[record.Flow](bpath)
	if err != nil {
		return nil, err
	}
	var recs []record.Flow
	var ls []string
	for _, r := range brecs {
		k := gen.FlowKey{Proto: r.Proto, SIP: r.SIP, SPort: r.SPort, DIP: r.DIP, DPort: r.DPort}.Canonical()
		l, ok := byConn[k]
		if !ok {
			return nil, fmt.Errorf("decoded flow %s of %s has no label", k, m.benign)
		}
		if l == benign {
			recs = append(recs, r)
			ls = append(ls, l)
		}
	}
	b0, b1 := span(recs)

	// the log, shifted into the middle of that span
	src := filepath.Join(c.Data, m.log)
	apath := filepath.Join(c.Work, m.name+".attack.parquet")
	if err := run(c, "decode", "flow", src, "-o", apath); err != nil {
		return nil, err
	}
	arecs, err := readAll[record.Flow](apath)
	if err != nil {
		return nil, err
	}
	a0, a1 := span(arecs)
	shift := (b0 + max(0, ((b1-b0)-(a1-a0))/2) - a0) / 1e9
	shifted := filepath.Join(c.Work, m.name+".conn.log")
	if err := shiftLog(src, shifted, shift); err != nil {
		return nil, err
	}
	spath := filepath.Join(c.Work, m.name+".shifted.parquet")
	if err := run(c, "decode", "flow", shifted, "-o", spath); err != nil {
		return nil, err
	}
	if arecs, err = readAll[record.Flow](spath); err != nil {
		return nil, err
	}
	rows, err := gen.ReadZeekLabels(shifted, gen.ZeekLabels(m.attack))
	if err != nil {
		return nil, err
	}
	events := make([]gen.ZeekEvent, len(arecs))
	for i, r := range arecs {
		events[i] = gen.ZeekEvent{TsNs: r.TStartNs, Key: gen.FlowKey{Proto: r.Proto, SIP: r.SIP, SPort: r.SPort, DIP: r.DIP, DPort: r.DPort}}
	}
	als, err := gen.JoinZeekLabels(rows, events)
	if err != nil {
		return nil, err
	}
	count := map[string]int{}
	for _, l := range als {
		count[l]++
	}
	fmt.Fprintf(c.Log, "eval: %s: %s shifted %+d s into %s's span; its rows: %v; %d benign connections of %s\n",
		m.name, m.log, shift, m.benign, count, len(recs), m.benign)
	return newFlows(c, m.name, append(recs, arecs...), append(ls, als...))
}

// span is the first start and the last end of flows, in nanoseconds.
func span(recs []record.Flow) (int64, int64) {
	lo, hi := int64(math.MaxInt64), int64(math.MinInt64)
	for _, r := range recs {
		lo, hi = min(lo, r.TStartNs), max(hi, r.TEndNs)
	}
	return lo, hi
}

// shiftLog writes a (gzip-compressed) Zeek TSV log with secs added to ts.
func shiftLog(src, dst string, secs int64) error {
	f, err := os.Open(src)
	if err != nil {
		return err
	}
	defer f.Close()
	z, err := gzip.NewReader(f)
	if err != nil {
		return fmt.Errorf("%s: %w", src, err)
	}
	w, err := os.Create(dst)
	if err != nil {
		return err
	}
	if err := gen.ShiftZeekTimes(z, w, secs); err != nil {
		w.Close()
		return fmt.Errorf("%s: %w", src, err)
	}
	return w.Close()
}
