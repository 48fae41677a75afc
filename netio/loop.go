package netio

import (
	"errors"
	"fmt"
	"log/slog"
	"runtime"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/sys/unix"
)

// Handler receives the requests of a server's connections. Both methods run
// on the connection's loop and must not block.
type Handler interface {
	// Request is called for each complete frame; body (the frame without
	// its size) is valid only during the call. The handler answers, now or
	// later, with c.Respond(seq, ...).
	Request(c *Conn, seq uint64, body []byte)
	// Closed is called once when a connection goes away.
	Closed(c *Conn)
}

// Config holds the network settings; zero fields take the defaults.
type Config struct {
	Listen         string        // host:port; port 0 picks one
	Shards         int           // event loops (default: GOMAXPROCS)
	MaxFrameBytes  int           // socket.request.max.bytes (default 100 MiB)
	MaxInFlight    int           // unanswered requests before a connection stops being read (default 32)
	MaxQueuedBytes int           // unwritten response bytes before it stops being read (default 4 MiB)
	IdleTimeout    time.Duration // connections.max.idle.ms (default 10 min)
	Steering       Steering      // SteeringAuto (default) or SteeringOff; see steer.go
	Logger         *slog.Logger
}

func (c Config) withDefaults() Config {
	if c.Shards <= 0 {
		c.Shards = baseProcs()
	}
	if c.MaxFrameBytes <= 0 {
		c.MaxFrameBytes = 100 << 20
	}
	if c.MaxInFlight <= 0 {
		c.MaxInFlight = 32
	}
	if c.MaxQueuedBytes <= 0 {
		c.MaxQueuedBytes = 4 << 20
	}
	if c.IdleTimeout <= 0 {
		c.IdleTimeout = 10 * time.Minute
	}
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
	if c.Steering == "" {
		c.Steering = SteeringAuto
	}
	return c
}

// readChunk is the read buffer a connection takes while it has unprocessed
// bytes; idle connections hold none.
const readChunk = 64 << 10

// Loop is one shard's event loop: its listener, its connections and a task
// queue that other goroutines feed through Post.
type Loop struct {
	ID  int
	cfg Config
	h   Handler
	log *slog.Logger

	epfd, evfd, lfd int
	conns           map[int]*Conn
	events          []unix.EpollEvent
	freeBufs        [][]byte // read buffers for reuse, at most maxFreeBufs
	lastSweep       time.Time
	stopping        bool // loop-local copy of draining: connections are not read
	// unflushed are connections with responses queued since the last
	// flush: written once per turn of the loop, so responses to pipelined
	// requests and answers posted together leave in one writev.
	unflushed []*Conn

	// For utilisation: when run began, nanoseconds spent in epoll_wait
	// so far, and when the current wait began (0 when not waiting), in
	// nanoseconds since startNs. Written by the loop, read by Busy.
	startNs   atomic.Int64
	waitNs    atomic.Int64
	waitingAt atomic.Int64

	mu       sync.Mutex
	tasks    []func()
	draining bool // guarded by mu: Shutdown began; stop accepting and reading
	exit     bool // guarded by mu: every loop is drained; close and return
	stopped  bool // guarded by mu: the loop has exited; Post drops tasks
	done     chan struct{}
}

const maxFreeBufs = 64

func newLoop(id int, cfg Config, h Handler, lfd int) (*Loop, error) {
	epfd, err := unix.EpollCreate1(unix.EPOLL_CLOEXEC)
	if err != nil {
		return nil, fmt.Errorf("epoll_create: %w", err)
	}
	evfd, err := unix.Eventfd(0, unix.EFD_NONBLOCK|unix.EFD_CLOEXEC)
	if err != nil {
		unix.Close(epfd)
		return nil, fmt.Errorf("eventfd: %w", err)
	}
	l := &Loop{ID: id, cfg: cfg, h: h, log: cfg.Logger.With("shard", id), epfd: epfd, evfd: evfd, lfd: lfd,
		conns: map[int]*Conn{}, events: make([]unix.EpollEvent, 256), done: make(chan struct{})}
	for _, fd := range []int{evfd, lfd} {
		if err := unix.EpollCtl(epfd, unix.EPOLL_CTL_ADD, fd, &unix.EpollEvent{Events: unix.EPOLLIN, Fd: int32(fd)}); err != nil {
			l.closeFds()
			return nil, fmt.Errorf("epoll_ctl: %w", err)
		}
	}
	return l, nil
}

// Post runs fn on the loop. Safe from any goroutine; this is how disk
// completions and other shards reach a connection.
func (l *Loop) Post(fn func()) {
	l.mu.Lock()
	if l.stopped {
		// Late completions (a disk round finishing after shutdown) have
		// nobody left to answer; the eventfd may already be closed.
		l.mu.Unlock()
		return
	}
	l.tasks = append(l.tasks, fn)
	first := len(l.tasks) == 1
	if first {
		l.wake() // under mu, so the eventfd cannot be closed meanwhile
	}
	l.mu.Unlock()
}

func (l *Loop) wake() {
	var one = [8]byte{1}
	for {
		_, err := unix.Write(l.evfd, one[:])
		if err != unix.EINTR {
			return // EAGAIN: the counter is already non-zero, the loop will wake
		}
	}
}

func (l *Loop) run() {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	defer close(l.done)
	addLoopProc(1)
	defer addLoopProc(-1) // before done closes: Shutdown returns with the P given back
	defer func() {
		l.mu.Lock()
		l.stopped = true
		l.mu.Unlock()
		l.closeFds()
	}()
	var tasks []func()
	start := time.Now()
	l.startNs.Store(start.UnixNano())
	for {
		t0 := int64(time.Since(start)) + 1 // never 0, which means not waiting
		l.waitingAt.Store(t0)
		n, err := unix.EpollWait(l.epfd, l.events, 1000)
		l.waitingAt.Store(0)
		l.waitNs.Add(int64(time.Since(start)) + 1 - t0)
		if err != nil && err != unix.EINTR {
			l.log.Error("epoll_wait failed; shard stops", "err", err)
			return
		}
		for _, ev := range l.events[:max(n, 0)] {
			switch fd := int(ev.Fd); {
			case fd == l.evfd:
				var b [8]byte
				unix.Read(l.evfd, b[:])
			case fd == l.lfd:
				l.accept()
			default:
				if c := l.conns[fd]; c != nil {
					c.onEvent(ev.Events)
				}
			}
		}
		l.mu.Lock()
		tasks, l.tasks = l.tasks, tasks[:0]
		draining, exit := l.draining, l.exit
		l.mu.Unlock()
		for i, fn := range tasks {
			fn()
			tasks[i] = nil
		}
		l.flushAll()
		now := time.Now()
		if now.Sub(l.lastSweep) >= time.Second {
			l.lastSweep = now
			l.sweepIdle(now)
		}
		if draining {
			l.stopping = true
			if l.lfd >= 0 {
				unix.EpollCtl(l.epfd, unix.EPOLL_CTL_DEL, l.lfd, nil)
				unix.Close(l.lfd)
				l.lfd = -1
			}
		}
		if exit {
			return
		}
	}
}

// Busy reports how long the loop has run and how much of that it spent
// outside epoll_wait. Safe from any goroutine; both are zero before the
// loop starts.
func (l *Loop) Busy() (busy, total time.Duration) {
	startNs := l.startNs.Load()
	if startNs == 0 {
		return 0, 0
	}
	total = time.Since(time.Unix(0, startNs))
	wait := time.Duration(l.waitNs.Load())
	if at := l.waitingAt.Load(); at != 0 {
		wait += max(total+1-time.Duration(at), 0)
	}
	return max(total-wait, 0), total
}

// flushAll writes what Respond queued during this turn. A flush can let
// a paused connection read again and answer more, which queues it again.
func (l *Loop) flushAll() {
	for i := 0; i < len(l.unflushed); i++ {
		c := l.unflushed[i]
		l.unflushed[i] = nil
		c.queued = false
		if !c.closed {
			c.flush()
			c.maybeResume()
		}
	}
	l.unflushed = l.unflushed[:0]
}

// busy reports whether any connection has requests in flight or responses
// unwritten. Runs on the loop.
func (l *Loop) busy() bool {
	for _, c := range l.conns {
		if !c.idle() {
			return true
		}
	}
	return false
}

func (l *Loop) accept() {
	for {
		fd, _, err := unix.Accept4(l.lfd, unix.SOCK_NONBLOCK|unix.SOCK_CLOEXEC)
		if err != nil {
			if err != unix.EAGAIN && err != unix.EINTR && !errors.Is(err, unix.ECONNABORTED) {
				l.log.Warn("accept failed", "err", err)
			}
			if err == unix.EINTR || errors.Is(err, unix.ECONNABORTED) {
				continue
			}
			return
		}
		unix.SetsockoptInt(fd, unix.IPPROTO_TCP, unix.TCP_NODELAY, 1)
		c := &Conn{fd: fd, loop: l, lastActive: time.Now()}
		ev := unix.EpollEvent{Events: unix.EPOLLIN | unix.EPOLLOUT | unix.EPOLLRDHUP | unix.EPOLLET, Fd: int32(fd)}
		if err := unix.EpollCtl(l.epfd, unix.EPOLL_CTL_ADD, fd, &ev); err != nil {
			unix.Close(fd)
			l.log.Warn("epoll_ctl add failed", "err", err)
			continue
		}
		l.conns[fd] = c
	}
}

// sweepIdle closes connections with nothing in flight that have been quiet
// for longer than the idle timeout.
func (l *Loop) sweepIdle(now time.Time) {
	for _, c := range l.conns {
		if c.idle() && now.Sub(c.lastActive) > l.cfg.IdleTimeout {
			c.close(nil)
		}
	}
}

func (l *Loop) getBuf(n int) []byte {
	if n <= readChunk {
		if k := len(l.freeBufs); k > 0 {
			b := l.freeBufs[k-1]
			l.freeBufs = l.freeBufs[:k-1]
			return b
		}
		n = readChunk
	}
	return make([]byte, n)
}

func (l *Loop) putBuf(b []byte) {
	if cap(b) == readChunk && len(l.freeBufs) < maxFreeBufs {
		l.freeBufs = append(l.freeBufs, b[:readChunk])
	}
}

func (l *Loop) closeFds() {
	for fd, c := range l.conns {
		c.close(nil)
		delete(l.conns, fd)
	}
	if l.lfd >= 0 {
		unix.Close(l.lfd)
		l.lfd = -1
	}
	unix.Close(l.evfd)
	unix.Close(l.epfd)
}
