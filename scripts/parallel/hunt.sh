#!/usr/bin/env bash
# hunt.sh: a day's hunt on one machine with GNU parallel, the same steps as
# scripts/slurm/hunt.sh (scripts/hunt/step.sh does the work):
#
#   decode (shards in parallel) -> counts and detect (their shards in
#     parallel, together) -> train and merge (together) -> score (parallel)
#     -> top
#
# as the Slurm driver's dependencies order them: steps that read the same
# input run at once, so that a core the one leaves idle serves the other.
#
# scripts/parallel/hunt.sh [options] DAY_DIR OUT_DIR
#
# A step starts when every shard of the last one is done; when a shard fails
# (a corrupt file), the others finish, the run stops there and says which
# file failed and where its log is. Run the same command again to resume:
# what is done is skipped, so after fixing the file only it is decoded
# again, then the partitions it feeds.
set -euo pipefail
export LC_ALL=C

usage() {
	cat <<'EOF'
usage: scripts/parallel/hunt.sh [options] DAY_DIR OUT_DIR

  -j, --jobs N                shards run at once (default: the number of CPUs)
  -s, --shards N              shards of the map steps (default: 4 per job; at most one per file)
  -k, --kind flow|dns|proxy   what the day's files hold (default flow)
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
      --spot PATH             the spot binary (default: spot on PATH, else bin/spot)
  -h, --help                  this help
EOF
}

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
step=$here/../hunt/step.sh
jobs=$(nproc) shards="" kind=flow top=100 partition=hour include="" allow=0 spot=""
decode_args="" feature_args="" train_args="" score_args="" detect_args="" contacts="" lookups=""
while [ $# -gt 0 ]; do
	case $1 in
	-j | --jobs) jobs=$2; shift ;;
	-s | --shards) shards=$2; shift ;;
	-k | --kind) kind=$2; shift ;;
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
	-h | --help) usage; exit 0 ;;
	-*) echo "hunt.sh: unknown option $1" >&2; usage >&2; exit 2 ;;
	*) break ;;
	esac
	shift
done
[ $# -eq 2 ] || { usage >&2; exit 2; }
day=$1 out=$2
command -v parallel >/dev/null || { echo "hunt.sh: GNU parallel not found (Debian: apt-get install parallel)" >&2; exit 1; }
[ -n "$shards" ] || shards=$((4 * jobs))
if [ -z "$spot" ]; then
	spot=$(command -v spot || echo "$here/../../bin/spot")
fi

SPOT=$spot KIND=$kind SHARDS=$shards PARTITION=$partition TOP=$top INCLUDE=$include \
	DECODE_ARGS=$decode_args FEATURE_ARGS=$feature_args TRAIN_ARGS=$train_args SCORE_ARGS=$score_args \
	DETECT_ARGS=$detect_args ALLOW_SKIPPED=$allow CONTACTS=$contacts LOOKUPS=$lookups "$step" "$out" plan "$day"
out=$(cd "$out" && pwd)
# shellcheck disable=SC1091,SC2153 # written by plan
k=$(. "$out/plan/settings.sh" && echo "$SHARDS")
mkdir -p "$out/logs/parallel"

# each STEP...: run each STEP for every shard, JOBS at a time, shard by
# shard (a shard's steps read the same files, at once); all run, even when
# one fails (parallel's exit status counts the failures).
each() {
	local name
	name=$(IFS=+ && echo "$*")
	parallel --jobs "$jobs" --halt never --line-buffer --tagstring "{2} {1}" \
		--joblog "$out/logs/parallel/$name.joblog" "$step" "$out" "{2}" "{1}" ::: $(seq 0 $((k - 1))) ::: "$@"
}

# both STEP STEP: run two reduce steps, at once when JOBS allows; fails
# when either failed.
both() {
	if [ "$jobs" -lt 2 ]; then
		"$step" "$out" "$1" && "$step" "$out" "$2"
		return
	fi
	local rc=0 pid
	"$step" "$out" "$1" &
	pid=$!
	"$step" "$out" "$2" || rc=$?
	wait "$pid" || rc=$?
	return "$rc"
}

stop() {
	"$step" "$out" status >&2 || true
	echo "hunt.sh: the day stopped at $1; fix what failed and run the same command again" >&2
	exit 1
}

# timed STEP COMMAND...: run COMMAND, then say how long STEP took.
timed() {
	local name=$1 start=$EPOCHREALTIME
	shift
	"$@" || return
	awk -v n="$name" -v a="$start" -v b="$EPOCHREALTIME" 'BEGIN { printf "step %s: %.2f s\n", n, b - a }'
}

timed decode each decode || stop decode
timed counts+detect each counts detect || stop "counts and detect"
timed train+merge both train merge || stop "train and merge"
timed score each score || stop score
timed top "$step" "$out" top || stop top
"$step" "$out" completed || stop top
echo "done: $out/top.csv"
