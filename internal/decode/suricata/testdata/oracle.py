"""An independent reading of Suricata EVE logs for the decoder's tests.

Reads an EVE file with Python's json and datetime and dnspython's type and
rcode tables, and prints, for one of the decoders (flow, dns or http), what
it should make of the file: the records' key fields, the lines skipped as
malformed and the events of other types passed over, by type.

usage: oracle.py FILE (prints the readings of flow, dns, dns_queries (with
queries) and http)
"""
import gzip
import ipaddress
import json
import sys
from datetime import datetime, timezone

from urllib.parse import urlsplit

import dns.rcode
import dns.rdatatype

EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)
TYPES = {"flow": ("flow", "netflow"), "dns": ("dns",), "http": ("http",)}
SERVER_PORTS = {53, 5353, 5355, 853}


def ns(s):
    t = datetime.fromisoformat(s)
    if t.tzinfo is None:
        t = t.replace(tzinfo=timezone.utc)
    return (t - EPOCH) // (datetime.resolution) * 1000


def whole(v):
    if isinstance(v, bool) or not isinstance(v, (int, float)) or v != int(v):
        raise ValueError(v)
    return int(v)


def flow(e):
    ts = ns(e["timestamp"])
    o = e["flow"] if e["event_type"] == "flow" else e["netflow"]
    start = ns(o.get("start", e["timestamp"]))
    end = ns(o.get("end", o.get("start", e["timestamp"])))
    if e["event_type"] == "flow":
        counts = [whole(o.get(k, 0)) for k in ("pkts_toserver", "bytes_toserver", "pkts_toclient", "bytes_toclient")]
    else:
        counts = [whole(o.get("pkts", 0)), whole(o.get("bytes", 0)), 0, 0]
    if "icmp_type" in e:
        ports = [0, whole(e["icmp_type"]) * 256 + whole(e.get("icmp_code", 0))]
    else:
        ports = [whole(e.get("src_port", 0)), whole(e.get("dest_port", 0))]
    flags = int(e.get("tcp", {}).get("tcp_flags", "0"), 16) if e["proto"] == "TCP" else 0
    del ts
    return [e["src_ip"], ports[0], e["dest_ip"], ports[1]] + counts + [start, end, flags]


def rrtype(name):
    return int(dns.rdatatype.from_text(name)) if name else 0


def dns_event(e):
    d = e["dns"]
    ts = ns(e["timestamp"])
    resp = {"answer": True, "response": True, "query": False, "request": False}[d["type"]]
    version = d.get("version", 1)
    src_client = not resp or version == 2
    sp, dp = e["src_port"] in SERVER_PORTS, e["dest_port"] in SERVER_PORTS
    if sp != dp:
        src_client = dp
    client, server = (e["src_ip"], e["dest_ip"]) if src_client else (e["dest_ip"], e["src_ip"])
    client_port = whole(e["src_port"] if src_client else e["dest_port"])
    q = d["queries"][0] if d.get("queries") else d
    rcode = int(dns.rcode.from_text(d["rcode"])) if resp and d.get("rcode") else 0
    answers = []
    if "answers" in d:
        answers = [a.get("rdata") for a in d["answers"]]
    elif "grouped" in d:
        answers = [v for vs in d["grouped"].values() for v in vs]
    elif version == 1 and resp and ("rdata" in d or "ttl" in d):
        answers = [d.get("rdata")]
    answers = [canon(a) for a in answers]
    return {"ts": ts, "resp": resp, "client": client, "client_port": client_port, "server": server,
            "name": q.get("rrname", ""),
            "type": rrtype(q.get("rrtype")), "rcode": rcode, "id": whole(d["id"]), "answers": answers,
            "v1": version == 1 and resp and "answers" not in d and "grouped" not in d,
            "key": [e.get("flow_id"), d["id"], sorted([e["src_port"], e["dest_port"]])]}


def canon(a):
    """IPv6 addresses in their short form (Suricata writes them long)."""
    if isinstance(a, str) and ":" in a:
        try:
            return str(ipaddress.IPv6Address(a))
        except ValueError:
            pass
    return a


def http(e):
    ns(e["timestamp"])
    h = e["http"]
    url = h.get("url", "")
    host = h.get("hostname", "")
    u = urlsplit(url)
    path = url.split("?", 1)[0]
    if u.scheme and u.netloc:
        host, path = u.hostname, u.path
    query = "?" + url.split("?", 1)[1] if "?" in url else ""
    return [e["src_ip"], host or "-", path or "-", query or "-", str(h.get("status", "-")), whole(h.get("length", 0))]


def main():
    path = sys.argv[1]
    json.dump({"flow": reading("flow", path, False), "dns": reading("dns", path, False),
               "dns_queries": reading("dns", path, True), "http": reading("http", path, False)}, sys.stdout)


def leading_type(line):
    """The event_type of a line that is not valid JSON when the members
    before it, and it, are: the decoders stop reading an event of a type
    they do not take at its event_type, so that the rest of its line is not
    checked. None otherwise."""
    dec = json.JSONDecoder()
    try:
        s = line.decode()
        i = len(s) - len(s.lstrip(" \t\r\n"))
        if s[i] != "{":
            return None
        i += 1
        while True:
            i += len(s[i:]) - len(s[i:].lstrip(" \t\r\n"))
            key, i = dec.raw_decode(s, i)
            i += len(s[i:]) - len(s[i:].lstrip(" \t\r\n"))
            if not isinstance(key, str) or s[i] != ":":
                return None
            i += 1
            i += len(s[i:]) - len(s[i:].lstrip(" \t\r\n"))
            value, i = dec.raw_decode(s, i)
            if key == "event_type":
                return value if isinstance(value, str) else None
            i += len(s[i:]) - len(s[i:].lstrip(" \t\r\n"))
            if s[i] != ",":
                return None
            i += 1
    except (ValueError, IndexError, UnicodeDecodeError):
        return None


def reading(kind, path, queries):
    opener = gzip.open if path.endswith(".gz") else open
    out = {"events": 0, "skipped": 0, "passed": {}, "records": [], "queries_left": 0, "merged": 0}
    last = None  # the pending v1 response's key
    asked = {}  # v1 queries by key: their name and type
    with opener(path, "rb") as f:
        for raw in f:
            line = raw.strip()
            if not line:
                continue
            out["events"] += 1
            try:
                e = json.loads(line)
                t = e["event_type"]
            except Exception:
                t = leading_type(line)
                if t is not None and t not in TYPES[kind]:
                    out["passed"][t] = out["passed"].get(t, 0) + 1
                else:
                    out["skipped"] += 1
                continue
            if t not in TYPES[kind]:
                out["passed"][t] = out["passed"].get(t, 0) + 1
                continue
            try:
                rec = {"flow": flow, "dns": dns_event, "http": http}[kind](e)
            except Exception:
                out["skipped"] += 1
                continue
            if kind != "dns":
                out["records"].append(rec)
                continue
            k = json.dumps(rec["key"])
            if not rec["resp"] and e["dns"].get("version", 1) == 1:
                asked[k] = (rec["name"], rec["type"])
            if rec["v1"] and last is not None and rec["key"] == last:
                out["records"][-1]["answers"] += rec["answers"]
                out["merged"] += 1
                continue
            last = rec["key"] if rec["v1"] else None
            if rec["v1"] and k in asked:
                rec["name"], rec["type"] = asked[k]
            if not rec["resp"] and not queries:
                out["queries_left"] += 1
                continue
            out["records"].append(rec)
    if kind == "dns":
        out["records"] = [[r["client"], r["client_port"], r["server"], r["name"], r["type"], r["rcode"], r["id"], r["resp"],
                           len(r["answers"]), [a for a in r["answers"] if a is not None], r["ts"]] for r in out["records"]]
    return out


main()
