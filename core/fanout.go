package core

import "sluice/netio"

// fanout runs per-partition work of one request on each partition's owning
// loop and answers on the connection's loop once every part is back: the
// shape of every request that touches many partitions and waits for
// nothing else.
type fanout struct {
	home    *netio.Loop
	pending int // parts out, plus one held until wait
	done    func()
}

// fanOut starts a fanout whose done runs on r's loop.
func (r *request) fanOut(done func()) *fanout {
	return &fanout{home: r.c.Loop(), pending: 1, done: done}
}

// run calls work on p's loop; the function it returns runs back on the
// home loop, where it may write into the response. Call on the home loop.
func (f *fanout) run(p *partition, work func() (apply func())) {
	f.runAsync(p, func(reply func(apply func())) { reply(work()) })
}

// runAsync is run for work that finishes later, as a group coordinator's
// answer does: work runs on p's loop and calls reply once, from p's loop,
// with the function to run back on the home loop. Call on the home loop.
func (f *fanout) runAsync(p *partition, work func(reply func(apply func()))) {
	f.pending++
	p.loop.Post(func() {
		work(func(apply func()) {
			f.home.Post(func() {
				apply()
				f.release()
			})
		})
	})
}

// wait releases the hold taken at the start: done runs once every part is
// back, possibly now. Call once, after the last run.
func (f *fanout) wait() { f.release() }

func (f *fanout) release() {
	if f.pending--; f.pending == 0 {
		f.done()
	}
}
