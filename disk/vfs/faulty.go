package vfs

import "sync/atomic"

// Op names an operation Faulty can fail.
type Op int

const (
	OpOpen Op = iota
	OpRead
	OpWrite
	OpAllocate
	OpTruncate
	OpSync
	OpRemove
	OpRename
	OpSyncDir
)

// Injector decides whether an operation on name fails; nil means it runs.
type Injector func(op Op, name string) error

// Faulty wraps an FS and consults its injector before every operation. The
// injector can be swapped while files are in use, so a test can let a log
// open cleanly and then make its disk fill up.
type Faulty struct {
	FS
	inject atomic.Pointer[Injector]
}

// NewFaulty wraps fs with no faults.
func NewFaulty(fs FS) *Faulty { return &Faulty{FS: fs} }

// SetInjector replaces the injector; nil clears every fault.
func (f *Faulty) SetInjector(i Injector) {
	if i == nil {
		f.inject.Store(nil)
		return
	}
	f.inject.Store(&i)
}

func (f *Faulty) check(op Op, name string) error {
	if p := f.inject.Load(); p != nil {
		return (*p)(op, name)
	}
	return nil
}

func (f *Faulty) OpenFile(name string, o Options) (File, error) {
	if err := f.check(OpOpen, name); err != nil {
		return nil, err
	}
	file, err := f.FS.OpenFile(name, o)
	if err != nil {
		return nil, err
	}
	return &faultyFile{File: file, fs: f, name: name}, nil
}

func (f *Faulty) Remove(name string) error {
	if err := f.check(OpRemove, name); err != nil {
		return err
	}
	return f.FS.Remove(name)
}

func (f *Faulty) Rename(oldname, newname string) error {
	if err := f.check(OpRename, newname); err != nil {
		return err
	}
	return f.FS.Rename(oldname, newname)
}

func (f *Faulty) SyncDir(dir string) error {
	if err := f.check(OpSyncDir, dir); err != nil {
		return err
	}
	return f.FS.SyncDir(dir)
}

type faultyFile struct {
	File
	fs   *Faulty
	name string
}

func (f *faultyFile) ReadAt(p []byte, off int64) (int, error) {
	if err := f.fs.check(OpRead, f.name); err != nil {
		return 0, err
	}
	return f.File.ReadAt(p, off)
}

func (f *faultyFile) WriteAt(p []byte, off int64) (int, error) {
	if err := f.fs.check(OpWrite, f.name); err != nil {
		return 0, err
	}
	return f.File.WriteAt(p, off)
}

func (f *faultyFile) WritevAt(bufs [][]byte, off int64) (int, error) {
	if err := f.fs.check(OpWrite, f.name); err != nil {
		return 0, err
	}
	return f.File.WritevAt(bufs, off)
}

func (f *faultyFile) WritevAtSync(bufs [][]byte, off int64) (int, error) {
	if err := f.fs.check(OpWrite, f.name); err != nil {
		return 0, err
	}
	if err := f.fs.check(OpSync, f.name); err != nil {
		return 0, err
	}
	return f.File.WritevAtSync(bufs, off)
}

func (f *faultyFile) Allocate(off, n int64) error {
	if err := f.fs.check(OpAllocate, f.name); err != nil {
		return err
	}
	return f.File.Allocate(off, n)
}

func (f *faultyFile) Truncate(size int64) error {
	if err := f.fs.check(OpTruncate, f.name); err != nil {
		return err
	}
	return f.File.Truncate(size)
}

func (f *faultyFile) Sync() error {
	if err := f.fs.check(OpSync, f.name); err != nil {
		return err
	}
	return f.File.Sync()
}
