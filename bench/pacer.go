package bench

import (
	"context"
	"time"
)

// clock is the run's time: durations since its epoch, monotonic. Tests
// drive a fake one; runs use osClock.
type clock interface {
	now() time.Duration
	// sleepUntil returns at t or later (at once if t has passed). Real
	// clocks oversleep; what they oversleep counts as latency.
	sleepUntil(t time.Duration)
}

// osClock is the real clock. Its sleeps are precise only on a thread
// prepared by lockPacerThread.
type osClock struct{ epoch time.Time }

func (c osClock) now() time.Duration { return time.Since(c.epoch) }

// maxPacerSleep bounds one sleep of the pacer so that it notices a
// cancelled run within this time.
const maxPacerSleep = 50 * time.Millisecond

// schedule is an open-loop plan: send i is due at start + i/rate, for
// every i with a due time before end.
type schedule struct {
	start, end time.Duration
	rate       float64 // sends per second, > 0
}

// due is when send i is due.
func (s schedule) due(i int64) time.Duration {
	return s.start + time.Duration(float64(i)*1e9/s.rate)
}

// count is how many sends the schedule holds: the bound of the pacing loop.
func (s schedule) count() int64 {
	if s.end <= s.start {
		return 0
	}
	n := int64(float64(s.end-s.start) * s.rate / 1e9)
	// Float rounding may leave n one off either way.
	for n > 0 && s.due(n-1) >= s.end {
		n--
	}
	for s.due(n) < s.end {
		n++
	}
	return n
}

// pace runs the schedule: it waits until each send is due and calls send
// with its index and due time, however late it is. A send that blocks
// delays the sends behind it but does not move their due times, so their
// latencies, measured from those due times, include the stall: the
// schedule never slows down to what the system sustains (no coordinated
// omission). Sends already due are made back to back. It returns how many
// sends it made, fewer than the schedule's count only if ctx ended.
// lag, if not nil, gets each send's due time and lateness (actual minus
// due time).
func pace(ctx context.Context, c clock, s schedule, lag func(due, late time.Duration), send func(i int64, due time.Duration)) int64 {
	n := s.count()
	for i := range n {
		due := s.due(i)
		for {
			now := c.now()
			if now >= due {
				if lag != nil {
					lag(due, now-due)
				}
				break
			}
			if ctx.Err() != nil {
				return i
			}
			c.sleepUntil(min(due, now+maxPacerSleep))
		}
		// A backlog of due sends is made without sleeping; check the
		// context now and then so that a stalled run still stops.
		if i&255 == 0 && ctx.Err() != nil {
			return i
		}
		send(i, due)
	}
	return n
}

// closedLoop calls send back to back until end (by c) or until ctx ends,
// at most limit times, and returns how many sends it made.
// Each send's due time is the time it starts: latency is what the caller
// waits, including any time Produce blocks on a full client buffer.
func closedLoop(ctx context.Context, c clock, end time.Duration, limit int64, send func(i int64, due time.Duration)) int64 {
	for i := range limit {
		now := c.now()
		if now >= end || (i&255 == 0 && ctx.Err() != nil) {
			return i
		}
		send(i, now)
	}
	return limit
}
