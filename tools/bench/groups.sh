#!/usr/bin/env bash
# Group coordinator benchmarks (core/group_bench_test.go): offset commit
# throughput and latency (BenchmarkOffsetCommit) and the time a 10-member
# group takes to stabilise after one member joins (BenchmarkGroupStabilise).
# Runs them COUNT times, then prints a markdown table of min / median / max
# of every reported metric over the rounds, and keeps it with the raw
# `go test` output (benchstat input) in $BENCH_DIR/results-groups-<UTC date>/.
# BENCHMARKS.md says how to read it.
#
# Environment (defaults in brackets):
#   BENCH_DIR      directory for results and the brokers' data [./.bench]
#   COUNT          rounds [3]
#   BENCHTIME      -benchtime of BenchmarkOffsetCommit [5s]
#   STABILISE_N    joins timed per round of BenchmarkGroupStabilise [30]
#   GO             the go command [go]
#
# Bounds: a round is 4 commit runs of about BENCHTIME each (plus go test's
# ramp-up, about as long again) and 2 x STABILISE_N joins of well under a
# second each (plus as many untimed leaves): about 1.5 minutes with the
# defaults. Each run's broker keeps its data under $BENCH_DIR and removes
# it when the run ends.
#
# Short trial: COUNT=1 BENCHTIME=200x STABILISE_N=3
set -euo pipefail

COUNT=${COUNT:-3}
BENCHTIME=${BENCHTIME:-5s}
STABILISE_N=${STABILISE_N:-30}
GO=${GO:-go}

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
BENCH_DIR=${BENCH_DIR:-$repo/.bench}
mkdir -p "$BENCH_DIR"
BENCH_DIR=$(cd "$BENCH_DIR" && pwd)
for v in COUNT STABILISE_N; do
	[[ ${!v} =~ ^[1-9][0-9]*$ ]] || { echo "groups.sh: $v must be a positive integer" >&2; exit 1; }
done

out=$BENCH_DIR/results-groups-$(date -u +%Y%m%dT%H%M%SZ)
mkdir -p "$out"
tmp=$BENCH_DIR/groups-bench-tmp
mkdir -p "$tmp"
trap 'rm -rf "$tmp"' EXIT

cd "$repo"
{
	echo "# $(uname -r), $(nproc) CPUs, load $(cut -d' ' -f1-3 /proc/loadavg)"
	for round in $(seq "$COUNT"); do
		TMPDIR=$tmp "$GO" test ./core -run '^$' -bench 'BenchmarkOffsetCommit$' -benchtime "$BENCHTIME" -count 1 -timeout 30m
		TMPDIR=$tmp "$GO" test ./core -run '^$' -bench 'BenchmarkGroupStabilise$' -benchtime "${STABILISE_N}x" -count 1 -timeout 30m
	done
} | tee "$out/go-bench.txt"

# One row per benchmark, one column per metric: min / median / max.
awk '
/^Benchmark/ {
	name = $1; sub(/-[0-9]+$/, "", name)
	if (!(name in seen)) { seen[name] = 1; order[++n] = name }
	for (i = 3; i < NF; i += 2) {
		m = $(i + 1)
		if (m == "B/op" || m == "allocs/op") continue
		if (!((name, m) in cnt)) { metrics[name] = metrics[name] " " m }
		vals[name, m, ++cnt[name, m]] = $i
	}
}
function sortn(a, k,   i, j, t) {
	for (i = 2; i <= k; i++) for (j = i; j > 1 && a[j - 1] + 0 > a[j] + 0; j--) { t = a[j]; a[j] = a[j - 1]; a[j - 1] = t }
}
END {
	for (b = 1; b <= n; b++) {
		name = order[b]
		nm = split(substr(metrics[name], 2), ms, " ")
		printf "\n%s\n\n|", name
		for (k = 1; k <= nm; k++) printf " %s |", ms[k]
		printf "\n|"
		for (k = 1; k <= nm; k++) printf "---|"
		printf "\n|"
		for (k = 1; k <= nm; k++) {
			c = cnt[name, ms[k]]
			delete a
			for (i = 1; i <= c; i++) a[i] = vals[name, ms[k], i]
			sortn(a, c)
			printf " %s / %s / %s |", a[1], a[int((c + 1) / 2)], a[c]
		}
		printf "\n"
	}
}' "$out/go-bench.txt" | tee "$out/summary.md"
echo "results in $out"
