#!/usr/bin/env bash
# Makes the sFlow v5 test captures in testdata/flow/sflow/ with a real
# exporter: pmacct's sfprobe plugin (Debian package pmacct) reads a traffic
# capture of the corpus and exports sFlow to a port on loopback, where
# tcpdump captures the datagrams. Run as root (tcpdump on lo); about 70 s,
# the captures in parallel (sfprobe sends its last datagram when its 60 s
# poll timeout fires: stopping earlier loses the last samples).
#
#   scripts/sflow/regen.sh [CORPUS]      # default ../shared/corpus
set -euo pipefail
cd "$(dirname "$0")/../.."
corpus=${1:-${SPOT_CORPUS:-../shared/corpus}}
out=testdata/flow/sflow
mkdir -p "$out"
work=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null || true; rm -rf "$work"' EXIT

# name capture sampling-rate port
runs=(
  "http_ipv6 flows/ndpi/http_ipv6.pcap 1 16343"
  "gnutella flows/ndpi/gnutella.pcap 10 16344"
  "6in4tunnel flows/ndpi/6in4tunnel.pcap 1 16345"
  "synscan flows/ndpi/synscan.pcap 4 16346"
)
pids=()
for r in "${runs[@]}"; do
  read -r name capture rate port <<<"$r"
  conf=$work/$name.conf
  cat >"$conf" <<CONF
daemonize: false
pcap_savefile: $corpus/$capture
pcap_savefile_wait: true
plugins: sfprobe
sampling_rate: $rate
sfprobe_receiver: 127.0.0.1:$port
sfprobe_agentip: 127.0.0.1
sfprobe_agentsubid: 1402
logfile: $work/$name.log
CONF
  dest=$out/$name.sfprobe-r$rate.pcap
  (
    tcpdump -i lo -U -w "$dest.tmp" "udp dst port $port" 2>/dev/null & tpid=$!
    sleep 1
    pmacctd -f "$conf" >/dev/null 2>&1 & ppid=$!
    sleep 66
    kill -INT $ppid; wait $ppid || true
    sleep 1
    kill -INT $tpid; wait $tpid || true
    mv "$dest.tmp" "$dest"; chmod 644 "$dest"
    echo "$dest: $(capinfos -c "$dest" | awk '/Number of packets/ {print $NF}') datagrams"
  ) &
  pids+=($!)
done
for p in "${pids[@]}"; do wait "$p"; done
