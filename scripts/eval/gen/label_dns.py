#!/usr/bin/python3
"""Labels every DNS message of a dns-resolver capture, by tshark's reading.

    label_dns.py CAPTURE PLAN > labels.csv

A message is an attack when its question name is the attack's registrable
domain or under it (names.json "attacks"): no benign client ever asks for
those domains, and the resolver asks for them only on an attacker's behalf,
so the rule is exact on both legs; a name the attack's lookup made with the
search list appended (x.attack.example.corp.internal, which glibc asks after
an NXDOMAIN) is the attack's too. Everything else is benign. Columns:
frame (1-based, as Wireshark numbers packets), label, leg ("client":
client <-> resolver, "upstream": resolver <-> authoritative), client (the
address that asked: the query's source, the response's destination),
qname, qtype (numeric, as spot's dns_qry_type), response (1/0).
"""
import csv
import json
import subprocess
import sys

RESOLVER = {"10.15.0.53", "fd15::53"}
SEARCH = ".corp.internal"
AGG = "\x1e"  # between the values of a frame's several messages: not in any name (tshark escapes it)


def main():
    cap, plan = sys.argv[1], sys.argv[2]
    attacks = [(a["domain"], label) for label, a in json.load(open(plan))["attacks"].items()]
    fields = ["frame.number", "ip.src", "ip.dst", "ipv6.src", "ipv6.dst", "dns.flags.response", "dns.qry.name",
              "dns.qry.type"]
    cmd = ["tshark", "-n", "-r", cap, "-Y", "dns and not icmp and not icmpv6", "-T", "fields",
           "-E", "separator=\t", "-E", "occurrence=a", "-E", "aggregator=" + AGG]
    for f in fields:
        cmd += ["-e", f]
    out = subprocess.run(cmd, check=True, capture_output=True, text=True).stdout
    w = csv.writer(sys.stdout, lineterminator="\n")
    w.writerow(["frame", "label", "leg", "client", "qname", "qtype", "response"])
    counts = {}
    for line in out.split("\n"):  # not splitlines: it also splits at \x1e
        if not line:
            continue
        frame, s4, d4, s6, d6, resp, qname, qtype = line.split("\t")
        src, dst = s4 or s6, d4 or d6
        resps, names, types = resp.split(AGG), qname.split(AGG), qtype.split(AGG)
        # a TCP segment may carry several messages: all must agree
        labels = set()
        for n in names:
            n = n.lower().rstrip(".")
            if n.endswith(SEARCH):  # glibc's retry with the search list, on the asker's behalf
                n = n[: -len(SEARCH)]
            lab = "benign"
            for dom, l in attacks:
                if n == dom or n.endswith("." + dom):
                    lab = l
            labels.add(lab)
        if len(labels) != 1:
            sys.exit(f"frame {frame}: messages with different labels {labels}")
        r = resps[0] in ("1", "True")
        client = dst if r else src
        leg = "upstream" if client in RESOLVER else "client"
        lab = labels.pop()
        counts[(leg, lab)] = counts.get((leg, lab), 0) + 1
        w.writerow([frame, lab, leg, client, names[0].lower().rstrip("."), types[0], int(r)])
    for k in sorted(counts):
        print(f"{k[0]:8} {k[1]:15} {counts[k]}", file=sys.stderr)


if __name__ == "__main__":
    main()
