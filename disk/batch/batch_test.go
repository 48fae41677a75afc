package batch_test

import (
	"encoding/binary"
	"errors"
	"fmt"
	"testing"

	"sluice/disk/batch"
	"sluice/disk/batch/batchtest"
)

func TestValidateAcceptsClientBatch(t *testing.T) {
	b := batchtest.Make(1000,
		batchtest.Record{Key: []byte("k"), Value: []byte("v1")},
		batchtest.Record{Value: []byte("v2"), TimestampDelta: 5})
	h, err := batch.Validate(b, 0)
	if err != nil {
		t.Fatal(err)
	}
	if h.NumRecords != 2 || h.LastOffsetDelta != 1 || h.MaxTimestamp != 1005 || h.Size() != len(b) {
		t.Fatalf("header %+v", h)
	}
}

func TestSetFieldsKeepCRC(t *testing.T) {
	b := batchtest.Values(1, "a", "b", "c")
	batch.SetBaseOffset(b, 1<<40)
	batch.SetPartitionLeaderEpoch(b, 7)
	h, err := batch.Validate(b, 0)
	if err != nil {
		t.Fatalf("patched batch no longer valid: %v", err)
	}
	if h.BaseOffset != 1<<40 || h.PartitionLeaderEpoch != 7 || h.LastOffset() != 1<<40+2 {
		t.Fatalf("header %+v", h)
	}
}

func TestValidateRejects(t *testing.T) {
	good := batchtest.Values(1, "hello", "world")
	mut := func(f func(b []byte) []byte) []byte {
		return f(append([]byte(nil), good...))
	}
	put32 := func(off int, v uint32) func(b []byte) []byte {
		return func(b []byte) []byte { binary.BigEndian.PutUint32(b[off:], v); return b }
	}
	withCRC := func(f func(b []byte) []byte) func(b []byte) []byte {
		return func(b []byte) []byte { b = f(b); batch.SetCRC(b); return b }
	}
	cases := []struct {
		name string
		b    []byte
		max  int
		want error
	}{
		{"empty", nil, 0, batch.ErrCorrupt},
		{"short header", good[:batch.HeaderSize-1], 0, batch.ErrCorrupt},
		{"truncated body", good[:len(good)-1], 0, batch.ErrCorrupt},
		{"trailing bytes", append(append([]byte(nil), good...), 0), 0, batch.ErrCorrupt},
		{"magic 1", mut(func(b []byte) []byte { b[16] = 1; return b }), 0, batch.ErrCorrupt},
		{"bad crc", mut(func(b []byte) []byte { b[len(b)-1] ^= 0xff; return b }), 0, batch.ErrCorrupt},
		{"crc field flipped", mut(func(b []byte) []byte { b[17] ^= 1; return b }), 0, batch.ErrCorrupt},
		{"negative length", mut(put32(8, 0xfffffff0)), 0, batch.ErrCorrupt},
		{"huge length", mut(put32(8, 0x7fffffff)), 0, batch.ErrCorrupt},
		{"zero records", mut(withCRC(put32(57, 0))), 0, batch.ErrCorrupt},
		{"negative records", mut(withCRC(put32(57, 0x80000000))), 0, batch.ErrCorrupt},
		{"delta mismatch", mut(withCRC(put32(23, 5))), 0, batch.ErrCorrupt},
		{"count beyond bytes", mut(withCRC(func(b []byte) []byte {
			put32(57, 1000)(b)
			return put32(23, 999)(b)
		})), 0, batch.ErrCorrupt},
		{"too large", good, len(good) - 1, batch.ErrTooLarge},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := batch.Validate(c.b, c.max)
			if !errors.Is(err, c.want) {
				t.Fatalf("got %v, want %v", err, c.want)
			}
		})
	}
	if _, err := batch.Validate(good, len(good)); err != nil {
		t.Fatalf("batch of exactly max.message.bytes rejected: %v", err)
	}
}

func BenchmarkValidate(b *testing.B) {
	for _, size := range []int{1 << 10, 16 << 10} {
		bt := batchtest.Sized(1, 10, size, 3)
		b.Run(fmt.Sprintf("size=%dKiB", size>>10), func(b *testing.B) {
			b.SetBytes(int64(len(bt)))
			b.ReportAllocs()
			for b.Loop() {
				if _, err := batch.Validate(bt, 0); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
