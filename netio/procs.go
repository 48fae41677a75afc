package netio

import (
	"runtime"
	"sync"
)

// A loop waits in epoll_wait as an ordinary system call, and the Go
// runtime leaves a P attached to a thread in a system call until sysmon
// takes it back: after 20 µs at best, after up to 10 ms when the process
// has been quiet. With one P per CPU and one loop per CPU, every P can sit
// in an idle loop's epoll_wait while a log writer or timer goroutine that
// is ready to run waits for sysmon. So each running loop adds one P of its
// own on top of the process's setting (measured in BENCHMARKS.md: produce
// p50 1.5 ms -> 0.4 ms on 2 cores). The extra Ps cost nothing while the
// loops sleep; when loops and goroutines are all busy the kernel shares the
// CPUs among their threads.
var procs struct {
	sync.Mutex
	extra int // Ps added by running loops
}

// baseProcs is GOMAXPROCS without the loops' own Ps: the CPUs the process
// may use, which is the default number of shards.
func baseProcs() int {
	procs.Lock()
	defer procs.Unlock()
	return runtime.GOMAXPROCS(0) - procs.extra
}

// addLoopProc raises GOMAXPROCS by one for a loop starting, or lowers it by
// one (n = -1) for a loop that ended.
func addLoopProc(n int) {
	procs.Lock()
	defer procs.Unlock()
	procs.extra += n
	runtime.GOMAXPROCS(runtime.GOMAXPROCS(0) + n)
}
