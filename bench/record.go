package bench

import (
	"encoding/binary"
	"fmt"
	"math/rand/v2"
	"time"
)

// The record value header; doc.go draws it.
const (
	headerBytes = 24
	headerMagic = 0x534c4231 // "SLB1"
)

type header struct {
	producer uint32
	seq      uint64
	intended time.Duration // since the run's epoch
}

// putHeader writes h into the first headerBytes of b.
// REQUIRES: len(b) >= headerBytes.
func putHeader(b []byte, h header) {
	binary.BigEndian.PutUint32(b[0:], headerMagic)
	binary.BigEndian.PutUint32(b[4:], h.producer)
	binary.BigEndian.PutUint64(b[8:], h.seq)
	binary.BigEndian.PutUint64(b[16:], uint64(h.intended))
}

// parseHeader reads the header of a value a producer of this package wrote;
// ok is false for anything else.
func parseHeader(b []byte) (h header, ok bool) {
	if len(b) < headerBytes || binary.BigEndian.Uint32(b) != headerMagic {
		return h, false
	}
	return header{
		producer: binary.BigEndian.Uint32(b[4:]),
		seq:      binary.BigEndian.Uint64(b[8:]),
		intended: time.Duration(binary.BigEndian.Uint64(b[16:])),
	}, true
}

// murmur2 is Kafka's default partitioner hash (Utils.murmur2), so keyed
// records land on the partitions a Java or franz-go client would pick and
// key skew hits partitions as it would in production.
func murmur2(data []byte) uint32 {
	const (
		seed uint32 = 0x9747b28c
		m    uint32 = 0x5bd1e995
		r           = 24
	)
	h := seed ^ uint32(len(data))
	for len(data) >= 4 {
		k := binary.LittleEndian.Uint32(data)
		k *= m
		k ^= k >> r
		k *= m
		h *= m
		h ^= k
		data = data[4:]
	}
	switch len(data) {
	case 3:
		h ^= uint32(data[2]) << 16
		fallthrough
	case 2:
		h ^= uint32(data[1]) << 8
		fallthrough
	case 1:
		h ^= uint32(data[0])
		h *= m
	}
	h ^= h >> 13
	h *= m
	h ^= h >> 15
	return h
}

// keyPartition is Kafka's default: the positive murmur2 of the key modulo
// the partition count.
func keyPartition(key []byte, partitions int32) int32 {
	return int32((murmur2(key) & 0x7fffffff) % uint32(partitions))
}

// stickyBytes is how much an unkeyed producer sends to one partition
// before moving to the next, as Kafka's uniform sticky partitioner
// (KIP-794) does at its default batch.size of 16 KiB: batches fill as they
// would with a real client instead of one record per partition.
const stickyBytes = 16 << 10

// recordShape picks the size, key and partition of each record of one
// producer. Owned by the goroutine that sends.
type recordShape struct {
	w          *Workload
	partitions int32
	rng        *rand.Rand
	zipf       *rand.Zipf
	keys       [][]byte // shared, read only
	sticky     int32
	stickyLeft int
}

func newRecordShape(w *Workload, producer int, keys [][]byte) *recordShape {
	rng := rand.New(rand.NewPCG(w.Seed, uint64(producer)))
	s := &recordShape{w: w, partitions: int32(w.PartitionsPerTopic), rng: rng, keys: keys}
	s.sticky = int32(rng.IntN(w.PartitionsPerTopic))
	s.stickyLeft = stickyBytes
	if w.KeyDistribution == "zipf" && len(keys) > 1 {
		// s = 1.1 is a common choice for "a few hot keys"; v = 1.
		s.zipf = rand.NewZipf(rng, 1.1, 1, uint64(len(keys)-1))
	}
	return s
}

// size returns the next value size.
func (s *recordShape) size() int {
	w := s.w
	switch w.SizeDistribution {
	case "uniform":
		hi := w.maxValueBytes()
		lo := max(2*w.MessageSize-hi, headerBytes)
		return lo + s.rng.IntN(hi-lo+1)
	case "exponential":
		n := int(s.rng.ExpFloat64() * float64(w.MessageSize))
		return min(max(n, headerBytes), w.maxValueBytes())
	}
	return w.MessageSize
}

// next returns the key (nil for unkeyed records) and partition of a record
// of size bytes.
func (s *recordShape) next(size int) ([]byte, int32) {
	switch s.w.KeyDistribution {
	case "uniform":
		k := s.keys[s.rng.IntN(len(s.keys))]
		return k, keyPartition(k, s.partitions)
	case "zipf":
		i := 0
		if s.zipf != nil {
			i = int(s.zipf.Uint64())
		}
		k := s.keys[i]
		return k, keyPartition(k, s.partitions)
	}
	if s.stickyLeft <= 0 {
		s.sticky = (s.sticky + 1) % s.partitions
		s.stickyLeft = stickyBytes
	}
	s.stickyLeft -= size
	return nil, s.sticky
}

// makeKeys returns the workload's keys, or nil for unkeyed records.
func makeKeys(w *Workload) [][]byte {
	if w.KeyDistribution == "none" {
		return nil
	}
	keys := make([][]byte, w.KeyCount)
	for i := range keys {
		keys[i] = fmt.Appendf(nil, "key-%08d", i)
	}
	return keys
}

// textWords make "text" payloads: a small vocabulary in random order
// compresses about as well as log lines or JSON do (roughly 3x).
var textWords = []string{"the", "broker", "record", "offset", "partition", "latency", "request",
	"producer", "consumer", "segment", "batch", "value", "timestamp", "error", "retry", "topic",
	"leader", "replica", "commit", "fetch", "user", "order", "id", "status", "ok", "payment", "42",
	"2026-11-21T10:00:00Z", "GET", "/api/v1/items", "200", "{", "}", "\"name\":", "\"count\":"}

// makePayload returns the bytes record values are filled from: twice the
// largest value, so that each record can start at a different offset and
// records of one batch do not repeat each other verbatim.
func makePayload(w *Workload) []byte {
	n := 2 * w.maxValueBytes()
	rng := rand.New(rand.NewPCG(w.Seed, 0x9e3779b97f4a7c15))
	b := make([]byte, 0, n+32)
	if w.Payload == "text" {
		for len(b) < n {
			b = append(b, textWords[rng.IntN(len(textWords))]...)
			b = append(b, ' ')
		}
		return b[:n]
	}
	for len(b) < n {
		b = binary.LittleEndian.AppendUint64(b, rng.Uint64())
	}
	return b[:n]
}
