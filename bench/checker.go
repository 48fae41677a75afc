package bench

import (
	"fmt"
	"slices"
	"sync"
)

// The exactly-once checker: for each partition, every producer's records
// must arrive as its sequence 0, 1, 2, ... with none missing, none twice
// and none out of order. The consumer of a partition feeds what it reads
// to the partition's check (one owner, no locks); at the end each stream
// is compared with what its producer sent and had acknowledged.

// seqRange is the sequences [from, to).
type seqRange struct{ from, to uint64 }

func (r seqRange) String() string {
	if r.to == r.from+1 {
		return fmt.Sprint(r.from)
	}
	return fmt.Sprintf("%d-%d", r.from, r.to-1)
}

// maxGapsPerStream bounds the holes one stream remembers. Past it the
// stream stops telling late records from duplicates: by then records are
// being lost wholesale and that is reported anyway.
const maxGapsPerStream = 64

type seqOutcome uint8

const (
	seqInOrder seqOutcome = iota
	seqGap                // skipped ahead: the records in between are missing so far
	seqLate               // filled a hole: arrived out of order
	seqDuplicate
)

// stream is what a partition's consumer saw of one producer.
type stream struct {
	next        uint64     // one past the highest sequence seen
	gaps        []seqRange // holes below next, in order
	gapOverflow bool
	overflowed  uint64 // records in holes forgotten after overflow
	duplicates  int64
	late        int64
}

func (s *stream) observe(seq uint64) seqOutcome {
	switch {
	case seq == s.next:
		s.next++
		return seqInOrder
	case seq > s.next:
		if len(s.gaps) < maxGapsPerStream {
			s.gaps = append(s.gaps, seqRange{s.next, seq})
		} else {
			s.gapOverflow = true
			s.overflowed += seq - s.next
		}
		s.next = seq + 1
		return seqGap
	}
	i, found := slices.BinarySearchFunc(s.gaps, seq, func(r seqRange, seq uint64) int {
		switch {
		case r.to <= seq:
			return -1
		case r.from > seq:
			return 1
		}
		return 0
	})
	if !found {
		s.duplicates++
		return seqDuplicate
	}
	g := s.gaps[i]
	switch {
	case g.from == seq && g.to == seq+1:
		s.gaps = slices.Delete(s.gaps, i, i+1)
	case g.from == seq:
		s.gaps[i].from++
	case g.to == seq+1:
		s.gaps[i].to--
	case len(s.gaps) < maxGapsPerStream:
		s.gaps = slices.Insert(s.gaps, i+1, seqRange{seq + 1, g.to})
		s.gaps[i].to = seq
	default:
		// No room to split the hole: forget its upper part.
		s.gapOverflow = true
		s.overflowed += g.to - seq - 1
		s.gaps[i].to = seq
	}
	s.late++
	return seqLate
}

// missing returns the sequences below sent that the stream never saw,
// leaving out those in failed (sorted): a send the client reported as
// failed may or may not have been written, so its absence is no error.
func (s *stream) missing(sent uint64, failed []uint64) (n uint64, ranges []seqRange) {
	holes := s.gaps
	if s.next < sent {
		holes = append(slices.Clip(holes), seqRange{s.next, sent})
	}
	for _, h := range holes {
		h.to = min(h.to, sent)
		if h.from >= h.to {
			continue
		}
		lo, _ := slices.BinarySearch(failed, h.from)
		hi, _ := slices.BinarySearch(failed, h.to)
		if k := uint64(h.to-h.from) - uint64(hi-lo); k > 0 {
			n += k
			ranges = append(ranges, h)
		}
	}
	return n + s.overflowed, ranges
}

// partitionCheck is the checker of one partition. Runs on the goroutine of
// the partition's consumer until the consumers stop.
type partitionCheck struct {
	topic     string
	partition int32
	streams   []stream // by producer id
	corrupt   int64    // values without our header, or from no producer of this run
}

func newPartitionCheck(topic string, partition int32, producers int) *partitionCheck {
	return &partitionCheck{topic: topic, partition: partition, streams: make([]stream, producers)}
}

func (c *partitionCheck) observe(h header, ok bool) seqOutcome {
	if !ok || int(h.producer) >= len(c.streams) {
		c.corrupt++
		return seqDuplicate // counted as an error either way
	}
	return c.streams[h.producer].observe(h.seq)
}

// sentLog is what one producer sent to each partition of its topic: how
// many sequences it handed out and which of them the client failed. Runs
// under its owner's lock: failures come from the client's callbacks.
type sentLog struct {
	mu       sync.Mutex
	sent     []uint64   // by partition of the topic; written by the sender
	failed   [][]uint64 // by partition; at most maxFailedTracked in all
	nFailed  int
	overflow bool // more failures than tracked: misses cannot be excused
}

// maxFailedTracked bounds the failed sequences one producer remembers.
const maxFailedTracked = 100_000

func newSentLog(partitions int) *sentLog {
	return &sentLog{sent: make([]uint64, partitions), failed: make([][]uint64, partitions)}
}

func (l *sentLog) fail(partition int32, seq uint64) {
	l.mu.Lock()
	if l.nFailed < maxFailedTracked {
		l.failed[partition] = append(l.failed[partition], seq)
		l.nFailed++
	} else {
		l.overflow = true
	}
	l.mu.Unlock()
}

// delivery is the checker's verdict over a run.
type delivery struct {
	Lost       int64    `json:"lost"`
	Duplicated int64    `json:"duplicated"`
	OutOfOrder int64    `json:"out_of_order"`
	Corrupt    int64    `json:"corrupt"`
	Unverified int64    `json:"unverified"` // not read before an interrupted run stopped
	Notes      []string `json:"notes,omitempty"`
}

func (d delivery) errors() int64 { return d.Lost + d.Duplicated + d.OutOfOrder + d.Corrupt }

// maxSamples bounds the error examples a run keeps.
const maxSamples = 20

// samples keeps the first few error messages of a run.
type samples struct {
	mu    sync.Mutex
	list  []string
	total int64
}

func (s *samples) add(format string, args ...any) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.total++
	if len(s.list) < maxSamples {
		s.list = append(s.list, fmt.Sprintf(format, args...))
	}
}

// verify compares what the consumers of checks saw with what the producers
// logged. checks[t][p] is partition p of topic t; logs[i] and topicOf[i]
// are producer i's log and topic. complete says the consumers read
// everything there was to read; if not, unread tails are unverified
// rather than lost.
func verify(checks [][]*partitionCheck, logs []*sentLog, topicOf []int, complete bool, errs *samples) delivery {
	var d delivery
	for i, l := range logs {
		l.mu.Lock()
		if l.overflow {
			d.Notes = append(d.Notes, fmt.Sprintf("producer %d: more than %d failed sends; the missing count includes them", i, maxFailedTracked))
		}
		for p, c := range checks[topicOf[i]] {
			if c == nil {
				continue
			}
			s := &c.streams[i]
			failed := slices.Clone(l.failed[p])
			slices.Sort(failed)
			sent := l.sent[p]
			if !complete {
				// What was never read is unverified; only holes below
				// the highest sequence read are known losses.
				d.Unverified += int64(sent - min(sent, s.next))
				sent = min(sent, s.next)
			}
			n, ranges := s.missing(sent, failed)
			if n > 0 {
				d.Lost += int64(n)
				errs.add("%s/%d: producer %d: %d record(s) lost, sequences %v", c.topic, c.partition, i, n, ranges)
			}
			if s.gapOverflow {
				d.Notes = append(d.Notes, fmt.Sprintf("%s/%d producer %d: too many holes to tell late records from duplicates", c.topic, c.partition, i))
			}
			d.Duplicated += s.duplicates
			d.OutOfOrder += s.late
		}
		l.mu.Unlock()
	}
	for _, ts := range checks {
		for _, c := range ts {
			if c != nil {
				d.Corrupt += c.corrupt
			}
		}
	}
	return d
}
