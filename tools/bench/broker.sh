#!/usr/bin/env bash
# Broker benchmarks (core/bench_test.go): small-request rate, produce
# throughput and fixed-rate produce latency, each on both network transports
# (epoll, the broker's; stdnet, the std-net baseline) one after the other in
# every round, so that the machine's noise hits both alike. Prints a
# markdown summary (min / median / max over the rounds, and the
# epoll-to-stdnet ratios computed round by round) and keeps it with the raw
# outputs in $BENCH_DIR/results-broker-<UTC date>/. BENCHMARKS.md says how
# to read it.
#
# Environment (defaults in brackets):
#   BENCH_DIR        directory for results and the brokers' data [./.bench]
#   COUNT            rounds [3]
#   BENCHTIME        -benchtime of the request-rate and throughput benchmarks [2s]
#   LATENCY_RECORDS  records per latency run (-benchtime=Nx) [30000]
#   PRODUCE_RATE     records per second of the latency runs [5000]
#   GO               the go command [go]
#
# Bounds: a round runs 8 rate and throughput benchmarks of about BENCHTIME
# each (plus go test's ramp-up runs before it, about as long again) and 2
# latency runs of LATENCY_RECORDS / PRODUCE_RATE seconds each: about 45 s
# with the defaults, so under 3 minutes for 3 rounds. Each run starts a
# fresh broker whose data (what it was sent in one run: BENCHTIME at the
# produce rate, ~1 GB at 500 MB/s for 2 s) is removed when the run ends;
# everything but the results is removed on exit, also on failure.
#
# Each round also runs one 5 s fio job (sequential 1 MiB O_DIRECT writes),
# the disk's bandwidth that produce throughput is compared with.
#
# Short trial: COUNT=1 BENCHTIME=200ms LATENCY_RECORDS=2000
set -euo pipefail

COUNT=${COUNT:-3}
BENCHTIME=${BENCHTIME:-2s}
LATENCY_RECORDS=${LATENCY_RECORDS:-30000}
PRODUCE_RATE=${PRODUCE_RATE:-5000}
GO=${GO:-go}

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
BENCH_DIR=${BENCH_DIR:-$repo/.bench}
mkdir -p "$BENCH_DIR"
BENCH_DIR=$(cd "$BENCH_DIR" && pwd)

# Debian's interpreter when there is one (see HOST-FACTS); stdlib only.
PYTHON=/usr/bin/python3
[[ -x $PYTHON ]] || PYTHON=python3

for tool in fio "$GO" "$PYTHON"; do
	command -v "$tool" >/dev/null || { echo "broker.sh: $tool is not installed" >&2; exit 1; }
done
for v in COUNT LATENCY_RECORDS PRODUCE_RATE; do
	[[ ${!v} =~ ^[1-9][0-9]*$ ]] || { echo "broker.sh: $v must be a positive integer" >&2; exit 1; }
done

out=$BENCH_DIR/results-broker-$(date -u +%Y%m%dT%H%M%SZ)
mkdir -p "$out/raw"

# The benchmarks keep their brokers' data in b.TempDir(), that is under
# TMPDIR: on the disk being measured, and removed here after an interrupt.
tmp=$BENCH_DIR/broker-bench-tmp
cleanup() { rm -rf "$tmp"; }
trap cleanup EXIT
cleanup
mkdir -p "$tmp"

{
	echo "date: $(date -u +%Y-%m-%dT%H:%M:%SZ)"
	echo "commit: $(git -C "$repo" rev-parse --short HEAD 2>/dev/null || echo unknown)$(git -C "$repo" diff --quiet HEAD 2>/dev/null || echo ' (with uncommitted changes)')"
	echo "kernel: $(uname -sr)"
	echo "cpu: $(nproc) x $(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -1)"
	echo "memory: $(awk '/^MemTotal/ {printf "%.1f GiB", $2 / 1048576}' /proc/meminfo)"
	echo "filesystem: $(df -PT "$BENCH_DIR" | awk 'NR == 2 {print $2 " on " $1}') ($(findmnt -no OPTIONS -T "$BENCH_DIR" 2>/dev/null || echo '?'))"
	echo "go: $($GO version)"
	echo "load average at start: $(cut -d' ' -f1-3 /proc/loadavg)"
	echo "parameters: COUNT=$COUNT BENCHTIME=$BENCHTIME LATENCY_RECORDS=$LATENCY_RECORDS PRODUCE_RATE=$PRODUCE_RATE BENCH_DIR=$BENCH_DIR"
} >"$out/host.txt"

# Build the benchmark binary once so that compiling is no part of a round.
(cd "$repo" && "$GO" test -c -o "$out/core.test" ./core)

start=$SECONDS
for round in $(seq 1 "$COUNT"); do
	echo "== round $round of $COUNT" >&2
	# The disk's own sequential bandwidth in the same round: the reference
	# for produce throughput (as disk.sh's seq-1m job).
	fio --name=seq-1m --filename="$tmp/fio.dat" --direct=1 --ioengine=psync --rw=write --bs=1M \
		--fallocate=native --size=4G --runtime=5 --unlink=1 --output-format=json \
		--output="$out/raw/fio-$round.json"
	rm -f "$tmp/fio.dat"
	(
		cd "$repo/core"
		export TMPDIR=$tmp
		"$out/core.test" -test.run '^$' -test.bench 'BenchmarkRequestRate|BenchmarkProduceThroughput' \
			-test.benchtime "$BENCHTIME" -test.count 1 -test.timeout 20m
		"$out/core.test" -test.run '^$' -test.bench 'BenchmarkProduceLatency' \
			-test.benchtime "${LATENCY_RECORDS}x" -test.count 1 -test.timeout 20m -produce-rate "$PRODUCE_RATE"
	) | tee "$out/raw/go-$round.txt" >&2
done
rm -f "$out/core.test"
cat "$out"/raw/go-*.txt >"$out/go-bench.txt" # benchstat input
echo "load average at end: $(cut -d' ' -f1-3 /proc/loadavg)" >>"$out/host.txt"
echo "wall time: $((SECONDS - start)) s" >>"$out/host.txt"

"$PYTHON" - "$out" "$COUNT" "$PRODUCE_RATE" <<'PY' >"$out/summary.md"
import os, re, statistics, sys

out, count, rate = sys.argv[1], int(sys.argv[2]), sys.argv[3]
rounds = range(1, count + 1)

def go_round(r):
    """{name: {unit: value}} from one round's go test output."""
    res = {}
    for line in open(os.path.join(out, "raw", f"go-{r}.txt")):
        f = line.split()
        if not f or not f[0].startswith("Benchmark") or len(f) < 4:
            continue
        name = re.sub(r"-\d+$", "", f[0])
        m = {}
        for i in range(2, len(f) - 1, 2):
            try:
                m[f[i + 1]] = float(f[i])
            except ValueError:
                pass
        res[name] = m
    return res

go = {r: go_round(r) for r in rounds}

import json
fio = {r: json.load(open(os.path.join(out, "raw", f"fio-{r}.json")))["jobs"][0]["write"]["bw_bytes"] / 1e6
       for r in rounds}

def series(fn):
    vals = []
    for r in rounds:
        try:
            vals.append(fn(r))
        except (KeyError, ZeroDivisionError):
            pass
    return vals

def fmt(x):
    if x >= 100:
        return f"{x:.0f}"
    if x >= 10:
        return f"{x:.1f}"
    return f"{x:.2f}"

def mmm(vals):
    """min / median / max."""
    if not vals:
        return "n/a"
    return f"{fmt(min(vals))} / {fmt(statistics.median(vals))} / {fmt(max(vals))}"

def cells(bench, unit, higher_is_better):
    """epoll, stdnet, and the per-round ratio oriented so that > 1 favours epoll."""
    e = lambda r: go[r][f"{bench}/transport=epoll"][unit]
    s = lambda r: go[r][f"{bench}/transport=stdnet"][unit]
    ratio = (lambda r: e(r) / s(r)) if higher_is_better else (lambda r: s(r) / e(r))
    return f"{mmm(series(e))} | {mmm(series(s))} | {mmm(series(ratio))}"

print(f"# Broker benchmark: {os.path.basename(out)}\n")
print(f"{count} round(s); each cell is min / median / max over the rounds. Each round runs "
      "every benchmark on epoll and then on stdnet. Ratios are computed per round and "
      "oriented so that above 1 means epoll does better.\n")
print("```")
print(open(os.path.join(out, "host.txt")).read().rstrip())
print("```\n")

print("## Request rate (BenchmarkRequestRate), requests/s, 64 connections x 4 in flight\n")
print("| api | epoll | stdnet | epoll / stdnet |")
print("|---|---|---|---|")
for api in ("ApiVersions", "Metadata"):
    print(f"| {api} | {cells(f'BenchmarkRequestRate/api={api}', 'req/s', True)} |")

print("\n## Produce throughput (BenchmarkProduceThroughput), 1 KiB records, 4 producers, MB/s\n")
print("| acks | epoll | stdnet | epoll / stdnet |")
print("|---|---|---|---|")
for acks in ("1", "all"):
    print(f"| {acks} | {cells(f'BenchmarkProduceThroughput/acks={acks}', 'MB/s', True)} |")
print("\nAgainst the disk, same rounds: fio sequential write, bs=1M, O_DIRECT, QD1, MB/s: "
      f"{mmm(series(lambda r: fio[r]))}\n")
print("| acks | epoll MB/s / fio MB/s |")
print("|---|---|")
for acks in ("1", "all"):
    print(f"| {acks} | {mmm(series(lambda r: go[r][f'BenchmarkProduceThroughput/acks={acks}/transport=epoll']['MB/s'] / fio[r]))} |")

print(f"\n## Produce latency (BenchmarkProduceLatency), acks=all, 1 KiB records, 32 producers, "
      f"{rate} records/s, µs\n")
print("| | epoll | stdnet | stdnet / epoll |")
print("|---|---|---|---|")
bench = f"BenchmarkProduceLatency/acks=all/rate={rate}"
for unit, label in (("p50-us", "p50"), ("p99-us", "p99"), ("p99.9-us", "p99.9"), ("max-us", "max")):
    print(f"| {label} | {cells(bench, unit, False)} |")
# The pacer's own lateness is the client's: a floor under both columns, not
# something to compare.
for unit, label in (("sendlag-p99-us", "pacer lateness p99"), ("sendlag-p99.9-us", "pacer lateness p99.9")):
    print(f"| {label} | " + " | ".join(mmm(series(lambda r: go[r][f"{bench}/transport={t}"][unit]))
                                     for t in ("epoll", "stdnet")) + " | |")
PY

cat "$out/summary.md"
echo >&2
echo "results in $out" >&2
