package disk

import (
	"fmt"

	"sluice/disk/batch"
)

// Read appends to dst whole batches starting with the one that holds
// offset, stopping before the first batch that would take the total past
// maxBytes (the first batch is returned whatever its size, as Kafka's fetch
// does) or whose last offset is not below maxOffset (the high watermark),
// or at the end of the segment. It returns dst and the offset after the
// last batch returned. Reads near the head are served from the tail cache;
// older ones use aligned direct reads. Runs on the owning shard.
func (l *Log) Read(dst []byte, offset int64, maxBytes int, maxOffset int64) ([]byte, int64, error) {
	l.mu.Lock()
	if err := l.usableLocked(); err != nil {
		l.mu.Unlock()
		return dst, offset, err
	}
	if offset < l.logStart || offset > l.next {
		err := fmt.Errorf("%w: %d not in [%d, %d]", ErrOffsetOutOfRange, offset, l.logStart, l.next)
		l.mu.Unlock()
		return dst, offset, err
	}
	maxOffset = min(maxOffset, l.next)
	if offset >= maxOffset {
		l.mu.Unlock()
		return dst, offset, nil
	}
	s := l.segs[l.segmentForLocked(offset)]
	size := s.size
	l.mu.Unlock()

	pos, h, err := l.findBatch(s, offset, size)
	if err != nil || pos < 0 || h.LastOffset() >= maxOffset {
		return dst, offset, err
	}
	// Copy up to maxBytes (at least the first batch) in one go, then keep
	// the whole batches below maxOffset that fit.
	n := max(min(int64(maxBytes), size-pos), int64(h.Size()))
	base := len(dst)
	dst = growLen(dst, int(n))
	if err := l.readAt(s, dst[base:], pos); err != nil {
		return dst[:base], offset, err
	}
	got, next := dst[base:], offset
	kept := 0
	for kept < len(got) {
		bh, err := batch.ParseHeader(got[kept:])
		if err != nil || kept+bh.Size() > len(got) || bh.LastOffset() >= maxOffset {
			break // a partial batch at the end of the copy, or past maxOffset
		}
		kept += bh.Size()
		next = bh.LastOffset() + 1
	}
	return dst[:base+kept], next, nil
}

// OffsetForTimestamp returns the offset of the first record whose
// timestamp is at least ts (ListOffsets by time), or ok=false when every
// record is older. Within a compressed batch it answers with the batch's
// base offset. Runs on the owning shard.
func (l *Log) OffsetForTimestamp(ts int64) (offset int64, ok bool, err error) {
	l.mu.Lock()
	if err := l.usableLocked(); err != nil {
		l.mu.Unlock()
		return 0, false, err
	}
	var s *segment
	for _, c := range l.segs {
		if c.maxTs >= ts && c.next > l.logStart {
			s = c
			break
		}
	}
	if s == nil {
		l.mu.Unlock()
		return 0, false, nil
	}
	size, logStart := s.size, l.logStart
	startRel := s.idx.lookupTime(ts)
	pos := int64(s.idx.lookupOffset(startRel).pos)
	l.mu.Unlock()

	var buf []byte
	for pos < size {
		h, err := l.header(s, pos)
		if err != nil {
			return 0, false, err
		}
		if h.MaxTimestamp >= ts && h.LastOffset() >= logStart {
			off := h.BaseOffset
			buf = growLen(buf[:0], h.Size())
			if err := l.readAt(s, buf, pos); err != nil {
				return 0, false, err
			}
			if d, found := batch.FirstRecordAtOrAfter(buf, ts); found {
				off += int64(d)
			}
			return max(off, logStart), true, nil
		}
		pos += int64(h.Size())
	}
	return 0, false, nil
}

// MaxTimestamp returns the largest record timestamp in the log and the
// offset of the first record carrying it (ListOffsets -3, KIP-734); within
// a compressed batch, the batch's first offset. ok is false for an empty
// log. Runs on the owning shard.
func (l *Log) MaxTimestamp() (offset, ts int64, ok bool, err error) {
	l.mu.Lock()
	ts = -1
	for _, s := range l.segs {
		if s.next > l.logStart && s.maxTs > ts {
			ts = s.maxTs
		}
	}
	l.mu.Unlock()
	if ts < 0 {
		return -1, -1, false, nil
	}
	offset, ok, err = l.OffsetForTimestamp(ts)
	return offset, ts, ok, err
}

// findBatch returns the position and header of the batch holding offset in
// s, or pos -1 when s ends before it.
func (l *Log) findBatch(s *segment, offset, size int64) (int64, batch.Header, error) {
	l.mu.Lock()
	pos := int64(s.idx.lookupOffset(uint32(offset - s.base)).pos)
	l.mu.Unlock()
	for pos < size {
		h, err := l.header(s, pos)
		if err != nil {
			return -1, h, err
		}
		if h.LastOffset() >= offset {
			return pos, h, nil
		}
		pos += int64(h.Size())
	}
	return -1, batch.Header{}, nil
}

// header reads the batch header at pos.
func (l *Log) header(s *segment, pos int64) (batch.Header, error) {
	var b [batch.HeaderSize]byte
	if err := l.readAt(s, b[:], pos); err != nil {
		return batch.Header{}, err
	}
	h, err := batch.ParseHeader(b[:])
	if err != nil {
		// The bytes were validated when appended or recovered.
		return h, fmt.Errorf("disk: segment %d at %d: %w", s.base, pos, err)
	}
	return h, nil
}

// readAt copies s's bytes at pos into dst, from the tail cache where they
// are still cached and from the file below that.
func (l *Log) readAt(s *segment, dst []byte, pos int64) error {
	for len(dst) > 0 {
		l.mu.Lock()
		cs, f := s.cacheStart, s.file
		if pos >= cs {
			s.cached(dst, pos)
			l.mu.Unlock()
			return nil
		}
		l.mu.Unlock()
		n := min(int64(len(dst)), cs-pos)
		if err := l.rd.read(s, f, dst[:n], pos, cs); err != nil {
			return err
		}
		dst, pos = dst[n:], pos+n
	}
	return nil
}

func growLen(b []byte, n int) []byte {
	if cap(b)-len(b) < n {
		nb := make([]byte, len(b), len(b)+n)
		copy(nb, b)
		b = nb
	}
	return b[:len(b)+n]
}
