#!/usr/bin/python3
"""Mixes real attack captures of the corpus into benign captures, labelled
per connection.

    mix.py CORPUS OUTDIR [NAME...]

Each mix: the attack capture is shifted in time (editcap -t) so that it sits
in the middle of the benign capture's span (or starts with it, when longer),
then both are merged in time order (mergecap) and cut to 96 bytes a packet
(headers: all that flows need; IP lengths keep the byte counts), but DNS
(port 53), which is kept whole for the DNS records of the same traffic. Labels come
from the unshifted, uncut inputs (label_flows.py; connections do not depend
on time): every connection of the benign capture is benign, and the attack
capture's connections are labelled by its rules, decided by reading it with
tshark (the comments below and testdata/eval/README.md say how). A
connection that both inputs hold (DHCP's 0.0.0.0:68 -> 255.255.255.255:67)
must be benign in both, or the mix is ambiguous: an error.
"""
import csv
import gzip
import io
import os
import shutil
import subprocess
import sys
import tempfile

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import label_flows  # noqa: E402

GNUTELLA, ALEXA, KXUN = "flows/ndpi/gnutella.pcap", "flows/ndpi/alexa-app.pcapng", "flows/ndpi/1kxun.pcap"
SLIPS = "labelled/slips/"
MIXES = {
    # test-cc-1: 299 TLS connections from 147.32.80.37 to 141.193.213.21/.20:443 (SNI testing.com), nothing else
    "mix-cc1-gnutella": (GNUTELLA, SLIPS + "test-cc_test-cc-capture-1.pcap", {"default": "cc-slips"}),
    # test-cc-2: 22 TLS connections to 141.193.213.20:443 (SNI testing.com) and the DNS lookups of
    # testing.com are the C&C; the other lookups (rdap.*, zen.spamhaus.org, urlhaus-api.abuse.ch,
    # whois.cymru.com) are the capturing host's own threat-intelligence queries: benign
    "mix-cc2-alexa": (ALEXA, SLIPS + "test-cc_test-cc-capture-2.pcap",
                      {"pairs": [["147.32.80.37", "141.193.213.20", 443, "cc-slips"]],
                       "dns_names": {"testing.com": "cc-slips"}}),
    # one attacker 147.32.80.40 against 147.32.80.37:22, nothing else
    "mix-ssh-alexa": (ALEXA, SLIPS + "test19-malicious-ssh_malicious-ssh-bruteforce.pcap",
                      {"default": "bruteforce-ssh"}),
    # test7: a Raspberry Pi (192.168.2.16) with a Mirai-like bot: SYNs to random addresses on
    # 23/2323/8080/9527, UDP from port 11694 to random addresses, and the ICMP errors they draw.
    # Benign: SSH from the gateway 192.168.2.1, DNS to 8.8.8.8/8.8.4.4 (NTP pool names), NTP,
    # mDNS, DHCP, IGMP/MLD, the gateway's ping
    "mix-malware7-gnutella": (GNUTELLA, SLIPS + "test7-malicious.pcap",
                              {"host_except": [{"host": "192.168.2.16",
                                                "except_peers": ["192.168.2.1", "8.8.8.8", "8.8.4.4", "224.0.0.251",
                                                                 "224.0.0.22", "255.255.255.255"],
                                                "except_ports": [53, 67, 68, 123, 5353],
                                                "label": "malware-slips"}]}),
    # test12: ICMP echo sweep of 192.168.1.0/24 from 192.168.1.109, nothing else
    "mix-icmpscan-1kxun": (KXUN, SLIPS + "test12-icmp-portscan.pcap", {"default": "scan-icmp"}),
    # nDPI synscan: 172.16.0.8 SYN-scans 64.13.134.52 (scanme.nmap.org), nothing else
    "mix-synscan-1kxun": (KXUN, "flows/ndpi/synscan.pcap", {"default": "scan-syn"}),
    # nDPI WebattackRCE: HTTP requests with remote-code-execution payloads on 127.0.0.1, nothing else
    "mix-webrce-alexa": (ALEXA, "flows/ndpi/WebattackRCE.pcap", {"default": "web-rce"}),
    # the same C&C among the office's browsing of flows-lab (its attacks taken out)
    "mix-cc1-flowslab": ("@flows-lab", SLIPS + "test-cc_test-cc-capture-1.pcap", {"default": "cc-slips"}),
}
# flows-lab without its attacks (the scanner, the C2 servers, the upload sink)
# and cut to 800 s of its 30 minutes (the C&C lasts 665 s), to keep the file small
FLOWS_LAB_BENIGN = ("not (ip.addr == 10.16.10.66 or ip.addr == 10.16.2.0/24 or ip.addr == 10.16.3.1)"
                    " and frame.time_relative >= 500 and frame.time_relative < 1300")
# DNS packets, kept whole (a DNS message quoted by an ICMP error is not DNS traffic: cut)
DNS = "(udp.port == 53 or tcp.port == 53) and not icmp and not icmpv6"
# test8 is left out: its attack is an ARP scan (509 who-has from 192.168.1.247), which flows do not
# carry; its one IP conversation is a QUIC exchange with Google.


def times(path):
    out = subprocess.run(["tshark", "-n", "-r", path, "-T", "fields", "-e", "frame.time_epoch"], check=True,
                         capture_output=True, text=True).stdout.split()
    return [float(t) for t in out]


def span(ts):
    """The longest run of packets without a gap of a day (1kxun holds two sessions six years apart)."""
    best, start = (ts[0], ts[0]), ts[0]
    for a, b in zip(ts, ts[1:]):
        if b - a > 86400:
            start = b
            continue
        if b - start > best[1] - best[0]:
            best = (start, b)
    return best


def labels(path, rules):
    names = {}
    for proto, src, sp, dst, dp, q in label_flows.keys(path):
        k = (proto, src, sp, dst, dp) if (src, sp) <= (dst, dp) else (proto, dst, dp, src, sp)
        names.setdefault(k, set())
        if q:
            names[k].add(q)
    return {k: label_flows.label(rules, k, n) for k, n in names.items()}


def make(corpus, out, name, benign, attack, rules, tmp):
    bp, ap = os.path.join(corpus, benign), os.path.join(corpus, attack)
    if benign == "@flows-lab":
        bp = os.path.join(tmp, "flows-lab-benign.pcap")
        subprocess.run(["tshark", "-n", "-r", os.path.join(out, "flows-lab.pcap.gz"), "-Y", FLOWS_LAB_BENIGN,
                        "-F", "pcap", "-w", bp], check=True, stderr=subprocess.DEVNULL)
    b0, b1 = span(times(bp))
    at = times(ap)
    a0, a1 = min(at), max(at)
    shift = b0 + max(0.0, ((b1 - b0) - (a1 - a0)) / 2) - a0
    shifted = os.path.join(tmp, name + ".attack.pcap")
    subprocess.run(["editcap", "-F", "pcap", "-t", f"{shift:.6f}", ap, shifted], check=True)
    whole = os.path.join(tmp, name + ".whole.pcap")
    subprocess.run(["mergecap", "-F", "pcap", "-w", whole, bp, shifted], check=True)
    # DNS (port 53) stays whole, as a sensor that logs DNS keeps it: the DNS records of the same
    # traffic need their answers (score --lookups); every other packet is cut to 96 bytes
    dns, rest, cut = (os.path.join(tmp, name + s) for s in (".dns.pcap", ".rest.pcap", ".cut.pcap"))
    for part, flt in ((dns, DNS), (rest, f"not ({DNS})")):
        subprocess.run(["tshark", "-n", "-r", whole, "-Y", flt, "-F", "pcap", "-w", part], check=True,
                       stderr=subprocess.DEVNULL)
    subprocess.run(["editcap", "-F", "pcap", "-s", "96", rest, cut], check=True)
    merged = os.path.join(tmp, name + ".pcap")
    subprocess.run(["mergecap", "-F", "pcap", "-w", merged, cut, dns], check=True)
    lb, la = labels(bp, {}), labels(ap, rules)
    clash = sorted(k for k in set(lb) & set(la) if lb[k] != la[k])
    if clash:
        sys.exit(f"{name}: connections in both captures, benign in one and not the other: {clash[:5]}")
    lab = {**lb, **la}
    with open(merged, "rb") as f, gzip.GzipFile(os.path.join(out, name + ".pcap.gz"), "wb", 9, mtime=0) as g:
        shutil.copyfileobj(f, g)
    rows = [["proto", "sip", "sport", "dip", "dport", "label"]] + [list(k) + [lab[k]] for k in sorted(lab)]
    text = io.StringIO()
    csv.writer(text, lineterminator="\n").writerows(rows)
    with gzip.GzipFile(os.path.join(out, name + ".labels.csv.gz"), "wb", 9, mtime=0) as g:
        g.write(text.getvalue().encode())
    counts = {}
    for l in lab.values():
        counts[l] = counts.get(l, 0) + 1
    print(f"{name}: {benign} + {attack} shifted {shift:+.0f} s into {b0:.0f}..{b1:.0f}; connections "
          + ", ".join(f"{k} {v}" for k, v in sorted(counts.items())), file=sys.stderr)


def main():
    corpus, out = sys.argv[1], sys.argv[2]
    names = sys.argv[3:] or sorted(MIXES)
    os.makedirs(out, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="s15d-mix.") as tmp:
        for n in names:
            make(corpus, out, n, *MIXES[n], tmp)


if __name__ == "__main__":
    main()
