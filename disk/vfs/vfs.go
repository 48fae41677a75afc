// Package vfs is the filesystem seam of the disk package: the partition log
// reaches files only through FS and File, so tests can run it on memory, on a
// filesystem that loses unsynced writes in a simulated power cut, or on one
// that fails chosen operations (ENOSPC, EIO).
//
// It owns no policy: no paths, no formats, no retries. Implementations:
//
//	OS      the real thing: O_DIRECT where the filesystem allows it, fallocate,
//	        pwritev, fdatasync
//	Mem     in memory; with Direct it checks alignment as the kernel would, and
//	        CrashClone keeps only what was synced (files and directory entries)
//	Faulty  wraps another FS and returns an injected error before an operation
package vfs

import (
	"errors"
	"unsafe"
)

// Alignment is the block size that O_DIRECT buffers, offsets and lengths
// must be multiples of. 4 KiB is the logical block size of NVMe namespaces
// formatted for performance and a multiple of 512-byte ones.
const Alignment = 4096

// ErrUnaligned is returned by Mem for a direct I/O that the kernel would
// refuse with EINVAL.
var ErrUnaligned = errors.New("vfs: unaligned direct I/O")

// Options says how to open a file.
type Options struct {
	Create bool // create the file when it does not exist
	Direct bool // bypass the page cache; I/O must be Alignment-aligned
}

// FS is the set of filesystem operations the log needs.
type FS interface {
	OpenFile(name string, o Options) (File, error)
	Remove(name string) error
	Rename(oldname, newname string) error
	MkdirAll(dir string) error
	// List returns the names (not paths) in dir, sorted.
	List(dir string) ([]string, error)
	// SyncDir makes creations, renames and removals in dir durable.
	SyncDir(dir string) error
}

// File is an open file. Offsets are absolute; there is no file position.
type File interface {
	// ReadAt reads len(p) bytes at off, returning io.EOF with the count
	// read when the file ends first.
	ReadAt(p []byte, off int64) (int, error)
	WriteAt(p []byte, off int64) (int, error)
	// WritevAt writes bufs back to back starting at off (pwritev).
	WritevAt(bufs [][]byte, off int64) (int, error)
	// WritevAtSync is WritevAt that returns once the written range is
	// durable, as if followed by Sync for that range alone (pwritev2 with
	// RWF_DSYNC: one system call instead of two). Bytes written earlier
	// without a sync are not covered.
	WritevAtSync(bufs [][]byte, off int64) (int, error)
	// Allocate reserves blocks for [off, off+n) and extends the file size to
	// cover them (fallocate mode 0), so later writes in that range need no
	// allocation and fdatasync need not log a size change.
	Allocate(off, n int64) error
	Truncate(size int64) error
	// Sync makes written data durable (fdatasync).
	Sync() error
	Size() (int64, error)
	Close() error
	// Direct reports whether the file really bypasses the page cache (the
	// OS falls back to buffered I/O where the filesystem refuses O_DIRECT).
	Direct() bool
}

// AlignedAlloc returns a zeroed slice of n bytes (rounded up to Alignment)
// whose first byte is Alignment-aligned, as direct I/O requires.
func AlignedAlloc(n int) []byte {
	n = AlignUp(n)
	raw := make([]byte, n+Alignment)
	skip := 0
	if r := int(uintptr(unsafe.Pointer(unsafe.SliceData(raw))) & (Alignment - 1)); r != 0 {
		skip = Alignment - r
	}
	return raw[skip : skip+n : skip+n]
}

// IsAligned reports whether p starts on an Alignment boundary.
func IsAligned(p []byte) bool {
	return len(p) == 0 || uintptr(unsafe.Pointer(unsafe.SliceData(p)))&(Alignment-1) == 0
}

// AlignUp and AlignDown round to multiples of Alignment.
func AlignUp(n int) int       { return (n + Alignment - 1) &^ (Alignment - 1) }
func AlignDown(n int) int     { return n &^ (Alignment - 1) }
func AlignUp64(n int64) int64 { return (n + Alignment - 1) &^ (Alignment - 1) }
func AlignDown64(n int64) int64 {
	return n &^ (Alignment - 1)
}
