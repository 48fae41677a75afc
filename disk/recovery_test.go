package disk

import (
	"bytes"
	"math/rand/v2"
	"testing"

	"sluice/disk/batch/batchtest"
	"sluice/disk/vfs"
)

// buildLog writes n random batches with a clean close and returns the
// filesystem, the model and the configuration used.
func buildLog(t *testing.T, n int, cfg Config) (*vfs.Mem, *model) {
	t.Helper()
	fs := vfs.NewMem()
	l := mustOpen(t, fs, "/p", cfg)
	m := &model{}
	appendN(t, l, m, rand.New(rand.NewPCG(7, uint64(n))), n, false)
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	return fs, m
}

// cloneWith copies every file of fs, replacing one file's bytes.
func cloneWith(fs *vfs.Mem, name string, data []byte) *vfs.Mem {
	c := vfs.NewMem()
	c.MkdirAll("/p")
	for _, n := range fs.Names() {
		b, _ := fs.ReadFile(n)
		if n == name {
			b = data
		}
		c.WriteFile(n, b)
	}
	return c
}

// TestTornTailEveryByte cuts the last batch of the active segment at every
// byte position, with the rest of the file missing, zeroed (preallocated)
// or holding garbage, and checks recovery keeps exactly the batches before
// it and that the log takes appends afterwards.
func TestTornTailEveryByte(t *testing.T) {
	cfg := testConfig()
	cfg.SegmentBytes = 1 << 20
	fs, m := buildLog(t, 6, cfg)
	name := "/p/" + segmentName(0, ".log")
	data, _ := fs.ReadFile(name)
	data = data[:len(m.from(0))] // drop the preallocated tail
	last := len(m.batches) - 1
	lastPos := len(data) - len(m.batches[last])
	want := &model{batches: m.batches[:last], bases: m.bases[:last], next: m.bases[last]}
	rng := rand.New(rand.NewPCG(3, 4))
	for cut := lastPos; cut < len(data); cut++ {
		for _, tail := range []string{"missing", "zeros", "garbage"} {
			torn := append([]byte(nil), data[:cut]...)
			switch tail {
			case "zeros":
				if allZero(data[cut:]) {
					continue // the zeros restore the batch: nothing is torn
				}
				torn = append(torn, make([]byte, 8192)...)
			case "garbage":
				g := make([]byte, len(data)-cut+100)
				for i := range g {
					g[i] = byte(rng.Uint32())
				}
				torn = append(torn, g...)
			}
			c := cloneWith(fs, name, torn)
			l, err := Open(c, "/p", cfg)
			if err != nil {
				t.Fatalf("cut %d (%s): %v", cut, tail, err)
			}
			if l.LogEndOffset() != want.next {
				t.Fatalf("cut %d of [%d,%d) (%s): log end %d, want %d", cut, lastPos, len(data), tail, l.LogEndOffset(), want.next)
			}
			checkLog(t, l, want)
			if cut%97 == 0 {
				m2 := &model{batches: want.batches, bases: want.bases, next: want.next}
				appendN(t, l, m2, rng, 2, true)
				checkLog(t, l, m2)
				l.Close()
				l = mustOpen(t, c, "/p", cfg)
				checkLog(t, l, m2)
			}
			l.Close()
		}
	}
}

// TestCorruptBatchCutsTail flips one byte inside a middle batch of the
// active segment: recovery keeps the batches before it and drops the rest.
func TestCorruptBatchCutsTail(t *testing.T) {
	cfg := testConfig()
	cfg.SegmentBytes = 1 << 20
	fs, m := buildLog(t, 10, cfg)
	name := "/p/" + segmentName(0, ".log")
	data, _ := fs.ReadFile(name)
	pos := 0
	for i := range 4 {
		pos += len(m.batches[i])
	}
	// Every field but partitionLeaderEpoch (bytes 12-15, outside the CRC
	// and not checkable) is covered: the base offset by continuity, the
	// length by framing, the rest by the CRC.
	for _, off := range []int{0, 7, 8, 11, 16, 17, 21, 40, 61, len(m.batches[4]) - 1} {
		bad := append([]byte(nil), data...)
		bad[pos+off] ^= 0x40
		l := mustOpen(t, cloneWith(fs, name, bad), "/p", cfg)
		checkLog(t, l, &model{batches: m.batches[:4], bases: m.bases[:4], next: m.bases[4]})
		l.Close()
	}
}

// TestIndexRebuild removes, corrupts or makes stale the index of a closed
// segment; the log must scan the segment instead and read identically.
func TestIndexRebuild(t *testing.T) {
	cfg := testConfig()
	fs, m := buildLog(t, 120, cfg)
	idx := "/p/" + segmentName(0, ".index")
	good, ok := fs.ReadFile(idx)
	if !ok {
		t.Fatalf("closed segment has no index; files: %v", fs.Names())
	}
	x, err := unmarshalIndex(good)
	if err != nil || len(x.x.offsets) == 0 || len(x.x.times) == 0 {
		t.Fatalf("index unusable (%v) or empty: %+v", err, x)
	}
	stale := &indexFile{base: x.base, next: x.next - 1, size: x.size - 10, maxTs: x.maxTs, x: x.x}
	cases := map[string][]byte{
		"empty":     {},
		"truncated": good[:len(good)-3],
		"flipped":   append(append([]byte(nil), good[:50]...), append([]byte{good[50] ^ 1}, good[51:]...)...),
		"stale":     stale.marshal(),
	}
	for name, b := range cases {
		t.Run(name, func(t *testing.T) {
			c := cloneWith(fs, idx, b)
			l := mustOpen(t, c, "/p", cfg)
			checkLog(t, l, m)
			l.Close()
			rebuilt, _ := c.ReadFile(idx)
			if !bytes.Equal(rebuilt, good) {
				t.Fatalf("rebuilt index differs from the original")
			}
		})
	}
	t.Run("missing", func(t *testing.T) {
		c := cloneWith(fs, "", nil)
		c.Remove(idx)
		l := mustOpen(t, c, "/p", cfg)
		checkLog(t, l, m)
		l.Close()
		if rebuilt, _ := c.ReadFile(idx); !bytes.Equal(rebuilt, good) {
			t.Fatalf("rebuilt index differs from the original")
		}
	})
}

// TestDiscontinuousSegmentsDropped: a segment that does not start where the
// previous one ends (its predecessor lost a tail) is not served.
func TestDiscontinuousSegmentsDropped(t *testing.T) {
	cfg := testConfig()
	fs, m := buildLog(t, 120, cfg)
	// Find the second segment and cut the first short by its last batch.
	name := "/p/" + segmentName(0, ".log")
	data, _ := fs.ReadFile(name)
	var n int
	var size int
	for n = 0; size+len(m.batches[n]) <= len(data); n++ {
		size += len(m.batches[n])
	}
	short := data[:size-len(m.batches[n-1])]
	c := cloneWith(fs, name, short)
	c.Remove("/p/" + segmentName(0, ".index"))
	l := mustOpen(t, c, "/p", cfg)
	defer l.Close()
	checkLog(t, l, &model{batches: m.batches[:n-1], bases: m.bases[:n-1], next: m.bases[n-1]})
	if got := len(l.segs); got != 1 {
		t.Fatalf("%d segments survive, want 1", got)
	}
}

// FuzzRecovery opens a log whose only segment holds arbitrary bytes after a
// valid prefix. Invariants: Open never panics or fails; every batch it then
// serves passes validation, with contiguous offsets; it accepts an append
// and reads it back.
func FuzzRecovery(f *testing.F) {
	valid := append(batchtest.Values(1, "a", "b"), batchtest.Values(2, "c")...)
	f.Add([]byte{}, uint16(0))
	f.Add(valid, uint16(len(valid)))
	f.Add(append(valid, 0, 0, 0, 1), uint16(len(valid)-3))
	f.Fuzz(func(t *testing.T, tail []byte, keep uint16) {
		prefix := valid[:min(int(keep), len(valid))]
		fs := vfs.NewMem()
		fs.MkdirAll("/p")
		fs.WriteFile("/p/"+segmentName(0, ".log"), append(append([]byte(nil), prefix...), tail...))
		l, err := Open(fs, "/p", Config{Logger: quiet})
		if err != nil {
			t.Fatal(err)
		}
		defer l.Close()
		got := readAll(t, l, 0, 1<<20)
		if len(got) > len(prefix)+len(tail) {
			t.Fatalf("served more bytes than the file holds")
		}
		end := l.LogEndOffset()
		b := batchtest.Values(3, "new")
		if _, err := l.Append(b, 0, true); err != nil {
			t.Fatal(err)
		}
		if err := l.Wait(end+1, true); err != nil {
			t.Fatal(err)
		}
		out, _, err := l.Read(nil, end, 1<<20, end+1)
		if err != nil || !bytes.Equal(out, b) {
			t.Fatalf("appended batch reads back as %x (%v)", out, err)
		}
	})
}
