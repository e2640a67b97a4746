#!/usr/bin/env bash
# make demo: the longest pipeline that exists so far, on files in testdata/.
# Grows with each stage: decode -> featurize -> train -> score -> filter --top 20 -> report.
set -euo pipefail
spot=${1:-bin/spot}
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT

echo "== spot: record streams: NDJSON -> Parquet -> CSV, on testdata/sample/flows.ndjson"
"$spot" filter testdata/sample/flows.ndjson -o "$out/flows.parquet"
"$spot" filter "$out/flows.parquet" -f csv | cut -d, -f1,10-14,18,19 | column -s, -t
