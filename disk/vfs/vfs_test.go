package vfs

import (
	"bytes"
	"errors"
	"io"
	"path/filepath"
	"testing"

	"golang.org/x/sys/unix"
)

func TestAlignedAlloc(t *testing.T) {
	for _, n := range []int{1, 4096, 5000, 1 << 20} {
		b := AlignedAlloc(n)
		if !IsAligned(b) || len(b)%Alignment != 0 || len(b) < n {
			t.Fatalf("AlignedAlloc(%d): len %d aligned %v", n, len(b), IsAligned(b))
		}
	}
}

// TestOSDirect checks the real file: O_DIRECT where the filesystem has it,
// preallocation extending the size, vectored writes, short reads at EOF.
func TestOSDirect(t *testing.T) {
	name := filepath.Join(t.TempDir(), "f")
	f, err := OS{}.OpenFile(name, Options{Create: true, Direct: true})
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	t.Logf("direct I/O: %v", f.Direct())
	if err := f.Allocate(0, 1<<20); err != nil {
		t.Fatal(err)
	}
	if size, _ := f.Size(); size != 1<<20 {
		t.Fatalf("size after allocate %d", size)
	}
	a, b := AlignedAlloc(8192), AlignedAlloc(4096)
	for i := range a {
		a[i] = byte(i)
	}
	b[0] = 0xAB
	if n, err := f.WritevAt([][]byte{a, b}, 4096); err != nil || n != 12288 {
		t.Fatalf("writev %d %v", n, err)
	}
	if err := f.Sync(); err != nil {
		t.Fatal(err)
	}
	got := AlignedAlloc(12288)
	if _, err := f.ReadAt(got, 4096); err != nil || !bytes.Equal(got[:8192], a) || got[8192] != 0xAB {
		t.Fatalf("read back differs: %v", err)
	}
	if err := f.Truncate(4096 + 100); err != nil {
		t.Fatal(err)
	}
	n, err := f.ReadAt(got[:8192], 4096)
	if n != 100 || !errors.Is(err, io.EOF) {
		t.Fatalf("read at end: %d %v", n, err)
	}
	if f.Direct() {
		if _, err := f.WriteAt(a[1:4097], 0); !errors.Is(err, unix.EINVAL) {
			t.Fatalf("unaligned direct write: %v", err)
		}
	}
}

func TestMemDirectAlignment(t *testing.T) {
	m := NewMem()
	m.MkdirAll("/d")
	f, _ := m.OpenFile("/d/f", Options{Create: true, Direct: true})
	if _, err := f.WriteAt(make([]byte, 100), 0); !errors.Is(err, ErrUnaligned) {
		t.Fatalf("unaligned length: %v", err)
	}
	if _, err := f.WriteAt(AlignedAlloc(4096), 10); !errors.Is(err, ErrUnaligned) {
		t.Fatalf("unaligned offset: %v", err)
	}
	if _, err := f.WriteAt(AlignedAlloc(8192)[1:4097], 0); !errors.Is(err, ErrUnaligned) {
		t.Fatalf("unaligned buffer: %v", err)
	}
}

// TestMemCrashClone keeps synced bytes of files whose directory entry was
// synced, and nothing else.
func TestMemCrashClone(t *testing.T) {
	m := NewMem()
	m.MkdirAll("/d")
	f, _ := m.OpenFile("/d/a", Options{Create: true})
	f.WriteAt([]byte("synced"), 0)
	f.Sync()
	m.SyncDir("/d")
	f.WriteAt([]byte("-lost"), 6)
	g, _ := m.OpenFile("/d/b", Options{Create: true})
	g.WriteAt([]byte("no dir sync"), 0)
	g.Sync()
	m.Rename("/d/a", "/d/c")

	c := m.CrashClone()
	if b, ok := c.ReadFile("/d/a"); !ok || string(b) != "synced" {
		t.Fatalf("a after crash: %q %v", b, ok)
	}
	if _, ok := c.ReadFile("/d/b"); ok {
		t.Fatal("a file whose directory was never synced survived")
	}
	if _, ok := c.ReadFile("/d/c"); ok {
		t.Fatal("an unsynced rename survived")
	}
	m.SyncDir("/d")
	c = m.CrashClone()
	if b, ok := c.ReadFile("/d/c"); !ok || string(b) != "synced" {
		t.Fatalf("c after synced rename: %q %v", b, ok)
	}
}

func TestFaultyInjects(t *testing.T) {
	fs := NewFaulty(NewMem())
	fs.MkdirAll("/d")
	f, _ := fs.OpenFile("/d/f", Options{Create: true})
	fs.SetInjector(func(op Op, name string) error {
		if op == OpSync {
			return unix.EIO
		}
		return nil
	})
	if _, err := f.WriteAt([]byte("x"), 0); err != nil {
		t.Fatal(err)
	}
	if err := f.Sync(); !errors.Is(err, unix.EIO) {
		t.Fatalf("sync: %v", err)
	}
	fs.SetInjector(nil)
	if err := f.Sync(); err != nil {
		t.Fatal(err)
	}
}

// TestMemWritevAtSync syncs the written range only: bytes written before
// without a sync are still lost in a crash.
func TestMemWritevAtSync(t *testing.T) {
	m := NewMem()
	m.MkdirAll("/d")
	f, _ := m.OpenFile("/d/f", Options{Create: true})
	m.SyncDir("/d")
	f.WriteAt([]byte("aaaa"), 0)
	f.WritevAtSync([][]byte{[]byte("bbbb")}, 4)
	b, _ := m.CrashClone().ReadFile("/d/f")
	if string(b) != "\x00\x00\x00\x00bbbb" {
		t.Fatalf("after crash: %q", b)
	}
}
