#!/usr/bin/env bash
# Live capture benchmark (make bench-live; root): DNS queries flooded at
# RATE per second for about SECONDS over a veth pair between two network
# namespaces made here (s18-bench-*) and deleted at the end, captured on the
# receiving end by "spot decode dns --queries --interface" and by tcpdump
# side by side. Prints what was sent, what each captured and what the kernel
# dropped for each: spot must write a record for every query the kernel
# delivered to it (records = sent - dropped, drops reported).
#
#   scripts/live/bench.sh [RATE [SECONDS [RUNS]]]    (default 110000 3 3)
set -euo pipefail
cd "$(dirname "$0")/../.."
rate=${1:-110000}
secs=${2:-3}
runs=${3:-3}
n=$((rate * secs))
[ "$(id -u)" = 0 ] || { echo "bench-live: needs root (network namespaces)" >&2; exit 1; }
work=$(mktemp -d /tmp/s18-bench.XXXXXX)
srv=s18-bench-srv-$$ cli=s18-bench-cli-$$ a=s18ba$$ b=s18bb$$
cleanup() {
  for p in $(jobs -p); do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  ip netns del "$srv" 2>/dev/null || true
  ip netns del "$cli" 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT
go build -o "$work/spot" ./cmd/spot
go build -o "$work/flood" ./scripts/live/flood
ip netns add "$srv"
ip netns add "$cli"
ip link add "$a" type veth peer name "$b"
ip link set "$a" netns "$srv"
ip link set "$b" netns "$cli"
ip -n "$srv" addr add 10.18.0.1/24 dev "$a"
ip -n "$cli" addr add 10.18.0.2/24 dev "$b"
ip -n "$srv" link set "$a" up
ip -n "$cli" link set "$b" up
ip netns exec "$cli" "$work/flood" -to 10.18.0.1:53 -n 1 >/dev/null # ARP resolved before the flood
sleep 0.2

wait_for() { # FILE TEXT: until FILE says TEXT (10 s at most)
  for _ in $(seq 100); do grep -q "$2" "$1" 2>/dev/null && return 0; sleep 0.1; done
  echo "bench-live: not ready: $(cat "$1")" >&2; exit 1
}
printf '%-6s %-10s %-10s %-14s %-12s %-12s %-14s %-12s\n' run sent rate/s spot_captured spot_records spot_dropped tcpdump_capt tcpdump_drop
for run in $(seq "$runs"); do
  ip netns exec "$srv" timeout $((secs + 60)) tcpdump -i "$a" -n -B 65536 -w /dev/null 'udp port 53' 2>"$work/td.err" &
  td=$!
  ip netns exec "$srv" timeout $((secs + 60)) "$work/spot" --log-level info decode dns --queries --interface "$a" \
    -o "$work/dns.ndjson" 2>"$work/spot.err" &
  sp=$!
  wait_for "$work/td.err" "listening on"
  wait_for "$work/spot.err" "capturing"
  sent=$(ip netns exec "$cli" "$work/flood" -to 10.18.0.1:53 -n "$n" -rate "$rate" -max $((secs * 5))s)
  sleep 0.5
  kill -INT "$sp" "$td"
  wait "$sp" || true
  wait "$td" || true
  records=$(wc -l <"$work/dns.ndjson")
  line=$(grep "packets captured" "$work/spot.err")
  read -r s_capt s_drop <<<"$(sed -E 's/.*: ([0-9]+) packets captured; ([0-9]+) passed .*, ([0-9]+) of them.*/\1 \3/' <<<"$line")"
  t_capt=$(sed -nE 's/^([0-9]+) packets captured/\1/p' "$work/td.err")
  t_drop=$(sed -nE 's/^([0-9]+) packets dropped by kernel/\1/p' "$work/td.err")
  printf '%-6s %-10s %-10s %-14s %-12s %-12s %-14s %-12s\n' "$run" "$(awk '{print $2}' <<<"$sent")" "$(awk '{print $NF}' <<<"$sent")" \
    "$s_capt" "$records" "$s_drop" "$t_capt" "$t_drop"
  # Every query the kernel delivered has its record. spot's capture may hold
  # a few more packets than the flood sent: its kernel filter keeps IPv6
  # packets with extension headers, such as the MLD reports of a new veth.
  n_sent=$(awk '{print $2}' <<<"$sent")
  [ "$records" -ge $((n_sent - s_drop)) ] && [ "$records" -le "$s_capt" ] ||
    { echo "bench-live: $n_sent queries sent, $s_drop dropped by the kernel, but spot wrote $records records" >&2; cat "$work/spot.err" >&2; exit 1; }
done
