package vfs

import (
	"io"
	"io/fs"
	"os"
	"path"
	"sort"
	"sync"
	"syscall"
)

// Mem is an in-memory FS. It models what survives a power cut the way a
// careful reading of POSIX allows: a file's data survives only up to its
// last Sync, and a name (created, renamed or removed) only once its directory
// was synced. CrashClone returns that surviving state.
type Mem struct {
	mu    sync.Mutex
	dirs  map[string]bool     // directories (always durable: MkdirAll is rare)
	names map[string]*memFile // current name -> file
	// durable is the namespace as of each directory's last SyncDir: the
	// names a crash keeps.
	durable map[string]map[string]*memFile
}

type memFile struct {
	mu     sync.Mutex
	data   []byte
	synced []byte
}

// NewMem returns an empty in-memory filesystem.
func NewMem() *Mem {
	return &Mem{dirs: map[string]bool{"/": true, ".": true}, names: map[string]*memFile{}, durable: map[string]map[string]*memFile{}}
}

func clean(name string) string { return path.Clean(name) }

func (m *Mem) OpenFile(name string, o Options) (File, error) {
	name = clean(name)
	m.mu.Lock()
	defer m.mu.Unlock()
	if !m.dirs[path.Dir(name)] {
		return nil, &os.PathError{Op: "open", Path: name, Err: fs.ErrNotExist}
	}
	f, ok := m.names[name]
	if !ok {
		if !o.Create {
			return nil, &os.PathError{Op: "open", Path: name, Err: fs.ErrNotExist}
		}
		f = &memFile{}
		m.names[name] = f
	}
	return &memHandle{f: f, name: name, direct: o.Direct}, nil
}

// Remove removes a file, or an empty directory as remove(3) does.
func (m *Mem) Remove(name string) error {
	name = clean(name)
	m.mu.Lock()
	defer m.mu.Unlock()
	if _, ok := m.names[name]; ok {
		delete(m.names, name)
		return nil
	}
	if !m.dirs[name] {
		return &os.PathError{Op: "remove", Path: name, Err: fs.ErrNotExist}
	}
	for n := range m.names {
		if path.Dir(n) == name {
			return &os.PathError{Op: "remove", Path: name, Err: syscall.ENOTEMPTY}
		}
	}
	for d := range m.dirs {
		if d != name && path.Dir(d) == name {
			return &os.PathError{Op: "remove", Path: name, Err: syscall.ENOTEMPTY}
		}
	}
	// Directories are always durable here, so their removal is too.
	delete(m.dirs, name)
	delete(m.durable, name)
	return nil
}

func (m *Mem) Rename(oldname, newname string) error {
	oldname, newname = clean(oldname), clean(newname)
	m.mu.Lock()
	defer m.mu.Unlock()
	f, ok := m.names[oldname]
	if !ok {
		return &os.PathError{Op: "rename", Path: oldname, Err: fs.ErrNotExist}
	}
	delete(m.names, oldname)
	m.names[newname] = f
	return nil
}

func (m *Mem) MkdirAll(dir string) error {
	dir = clean(dir)
	m.mu.Lock()
	defer m.mu.Unlock()
	for d := dir; !m.dirs[d]; d = path.Dir(d) {
		m.dirs[d] = true
	}
	return nil
}

func (m *Mem) List(dir string) ([]string, error) {
	dir = clean(dir)
	m.mu.Lock()
	defer m.mu.Unlock()
	if !m.dirs[dir] {
		return nil, &os.PathError{Op: "readdir", Path: dir, Err: fs.ErrNotExist}
	}
	var out []string
	for n := range m.names {
		if path.Dir(n) == dir {
			out = append(out, path.Base(n))
		}
	}
	for d := range m.dirs {
		if d != dir && path.Dir(d) == dir {
			out = append(out, path.Base(d))
		}
	}
	sort.Strings(out)
	return out, nil
}

func (m *Mem) SyncDir(dir string) error {
	dir = clean(dir)
	m.mu.Lock()
	defer m.mu.Unlock()
	snap := map[string]*memFile{}
	for n, f := range m.names {
		if path.Dir(n) == dir {
			snap[n] = f
		}
	}
	m.durable[dir] = snap
	return nil
}

// CrashClone returns a new Mem holding what a power cut at this instant
// would leave: synced names with their synced bytes.
func (m *Mem) CrashClone() *Mem {
	m.mu.Lock()
	defer m.mu.Unlock()
	c := NewMem()
	for d := range m.dirs {
		c.dirs[d] = true
	}
	for dir, snap := range m.durable {
		cs := map[string]*memFile{}
		for n, f := range snap {
			f.mu.Lock()
			nf := &memFile{data: append([]byte(nil), f.synced...), synced: append([]byte(nil), f.synced...)}
			f.mu.Unlock()
			c.names[n] = nf
			cs[n] = nf
		}
		c.durable[dir] = cs
	}
	return c
}

// ReadFile and WriteFile give tests direct access to a file's bytes; what
// WriteFile writes counts as synced.
func (m *Mem) ReadFile(name string) ([]byte, bool) {
	m.mu.Lock()
	f, ok := m.names[clean(name)]
	m.mu.Unlock()
	if !ok {
		return nil, false
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]byte(nil), f.data...), true
}

func (m *Mem) WriteFile(name string, data []byte) {
	name = clean(name)
	m.mu.Lock()
	defer m.mu.Unlock()
	f, ok := m.names[name]
	if !ok {
		f = &memFile{}
		m.names[name] = f
	}
	f.mu.Lock()
	f.data = append([]byte(nil), data...)
	f.synced = append([]byte(nil), data...)
	f.mu.Unlock()
	if snap := m.durable[path.Dir(name)]; snap != nil {
		snap[name] = f
	} else {
		m.durable[path.Dir(name)] = map[string]*memFile{name: f}
	}
}

// Names lists every file path, for tests.
func (m *Mem) Names() []string {
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []string
	for n := range m.names {
		out = append(out, n)
	}
	sort.Strings(out)
	return out
}

type memHandle struct {
	f      *memFile
	name   string
	direct bool
}

func (h *memHandle) checkAligned(p []byte, off int64) error {
	if h.direct && (off%Alignment != 0 || len(p)%Alignment != 0 || !IsAligned(p)) {
		return &os.PathError{Op: "direct io", Path: h.name, Err: ErrUnaligned}
	}
	return nil
}

func (h *memHandle) ReadAt(p []byte, off int64) (int, error) {
	if err := h.checkAligned(p, off); err != nil {
		return 0, err
	}
	h.f.mu.Lock()
	defer h.f.mu.Unlock()
	if off >= int64(len(h.f.data)) {
		return 0, io.EOF
	}
	n := copy(p, h.f.data[off:])
	if n < len(p) {
		return n, io.EOF
	}
	return n, nil
}

func (h *memHandle) WriteAt(p []byte, off int64) (int, error) {
	return h.WritevAt([][]byte{p}, off)
}

func (h *memHandle) WritevAt(bufs [][]byte, off int64) (int, error) {
	for _, b := range bufs {
		if err := h.checkAligned(b, off); err != nil {
			return 0, err
		}
	}
	h.f.mu.Lock()
	defer h.f.mu.Unlock()
	n := 0
	for _, b := range bufs {
		end := off + int64(n) + int64(len(b))
		if end > int64(len(h.f.data)) {
			h.f.data = append(h.f.data, make([]byte, end-int64(len(h.f.data)))...)
		}
		n += copy(h.f.data[off+int64(n):], b)
	}
	return n, nil
}

// WritevAtSync writes and then syncs only the written range.
func (h *memHandle) WritevAtSync(bufs [][]byte, off int64) (int, error) {
	n, err := h.WritevAt(bufs, off)
	if err != nil {
		return n, err
	}
	h.f.mu.Lock()
	defer h.f.mu.Unlock()
	end := off + int64(n)
	if int64(len(h.f.synced)) < end {
		h.f.synced = append(h.f.synced, make([]byte, end-int64(len(h.f.synced)))...)
	}
	copy(h.f.synced[off:end], h.f.data[off:end])
	return n, nil
}

func (h *memHandle) Allocate(off, n int64) error {
	h.f.mu.Lock()
	defer h.f.mu.Unlock()
	if end := off + n; end > int64(len(h.f.data)) {
		h.f.data = append(h.f.data, make([]byte, end-int64(len(h.f.data)))...)
	}
	return nil
}

func (h *memHandle) Truncate(size int64) error {
	h.f.mu.Lock()
	defer h.f.mu.Unlock()
	if size <= int64(len(h.f.data)) {
		h.f.data = h.f.data[:size]
	} else {
		h.f.data = append(h.f.data, make([]byte, size-int64(len(h.f.data)))...)
	}
	return nil
}

func (h *memHandle) Sync() error {
	h.f.mu.Lock()
	defer h.f.mu.Unlock()
	h.f.synced = append(h.f.synced[:0], h.f.data...)
	return nil
}

func (h *memHandle) Size() (int64, error) {
	h.f.mu.Lock()
	defer h.f.mu.Unlock()
	return int64(len(h.f.data)), nil
}

func (h *memHandle) Close() error { return nil }
func (h *memHandle) Direct() bool { return h.direct }
