package raftlog

import (
	"encoding/binary"
	"errors"

	"github.com/klauspost/crc32"
	"go.etcd.io/raft/v3/raftpb"
)

const (
	kindSnapshot  = 1
	kindStart     = 2
	kindHardState = 3
	kindEntry     = 4

	headerLen = 8
	// maxRecordBytes bounds one record: a snapshot of a very large
	// cluster's metadata is tens of MB, and an entry is one command.
	maxRecordBytes = 256 << 20
)

var (
	be         = binary.BigEndian
	castagnoli = crc32.MakeTable(crc32.Castagnoli)
)

func appendRecord(b []byte, kind byte, payload []byte) []byte {
	start := len(b)
	b = be.AppendUint32(b, uint32(1+len(payload)))
	b = be.AppendUint32(b, 0)
	b = append(b, kind)
	b = append(b, payload...)
	be.PutUint32(b[start+4:], crc32.Checksum(b[start+headerLen:], castagnoli))
	return b
}

func appendHardStateRecord(b []byte, hs hardState) []byte {
	var p [24]byte
	be.PutUint64(p[:], hs.term)
	be.PutUint64(p[8:], hs.vote)
	be.PutUint64(p[16:], hs.commit)
	return appendRecord(b, kindHardState, p[:])
}

// appendEntryRecord writes the entry's fields straight into the record
// rather than through protobuf: entries are the common record and the
// layout is fixed.
func appendEntryRecord(b []byte, e *raftpb.Entry) []byte {
	start := len(b)
	b = be.AppendUint32(b, uint32(1+17+len(e.GetData())))
	b = be.AppendUint32(b, 0)
	b = append(b, kindEntry)
	b = be.AppendUint64(b, e.GetTerm())
	b = be.AppendUint64(b, e.GetIndex())
	b = append(b, byte(e.GetType()))
	b = append(b, e.GetData()...)
	be.PutUint32(b[start+4:], crc32.Checksum(b[start+headerLen:], castagnoli))
	return b
}

func decodeEntry(p []byte) (*raftpb.Entry, error) {
	if len(p) < 17 {
		return nil, errors.New("short entry record")
	}
	typ := raftpb.EntryType(p[16])
	if _, ok := raftpb.EntryType_name[int32(typ)]; !ok {
		return nil, errors.New("unknown entry type")
	}
	e := &raftpb.Entry{Term: new(be.Uint64(p)), Index: new(be.Uint64(p[8:])), Type: typ.Enum()}
	if len(p) > 17 {
		e.Data = append([]byte(nil), p[17:]...)
	}
	return e, nil
}

// readRecord reads the record at the start of b; ok is false when there is
// none whole and intact there (a torn or damaged tail).
func readRecord(b []byte) (kind byte, payload []byte, n int, ok bool) {
	if len(b) < headerLen+1 {
		return 0, nil, 0, false
	}
	length := be.Uint32(b)
	if length == 0 || length > maxRecordBytes || uint64(length) > uint64(len(b)-headerLen) {
		return 0, nil, 0, false
	}
	body := b[headerLen : headerLen+int(length)]
	if crc32.Checksum(body, castagnoli) != be.Uint32(b[4:]) {
		return 0, nil, 0, false
	}
	return body[0], body[1:], headerLen + int(length), true
}
