package suricata

import "strconv"

// rrtypes are the record type names Suricata writes (rust/src/dns/log.rs,
// dns_rrtype_string), with its misspellings of some releases (NSAPPT,
// CDSNKEY, ND) beside the standard names; other types it writes as numbers.
var rrtypes = map[string]int32{
	"A": 1, "NS": 2, "MD": 3, "ND": 3, "MF": 4, "CNAME": 5, "SOA": 6, "MB": 7, "MG": 8, "MR": 9,
	"NULL": 10, "WKS": 11, "PTR": 12, "HINFO": 13, "MINFO": 14, "MX": 15, "TXT": 16, "RP": 17,
	"AFSDB": 18, "X25": 19, "ISDN": 20, "RT": 21, "NSAP": 22, "NSAPPTR": 23, "NSAPPT": 23,
	"NSAP-PTR": 23, "SIG": 24, "KEY": 25, "PX": 26, "GPOS": 27, "AAAA": 28, "LOC": 29, "NXT": 30,
	"SRV": 33, "ATMA": 34, "NAPTR": 35, "KX": 36, "CERT": 37, "A6": 38, "DNAME": 39, "OPT": 41,
	"APL": 42, "DS": 43, "SSHFP": 44, "IPSECKEY": 45, "RRSIG": 46, "NSEC": 47, "DNSKEY": 48,
	"DHCID": 49, "NSEC3": 50, "NSEC3PARAM": 51, "TLSA": 52, "HIP": 55, "CDS": 59, "CDNSKEY": 60,
	"CDSNKEY": 60, "SVCB": 64, "HTTPS": 65, "SPF": 99, "TKEY": 249, "TSIG": 250, "IXFR": 251,
	"AXFR": 252, "MAILB": 253, "MAILA": 254, "ANY": 255, "URI": 256, "CAA": 257,
}

// rcodes are the response code names Suricata writes (dns_rcode_string).
var rcodes = map[string]int32{
	"NOERROR": 0, "FORMERR": 1, "SERVFAIL": 2, "NXDOMAIN": 3, "NOTIMP": 4, "REFUSED": 5,
	"YXDOMAIN": 6, "YXRRSET": 7, "NXRRSET": 8, "NOTAUTH": 9, "NOTZONE": 10,
	"BADVERS/BADSIG": 16, "BADVERS": 16, "BADSIG": 16, "BADKEY": 17, "BADTIME": 18,
	"BADMODE": 19, "BADNAME": 20, "BADALG": 21, "BADTRUNC": 22, "BADCOOKIE": 23,
}

// code reads a name of table, or a number in text; ok is false for a name
// the table does not hold.
func code(table map[string]int32, s []byte) (int32, bool) {
	if len(s) == 0 {
		return 0, true
	}
	if n, ok := table[string(s)]; ok {
		return n, true
	}
	if n, err := strconv.ParseUint(string(s), 10, 16); err == nil {
		return int32(n), true
	}
	return 0, false
}
