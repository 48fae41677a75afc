package disk

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"sync/atomic"
	"testing"
	"time"

	"sluice/disk/batch"
	"sluice/disk/batch/batchtest"
	"sluice/disk/vfs"
)

// model is the naive reference the log is checked against: the batches in
// order, as bytes with their assigned offsets.
type model struct {
	batches [][]byte
	bases   []int64
	next    int64
}

func (m *model) add(b []byte, base int64) {
	m.batches = append(m.batches, append([]byte(nil), b...))
	m.bases = append(m.bases, base)
	m.next = base + int64(batchtest.MustValid(b).NumRecords)
}

// from returns the concatenation of the model's batches starting with the
// one holding offset.
func (m *model) from(offset int64) []byte {
	var out []byte
	for i, b := range m.batches {
		h := batchtest.MustValid(b)
		if m.bases[i]+int64(h.LastOffsetDelta) >= offset {
			out = append(out, b...)
		}
	}
	return out
}

func (m *model) truncate(offset int64) {
	for i, b := range m.batches {
		h := batchtest.MustValid(b)
		if m.bases[i]+int64(h.LastOffsetDelta) >= offset {
			m.batches, m.bases, m.next = m.batches[:i], m.bases[:i], m.bases[i]
			return
		}
	}
}

var quiet = slog.New(slog.NewTextHandler(io.Discard, nil))

// fakeClock is read by the writer goroutine and moved by the test.
type fakeClock struct{ ns atomic.Int64 }

func newClock(t time.Time) *fakeClock {
	c := &fakeClock{}
	c.ns.Store(t.UnixNano())
	return c
}

func (c *fakeClock) now() time.Time          { return time.Unix(0, c.ns.Load()) }
func (c *fakeClock) advance(d time.Duration) { c.ns.Add(int64(d)) }

func testConfig() Config {
	return Config{SegmentBytes: 64 << 10, PreallocateBytes: 16 << 10, IndexIntervalBytes: 512,
		TailCacheBytes: 256 << 10, Logger: quiet}
}

func mustOpen(t testing.TB, fs vfs.FS, dir string, cfg Config) *Log {
	t.Helper()
	l, err := Open(fs, dir, cfg)
	if err != nil {
		t.Fatal(err)
	}
	return l
}

func appendN(t testing.TB, l *Log, m *model, rng *rand.Rand, n int, sync bool) {
	t.Helper()
	for range n {
		recs := 1 + rng.IntN(5)
		b := batchtest.Sized(1000+int64(m.next), recs, 80+rng.IntN(3000), byte(rng.Uint32()))
		res, err := l.Append(b, 3, sync)
		if err != nil {
			t.Fatal(err)
		}
		if res.BaseOffset != m.next {
			t.Fatalf("base offset %d, want %d", res.BaseOffset, m.next)
		}
		m.add(b, res.BaseOffset)
	}
}

// readAll reads from offset to the end in maxBytes steps.
func readAll(t testing.TB, l *Log, offset int64, maxBytes int) []byte {
	t.Helper()
	var out []byte
	end := l.LogEndOffset()
	for offset < end {
		var next int64
		var err error
		n := len(out)
		out, next, err = l.Read(out, offset, maxBytes, end)
		if err != nil {
			t.Fatalf("read at %d: %v", offset, err)
		}
		if next <= offset {
			t.Fatalf("read at %d made no progress", offset)
		}
		for p := out[n:]; len(p) > 0; {
			h, err := batch.ParseHeader(p)
			if err == nil && h.Size() <= len(p) {
				_, err = batch.Validate(p[:h.Size()], 0)
			}
			if err != nil {
				t.Fatalf("read returned a bad batch at %d: %v", offset, err)
			}
			p = p[h.Size():]
		}
		offset = next
	}
	return out
}

func checkLog(t testing.TB, l *Log, m *model) {
	t.Helper()
	if got := l.LogEndOffset(); got != m.next {
		t.Fatalf("log end %d, want %d", got, m.next)
	}
	start := l.LogStartOffset()
	for _, maxBytes := range []int{1, 5000, 1 << 20} {
		got := readAll(t, l, start, maxBytes)
		if want := m.from(start); !bytes.Equal(got, want) {
			t.Fatalf("maxBytes=%d: read %d bytes, want %d; first difference at %d", maxBytes, len(got), len(want), firstDiff(got, want))
		}
	}
}

func firstDiff(a, b []byte) int {
	for i := range min(len(a), len(b)) {
		if a[i] != b[i] {
			return i
		}
	}
	return min(len(a), len(b))
}

func TestAppendReadAcrossSegmentsAndReopen(t *testing.T) {
	for _, name := range []string{"mem", "os"} {
		t.Run(name, func(t *testing.T) {
			var fs vfs.FS = vfs.NewMem()
			dir := "/p0"
			if name == "os" {
				fs, dir = vfs.OS{}, t.TempDir()
			}
			rng := rand.New(rand.NewPCG(1, 2))
			m := &model{}
			l := mustOpen(t, fs, dir, testConfig())
			appendN(t, l, m, rng, 200, false)
			checkLog(t, l, m)
			if err := l.Wait(m.next, true); err != nil {
				t.Fatal(err)
			}
			checkLog(t, l, m)
			if err := l.Close(); err != nil {
				t.Fatal(err)
			}
			l = mustOpen(t, fs, dir, testConfig())
			checkLog(t, l, m)
			appendN(t, l, m, rng, 50, true)
			checkLog(t, l, m)
			if err := l.Close(); err != nil {
				t.Fatal(err)
			}
			l = mustOpen(t, fs, dir, testConfig())
			defer l.Close()
			checkLog(t, l, m)
			if len(l.segs) < 3 {
				t.Fatalf("expected several segments, have %d", len(l.segs))
			}
		})
	}
}

func TestRejectedBatchWritesNothing(t *testing.T) {
	fs := vfs.NewMem()
	l := mustOpen(t, fs, "/p", Config{MaxMessageBytes: 2000, Logger: quiet})
	defer l.Close()
	good := batchtest.Values(1, "a")
	bad := append([]byte(nil), good...)
	bad[len(bad)-1] ^= 1
	if _, err := l.Append(bad, 0, true); !errors.Is(err, batch.ErrCorrupt) {
		t.Fatalf("corrupt batch: %v", err)
	}
	if _, err := l.Append(batchtest.Sized(1, 1, 3000, 1), 0, true); !errors.Is(err, batch.ErrTooLarge) {
		t.Fatalf("large batch: %v", err)
	}
	if l.LogEndOffset() != 0 || l.Size() != 0 {
		t.Fatalf("rejected batches changed the log: end %d size %d", l.LogEndOffset(), l.Size())
	}
	if _, err := l.Append(good, 0, true); err != nil {
		t.Fatal(err)
	}
	if err := l.Wait(1, true); err != nil {
		t.Fatal(err)
	}
	data, _ := fs.ReadFile("/p/" + segmentName(0, ".log"))
	if !bytes.HasPrefix(data, good) || !allZero(data[len(good):]) {
		t.Fatalf("file holds more than the one good batch")
	}
}

var _ = fmt.Sprint
