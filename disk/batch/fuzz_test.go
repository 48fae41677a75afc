package batch_test

import (
	"testing"

	"sluice/disk/batch"
	"sluice/disk/batch/batchtest"
)

// FuzzValidate feeds arbitrary bytes to the validator. Invariants: it never
// panics; whatever it accepts has a matching size, magic 2, a CRC that
// verifies, a positive record count and a consistent lastOffsetDelta; and it
// still accepts the batch after the broker patches its offset and epoch.
func FuzzValidate(f *testing.F) {
	f.Add(batchtest.Values(1, "a"))
	f.Add(batchtest.Values(1700000000000, "hello", "world", ""))
	f.Add(batchtest.Make(5, batchtest.Record{Key: []byte("k"), Value: []byte("v"), TimestampDelta: 3}))
	f.Add(batchtest.Sized(1, 20, 4096, 9))
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, b []byte) {
		h, err := batch.Validate(b, 1<<20)
		if err != nil {
			return
		}
		if h.Size() != len(b) || h.Magic != 2 || h.NumRecords <= 0 ||
			h.LastOffsetDelta != h.NumRecords-1 || batch.Checksum(b) != h.CRC {
			t.Fatalf("accepted a batch that breaks an invariant: %+v", h)
		}
		b = append([]byte(nil), b...) // the fuzzer's input must not be modified
		batch.SetBaseOffset(b, 12345)
		batch.SetPartitionLeaderEpoch(b, 3)
		if _, err := batch.Validate(b, 1<<20); err != nil {
			t.Fatalf("patching broker fields broke the batch: %v", err)
		}
	})
}
