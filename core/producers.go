package core

// Idempotent producers (KIP-98, without transactions): each partition keeps,
// per producer id, the epoch and the sequence ranges of its last few
// batches, so that a retried batch is answered with its original offset
// and a gap or a stale epoch is refused before anything is written. The
// state is rebuilt after a restart from a snapshot plus the batches logged
// after it, as Kafka's ProducerStateManager does.

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"path/filepath"

	"sluice/disk"
	"sluice/disk/batch"
	"sluice/disk/vfs"
)

var (
	errOutOfOrderSequence   = errors.New("out of order sequence number")
	errInvalidProducerEpoch = errors.New("producer epoch is older than the partition's")
	errTransactional        = errors.New("transactional batches are not supported")
)

// batchesKept is how many batches per producer are remembered for
// duplicate detection: Kafka's NumBatchesToRetain, matching the five
// requests in flight that idempotent clients are allowed.
const batchesKept = 5

// producerIDExpiration is producer.id.expiration.ms (KIP-854, default one
// day): a producer silent for longer is forgotten, so that the state of a
// partition written by many short-lived producers stays bounded.
const producerIDExpiration = 24 * 60 * 60 * 1000

type producerBatch struct {
	FirstSeq   int32 `json:"firstSeq"`
	LastSeq    int32 `json:"lastSeq"`
	BaseOffset int64 `json:"baseOffset"`
	LastOffset int64 `json:"lastOffset"`
}

// producerEntry is one producer's state in one partition. Batches holds up
// to batchesKept batches, oldest first.
type producerEntry struct {
	Epoch int16 `json:"epoch"`
	// LastTimestamp is the max timestamp of the producer's last batch; as
	// in Kafka, expiry runs on record time so that a rebuild from the log
	// reaches the same state.
	LastTimestamp int64           `json:"lastTimestamp"`
	Batches       []producerBatch `json:"batches"`
}

func (e *producerEntry) last() producerBatch { return e.Batches[len(e.Batches)-1] }

// producerState is a partition's idempotence state; it belongs to the
// partition's loop.
type producerState struct {
	m map[int64]*producerEntry
}

// lastSeq is the sequence number of h's last record; sequences wrap from
// MaxInt32 to 0.
func lastSeq(h *batch.Header) int32 {
	s := int64(h.BaseSequence) + int64(h.LastOffsetDelta)
	if s > 1<<31-1 {
		s -= 1 << 31
	}
	return int32(s)
}

// check decides what to do with a batch from an idempotent producer before
// it is appended: append it (ok), answer it as the duplicate dup of a batch
// already in the log, or refuse it. Kafka's rules
// (ProducerAppendInfo.checkSequence and findDuplicateBatch): an unknown
// producer may start at any sequence (its state may have expired); an older
// epoch is fenced; a newer epoch starts at sequence 0; within an epoch each
// batch continues the last one.
func (s *producerState) check(h *batch.Header) (dup producerBatch, isDup bool, err error) {
	if h.IsTransactional() {
		return dup, false, errTransactional
	}
	e := s.m[h.ProducerID]
	if e == nil {
		return dup, false, nil
	}
	switch {
	case h.ProducerEpoch < e.Epoch:
		return dup, false, fmt.Errorf("%w: producer %d epoch %d, partition has %d", errInvalidProducerEpoch, h.ProducerID, h.ProducerEpoch, e.Epoch)
	case h.ProducerEpoch > e.Epoch:
		if h.BaseSequence != 0 {
			return dup, false, fmt.Errorf("%w: producer %d new epoch %d starts at sequence %d", errOutOfOrderSequence, h.ProducerID, h.ProducerEpoch, h.BaseSequence)
		}
		return dup, false, nil
	}
	last := lastSeq(h)
	for _, b := range e.Batches {
		if b.FirstSeq == h.BaseSequence && b.LastSeq == last {
			return b, true, nil
		}
	}
	if prev := e.last().LastSeq; h.BaseSequence != prev+1 && !(prev == 1<<31-1 && h.BaseSequence == 0) {
		return dup, false, fmt.Errorf("%w: producer %d epoch %d sent sequence %d after %d", errOutOfOrderSequence, h.ProducerID, h.ProducerEpoch, h.BaseSequence, prev)
	}
	return dup, false, nil
}

// update records a batch that went into the log at [base, lastOffset].
func (s *producerState) update(h *batch.Header, base, lastOffset int64) {
	if s.m == nil {
		s.m = map[int64]*producerEntry{}
	}
	e := s.m[h.ProducerID]
	if e == nil {
		e = &producerEntry{Batches: make([]producerBatch, 0, batchesKept)}
		s.m[h.ProducerID] = e
	}
	if h.ProducerEpoch != e.Epoch {
		e.Batches = e.Batches[:0]
	}
	e.Epoch = h.ProducerEpoch
	e.LastTimestamp = h.MaxTimestamp
	if len(e.Batches) == batchesKept {
		copy(e.Batches, e.Batches[1:])
		e.Batches = e.Batches[:batchesKept-1]
	}
	e.Batches = append(e.Batches, producerBatch{FirstSeq: h.BaseSequence, LastSeq: lastSeq(h), BaseOffset: base, LastOffset: lastOffset})
}

// expire forgets producers silent since before now-producerIDExpiration
// (record time, in ms) and those whose last batch retention or
// DeleteRecords removed, as Kafka does; either may then start afresh.
func (s *producerState) expire(nowMs, logStart int64) {
	for id, e := range s.m {
		if e.LastTimestamp < nowMs-producerIDExpiration || e.last().LastOffset < logStart {
			delete(s.m, id)
		}
	}
}

// producerSnapshotFile holds a partition's producer state as of an offset,
// in the partition's directory (the log ignores files it does not own).
const producerSnapshotFile = "producer-state.json"

type producerSnapshot struct {
	// Offset is the log end offset the state was taken at: replay starts
	// there.
	Offset    int64                    `json:"offset"`
	Producers map[int64]*producerEntry `json:"producers"`
}

// snapshot copies the state as of the log end; it runs on the owning loop
// and the copy is encoded elsewhere.
func (s *producerState) snapshot(offset int64) producerSnapshot {
	snap := producerSnapshot{Offset: offset, Producers: make(map[int64]*producerEntry, len(s.m))}
	for id, e := range s.m {
		c := *e
		c.Batches = append([]producerBatch(nil), e.Batches...)
		snap.Producers[id] = &c
	}
	return snap
}

func writeProducerSnapshot(fsys vfs.FS, dir string, snap producerSnapshot) error {
	raw, err := json.Marshal(snap)
	if err != nil {
		return err
	}
	return vfs.WriteFileAtomic(fsys, filepath.Join(dir, producerSnapshotFile), raw)
}

// maxProducerSnapshotBytes bounds what recovery reads: far above any real
// state (a million producers), and a damaged file is only a slower start.
const maxProducerSnapshotBytes = 1 << 30

// loadProducerState rebuilds a partition's producer state: the snapshot if
// there is a usable one, then every batch logged after it. A snapshot
// beyond the log end (the tail it saw was lost in a crash) or unreadable is
// ignored and the whole log replayed: slower, never wrong.
func loadProducerState(fsys vfs.FS, dir string, l *disk.Log) (producerState, error) {
	s := producerState{m: map[int64]*producerEntry{}}
	from := l.LogStartOffset()
	raw, err := vfs.ReadFile(fsys, filepath.Join(dir, producerSnapshotFile), maxProducerSnapshotBytes)
	switch {
	case errors.Is(err, fs.ErrNotExist):
	case err != nil:
		return s, err
	default:
		var snap producerSnapshot
		if json.Unmarshal(raw, &snap) == nil && snap.Offset <= l.LogEndOffset() && validSnapshot(snap) {
			s.m = snap.Producers
			from = max(from, snap.Offset)
		}
	}
	end := l.LogEndOffset()
	var buf []byte
	for from < end {
		var next int64
		buf, next, err = l.Read(buf[:0], from, 1<<20, end)
		if err != nil {
			return s, fmt.Errorf("replaying producer state at offset %d: %w", from, err)
		}
		if next <= from {
			return s, fmt.Errorf("replaying producer state: no progress at offset %d", from)
		}
		for b := buf; len(b) > 0; {
			h, err := batch.ParseHeader(b)
			if err != nil || h.Size() > len(b) {
				return s, fmt.Errorf("replaying producer state at offset %d: %v", from, err)
			}
			if h.ProducerID >= 0 && !h.IsControl() {
				s.update(&h, h.BaseOffset, h.LastOffset())
			}
			b = b[h.Size():]
		}
		from = next
	}
	return s, nil
}

// validSnapshot rejects a snapshot that decoded but could not have been
// written by snapshot(): every entry has 1..batchesKept batches.
func validSnapshot(snap producerSnapshot) bool {
	for _, e := range snap.Producers {
		if e == nil || len(e.Batches) == 0 || len(e.Batches) > batchesKept {
			return false
		}
	}
	return true
}
