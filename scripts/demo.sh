#!/usr/bin/env bash
# make demo: the whole hunt on files in testdata/: decode -> featurize ->
# train -> score -> filter -> report, ending with the terminal table and the
# path of the HTML report. Runs on files in testdata/ only: a fresh clone
# needs nothing else. The report goes to ${SPOT_DEMO_DIR:-bin/demo}.
set -euo pipefail
spot=${1:-bin/spot}
dir=${SPOT_DEMO_DIR:-bin/demo}
mkdir -p "$dir"
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT

echo "== spot: record streams: NDJSON -> Parquet -> CSV, on testdata/sample/flows.ndjson"
"$spot" filter testdata/sample/flows.ndjson -o "$out/sample.parquet"
"$spot" filter "$out/sample.parquet" -f csv | cut -d, -f1,10-14,18,19 | head -4 | awk -F, '{printf "  %-20s %-14s %-14s %6s %6s %-6s %5s %5s\n", $1, $2, $3, $4, $5, $6, $7, $8}'

caps="testdata/hunt/alexa-app.pcapng.gz testdata/hunt/gnutella.pcap.gz testdata/hunt/synscan.pcap.gz"
echo
echo "== the hunt on three real captures (nDPI's alexa-app and gnutella traffic, and a TCP SYN scan)"
echo "-- decode: bidirectional flows assembled from the packets (gzip read as is)"
# gnutella.pcap ends with a truncated packet: decode names it, counts it and exits 3.
"$spot" decode flow $caps -o "$out/flows.parquet" 2>/dev/null || [ $? -eq 3 ]
flows="$out/flows.parquet"
echo "   $("$spot" filter "$flows" | wc -l) flows"
echo "-- featurize: Apache Spot's words, one per side of each flow, as (doc, word, count) tables"
"$spot" featurize --counts "$flows" -o "$out/counts.parquet"
echo "-- train: LDA, 20 topics, Spot's alpha 1.02 and beta 1.001, 20 iterations"
"$spot" train "$out/counts.parquet" --seed 1 -o "$out/flow.model"
"$spot" train --describe "$out/flow.model" --top-words 3 | sed -n '1,12p;/^topic 0 /,/^topic 2 /p' | sed 's/^/   /'
echo "-- score: the detectors judge each flow's pair, scans and peers over the whole input (spot detect);"
echo "   a flow ranks by its strongest verdict, then by Apache Spot's score, the lower of P(word | host) for its two sides"
"$spot" score -m "$out/flow.model" "$flows" --findings "$out/findings.ndjson" -o "$out/scored.parquet"
echo "-- findings: the suspicious subjects, strongest first (detector, score, subject, evidence)"
echo
head -n 8 "$out/findings.ndjson" |
	sed 's/.*"detector":"\([^"]*\)".*"subject":"\([^"]*\)".*"detector_score":\([0-9.]\{1,5\}\)[0-9]*,"evidence":"\([^"]*\)".*/   \1\t\3\t\2\t\4/' | expand -t 16,24,60
echo
echo "-- filter: the 200 most suspicious flows (lowest score first), at most 20 of one finding, without the lab's DHCP chatter"
"$spot" filter --top 200 --per-subject 20 --where 'not (dport in [67, 68] && proto == "UDP")' "$out/scored.parquet" -o "$out/top.parquet"
echo "-- report: the list, enriched (testdata/hunt/networks.csv names the lab's networks), each host's storyboard"
echo
"$spot" report "$out/top.parquet" "$out/findings.ndjson" --context "$flows" --networks testdata/hunt/networks.csv --top 15 --title "spot demo"
"$spot" report "$out/top.parquet" "$out/findings.ndjson" --context "$flows" --networks testdata/hunt/networks.csv --title "spot demo: three captures" -o "$dir/report.html" -q
"$spot" report "$out/top.parquet" --top 20 -f feedback -o "$dir/feedback.csv" -q
echo
echo "The HTML report (open it in a browser; it loads nothing): $dir/report.html"
echo "The rows to judge (fill in severity 1-3, then spot train --feedback / spot filter --feedback): $dir/feedback.csv"
