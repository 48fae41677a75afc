package disk

import (
	"fmt"
	"os"
	"sync/atomic"
	"testing"
	"time"

	"github.com/HdrHistogram/hdrhistogram-go"

	"sluice/disk/batch/batchtest"
	"sluice/disk/vfs"
)

// These benchmarks write to the real filesystem (vfs.OS): in
// $SLUICE_BENCH_DIR when it is set, so that tools/bench/disk.sh can measure
// them on the same disk as fio, else in a temporary directory. Every log
// directory is removed when its benchmark ends.
//
// Disk use is bounded by retention: the benchmark calls EnforceRetention as
// the broker would, so a run keeps at most about benchRetentionBytes plus two
// segments on disk however long -benchtime is.

const (
	benchSegmentBytes   = 1 << 30 // rolls are rare, as with Kafka's default segment.bytes
	benchRetentionBytes = 1 << 30
	// benchRecordBytes is the size of one record in a test batch; a batch of
	// size S holds S/benchRecordBytes records.
	benchRecordBytes = 256
	// Producer-side backpressure in BenchmarkAppend: once more than
	// benchPendingHighBytes wait for the disk, the producer waits until
	// everything but benchPendingLowBytes is written. Both are far below
	// MaxPendingBytes (64 MiB), so ErrBackpressure never fires.
	benchPendingHighBytes  = 4 << 20
	benchPendingLowBytes   = 2 << 20
	benchPendingCheckBytes = 256 << 10 // how often Pending is asked, in appended bytes
	// Latency histogram range: 1 ns to 10 s, 3 significant digits.
	benchMaxLatencyNs = int64(10 * time.Second)
	// benchWarmupBytes are appended and synced before the timer starts, so
	// that the tail cache (TailCacheBytes, 4 MiB by default) and its free
	// list are already allocated and B/op shows the steady state.
	benchWarmupBytes = 8 << 20
)

// benchDir returns an empty directory for one benchmark's log, removed when
// the benchmark ends.
func benchDir(b *testing.B) string {
	b.Helper()
	root := os.Getenv("SLUICE_BENCH_DIR")
	if root == "" {
		return b.TempDir()
	}
	if err := os.MkdirAll(root, 0o755); err != nil {
		b.Fatal(err)
	}
	dir, err := os.MkdirTemp(root, "disk-bench-")
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() {
		if err := os.RemoveAll(dir); err != nil {
			b.Error(err)
		}
	})
	return dir
}

// benchLog opens a log on the real filesystem whose OnProgress counts write
// rounds and then calls onProgress, if given. The log is closed when the
// benchmark ends (before benchDir removes its files).
func benchLog(b *testing.B, rounds *atomic.Int64, onProgress func()) *Log {
	b.Helper()
	dir := benchDir(b)
	l, err := Open(vfs.OS{}, dir, Config{
		SegmentBytes:   benchSegmentBytes,
		RetentionBytes: benchRetentionBytes,
		Logger:         quiet,
		OnProgress: func() {
			rounds.Add(1)
			if onProgress != nil {
				onProgress()
			}
		},
	})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() {
		if err := l.Close(); err != nil {
			b.Error(err)
		}
	})
	return l
}

// benchBatch builds a valid batch of about size bytes with the current time
// as its timestamp, so that retention.ms never deletes it.
func benchBatch(size int) (b []byte, records int64) {
	b = batchtest.Sized(time.Now().UnixMilli(), max(size/benchRecordBytes, 1), size, 1)
	return b, int64(batchtest.MustValid(b).NumRecords)
}

// warmUp appends benchWarmupBytes of bt and waits until they are durable.
func warmUp(b *testing.B, l *Log, bt []byte) {
	b.Helper()
	var last AppendResult
	for range max(benchWarmupBytes/len(bt), 1) {
		res, err := l.Append(bt, 1, false)
		if err != nil {
			b.Fatal(err)
		}
		last = res
	}
	if err := l.Wait(last.LastOffset+1, true); err != nil {
		b.Fatal(err)
	}
}

func sizeName(n int) string {
	if n%(1<<10) == 0 {
		return fmt.Sprintf("%dKiB", n>>10)
	}
	return fmt.Sprintf("%dB", n)
}

// retention keeps a benchmark's disk use bounded: it calls EnforceRetention
// once per half segment appended, as the broker's retention timer would.
type retention struct{ sinceBytes int64 }

func (r *retention) appended(l *Log, n int) {
	r.sinceBytes += int64(n)
	if r.sinceBytes >= benchSegmentBytes/2 {
		r.sinceBytes = 0
		l.EnforceRetention()
	}
}

// BenchmarkAppend measures sustained append throughput from one producer
// that keeps appends flowing: it never waits for one append, only, as the
// broker does, when too many bytes are waiting for the disk. With sync=true
// every append asks for fdatasync and the writer group-commits them. The
// time includes draining the last appends to the file (sync=false) or to
// durable storage (sync=true), so MB/s is what the disk took, not what the
// tail cache absorbed. appends/round is the group-commit factor.
func BenchmarkAppend(b *testing.B) {
	for _, size := range []int{1 << 10, 16 << 10} {
		b.Run("size="+sizeName(size), func(b *testing.B) {
			for _, sync := range []bool{false, true} {
				b.Run(fmt.Sprintf("sync=%t", sync), func(b *testing.B) {
					benchmarkAppend(b, size, sync)
				})
			}
		})
	}
}

func benchmarkAppend(b *testing.B, size int, sync bool) {
	var rounds atomic.Int64
	l := benchLog(b, &rounds, nil)
	bt, records := benchBatch(size)
	checkEvery := max(benchPendingCheckBytes/len(bt), 1)
	lowLagOffsets := int64(benchPendingLowBytes/len(bt)) * records
	var ret retention
	var last AppendResult
	warmUp(b, l, bt)
	b.SetBytes(int64(len(bt)))
	b.ReportAllocs()
	roundsBefore := rounds.Load()
	i := 0
	for b.Loop() {
		res, err := l.Append(bt, 1, sync)
		if err != nil {
			b.Fatal(err)
		}
		last = res
		ret.appended(l, len(bt))
		if i++; i%checkEvery == 0 && l.Pending() > benchPendingHighBytes {
			if err := l.Wait(res.LastOffset+1-lowLagOffsets, false); err != nil {
				b.Fatal(err)
			}
		}
	}
	// b.Loop stopped the timer; the disk work still owed counts too.
	b.StartTimer()
	if err := l.Wait(last.LastOffset+1, sync); err != nil {
		b.Fatal(err)
	}
	b.StopTimer()
	if n := rounds.Load() - roundsBefore; n > 0 {
		b.ReportMetric(float64(b.N)/float64(n), "appends/round")
	}
}

// BenchmarkAppendLatency measures append-to-durable latency in a closed
// loop with one append outstanding: append with sync, then wait, as the
// broker's event loop does, for OnProgress to report a DurableOffset past the
// batch. The p*-us metrics are percentiles of that time over every append;
// ns/op is its mean.
func BenchmarkAppendLatency(b *testing.B) {
	for _, size := range []int{1 << 10, 4 << 10, 16 << 10} {
		b.Run("size="+sizeName(size), func(b *testing.B) {
			benchmarkAppendLatency(b, size)
		})
	}
}

func benchmarkAppendLatency(b *testing.B, size int) {
	var rounds atomic.Int64
	// One slot is enough: a round that finds it full has nothing new to
	// say, since the waiter re-reads DurableOffset after every receive.
	progress := make(chan struct{}, 1)
	l := benchLog(b, &rounds, func() {
		select {
		case progress <- struct{}{}:
		default:
		}
	})
	bt, _ := benchBatch(size)
	hist := hdrhistogram.New(1, benchMaxLatencyNs, 3)
	var ret retention
	warmUp(b, l, bt)
	b.SetBytes(int64(len(bt)))
	b.ReportAllocs()
	for b.Loop() {
		start := time.Now()
		res, err := l.Append(bt, 1, true)
		if err != nil {
			b.Fatal(err)
		}
		for l.DurableOffset() <= res.LastOffset {
			<-progress
			if err := l.Err(); err != nil {
				b.Fatal(err)
			}
		}
		hist.RecordValue(min(time.Since(start).Nanoseconds(), benchMaxLatencyNs))
		ret.appended(l, len(bt))
	}
	us := func(q float64) float64 { return float64(hist.ValueAtQuantile(q)) / 1e3 }
	b.ReportMetric(us(50), "p50-us")
	b.ReportMetric(us(99), "p99-us")
	b.ReportMetric(us(99.9), "p99.9-us")
	b.ReportMetric(float64(hist.Max())/1e3, "max-us")
}
