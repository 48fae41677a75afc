package bench

import (
	"context"
	"sync"
	"sync/atomic"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
)

// produceFunc is how a producer hands a record to its client: kgo's
// Client.Produce in a run, a fake in tests. It may block (a full client
// buffer) and calls promise exactly once, maybe on another goroutine.
type produceFunc func(ctx context.Context, r *kgo.Record, promise func(*kgo.Record, error))

// producer sends one client's records. send runs on the pacer (or the
// producer's own goroutine in closed loop); promise on the client's.
type producer struct {
	id       uint32
	topic    string
	clock    clock
	produce  produceFunc
	ctx      context.Context
	shape    *recordShape
	payload  []byte // shared, read only
	log      *sentLog
	lat      *series // produce latency; this producer records at index id
	errs     *samples
	pool     recordPool
	measured time.Duration // due times from here on are measured
	// promiseFn is promise as a func value, made once: a method value
	// made per send would allocate per record.
	promiseFn func(*kgo.Record, error)

	sent, acked, failed atomic.Int64
	// Acknowledged records and value bytes whose due time was in the
	// measured phase: the run's rates.
	ackedMeasured, bytesMeasured atomic.Int64
	sentMeasured                 atomic.Int64
}

// send builds the next record, due at due, and hands it to the client.
func (p *producer) send(due time.Duration) {
	size := p.shape.size()
	key, part := p.shape.next(size)
	seq := p.log.sent[part]
	p.log.sent[part]++
	r := p.pool.get(size)
	r.Topic, r.Partition, r.Key = p.topic, part, key
	putHeader(r.Value, header{producer: p.id, seq: seq, intended: due})
	// Start each record's payload at a different place in the template
	// so that a batch is not one value repeated.
	off := int(seq * 7919 % uint64(len(p.payload)-size+1))
	copy(r.Value[headerBytes:], p.payload[off:])
	p.sent.Add(1)
	if due >= p.measured {
		p.sentMeasured.Add(1)
	}
	if p.promiseFn == nil {
		p.promiseFn = p.promise
	}
	p.produce(p.ctx, r, p.promiseFn)
}

func (p *producer) promise(r *kgo.Record, err error) {
	h, _ := parseHeader(r.Value)
	if err != nil {
		p.failed.Add(1)
		p.log.fail(r.Partition, h.seq)
		p.errs.add("produce %s/%d producer %d seq %d: %v", r.Topic, r.Partition, p.id, h.seq, err)
	} else {
		p.acked.Add(1)
		p.lat.record(int(p.id), h.intended, p.clock.now()-h.intended)
		if h.intended >= p.measured {
			p.ackedMeasured.Add(1)
			p.bytesMeasured.Add(int64(len(r.Value)))
		}
	}
	p.pool.put(r)
}

// recordPool recycles records once the client is done with them (after
// the promise), so that a steady run does not allocate a value per record.
// It keeps at most maxPooledRecords; beyond that, records go to the GC.
type recordPool struct {
	mu   sync.Mutex
	free []*kgo.Record
}

// maxPooledRecords bounds one producer's pool; a client buffers at most
// max_buffered_records anyway.
const maxPooledRecords = 4096

// get returns a record whose Value has length size and no other field set.
func (p *recordPool) get(size int) *kgo.Record {
	p.mu.Lock()
	var r *kgo.Record
	if n := len(p.free); n > 0 {
		r, p.free = p.free[n-1], p.free[:n-1]
	}
	p.mu.Unlock()
	if r == nil || cap(r.Value) < size {
		return &kgo.Record{Value: make([]byte, size)}
	}
	r.Value = r.Value[:size]
	return r
}

func (p *recordPool) put(r *kgo.Record) {
	// The client set Timestamp, Offset, ProducerID and more; a reused
	// record must start blank or it would carry them into its next send.
	*r = kgo.Record{Value: r.Value}
	p.mu.Lock()
	if len(p.free) < maxPooledRecords {
		p.free = append(p.free, r)
	}
	p.mu.Unlock()
}
