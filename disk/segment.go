package disk

import (
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"sluice/disk/batch"
	"sluice/disk/vfs"
)

// segment is one file of the log and its in-memory state. Fields are
// guarded by Log.mu unless marked otherwise.
type segment struct {
	base    int64     // offset of its first batch; names the file
	next    int64     // offset after its last batch
	size    int64     // bytes of whole batches appended
	maxTs   int64     // largest batch MaxTimestamp, -1 when empty
	created time.Time // for segment.ms
	idx     index
	// lastIndexed is the position up to which batches are covered by an
	// offset index entry; a new entry is due IndexIntervalBytes later.
	lastIndexed int64

	// The tail cache: bytes [cacheStart, size) are in memory, in chunks of
	// chunkBytes; chunks[i] holds the file bytes from cacheStart+i*chunkBytes.
	// cacheStart never passes the written bytes, so everything below it is
	// on disk and no longer changes; it is aligned while the segment takes
	// appends and equals size once the segment is closed.
	chunks     [][]byte
	cacheStart int64

	// sealed: the log rolled past it, no more appends. closed: the writer
	// has synced it, cut the file to size and written its index.
	sealed, closed bool

	// Written by the writer goroutine; read under Log.mu.
	file      vfs.File // nil until the writer creates it
	written   int64    // bytes handed to the file
	synced    int64    // bytes made durable (written by the writer only, so it reads it without mu)
	allocated int64    // file size reserved by fallocate (writer only)
	dirSynced bool     // the file's directory entry is durable (writer only)
}

func segmentName(base int64, ext string) string {
	return fmt.Sprintf("%020d%s", base, ext)
}

// parseSegmentName returns the base offset of a "<20 digits>.log" name.
func parseSegmentName(name string) (int64, bool) {
	s, ok := strings.CutSuffix(name, ".log")
	if !ok || len(s) != 20 {
		return 0, false
	}
	v, err := strconv.ParseInt(s, 10, 64)
	return v, err == nil && v >= 0
}

func (s *segment) path(dir, ext string) string { return filepath.Join(dir, segmentName(s.base, ext)) }

// noteBatch records a batch at pos in the indexes; shared by append and
// recovery so both build the same index.
func (s *segment) noteBatch(h *batch.Header, pos int64, intervalBytes int64) {
	rel := uint32(h.BaseOffset - s.base)
	if pos-s.lastIndexed >= intervalBytes {
		s.idx.offsets = append(s.idx.offsets, offsetEntry{rel: rel, pos: uint32(pos)})
		s.lastIndexed = pos
	}
	if h.MaxTimestamp > s.maxTs {
		s.maxTs = h.MaxTimestamp
		if n := len(s.idx.times); n == 0 || s.idx.times[n-1].rel != rel {
			s.idx.times = append(s.idx.times, timeEntry{ts: h.MaxTimestamp, rel: rel})
		} else {
			s.idx.times[n-1].ts = h.MaxTimestamp
		}
	}
	s.next = h.LastOffset() + 1
	s.size = pos + int64(h.Size())
}

// copyIn appends b to the tail cache at position s.size, taking chunks from
// get. Runs with Log.mu held.
func (s *segment) copyIn(b []byte, get func() []byte) {
	pos := s.size
	for len(b) > 0 {
		i := int((pos - s.cacheStart) / chunkBytes)
		for i >= len(s.chunks) {
			s.chunks = append(s.chunks, get())
		}
		off := int((pos - s.cacheStart) % chunkBytes)
		n := copy(s.chunks[i][off:], b)
		b = b[n:]
		pos += int64(n)
	}
}

// cached copies bytes [pos, pos+len(dst)) from the tail cache.
// REQUIRES: cacheStart <= pos and pos+len(dst) <= size; Log.mu held.
func (s *segment) cached(dst []byte, pos int64) {
	for len(dst) > 0 {
		i := int((pos - s.cacheStart) / chunkBytes)
		off := int((pos - s.cacheStart) % chunkBytes)
		n := copy(dst, s.chunks[i][off:])
		dst = dst[n:]
		pos += int64(n)
	}
}

// cachedBytes is the memory the tail cache holds.
func (s *segment) cachedBytes() int64 { return int64(len(s.chunks)) * chunkBytes }

// reader reads the on-disk part of segments with aligned direct reads
// through a window that also serves the next nearby reads (a scan of batch
// headers touches the same pages again and again). The owner's alone.
type reader struct {
	buf  []byte   // aligned, readWindowBytes
	seg  *segment // whose bytes buf holds, nil for none
	from int64    // file position of buf[0]
	n    int      // valid bytes in buf
}

const readWindowBytes = 256 << 10

// read fills dst with s's bytes from pos. REQUIRES: pos+len(dst) <= limit,
// where limit is the segment's cacheStart as seen under Log.mu: everything
// below it is on disk and immutable, so the window never holds bytes that
// may still change.
func (r *reader) read(s *segment, f vfs.File, dst []byte, pos, limit int64) error {
	if r.buf == nil {
		r.buf = vfs.AlignedAlloc(readWindowBytes)
	}
	for len(dst) > 0 {
		if r.seg == s && pos >= r.from && pos < r.from+int64(r.n) {
			k := copy(dst, r.buf[pos-r.from:r.n])
			dst, pos = dst[k:], pos+int64(k)
			continue
		}
		start := vfs.AlignDown64(pos)
		end := min(start+readWindowBytes, vfs.AlignUp64(limit))
		end = max(end, vfs.AlignUp64(pos+1))
		got, err := f.ReadAt(r.buf[:end-start], start)
		if err != nil && !(errors.Is(err, io.EOF) && start+int64(got) > pos) {
			r.seg = nil
			return fmt.Errorf("disk: read %s at %d: %w", segmentName(s.base, ".log"), start, err)
		}
		r.seg, r.from, r.n = s, start, int(min(int64(got), limit-start))
	}
	return nil
}

// invalidate forgets the window, after the file under it changed.
func (r *reader) invalidate() { r.seg = nil }
