package disk

import (
	"errors"
	"fmt"
	"io/fs"
)

// EnforceRetention deletes whole closed segments, oldest first, while the
// oldest is past retention.ms (judged by its largest timestamp), the log
// would still hold retention.bytes without it, or the log start offset has
// passed it. The active segment is never deleted. Files are removed by the
// writer. Returns how many segments went. Runs on the owning shard.
func (l *Log) EnforceRetention() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.usableLocked() != nil {
		return 0
	}
	nowMs := l.cfg.Now().UnixMilli()
	var total int64
	for _, s := range l.segs {
		total += s.size
	}
	deleted := 0
	for len(l.segs) > 1 {
		s := l.segs[0]
		if !s.closed {
			break
		}
		expired := l.cfg.RetentionMs > 0 && s.maxTs >= 0 && nowMs-s.maxTs > l.cfg.RetentionMs.Milliseconds()
		tooBig := l.cfg.RetentionBytes > 0 && total-s.size >= l.cfg.RetentionBytes
		if !expired && !tooBig && s.next > l.logStart {
			break
		}
		l.segs = l.segs[1:]
		l.doomed = append(l.doomed, s)
		total -= s.size
		deleted++
	}
	if deleted > 0 {
		if base := l.segs[0].base; base > l.logStart {
			l.logStart, l.logStartDirty = base, true
		}
		l.kickWriter()
	}
	return deleted
}

// AdvanceLogStart moves the log start offset forward (DeleteRecords): reads
// below it fail and segments wholly below it are deleted. The new start is
// persisted by the writer. Runs on the owning shard.
func (l *Log) AdvanceLogStart(offset int64) error {
	l.mu.Lock()
	if err := l.usableLocked(); err != nil {
		l.mu.Unlock()
		return err
	}
	if offset > l.next {
		err := fmt.Errorf("%w: log start %d past log end %d", ErrOffsetOutOfRange, offset, l.next)
		l.mu.Unlock()
		return err
	}
	if offset > l.logStart {
		l.logStart, l.logStartDirty = offset, true
		l.kickWriter()
	}
	l.mu.Unlock()
	l.EnforceRetention()
	return nil
}

// Truncate removes every batch at or after offset, for a follower cutting a
// divergent suffix (KIP-101). A batch that holds offset goes whole, so the
// new log end may be below offset; it is returned. Truncating below the log
// start empties the log and restarts it at offset. Unlike the other methods
// Truncate waits for the writer and does I/O itself: leader changes are rare
// and the follower must not append before the cut is durable.
// Runs on the owning shard.
func (l *Log) Truncate(offset int64) (int64, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	for {
		if err := l.usableLocked(); err != nil {
			return l.next, err
		}
		if offset >= l.next {
			return l.next, nil
		}
		if !l.flushing && l.writtenNext == l.next && l.allSealedClosedLocked() && len(l.doomed) == 0 {
			break
		}
		l.kickWriter()
		l.cond.Wait()
	}
	// Park the writer (planLocked does nothing while truncating) and do the
	// work without mu, so that the reads it needs can take it.
	l.truncating = true
	l.mu.Unlock()
	err := l.truncateParked(offset)
	// The reads truncateParked made filled the window with bytes from
	// before the cut.
	l.rd.invalidate()
	l.mu.Lock()
	l.truncating = false
	if err != nil {
		l.err = fmt.Errorf("%w: truncate: %w", ErrOffline, err)
		l.log.Error("partition log offline", "err", err)
		return l.next, l.err
	}
	return l.next, nil
}

func (l *Log) allSealedClosedLocked() bool {
	for _, s := range l.segs {
		if s.sealed && !s.closed {
			return false
		}
	}
	return true
}

// truncateParked cuts the log while the writer is parked. Runs on the owner.
func (l *Log) truncateParked(offset int64) error {
	if offset < l.logStart {
		return l.resetTo(offset)
	}
	i := l.segmentForLocked(offset)
	s := l.segs[i]
	pos, h, err := l.findBatch(s, offset, s.size)
	if err != nil {
		return err
	}
	cutPos, cutOffset := s.size, s.next
	if pos >= 0 {
		cutPos, cutOffset = pos, h.BaseOffset
	}
	if cutOffset < l.logStart {
		// The batch holding offset starts below the log start: cutting it
		// whole leaves nothing readable, so start again, empty, at its base.
		return l.resetTo(cutOffset)
	}
	for _, d := range l.segs[i+1:] {
		l.dropCacheLocked(d, 0)
		l.removeSegmentFiles(d)
	}
	l.segs = l.segs[:i+1]
	if err := s.file.Truncate(cutPos); err != nil {
		return err
	}
	if err := s.file.Sync(); err != nil {
		return err
	}
	if s.closed {
		if err := l.fs.Remove(s.path(l.dir, ".index")); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return err
		}
	}
	if err := l.fs.SyncDir(l.dir); err != nil {
		return err
	}
	s.sealed, s.closed = false, false
	s.idx.truncate(cutPos, uint32(cutOffset-s.base))
	s.lastIndexed = 0
	if n := len(s.idx.offsets); n > 0 {
		s.lastIndexed = int64(s.idx.offsets[n-1].pos)
	}
	// The largest timestamp left: the last time entry's running maximum,
	// raised by the batches after it.
	s.maxTs = -1
	from := int64(0)
	if n := len(s.idx.times); n > 0 {
		s.maxTs = s.idx.times[n-1].ts
		from = int64(s.idx.lookupOffset(s.idx.times[n-1].rel).pos)
	}
	for p := from; p < cutPos; {
		h, err := l.header(s, p)
		if err != nil {
			return err
		}
		s.maxTs = max(s.maxTs, h.MaxTimestamp)
		p += int64(h.Size())
	}
	s.size, s.next = cutPos, cutOffset
	s.written, s.synced, s.allocated = cutPos, cutPos, cutPos
	if err := l.loadTailPage(s); err != nil {
		return err
	}
	l.setEnd(cutOffset)
	return nil
}

func (l *Log) setEnd(offset int64) {
	l.next, l.writtenNext, l.durableNext = offset, offset, offset
	l.syncWanted = min(l.syncWanted, offset)
	l.pending = 0
	if l.hw > offset {
		l.hw, l.hwDirty = offset, true
	}
}

// resetTo empties the log and restarts it at offset, persisting the new
// log start before returning: a crash right after must not bring back the
// old start (offsets would jump) or the deleted segments. Runs with the
// writer parked.
func (l *Log) resetTo(offset int64) error {
	for _, s := range l.segs {
		l.dropCacheLocked(s, 0)
		l.removeSegmentFiles(s)
	}
	l.segs = []*segment{{base: offset, next: offset, maxTs: -1, created: l.cfg.Now()}}
	l.logStart, l.logStartDirty = offset, false
	l.setEnd(offset)
	if err := l.fs.SyncDir(l.dir); err != nil {
		return err
	}
	return writeCheckpoint(l.fs, l.dir, logStartFile, offset)
}
