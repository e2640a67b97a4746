#!/usr/bin/env python3
"""Bounded NetFlow v5 generator for the collector bench row.

netflow_gen.py CAPTURE HOST:PORT RATE SECONDS
Sends the v5 export datagrams found in CAPTURE (a classic pcap of softflowd's
exports, Ethernet/IPv4/UDP framing) over and over to HOST:PORT, paced at RATE
flow records per second for SECONDS, and prints the number of records sent.
"""
import socket, struct, sys, time

cap, dest, rate, secs = sys.argv[1], sys.argv[2], float(sys.argv[3]), float(sys.argv[4])
host, port = dest.rsplit(":", 1)
b = open(cap, "rb").read()
grams = []
off = 24
while off + 16 <= len(b):
    n = struct.unpack_from("<I", b, off + 8)[0]
    frame = b[off + 16: off + 16 + n]
    off += 16 + n
    ihl = (frame[14] & 0x0F) * 4
    payload = frame[14 + ihl + 8:]
    if len(payload) >= 24 and struct.unpack_from(">H", payload)[0] == 5:
        grams.append((payload, struct.unpack_from(">H", payload, 2)[0]))
if not grams:
    sys.exit("no v5 datagrams in " + cap)
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 4 << 20)
sent = 0
start = time.monotonic()
i = 0
while True:
    elapsed = time.monotonic() - start
    if elapsed >= secs:
        break
    due = rate * elapsed
    while sent < due:
        g, c = grams[i % len(grams)]
        s.sendto(g, (host, int(port)))
        sent += c
        i += 1
    time.sleep(0.001)
print(sent)
