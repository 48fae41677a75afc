package bench

import (
	"context"
	"sync/atomic"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
)

// partitionState is one partition as its consumer reads it.
type partitionState struct {
	check *partitionCheck // touched only by the consumer's goroutine
	next  atomic.Int64    // offset after the last record read, for draining and trimming
}

// consumer reads a fixed set of partitions (assigned directly, no group)
// and checks and times every record. run is its only goroutine.
type consumer struct {
	id       int
	cl       *kgo.Client
	clock    clock
	parts    map[string][]*partitionState // by topic, then partition; nil where not ours
	e2e      *series
	errs     *samples
	measured time.Duration

	read, readMeasured, bytesMeasured atomic.Int64
	fetchErrors                       atomic.Int64
	// Seen so far, for the progress line; the checker's verdict at the
	// end is what counts.
	problems, gaps atomic.Int64
}

// maxPollRecords bounds what one poll hands back, so that the receipt
// time taken per poll is close to each record's.
const maxPollRecords = 4096

func (c *consumer) run(ctx context.Context) {
	for ctx.Err() == nil {
		fs := c.cl.PollRecords(ctx, maxPollRecords)
		if fs.IsClientClosed() {
			return
		}
		now := c.clock.now()
		fs.EachError(func(t string, p int32, err error) {
			if ctx.Err() != nil {
				return // our own cancellation, not the broker's error
			}
			c.fetchErrors.Add(1)
			c.errs.add("fetch %s/%d: %v", t, p, err)
		})
		fs.EachRecord(func(r *kgo.Record) { c.observe(r, now) })
	}
}

func (c *consumer) observe(r *kgo.Record, now time.Duration) {
	ps := c.parts[r.Topic]
	if int(r.Partition) >= len(ps) || ps[r.Partition] == nil {
		c.problems.Add(1)
		c.errs.add("read %s/%d offset %d: not a partition this consumer was assigned", r.Topic, r.Partition, r.Offset)
		return
	}
	p := ps[r.Partition]
	h, ok := parseHeader(r.Value)
	switch p.check.observe(h, ok) {
	case seqGap:
		c.gaps.Add(1)
	case seqLate:
		c.problems.Add(1)
		c.errs.add("%s/%d offset %d: producer %d sequence %d out of order", r.Topic, r.Partition, r.Offset, h.producer, h.seq)
	case seqDuplicate:
		c.problems.Add(1)
		if ok && int(h.producer) < len(p.check.streams) {
			c.errs.add("%s/%d offset %d: producer %d sequence %d read twice", r.Topic, r.Partition, r.Offset, h.producer, h.seq)
		} else {
			c.errs.add("%s/%d offset %d: not a record of this run (%d value bytes)", r.Topic, r.Partition, r.Offset, len(r.Value))
		}
	}
	p.next.Store(r.Offset + 1)
	c.read.Add(1)
	if ok {
		c.e2e.record(c.id, h.intended, now-h.intended)
		if h.intended >= c.measured {
			c.readMeasured.Add(1)
			c.bytesMeasured.Add(int64(len(r.Value)))
		}
	}
}
