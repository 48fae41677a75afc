// Package batchtest builds real v2 record batches for tests and benchmarks,
// encoded with franz-go's kmsg so that they are byte-for-byte what a Kafka
// client sends. It is never imported by production code.
package batchtest

import (
	"fmt"

	"github.com/twmb/franz-go/pkg/kmsg"

	"sluice/disk/batch"
)

// Record is one record to put in a batch; TimestampDelta is relative to the
// batch's base timestamp.
type Record struct {
	Key, Value     []byte
	TimestampDelta int64
}

// Make encodes records into one uncompressed batch with base offset 0, the
// given base timestamp and a valid CRC.
func Make(baseTimestamp int64, records ...Record) []byte {
	var body []byte
	maxDelta := int64(0)
	for i, r := range records {
		rec := kmsg.Record{
			TimestampDelta64: r.TimestampDelta,
			OffsetDelta:      int32(i),
			Key:              r.Key,
			Value:            r.Value,
		}
		enc := rec.AppendTo(nil) // Length 0 encodes as one varint byte
		rec.Length = int32(len(enc) - 1)
		body = rec.AppendTo(body)
		maxDelta = max(maxDelta, r.TimestampDelta)
	}
	rb := kmsg.RecordBatch{
		Length:          int32(batch.HeaderSize - batch.LengthFieldEnd + len(body)),
		Magic:           2,
		LastOffsetDelta: int32(len(records) - 1),
		FirstTimestamp:  baseTimestamp,
		MaxTimestamp:    baseTimestamp + maxDelta,
		ProducerID:      -1,
		ProducerEpoch:   -1,
		FirstSequence:   -1,
		NumRecords:      int32(len(records)),
		Records:         body,
	}
	b := rb.AppendTo(nil)
	batch.SetCRC(b)
	return b
}

// Values makes a batch with one record per value, timestamps all equal.
func Values(baseTimestamp int64, values ...string) []byte {
	rs := make([]Record, len(values))
	for i, v := range values {
		rs[i] = Record{Value: []byte(v)}
	}
	return Make(baseTimestamp, rs...)
}

// Sized makes a batch of n records whose total size is close to size bytes
// (at least one record; the value bytes are a pattern derived from seed so
// that different batches differ).
func Sized(baseTimestamp int64, n, size int, seed byte) []byte {
	per := max((size-batch.HeaderSize)/max(n, 1)-8, 1)
	rs := make([]Record, max(n, 1))
	for i := range rs {
		v := make([]byte, per)
		for j := range v {
			v[j] = seed + byte(i) + byte(j)
		}
		rs[i] = Record{Value: v}
	}
	return Make(baseTimestamp, rs...)
}

// MustValid panics when b is not a valid batch; for test set-up.
func MustValid(b []byte) batch.Header {
	h, err := batch.Validate(b, 0)
	if err != nil {
		panic(fmt.Sprintf("batchtest: built an invalid batch: %v", err))
	}
	return h
}
