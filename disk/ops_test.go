package disk

import (
	"bytes"
	"errors"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"sluice/disk/batch/batchtest"
	"sluice/disk/vfs"
)

func TestRollBySegmentMs(t *testing.T) {
	clk := newClock(time.Unix(1000, 0))
	cfg := testConfig()
	cfg.SegmentBytes, cfg.SegmentMs, cfg.Now = 1<<20, time.Minute, clk.now
	l := mustOpen(t, vfs.NewMem(), "/p", cfg)
	defer l.Close()
	m := &model{}
	rng := rand.New(rand.NewPCG(1, 1))
	appendN(t, l, m, rng, 3, false)
	clk.advance(59 * time.Second)
	appendN(t, l, m, rng, 1, false)
	if n := len(l.segs); n != 1 {
		t.Fatalf("rolled early: %d segments", n)
	}
	clk.advance(time.Second)
	appendN(t, l, m, rng, 1, false)
	if n := len(l.segs); n != 2 || l.segs[1].base != m.bases[4] {
		t.Fatalf("no roll at segment.ms: %d segments", n)
	}
	checkLog(t, l, m)
}

// TestRetention deletes closed segments by age and by total size, never the
// active one, and moves the log start with them.
func TestRetention(t *testing.T) {
	clk := newClock(time.UnixMilli(10_000_000))
	cfg := testConfig()
	cfg.Now = clk.now
	cfg.RetentionMs = -1
	fs := vfs.NewMem()
	l := mustOpen(t, fs, "/p", cfg)
	defer l.Close()
	m := &model{}
	appendN(t, l, m, rand.New(rand.NewPCG(2, 2)), 150, true)
	if err := l.Wait(m.next, true); err != nil {
		t.Fatal(err)
	}
	nseg := len(l.segs)
	if nseg < 4 {
		t.Fatalf("want several segments, have %d", nseg)
	}
	if l.EnforceRetention() != 0 {
		t.Fatal("retention deleted with no limits set")
	}

	// By size: keep at least retention.bytes.
	total := l.Size()
	cfg.RetentionBytes = total - l.segs[0].size - l.segs[1].size
	l.SetConfig(cfg)
	if got := l.EnforceRetention(); got != 2 {
		t.Fatalf("size retention deleted %d segments, want 2", got)
	}
	if l.Size() < cfg.RetentionBytes {
		t.Fatalf("size retention went below retention.bytes")
	}
	if l.LogStartOffset() != l.segs[0].base {
		t.Fatalf("log start %d, first segment %d", l.LogStartOffset(), l.segs[0].base)
	}
	waitGone(t, fs, "/p/"+segmentName(0, ".log"))

	// By time: segment timestamps come from the batches (1000+offset ms).
	cfg.RetentionBytes = 0
	cfg.RetentionMs = time.Duration(clk.now().UnixMilli()-1000-l.segs[1].maxTs) * time.Millisecond
	l.SetConfig(cfg)
	if got := l.EnforceRetention(); got != 1 {
		t.Fatalf("time retention deleted %d segments, want 1", got)
	}
	cfg.RetentionMs = time.Millisecond
	l.SetConfig(cfg)
	l.EnforceRetention()
	if len(l.segs) != 1 || l.segs[0].closed {
		t.Fatalf("retention must keep the active segment: %d left", len(l.segs))
	}
	start := l.LogStartOffset()
	want := &model{next: m.next}
	for i, b := range m.batches {
		if m.bases[i] >= start {
			want.batches, want.bases = append(want.batches, b), append(want.bases, m.bases[i])
		}
	}
	checkLog(t, l, want)
	if _, _, err := l.Read(nil, start-1, 100, m.next); !errors.Is(err, ErrOffsetOutOfRange) {
		t.Fatalf("read below log start: %v", err)
	}

	// The log start survives a restart.
	l.Close()
	l = mustOpen(t, fs, "/p", cfg)
	if l.LogStartOffset() != start {
		t.Fatalf("log start after reopen %d, want %d", l.LogStartOffset(), start)
	}
	checkLog(t, l, want)
}

func waitGone(t *testing.T, fs *vfs.Mem, name string) {
	t.Helper()
	waitFor(t, func() bool { _, ok := fs.ReadFile(name); return !ok })
}

// TestAdvanceLogStart is DeleteRecords: reads below the new start fail, a
// start inside a segment keeps that segment, and it persists.
func TestAdvanceLogStart(t *testing.T) {
	fs := vfs.NewMem()
	cfg := testConfig()
	l := mustOpen(t, fs, "/p", cfg)
	m := &model{}
	appendN(t, l, m, rand.New(rand.NewPCG(3, 3)), 100, false)
	if err := l.Wait(m.next, true); err != nil { // segments are deleted once closed
		t.Fatal(err)
	}
	mid := l.segs[2].base + 1
	if err := l.AdvanceLogStart(mid); err != nil {
		t.Fatal(err)
	}
	if err := l.AdvanceLogStart(m.next + 1); !errors.Is(err, ErrOffsetOutOfRange) {
		t.Fatalf("log start past the end: %v", err)
	}
	if l.LogStartOffset() != mid || l.segs[0].base != mid-1 {
		t.Fatalf("log start %d, first segment %d", l.LogStartOffset(), l.segs[0].base)
	}
	if _, _, err := l.Read(nil, mid-1, 100, m.next); !errors.Is(err, ErrOffsetOutOfRange) {
		t.Fatalf("read below log start: %v", err)
	}
	out, _, err := l.Read(nil, mid, 1, m.next)
	if err != nil || len(out) == 0 {
		t.Fatalf("read at log start: %v", err)
	}
	l.Close()
	l = mustOpen(t, fs, "/p", cfg)
	defer l.Close()
	if l.LogStartOffset() != mid {
		t.Fatalf("log start after reopen %d, want %d", l.LogStartOffset(), mid)
	}
}

// TestTruncate cuts the log at offsets in the active segment, in a closed
// one, inside a batch and below the log start; appends continue from the
// cut and the cut survives reopening.
func TestTruncate(t *testing.T) {
	cfg := testConfig()
	for _, where := range []string{"active", "closed", "mid-batch", "segment-base", "below-start", "at-end"} {
		t.Run(where, func(t *testing.T) {
			fs := vfs.NewMem()
			l := mustOpen(t, fs, "/p", cfg)
			m := &model{}
			rng := rand.New(rand.NewPCG(4, 4))
			appendN(t, l, m, rng, 120, false)
			var target int64
			switch where {
			case "active":
				target = m.bases[len(m.bases)-3]
			case "closed":
				target = m.bases[10]
			case "mid-batch":
				i := 20
				for batchtest.MustValid(m.batches[i]).NumRecords < 2 {
					i++
				}
				target = m.bases[i] + 1
			case "segment-base":
				target = l.segs[1].base
			case "below-start":
				if err := l.AdvanceLogStart(m.bases[30]); err != nil {
					t.Fatal(err)
				}
				target = 5
			case "at-end":
				target = m.next
			}
			got, err := l.Truncate(target)
			if err != nil {
				t.Fatal(err)
			}
			if where == "below-start" {
				m = &model{next: target}
				if l.LogStartOffset() != target {
					t.Fatalf("log start %d after truncating below it", l.LogStartOffset())
				}
			} else {
				m.truncate(target)
			}
			if got != m.next {
				t.Fatalf("new log end %d, want %d", got, m.next)
			}
			checkLog(t, l, m)
			appendN(t, l, m, rng, 30, true)
			checkLog(t, l, m)
			l.Close()
			l = mustOpen(t, fs, "/p", cfg)
			defer l.Close()
			checkLog(t, l, m)
		})
	}
}

// TestDiskFull fails preallocation with ENOSPC: the append's waiter gets
// the error, the log refuses appends and reads, earlier data is intact, and
// reopening after space is freed recovers and continues.
func TestDiskFull(t *testing.T) {
	for _, op := range []vfs.Op{vfs.OpAllocate, vfs.OpWrite, vfs.OpSync} {
		errno := map[vfs.Op]error{vfs.OpAllocate: unix.ENOSPC, vfs.OpWrite: unix.EIO, vfs.OpSync: unix.EIO}[op]
		t.Run(errno.Error(), func(t *testing.T) {
			mem := vfs.NewMem()
			fs := vfs.NewFaulty(mem)
			cfg := testConfig()
			l := mustOpen(t, fs, "/p", cfg)
			m := &model{}
			rng := rand.New(rand.NewPCG(5, 5))
			appendN(t, l, m, rng, 40, true)
			if err := l.Wait(m.next, true); err != nil {
				t.Fatal(err)
			}
			durable := *m
			fs.SetInjector(func(o vfs.Op, name string) error {
				if o == op && strings.HasSuffix(name, ".log") {
					return errno
				}
				return nil
			})
			// Appends until one round hits the fault (allocation is only
			// needed every PreallocateBytes).
			var err error
			for range 200 {
				b := batchtest.Sized(1, 2, 2000, 1)
				if _, err = l.Append(b, 0, true); err != nil {
					break
				}
				if err = l.Wait(l.LogEndOffset(), true); err != nil {
					break
				}
			}
			if !errors.Is(err, ErrOffline) || !errors.Is(err, errno) {
				t.Fatalf("error %v, want ErrOffline wrapping %v", err, errno)
			}
			if _, err := l.Append(batchtest.Values(1, "x"), 0, true); !errors.Is(err, ErrOffline) {
				t.Fatalf("append on an offline log: %v", err)
			}
			if _, _, err := l.Read(nil, 0, 100, 1); !errors.Is(err, ErrOffline) {
				t.Fatalf("read on an offline log: %v", err)
			}
			l.Close()
			fs.SetInjector(nil)
			l = mustOpen(t, fs, "/p", cfg)
			defer l.Close()
			// Everything durable before the fault is there; what was
			// appended after it may be there too, whole, but no more.
			if l.LogEndOffset() < durable.next {
				t.Fatalf("lost durable data: end %d < %d", l.LogEndOffset(), durable.next)
			}
			got := readAll(t, l, 0, 1<<20)
			if want := durable.from(0); string(got[:len(want)]) != string(want) {
				t.Fatal("durable data changed")
			}
			res, err := l.Append(batchtest.Values(1, "after"), 0, true)
			if err != nil || l.Wait(res.LastOffset+1, true) != nil {
				t.Fatalf("append after recovery: %v", err)
			}
		})
	}
}

// TestOffsetForTimestamp checks lookups by time across segments, inside a
// batch and past the end.
func TestOffsetForTimestamp(t *testing.T) {
	cfg := testConfig()
	l := mustOpen(t, vfs.NewMem(), "/p", cfg)
	defer l.Close()
	// Batch i has records with timestamps 10_000+10*i, +1, +2.
	var next int64
	for i := range 200 {
		b := batchtest.Make(10_000+10*int64(i),
			batchtest.Record{Value: make([]byte, 300)},
			batchtest.Record{Value: []byte("b"), TimestampDelta: 1},
			batchtest.Record{Value: []byte("c"), TimestampDelta: 2})
		res, err := l.Append(b, 0, false)
		if err != nil {
			t.Fatal(err)
		}
		next = res.LastOffset + 1
	}
	if len(l.segs) < 2 {
		t.Fatalf("want several segments")
	}
	for _, c := range []struct {
		ts   int64
		want int64
		ok   bool
	}{
		{0, 0, true}, {10_000, 0, true}, {10_001, 1, true}, {10_002, 2, true}, {10_003, 3, true},
		{10_000 + 10*150 + 2, 3*150 + 2, true}, {10_000 + 10*199 + 2, next - 1, true}, {10_000 + 10*199 + 3, 0, false},
	} {
		got, ok, err := l.OffsetForTimestamp(c.ts)
		if err != nil || ok != c.ok || (ok && got != c.want) {
			t.Fatalf("ts %d: got %d %v %v, want %d %v", c.ts, got, ok, err, c.want, c.ok)
		}
	}
	// A later batch with an older timestamp does not move it.
	res, err := l.Append(batchtest.Make(5, batchtest.Record{Value: []byte("late")}), 0, false)
	if err != nil {
		t.Fatal(err)
	}
	off, ts, ok, err := l.MaxTimestamp()
	if err != nil || !ok || ts != 10_000+10*199+2 || off != res.BaseOffset-1 {
		t.Fatalf("MaxTimestamp: offset %d ts %d ok %v err %v; want %d at %d", off, ts, ok, err, 10_000+10*199+2, res.BaseOffset-1)
	}
	empty := mustOpen(t, vfs.NewMem(), "/e", cfg)
	defer empty.Close()
	if _, _, ok, err := empty.MaxTimestamp(); ok || err != nil {
		t.Fatalf("MaxTimestamp of an empty log: ok %v err %v", ok, err)
	}
}

// TestFlushPolicy: without sync requests nothing is fdatasync'd until
// flush.messages or flush.ms says so.
func TestFlushPolicy(t *testing.T) {
	t.Run("flush.messages", func(t *testing.T) {
		cfg := testConfig()
		cfg.FlushMessages = 10
		l := mustOpen(t, vfs.NewMem(), "/p", cfg)
		defer l.Close()
		for i := range 9 {
			if _, err := l.Append(batchtest.Values(1, "a"), 0, false); err != nil {
				t.Fatal(err)
			}
			if err := l.Wait(int64(i+1), false); err != nil {
				t.Fatal(err)
			}
		}
		if d := l.DurableOffset(); d != 0 {
			t.Fatalf("synced at %d before flush.messages", d)
		}
		l.Append(batchtest.Values(1, "a"), 0, false)
		waitFor(t, func() bool { return l.DurableOffset() == 10 })
	})
	t.Run("flush.ms", func(t *testing.T) {
		cfg := testConfig()
		cfg.FlushMs = 20 * time.Millisecond
		l := mustOpen(t, vfs.NewMem(), "/p", cfg)
		defer l.Close()
		l.Append(batchtest.Values(1, "a"), 0, false)
		waitFor(t, func() bool { return l.DurableOffset() == 1 })
	})
}

func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("condition not met in 5s")
		}
		time.Sleep(time.Millisecond)
	}
}

func TestBackpressure(t *testing.T) {
	fs := vfs.NewFaulty(vfs.NewMem())
	cfg := testConfig()
	cfg.MaxPendingBytes = 64 << 10
	l := mustOpen(t, fs, "/p", cfg)
	defer l.Close()
	block := make(chan struct{})
	fs.SetInjector(func(vfs.Op, string) error { <-block; return nil })
	var err error
	for range 100 {
		if _, err = l.Append(batchtest.Sized(1, 1, 4000, 1), 0, false); err != nil {
			break
		}
	}
	close(block)
	fs.SetInjector(nil)
	if !errors.Is(err, ErrBackpressure) {
		t.Fatalf("got %v, want ErrBackpressure", err)
	}
	if p := l.Pending(); p > cfg.MaxPendingBytes {
		t.Fatalf("pending %d over the bound", p)
	}
}

func TestHighWatermarkCheckpoint(t *testing.T) {
	fs := vfs.NewMem()
	cfg := testConfig()
	l := mustOpen(t, fs, "/p", cfg)
	m := &model{}
	appendN(t, l, m, rand.New(rand.NewPCG(6, 6)), 10, true)
	l.SetHighWatermark(m.bases[5])
	l.Close()
	l = mustOpen(t, fs, "/p", cfg)
	defer l.Close()
	if hw := l.HighWatermark(); hw != m.bases[5] {
		t.Fatalf("high watermark %d after restart, want %d", hw, m.bases[5])
	}
}

// TestTailCacheBounded: a long run of appends keeps the cache within its
// budget, and reads below it come from disk correctly.
func TestTailCacheBounded(t *testing.T) {
	cfg := testConfig()
	cfg.SegmentBytes, cfg.TailCacheBytes = 8<<20, 512<<10
	l := mustOpen(t, vfs.NewMem(), "/p", cfg)
	defer l.Close()
	m := &model{}
	rng := rand.New(rand.NewPCG(8, 8))
	for range 10 {
		appendN(t, l, m, rng, 100, false)
		if err := l.Wait(m.next, false); err != nil {
			t.Fatal(err)
		}
		l.mu.Lock()
		cached := l.cached
		l.mu.Unlock()
		if cached > cfg.TailCacheBytes+chunkBytes {
			t.Fatalf("tail cache holds %d bytes, budget %d", cached, cfg.TailCacheBytes)
		}
	}
	if l.segs[len(l.segs)-1].cacheStart == 0 {
		t.Fatal("nothing was evicted; the test reads only from memory")
	}
	checkLog(t, l, m)
}

// TestReadAfterTruncateNotStale: the reads Truncate makes must not leave
// bytes from before the cut in the read window.
func TestReadAfterTruncateNotStale(t *testing.T) {
	fs := vfs.NewMem()
	cfg := Config{Logger: quiet, TailCacheBytes: 128 << 10, IndexIntervalBytes: 512}
	l := mustOpen(t, fs, "/p", cfg)
	for i := range 300 {
		if _, err := l.Append(batchtest.Sized(int64(1000+i), 1, 1000, byte(i)), 0, true); err != nil {
			t.Fatal(err)
		}
	}
	l.Close()
	l = mustOpen(t, fs, "/p", cfg) // tail cache: only the last page
	defer l.Close()
	if _, err := l.Truncate(51); err != nil {
		t.Fatal(err)
	}
	t.Logf("after truncate: rd seg %v from %d n %d, size %d cacheStart %d", l.rd.seg != nil, l.rd.from, l.rd.n, l.segs[0].size, l.segs[0].cacheStart)
	var fresh [][]byte
	for i := range 300 {
		b := batchtest.Sized(int64(5000+i), 1, 1500, byte(100+i))
		if _, err := l.Append(b, 0, true); err != nil {
			t.Fatal(err)
		}
		fresh = append(fresh, b)
	}
	l.Wait(351, true)
	got, _, err := l.Read(nil, 51, 1, 351)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("got %d bytes, cacheStart %d, size %d, rd seg %v from %d n %d", len(got), l.segs[0].cacheStart, l.segs[0].size, l.rd.seg != nil, l.rd.from, l.rd.n)
	if !bytes.Equal(got, fresh[0]) {
		t.Fatalf("Read(5) after Truncate(5) and a new append: %d bytes, want the new %d-byte batch", len(got), len(fresh[0]))
	}
}

// TestTruncateBatchBelowLogStart: the batch holding the cut starts below
// the log start, so cutting it whole empties the log; it restarts at that
// batch's base rather than leaving its end below its start.
func TestTruncateBatchBelowLogStart(t *testing.T) {
	l := mustOpen(t, vfs.NewMem(), "/p", Config{Logger: quiet})
	defer l.Close()
	l.Append(batchtest.Sized(1, 5, 500, 1), 0, true) // offsets 0-4
	l.Append(batchtest.Sized(1, 5, 500, 2), 0, true) // offsets 5-9
	l.Wait(10, true)
	if err := l.AdvanceLogStart(3); err != nil {
		t.Fatal(err)
	}
	end, err := l.Truncate(4)
	t.Logf("Truncate(4) = %d, %v; log start %d, end %d", end, err, l.LogStartOffset(), l.LogEndOffset())
	if err != nil || end != 0 || l.LogStartOffset() != 0 {
		t.Fatalf("log [%d, %d), want empty at 0 (%v)", l.LogStartOffset(), end, err)
	}
}

// TestTruncateBelowStartDurable: a power cut right after truncating below
// the log start recovers the truncated, restarted log, not the old start.
func TestTruncateBelowStartDurable(t *testing.T) {
	for _, reopen := range []bool{false, true} {
		mem := vfs.NewMem()
		l := mustOpen(t, mem, "/p", Config{Logger: quiet})
		l.Append(batchtest.Sized(1, 10, 500, 1), 0, true) // offsets 0-9
		l.Wait(10, true)
		l.AdvanceLogStart(8)
		if reopen {
			l.Close() // persists log start 8
			l = mustOpen(t, mem, "/p", Config{Logger: quiet})
		}
		end, err := l.Truncate(5)
		if err != nil {
			t.Fatal(err)
		}
		d := l.DurableOffset()
		l2 := mustOpen(t, mem.CrashClone(), "/p", Config{Logger: quiet})
		t.Logf("reopen=%v: Truncate(5) = %d, DurableOffset %d; after a power cut the log is [%d, %d)", reopen, end, d, l2.LogStartOffset(), l2.LogEndOffset())
		if l2.LogEndOffset() != 5 {
			t.Errorf("reopen=%v: recovered log end %d, want 5", reopen, l2.LogEndOffset())
		}
		l2.Close()
		l.Close()
	}
}
