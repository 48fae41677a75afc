package bench

import (
	"runtime"
	"time"

	"golang.org/x/sys/unix"
)

// lockPacerThread gives the calling goroutine an OS thread of its own with
// 1 µs timer slack (the default is 50 µs), and keeps it: Go timers
// oversleep sub-millisecond waits by up to a millisecond on these machines
// (HOST-FACTS.md), a nanosleep on a thread of our own does not. Spinning
// instead would take a CPU from the broker. The thread ends with the
// goroutine, and its timer slack with it.
func lockPacerThread() {
	runtime.LockOSThread()
	unix.Prctl(unix.PR_SET_TIMERSLACK, 1000, 0, 0, 0)
}

func (c osClock) sleepUntil(t time.Duration) {
	d := t - c.now()
	if d <= 0 {
		return
	}
	ts := unix.NsecToTimespec(int64(d))
	for unix.Nanosleep(&ts, &ts) == unix.EINTR {
	}
}
