#!/bin/bash
# Makes the flows-lab dataset: web traffic of a small office as a capture on
# a mirror port sees it, with HTTP beacons, an nmap scan and a bulk upload.
#
#   sudo bash scripts/eval/gen/flows-lab.sh [OUTDIR]     (default testdata/eval)
#   DURATION=1800 (seconds of traffic), SEED=1
#
# Writes OUTDIR/flows-lab.pcap.gz (headers only: snap length 96, which is
# all that flows need; IP lengths keep the byte counts) and
# OUTDIR/flows-lab.labels.csv.gz. Needs root; installs the Debian packages it
# lacks. All traffic stays in network namespaces named s15f-* on one bridge
# (a hub: ageing time 0, so the capture namespace sees every frame), made
# here and deleted at exit; IPv4 only. Real programs:
#   web servers  lighttpd (two sites), Python's http.server (a site, software
#                downloads, form uploads; the C2s and the upload sink)
#   clients      curl, driven by webclient.py: browsing bursts from 12 hosts,
#                four beacons (30/45/60/90 s, 10-30% jitter), a benign poller
#                (every 60 s on the second, no jitter)
#   attacks      nmap 7.93 (a SYN scan, then a connect scan) from its own
#                host; a 10 MB upload (curl, rate-limited) from a browsing host
#   capture      tcpdump; labels from tshark by the rules in label_flows.py
set -euo pipefail
HERE="$(cd "$(dirname "$0")" && pwd)"
OUT="$(realpath -m "${1:-$HERE/../../../testdata/eval}")"
DURATION="${DURATION:-1800}"
SEED="${SEED:-1}"
NAME="${NAME:-flows-lab}"
PY=/usr/bin/python3
LAB=s15f
. "$HERE/lab.sh"
[ "$(id -u)" = 0 ] || { echo "flows-lab.sh: needs root (network namespaces)" >&2; exit 1; }
[ "$DURATION" -ge 120 ] && [ "$DURATION" -le 2700 ] || { echo "DURATION must be 120..2700 s" >&2; exit 2; }
need lighttpd nmap curl tcpdump tshark ethtool iproute2

W="$(mktemp -d /tmp/s15f-flows.XXXXXX)"
PIDS=()
finish() {
  local p
  for p in "${PIDS[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
  lab_down
  [ -n "${KEEP:-}" ] && echo "work dir kept: $W" >&2 || rm -rf "$W"
}
trap finish EXIT
spawn() { "$@" & PIDS+=($!); }

# ---- content: three sites of pages and resources, downloads, C2 files ----
$PY - "$W" "$SEED" <<'PY'
import json, math, os, random, sys
w, seed = sys.argv[1], int(sys.argv[2])
rnd = random.Random(seed)
text = b" ".join(rnd.choice([b"the", b"of", b"lorem", b"ipsum", b"data", b"page", b"news", b"img"]) for _ in range(400000))
def blob(n):  # contents: only their sizes matter (the capture keeps headers)
    o = rnd.randrange(len(text) - n) if n < len(text) else 0
    return text[o:o + n]
servers = []
for i, url in enumerate(["http://10.16.1.1", "http://10.16.1.2", "http://10.16.1.3:8000"], 1):
    d = f"{w}/site{i}"
    os.makedirs(f"{d}/static", exist_ok=True)
    shared = []
    for k in range(30):  # resources shared by the site's pages (css, js, logos)
        ext = rnd.choice(["css", "js", "png", "jpg", "woff2"])
        name = f"static/r{k}.{ext}"
        open(f"{d}/{name}", "wb").write(blob(int(math.exp(rnd.gauss(7.6, 1.0)))))
        shared.append("/" + name)
    pages = []
    for p in range(40):
        path = "/index.html" if p == 0 else f"/p{p}.html"
        own = []
        for k in range(rnd.randint(0, 6)):
            name = f"static/p{p}-{k}.{rnd.choice(['jpg', 'png', 'webp'])}"
            open(f"{d}/{name}", "wb").write(blob(int(math.exp(rnd.gauss(8.3, 1.1)))))
            own.append("/" + name)
        res = rnd.sample(shared, rnd.randint(2, 8)) + own
        open(f"{d}{path}", "w").write("<html>" + "".join(f'<img src="{r}">' for r in res) + "x" * rnd.randint(2000, 20000) + "</html>")
        pages.append({"path": path, "resources": res})
    servers.append({"url": url, "pages": pages})
    open(f"{d}/status.json", "w").write('{"ok": true, "queue": 3}')
os.makedirs(f"{w}/site3/dl", exist_ok=True)
downloads = []
for k in range(3):
    open(f"{w}/site3/dl/update-{k}.deb", "wb").write(blob(rnd.randint(600_000, 1_000_000)))
    downloads.append(f"http://10.16.1.3:8000/dl/update-{k}.deb")
for c2 in ["c2a", "c2b"]:
    os.makedirs(f"{w}/{c2}/api/v1", exist_ok=True)
open(f"{w}/c2a/api/v1/check", "w").write("0")
open(f"{w}/c2b/news.php", "w").write("<p>" + "n" * 310 + "</p>")
open(f"{w}/c2b/jquery.min.js", "wb").write(rnd.randbytes(1900))
os.makedirs(f"{w}/sink", exist_ok=True)
json.dump({"servers": servers, "downloads": downloads, "upload": "http://10.16.1.3:8000/upload"},
          open(f"{w}/sites.json", "w"))
PY
head -c 10000000 /dev/urandom >"$W/archive.7z"

# ---- the network ----
lab_up
ip -n "$LAB-sw" link set br0 type bridge ageing_time 0
host4() {
  local n="$1"; shift
  ip netns add "$LAB-$n"
  ip netns exec "$LAB-$n" sysctl -qw net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1
  ip -n "$LAB-$n" link set lo up
  ip link add eth0 netns "$LAB-$n" type veth peer name "v-$n" netns "$LAB-sw"
  ip -n "$LAB-sw" link set "v-$n" master br0 up
  local a; for a in "$@"; do ip -n "$LAB-$n" addr add "$a" dev eth0; done
  ip -n "$LAB-$n" link set eth0 up
  ip netns exec "$LAB-$n" ethtool -K eth0 tx off rx off tso off gso off gro off >/dev/null 2>&1 || true
}
host4 mon
host4 web1 10.16.1.1/16
host4 web2 10.16.1.2/16
host4 web3 10.16.1.3/16
host4 c2a 10.16.2.1/16
host4 c2b 10.16.2.2/16
host4 sink 10.16.3.1/16
host4 scan 10.16.10.66/16
for i in $(seq 1 12); do host4 "$(printf c%02d "$i")" "10.16.10.$i/16"; done
ip -n "$LAB-mon" link set eth0 promisc on

# ---- servers ----
for i in 1 2; do
  cat >"$W/lighttpd$i.conf" <<EOF
server.document-root = "$W/site$i"
server.bind = "10.16.1.$i"
server.port = 80
server.pid-file = "$W/lighttpd$i.pid"
server.errorlog = "$W/lighttpd$i.err"
server.max-keep-alive-requests = 100
index-file.names = ( "index.html" )
mimetype.assign = ( ".html" => "text/html", ".css" => "text/css", ".js" => "application/javascript",
  ".png" => "image/png", ".jpg" => "image/jpeg", ".webp" => "image/webp", ".woff2" => "font/woff2",
  ".json" => "application/json" )
EOF
  spawn lab_exec "web$i" lighttpd -D -f "$W/lighttpd$i.conf" >"$W/lighttpd$i.out" 2>&1
done
spawn lab_exec web3 "$PY" "$HERE/dnsserver.py" http 10.16.1.3 8000 "$W/site3" >"$W/web3.log" 2>&1
spawn lab_exec c2a "$PY" "$HERE/dnsserver.py" http 10.16.2.1 80 "$W/c2a" >"$W/c2a.log" 2>&1
spawn lab_exec c2b "$PY" "$HERE/dnsserver.py" http 10.16.2.2 8080 "$W/c2b" >"$W/c2b.log" 2>&1
spawn lab_exec sink "$PY" "$HERE/dnsserver.py" http 10.16.3.1 443 "$W/sink" >"$W/sink.log" 2>&1
sleep 2
spawn lab_exec mon tcpdump -i eth0 -n -U -s 96 -w "$W/cap.pcap" ip >"$W/tcpdump.log" 2>&1
sleep 2
lab_exec c01 curl -s -o /dev/null -m 5 http://10.16.1.1/index.html || { echo "web check failed" >&2; cat "$W/lighttpd1.out" >&2; exit 1; }
T0=$(date +%s)
echo "traffic for $DURATION s from $(date -u +%H:%M:%S)" >&2

# ---- clients ----
think=(0 40 60 30 90 45 70 50 35 80 55 65 75)
for i in $(seq 1 12); do
  spawn lab_exec "$(printf c%02d "$i")" timeout $((DURATION + 60)) "$PY" "$HERE/webclient.py" browse "$W/sites.json" $((SEED * 100 + i)) "$DURATION" "${think[$i]}" >>"$W/clients.log" 2>&1
done
B="timeout $((DURATION + 60)) $PY $HERE/webclient.py"
spawn lab_exec c03 $B beacon http://10.16.2.1/api/v1/check $((SEED * 100 + 21)) "$DURATION" 60 0.2 >>"$W/beacons.log" 2>&1
spawn lab_exec c06 $B beacon http://10.16.2.1/submit $((SEED * 100 + 22)) "$DURATION" 30 0.1 post >>"$W/beacons.log" 2>&1
spawn lab_exec c09 $B beacon http://10.16.2.2:8080/news.php $((SEED * 100 + 23)) "$DURATION" 90 0.3 >>"$W/beacons.log" 2>&1
spawn lab_exec c11 $B beacon http://10.16.2.2:8080/jquery.min.js $((SEED * 100 + 24)) "$DURATION" 45 0.25 >>"$W/beacons.log" 2>&1
spawn lab_exec c12 $B poll http://10.16.1.2/status.json $((SEED * 100 + 25)) "$DURATION" 60 >>"$W/clients.log" 2>&1

attacks() {
  sleep $((DURATION / 3))
  lab_exec scan timeout 600 nmap -sS -n -T4 --max-retries 1 --top-ports 200 10.16.1.1-3 10.16.2.1-2 10.16.3.1 10.16.10.1-12 >"$W/nmap1.log" 2>&1 || true
  sleep $((DURATION / 6))
  lab_exec c07 timeout 300 curl -s --limit-rate 300k -T "$W/archive.7z" http://10.16.3.1:443/backup.7z || echo "upload failed" >&2
  sleep $((DURATION / 8))
  lab_exec scan timeout 600 nmap -sT -n -T3 --max-retries 1 -p 21,22,23,25,80,110,135,139,143,443,445,3306,3389,5900,8000,8080 10.16.0.0/20 >"$W/nmap2.log" 2>&1 || true
}
attacks & PIDS+=($!)

while [ $(($(date +%s) - T0)) -lt $((DURATION + 10)) ]; do sleep 5; done
for p in "${PIDS[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
sleep 2
lab_down
PIDS=()
{
  grep -h -E 'Nmap done|scanned' "$W"/nmap*.log || true
  cmp -s "$W/archive.7z" "$W/sink/upload-backup.7z" && echo "upload: complete (10000000 bytes)" || echo "upload: INCOMPLETE"
} | tee "$W/outcome.txt" >&2

mkdir -p "$OUT"
$PY "$HERE/label_flows.py" "$W/cap.pcap" >"$W/labels.csv"
gzip -9nc "$W/cap.pcap" >"$OUT/$NAME.pcap.gz"
gzip -9nc "$W/labels.csv" >"$OUT/$NAME.labels.csv.gz"
cp "$W/outcome.txt" "$OUT/$NAME.outcome.txt"
ls -la "$OUT/$NAME".* >&2
