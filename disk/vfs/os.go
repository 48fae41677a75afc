package vfs

import (
	"errors"
	"fmt"
	"io"
	"os"
	"sort"

	"golang.org/x/sys/unix"
)

// OS is the real filesystem.
type OS struct{}

// iovMax bounds the buffers given to one pwritev (IOV_MAX on Linux).
const iovMax = 1024

func (OS) OpenFile(name string, o Options) (File, error) {
	flags := unix.O_RDWR | unix.O_CLOEXEC
	if o.Create {
		flags |= unix.O_CREAT
	}
	direct := o.Direct
	fd, err := open(name, flags, direct)
	if errors.Is(err, unix.EINVAL) && direct {
		// The filesystem does not do O_DIRECT (older tmpfs, some FUSE):
		// fall back to buffered I/O and let the caller say so.
		direct = false
		fd, err = open(name, flags, false)
	}
	if err != nil {
		return nil, &os.PathError{Op: "open", Path: name, Err: err}
	}
	return &osFile{fd: fd, name: name, direct: direct}, nil
}

func open(name string, flags int, direct bool) (int, error) {
	if direct {
		flags |= unix.O_DIRECT
	}
	for {
		fd, err := unix.Open(name, flags, 0o644)
		if err != unix.EINTR {
			return fd, err
		}
	}
}

func (OS) Remove(name string) error             { return os.Remove(name) }
func (OS) Rename(oldname, newname string) error { return os.Rename(oldname, newname) }
func (OS) MkdirAll(dir string) error            { return os.MkdirAll(dir, 0o755) }

func (OS) List(dir string) ([]string, error) {
	ents, err := os.ReadDir(dir)
	if err != nil {
		return nil, err
	}
	names := make([]string, len(ents))
	for i, e := range ents {
		names[i] = e.Name()
	}
	sort.Strings(names)
	return names, nil
}

func (OS) SyncDir(dir string) error {
	fd, err := unix.Open(dir, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return &os.PathError{Op: "open", Path: dir, Err: err}
	}
	defer unix.Close(fd)
	if err := unix.Fsync(fd); err != nil {
		return &os.PathError{Op: "fsync", Path: dir, Err: err}
	}
	return nil
}

type osFile struct {
	fd     int
	name   string
	direct bool
}

func (f *osFile) err(op string, err error) error {
	return &os.PathError{Op: op, Path: f.name, Err: err}
}

func (f *osFile) ReadAt(p []byte, off int64) (int, error) {
	n := 0
	for n < len(p) {
		m, err := unix.Pread(f.fd, p[n:], off+int64(n))
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			return n, f.err("pread", err)
		}
		if m == 0 {
			return n, io.EOF
		}
		n += m
		if f.direct && m%Alignment != 0 {
			// A short direct read ends at end of file; asking again at an
			// unaligned offset would fail with EINVAL.
			if n < len(p) {
				return n, io.EOF
			}
		}
	}
	return n, nil
}

func (f *osFile) WriteAt(p []byte, off int64) (int, error) {
	return f.WritevAt([][]byte{p}, off)
}

func (f *osFile) WritevAt(bufs [][]byte, off int64) (int, error) {
	return f.writev(bufs, off, 0)
}

func (f *osFile) WritevAtSync(bufs [][]byte, off int64) (int, error) {
	n, err := f.writev(bufs, off, unix.RWF_DSYNC)
	if errors.Is(err, unix.EOPNOTSUPP) || errors.Is(err, unix.ENOSYS) {
		// Kernels before 4.7 lack pwritev2 flags.
		if n, err = f.writev(bufs, off, 0); err == nil {
			err = f.Sync()
		}
	}
	return n, err
}

func (f *osFile) writev(bufs [][]byte, off int64, flags int) (int, error) {
	total := 0
	for len(bufs) > 0 {
		batch := bufs[:min(len(bufs), iovMax)]
		want := 0
		for _, b := range batch {
			want += len(b)
		}
		n, err := unix.Pwritev2(f.fd, batch, off+int64(total), flags)
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			return total, f.err("pwritev", err)
		}
		total += n
		if n < want {
			// Regular files write short only when the disk fills between
			// allocation and write; report it rather than loop on a
			// partial iovec, which would break direct-I/O alignment.
			return total, f.err("pwritev", fmt.Errorf("short write %d of %d: %w", n, want, unix.ENOSPC))
		}
		bufs = bufs[len(batch):]
	}
	return total, nil
}

func (f *osFile) Allocate(off, n int64) error {
	for {
		err := unix.Fallocate(f.fd, 0, off, n)
		if err == unix.EINTR {
			continue
		}
		if err == unix.EOPNOTSUPP {
			// No fallocate (tmpfs in old kernels): extend the size and let
			// writes allocate.
			size, serr := f.Size()
			if serr != nil {
				return serr
			}
			if off+n > size {
				return f.Truncate(off + n)
			}
			return nil
		}
		if err != nil {
			return f.err("fallocate", err)
		}
		return nil
	}
}

func (f *osFile) Truncate(size int64) error {
	if err := unix.Ftruncate(f.fd, size); err != nil {
		return f.err("ftruncate", err)
	}
	return nil
}

func (f *osFile) Sync() error {
	for {
		err := unix.Fdatasync(f.fd)
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			return f.err("fdatasync", err)
		}
		return nil
	}
}

func (f *osFile) Size() (int64, error) {
	var st unix.Stat_t
	if err := unix.Fstat(f.fd, &st); err != nil {
		return 0, f.err("fstat", err)
	}
	return st.Size, nil
}

func (f *osFile) Close() error {
	if err := unix.Close(f.fd); err != nil {
		return f.err("close", err)
	}
	return nil
}

func (f *osFile) Direct() bool { return f.direct }
