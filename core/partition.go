package core

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
// records is copied by the log. Runs on the owning shard.
func (p *partition) produce(records []byte, acks int16, done func(base int64, err error)) {
	res, err := p.log.Append(records, 0, p.syncAcks && acks != 0)
	if err != nil {
		done(-1, err)
		return
	}
	p.wakeFetchers()
	if !p.syncAcks || acks == 0 {
		done(res.BaseOffset, nil)
		return
	}
	p.durableWaiters = append(p.durableWaiters, durableWaiter{offset: res.LastOffset + 1, done: func(err error) {
		done(res.BaseOffset, err)
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
