package disk

import (
	"encoding/binary"
	"errors"
	"fmt"
	"sort"

	"github.com/klauspost/crc32"
)

// index is a segment's sparse offset index and time index, kept in memory
// for every segment and persisted when a segment is closed.
type index struct {
	offsets []offsetEntry
	times   []timeEntry
}

// offsetEntry maps the base offset of a batch (relative to the segment's
// base) to its byte position.
type offsetEntry struct {
	rel uint32
	pos uint32
}

// timeEntry records that the largest timestamp of the segment up to and
// including the batch at rel was ts; entries only grow.
type timeEntry struct {
	ts  int64
	rel uint32
}

// lookupOffset returns the entry of the last indexed batch whose base offset
// is <= rel, or the segment start.
func (x *index) lookupOffset(rel uint32) offsetEntry {
	i := sort.Search(len(x.offsets), func(i int) bool { return x.offsets[i].rel > rel })
	if i == 0 {
		return offsetEntry{}
	}
	return x.offsets[i-1]
}

// lookupTime returns the relative offset to start scanning from for the
// first batch with a timestamp >= ts: the last entry whose running maximum is
// below ts (every batch up to it is older than ts), or the segment start.
func (x *index) lookupTime(ts int64) uint32 {
	i := sort.Search(len(x.times), func(i int) bool { return x.times[i].ts >= ts })
	if i == 0 {
		return 0
	}
	return x.times[i-1].rel
}

// truncate drops entries for batches at or after position pos.
func (x *index) truncate(pos int64, rel uint32) {
	i := sort.Search(len(x.offsets), func(i int) bool { return int64(x.offsets[i].pos) >= pos })
	x.offsets = x.offsets[:i]
	j := sort.Search(len(x.times), func(j int) bool { return x.times[j].rel >= rel })
	x.times = x.times[:j]
}

// The index file of a closed segment, big-endian:
//
//	+-------+-------+------+------+------+-------+--------+--------+------------+----------+-------+
//	| magic | vers  | base | next | size | maxTs | nOffs  | nTimes | offsets    | times    | crc32c|
//	| "SLIX"| u32=1 | i64  | i64  | i64  | i64   | u32    | u32    | nOffs*8 B  | nTimes*12| u32   |
//	+-------+-------+------+------+------+-------+--------+--------+------------+----------+-------+
//
// It is written once, after the segment's data is synced and truncated to
// size, through a temporary file and a rename; size must equal the data
// file's size or the index is ignored and rebuilt by scanning.
const (
	indexMagic      = "SLIX"
	indexVersion    = 1
	indexHeaderSize = 4 + 4 + 8*4 + 4 + 4
)

var errBadIndex = errors.New("invalid segment index")

type indexFile struct {
	base, next, size, maxTs int64
	x                       index
}

func (f *indexFile) marshal() []byte {
	b := make([]byte, 0, indexHeaderSize+len(f.x.offsets)*8+len(f.x.times)*12+4)
	b = append(b, indexMagic...)
	b = binary.BigEndian.AppendUint32(b, indexVersion)
	for _, v := range []int64{f.base, f.next, f.size, f.maxTs} {
		b = binary.BigEndian.AppendUint64(b, uint64(v))
	}
	b = binary.BigEndian.AppendUint32(b, uint32(len(f.x.offsets)))
	b = binary.BigEndian.AppendUint32(b, uint32(len(f.x.times)))
	for _, e := range f.x.offsets {
		b = binary.BigEndian.AppendUint32(b, e.rel)
		b = binary.BigEndian.AppendUint32(b, e.pos)
	}
	for _, e := range f.x.times {
		b = binary.BigEndian.AppendUint64(b, uint64(e.ts))
		b = binary.BigEndian.AppendUint32(b, e.rel)
	}
	return binary.BigEndian.AppendUint32(b, crc32.Checksum(b, castagnoli))
}

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

func unmarshalIndex(b []byte) (*indexFile, error) {
	if len(b) < indexHeaderSize+4 || string(b[:4]) != indexMagic {
		return nil, fmt.Errorf("%w: bad header", errBadIndex)
	}
	body, sum := b[:len(b)-4], binary.BigEndian.Uint32(b[len(b)-4:])
	if crc32.Checksum(body, castagnoli) != sum {
		return nil, fmt.Errorf("%w: checksum mismatch", errBadIndex)
	}
	if v := binary.BigEndian.Uint32(b[4:]); v != indexVersion {
		return nil, fmt.Errorf("%w: version %d", errBadIndex, v)
	}
	f := &indexFile{}
	f.base = int64(binary.BigEndian.Uint64(b[8:]))
	f.next = int64(binary.BigEndian.Uint64(b[16:]))
	f.size = int64(binary.BigEndian.Uint64(b[24:]))
	f.maxTs = int64(binary.BigEndian.Uint64(b[32:]))
	nOffs := int(binary.BigEndian.Uint32(b[40:]))
	nTimes := int(binary.BigEndian.Uint32(b[44:]))
	if int64(len(body)) != int64(indexHeaderSize)+int64(nOffs)*8+int64(nTimes)*12 {
		return nil, fmt.Errorf("%w: %d offset and %d time entries do not fit %d bytes", errBadIndex, nOffs, nTimes, len(b))
	}
	p := body[indexHeaderSize:]
	f.x.offsets = make([]offsetEntry, nOffs)
	for i := range f.x.offsets {
		f.x.offsets[i] = offsetEntry{rel: binary.BigEndian.Uint32(p), pos: binary.BigEndian.Uint32(p[4:])}
		p = p[8:]
	}
	f.x.times = make([]timeEntry, nTimes)
	for i := range f.x.times {
		f.x.times[i] = timeEntry{ts: int64(binary.BigEndian.Uint64(p)), rel: binary.BigEndian.Uint32(p[8:])}
		p = p[12:]
	}
	if f.next < f.base || f.size < 0 {
		return nil, fmt.Errorf("%w: offsets %d..%d, size %d", errBadIndex, f.base, f.next, f.size)
	}
	for i, e := range f.x.offsets {
		if int64(e.pos) >= f.size || (i > 0 && (e.rel <= f.x.offsets[i-1].rel || e.pos <= f.x.offsets[i-1].pos)) {
			return nil, fmt.Errorf("%w: offset entry %d out of order or past the end", errBadIndex, i)
		}
	}
	return f, nil
}
