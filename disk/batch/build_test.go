package batch_test

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"testing"

	"github.com/twmb/franz-go/pkg/kmsg"

	"sluice/disk/batch"
	"sluice/disk/batch/batchtest"
)

type kv struct{ key, value []byte }

// TestBuilder: what the Builder makes passes Validate, decodes with kmsg
// (Kafka's own record layout) to the records given, nulls included, and
// reads back through Records; a reused Builder makes the same bytes.
func TestBuilder(t *testing.T) {
	cases := [][]kv{
		{{[]byte("k"), []byte("v")}},
		{{nil, []byte("no key")}, {[]byte("tombstone"), nil}, {[]byte{}, []byte{}}, {nil, nil}},
		{{bytes.Repeat([]byte("k"), 300), bytes.Repeat([]byte("v"), 70000)}}, // multi-byte varints
	}
	many := make([]kv, 200)
	for i := range many {
		many[i] = kv{[]byte(fmt.Sprint("key", i)), []byte(fmt.Sprint("value", i))}
	}
	cases = append(cases, many)
	var bld batch.Builder
	var buf []byte
	for ci, recs := range cases {
		bld.Reset(buf, 1_700_000_000_123)
		for _, r := range recs {
			bld.Add(r.key, r.value)
		}
		if bld.NumRecords() != len(recs) {
			t.Fatalf("case %d: NumRecords %d", ci, bld.NumRecords())
		}
		b := bld.Finish()
		if bld.Len() != len(b) {
			t.Fatalf("case %d: Len %d, batch of %d", ci, bld.Len(), len(b))
		}
		h, err := batch.Validate(b, 0)
		if err != nil {
			t.Fatalf("case %d: %v", ci, err)
		}
		if h.NumRecords != int32(len(recs)) || h.ProducerID != -1 || h.ProducerEpoch != -1 || h.BaseSequence != -1 ||
			h.BaseTimestamp != 1_700_000_000_123 || h.MaxTimestamp != h.BaseTimestamp || h.Compression() != 0 {
			t.Fatalf("case %d: header %+v", ci, h)
		}

		var rb kmsg.RecordBatch
		if err := rb.ReadFrom(b); err != nil {
			t.Fatalf("case %d: kmsg: %v", ci, err)
		}
		raw := rb.Records
		for i, want := range recs {
			length, n := binary.Varint(raw)
			var rec kmsg.Record
			if err := rec.ReadFrom(raw[:n+int(length)]); err != nil {
				t.Fatalf("case %d record %d: kmsg: %v", ci, i, err)
			}
			raw = raw[n+int(length):]
			if rec.OffsetDelta != int32(i) || !sameBytes(rec.Key, want.key) || !sameBytes(rec.Value, want.value) || len(rec.Headers) != 0 {
				t.Fatalf("case %d record %d: kmsg read %+v", ci, i, rec)
			}
		}

		i := 0
		err = batch.Records(b, func(r batch.Record) error {
			if r.OffsetDelta != int32(i) || r.TimestampDelta != 0 || !sameBytes(r.Key, recs[i].key) || !sameBytes(r.Value, recs[i].value) {
				return fmt.Errorf("record %d: %+v", i, r)
			}
			i++
			return nil
		})
		if err != nil || i != len(recs) {
			t.Fatalf("case %d: Records: %v after %d records", ci, err, i)
		}
		buf = b
	}
}

// sameBytes tells null from empty, which the records must keep apart: a
// null value is a tombstone.
func sameBytes(a, b []byte) bool {
	return (a == nil) == (b == nil) && bytes.Equal(a, b)
}

// TestRecordsRejects: Records refuses what it cannot read rather than
// yield garbage, and stops at the first error of its callback.
func TestRecordsRejects(t *testing.T) {
	good := batchtest.Values(1, "a", "b")
	compressed := append([]byte(nil), good...)
	binary.BigEndian.PutUint16(compressed[21:], 1)
	batch.SetCRC(compressed)
	badLen := append([]byte(nil), good...)
	badLen[batch.HeaderSize] = 0x7f // first record's length: far past the end
	for name, b := range map[string][]byte{
		"truncated":     good[:len(good)-1],
		"compressed":    compressed,
		"record length": badLen,
		"short":         good[:10],
	} {
		if err := batch.Records(b, func(batch.Record) error { return nil }); !errors.Is(err, batch.ErrCorrupt) {
			t.Errorf("%s: %v, want ErrCorrupt", name, err)
		}
	}
	stop := errors.New("stop")
	n := 0
	if err := batch.Records(good, func(batch.Record) error { n++; return stop }); err != stop || n != 1 {
		t.Fatalf("callback error: %v after %d records", err, n)
	}
}

func BenchmarkBuilder(b *testing.B) {
	key, value := bytes.Repeat([]byte("k"), 40), bytes.Repeat([]byte("v"), 40)
	var bld batch.Builder
	var buf []byte
	b.ReportAllocs()
	for b.Loop() {
		bld.Reset(buf, 1)
		for range 10 {
			bld.Add(key, value)
		}
		buf = bld.Finish()
	}
}
