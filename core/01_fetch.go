package core

// Fetch, versions 4-18 (v13+ name topics by ID; an unknown ID is
// UNKNOWN_TOPIC_ID). The replica fields of v15+ and the tagged fields of
// v16-18 concern followers, which a single node does not have.
//
// Reads whole batches up to each partition's PartitionMaxBytes and the
// request's MaxBytes (the first batch is returned whatever its size, as
// Kafka does), up to the high watermark. When fewer than MinBytes are
// available the request waits up to MaxWaitMillis and is woken by appends,
// not by polling. Fetch sessions (KIP-227) are declined by answering with
// session id 0, which clients handle by sending full fetches. read_committed
// reads up to the same offset as read_uncommitted until transactions exist.
// CurrentLeaderEpoch (v9+) is checked as in Kafka: see checkLeaderEpoch.

import (
	"sync/atomic"
	"time"

	"github.com/twmb/franz-go/pkg/kmsg"
)

type fetchState struct {
	r       *request
	req     *kmsg.FetchRequest
	parts   []fetchPart
	done    atomic.Bool // set on the home loop; read by owners pruning waiters
	timer   *time.Timer
	running bool // a round of reads is out (home loop)
	again   bool // woken during a round: read once more after it (home loop)
	expired bool // MaxWait passed (home loop)
}

type fetchPart struct {
	topic, index int
	p            *partition
	data         []byte
	hw, start    int64
	err          int16
}

func handleFetch(r *request, kreq kmsg.Request) {
	req := kreq.(*kmsg.FetchRequest)
	f := &fetchState{r: r, req: req}
	for i, t := range req.Topics {
		var tp *topic
		missing := errUnknownTopicOrPartition
		if req.Version >= 13 {
			tp, missing = r.b.topicByID(t.TopicID), errUnknownTopicID
		} else {
			tp = r.b.topic(t.Topic)
		}
		for j, p := range t.Partitions {
			fp := fetchPart{topic: i, index: j, p: tp.partition(p.Partition)}
			if fp.p == nil {
				fp.err = missing
			}
			if fp.p != nil && req.Version >= 9 {
				if code := checkLeaderEpoch(p.CurrentLeaderEpoch); code != 0 {
					fp.p, fp.err = nil, code
				}
			}
			f.parts = append(f.parts, fp)
		}
	}
	// A broker shutting down answers at once: a long poll would hold the
	// drain for up to MaxWaitMillis.
	if req.MaxWaitMillis > 0 && req.MinBytes > 0 && !r.b.draining.Load() {
		home := r.c.Loop()
		f.timer = time.AfterFunc(time.Duration(req.MaxWaitMillis)*time.Millisecond, func() {
			home.Post(func() { f.expired = true; f.wake() })
		})
	}
	r.b.parkedOn(r.c.Loop()).add(f)
	f.round()
}

// parkedFetches are the long polls whose connection is on one loop, so a
// shutdown can answer them at once instead of waiting out MaxWaitMillis.
// Runs on that loop.
type parkedFetches map[*fetchState]struct{}

func (p parkedFetches) add(f *fetchState) { p[f] = struct{}{} }

// expireAll answers every long poll now. Runs on the loop.
func (p parkedFetches) expireAll() {
	for f := range p {
		f.expired = true
		f.wake()
	}
}

// wake starts another round of reads. Runs on the home loop.
func (f *fetchState) wake() {
	if f.done.Load() {
		return
	}
	if f.running {
		f.again = true
		return
	}
	f.round()
}

// round reads every partition on its owning loop and, when all are back,
// answers if there is enough data or waiting is over. An owner that finds
// too little registers the fetch for a wake-up in the same turn as its
// read, so no append can slip between the read and the registration.
func (f *fetchState) round() {
	f.running = true
	home := f.r.c.Loop()
	mayWait := f.timer != nil && !f.expired
	pending := 1
	finish := func() {
		if pending--; pending > 0 {
			return
		}
		f.running = false
		f.complete()
	}
	for i := range f.parts {
		fp := &f.parts[i]
		if fp.p == nil {
			continue
		}
		rp := &f.req.Topics[fp.topic].Partitions[fp.index]
		offset, maxBytes := rp.FetchOffset, int(rp.PartitionMaxBytes)
		pending++
		fp.p.loop.Post(func() {
			data, hw, start, code := fp.p.read(offset, maxBytes)
			if mayWait && len(data) == 0 && code == 0 {
				fp.p.addFetchWaiter(f)
			}
			home.Post(func() {
				fp.data, fp.hw, fp.start, fp.err = data, hw, start, code
				finish()
			})
		})
	}
	finish()
}

// complete answers when enough bytes arrived, waiting is over or an error
// needs reporting; otherwise waits for a wake-up. Runs on the home loop.
func (f *fetchState) complete() {
	if f.again {
		f.again = false
		f.round()
		return
	}
	total, failed := 0, false
	for _, fp := range f.parts {
		total += len(fp.data)
		failed = failed || fp.err != 0
	}
	if f.timer != nil && !f.expired && !failed && total < int(f.req.MinBytes) {
		return
	}
	if !f.done.CompareAndSwap(false, true) {
		return
	}
	if f.timer != nil {
		f.timer.Stop()
	}
	delete(f.r.b.parkedOn(f.r.c.Loop()), f)
	resp := f.req.ResponseKind().(*kmsg.FetchResponse)
	resp.Topics = make([]kmsg.FetchResponseTopic, len(f.req.Topics))
	for i, t := range f.req.Topics {
		resp.Topics[i] = kmsg.NewFetchResponseTopic()
		resp.Topics[i].Topic, resp.Topics[i].TopicID = t.Topic, t.TopicID
		resp.Topics[i].Partitions = make([]kmsg.FetchResponseTopicPartition, len(t.Partitions))
	}
	budget := int(f.req.MaxBytes)
	if budget <= 0 {
		budget = 1 << 30
	}
	for _, fp := range f.parts {
		rp := kmsg.NewFetchResponseTopicPartition()
		rp.Partition = f.req.Topics[fp.topic].Partitions[fp.index].Partition
		rp.ErrorCode = fp.err
		// Empty, not null: librdkafka rejects a null record set (size -1).
		rp.RecordBatches = []byte{}
		rp.HighWatermark, rp.LastStableOffset, rp.LogStartOffset = fp.hw, fp.hw, fp.start
		if fp.p == nil {
			rp.HighWatermark, rp.LastStableOffset, rp.LogStartOffset = -1, -1, -1
		}
		// The request's MaxBytes caps the sum, but the first batch goes out
		// whatever its size so a consumer can always make progress.
		if len(fp.data) > 0 && (len(fp.data) <= budget || budget == int(f.req.MaxBytes)) {
			rp.RecordBatches = fp.data
			budget -= len(fp.data)
			f.r.b.shardStats(f.r.c.Loop()).fetchBytes.Add(uint64(len(fp.data)))
		}
		resp.Topics[fp.topic].Partitions[fp.index] = rp
	}
	f.r.respond(resp)
}

// read serves one partition of a fetch. Runs on the owning shard.
func (p *partition) read(offset int64, maxBytes int) (data []byte, hw, start int64, code int16) {
	hw, start = p.highWatermark(), p.log.LogStartOffset()
	if offset < start || offset > hw {
		return nil, hw, start, errOffsetOutOfRange
	}
	if offset == hw {
		return nil, hw, start, 0
	}
	data, _, err := p.log.Read(nil, offset, max(maxBytes, 1), hw)
	return data, hw, start, errorCode(err)
}

// addFetchWaiter registers f to be woken by the next append, dropping
// waiters of fetches already answered. Runs on the owning shard.
func (p *partition) addFetchWaiter(f *fetchState) {
	kept := p.fetchWaiters[:0]
	for _, w := range p.fetchWaiters {
		if !w.done.Load() {
			kept = append(kept, w)
		}
	}
	clear(p.fetchWaiters[len(kept):])
	p.fetchWaiters = append(kept, f)
}
