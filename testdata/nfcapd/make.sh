#!/usr/bin/env bash
# Remakes the nfcapd fixtures of this folder (see ../SOURCES.md): nfcapd of
# nfdump 1.6.25 and 1.7.8, built from phaag/nfdump's tags (./configure;
# make; make install, 1.7.8 with libzstd), collect the NetFlow v5, v9 and
# IPFIX exports that softflowd made of nDPI's alexa-app.pcapng (the corpus's
# netflow/generated/alexa-app.softflowd-v*.pcap), sent once over loopback.
#   NF16=/path/to/1.6.25/bin NF178=/path/to/1.7.8/bin bash make.sh CORPUS
set -euo pipefail
corpus=${1:?corpus directory}
here=$(cd "$(dirname "$0")" && pwd)
send() { # send PORT: replay the export datagrams of the three captures
  python3 - "$1" "$corpus"/netflow/generated/alexa-app.softflowd-v{5,9,10}.pcap <<'PY'
import socket, struct, sys, time
port = int(sys.argv[1])
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
for cap in sys.argv[2:]:
    b = open(cap, "rb").read(); off = 24
    while off + 16 <= len(b):
        n = struct.unpack_from("<I", b, off + 8)[0]
        frame = b[off + 16: off + 16 + n]; off += 16 + n
        ihl = (frame[14] & 0x0F) * 4
        s.sendto(frame[14 + ihl + 8:], ("127.0.0.1", port)); time.sleep(0.002)
PY
}
collect() { # collect BIN DIRFLAG FLAGS OUT (1.6 names the directory with -l, 1.7 with -w)
  local bin=$1 dirflag=$2 flags=$3 out=$4 dir port pid
  dir=$(mktemp -d); port=$((30000 + RANDOM % 20000))
  "$bin"/nfcapd -b 127.0.0.1 -p "$port" "$dirflag" "$dir" -t 3600 $flags >/dev/null 2>&1 & pid=$!
  sleep 1; send "$port"; sleep 1; kill -TERM "$pid"; wait "$pid" || true
  mv "$dir"/nfcapd.2* "$here/$out"; rm -rf "$dir"
}
collect "$NF16" -l "" v16-none.nfcapd
collect "$NF16" -l "-z" v16-lzo.nfcapd
collect "$NF16" -l "-y" v16-lz4.nfcapd
collect "$NF16" -l "-j" v16-bzip2.nfcapd
collect "$NF178" -w "-z=zstd" v178-zstd.nfcapd
# The same records LZ4-compressed by nfdump 1.7.8, which Debian's nfdump 1.7.1
# reads (it reads no zstd): the oracle of the zstd file.
"$NF178"/nfdump -r "$here/v178-zstd.nfcapd" -z=lz4 -w "$here/v178-lz4.nfcapd"
