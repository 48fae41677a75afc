package disk

import (
	"errors"
	"fmt"
	"log/slog"
	"sort"
	"sync"
	"time"

	"sluice/disk/batch"
	"sluice/disk/vfs"
)

// Errors a Log returns; compare with errors.Is.
var (
	// ErrOffline wraps the I/O error that took the log offline. The log
	// refuses appends and reads until it is closed and opened again, which
	// recovers it from what is on disk.
	ErrOffline = errors.New("disk: partition log offline")
	ErrClosed  = errors.New("disk: partition log closed")
	// ErrBackpressure: more than MaxPendingBytes are waiting for the disk.
	ErrBackpressure = errors.New("disk: too many bytes waiting for the disk")
	// ErrOffsetOutOfRange: the offset is below the log start or past the end.
	ErrOffsetOutOfRange = errors.New("disk: offset out of range")
)

// Log is one partition's log: a directory of segments. Append, Read and the
// other methods run on the partition's owning shard (one goroutine at a
// time); the log's own writer goroutine does every write, fdatasync, file
// creation and removal, so Append never waits for the disk. The two meet
// under mu, held only for memory operations.
type Log struct {
	fs  vfs.FS
	dir string
	log *slog.Logger
	// onSync is Config.OnSync, fixed at Open: the writer calls it outside mu.
	onSync func(time.Duration)

	mu   sync.Mutex
	cond sync.Cond // broadcast after every writer round
	cfg  Config
	segs []*segment

	logStart    int64
	next        int64 // log end offset
	writtenNext int64 // every batch below it is written to its file
	durableNext int64 // every batch below it is synced
	syncWanted  int64 // a caller asked for everything below it to be synced
	pending     int64 // bytes appended but not yet written
	cached      int64 // bytes of tail-cache chunks held by all segments
	free        [][]byte
	err         error // why the log is offline
	closing     bool
	flushing    bool // a writer round is in progress outside mu
	lastSync    time.Time

	hw            int64
	hwDirty       bool
	hwSaved       time.Time
	logStartDirty bool
	doomed        []*segment // removed from segs; files to delete
	kick          chan struct{}
	writerDone    chan struct{}
	writerScratch writerScratch // the writer goroutine's alone
	rd            reader        // the owner's alone
	writerExited  bool
	truncating    bool // Truncate has parked the writer
}

// AppendResult tells where an appended batch went.
type AppendResult struct {
	BaseOffset int64
	LastOffset int64
}

// Open opens the log in dir, creating it when missing, and recovers it:
// the last segment is scanned and cut at the first batch that is torn or
// fails its CRC; earlier segments are trusted when their index is valid and
// scanned otherwise.
func Open(fs vfs.FS, dir string, cfg Config) (*Log, error) {
	cfg = cfg.withDefaults()
	l := &Log{
		fs: fs, dir: dir, cfg: cfg, log: cfg.Logger.With("log", dir), onSync: cfg.OnSync,
		kick: make(chan struct{}, 1), writerDone: make(chan struct{}),
	}
	l.cond.L = &l.mu
	if err := fs.MkdirAll(dir); err != nil {
		return nil, fmt.Errorf("disk: open %s: %w", dir, err)
	}
	if err := l.recover(); err != nil {
		l.closeFiles()
		return nil, fmt.Errorf("disk: recover %s: %w", dir, err)
	}
	now := cfg.Now()
	l.lastSync, l.hwSaved = now, now
	l.writerScratch.page = vfs.AlignedAlloc(vfs.Alignment)
	go l.writer()
	return l, nil
}

// Append validates one record batch, assigns its offsets and leader epoch
// in place (in b, the caller's buffer), and queues it for the disk. It
// returns at once; WrittenOffset and DurableOffset (or OnProgress, or Wait)
// tell when the batch reached the file and, if sync is set or the flush
// policy asks for it, when it was fdatasync'd. A batch that fails validation
// is rejected whole with batch.ErrCorrupt or batch.ErrTooLarge.
// Runs on the owning shard.
func (l *Log) Append(b []byte, leaderEpoch int32, sync bool) (AppendResult, error) {
	// The CRC pass runs outside mu so the writer is never held up by it;
	// cfg changes only on this goroutine (SetConfig).
	h, err := batch.Validate(b, l.cfg.MaxMessageBytes)
	if err != nil {
		return AppendResult{}, err
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if err := l.usableLocked(); err != nil {
		return AppendResult{}, err
	}
	if l.pending+int64(len(b)) > l.cfg.MaxPendingBytes {
		return AppendResult{}, ErrBackpressure
	}
	s := l.segs[len(l.segs)-1]
	if l.shouldRollLocked(s, &h, len(b)) {
		s = l.rollLocked()
	}
	h.BaseOffset = l.next
	h.PartitionLeaderEpoch = leaderEpoch
	batch.SetBaseOffset(b, h.BaseOffset)
	batch.SetPartitionLeaderEpoch(b, leaderEpoch)

	pos := s.size
	s.copyIn(b, l.getChunkLocked)
	s.noteBatch(&h, pos, l.cfg.IndexIntervalBytes)
	l.next = s.next
	l.pending += int64(len(b))
	if sync {
		l.syncWanted = l.next
	}
	l.kickWriter()
	return AppendResult{BaseOffset: h.BaseOffset, LastOffset: h.LastOffset()}, nil
}

func (l *Log) usableLocked() error {
	if l.err != nil {
		return l.err
	}
	if l.closing {
		return ErrClosed
	}
	return nil
}

func (l *Log) shouldRollLocked(s *segment, h *batch.Header, n int) bool {
	if s.size == 0 {
		return false
	}
	return s.size+int64(n) > l.cfg.SegmentBytes ||
		l.cfg.Now().Sub(s.created) >= l.cfg.SegmentMs ||
		l.next+int64(h.LastOffsetDelta)-s.base > 1<<32-1
}

// rollLocked seals the active segment and starts a new one in memory; the
// writer creates its file, after it has synced and closed the old one, so
// that a crash never leaves a gap of lost data before newer data.
func (l *Log) rollLocked() *segment {
	old := l.segs[len(l.segs)-1]
	old.sealed = true
	s := &segment{base: l.next, next: l.next, maxTs: -1, created: l.cfg.Now()}
	l.segs = append(l.segs, s)
	return s
}

func (l *Log) getChunkLocked() []byte {
	l.cached += chunkBytes
	if n := len(l.free); n > 0 {
		c := l.free[n-1]
		l.free = l.free[:n-1]
		return c
	}
	return vfs.AlignedAlloc(chunkBytes)
}

// putChunkLocked keeps a chunk for reuse while the free list is within the
// tail-cache budget. Chunks are not zeroed: only bytes below a segment's
// size are ever read or written, and the partial last page goes to disk
// through a zeroed scratch page.
func (l *Log) putChunkLocked(c []byte) {
	l.cached -= chunkBytes
	if int64(len(l.free)+1)*chunkBytes <= l.cfg.TailCacheBytes {
		l.free = append(l.free, c)
	}
}

func (l *Log) kickWriter() {
	select {
	case l.kick <- struct{}{}:
	default:
	}
}

// LogStartOffset, LogEndOffset, WrittenOffset and DurableOffset are the
// log's offsets: the first readable offset, the next offset to assign, the
// offset below which every batch is in its file, and the one below which
// every batch has been fdatasync'd.
func (l *Log) LogStartOffset() int64 { l.mu.Lock(); defer l.mu.Unlock(); return l.logStart }
func (l *Log) LogEndOffset() int64   { l.mu.Lock(); defer l.mu.Unlock(); return l.next }
func (l *Log) WrittenOffset() int64  { l.mu.Lock(); defer l.mu.Unlock(); return l.writtenNext }
func (l *Log) DurableOffset() int64  { l.mu.Lock(); defer l.mu.Unlock(); return l.durableNext }

// Pending is the number of appended bytes not yet written; the broker stops
// reading producers of this partition while it is high.
func (l *Log) Pending() int64 { l.mu.Lock(); defer l.mu.Unlock(); return l.pending }

// Err returns why the log is offline, or nil.
func (l *Log) Err() error { l.mu.Lock(); defer l.mu.Unlock(); return l.err }

// Size is the bytes of all segments.
func (l *Log) Size() int64 {
	l.mu.Lock()
	defer l.mu.Unlock()
	var n int64
	for _, s := range l.segs {
		n += s.size
	}
	return n
}

// SetConfig applies new settings live, as Kafka applies topic config
// changes. Runs on the owning shard.
func (l *Log) SetConfig(cfg Config) {
	l.mu.Lock()
	defer l.mu.Unlock()
	cfg.OnProgress, cfg.OnSync, cfg.Logger, cfg.Now = l.cfg.OnProgress, l.onSync, l.cfg.Logger, l.cfg.Now
	l.cfg = cfg.withDefaults()
	l.kickWriter()
}

// HighWatermark is the last high watermark given to SetHighWatermark, or the
// one persisted before a restart (never above the log end).
func (l *Log) HighWatermark() int64 { l.mu.Lock(); defer l.mu.Unlock(); return min(l.hw, l.next) }

// SetHighWatermark records the high watermark for the replication layer; the
// writer persists it every HighWatermarkCheckpoint and on Close.
func (l *Log) SetHighWatermark(hw int64) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if hw != l.hw {
		l.hw, l.hwDirty = hw, true
	}
}

// Wait blocks until every batch below offset is written (or, with durable,
// synced), the log goes offline, or it is closed. For tests, benchmarks and
// shutdown; the event loop uses OnProgress instead.
func (l *Log) Wait(offset int64, durable bool) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	for {
		done := l.writtenNext
		if durable {
			done = l.durableNext
		}
		if done >= offset {
			return nil
		}
		if l.err != nil {
			return l.err
		}
		if l.writerExited {
			return ErrClosed
		}
		if durable && l.syncWanted < offset {
			l.syncWanted = offset
			l.kickWriter()
		}
		l.cond.Wait()
	}
}

// segmentForLocked returns the index of the segment holding offset.
func (l *Log) segmentForLocked(offset int64) int {
	i := sort.Search(len(l.segs), func(i int) bool { return l.segs[i].base > offset })
	return max(i-1, 0)
}

// Close writes and syncs everything appended, persists the checkpoints,
// stops the writer and closes the files.
func (l *Log) Close() error {
	l.mu.Lock()
	if l.closing {
		l.mu.Unlock()
		<-l.writerDone
		return nil
	}
	l.closing = true
	l.mu.Unlock()
	l.kickWriter()
	<-l.writerDone
	l.mu.Lock()
	err := l.err
	l.mu.Unlock()
	if cerr := l.closeFiles(); err == nil {
		err = cerr
	}
	return err
}

func (l *Log) closeFiles() error {
	var first error
	for _, s := range append(l.segs, l.doomed...) {
		if s.file != nil {
			if err := s.file.Close(); err != nil && first == nil {
				first = err
			}
			s.file = nil
		}
	}
	return first
}
