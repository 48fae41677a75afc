package core

import (
	"errors"
	"testing"

	"sluice/disk/batch"
)

// TestProducerStateCheck walks one partition's producer state through
// Kafka's sequence rules, batch by batch.
func TestProducerStateCheck(t *testing.T) {
	type step struct {
		pid     int64
		epoch   int16
		seq     int32
		n       int32 // records
		txn     bool
		wantErr error
		dupOf   int64 // base offset of the original, for a duplicate; -1 if none
	}
	steps := []step{
		{pid: 7, epoch: 0, seq: 0, n: 3, dupOf: -1},                                   // offsets 0-2
		{pid: 7, epoch: 0, seq: 3, n: 2, dupOf: -1},                                   // 3-4
		{pid: 7, epoch: 0, seq: 0, n: 3, dupOf: 0},                                    // retry of the first
		{pid: 7, epoch: 0, seq: 3, n: 2, dupOf: 3},                                    // retry of the second
		{pid: 7, epoch: 0, seq: 6, n: 1, wantErr: errOutOfOrderSequence, dupOf: -1},   // gap
		{pid: 7, epoch: 0, seq: 4, n: 1, wantErr: errOutOfOrderSequence, dupOf: -1},   // overlaps, not a known batch
		{pid: 8, epoch: 3, seq: 42, n: 1, dupOf: -1},                                  // unknown producer: any sequence (5)
		{pid: 7, epoch: 1, seq: 5, n: 1, wantErr: errOutOfOrderSequence, dupOf: -1},   // new epoch must start at 0
		{pid: 7, epoch: 1, seq: 0, n: 1, dupOf: -1},                                   // bumped (6)
		{pid: 7, epoch: 0, seq: 5, n: 1, wantErr: errInvalidProducerEpoch, dupOf: -1}, // fenced
		{pid: 7, epoch: 0, seq: 0, n: 3, wantErr: errInvalidProducerEpoch, dupOf: -1}, // old epoch's retry is fenced too
		{pid: 9, epoch: 0, seq: 0, n: 1, txn: true, wantErr: errTransactional, dupOf: -1},
		{pid: 8, epoch: 3, seq: 1<<31 - 1, n: 1, wantErr: errOutOfOrderSequence, dupOf: -1},
		{pid: 8, epoch: 3, seq: 43, n: 1, dupOf: -1}, // (7)
	}
	var s producerState
	next := int64(0)
	for i, st := range steps {
		h := batch.Header{ProducerID: st.pid, ProducerEpoch: st.epoch, BaseSequence: st.seq, LastOffsetDelta: st.n - 1, NumRecords: st.n}
		if st.txn {
			h.Attributes = 1 << 4
		}
		dup, isDup, err := s.check(&h)
		if !errors.Is(err, st.wantErr) || (err == nil) != (st.wantErr == nil) {
			t.Fatalf("step %d: err %v, want %v", i, err, st.wantErr)
		}
		if isDup != (st.dupOf >= 0) || isDup && dup.BaseOffset != st.dupOf {
			t.Fatalf("step %d: duplicate %v of %d, want %d", i, isDup, dup.BaseOffset, st.dupOf)
		}
		if err == nil && !isDup {
			s.update(&h, next, next+int64(st.n)-1)
			next += int64(st.n)
		}
	}
}

// TestProducerStateWindow: only the last five batches are remembered, and
// sequences wrap at MaxInt32.
func TestProducerStateWindow(t *testing.T) {
	var s producerState
	seq := int32(1<<31 - 4)
	for i := range 8 {
		h := batch.Header{ProducerID: 1, BaseSequence: seq, LastOffsetDelta: 1, NumRecords: 2}
		if _, isDup, err := s.check(&h); err != nil || isDup {
			t.Fatalf("batch %d at sequence %d: dup %v err %v", i, seq, isDup, err)
		}
		s.update(&h, int64(2*i), int64(2*i+1))
		seq = lastSeq(&h) + 1
		if seq < 0 {
			seq = 0
		}
	}
	if got := len(s.m[1].Batches); got != batchesKept {
		t.Fatalf("%d batches kept, want %d", got, batchesKept)
	}
	// The sixth-newest batch is forgotten: its retry is out of order.
	h := batch.Header{ProducerID: 1, BaseSequence: s.m[1].Batches[0].FirstSeq - 2, LastOffsetDelta: 1}
	if _, _, err := s.check(&h); !errors.Is(err, errOutOfOrderSequence) {
		t.Fatalf("retry of a forgotten batch: %v", err)
	}
	s.expire(producerIDExpiration+1, 0)
	if len(s.m) != 0 {
		t.Fatalf("producer with timestamp 0 not expired a day later")
	}
}
