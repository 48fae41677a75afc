package vfs

import (
	"errors"
	"fmt"
	iofs "io/fs"
	"path"
)

// ReadFile reads a small file completely through fs, refusing one larger
// than limit bytes.
func ReadFile(fs FS, name string, limit int64) ([]byte, error) {
	f, err := fs.OpenFile(name, Options{})
	if err != nil {
		return nil, err
	}
	defer f.Close()
	size, err := f.Size()
	if err != nil {
		return nil, err
	}
	if size > limit {
		return nil, fmt.Errorf("%s: %d bytes, more than the %d expected", name, size, limit)
	}
	b := make([]byte, size)
	if _, err := f.ReadAt(b, 0); err != nil && size > 0 {
		return nil, err
	}
	return b, nil
}

// WriteFileAtomic replaces name with data durably: a temporary file
// (name+".tmp"), synced, renamed over name, and its directory synced. A
// reader sees the old contents or the new, never a mix; a leftover .tmp
// file is an interrupted write and can be removed.
func WriteFileAtomic(fs FS, name string, data []byte) error {
	dir := path.Dir(name)
	tmp := name + ".tmp"
	f, err := fs.OpenFile(tmp, Options{Create: true})
	if err != nil {
		return err
	}
	if err := f.Truncate(0); err != nil {
		f.Close()
		return err
	}
	if _, err := f.WriteAt(data, 0); err != nil {
		f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	if err := fs.Rename(tmp, name); err != nil {
		return err
	}
	return fs.SyncDir(dir)
}

// RemoveDir removes dir and the files in it; a dir that does not exist is
// not an error. It does not descend: a subdirectory that is not empty makes
// it fail. The removal is durable once dir's parent is synced.
func RemoveDir(fs FS, dir string) error {
	names, err := fs.List(dir)
	if errors.Is(err, iofs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	for _, n := range names {
		if err := fs.Remove(path.Join(dir, n)); err != nil && !errors.Is(err, iofs.ErrNotExist) {
			return err
		}
	}
	if err := fs.Remove(dir); err != nil && !errors.Is(err, iofs.ErrNotExist) {
		return err
	}
	return nil
}
