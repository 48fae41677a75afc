//go:build !linux

package bench

import (
	"runtime"
	"time"
)

// lockPacerThread: elsewhere than Linux the pacer sleeps with Go timers,
// which are coarser; the lateness shows in the send-lag histogram.
func lockPacerThread() { runtime.LockOSThread() }

func (c osClock) sleepUntil(t time.Duration) {
	if d := t - c.now(); d > 0 {
		time.Sleep(d)
	}
}
