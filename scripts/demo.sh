#!/usr/bin/env bash
# make demo: the hunt on files in testdata/, the longest pipeline that exists so far.
# decode -> featurize -> train -> score -> filter --top 20 (report comes later).
# Runs on files in testdata/ only: a fresh clone needs nothing else.
set -euo pipefail
spot=${1:-bin/spot}
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT

echo "== spot: record streams: NDJSON -> Parquet -> CSV, on testdata/sample/flows.ndjson"
"$spot" filter testdata/sample/flows.ndjson -o "$out/flows.parquet"
"$spot" filter "$out/flows.parquet" -f csv | cut -d, -f1,10-14,18,19 | awk -F, '{printf "  %-20s %-14s %-14s %6s %6s %-6s %5s %5s\n", $1, $2, $3, $4, $5, $6, $7, $8}'

caps="testdata/hunt/alexa-app.pcapng.gz testdata/hunt/gnutella.pcap.gz testdata/hunt/synscan.pcap.gz"
echo
echo "== the hunt on three real captures (nDPI's alexa-app and gnutella traffic, and a TCP SYN scan)"
echo "-- decode: bidirectional flows assembled from the packets (gzip read as is)"
# gnutella.pcap ends with a truncated packet: decode names it, counts it and exits 3.
"$spot" decode flow $caps -o "$out/flows.parquet" || [ $? -eq 3 ]
flows="$out/flows.parquet"
echo "   $("$spot" filter "$flows" | wc -l) flows"
echo "-- featurize: Apache Spot's words, one per side of each flow, as (doc, word, count) tables"
"$spot" featurize --counts "$flows" -o "$out/counts.parquet"
echo "-- train: LDA, 20 topics, Spot's alpha 1.02 and beta 1.001, 20 iterations"
"$spot" train "$out/counts.parquet" --seed 1 -o "$out/flow.model"
"$spot" train --describe "$out/flow.model" --top-words 3 | sed -n '1,12p;/^topic 0 /,/^topic 2 /p' | sed 's/^/   /'
echo "-- score: each flow's score is the lower of P(word | its host) for its two sides"
"$spot" score -m "$out/flow.model" "$flows" -o "$out/scored.parquet"
echo "-- filter --top 20: the 20 most suspicious flows (lowest score first)"
echo
"$spot" filter --top 20 "$out/scored.parquet" -f csv |
	awk -F, 'NR == 1 { for (i = 1; i <= NF; i++) col[$i] = i; 
		printf "%4s  %-9s  %-26s %-26s %-6s %6s %8s  %-25s %s\n", "rank", "score", "source", "destination", "proto", "pkts", "bytes", "word (lower side)", "topic"; next }
	{
		src = $col["sip"] ":" $col["sport"]; dst = $col["dip"] ":" $col["dport"]
		w = ($col["src_score"] <= $col["dst_score"]) ? $col["src_word"] " (src)" : $col["dst_word"] " (dst)"
		printf "%4d  %-9.3g  %-26s %-26s %-6s %6s %8s  %-25s %s (%.0f%%)\n", NR-1, $col["score"], src, dst, $col["proto"], $col["ipkt"], $col["ibyt"], w, $col["top_topic"], 100*$col["top_topic_weight"]
	}'
