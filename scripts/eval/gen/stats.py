#!/usr/bin/python3
"""Prints, per dataset of a directory, its size, time span and counts per
label (DNS: responses per leg; flows: connections), as the markdown rows of
testdata/eval/README.md.

    stats.py testdata/eval
"""
import csv
import glob
import gzip
import os
import subprocess
import sys
from datetime import datetime, timezone


def span(cap):
    out = subprocess.run(["capinfos", "-a", "-e", "-c", "-T", "-r", "-S", cap], capture_output=True, text=True).stdout
    f = out.strip().split("\t")
    n, a, b = int(f[1]), float(f[2]), float(f[3])
    fmt = lambda t: datetime.fromtimestamp(t, timezone.utc).strftime("%Y-%m-%d %H:%M:%S")
    return n, f"{fmt(a)} .. {fmt(b)} UTC ({b - a:.0f} s)"


def main():
    d = sys.argv[1]
    for lp in sorted(glob.glob(os.path.join(d, "*.labels.csv.gz"))):
        name = os.path.basename(lp)[: -len(".labels.csv.gz")]
        cap = next(p for p in (os.path.join(d, name + e) for e in (".pcap.gz", ".pcapng.gz")) if os.path.exists(p))
        n, sp = span(cap)
        rows = list(csv.DictReader(gzip.open(lp, "rt", newline="")))
        counts = {}
        if "frame" in rows[0]:
            for r in rows:
                if r["response"] == "1":
                    k = (r["label"], r["leg"])
                    counts[k] = counts.get(k, 0) + 1
            labels = sorted({k[0] for k in counts}, key=lambda l: (l != "benign", l))
            text = "; ".join(f"{l} {counts.get((l, 'client'), 0)} + {counts.get((l, 'upstream'), 0)}" for l in labels)
            unit = "responses (client leg + upstream leg)"
        else:
            for r in rows:
                counts[r["label"]] = counts.get(r["label"], 0) + 1
            text = "; ".join(f"{l} {counts[l]}" for l in sorted(counts, key=lambda l: (l != "benign", l)))
            unit = "connections"
        size = os.path.getsize(cap) + os.path.getsize(lp)
        print(f"| {name} | {n} packets, {size / 1e6:.2f} MB | {sp} | {unit}: {text} |")


if __name__ == "__main__":
    main()
