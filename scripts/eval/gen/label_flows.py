#!/usr/bin/python3
"""Labels every connection of a flow capture, by tshark's reading.

    label_flows.py CAPTURE [RULES.json] > labels.csv

A connection is (proto, sip, sport, dip, dport) in either direction, as
`spot decode flow` keys flows (ICMP: sport 0, dport type*256+code, so an
echo and its reply are two). Rules (default: flows-lab's) decide labels, the
first that matches:
  hosts: {address: label}               every connection to or from address
  pairs: [[client, server, port, label]] connections between the two, to port
  dns_names: {name: label}              DNS conversations (port 53) asking for
                                        name or a name under it
  host_except: [{"host": h, "except_peers": [...], "except_ports": [...],
                 "label": l}]           every connection of h, but those with
                                        except_peers or on except_ports
  default: label                        the rest (default: benign)
Columns: proto,sip,sport,dip,dport,label.
"""
import csv
import json
import subprocess
import sys

FLOWS_LAB = {
    "hosts": {"10.16.10.66": "scan-nmap"},
    "pairs": [["10.16.10.3", "10.16.2.1", 80, "beacon-http"], ["10.16.10.6", "10.16.2.1", 80, "beacon-http"],
              ["10.16.10.9", "10.16.2.2", 8080, "beacon-http"], ["10.16.10.11", "10.16.2.2", 8080, "beacon-http"],
              ["10.16.10.7", "10.16.3.1", 443, "upload-bulk"]],
}
# nfdump's protocol names, as spot decode flow writes them (the common ones)
PROTO = {"0": "0", "1": "ICMP", "2": "IGMP", "6": "TCP", "17": "UDP", "41": "IPv6", "47": "GRE", "50": "ESP",
         "58": "ICMP6", "89": "OSPF", "103": "PIM", "112": "VRRP", "132": "SCTP"}


def keys(cap):
    fields = ["ip.proto", "ip.src", "ip.dst", "ipv6.nxt", "ipv6.src", "ipv6.dst", "tcp.srcport", "tcp.dstport",
              "udp.srcport", "udp.dstport", "icmp.type", "icmp.code", "icmpv6.type", "icmpv6.code", "dns.qry.name"]
    cmd = ["tshark", "-n", "-r", cap, "-Y", "ipv6 or ip and ip.flags.mf == 0 and ip.frag_offset == 0",
           "-T", "fields", "-E", "separator=\t", "-E", "occurrence=f"]
    for f in fields:
        cmd += ["-e", f]
    p = subprocess.Popen(cmd, stdout=subprocess.PIPE, text=True)
    for line in p.stdout:
        v = line.rstrip("\n").split("\t")
        proto, src, dst = (v[0], v[1], v[2]) if v[1] else (v[3], v[4], v[5])
        if v[3] and proto == "0":  # IPv6 hop-by-hop options (MLD): the protocol after them
            proto = "58" if v[12] else "17" if v[8] else "6" if v[6] else proto
        name = PROTO.get(proto, proto)
        if name == "TCP":
            sp, dp = int(v[6]), int(v[7])
        elif name == "UDP":
            sp, dp = int(v[8]), int(v[9])
        elif name == "ICMP" and v[10]:
            sp, dp = 0, int(v[10]) * 256 + int(v[11] or 0)
        elif name == "ICMP6" and v[12]:
            sp, dp = 0, int(v[12]) * 256 + int(v[13] or 0)
        else:
            sp, dp = 0, 0
        yield name, src, sp, dst, dp, (v[14] if len(v) > 14 else "").lower().rstrip(".")
    if p.wait() != 0:
        sys.exit("tshark failed")


def label(rules, k, names):
    proto, a, ap, b, bp = k
    for h, l in rules.get("hosts", {}).items():
        if h in (a, b):
            return l
    for c, s, port, l in rules.get("pairs", []):
        if {a, b} == {c, s} and (ap == port and a == s or bp == port and b == s):
            return l
    if 53 in (ap, bp):
        for n, l in rules.get("dns_names", {}).items():
            if any(q == n or q.endswith("." + n) for q in names):
                return l
    for r in rules.get("host_except", []):
        h = r["host"]
        ports = r.get("except_ports", [])
        if h in (a, b) and (b if a == h else a) not in r.get("except_peers", []) \
                and ap not in ports and bp not in ports:
            return r["label"]
    return rules.get("default", "benign")


def main():
    rules = json.load(open(sys.argv[2])) if len(sys.argv) > 2 else FLOWS_LAB
    names = {}
    for proto, src, sp, dst, dp, q in keys(sys.argv[1]):
        k = (proto, src, sp, dst, dp) if (src, sp) <= (dst, dp) else (proto, dst, dp, src, sp)
        names.setdefault(k, set())
        if q:
            names[k].add(q)
    seen = {k: label(rules, k, n) for k, n in names.items()}
    w = csv.writer(sys.stdout, lineterminator="\n")
    w.writerow(["proto", "sip", "sport", "dip", "dport", "label"])
    counts = {}
    for k in sorted(seen):
        w.writerow(list(k) + [seen[k]])
        counts[seen[k]] = counts.get(seen[k], 0) + 1
    for l in sorted(counts):
        print(f"{l:15} {counts[l]} connections", file=sys.stderr)


if __name__ == "__main__":
    main()
