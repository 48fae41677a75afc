package disk

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"path/filepath"
	"strings"

	"sluice/disk/batch"
	"sluice/disk/vfs"
)

// recover rebuilds the log's state from its directory. Runs in Open, before
// the writer starts.
func (l *Log) recover() error {
	names, err := l.fs.List(l.dir)
	if err != nil {
		return err
	}
	var bases []int64
	for _, n := range names {
		if base, ok := parseSegmentName(n); ok {
			bases = append(bases, base)
		} else if strings.HasSuffix(n, ".tmp") {
			// An interrupted vfs.WriteFileAtomic: the file it was replacing is intact.
			if err := l.fs.Remove(filepath.Join(l.dir, n)); err != nil {
				return err
			}
		}
	}
	logStart, _, err := readCheckpoint(l.fs, l.dir, logStartFile)
	if err != nil {
		return err
	}
	hw, _, err := readCheckpoint(l.fs, l.dir, highWatermarkFile)
	if err != nil {
		return err
	}
	now := l.cfg.Now()

	for i, base := range bases {
		if n := len(l.segs); n > 0 && base != l.segs[n-1].next {
			// The previous segment ends short of this one (or overlaps it):
			// what follows cannot be trusted to continue the log.
			l.log.Warn("dropping segments that do not continue the log",
				"expected", l.segs[n-1].next, "found", base, "segments", len(bases)-i)
			if err := l.removeFrom(bases[i:]); err != nil {
				return err
			}
			break
		}
		s := &segment{base: base, next: base, maxTs: -1, created: now}
		f, err := l.fs.OpenFile(s.path(l.dir, ".log"), vfs.Options{Direct: true})
		if err != nil {
			return err
		}
		s.file = f
		l.segs = append(l.segs, s)
		last := i == len(bases)-1
		if !last && l.loadIndex(s) {
			l.markClosed(s)
			continue
		}
		if err := l.scan(s); err != nil {
			return err
		}
		if last {
			if err := l.openActive(s); err != nil {
				return err
			}
			continue
		}
		if err := l.closeSegment(s, f, s.size, s.next); err != nil {
			return err
		}
		l.markClosed(s)
	}
	if len(l.segs) == 0 {
		l.segs = []*segment{{base: logStart, next: logStart, maxTs: -1, created: now}}
	} else if last := l.segs[len(l.segs)-1]; last.closed {
		// The final segment was dropped as discontinuous; reopen the one
		// before it for appends.
		last.closed, last.sealed = false, false
		if err := l.openActive(last); err != nil {
			return err
		}
	}

	// Segments wholly below the log start were deleted by retention or
	// DeleteRecords just before a crash; finish the job.
	for len(l.segs) > 1 && l.segs[0].next <= logStart {
		l.removeSegmentFiles(l.segs[0])
		l.segs = l.segs[1:]
	}
	if last := l.segs[len(l.segs)-1]; last.next < logStart {
		// The log lost its unsynced tail in a crash after the log start was
		// persisted past it: start again, empty, at the log start.
		l.log.Warn("log ends below its log start; starting empty", "logEnd", last.next, "logStart", logStart)
		l.removeSegmentFiles(last)
		l.dropCacheLocked(last, 0)
		l.segs = []*segment{{base: logStart, next: logStart, maxTs: -1, created: now}}
	}
	l.logStart = max(logStart, l.segs[0].base)
	l.next = l.segs[len(l.segs)-1].next
	l.writtenNext, l.durableNext, l.syncWanted = l.next, l.next, l.next
	l.hw = min(hw, l.next)
	return nil
}

func (l *Log) markClosed(s *segment) {
	s.sealed, s.closed = true, true
	s.written, s.synced, s.allocated, s.dirSynced = s.size, s.size, s.size, true
	s.cacheStart = s.size
}

// removeFrom deletes the files of the segments with the given bases.
func (l *Log) removeFrom(bases []int64) error {
	for _, b := range bases {
		l.removeSegmentFiles(&segment{base: b})
	}
	return l.fs.SyncDir(l.dir)
}

// loadIndex reads the index of a closed segment; false means it is missing
// or does not describe the data file exactly, and the segment is scanned.
func (l *Log) loadIndex(s *segment) bool {
	b, err := vfs.ReadFile(l.fs, s.path(l.dir, ".index"), 1<<30)
	if err != nil {
		if !errors.Is(err, fs.ErrNotExist) {
			l.log.Warn("rebuilding unreadable segment index", "segment", s.base, "err", err)
		}
		return false
	}
	x, err := unmarshalIndex(b)
	if err == nil && x.base != s.base {
		err = fmt.Errorf("%w: names base %d", errBadIndex, x.base)
	}
	if err == nil {
		size, serr := s.file.Size()
		if serr != nil || size != x.size {
			err = fmt.Errorf("%w: describes %d bytes, file has %d", errBadIndex, x.size, size)
		}
	}
	if err != nil {
		l.log.Warn("rebuilding segment index", "segment", s.base, "err", err)
		return false
	}
	s.idx, s.next, s.size, s.maxTs = x.x, x.next, x.size, x.maxTs
	if n := len(s.idx.offsets); n > 0 {
		s.lastIndexed = int64(s.idx.offsets[n-1].pos)
	}
	return true
}

// scan walks a segment from its start, validating every batch (length,
// CRC, offsets continuing the previous batch), rebuilding its indexes, and
// stops at the first batch that fails: zeros from preallocation are the
// normal end; anything else is a torn or corrupt tail and is reported.
func (l *Log) scan(s *segment) error {
	fileSize, err := s.file.Size()
	if err != nil {
		return err
	}
	w := scanWindow{f: s.file, size: fileSize}
	pos := int64(0)
	reason := ""
	for pos < fileSize {
		hdr, err := w.bytes(pos, min(batch.HeaderSize, fileSize-pos))
		if err != nil {
			return err
		}
		if allZero(hdr) {
			break
		}
		if len(hdr) < batch.HeaderSize {
			reason = "partial header"
			break
		}
		h, err := batch.ParseHeader(hdr)
		if err != nil {
			reason = err.Error()
			break
		}
		if pos+int64(h.Size()) > fileSize {
			reason = fmt.Sprintf("batch of %d bytes runs past the end of the file", h.Size())
			break
		}
		b, err := w.bytes(pos, int64(h.Size()))
		if err != nil {
			return err
		}
		if _, err := batch.Validate(b, 0); err != nil {
			reason = err.Error()
			break
		}
		if h.BaseOffset != s.next {
			reason = fmt.Sprintf("batch has offset %d, expected %d", h.BaseOffset, s.next)
			break
		}
		s.noteBatch(&h, pos, l.cfg.IndexIntervalBytes)
		pos += int64(h.Size())
	}
	if reason != "" {
		l.log.Warn("cut torn or corrupt segment tail", "segment", segmentName(s.base, ".log"),
			"validBytes", pos, "cutBytes", fileSize-pos, "nextOffset", s.next, "reason", reason)
	}
	return nil
}

// openActive makes a scanned segment the one appends go to: the file is cut
// right after its last valid batch (ftruncate zeroes the rest of the last
// block, so no stale bytes beyond can ever line up as a batch), synced, and
// its partial last page loaded into the tail cache to be rewritten.
func (l *Log) openActive(s *segment) error {
	fileSize, err := s.file.Size()
	if err != nil {
		return err
	}
	if fileSize != s.size {
		if err := s.file.Truncate(s.size); err != nil {
			return err
		}
		if err := s.file.Sync(); err != nil {
			return err
		}
	}
	if err := l.fs.Remove(s.path(l.dir, ".index")); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	s.written, s.synced, s.allocated, s.dirSynced = s.size, s.size, s.size, true
	return l.loadTailPage(s)
}

// loadTailPage points the tail cache at the page holding s.size and reads
// that page's valid bytes into it.
func (l *Log) loadTailPage(s *segment) error {
	l.dropCacheLocked(s, vfs.AlignDown64(s.size))
	if s.size == s.cacheStart {
		return nil
	}
	c := l.getChunkLocked()
	s.chunks = [][]byte{c}
	n, err := s.file.ReadAt(c[:vfs.Alignment], s.cacheStart)
	if err != nil && !(errors.Is(err, io.EOF) && s.cacheStart+int64(n) >= s.size) {
		return err
	}
	return nil
}

func allZero(b []byte) bool {
	for _, c := range b {
		if c != 0 {
			return false
		}
	}
	return true
}

// scanWindow reads a file sequentially through an aligned buffer.
type scanWindow struct {
	f    vfs.File
	size int64
	buf  []byte
	from int64
	n    int
}

const scanWindowBytes = 1 << 20

func (w *scanWindow) bytes(pos, n int64) ([]byte, error) {
	if pos >= w.from && pos+n <= w.from+int64(w.n) {
		return w.buf[pos-w.from : pos-w.from+n], nil
	}
	start := vfs.AlignDown64(pos)
	end := min(max(start+scanWindowBytes, vfs.AlignUp64(pos+n)), vfs.AlignUp64(w.size))
	if int64(cap(w.buf)) < end-start {
		w.buf = vfs.AlignedAlloc(int(end - start))
	}
	got, err := w.f.ReadAt(w.buf[:end-start], start)
	if err != nil && !errors.Is(err, io.EOF) {
		return nil, err
	}
	w.from, w.n = start, got
	if pos+n > start+int64(got) {
		return nil, fmt.Errorf("short read at %d: file changed during recovery", pos)
	}
	return w.buf[pos-start : pos-start+n], nil
}
