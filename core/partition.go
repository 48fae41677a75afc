package core

import (
	"time"

	"sluice/disk/batch"
)

// onProgress runs on the log's writer goroutine after each write round: it
// wakes the owning loop once, however many rounds pass before the loop
// runs.
func (p *partition) onProgress() {
	if p.progressPosted.CompareAndSwap(false, true) {
		p.loop.Post(p.progress)
	}
}

// progress releases produce requests waiting for fdatasync. Runs on the
// owning shard.
func (p *partition) progress() {
	p.progressPosted.Store(false)
	err := p.log.Err()
	durable := p.log.DurableOffset()
	kept := p.durableWaiters[:0]
	for _, w := range p.durableWaiters {
		switch {
		case err != nil:
			w.done(err)
		case w.offset <= durable:
			w.done(nil)
		default:
			kept = append(kept, w)
		}
	}
	clear(p.durableWaiters[len(kept):])
	p.durableWaiters = kept
}

// produce appends one batch and calls done with its base offset once the
// ack level is met: at once for acks=1/all when the topic does not ask for
// fdatasync before acknowledging (flush.messages=1), after it otherwise.
// A batch of an idempotent producer is checked against the producer's
// state first: a retry of a batch already in the log is answered with its
// original offset and not written again. records is copied by the log.
// Runs on the owning shard.
func (p *partition) produce(records []byte, acks int16, done func(base int64, err error)) {
	h, err := batch.ParseHeader(records)
	if err != nil {
		done(-1, err)
		return
	}
	idempotent := h.ProducerID >= 0
	if idempotent {
		dup, isDup, err := p.producers.check(&h)
		if err != nil {
			done(-1, err)
			return
		}
		if isDup {
			p.ack(acks, dup.BaseOffset, dup.LastOffset, done)
			return
		}
	}
	res, err := p.log.Append(records, leaderEpoch, p.syncAcks && acks != 0)
	if err != nil {
		done(-1, err)
		return
	}
	if idempotent {
		p.producers.update(&h, res.BaseOffset, res.LastOffset)
	}
	p.wakeFetchers()
	p.ack(acks, res.BaseOffset, res.LastOffset, done)
}

// ack calls done for the batch at [base, last] once acks is satisfied.
func (p *partition) ack(acks int16, base, last int64, done func(base int64, err error)) {
	if !p.syncAcks || acks == 0 || last < p.log.DurableOffset() {
		done(base, nil)
		return
	}
	p.durableWaiters = append(p.durableWaiters, durableWaiter{offset: last + 1, done: func(err error) {
		done(base, err)
	}})
}

// wakeFetchers tells every long-polling fetch on this partition that data
// arrived; each re-reads once. Runs on the owning shard.
func (p *partition) wakeFetchers() {
	if len(p.fetchWaiters) == 0 {
		return
	}
	ws := p.fetchWaiters
	p.fetchWaiters = nil
	for _, f := range ws {
		if !f.done.Load() {
			home := f.r.c.Loop()
			home.Post(f.wake)
		}
	}
}

// highWatermark is the offset consumers may read up to. On a single node
// the leader is the whole ISR, so it is the log end. Runs on the owning
// shard.
func (p *partition) highWatermark() int64 { return p.log.LogEndOffset() }

// housekeeping runs every few minutes on the owning shard: retention,
// producer expiry, and a producer-state snapshot so that a restart after a
// crash replays only the last few minutes of the log.
func (p *partition) housekeeping() {
	p.log.EnforceRetention()
	p.producers.expire(time.Now().UnixMilli(), p.log.LogStartOffset())
	snap := p.producers.snapshot(p.log.LogEndOffset())
	go p.saveProducerState(snap)
}

// saveProducerState writes a snapshot; failing to costs only a longer
// replay on the next start.
func (p *partition) saveProducerState(snap producerSnapshot) {
	p.snapshotMu.Lock()
	defer p.snapshotMu.Unlock()
	if p.removed {
		return
	}
	if err := writeProducerSnapshot(p.b.cfg.FS, p.dir, snap); err != nil {
		p.b.log.Warn("writing producer state snapshot", "dir", p.dir, "err", err)
	}
}
