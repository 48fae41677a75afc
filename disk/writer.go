package disk

import (
	"errors"
	"fmt"
	"io/fs"
	"time"

	"sluice/disk/vfs"
)

// The writer goroutine group-commits: each round takes everything appended
// to the oldest segment with unwritten bytes, writes it with one pwritev
// from the tail-cache chunks (full pages straight from the cache, the
// partial last page through a zeroed scratch page, rewritten next round as
// it fills), and fdatasyncs at most once. Appends that arrive during a round
// wait for the next one, so the number of syscalls falls as load rises.

// writePlan is one round's work, decided under Log.mu and carried out
// without it.
type writePlan struct {
	seg    *segment
	create bool
	from   int64    // aligned file position of bufs[0]
	bufs   [][]byte // aligned
	end    int64    // from + len of bufs
	size   int64    // the segment's byte count this round makes written
	next   int64    // the log offset this round makes written
	sync   bool
	close  bool // seal: truncate to size, sync and write the index
	file   vfs.File
	// allocTo is how far to preallocate when the write passes the
	// reserved size: the next PreallocateBytes step, capped at the
	// segment's maximum size (decided under mu, where cfg may be read).
	allocTo int64

	doomed       []*segment
	saveLogStart bool
	logStart     int64
	saveHW       bool
	hw           int64
}

// writerScratch is memory only the writer goroutine touches.
type writerScratch struct {
	plan       writePlan
	page       []byte // aligned, one page
	warnedCopy bool
}

func (l *Log) writer() {
	defer close(l.writerDone)
	timer := time.NewTimer(time.Hour)
	timer.Stop()
	for {
		l.mu.Lock()
		p, wait := l.planLocked()
		if p == nil {
			if l.closing {
				l.writerExited = true
				l.cond.Broadcast()
				l.mu.Unlock()
				return
			}
			l.mu.Unlock()
			if wait > 0 {
				timer.Reset(wait)
			}
			select {
			case <-l.kick:
			case <-timer.C:
			}
			timer.Stop()
			continue
		}
		l.flushing = true
		l.mu.Unlock()

		err := l.execute(p)

		l.mu.Lock()
		l.applyLocked(p, err)
		l.flushing = false
		l.cond.Broadcast()
		cb := l.cfg.OnProgress
		l.mu.Unlock()
		if cb != nil {
			cb()
		}
	}
}

// planLocked decides the next round, or returns nil and how long to sleep
// before a timed flush or checkpoint is due (0: until kicked).
func (l *Log) planLocked() (*writePlan, time.Duration) {
	if l.err != nil || l.truncating {
		return nil, 0
	}
	now := l.cfg.Now()
	p := &l.writerScratch.plan
	*p = writePlan{bufs: p.bufs[:0], doomed: p.doomed[:0]}

	p.doomed = append(p.doomed, l.doomed...)
	l.doomed = l.doomed[:0]
	if l.logStartDirty {
		p.saveLogStart, p.logStart, l.logStartDirty = true, l.logStart, false
	}
	if l.hwDirty && (l.closing || now.Sub(l.hwSaved) >= l.cfg.HighWatermarkCheckpoint) {
		p.saveHW, p.hw, l.hwDirty, l.hwSaved = true, l.hw, false, now
	}

	// Closed segments form a prefix of segs: start at the first open one.
	i := len(l.segs) - 1
	for i > 0 && !l.segs[i-1].closed {
		i--
	}
	s := l.segs[i]
	unsynced := l.durableNext < l.next
	syncDue := unsynced && (l.syncWanted > l.durableNext || l.closing ||
		(l.cfg.FlushMessages > 0 && l.next-l.durableNext >= l.cfg.FlushMessages) ||
		(l.cfg.FlushMs > 0 && now.Sub(l.lastSync) >= l.cfg.FlushMs))
	switch {
	case s.written < s.size:
		l.planWriteLocked(p, s)
		p.sync = syncDue || s.sealed
		p.close = s.sealed
	case s.sealed:
		p.seg, p.size, p.next, p.sync, p.close = s, s.size, s.next, true, true
	case syncDue && s.synced < s.size:
		p.seg, p.size, p.next, p.sync = s, s.size, s.next, true
	}
	if p.seg != nil {
		p.create = p.seg.file == nil
		step := l.cfg.PreallocateBytes
		p.allocTo = max(min((p.end+step-1)/step*step, vfs.AlignUp64(l.cfg.SegmentBytes)), p.end)
		return p, 0
	}
	if p.saveHW || p.saveLogStart || len(p.doomed) > 0 {
		return p, 0
	}
	var wait time.Duration
	if l.cfg.FlushMs > 0 && unsynced {
		wait = max(l.cfg.FlushMs-now.Sub(l.lastSync), time.Millisecond)
	}
	if l.hwDirty {
		w := max(l.cfg.HighWatermarkCheckpoint-now.Sub(l.hwSaved), time.Millisecond)
		if wait == 0 || w < wait {
			wait = w
		}
	}
	return nil, wait
}

// planWriteLocked gathers the unwritten bytes of s, from the page holding
// the first of them, as aligned buffers.
func (l *Log) planWriteLocked(p *writePlan, s *segment) {
	p.seg, p.size, p.next = s, s.size, s.next
	p.from = vfs.AlignDown64(s.written)
	full := vfs.AlignDown64(s.size)
	for pos := p.from; pos < full; {
		ci := (pos - s.cacheStart) / chunkBytes
		off := (pos - s.cacheStart) % chunkBytes
		n := min(chunkBytes-off, full-pos)
		p.bufs = append(p.bufs, s.chunks[ci][off:off+n])
		pos += n
	}
	p.end = full
	if s.size > full {
		page := l.writerScratch.page
		k := int(s.size - full)
		s.cached(page[:k], full)
		clear(page[k:])
		p.bufs = append(p.bufs, page)
		p.end += vfs.Alignment
	}
}

// execute does a round's I/O. Runs on the writer goroutine without Log.mu;
// the segments it touches are not changed by the owner meanwhile (appends
// only add bytes past p.size; truncation waits for the writer to be idle).
func (l *Log) execute(p *writePlan) error {
	if s := p.seg; s != nil {
		f := s.file
		if p.create {
			var err error
			f, err = l.fs.OpenFile(s.path(l.dir, ".log"), vfs.Options{Create: true, Direct: true})
			if err != nil {
				return err
			}
			if !f.Direct() && !l.writerScratch.warnedCopy {
				l.writerScratch.warnedCopy = true
				l.log.Warn("filesystem refuses O_DIRECT; segment writes go through the page cache")
			}
			p.file = f
			s.allocated, s.dirSynced = 0, false
		}
		if p.end > s.allocated {
			if err := f.Allocate(s.allocated, p.allocTo-s.allocated); err != nil {
				return err
			}
			s.allocated = p.allocTo
		}
		// When every byte before this write is already durable, a sync round
		// is one pwritev2(RWF_DSYNC); otherwise write, then fdatasync the file.
		synced := false
		if len(p.bufs) > 0 {
			var err error
			if p.sync && s.synced >= p.from {
				t0 := time.Now()
				_, err = f.WritevAtSync(p.bufs, p.from)
				if err == nil {
					l.observeSync(t0)
				}
				synced = true
			} else {
				_, err = f.WritevAt(p.bufs, p.from)
			}
			if err != nil {
				return err
			}
		}
		if p.sync {
			if !synced {
				t0 := time.Now()
				if err := f.Sync(); err != nil {
					return err
				}
				l.observeSync(t0)
			}
			if !s.dirSynced {
				if err := l.fs.SyncDir(l.dir); err != nil {
					return err
				}
				s.dirSynced = true
			}
		}
		if p.close {
			if err := l.closeSegment(s, f, p.size, p.next); err != nil {
				return err
			}
		}
	}
	if len(p.doomed) > 0 {
		for _, d := range p.doomed {
			l.removeSegmentFiles(d)
		}
		if err := l.fs.SyncDir(l.dir); err != nil {
			return err
		}
	}
	if p.saveLogStart {
		if err := writeCheckpoint(l.fs, l.dir, logStartFile, p.logStart); err != nil {
			return err
		}
	}
	if p.saveHW {
		if err := writeCheckpoint(l.fs, l.dir, highWatermarkFile, p.hw); err != nil {
			return err
		}
	}
	return nil
}

// observeSync reports an fdatasync that began at t0 to Config.OnSync.
func (l *Log) observeSync(t0 time.Time) {
	if l.onSync != nil {
		l.onSync(time.Since(t0))
	}
}

// closeSegment cuts a sealed segment's file to its size (dropping the
// preallocated tail), syncs it and persists its index.
func (l *Log) closeSegment(s *segment, f vfs.File, size, next int64) error {
	if err := f.Truncate(size); err != nil {
		return err
	}
	if err := f.Sync(); err != nil {
		return err
	}
	s.allocated = size
	x := indexFile{base: s.base, next: next, size: size, maxTs: s.maxTs, x: s.idx}
	return vfs.WriteFileAtomic(l.fs, s.path(l.dir, ".index"), x.marshal())
}

// removeSegmentFiles closes and deletes a segment's files. A failure leaves
// a file that the next Open drops as below the log start, so it is logged
// and not treated as a reason to take the log offline.
func (l *Log) removeSegmentFiles(s *segment) {
	if s.file != nil {
		s.file.Close()
	}
	for _, ext := range []string{".log", ".index"} {
		if err := l.fs.Remove(s.path(l.dir, ext)); err != nil && !errors.Is(err, fs.ErrNotExist) {
			l.log.Warn("could not delete segment file", "file", s.path(l.dir, ext), "err", err)
		}
	}
}

// applyLocked publishes a round's outcome. An I/O error takes the log
// offline: nothing more is written, appends and reads fail, and the disk
// keeps what it had, which the next Open recovers.
func (l *Log) applyLocked(p *writePlan, err error) {
	if err != nil {
		l.err = fmt.Errorf("%w: %w", ErrOffline, err)
		l.log.Error("partition log offline", "err", err)
		return
	}
	s := p.seg
	if s == nil {
		return
	}
	if p.create {
		s.file = p.file
	}
	if p.size > s.written {
		l.pending -= p.size - s.written
		s.written = p.size
	}
	l.writtenNext = max(l.writtenNext, p.next)
	if p.sync {
		s.synced = p.size
		l.durableNext = max(l.durableNext, p.next)
		l.lastSync = l.cfg.Now()
	}
	if p.close {
		s.closed = true
		l.dropCacheLocked(s, s.size)
		return
	}
	// Release written chunks beyond the tail-cache budget, oldest first.
	for len(s.chunks) > 1 && l.cached > l.cfg.TailCacheBytes &&
		s.cacheStart+chunkBytes <= vfs.AlignDown64(s.written) {
		l.putChunkLocked(s.chunks[0])
		s.chunks = s.chunks[1:]
		s.cacheStart += chunkBytes
	}
}

// dropCacheLocked releases all of s's chunks; everything below at is on
// disk.
func (l *Log) dropCacheLocked(s *segment, at int64) {
	for _, c := range s.chunks {
		l.putChunkLocked(c)
	}
	s.chunks = nil
	s.cacheStart = at
}
