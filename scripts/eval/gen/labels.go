// Package gen makes the labelled evaluation datasets of testdata/eval (the
// scripts beside this file; testdata/eval/README.md says what each holds)
// and reads their labels.
//
// A DNS dataset's labels are keyed by frame, the packet's 1-based number in
// the capture, as `spot decode dns` writes it; a flow dataset's by
// connection (proto, addresses and ports, either direction), as `spot decode
// flow` writes them.
package gen

import (
	"compress/gzip"
	"encoding/csv"
	"fmt"
	"io"
	"net/netip"
	"os"
	"strconv"
	"strings"
)

// Labels are the label values the datasets use: benign or an attack type.
var Labels = map[string]string{
	"benign":         "not an attack",
	"tunnel-iodine":  "IP over DNS with iodine",
	"tunnel-dns2tcp": "TCP over DNS with dns2tcp",
	"beacon-txt":     "command and control polling TXT records",
	"exfil-hex":      "a file sent out in hex labels",
	"exfil-base32":   "a file sent out in base32 labels",
	"beacon-http":    "HTTP check-ins at a period with jitter",
	"scan-nmap":      "an nmap scan",
	"upload-bulk":    "a bulk upload",
	"cc-slips":       "command and control (Stratosphere's captures in Slips)",
	"bruteforce-ssh": "SSH password guessing",
	"scan-syn":       "a TCP SYN scan",
	"scan-icmp":      "an ICMP sweep",
	"web-rce":        "web attacks: remote code execution attempts",
	"malware-slips":  "malware traffic (Stratosphere's captures in Slips)",
	"rat-remcos":     "RemcosRAT's connections to its server (CTU-SME-11, labelled by hand)",
}

// DNSLabel is one row of a DNS label file.
type DNSLabel struct {
	Frame    int64
	Label    string
	Leg      string // client (client <-> resolver) or upstream (resolver <-> authoritative)
	Client   string // the asker: a query's source, a response's destination
	QName    string
	QType    int32
	Response bool
}

// FlowKey names a connection. Canonical puts the endpoints in a fixed
// order, so that both directions give one key.
type FlowKey struct {
	Proto string
	SIP   string
	SPort int32
	DIP   string
	DPort int32
}

// Canonical returns k with canonical address text and its endpoints in a
// fixed order.
func (k FlowKey) Canonical() FlowKey {
	k.Proto = strings.ToUpper(k.Proto)
	k.SIP, k.DIP = canonAddr(k.SIP), canonAddr(k.DIP)
	if k.SIP > k.DIP || k.SIP == k.DIP && k.SPort > k.DPort {
		k.SIP, k.DIP, k.SPort, k.DPort = k.DIP, k.SIP, k.DPort, k.SPort
	}
	return k
}

func canonAddr(s string) string {
	if a, err := netip.ParseAddr(s); err == nil {
		return a.Unmap().String()
	}
	return s
}

func (k FlowKey) String() string {
	return fmt.Sprintf("%s %s:%d-%s:%d", k.Proto, k.SIP, k.SPort, k.DIP, k.DPort)
}

// readCSV reads a label file (gzip-compressed when its name ends in .gz),
// checks its header and calls row for each record with its line number.
func readCSV(path string, header []string, row func(line int, rec []string) error) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	var r io.Reader = f
	if strings.HasSuffix(path, ".gz") {
		z, err := gzip.NewReader(f)
		if err != nil {
			return fmt.Errorf("%s: %w", path, err)
		}
		defer z.Close()
		r = z
	}
	cr := csv.NewReader(r)
	cr.ReuseRecord = true
	first, err := cr.Read()
	if err != nil {
		return fmt.Errorf("%s: header: %w", path, err)
	}
	if len(first) < len(header) || strings.Join(first[:len(header)], ",") != strings.Join(header, ",") {
		return fmt.Errorf("%s: header %q, want it to start with %q", path, strings.Join(first, ","), strings.Join(header, ","))
	}
	for line := 2; ; line++ {
		rec, err := cr.Read()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return fmt.Errorf("%s: %w", path, err)
		}
		if _, ok := Labels[rec[len(header)-1]]; !ok && header[len(header)-1] == "label" {
			return fmt.Errorf("%s:%d: unknown label %q", path, line, rec[len(header)-1])
		}
		if err := row(line, rec); err != nil {
			return fmt.Errorf("%s:%d: %w", path, line, err)
		}
	}
}

// DNSHeader is the first columns of a DNS label file.
var DNSHeader = []string{"frame", "label", "leg", "client", "qname", "qtype", "response"}

// ReadDNSLabels reads a DNS label file: one row per DNS message (query or
// response) of the capture, by frame.
func ReadDNSLabels(path string) (map[int64]DNSLabel, error) {
	m := map[int64]DNSLabel{}
	err := readCSV(path, DNSHeader, func(line int, rec []string) error {
		fr, err := strconv.ParseInt(rec[0], 10, 64)
		if err != nil || fr < 1 {
			return fmt.Errorf("bad frame %q", rec[0])
		}
		if _, dup := m[fr]; dup {
			return fmt.Errorf("frame %d labelled twice", fr)
		}
		if _, ok := Labels[rec[1]]; !ok {
			return fmt.Errorf("unknown label %q", rec[1])
		}
		qt, err := strconv.ParseInt(rec[5], 10, 32)
		if err != nil {
			return fmt.Errorf("bad qtype %q", rec[5])
		}
		m[fr] = DNSLabel{Frame: fr, Label: rec[1], Leg: rec[2], Client: rec[3], QName: rec[4], QType: int32(qt), Response: rec[6] == "1"}
		return nil
	})
	return m, err
}

// FlowHeader is the columns of a flow label file.
var FlowHeader = []string{"proto", "sip", "sport", "dip", "dport", "label"}

// ReadFlowLabels reads a flow label file: one row per connection, keyed by
// FlowKey.Canonical.
func ReadFlowLabels(path string) (map[FlowKey]string, error) {
	m := map[FlowKey]string{}
	err := readCSV(path, FlowHeader, func(line int, rec []string) error {
		sp, err1 := strconv.ParseInt(rec[2], 10, 32)
		dp, err2 := strconv.ParseInt(rec[4], 10, 32)
		if err1 != nil || err2 != nil {
			return fmt.Errorf("bad port in %q", strings.Join(rec, ","))
		}
		k := FlowKey{Proto: rec[0], SIP: rec[1], SPort: int32(sp), DIP: rec[3], DPort: int32(dp)}.Canonical()
		if old, dup := m[k]; dup {
			return fmt.Errorf("connection %s labelled twice (%s, %s)", k, old, rec[5])
		}
		m[k] = rec[5]
		return nil
	})
	return m, err
}
