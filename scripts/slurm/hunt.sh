#!/usr/bin/env bash
# hunt.sh: a day's hunt as Slurm job arrays, each step waiting for those it
# reads:
#
#   decode (array) -> counts (array) -> train -> score (array) -> top
#                  \-> detect (array) -> merge -/
#
# scripts/slurm/hunt.sh [options] DAY_DIR OUT_DIR
#
# DAY_DIR holds the day's files (captures, NetFlow exports, nfdump CSV, logs;
# gzip and zstd are read as they are); OUT_DIR receives the partitioned
# events, count tables, model, detectors' state and findings, each
# partition's scored top N and the day's (see
# scripts/hunt/step.sh, which every task runs). Both must be on a file
# system the compute nodes share.
#
# Run it again with the same folders to resume: files and partitions already
# done are skipped, so after a failed shard (a corrupt file: its task fails,
# the others finish, the steps after are cancelled) fix the file and rerun:
# only that file is decoded again, then the partitions it feeds.
set -euo pipefail

usage() {
	cat <<'EOF'
usage: scripts/slurm/hunt.sh [options] DAY_DIR OUT_DIR

What to run:
  -k, --kind flow|dns|proxy   what the day's files hold (default flow)
  -s, --shards N              array size of the map steps (default 8; at most one per file)
  -n, --top N                 rows in OUT_DIR/top.parquet and top.csv, and in each scored partition (default 100)
      --partition hour|day    events partitioned by (default hour)
      --include GLOB          only the day's files whose name matches (default: all)
      --decode-args ARGS      extra flags of spot decode KIND (e.g. "--ports 2055,9995")
      --feature-args ARGS     word rules of featurize and train (--top-domains F --user-domain D --domain-parser psl)
      --train-args ARGS       extra flags of spot train (e.g. "--topics 20 --seed 1")
      --score-args ARGS       extra flags of spot score (e.g. "--within hybrid"; with a
                              --method other than fused, detect and merge do nothing)
      --detect-args ARGS      extra flags of spot detect (e.g. "--detectors scan,beacon")
      --contacts PATH         DNS: flow records of the same traffic (a file or folder, e.g. a flow
                              hunt's OUT_DIR/events) to judge names resolved but never contacted
      --lookups PATH          flows: DNS records of the same traffic (a file or folder, e.g. a DNS
                              hunt's OUT_DIR/events) joined to the flows (spot score --lookups)
      --allow-skipped         a file that had malformed records skipped (exit 3) counts as done
      --spot PATH             the spot binary the tasks run (default: spot on PATH, else bin/spot)
Slurm:
  -p, --slurm-partition P     sbatch --partition
  -A, --account A             sbatch --account
      --time T                time limit of each map task (sbatch --time, default 1:00:00)
      --mem M                 memory of each map task (default 2G)
      --cpus N                CPUs of each task (default 1)
      --train-time T          time limit of train (default 4:00:00)
      --train-mem M           memory of train and merge (default 8G; train holds the day's
                              count matrix, merge the detectors' tables)
      --max-running N         at most N tasks of an array at once (sbatch --array=...%N)
      --sbatch ARGS           more sbatch flags for every job (e.g. "--qos=low")
  -w, --wait                  wait for the day to end; exit 0 if it completed
  -h, --help                  this help
EOF
}

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
step=$here/../hunt/step.sh
kind=flow shards=8 top=100 partition=hour include="" allow=0 spot=""
decode_args="" feature_args="" train_args="" score_args="" detect_args="" contacts="" lookups=""
spart="" account="" time=1:00:00 mem=2G cpus=1 train_time=4:00:00 train_mem=8G max_running="" extra="" wait=0
while [ $# -gt 0 ]; do
	case $1 in
	-k | --kind) kind=$2; shift ;;
	-s | --shards) shards=$2; shift ;;
	-n | --top) top=$2; shift ;;
	--partition) partition=$2; shift ;;
	--include) include=$2; shift ;;
	--decode-args) decode_args=$2; shift ;;
	--feature-args) feature_args=$2; shift ;;
	--train-args) train_args=$2; shift ;;
	--score-args) score_args=$2; shift ;;
	--detect-args) detect_args=$2; shift ;;
	--contacts) contacts=$2; shift ;;
	--lookups) lookups=$2; shift ;;
	--allow-skipped) allow=1 ;;
	--spot) spot=$2; shift ;;
	-p | --slurm-partition) spart=$2; shift ;;
	-A | --account) account=$2; shift ;;
	--time) time=$2; shift ;;
	--mem) mem=$2; shift ;;
	--cpus) cpus=$2; shift ;;
	--train-time) train_time=$2; shift ;;
	--train-mem) train_mem=$2; shift ;;
	--max-running) max_running=$2; shift ;;
	--sbatch) extra=$2; shift ;;
	-w | --wait) wait=1 ;;
	-h | --help) usage; exit 0 ;;
	-*) echo "hunt.sh: unknown option $1" >&2; usage >&2; exit 2 ;;
	*) break ;;
	esac
	shift
done
[ $# -eq 2 ] || { usage >&2; exit 2; }
day=$1 out=$2
command -v sbatch >/dev/null || { echo "hunt.sh: sbatch not found: is this a Slurm login node?" >&2; exit 1; }
if [ -z "$spot" ]; then
	spot=$(command -v spot || echo "$here/../../bin/spot")
fi
mkdir -p "$out"
out=$(cd "$out" && pwd)

# A day already being run is not started twice.
if [ -s "$out/plan/jobs" ]; then
	running=$(squeue -h -j "$(paste -sd, "$out/plan/jobs")" -t pending,running,suspended,completing,configuring -o %i 2>/dev/null || true)
	if [ -n "$running" ]; then
		echo "hunt.sh: jobs of an earlier run of $out are still queued or running ($(echo "$running" | paste -sd' ')); scancel them or wait" >&2
		exit 1
	fi
fi

SPOT=$spot KIND=$kind SHARDS=$shards PARTITION=$partition TOP=$top INCLUDE=$include \
	DECODE_ARGS=$decode_args FEATURE_ARGS=$feature_args TRAIN_ARGS=$train_args SCORE_ARGS=$score_args \
	DETECT_ARGS=$detect_args ALLOW_SKIPPED=$allow CONTACTS=$contacts LOOKUPS=$lookups "$step" "$out" plan "$day"
# shellcheck disable=SC1091,SC2153 # written by plan
k=$(. "$out/plan/settings.sh" && echo "$SHARDS")

mkdir -p "$out/logs/slurm"
common=(--parsable --kill-on-invalid-dep=yes --output="$out/logs/slurm/%x-%A_%a.out")
[ -n "$spart" ] && common+=(--partition="$spart")
[ -n "$account" ] && common+=(--account="$account")
# shellcheck disable=SC2206 # --sbatch holds several flags
[ -n "$extra" ] && common+=($extra)
array=0-$((k - 1))
[ -n "$max_running" ] && array+=%$max_running
map=("${common[@]}" --array="$array" --time="$time" --mem="$mem" --cpus-per-task="$cpus")
reduce=("${common[@]}" --time="$train_time" --mem="$train_mem" --cpus-per-task="$cpus")

# submit NAME DEPENDENCY SBATCH-ARGS... -- STEP: prints the job id.
submit() {
	local name=$1 dep=$2 args=()
	shift 2
	while [ "$1" != -- ]; do args+=("$1"); shift; done
	shift
	[ -n "$dep" ] && args+=(--dependency=afterok:"$dep")
	sbatch "${args[@]}" --job-name="spot-$name" --wrap="exec $(printf '%q ' "$step" "$out" "$@")" | cut -d';' -f1
}

decode=$(submit decode "" "${map[@]}" -- decode)
counts=$(submit counts "$decode" "${map[@]}" -- counts)
detect=$(submit detect "$decode" "${map[@]}" -- detect)
train=$(submit train "$counts" "${reduce[@]}" -- train)
merge=$(submit merge "$detect" "${reduce[@]}" -- merge)
score=$(submit score "$train:$merge" "${map[@]}" -- score)
topjob=$(submit top "$score" "${reduce[@]}" --mem="$mem" -- top)
printf '%s\n' "$decode" "$counts" "$detect" "$train" "$merge" "$score" "$topjob" >"$out/plan/jobs"
echo "submitted: decode $decode (array $array), counts $counts, detect $detect, train $train, merge $merge, score $score, top $topjob"
echo "logs: $out/logs/slurm/ (per task) and $out/logs/<step>/ (per file or partition)"
echo "progress: squeue -j $(paste -sd, "$out/plan/jobs"); $step $out status"

[ "$wait" = 1 ] || exit 0
ids=$(paste -sd, "$out/plan/jobs")
while [ -n "$(squeue -h -j "$ids" -t pending,running,suspended,completing,configuring -o %i 2>/dev/null)" ]; do sleep 2; done
if "$step" "$out" status && "$step" "$out" completed; then
	echo "done: $out/top.csv"
	exit 0
fi
echo "hunt.sh: the day did not complete (see the failures above); fix them and run the same command again" >&2
exit 1
