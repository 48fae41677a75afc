#!/usr/bin/env bash
# The load generator's standard suite (`sluice bench`, bench/workloads/):
# each workload at max throughput (closed loop) and at fixed rates of 25,
# 50 and 75% of that maximum (open loop), against a Sluice broker and
# against kfake (franz-go's in-memory fake Kafka, tools/kfake), both
# started here on 127.0.0.1. Each round also measures the references the
# tables compare with: the disk under fio (sequential O_DIRECT write
# bandwidth, write + fdatasync latency) and the loopback TCP round trip.
# Prints the markdown summary (min / median / max over the rounds, ratios
# computed round by round), keeps it with every run's outputs (.hgrm,
# summary.json, latency.svg) in $BENCH_DIR/results-suite-<UTC date>/,
# writes the plots to $PLOTS and, with UPDATE_DOC=1, rewrites the generated
# part of BENCHMARKS.md. BENCHMARKS.md says how to read it.
#
# The fixed rates are fractions of the FIRST target's maximum in the same
# round, and every target runs at those same absolute rates: latency is
# compared under the same load, not each broker at its own fraction.
#
# Environment (defaults in brackets):
#   BENCH_DIR    directory for the broker's data and the results [./.bench]
#   COUNT        rounds [3]
#   WARMUP       warm-up of each run, excluded from the figures [10s]
#   DURATION     measured time of each run [30s]
#   FRACTIONS    fixed rates, percent of the first target's max [25 50 75]
#   WORKLOADS    workload files (bench/workloads/NAME.yaml) of the suite
#                [single-node-acks1 single-node-acks-all-flush]
#   EXTRA        more workloads, run at their own rates and durations after
#                the suite in each round, e.g. "many-producers keyed" []
#   TARGETS      brokers, of sluice and kfake [sluice kfake]
#   SLUICE_PORT  [19092]   KFAKE_PORT [19192]
#   PLOTS        where the SVG plots are written [bench/results]
#   UPDATE_DOC   1 to rewrite BENCHMARKS.md between its bench-suite markers [0]
#   FIO_RUNTIME  seconds cap of each fio job [5]
#   FIO_SIZE     file size of the sequential fio job [4G]
#   GO           the go command [go]
#
# Bounds: a round runs 2 fio jobs of FIO_RUNTIME, 100k loopback round trips (~3 s)
# and, per target and workload, 1 + len(FRACTIONS) runs of WARMUP + DURATION
# plus a drain of at most the workload's drain_timeout (30 s; normally
# under 1 s): about 11 minutes with the defaults, so about 35 minutes for 3
# rounds. The standard workloads delete what their consumers have read every
# 5 s (trim_interval), so a broker holds about 10 s of data at the most:
# ~5 GB at 500 MB/s, on disk for Sluice, in memory for kfake. The broker's
# data is removed after each target and on exit, also on failure.
#
# Short trial (figures meaningless; PLOTS elsewhere so that the published
# plots stay): COUNT=1 WARMUP=1s DURATION=2s FRACTIONS=50 FIO_RUNTIME=1
# FIO_SIZE=256M PLOTS=/tmp/plots
set -euo pipefail

COUNT=${COUNT:-3}
WARMUP=${WARMUP:-10s}
DURATION=${DURATION:-30s}
FRACTIONS=${FRACTIONS:-25 50 75}
WORKLOADS=${WORKLOADS:-single-node-acks1 single-node-acks-all-flush}
EXTRA=${EXTRA:-}
TARGETS=${TARGETS:-sluice kfake}
SLUICE_PORT=${SLUICE_PORT:-19092}
KFAKE_PORT=${KFAKE_PORT:-19192}
UPDATE_DOC=${UPDATE_DOC:-0}
FIO_RUNTIME=${FIO_RUNTIME:-5}
FIO_SIZE=${FIO_SIZE:-4G}
GO=${GO:-go}

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
BENCH_DIR=${BENCH_DIR:-$repo/.bench}
PLOTS=${PLOTS:-$repo/bench/results}
mkdir -p "$BENCH_DIR"
BENCH_DIR=$(cd "$BENCH_DIR" && pwd)

PYTHON=/usr/bin/python3 # Debian's, when there is one (see HOST-FACTS); stdlib only
[[ -x $PYTHON ]] || PYTHON=python3
for tool in fio "$GO" "$PYTHON"; do
	command -v "$tool" >/dev/null || { echo "suite.sh: $tool is not installed (make bench installs fio)" >&2; exit 1; }
done
[[ $COUNT =~ ^[1-9][0-9]*$ ]] || { echo "suite.sh: COUNT must be a positive integer" >&2; exit 1; }
for f in $FRACTIONS; do
	[[ $f =~ ^[1-9][0-9]?$ ]] || { echo "suite.sh: FRACTIONS are percentages 1..99" >&2; exit 1; }
done
for t in $TARGETS; do
	[[ $t == sluice || $t == kfake ]] || { echo "suite.sh: unknown target $t" >&2; exit 1; }
done
for w in $WORKLOADS $EXTRA; do
	[[ -f $repo/bench/workloads/$w.yaml ]] || { echo "suite.sh: no workload bench/workloads/$w.yaml" >&2; exit 1; }
done

out=$BENCH_DIR/results-suite-$(date -u +%Y%m%dT%H%M%SZ)
bin=$out/bin
data=$BENCH_DIR/suite-data
mkdir -p "$bin"

# Only what this script starts and creates.
broker_pid=
stop_broker() {
	if [[ -n $broker_pid ]]; then
		kill "$broker_pid" 2>/dev/null || true
		for _ in $(seq 1 100); do # up to 10 s for a clean shutdown
			kill -0 "$broker_pid" 2>/dev/null || break
			sleep 0.1
		done
		kill -9 "$broker_pid" 2>/dev/null || true
		wait "$broker_pid" 2>/dev/null || true
		broker_pid=
	fi
	rm -rf "$data" "$BENCH_DIR"/fio-suite-*.dat
}
trap stop_broker EXIT
stop_broker

{
	echo "date: $(date -u +%Y-%m-%dT%H:%M:%SZ)"
	echo "commit: $(git -C "$repo" rev-parse --short HEAD 2>/dev/null || echo unknown)$(git -C "$repo" diff --quiet HEAD 2>/dev/null || echo ' (with uncommitted changes)')"
	echo "kernel: $(uname -sr)"
	echo "cpu: $(nproc) x $(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -1)"
	echo "memory: $(awk '/^MemTotal/ {printf "%.1f GiB", $2 / 1048576}' /proc/meminfo)"
	echo "filesystem: $(df -PT "$BENCH_DIR" | awk 'NR == 2 {print $2 " on " $1}') ($(findmnt -no OPTIONS -T "$BENCH_DIR" 2>/dev/null || echo '?'))"
	echo "go: $($GO version)"
	echo "fio: $(fio --version)"
	echo "load average at start: $(cut -d' ' -f1-3 /proc/loadavg)"
	echo "parameters: COUNT=$COUNT FIO_RUNTIME=$FIO_RUNTIME FIO_SIZE=$FIO_SIZE WARMUP=$WARMUP DURATION=$DURATION FRACTIONS='$FRACTIONS' WORKLOADS='$WORKLOADS' EXTRA='$EXTRA' TARGETS='$TARGETS' BENCH_DIR=$BENCH_DIR"
	echo "placement: broker, load generator and references on the same host, one at a time; the broker with its default shards (one per CPU)"
} >"$out/host.txt"

# Build once so that compiling is no part of a round.
(cd "$repo" && "$GO" build -o "$bin/sluice" ./cmd/sluice && "$GO" build -o "$bin/kfake" ./tools/kfake)

# wait_port PORT: poll until something accepts on 127.0.0.1:PORT (10 s at most).
wait_port() {
	for _ in $(seq 1 200); do
		(exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 0
		kill -0 "$broker_pid" 2>/dev/null || { echo "suite.sh: the broker exited" >&2; return 1; }
		sleep 0.05
	done
	echo "suite.sh: nothing listening on 127.0.0.1:$1 after 10 s" >&2
	return 1
}

start_broker() { # TARGET LOG
	case $1 in
	sluice)
		mkdir -p "$data"
		"$bin/sluice" serve --listen "127.0.0.1:$SLUICE_PORT" --data-dir "$data" >"$2" 2>&1 &
		broker_pid=$!
		wait_port "$SLUICE_PORT"
		port=$SLUICE_PORT
		;;
	kfake)
		"$bin/kfake" --port "$KFAKE_PORT" >"$2" 2>&1 &
		broker_pid=$!
		wait_port "$KFAKE_PORT"
		port=$KFAKE_PORT
		;;
	esac
}

failures=$out/failures.txt
: >"$failures"
# run_bench TARGET ROUND NAME ARGS...: one run; a run that reports errors is
# noted and the suite goes on (its results are in the tables, errors column).
run_bench() {
	local target=$1 round=$2 name=$3
	shift 3
	local args=("$@")
	# kfake has no disk: it refuses flush.messages, which would make no
	# difference to it anyway. Its runs say so in their summary's
	# topic_configs.
	if [[ $target == kfake ]]; then args+=(--topic-configs '{}'); fi
	echo "== $round $target $name" >&2
	"$bin/sluice" bench --brokers "127.0.0.1:$port" --label "$target" --run "$round" --name "$name" \
		--out "$out/$round/$target/$name" "${args[@]}" >/dev/null ||
		echo "$round $target $name: exit $?" >>"$failures"
}

workload_name() { sed -n 's/^name:[[:space:]]*//p' "$repo/bench/workloads/$1.yaml" | tr -d '"'; }

start=$SECONDS
for r in $(seq 1 "$COUNT"); do
	round=round-$r
	mkdir -p "$out/$round"
	echo "== $round of $COUNT: fio and loopback round trip" >&2
	fio --name=seq-1m --filename="$BENCH_DIR/fio-suite-seq.dat" --direct=1 --ioengine=psync --rw=write --bs=1M \
		--fallocate=native --size="$FIO_SIZE" --runtime="$FIO_RUNTIME" --unlink=1 --output-format=json \
		--output="$out/$round/fio-seq-1m.json"
	fio --name=fdatasync-4k --filename="$BENCH_DIR/fio-suite-sync.dat" --direct=1 --ioengine=psync --rw=write --bs=4k \
		--fdatasync=1 --fallocate=native --size=1G --runtime="$FIO_RUNTIME" --unlink=1 --percentile_list=50:99:99.9 \
		--output-format=json --output="$out/$round/fio-fdatasync-4k.json"
	rm -f "$BENCH_DIR"/fio-suite-*.dat
	"$bin/sluice" bench rtt --out "$out/$round/rtt" --run "$round" --count 100000 --size 64 >&2

	declare -A rates=()
	for target in $TARGETS; do
		start_broker "$target" "$out/$round/$target.log"
		for wl in $WORKLOADS; do
			file=$repo/bench/workloads/$wl.yaml
			name=$(workload_name "$wl")
			run_bench "$target" "$round" "$name-max" --workload "$file" --rate 0 --warmup "$WARMUP" --duration "$DURATION"
			if [[ -z ${rates[$wl]:-} ]]; then
				# The first target's maximum sets this round's fixed rates.
				rates[$wl]=$("$PYTHON" -c 'import json,sys; print(json.load(open(sys.argv[1]))["produce"]["records_per_sec"])' \
					"$out/$round/$target/$name-max/summary.json" 2>/dev/null || echo 0)
			fi
			for f in $FRACTIONS; do
				rate=$("$PYTHON" -c "print(round(${rates[$wl]} * $f / 100))")
				if [[ $rate -lt 1 ]]; then
					echo "$round $target $name-r$f: no max throughput to take $f% of" >>"$failures"
					continue
				fi
				run_bench "$target" "$round" "$name-r$f" --workload "$file" --rate "$rate" --warmup "$WARMUP" --duration "$DURATION"
			done
		done
		for wl in $EXTRA; do
			run_bench "$target" "$round" "$(workload_name "$wl")" --workload "$repo/bench/workloads/$wl.yaml"
		done
		stop_broker
	done
	unset rates
done
echo "load average at end: $(cut -d' ' -f1-3 /proc/loadavg)" >>"$out/host.txt"
echo "wall time: $((SECONDS - start)) s" >>"$out/host.txt"

ratio=
[[ " $TARGETS " == *" sluice "* && " $TARGETS " == *" kfake "* ]] && ratio=sluice/kfake
"$bin/sluice" bench report --in "$out" --ratio "$ratio" --plots "$out/plots" >"$out/report.md"
# $PLOTS holds this run's plots only: a workload left out of this run must
# not keep a plot from an older one.
mkdir -p "$PLOTS"
rm -f "$PLOTS"/*.svg
cp "$out"/plots/*.svg "$PLOTS"/ 2>/dev/null || true
plots_rel=${PLOTS#"$repo"/}
{
	echo "\`tools/bench/suite.sh\` of $(sed -n 's/^date: //p' "$out/host.txt") at commit $(sed -n 's/^commit: //p' "$out/host.txt")."
	echo
	echo '```'
	cat "$out/host.txt"
	echo '```'
	echo
	cat "$out/report.md"
	if [[ -s $failures ]]; then
		echo
		echo "Runs that reported errors or did not run (see their summary.json):"
		echo
		sed 's/^/- /' "$failures"
	fi
	echo
	echo "Plots, every round and broker overlaid, in \`$plots_rel/\`: produce latency"
	echo "below, end-to-end latency linked."
	echo
	for svg in "$PLOTS"/*-produce.svg; do
		if [[ -e $svg ]]; then echo "![$(basename "$svg" .svg)]($plots_rel/$(basename "$svg"))"; fi
	done
	echo
	for svg in "$PLOTS"/*-e2e.svg; do
		if [[ -e $svg ]]; then echo "- [$(basename "$svg" .svg)]($plots_rel/$(basename "$svg"))"; fi
	done
} >"$out/summary.md"

if [[ $UPDATE_DOC == 1 ]]; then
	"$PYTHON" - "$repo/BENCHMARKS.md" "$out/summary.md" <<'PY'
import sys
doc, summary = sys.argv[1], open(sys.argv[2]).read()
begin, end = "<!-- bench-suite:begin -->", "<!-- bench-suite:end -->"
text = open(doc).read()
i, j = text.find(begin), text.find(end)
if i < 0 or j < i:
    sys.exit(f"suite.sh: {doc} has no {begin} ... {end} section")
open(doc, "w").write(text[:i + len(begin)] + "\n" + summary.rstrip() + "\n" + text[j:])
PY
	echo "updated BENCHMARKS.md" >&2
fi

cat "$out/summary.md"
echo >&2
echo "results in $out" >&2
[[ ! -s $failures ]]
