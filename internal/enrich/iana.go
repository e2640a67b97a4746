package enrich

import (
	"embed"
	"encoding/csv"
	"fmt"
	"strconv"
	"strings"
	"sync"
)

// The IANA tables (iana/SOURCES.md says where each comes from and when).
//
//go:embed iana/*.csv
var ianaFiles embed.FS

type ianaTables struct {
	qclass   map[int64]string
	qtype    map[int64]string
	rcode    map[int64]string
	http     map[int64]string
	protoNum map[string]int64 // keyword (upper case) -> number
	protoKey map[int64]string // number -> keyword
}

var iana = sync.OnceValue(func() *ianaTables {
	t := &ianaTables{qclass: map[int64]string{}, qtype: map[int64]string{}, rcode: map[int64]string{},
		http: map[int64]string{}, protoNum: map[string]int64{}, protoKey: map[int64]string{}}
	// key column, value column
	load := func(file string, key, val int, m map[int64]string) {
		for _, rec := range readTable(file) {
			if len(rec) <= max(key, val) {
				continue
			}
			k, err := strconv.ParseInt(strings.TrimSpace(rec[key]), 10, 64)
			if err != nil || rec[val] == "" {
				continue
			}
			if _, dup := m[k]; !dup || strings.Contains(file, "additions") {
				m[k] = strings.TrimSpace(rec[val])
			}
		}
	}
	load("dns-qclass.csv", 0, 2, t.qclass)
	load("dns-qtype.csv", 1, 0, t.qtype)
	load("dns-qtype-additions.csv", 1, 0, t.qtype)
	load("dns-rcode.csv", 0, 1, t.rcode)
	load("dns-rcode-additions.csv", 0, 1, t.rcode)
	load("http-rcode.csv", 0, 1, t.http)
	load("protocol-numbers.csv", 0, 1, t.protoKey)
	for n, k := range t.protoKey {
		t.protoNum[strings.ToUpper(k)] = n
	}
	// names nfdump and spot's decoders print for some protocols
	for k, n := range map[string]int64{"ICMP6": 58, "ICMPV6": 58, "IPV6-ICMP": 58, "ESP": 50, "AH": 51, "IPIP": 4, "IPINIP": 4, "IPV6": 41, "OSPF": 89, "RSVP": 46} {
		t.protoNum[k] = n
	}
	return t
})

func readTable(name string) [][]string {
	f, err := ianaFiles.Open("iana/" + name)
	if err != nil {
		panic(err) // embedded: a build without the table is broken
	}
	defer f.Close()
	r := csv.NewReader(f)
	r.FieldsPerRecord = -1
	recs, err := r.ReadAll()
	if err != nil {
		panic(fmt.Sprintf("iana/%s: %v", name, err))
	}
	return recs[1:]
}

func unknown(k any) string { return fmt.Sprintf("Unknown (%v)", k) }

// DNSClassName names a DNS class given as Spot's hex text (0x00000001) or
// a decimal number: "Internet (IN)".
func DNSClassName(class string) string {
	s := strings.TrimSpace(class)
	var v int64
	var err error
	if h, ok := strings.CutPrefix(strings.ToLower(s), "0x"); ok {
		v, err = strconv.ParseInt(h, 16, 64)
	} else {
		v, err = strconv.ParseInt(s, 10, 64)
	}
	if err != nil {
		return unknown(class)
	}
	if n, ok := iana().qclass[v]; ok {
		return n
	}
	return unknown(class)
}

// DNSTypeName names a DNS record type: 1 is "A", 28 "AAAA".
func DNSTypeName(t int32) string {
	if n, ok := iana().qtype[int64(t)]; ok {
		return n
	}
	return unknown(t)
}

// DNSRcodeName names a DNS response code: 3 is "NXDomain".
func DNSRcodeName(rc int32) string {
	if n, ok := iana().rcode[int64(rc)]; ok {
		return n
	}
	return unknown(rc)
}

// HTTPStatusName names an HTTP status code given as text: "404" is "Not Found".
func HTTPStatusName(code string) string {
	v, err := strconv.ParseInt(strings.TrimSpace(code), 10, 64)
	if err != nil {
		return unknown(code)
	}
	if n, ok := iana().http[v]; ok {
		return n
	}
	return unknown(code)
}

// ProtocolNumber returns the IP protocol number of a flow's proto column,
// which holds a name as nfdump prints it (TCP, UDP, ICMP6, GRE) or a number;
// -1 when neither is known.
func ProtocolNumber(proto string) int32 {
	p := strings.TrimSpace(proto)
	if v, err := strconv.ParseInt(p, 10, 32); err == nil && v >= 0 && v <= 255 {
		return int32(v)
	}
	if v, ok := iana().protoNum[strings.ToUpper(p)]; ok {
		return int32(v)
	}
	return -1
}

// ProtocolName returns IANA's keyword for a protocol number: 47 is "GRE".
func ProtocolName(n int32) string {
	if k, ok := iana().protoKey[int64(n)]; ok {
		return k
	}
	return unknown(n)
}
