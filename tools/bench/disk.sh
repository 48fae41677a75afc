#!/usr/bin/env bash
# Disk benchmarks of the partition log (disk/bench_test.go) and the disk's
# own limits measured by fio, in one run, on one directory, interleaved round
# by round so that the machine's noise hits both alike. Prints a markdown
# summary (min / median / max over the rounds, and the log-to-fio ratios) and
# keeps it with the raw outputs in $BENCH_DIR/results-<UTC date>/.
# BENCHMARKS.md says how to read it.
#
# Environment (defaults in brackets):
#   BENCH_DIR    directory on the disk to measure [./.bench]
#   COUNT        rounds; each runs every fio job and every Go benchmark once [3]
#   BENCHTIME    -benchtime of each Go benchmark [2s]
#   FIO_RUNTIME  seconds cap of each fio job [8]
#   FIO_SIZE     file size of each fio job; a job stops at FIO_RUNTIME or
#                once it has written the file, whichever comes first [4G]
#   GO           the go command [go]
#
# Bounds: a round takes at most 7 fio jobs x FIO_RUNTIME plus 7 Go
# benchmarks x BENCHTIME (and their drains), about 90 s with the defaults,
# so under 5 minutes for 3 rounds. At most FIO_SIZE plus about 3 GiB (the
# Go benchmarks keep about two 1 GiB segments under retention) are on disk at
# once; everything but the results is removed on exit, also on failure.
#
# Short trial: COUNT=1 BENCHTIME=200ms FIO_RUNTIME=2 FIO_SIZE=512M
set -euo pipefail

COUNT=${COUNT:-3}
BENCHTIME=${BENCHTIME:-2s}
FIO_RUNTIME=${FIO_RUNTIME:-8}
FIO_SIZE=${FIO_SIZE:-4G}
GO=${GO:-go}

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
BENCH_DIR=${BENCH_DIR:-$repo/.bench}
mkdir -p "$BENCH_DIR"
BENCH_DIR=$(cd "$BENCH_DIR" && pwd)

# Debian's interpreter when there is one (see HOST-FACTS); stdlib only.
PYTHON=/usr/bin/python3
[[ -x $PYTHON ]] || PYTHON=python3

for tool in fio "$GO" "$PYTHON"; do
	command -v "$tool" >/dev/null || { echo "disk.sh: $tool is not installed (make bench installs fio)" >&2; exit 1; }
done
[[ $COUNT =~ ^[1-9][0-9]*$ ]] || { echo "disk.sh: COUNT must be a positive integer" >&2; exit 1; }

out=$BENCH_DIR/results-$(date -u +%Y%m%dT%H%M%SZ)
mkdir -p "$out/raw"

# Only what this script creates: fio's files and the Go benchmarks' log
# directories (each benchmark removes its own; this catches an interrupt).
cleanup() {
	rm -f "$BENCH_DIR"/fio-*.dat
	rm -rf "$BENCH_DIR"/disk-bench-*
}
trap cleanup EXIT
cleanup

# Host facts, kept with the results.
{
	echo "date: $(date -u +%Y-%m-%dT%H:%M:%SZ)"
	echo "commit: $(git -C "$repo" rev-parse --short HEAD 2>/dev/null || echo unknown)$(git -C "$repo" diff --quiet HEAD 2>/dev/null || echo ' (with uncommitted changes)')"
	echo "kernel: $(uname -sr)"
	echo "cpu: $(nproc) x $(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -1)"
	echo "memory: $(awk '/^MemTotal/ {printf "%.1f GiB", $2 / 1048576}' /proc/meminfo)"
	echo "filesystem: $(df -PT "$BENCH_DIR" | awk 'NR == 2 {print $2 " on " $1}') ($(findmnt -no OPTIONS -T "$BENCH_DIR" 2>/dev/null || echo '?'))"
	echo "free space: $(df -Ph "$BENCH_DIR" | awk 'NR == 2 {print $4}')"
	echo "go: $($GO version)"
	echo "fio: $(fio --version)"
	echo "load average at start: $(cut -d' ' -f1-3 /proc/loadavg)"
	echo "parameters: COUNT=$COUNT BENCHTIME=$BENCHTIME FIO_RUNTIME=$FIO_RUNTIME FIO_SIZE=$FIO_SIZE BENCH_DIR=$BENCH_DIR"
} >"$out/host.txt"

# Build the benchmark binary once so that compiling is no part of a round.
(cd "$repo" && "$GO" test -c -o "$out/disk.test" ./disk)

# fio JOB ROUND ARGS...: one fio job on a fresh, preallocated file, as the
# log writes into freshly fallocated segment space. psync is one write at a
# time (queue depth 1), as the log's writer does.
run_fio() {
	local job=$1 round=$2
	shift 2
	local file=$BENCH_DIR/fio-$job.dat
	rm -f "$file"
	fio --name="$job" --filename="$file" --direct=1 --ioengine=psync --rw=write \
		--fallocate=native --size="$FIO_SIZE" --runtime="$FIO_RUNTIME" --unlink=1 \
		--percentile_list=50:99:99.9 --output-format=json \
		--output="$out/raw/fio-$job-$round.json" "$@"
	rm -f "$file"
}

bench_cmd=(-test.run '^$' -test.bench 'BenchmarkAppend' -test.benchtime "$BENCHTIME"
	-test.count 1 -test.timeout 10m)

start=$SECONDS
for round in $(seq 1 "$COUNT"); do
	echo "== round $round of $COUNT: fio" >&2
	run_fio seq-1m "$round" --bs=1M
	run_fio seq-16k "$round" --bs=16k
	run_fio seq-4k "$round" --bs=4k
	run_fio fdatasync-4k "$round" --bs=4k --fdatasync=1
	run_fio fdatasync-16k "$round" --bs=16k --fdatasync=1
	run_fio dsync-4k "$round" --bs=4k --sync=dsync
	run_fio dsync-16k "$round" --bs=16k --sync=dsync
	echo "== round $round of $COUNT: go test -bench BenchmarkAppend" >&2
	(cd "$repo/disk" && SLUICE_BENCH_DIR=$BENCH_DIR "$out/disk.test" "${bench_cmd[@]}") |
		tee "$out/raw/go-$round.txt" >&2
done
rm -f "$out/disk.test"
cat "$out"/raw/go-*.txt >"$out/go-bench.txt" # benchstat input
echo "load average at end: $(cut -d' ' -f1-3 /proc/loadavg)" >>"$out/host.txt"
echo "wall time: $((SECONDS - start)) s" >>"$out/host.txt"

"$PYTHON" - "$out" "$COUNT" <<'PY' >"$out/summary.md"
import glob, json, os, re, statistics, sys

out, count = sys.argv[1], int(sys.argv[2])
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

def fio_round(job, r):
    with open(os.path.join(out, "raw", f"fio-{job}-{r}.json")) as fh:
        return json.load(fh)["jobs"][0]

def pct(d, p):
    return d["percentile"][f"{p:.6f}"] / 1e3  # ns -> us

go = {r: go_round(r) for r in rounds}

def series(fn):
    """fn(r) for each round; None where a figure is missing."""
    vals = []
    for r in rounds:
        try:
            vals.append(fn(r))
        except (KeyError, FileNotFoundError, ZeroDivisionError):
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

def gm(name, unit):
    return lambda r: go[r][name][unit]

seq_mbps = lambda job: (lambda r: fio_round(job, r)["write"]["bw_bytes"] / 1e6)
write_p = lambda job, p: (lambda r: pct(fio_round(job, r)["write"]["clat_ns"], p))
sync_p = lambda job, p: (lambda r: pct(fio_round(job, r)["sync"]["lat_ns"], p))

print(f"# Disk benchmark: {os.path.basename(out)}\n")
print(f"{count} round(s); each cell is min / median / max over the rounds. "
      "Each round runs every fio job, then every Go benchmark, on the same directory.\n")
print("```")
print(open(os.path.join(out, "host.txt")).read().rstrip())
print("```\n")

print("## Sustained append throughput (BenchmarkAppend)\n")
print("| batch | sync | append MB/s | appends per write round | B/op | allocs/op |")
print("|---|---|---|---|---|---|")
for size in ("1KiB", "16KiB"):
    for sync in ("false", "true"):
        n = f"BenchmarkAppend/size={size}/sync={sync}"
        print(f"| {size} | {sync} | {mmm(series(gm(n, 'MB/s')))} | {mmm(series(gm(n, 'appends/round')))} "
              f"| {mmm(series(gm(n, 'B/op')))} | {mmm(series(gm(n, 'allocs/op')))} |")

print("\n## Append-to-durable latency, one append outstanding (BenchmarkAppendLatency), µs\n")
print("| batch | p50 | p99 | p99.9 | max | B/op | allocs/op |")
print("|---|---|---|---|---|---|---|")
for size in ("1KiB", "4KiB", "16KiB"):
    n = f"BenchmarkAppendLatency/size={size}"
    cells = [mmm(series(gm(n, u))) for u in ("p50-us", "p99-us", "p99.9-us", "max-us", "B/op", "allocs/op")]
    print(f"| {size} | " + " | ".join(cells) + " |")

print("\n## fio on the same directory (O_DIRECT, psync, queue depth 1, fresh preallocated file)\n")
print("| job | MB/s |")
print("|---|---|")
for job, label in (("seq-1m", "sequential write, bs=1M"), ("seq-16k", "sequential write, bs=16k"),
                   ("seq-4k", "sequential write, bs=4k")):
    print(f"| {label} | {mmm(series(seq_mbps(job)))} |")
print("\n| job, µs | p50 | p99 | p99.9 |")
print("|---|---|---|---|")
for bs in ("4k", "16k"):
    print(f"| write + fdatasync, bs={bs}: the write | "
          + " | ".join(mmm(series(write_p(f"fdatasync-{bs}", p))) for p in (50, 99, 99.9)) + " |")
    print(f"| write + fdatasync, bs={bs}: the fdatasync | "
          + " | ".join(mmm(series(sync_p(f"fdatasync-{bs}", p))) for p in (50, 99, 99.9)) + " |")
    print(f"| O_DSYNC write (write and flush in one call), bs={bs} | "
          + " | ".join(mmm(series(write_p(f"dsync-{bs}", p))) for p in (50, 99, 99.9)) + " |")

print("\n## Ratios, log / fio, computed per round\n")
print("| ratio | min / median / max |")
print("|---|---|")
for size in ("16KiB", "1KiB"):
    for sync in ("false", "true"):
        n = f"BenchmarkAppend/size={size}/sync={sync}"
        v = series(lambda r: go[r][n]["MB/s"] / seq_mbps("seq-1m")(r))
        print(f"| append MB/s ({size}, sync={sync}) / fio sequential write MB/s (bs=1M) | {mmm(v)} |")
for size, bs in (("16KiB", "16k"), ("4KiB", "4k")):
    n = f"BenchmarkAppendLatency/size={size}"
    v = series(lambda r: go[r][n]["p99-us"] / write_p(f"dsync-{bs}", 99)(r))
    print(f"| p99 append-to-durable ({size}) / fio p99 O_DSYNC write (bs={bs}) | {mmm(v)} |")
    v = series(lambda r: go[r][n]["p99-us"]
               / (write_p(f"fdatasync-{bs}", 99)(r) + sync_p(f"fdatasync-{bs}", 99)(r)))
    print(f"| p99 append-to-durable ({size}) / (fio p99 write + p99 fdatasync, bs={bs}) | {mmm(v)} |")
PY

cat "$out/summary.md"
echo >&2
echo "results in $out" >&2
