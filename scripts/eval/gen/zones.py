#!/usr/bin/python3
"""Builds the DNS world of the dns-resolver dataset from real name lists that
Debian packages ship, and writes zone files, server configurations and the
client plan (names.json) into OUT.

    zones.py OUT SEED

Name sources (all read from the installed packages; none is written here):
  - webext-privacy-badger data/seed.json: snitch_map, third-party domains and
    the first-party sites where EFF's crawler saw each (so a visit to a site
    resolves the third parties really seen on it); action_map, the FQDNs of
    those third parties (numbered and hashed subdomains included);
  - webext-privacy-badger js/multiDomainFirstParties.js: groups of domains
    owned by one entity (a visit to one often resolves its siblings);
  - webext-privacy-badger data/yellowlist.txt: FQDNs of common CDNs and
    services;
  - python3-apt templates/*.mirrors: Debian and Ubuntu mirror host names;
  - publicsuffix: the Public Suffix List (registrable domains, TLDs);
  - chrony's and NetworkManager's defaults for periodic lookups (with the
    Debian defaults written below when those packages are absent).

The attackers' domains (ATTACKS below) are invented and checked not to be in
the lists. Addresses are from 198.18.0.0/15 (RFC 2544 benchmark space) and
2001:db8::/32; nothing ever connects to them.
"""
import base64
import hashlib
import json
import os
import random
import re
import sys

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from psl import PSL  # noqa: E402

PB = "/usr/share/webext/privacy-badger"
MIRRORS = "/usr/share/python-apt/templates"

# The attacks: label, registrable domain, how it is delegated.
ATTACKS = {
    "tunnel-iodine": {"domain": "statsync.net", "sub": "t", "ip": "10.15.9.1"},
    "tunnel-dns2tcp": {"domain": "mediacdn-update.com", "sub": "dl", "ip": "10.15.9.2"},
    "beacon-txt": {"domain": "weathersvc.org", "sub": None, "ip": "10.15.9.3"},
    "exfil-hex": {"domain": "imgstore.io", "sub": None, "ip": "10.15.9.4"},
    "exfil-base32": {"domain": "telemetry-hub.com", "sub": None, "ip": "10.15.9.5"},
}

# Authoritative servers: name -> (software, [(ns name, address)]).
PROVIDERS = {
    "aws": ("nsd", [("ns-1203.awsdns-22.org", "10.15.3.1"), ("ns-511.awsdns-63.com", "10.15.3.2")]),
    "cloudflare": ("knot", [("ada.ns.cloudflare.com", "10.15.3.3"), ("bob.ns.cloudflare.com", "10.15.3.4")]),
    "akamai": ("nsd", [("a1-64.akam.net", "10.15.3.5"), ("a7-67.akam.net", "10.15.3.6")]),
    "godaddy": ("knot", [("ns51.domaincontrol.com", "10.15.3.7"), ("ns52.domaincontrol.com", "10.15.3.8")]),
    "namecheap": ("nsd", [("dns1.registrar-servers.com", "10.15.3.9"), ("dns2.registrar-servers.com", "10.15.3.10")]),
}
ROOT = [("a.root-servers.net", "10.15.1.1"), ("b.root-servers.net", "10.15.1.2")]
GTLD = [("a.gtld-servers.net", "10.15.2.1"), ("b.gtld-servers.net", "10.15.2.2")]
CCTLD_ADDRS = ["10.15.2.3", "10.15.2.4"]
GTLDS = {"com", "net", "org", "info", "biz", "edu", "gov", "io", "co", "me", "tv", "arpa"}
CORP = ("corp.internal", "10.15.4.1")

# Periodic lookups of Debian's own services (chrony.conf, apt sources,
# NetworkManager's connectivity check); read from the files where present.
DEBIAN_PERIODIC = ["2.debian.pool.ntp.org", "deb.debian.org", "security.debian.org", "nmcheck.gnome.org"]


def h(*parts):
    return int.from_bytes(hashlib.sha256("|".join(map(str, parts)).encode()).digest()[:8], "big")


def ipv4(name, k=0):
    x = h("a", name, k)
    return f"198.{18 + (x >> 16) % 2}.{(x >> 8) % 256}.{x % 254 + 1}"


def ipv6(name):
    x = h("aaaa", name)
    return f"2001:db8:{(x >> 32) % 65536:x}:{(x >> 16) % 65536:x}::{x % 65536:x}"


OKNAME = re.compile(r"^(?=.{1,200}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z][a-z0-9-]*[a-z0-9]$")


def clean(n):
    n = n.strip().lower().rstrip(".")
    if n.startswith("*."):
        n = n[2:]
    return n if OKNAME.match(n) and not re.match(r"^[0-9.]+$", n) else None


def periodic_names():
    names = []
    try:
        for line in open("/etc/chrony/chrony.conf"):
            m = re.match(r"\s*(pool|server)\s+(\S+)", line)
            if m:
                names.append(m.group(2))
    except OSError:
        pass
    for n in DEBIAN_PERIODIC:
        if n not in names:
            names.append(n)
    return names


def main():
    out, seed = sys.argv[1], int(sys.argv[2])
    rnd = random.Random(seed)
    psl = PSL(icann_only=True)
    seedj = json.load(open(f"{PB}/data/seed.json"))
    snitch = seedj["snitch_map"]
    # third parties seen per site
    site_tp = {}
    for tp, sites in snitch.items():
        tp = clean(tp)
        if not tp:
            continue
        for s in sites:
            s = clean(s)
            if s:
                site_tp.setdefault(s, set()).add(tp)
    groups = []
    src = open(f"{PB}/js/multiDomainFirstParties.js").read()
    for g in re.findall(r"\[([^\[\]]*)\]", src):
        g = [clean(x) for x in re.findall(r'"([^"]+)"', g)]
        g = [x for x in g if x]
        if len(g) > 1:
            groups.append(g)
    fqdns = set()
    for k in list(seedj["action_map"]) + list(snitch):
        if clean(k):
            fqdns.add(clean(k))
    yellow = [clean(x) for x in open(f"{PB}/data/yellowlist.txt") if clean(x)]
    fqdns.update(yellow)
    mirrors = set()
    for f in os.listdir(MIRRORS):
        if f.endswith(".mirrors"):
            for line in open(f"{MIRRORS}/{f}"):
                m = re.match(r"\s*\w+://([^/:]+)", line)
                if m and clean(m.group(1)):
                    mirrors.add(clean(m.group(1)))
    fqdns.update(mirrors)
    periodic = [clean(x) for x in periodic_names() if clean(x)]
    fqdns.update(periodic)
    sites = sorted(site_tp)
    fqdns.update(sites)
    for g in groups:
        fqdns.update(g)
    for a in ATTACKS.values():
        for n in fqdns:
            if n == a["domain"] or n.endswith("." + a["domain"]):
                sys.exit(f"attack domain {a['domain']} is in the real lists ({n})")

    # registrable domain -> names under it ("" = apex)
    zones = {}
    for n in fqdns:
        r = psl.registrable(n)
        if not r:
            continue
        zones.setdefault(r, set()).add(n)
    # CDN and mail-hosting zones the chains point into
    for extra in ["edgekey.net", "akamaiedge.net", "cloudfront.net", "fastly.net", "google.com", "outlook.com",
                  "spamhaus.org", "spamcop.net"]:
        zones.setdefault(extra, set()).add(extra)
    providers_of = {}
    prov_names = sorted(PROVIDERS)
    for p, (_, nss) in PROVIDERS.items():
        for ns, _ in nss:
            zones.setdefault(psl.registrable(ns), set()).add(ns)
    for z in zones:
        providers_of[z] = prov_names[h("prov", z) % len(prov_names)]
    for p, (_, nss) in PROVIDERS.items():
        for ns, _ in nss:
            providers_of[psl.registrable(ns)] = p
    # the attackers' domains
    att = {}
    att_zone_ns = {}
    for label, a in ATTACKS.items():
        d = a["domain"]
        if a["sub"]:  # registrable domain at a registrar's DNS; the tunnel subdomain delegated
            zones[d] = {d, "www." + d}
            providers_of[d] = "namecheap" if label == "tunnel-iodine" else "godaddy"
        else:  # the attacker runs the domain's own servers
            att_zone_ns[d] = [(f"ns1.{d}", a["ip"]), (f"ns2.{d}", a["ip"])]
        att[label] = dict(a)

    tlds = sorted({z.rsplit(".", 1)[-1] for z in zones} | {"arpa"})
    os.makedirs(f"{out}/zones", exist_ok=True)

    def soa(origin, mname, neg=300):
        return (f"$ORIGIN {origin}.\n$TTL 3600\n@ IN SOA {mname}. hostmaster.{origin if origin else 'root'}. "
                f"2026120601 7200 900 1209600 {neg}\n")

    # ---- root ----
    zl = [soa("", ROOT[0][0], 86400).replace("$ORIGIN .\n", "$ORIGIN .\n")]
    zl.append("$TTL 518400\n")
    for ns, a in ROOT:
        zl.append(f"@ IN NS {ns}.\n{ns}. IN A {a}\n")
    for t in tlds:
        if t in GTLDS:
            for ns, _ in GTLD:
                zl.append(f"{t}. 172800 IN NS {ns}.\n")
        else:
            for i, a in enumerate(CCTLD_ADDRS):
                zl.append(f"{t}. 172800 IN NS {'ab'[i]}.nic.{t}.\n{'ab'[i]}.nic.{t}. 172800 IN A {a}\n")
    for ns, a in GTLD:
        zl.append(f"{ns}. 172800 IN A {a}\n")
    # root-servers.net itself
    zl.append("root-servers.net. 172800 IN NS a.root-servers.net.\n")
    open(f"{out}/zones/root.zone", "w").write("".join(zl))
    open(f"{out}/root.hints", "w").write("".join(f".  3600000 NS {ns}.\n{ns}. 3600000 A {a}\n" for ns, a in ROOT))
    rs = soa("root-servers.net", ROOT[0][0]) + "".join(f"@ IN NS {ns}.\n" for ns, _ in ROOT)
    rs += "".join(f"{ns.split('.')[0]} IN A {a}\n" for ns, a in ROOT)
    open(f"{out}/zones/root-servers.net.zone", "w").write(rs)

    # ---- TLDs: delegations of every registrable domain ----
    glue_of = {}  # ns name -> address
    for p, (_, nss) in PROVIDERS.items():
        for ns, a in nss:
            glue_of[ns] = a
    for d, nss in att_zone_ns.items():
        for ns, a in nss:
            glue_of[ns] = a
    for ns, a in GTLD:
        glue_of[ns] = a
    tld_text = {t: [soa(t, GTLD[0][0] if t in GTLDS else f"a.nic.{t}", 900)] for t in tlds}
    for t in tlds:
        if t in GTLDS:
            tld_text[t] += [f"@ 172800 IN NS {ns}.\n" for ns, _ in GTLD]
        else:
            tld_text[t] += [f"@ 172800 IN NS {'ab'[i]}.nic.{t}.\n{'ab'[i]}.nic 172800 IN A {a}\n"
                            for i, a in enumerate(CCTLD_ADDRS)]
    tld_text["net"].append("".join(f"{ns}. 172800 IN A {a}\n" for ns, a in GTLD))

    def ns_of(z):
        if z in att_zone_ns:
            return [ns for ns, _ in att_zone_ns[z]]
        return [ns for ns, _ in PROVIDERS[providers_of[z]][1]]

    for z in sorted(set(zones) | set(att_zone_ns)):
        t = z.rsplit(".", 1)[-1]
        for ns in ns_of(z):
            tld_text[t].append(f"{z}. 172800 IN NS {ns}.\n")
            if ns.endswith("." + z):  # in-bailiwick: glue
                tld_text[t].append(f"{ns}. 172800 IN A {glue_of[ns]}\n")
    # reverse: arpa -> in-addr.arpa -> 18/19.198.in-addr.arpa at akamai's servers
    for rz in ["18.198.in-addr.arpa", "19.198.in-addr.arpa"]:
        for ns, _ in PROVIDERS["akamai"][1]:
            tld_text["arpa"].append(f"{rz}. 86400 IN NS {ns}.\n")
    for t in tlds:
        open(f"{out}/zones/tld.{t}.zone", "w").write("".join(tld_text[t]))

    # ---- second-level zones ----
    ttl_a = [20, 60, 300, 300, 300, 600, 3600, 3600, 86400]
    rev = {}  # address -> ptr name
    zone_files = {p: [] for p in PROVIDERS}
    mx_of = {}
    cdn = {"edgekey.net": [], "akamaiedge.net": [], "cloudfront.net": [], "fastly.net": []}
    site_set = set(sites)
    mailish = set(sites) | {g[0] for g in groups}
    for z in sorted(zones):
        if z in att_zone_ns:
            continue
        p = providers_of[z]
        names = zones[z] | {z}
        lines = [soa(z, ns_of(z)[0], rnd.choice([60, 300, 300, 900, 3600]))]
        lines += [f"@ 86400 IN NS {ns}.\n" for ns in ns_of(z)]
        for ns, a in PROVIDERS[p][1]:
            if ns.endswith("." + z):
                lines.append(f"{ns}. 86400 IN A {a}\n")
        if z in mailish:
            r = h("mx", z) % 10
            if r < 6:
                lines.append(f"@ 3600 IN MX 10 mx1.{z}.\n@ 3600 IN MX 20 mx2.{z}.\n")
                names |= {f"mx1.{z}", f"mx2.{z}"}
                mx_of[z] = [f"mx1.{z}", f"mx2.{z}"]
                inc = ""
            elif r < 9:
                lines.append(f"@ 3600 IN MX 1 aspmx.l.google.com.\n@ 3600 IN MX 5 alt1.aspmx.l.google.com.\n")
                mx_of[z] = ["aspmx.l.google.com", "alt1.aspmx.l.google.com"]
                inc = " include:_spf.google.com"
            else:
                mx = z.replace(".", "-") + ".mail.protection.outlook.com"
                lines.append(f"@ 3600 IN MX 0 {mx}.\n")
                cdn.setdefault("outlook.com", []).append(f"{mx}. 10 IN A {ipv4(mx)}\n")
                mx_of[z] = [mx]
                inc = " include:spf.protection.outlook.com"
            lines.append(f'@ 3600 IN TXT "v=spf1 mx{inc} -all"\n')
            lines.append(f'_dmarc 3600 IN TXT "v=DMARC1; p={rnd.choice(["none", "quarantine", "reject"])}; '
                         f'rua=mailto:dmarc@{z}"\n')
            key = base64.b64encode(random.Random(h("dkim", z)).randbytes(270)).decode()
            lines.append(f'selector1._domainkey 3600 IN TXT "v=DKIM1; k=rsa; p={key[:200]}" "{key[200:]}"\n')
            if h("site-verif", z) % 3 == 0:
                lines.append(f'@ 3600 IN TXT "google-site-verification={base64.urlsafe_b64encode(random.Random(h("gsv", z)).randbytes(32)).decode().rstrip("=")}"\n')
        for n in sorted(names):
            rel = "@" if n == z else n[: -len(z) - 1]
            ttl = ttl_a[h("ttl", n) % len(ttl_a)]
            kind = h("kind", n) % 100
            if n in glue_of:
                continue  # a name server: its address is the glue above
            if rel.startswith("mx"):
                kind = 99  # MX targets must not be aliases
            if rel == "www" or (rel != "@" and kind < 12):
                if z in site_set and kind < 30 and rel == "www":
                    # www -> edgekey -> akamaiedge
                    e = f"e{h('e', n) % 9000 + 1000}.a.akamaiedge.net"
                    k = n.replace(".", "-") + ".edgekey.net"
                    lines.append(f"{rel} 300 IN CNAME {k}.\n")
                    cdn["edgekey.net"].append(f"{k}. 21600 IN CNAME {e}.\n")
                    cdn["akamaiedge.net"].append(f"{e}. 20 IN A {ipv4(e)}\n{e}. 20 IN AAAA {ipv6(e)}\n")
                    continue
                if kind < 50:
                    c = f"d{h('cf', n) % 16**13:013x}.cloudfront.net"
                    lines.append(f"{rel} {ttl} IN CNAME {c}.\n")
                    for k in range(1 + h("n", c) % 4):
                        cdn["cloudfront.net"].append(f"{c}. 60 IN A {ipv4(c, k)}\n")
                    continue
            if rel != "@" and 12 <= kind < 18:
                f = f"{rel.split('.')[0]}-{z.split('.')[0]}.map.fastly.net"
                lines.append(f"{rel} {ttl} IN CNAME {f}.\n")
                cdn["fastly.net"].append(f"{f}. 30 IN A {ipv4(f)}\n")
                continue
            for k in range(1 + h("na", n) % 3):
                a = ipv4(n, k)
                lines.append(f"{rel} {ttl} IN A {a}\n")
                if h("ptr", a) % 10 < 7:
                    rev.setdefault(a, n)
            if h("v6", n) % 10 < 6:
                lines.append(f"{rel} {ttl} IN AAAA {ipv6(n)}\n")
            if rel == "@" and z in site_set and f"www.{z}" not in names:
                lines.append("www 300 IN CNAME @\n")
        zone_files[p].append((z, "".join(lines)))
    # the CDN and mail zones get their chain targets
    extra = {}
    for z, recs in cdn.items():
        extra[z] = "".join(sorted(set(recs)))
    gmx = "".join(f"{n}. 300 IN A {ipv4(n)}\n{n}. 300 IN AAAA {ipv6(n)}\n"
                  for n in ["aspmx.l.google.com", "alt1.aspmx.l.google.com"])
    gmx += '_spf.google.com. 300 IN TXT "v=spf1 include:_netblocks.google.com ~all"\n'
    gmx += '_netblocks.google.com. 3600 IN TXT "v=spf1 ip4:198.18.0.0/20 ip6:2001:db8:4860::/48 ~all"\n'
    extra["google.com"] = extra.get("google.com", "") + gmx
    extra["outlook.com"] = extra.get("outlook.com", "") + 'spf.protection.outlook.com. 3600 IN TXT "v=spf1 ip4:198.19.0.0/20 -all"\n'
    # DNS blocklists: a few listed addresses, the rest NXDOMAIN
    listed = set()
    for z in ["zen.spamhaus.org", "bl.spamcop.net"]:
        reg = psl.registrable(z)
        rows = [f"$ORIGIN {z}.\n"]
        for i in range(300):
            a = ipv4(f"spam{i}")
            listed.add(a)
            r = ".".join(reversed(a.split(".")))
            rows.append(f"{r} 900 IN A 127.0.0.{rnd.choice([2, 3, 4, 10, 11])}\n{r} 900 IN TXT \"Listed: see https://check.{reg}/query/ip/{a}\"\n")
        rows.append(f"$ORIGIN {reg}.\n")
        extra[reg] = extra.get(reg, "") + "".join(rows)
    for p in zone_files:
        fixed = []
        for z, text in zone_files[p]:
            if z in extra:
                text += extra[z]
            fixed.append((z, text))
        zone_files[p] = fixed
    # reverse zones
    revz = {"18.198.in-addr.arpa": [], "19.198.in-addr.arpa": []}
    for a, n in rev.items():
        o = a.split(".")
        revz[f"{o[1]}.198.in-addr.arpa"].append(f"{o[3]}.{o[2]} 3600 IN PTR {n}.\n")
    for rz, rows in revz.items():
        text = soa(rz, PROVIDERS["akamai"][1][0][0]) + "".join(f"@ IN NS {ns}.\n" for ns, _ in PROVIDERS["akamai"][1])
        zone_files["akamai"].append((rz, text + "".join(sorted(rows))))

    # ---- the attackers' zones (delegation side only; their servers answer the rest) ----
    for label, a in ATTACKS.items():
        if a["sub"]:
            p = providers_of[a["domain"]]
            for i, (z, text) in enumerate(zone_files[p]):
                if z == a["domain"]:
                    text += f"{a['sub']} 3600 IN NS ns-{a['sub']}.{z}.\nns-{a['sub']} 3600 IN A {a['ip']}\n"
                    zone_files[p][i] = (z, text)

    # ---- the company's internal zone ----
    corp = [soa(CORP[0], f"dc01.{CORP[0]}"), f"@ IN NS dc01.{CORP[0]}.\n@ IN NS dc02.{CORP[0]}.\n"]
    internal = {"dc01": "10.15.4.1", "dc02": "10.15.4.2", "intranet": "10.15.5.10", "wiki": "10.15.5.11",
                "mail": "10.15.5.12", "fileserver": "10.15.5.13", "gitlab": "10.15.5.14", "jira": "10.15.5.15",
                "vpn": "10.15.5.16", "proxy": "10.15.5.17", "printer-2f": "10.15.6.20", "printer-3f": "10.15.6.21",
                "backup": "10.15.5.18", "monitor": "10.15.5.19", "ntp": "10.15.5.20", "resolver": "10.15.0.53"}
    for i in range(1, 41):
        internal[f"ws-{i:03d}"] = f"10.15.10.{i}"
    for n, a in internal.items():
        corp.append(f"{n} 1200 IN A {a}\n")
    corp.append(f"_ldap._tcp 600 IN SRV 0 100 389 dc01.{CORP[0]}.\n_ldap._tcp 600 IN SRV 0 100 389 dc02.{CORP[0]}.\n")
    corp.append(f"_kerberos._udp 600 IN SRV 0 100 88 dc01.{CORP[0]}.\n_kerberos._tcp 600 IN SRV 0 100 88 dc01.{CORP[0]}.\n")
    corp.append(f"wpad 1200 IN CNAME proxy.{CORP[0]}.\n")
    open(f"{out}/zones/{CORP[0]}.zone", "w").write("".join(corp))
    r10 = [soa("10.in-addr.arpa", f"dc01.{CORP[0]}"), f"@ IN NS dc01.{CORP[0]}.\n"]
    for n, a in internal.items():
        o = a.split(".")
        r10.append(f"{o[3]}.{o[2]}.{o[1]} 1200 IN PTR {n}.{CORP[0]}.\n")
    open(f"{out}/zones/10.in-addr.arpa.zone", "w").write("".join(r10))

    # ---- write zone files and server configurations ----
    for p, zs in zone_files.items():
        for z, text in zs:
            open(f"{out}/zones/{p}.{z}.zone", "w").write(text)
    servers = {"root": ("nsd", [a for _, a in ROOT], [(".", "root.zone"), ("root-servers.net", "root-servers.net.zone")]),
               "tld": ("nsd", [a for _, a in GTLD] + CCTLD_ADDRS, [(t, f"tld.{t}.zone") for t in tlds]),
               "corp": ("nsd", [CORP[1], "10.15.4.2"], [(CORP[0], f"{CORP[0]}.zone"), ("10.in-addr.arpa", "10.in-addr.arpa.zone")])}
    for p, (sw, nss) in PROVIDERS.items():
        servers[p] = (sw, [a for _, a in nss], [(z, f"{p}.{z}.zone") for z, _ in zone_files[p]])
    json.dump(servers, open(f"{out}/servers.json", "w"), indent=1)

    # ---- the clients' plan ----
    rank = sorted(sites, key=lambda s: (-len(site_tp[s]), h("rank", s, seed)))
    tp_count = {}
    for s in sites:
        for t in site_tp[s]:
            tp_count[t] = tp_count.get(t, 0) + 1
    common_tp = sorted(tp_count, key=lambda t: -tp_count[t])[:60]
    group_of = {}
    for g in groups:
        for d in g:
            group_of[d] = [x for x in g if x != d][:4]
    site_names = {s: sorted(n for n in zones.get(psl.registrable(s) or s, ()) if n == s or n == "www." + s or n.endswith("." + s))[:6]
                  for s in rank}
    longtail = sorted(fqdns - set(sites) - set(common_tp))
    plan = {
        "sites": rank,
        "site_tp": {s: sorted(site_tp[s]) for s in rank},
        "site_names": site_names,
        "groups": group_of,
        "common_tp": common_tp,
        "longtail": longtail,
        "mirrors": sorted(mirrors),
        "periodic": periodic,
        "mail_domains": sorted(mx_of, key=lambda d: (d not in site_set, rank.index(d) if d in site_set else 0, d)),
        "mx": mx_of,
        "dnsbl": ["zen.spamhaus.org", "bl.spamcop.net"],
        "sender_ips": sorted(rev)[:3000] + sorted(listed),
        "internal": sorted(internal),
        "corp": CORP[0],
        "attacks": att,
    }
    json.dump(plan, open(f"{out}/names.json", "w"))
    print(f"zones: {len(zones)} registrable domains under {len(tlds)} TLDs, {len(fqdns)} names from the lists, "
          f"{len(sites)} sites, {len(rev)} PTRs", file=sys.stderr)


if __name__ == "__main__":
    main()
