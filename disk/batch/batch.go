package batch

import (
	"encoding/binary"
	"errors"
	"fmt"

	"github.com/klauspost/crc32"
)

// Field offsets and sizes of the v2 header.
const (
	offBaseOffset      = 0
	offLength          = 8
	offLeaderEpoch     = 12
	offMagic           = 16
	offCRC             = 17
	offAttributes      = 21
	offLastOffsetDelta = 23
	offBaseTimestamp   = 27
	offMaxTimestamp    = 35
	offProducerID      = 43
	offProducerEpoch   = 51
	offBaseSequence    = 53
	offNumRecords      = 57

	// HeaderSize is the size of the v2 header; the smallest possible batch
	// is a header followed by at least one record.
	HeaderSize = 61
	// LengthFieldEnd is how many leading bytes are needed to learn a
	// batch's total size: baseOffset and batchLength.
	LengthFieldEnd = 12

	// minRecordSize is the smallest encoding of one uncompressed record:
	// length, attributes, timestampDelta, offsetDelta, keyLength,
	// valueLength and header count, one byte each.
	minRecordSize = 7
)

// Errors returned by Validate and ParseHeader. The broker maps ErrCorrupt to
// CORRUPT_MESSAGE and ErrTooLarge to MESSAGE_TOO_LARGE.
var (
	ErrCorrupt  = errors.New("corrupt record batch")
	ErrTooLarge = errors.New("record batch too large")
)

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// Header is the decoded 61-byte header of a batch.
type Header struct {
	BaseOffset           int64
	Length               int32 // bytes after the length field
	PartitionLeaderEpoch int32
	Magic                int8
	CRC                  uint32
	Attributes           int16
	LastOffsetDelta      int32
	BaseTimestamp        int64
	MaxTimestamp         int64
	ProducerID           int64
	ProducerEpoch        int16
	BaseSequence         int32
	NumRecords           int32
}

// Size is the batch's total size in bytes, header included.
func (h *Header) Size() int { return LengthFieldEnd + int(h.Length) }

// LastOffset is the offset of the batch's last record.
func (h *Header) LastOffset() int64 { return h.BaseOffset + int64(h.LastOffsetDelta) }

// Compression is the codec in the low three attribute bits (0 none, 1 gzip,
// 2 snappy, 3 lz4, 4 zstd).
func (h *Header) Compression() int { return int(h.Attributes & 0x7) }

// IsTransactional and IsControl read attribute bits 4 and 5.
func (h *Header) IsTransactional() bool { return h.Attributes&0x10 != 0 }
func (h *Header) IsControl() bool       { return h.Attributes&0x20 != 0 }

// ParseHeader decodes the header at the start of b and checks what can be
// checked without the body: the length is sane and the magic is 2. It does
// not need the whole batch in b and does not verify the CRC; use it to walk
// a log whose batches were validated when appended.
func ParseHeader(b []byte) (Header, error) {
	var h Header
	if len(b) < HeaderSize {
		return h, fmt.Errorf("%w: %d bytes, need %d for a header", ErrCorrupt, len(b), HeaderSize)
	}
	h.BaseOffset = int64(binary.BigEndian.Uint64(b[offBaseOffset:]))
	h.Length = int32(binary.BigEndian.Uint32(b[offLength:]))
	h.PartitionLeaderEpoch = int32(binary.BigEndian.Uint32(b[offLeaderEpoch:]))
	h.Magic = int8(b[offMagic])
	h.CRC = binary.BigEndian.Uint32(b[offCRC:])
	h.Attributes = int16(binary.BigEndian.Uint16(b[offAttributes:]))
	h.LastOffsetDelta = int32(binary.BigEndian.Uint32(b[offLastOffsetDelta:]))
	h.BaseTimestamp = int64(binary.BigEndian.Uint64(b[offBaseTimestamp:]))
	h.MaxTimestamp = int64(binary.BigEndian.Uint64(b[offMaxTimestamp:]))
	h.ProducerID = int64(binary.BigEndian.Uint64(b[offProducerID:]))
	h.ProducerEpoch = int16(binary.BigEndian.Uint16(b[offProducerEpoch:]))
	h.BaseSequence = int32(binary.BigEndian.Uint32(b[offBaseSequence:]))
	h.NumRecords = int32(binary.BigEndian.Uint32(b[offNumRecords:]))
	if h.Magic != 2 {
		return h, fmt.Errorf("%w: magic %d, only v2 is stored", ErrCorrupt, h.Magic)
	}
	if int(h.Length) < HeaderSize-LengthFieldEnd {
		return h, fmt.Errorf("%w: batch length %d is shorter than a header", ErrCorrupt, h.Length)
	}
	return h, nil
}

// Validate checks that b is exactly one well-formed v2 batch of at most
// maxBytes bytes (0: no limit): length, magic, CRC-32C, a positive record
// count and a lastOffsetDelta that matches it. Nothing in b is changed.
func Validate(b []byte, maxBytes int) (Header, error) {
	h, err := ParseHeader(b)
	if err != nil {
		return h, err
	}
	if h.Size() != len(b) {
		return h, fmt.Errorf("%w: batch length says %d bytes, have %d", ErrCorrupt, h.Size(), len(b))
	}
	if maxBytes > 0 && len(b) > maxBytes {
		return h, fmt.Errorf("%w: %d bytes, max.message.bytes is %d", ErrTooLarge, len(b), maxBytes)
	}
	if got := Checksum(b); got != h.CRC {
		return h, fmt.Errorf("%w: crc is %#08x, header says %#08x", ErrCorrupt, got, h.CRC)
	}
	if h.NumRecords <= 0 {
		return h, fmt.Errorf("%w: record count %d", ErrCorrupt, h.NumRecords)
	}
	if h.LastOffsetDelta != h.NumRecords-1 {
		return h, fmt.Errorf("%w: lastOffsetDelta %d with %d records", ErrCorrupt, h.LastOffsetDelta, h.NumRecords)
	}
	if h.Compression() == 0 && int64(h.NumRecords)*minRecordSize > int64(len(b)-HeaderSize) {
		return h, fmt.Errorf("%w: %d records cannot fit in %d bytes", ErrCorrupt, h.NumRecords, len(b)-HeaderSize)
	}
	return h, nil
}

// Checksum computes the CRC-32C of b[attributes:], the part of a batch the
// header's crc field covers. REQUIRES: len(b) >= HeaderSize.
func Checksum(b []byte) uint32 {
	return crc32.Checksum(b[offAttributes:], castagnoli)
}

// SetBaseOffset and SetPartitionLeaderEpoch patch the broker-owned fields in
// place; neither is covered by the CRC.
func SetBaseOffset(b []byte, offset int64) {
	binary.BigEndian.PutUint64(b[offBaseOffset:], uint64(offset))
}

func SetPartitionLeaderEpoch(b []byte, epoch int32) {
	binary.BigEndian.PutUint32(b[offLeaderEpoch:], uint32(epoch))
}

// SetCRC recomputes and stores the checksum; for builders and tests, never
// needed on the append path.
func SetCRC(b []byte) {
	binary.BigEndian.PutUint32(b[offCRC:], Checksum(b))
}

// FirstRecordAtOrAfter returns the offset delta of the first record in an
// uncompressed batch b whose timestamp is >= ts. ok is false when b is
// compressed (the caller then uses the batch's base offset), malformed, or
// has no such record.
func FirstRecordAtOrAfter(b []byte, ts int64) (delta int32, ok bool) {
	h, err := ParseHeader(b)
	if err != nil || h.Compression() != 0 || h.Size() > len(b) {
		return 0, false
	}
	p := b[HeaderSize:h.Size()]
	for range h.NumRecords {
		length, n := binary.Varint(p)
		if n <= 0 || length < 0 || int64(len(p)-n) < length {
			return 0, false
		}
		rec := p[n : n+int(length)]
		p = p[n+int(length):]
		if len(rec) < 1 {
			return 0, false
		}
		tsDelta, n1 := binary.Varint(rec[1:])
		if n1 <= 0 {
			return 0, false
		}
		offDelta, n2 := binary.Varint(rec[1+n1:])
		if n2 <= 0 {
			return 0, false
		}
		if h.BaseTimestamp+tsDelta >= ts {
			return int32(offDelta), true
		}
	}
	return 0, false
}
