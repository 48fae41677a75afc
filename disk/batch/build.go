package batch

import (
	"encoding/binary"
	"fmt"
)

// Builder encodes uncompressed records into one v2 batch, for the records
// the broker writes itself (the group coordinator's __consumer_offsets
// records); client batches are never rebuilt. Every record gets the
// batch's timestamp and no headers; the producer fields say "not
// idempotent" (-1). A Builder is reused batch after batch, so steady use
// allocates only when a batch outgrows every earlier one.
//
// A record on the wire (Kafka's DefaultRecord; varints are zigzag, as
// encoding/binary's signed varints):
//
//	+--------+-------+---------+---------+--------+-----+--------+-------+---------+
//	| length | attrs | tsDelta | offDelta| keyLen | key | valLen | value | headers |
//	| varint | int8  | varlong | varint  | varint |     | varint |       | varint  |
//	+--------+-------+---------+---------+--------+-----+--------+-------+---------+
//
// A length of -1 is null: a null value is a tombstone.
type Builder struct {
	buf       []byte
	timestamp int64
	n         int32
}

// Reset starts a new batch with the given timestamp (ms), in dst's
// memory; the previous batch's bytes may be overwritten.
func (b *Builder) Reset(dst []byte, timestampMs int64) {
	b.buf = append(dst[:0], make([]byte, HeaderSize)...)
	b.timestamp, b.n = timestampMs, 0
}

// Len is the size the batch would have if finished now.
func (b *Builder) Len() int { return len(b.buf) }

// NumRecords is how many records were added since Reset.
func (b *Builder) NumRecords() int { return int(b.n) }

// Add appends one record; a nil key or value is encoded as null. The bytes
// are copied.
func (b *Builder) Add(key, value []byte) {
	size := 1 + varintLen(0) + varintLen(int64(b.n)) + bytesLen(key) + bytesLen(value) + varintLen(0)
	dst := binary.AppendVarint(b.buf, int64(size))
	dst = append(dst, 0)                       // attributes
	dst = binary.AppendVarint(dst, 0)          // timestamp delta
	dst = binary.AppendVarint(dst, int64(b.n)) // offset delta
	dst = appendBytes(dst, key)
	dst = appendBytes(dst, value)
	dst = binary.AppendVarint(dst, 0) // no headers
	b.buf = dst
	b.n++
}

// Finish fills in the header and the CRC and returns the batch, which
// aliases the Builder's memory until the next Reset. REQUIRES: at least
// one record was added.
func (b *Builder) Finish() []byte {
	if b.n == 0 {
		panic("batch: Finish of an empty batch")
	}
	h := b.buf[:HeaderSize]
	binary.BigEndian.PutUint64(h[offBaseOffset:], 0)
	binary.BigEndian.PutUint32(h[offLength:], uint32(len(b.buf)-LengthFieldEnd))
	binary.BigEndian.PutUint32(h[offLeaderEpoch:], 0)
	h[offMagic] = 2
	binary.BigEndian.PutUint16(h[offAttributes:], 0)
	binary.BigEndian.PutUint32(h[offLastOffsetDelta:], uint32(b.n-1))
	binary.BigEndian.PutUint64(h[offBaseTimestamp:], uint64(b.timestamp))
	binary.BigEndian.PutUint64(h[offMaxTimestamp:], uint64(b.timestamp))
	binary.BigEndian.PutUint64(h[offProducerID:], ^uint64(0))    // -1
	binary.BigEndian.PutUint16(h[offProducerEpoch:], ^uint16(0)) // -1
	binary.BigEndian.PutUint32(h[offBaseSequence:], ^uint32(0))  // -1
	binary.BigEndian.PutUint32(h[offNumRecords:], uint32(b.n))
	SetCRC(b.buf)
	return b.buf
}

// varintLen is the size of v as a zigzag varint.
func varintLen(v int64) int {
	u := uint64(v<<1) ^ uint64(v>>63)
	n := 1
	for u >= 0x80 {
		u >>= 7
		n++
	}
	return n
}

func bytesLen(p []byte) int {
	if p == nil {
		return varintLen(-1)
	}
	return varintLen(int64(len(p))) + len(p)
}

func appendBytes(dst, p []byte) []byte {
	if p == nil {
		return binary.AppendVarint(dst, -1)
	}
	return append(binary.AppendVarint(dst, int64(len(p))), p...)
}

// Record is one record of an uncompressed batch as Records yields it. Key
// and Value alias the batch; nil means null (a nil Value is a tombstone),
// an empty non-nil slice means empty.
type Record struct {
	OffsetDelta    int32
	TimestampDelta int64
	Key, Value     []byte
}

// Records calls fn with each record of b, an uncompressed batch whose
// header checks out (Validate, or a log that validated it on append), in
// order, stopping at the first error fn returns. Headers are skipped. A
// record that does not parse is ErrCorrupt; so is a compressed batch,
// which would need decompressing first.
func Records(b []byte, fn func(Record) error) error {
	h, err := ParseHeader(b)
	if err != nil {
		return err
	}
	if h.Size() > len(b) {
		return fmt.Errorf("%w: batch of %d bytes, have %d", ErrCorrupt, h.Size(), len(b))
	}
	if h.Compression() != 0 {
		return fmt.Errorf("%w: compressed batch (codec %d)", ErrCorrupt, h.Compression())
	}
	p := b[HeaderSize:h.Size()]
	for i := range h.NumRecords {
		length, n := binary.Varint(p)
		if n <= 0 || length < 0 || int64(len(p)-n) < length {
			return fmt.Errorf("%w: record %d: bad length", ErrCorrupt, i)
		}
		rec, err := parseRecord(p[n : n+int(length)])
		if err != nil {
			return fmt.Errorf("%w: record %d: %v", ErrCorrupt, i, err)
		}
		p = p[n+int(length):]
		if err := fn(rec); err != nil {
			return err
		}
	}
	return nil
}

func parseRecord(p []byte) (Record, error) {
	var r Record
	if len(p) < 1 {
		return r, fmt.Errorf("empty")
	}
	p = p[1:] // attributes
	ts, n := binary.Varint(p)
	if n <= 0 {
		return r, fmt.Errorf("timestamp delta")
	}
	p = p[n:]
	od, n := binary.Varint(p)
	if n <= 0 || od < 0 || od > 1<<31-1 {
		return r, fmt.Errorf("offset delta")
	}
	p = p[n:]
	r.TimestampDelta, r.OffsetDelta = ts, int32(od)
	var err error
	if r.Key, p, err = readBytes(p); err != nil {
		return r, fmt.Errorf("key: %v", err)
	}
	if r.Value, _, err = readBytes(p); err != nil {
		return r, fmt.Errorf("value: %v", err)
	}
	return r, nil
}

func readBytes(p []byte) (field, rest []byte, err error) {
	l, n := binary.Varint(p)
	switch {
	case n <= 0 || l < -1:
		return nil, nil, fmt.Errorf("bad length")
	case l == -1:
		return nil, p[n:], nil
	case int64(len(p)-n) < l:
		return nil, nil, fmt.Errorf("length %d past the record", l)
	}
	return p[n : n+int(l) : n+int(l)], p[n+int(l):], nil
}
