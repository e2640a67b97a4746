#!/usr/bin/env bash
# step.sh: one step of a day's hunt, for one shard. scripts/slurm/hunt.sh
# runs it as the tasks of sbatch job arrays, scripts/parallel/hunt.sh as GNU
# parallel jobs; it can be run by hand too. The steps of DESIGN.md
# "Scaling out", with the detectors' map and reduce beside the model's:
#
#   step.sh OUT plan DAY_DIR   list the day's files and split them into shards
#   step.sh OUT decode SHARD   map: spot decode each file of the shard into
#                              OUT/events/y=/m=/d=/h=/ (one file per input)
#   step.sh OUT counts SHARD   map: spot featurize --counts per partition of
#                              the shard into OUT/counts/<partition>/
#   step.sh OUT detect SHARD   map: spot detect --state per partition of the
#                              shard into OUT/detect/<partition>/ (the
#                              detectors' per-subject state)
#   step.sh OUT train          reduce: spot train over every count table
#   step.sh OUT merge          reduce: spot detect --state --judged over
#                              every partition's state: merged and judged
#                              once, in one pass, into the day's verdicts,
#                              OUT/model/KIND.judged, and its findings,
#                              OUT/findings.parquet (the day's whole state
#                              is the partitions' states, merged on demand)
#   step.sh OUT score SHARD    map: spot score --state OUT/model/KIND.judged
#                              --top TOP per partition into OUT/scored/
#                              (the fused ranking judges each subject by
#                              the whole day, as one process would; each
#                              partition keeps its TOP lowest, all that the
#                              top step can take of it: SCORE_ARGS="--top 0"
#                              keeps every scored event)
#   step.sh OUT top            reduce: spot filter --top N over every scored
#                              partition into OUT/top.parquet and OUT/top.csv
#   step.sh OUT status         what is done, what failed, and where its log is
#   step.sh OUT completed      exit 0 if the last plan's run reached its top
#
# SHARD defaults to $SLURM_ARRAY_TASK_ID. Partitions go to shards in turn
# (the i-th partition, in time order, to shard i mod SHARDS).
#
# plan reads its settings from the environment and keeps them in
# OUT/plan/settings.sh, which every other step reads:
#   SPOT          the spot binary (default: spot on PATH)
#   KIND          flow|dns|proxy: what the day's files hold (default flow)
#   SHARDS        how many shards (default 8; at most one per file)
#   PARTITION     hour|day (default hour)
#   TOP           rows kept by the last step (default 100)
#   INCLUDE       find(1) -name pattern of the day's files (default: all but
#                 hidden files)
#   DECODE_ARGS, FEATURE_ARGS, TRAIN_ARGS, SCORE_ARGS, DETECT_ARGS
#                 extra flags of decode; of featurize and train (the word
#                 rules: --top-domains, --user-domain, --domain-parser);
#                 of train; of score; of detect (--detectors,
#                 --max-subjects, --min-score). With a --method other than
#                 fused in SCORE_ARGS, detect and merge do nothing.
#   CONTACTS      DNS: flow records of the same traffic (a file, or a folder
#                 such as a flow hunt's OUT/events) that merge judges the
#                 day's DNS verdicts with (spot detect --contacts: names
#                 resolved but never contacted)
#   LOOKUPS       flows: DNS records of the same traffic (a file, or a folder
#                 such as a DNS hunt's OUT/events) that score joins to the
#                 flows (spot score --lookups: a lookup that led to a strong
#                 finding shares its verdict)
#   ALLOW_SKIPPED 1: a file or partition that skipped malformed records
#                 (exit status 3) counts as done; by default it fails, so
#                 that no data is lost unseen
#
# Every unit of work (a file, a partition, the model, the top) is done once:
# beside its output, OUT/state/ keeps a signature of what it was made from
# (input names, sizes and times, settings, spot's version), and a unit whose
# signature is unchanged is skipped. So running a step again, or the whole
# day, redoes only what failed or what changed: a fixed file is decoded
# again alone, then only its partitions are counted and scored again (and
# the model, which every partition feeds). A failed unit does not stop the
# rest of its shard; the shard then exits 1, and
# OUT/state/failed/ names the unit and its log.
# shellcheck disable=SC2317 # the steps are called as "$STEP"
set -euo pipefail

die() { echo "step.sh: $*" >&2; exit 2; }

[ $# -ge 2 ] || die "usage: step.sh OUT plan DAY_DIR | OUT decode|counts|detect|score SHARD | OUT train|merge|top|status"
OUT=$(cd "$1" 2>/dev/null && pwd) || { mkdir -p "$1" && OUT=$(cd "$1" && pwd); }
STEP=$2
shift 2

export LC_ALL=C

# Go does not see a Slurm task's memory limit (its cgroup's): tell the
# collector, so that a task near its --mem collects harder rather than be
# killed. GOMEMLIMIT is 90% of the task's memory; one set by the user wins.
if [ -z "${GOMEMLIMIT:-}" ]; then
	mem=${SLURM_MEM_PER_NODE:-}
	if [ -z "$mem" ] && [ -n "${SLURM_MEM_PER_CPU:-}" ]; then
		mem=$((SLURM_MEM_PER_CPU * ${SLURM_CPUS_PER_TASK:-1}))
	fi
	if [ -n "$mem" ]; then
		export GOMEMLIMIT=$((mem * 9 / 10))MiB
	fi
fi

# sig prints a signature of its arguments.
sig() { printf '%s\n' "$@" | sha1sum | cut -c1-40; }

# listing prints name, size and modification time of the files named.
listing() { [ $# -eq 0 ] || find "$@" -maxdepth 0 -printf '%p %s %T@\n'; }

# files_of PATH: the listing of the files of PATH, a file or a folder (none
# when PATH is empty).
files_of() { [ -z "$1" ] || find -L "$1" -type f -printf '%p %s %T@\n' 2>&1 | sort; }

# fresh UNIT SIG OUTPUT...: the unit was made from what SIG describes, and
# its outputs are there.
fresh() {
	local unit=$1 s=$2 o
	shift 2
	[ -f "$OUT/state/$unit.sig" ] && [ "$(cat "$OUT/state/$unit.sig")" = "$s" ] || return 1
	for o in "$@"; do [ -e "$o" ] || return 1; done
}

# done_ok UNIT SIG: record that the unit is made.
done_ok() {
	mkdir -p "$(dirname "$OUT/state/$1.sig")"
	printf '%s\n' "$2" >"$OUT/state/$1.sig.tmp"
	mv "$OUT/state/$1.sig.tmp" "$OUT/state/$1.sig"
	rm -f "$OUT/state/failed/${1//\//_}"
}

# failed UNIT LOG MESSAGE: record (and show) that a unit failed.
failed() {
	mkdir -p "$OUT/state/failed"
	rm -f "$OUT/state/$1.sig"
	printf '%s\tlog: %s\n' "$3" "$2" >"$OUT/state/failed/${1//\//_}"
	echo "FAILED: $3; log: $2" >&2
	tail -n 5 "$2" | sed 's/^/  | /' >&2
	status=1
}

# run UNIT LOG COMMAND...: run a spot command, its stderr to LOG; exit
# status 3 (malformed input skipped) fails unless ALLOW_SKIPPED=1.
run() {
	local unit=$1 log=$2 start=$SECONDS rc=0
	shift 2
	mkdir -p "$(dirname "$log")"
	"$@" 2>"$log" || rc=$?
	if [ "$rc" -eq 0 ] || { [ "$rc" -eq 3 ] && [ "${ALLOW_SKIPPED:-0}" = 1 ]; }; then
		echo "$unit: done in $((SECONDS - start)) s$([ "$rc" -eq 3 ] && echo ', skipping malformed input (see its log)')"
		return 0
	fi
	local why="exit status $rc"
	[ "$rc" -eq 3 ] && why="exit status 3: malformed input skipped (ALLOW_SKIPPED=1 accepts it)"
	failed "$unit" "$log" "$unit: $why"
	return 1
}

shard_arg() {
	local s=${1:-${SLURM_ARRAY_TASK_ID:-}}
	[[ $s =~ ^[0-9]+$ ]] || die "$STEP needs a SHARD number (or \$SLURM_ARRAY_TASK_ID)"
	echo "$s"
}

load() {
	[ -f "$OUT/plan/settings.sh" ] || die "$OUT/plan/settings.sh: no plan (run step.sh OUT plan DAY_DIR first)"
	# shellcheck source=/dev/null
	. "$OUT/plan/settings.sh"
	mkdir -p "$OUT/state" "$OUT/logs"
}

# partitions lists the partitions of OUT/events holding records, in time
# order, relative to OUT/events.
partitions() {
	[ -d "$OUT/events" ] || return 0
	(cd "$OUT/events" && find . -mindepth 1 -name '[._]*' -prune -o -type f -name '*.parquet' -printf '%h\n' | sed 's|^\./||' | sort -u)
}

# detecting: score's method is fused (the default), so the detectors run.
detecting() {
	[[ " $SCORE_ARGS " =~ [[:space:]]--method[=[:space:]]+([^[:space:]]+) ]] || return 0
	[ "${BASH_REMATCH[1]}" = fused ]
}

# mine lists this shard's partitions.
mine() { partitions | awk -v k="$SHARDS" -v j="$1" '(NR - 1) % k == j'; }

# records lists the record files of a partition folder.
records() { find "$1" -maxdepth 1 -type f -name '*.parquet' ! -name '.*' | sort; }

# name is what spot names an input's partition files: its base name
# without a compression suffix.
name() {
	local b
	b=$(basename "$1")
	case $b in
	?*.gz) b=${b%.gz} ;;
	?*.zst) b=${b%.zst} ;;
	?*.zstd) b=${b%.zstd} ;;
	esac
	echo "$b"
}

# written lists the files a decode of input NAME wrote (none: the list).
written() {
	local list="$OUT/events/_inputs/$1.parquet.files" f
	[ -f "$list" ] || { echo "$list"; return; }
	while IFS= read -r f; do [ -n "$f" ] && echo "$OUT/events/$f"; done <"$list"
}

# unpartition removes what a decode of input NAME wrote (spot lists it in
# OUT/events/_inputs/NAME.parquet.files).
unpartition() {
	local list="$OUT/events/_inputs/$1.parquet.files" f
	[ -f "$list" ] || return 0
	while IFS= read -r f; do
		[ -n "$f" ] && rm -f "$OUT/events/$f"
	done <"$list"
	rm -f "$list"
}

plan() {
	local day=${1:-}
	[ -d "$day" ] || die "plan: $day is not a folder"
	day=$(cd "$day" && pwd)
	local spot=${SPOT:-spot}
	command -v "$spot" >/dev/null || die "plan: no spot binary ($spot); set SPOT"
	spot=$(command -v "$spot")
	case ${KIND:=flow} in flow | dns | proxy) ;; *) die "plan: KIND=$KIND (want flow, dns or proxy)" ;; esac
	case ${PARTITION:=hour} in hour | day) ;; *) die "plan: PARTITION=$PARTITION (want hour or day)" ;; esac
	[[ ${SHARDS:=8} =~ ^[1-9][0-9]*$ ]] || die "plan: SHARDS=$SHARDS"
	[[ ${TOP:=100} =~ ^[1-9][0-9]*$ ]] || die "plan: TOP=$TOP"
	local contacts=${CONTACTS:-}
	if [ -n "$contacts" ]; then
		[ "$KIND" = dns ] || die "plan: CONTACTS weigh DNS names against flows; KIND=$KIND"
		[ -e "$contacts" ] || die "plan: CONTACTS=$contacts does not exist"
		contacts=$(realpath "$contacts")
	fi
	local lookups=${LOOKUPS:-}
	if [ -n "$lookups" ]; then
		[ "$KIND" = flow ] || die "plan: LOOKUPS are DNS records joined to flows; KIND=$KIND"
		[ -e "$lookups" ] || die "plan: LOOKUPS=$lookups does not exist"
		lookups=$(realpath "$lookups")
	fi
	mkdir -p "$OUT/plan"
	rm -rf "$OUT/state/failed" # what fails again will say so again
	local files="$OUT/plan/files.txt"
	find -L "$day" -mindepth 1 -name '.*' -prune -o -type f -name "${INCLUDE:-*}" -printf '%s %p\n' | sort -k2 >"$files.tmp"
	[ -s "$files.tmp" ] || die "plan: no files in $day"
	# Inputs write files named after them: two of one name would collide.
	local dups
	dups=$(cut -d' ' -f2- "$files.tmp" | while IFS= read -r f; do name "$f"; done | sort | uniq -d | head -5)
	[ -z "$dups" ] || die "plan: files of the same base name in $day (their partition files and event ids would collide): $dups"
	local n
	n=$(wc -l <"$files.tmp")
	[ "$SHARDS" -le "$n" ] || SHARDS=$n
	# Largest file first to the shard with the fewest bytes so far.
	rm -f "$OUT"/plan/shard-*.txt
	sort -k1,1nr -k2 "$files.tmp" | awk -v k="$SHARDS" -v dir="$OUT/plan" '
		{ best = 0; for (i = 1; i < k; i++) if (load[i] < load[best]) best = i
		  load[best] += $1; sub(/^[0-9]+ /, ""); print > (dir "/shard-" best ".txt") }'
	for ((i = 0; i < SHARDS; i++)); do sort -o "$OUT/plan/shard-$i.txt" "$OUT/plan/shard-$i.txt"; done
	cut -d' ' -f2- "$files.tmp" >"$files" && rm -f "$files.tmp"
	local version
	version=$("$spot" --version)
	{
		printf '# written by step.sh plan; read by every step\n'
		printf 'DAY=%q\nSPOT=%q\nSPOT_VERSION=%q\nKIND=%q\nSHARDS=%q\nPARTITION=%q\nTOP=%q\n' \
			"$day" "$spot" "$version" "$KIND" "$SHARDS" "$PARTITION" "$TOP"
		printf 'DECODE_ARGS=%q\nFEATURE_ARGS=%q\nTRAIN_ARGS=%q\nSCORE_ARGS=%q\nDETECT_ARGS=%q\nALLOW_SKIPPED=%q\nCONTACTS=%q\nLOOKUPS=%q\n' \
			"${DECODE_ARGS:-}" "${FEATURE_ARGS:-}" "${TRAIN_ARGS:-}" "${SCORE_ARGS:-}" "${DETECT_ARGS:-}" "${ALLOW_SKIPPED:-0}" "$contacts" "$lookups"
	} >"$OUT/plan/settings.sh"
	echo "$(date -u +%Y%m%dT%H%M%S.%N) $$" >"$OUT/plan/run"
	echo "plan: $n files of $day in $SHARDS shards ($OUT/plan)"
}

decode() {
	local shard f n unit log s outs
	shard=$(shard_arg "${1:-}")
	[ -f "$OUT/plan/shard-$shard.txt" ] || { echo "decode: shard $shard has no files"; return 0; }
	while IFS= read -r f; do
		n=$(name "$f")
		unit=decode/$n
		s=$(sig "$(listing "$f")" "$KIND" "$PARTITION" "$DECODE_ARGS" "$SPOT_VERSION")
		mapfile -t outs < <(written "$n")
		if fresh "$unit" "$s" "${outs[@]}"; then
			echo "$unit: up to date"
			continue
		fi
		log=$OUT/logs/$unit.log
		# shellcheck disable=SC2086 # DECODE_ARGS holds several flags
		if run "$unit" "$log" "$SPOT" decode "$KIND" $DECODE_ARGS --partition "$PARTITION" -o "$OUT/events" "$f"; then
			done_ok "$unit" "$s"
		else
			unpartition "$n" # nothing of a failed input stays in the day
		fi
	done <"$OUT/plan/shard-$shard.txt"
}

# unit_name turns a partition path into a file name.
unit_name() { echo "${1//\//_}"; }

counts() {
	local shard p unit s recs
	shard=$(shard_arg "${1:-}")
	if [ "$KIND" = proxy ]; then
		echo "counts: proxy words need the whole day's user-agent counts, so train reads the proxy events themselves"
		return 0
	fi
	for p in $(mine "$shard"); do
		unit=counts/$(unit_name "$p")
		mapfile -t recs < <(records "$OUT/events/$p")
		s=$(sig "$(listing "${recs[@]}")" "$FEATURE_ARGS" "$SPOT_VERSION")
		if fresh "$unit" "$s" "$OUT/counts/$p/counts.parquet"; then
			echo "$unit: up to date"
			continue
		fi
		mkdir -p "$OUT/counts/$p"
		# shellcheck disable=SC2086
		run "$unit" "$OUT/logs/$unit.log" "$SPOT" featurize --counts $FEATURE_ARGS "$OUT/events/$p" -o "$OUT/counts/$p/counts.parquet" &&
			done_ok "$unit" "$s"
	done
}

detect() {
	local shard p unit s recs
	shard=$(shard_arg "${1:-}")
	detecting || { echo "detect: score's method is not fused: no detectors to run"; return 0; }
	for p in $(mine "$shard"); do
		unit=detect/$(unit_name "$p")
		mapfile -t recs < <(records "$OUT/events/$p")
		s=$(sig "$(listing "${recs[@]}")" "$DETECT_ARGS" "$SPOT_VERSION")
		if fresh "$unit" "$s" "$OUT/detect/$p/detect.state"; then
			echo "$unit: up to date"
			continue
		fi
		mkdir -p "$OUT/detect/$p"
		# shellcheck disable=SC2086
		run "$unit" "$OUT/logs/$unit.log" "$SPOT" detect --state $DETECT_ARGS "$OUT/events/$p" -o "$OUT/detect/$p/detect.state" &&
			done_ok "$unit" "$s"
	done
}

# prune DIR: remove the partitions of DIR (counts/, detect/ or scored/) whose events
# are gone (a rerun moved an input's records to other hours).
prune() {
	[ -d "$OUT/$1" ] || return 0
	local have p
	have=$(partitions)
	(cd "$OUT/$1" && find . -mindepth 1 -name '[._]*' -prune -o -type f -printf '%h\n' | sed 's|^\./||' | sort -u) |
		while IFS= read -r p; do
			grep -qxF "$p" <<<"$have" || { rm -rf "${OUT:?}/$1/$p"; rm -f "$OUT/state/${1%/}/$(unit_name "$p").sig"; }
		done
}

train() {
	local inputs=() recs=() p unit=train s
	prune counts
	for p in $(partitions); do
		if [ "$KIND" = proxy ]; then
			inputs+=("$OUT/events/$p")
		else
			inputs+=("$OUT/counts/$p/counts.parquet")
		fi
	done
	[ ${#inputs[@]} -gt 0 ] || { echo "train: no partitions in $OUT/events" >&2; status=1; return; }
	if [ "$KIND" = proxy ]; then
		mapfile -t recs < <(for p in "${inputs[@]}"; do records "$p"; done)
	else
		recs=("${inputs[@]}")
	fi
	s=$(sig "$(listing "${recs[@]}")" "$FEATURE_ARGS" "$TRAIN_ARGS" "$SPOT_VERSION")
	if fresh "$unit" "$s" "$OUT/model/$KIND.model"; then
		echo "$unit: up to date"
		return 0
	fi
	mkdir -p "$OUT/model"
	# shellcheck disable=SC2086
	run "$unit" "$OUT/logs/train.log" "$SPOT" train $TRAIN_ARGS $FEATURE_ARGS "${inputs[@]}" -o "$OUT/model/$KIND.model" &&
		done_ok "$unit" "$s"
}

merge() {
	local inputs=() p unit=merge s judged=$OUT/model/$KIND.judged contacts=()
	[ -z "${CONTACTS:-}" ] || contacts=(--contacts "$CONTACTS")
	detecting || { echo "merge: score's method is not fused: no detectors to run"; return 0; }
	prune detect
	for p in $(partitions); do inputs+=("$OUT/detect/$p/detect.state"); done
	[ ${#inputs[@]} -gt 0 ] || { echo "merge: no partitions in $OUT/events" >&2; status=1; return; }
	s=$(sig "$(listing "${inputs[@]}")" "$DETECT_ARGS" "$SPOT_VERSION" "${CONTACTS:-}" "$(files_of "${CONTACTS:-}")")
	if fresh "$unit" "$s" "$judged" "$OUT/findings.parquet"; then
		echo "$unit: up to date"
		return 0
	fi
	mkdir -p "$OUT/model"
	# shellcheck disable=SC2086
	run "$unit" "$OUT/logs/merge.log" "$SPOT" detect --state --judged $DETECT_ARGS "${contacts[@]}" "${inputs[@]}" -o "$judged" \
		--findings "$OUT/findings.parquet" && done_ok "$unit" "$s"
}

score() {
	local shard p unit s recs model=$OUT/model/$KIND.model state=() with=() lookups
	shard=$(shard_arg "${1:-}")
	lookups=$(files_of "${LOOKUPS:-}")
	[ -f "$model" ] || { echo "score: no model ($model): run train first" >&2; status=1; return; }
	if detecting; then
		state=("$OUT/model/$KIND.judged") with=(--state "$OUT/model/$KIND.judged")
		[ -z "${LOOKUPS:-}" ] || with+=(--lookups "$LOOKUPS")
		[ -f "${state[0]}" ] || { echo "score: no detectors' state (${state[0]}): run merge first" >&2; status=1; return; }
	fi
	for p in $(mine "$shard"); do
		unit=score/$(unit_name "$p")
		mapfile -t recs < <(records "$OUT/events/$p")
		s=$(sig "$(listing "$model" "${state[@]}" "${recs[@]}")" "$TOP" "$SCORE_ARGS" "$SPOT_VERSION" "${LOOKUPS:-}" "$lookups")
		if fresh "$unit" "$s" "$OUT/scored/$p/scored.parquet"; then
			echo "$unit: up to date"
			continue
		fi
		mkdir -p "$OUT/scored/$p"
		# shellcheck disable=SC2086
		run "$unit" "$OUT/logs/$unit.log" "$SPOT" score -m "$model" "${with[@]}" --top "$TOP" $SCORE_ARGS "$OUT/events/$p" -o "$OUT/scored/$p/scored.parquet" &&
			done_ok "$unit" "$s"
	done
}

top() {
	local inputs=() p unit=top s
	prune scored
	for p in $(partitions); do inputs+=("$OUT/scored/$p/scored.parquet"); done
	[ ${#inputs[@]} -gt 0 ] || { echo "top: no partitions in $OUT/events" >&2; status=1; return; }
	s=$(sig "$(listing "${inputs[@]}")" "$TOP" "$SPOT_VERSION")
	if ! fresh "$unit" "$s" "$OUT/top.parquet" "$OUT/top.csv"; then
		run "$unit" "$OUT/logs/top.log" "$SPOT" filter --top "$TOP" "${inputs[@]}" -o "$OUT/top.parquet" &&
			run top.csv "$OUT/logs/top-csv.log" "$SPOT" filter "$OUT/top.parquet" -o "$OUT/top.csv" &&
			done_ok "$unit" "$s" || return 0
	else
		echo "$unit: up to date"
	fi
	cp "$OUT/plan/run" "$OUT/state/completed"
}

show_status() {
	local n_files n_done=0 f
	n_files=$(wc -l <"$OUT/plan/files.txt")
	while IFS= read -r f; do
		[ -f "$OUT/state/decode/$(name "$f").sig" ] && n_done=$((n_done + 1))
	done <"$OUT/plan/files.txt"
	echo "decoded: $n_done of $n_files files"
	echo "partitions: $(partitions | wc -l)"
	[ -f "$OUT/state/train.sig" ] && echo "model: $OUT/model/$KIND.model"
	[ -f "$OUT/state/merge.sig" ] && echo "detectors: $OUT/model/$KIND.judged (the day's verdicts), findings: $OUT/findings.parquet"
	[ -f "$OUT/state/top.sig" ] && echo "top $TOP: $OUT/top.parquet, $OUT/top.csv"
	if [ -d "$OUT/state/failed" ] && [ -n "$(ls -A "$OUT/state/failed")" ]; then
		echo "failed:"
		cat "$OUT"/state/failed/* | sed 's/^/  /'
		return 1
	fi
}

status=0
case $STEP in
plan) plan "$@" ;;
decode | counts | detect | score) load && "$STEP" "$@" ;;
train | merge | top) load && "$STEP" ;;
status) load && show_status ;;
completed) load && cmp -s "$OUT/plan/run" "$OUT/state/completed" ;;
*) die "unknown step $STEP (want plan, decode, counts, detect, train, merge, score, top, status or completed)" ;;
esac
exit $status
