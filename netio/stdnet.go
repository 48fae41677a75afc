package netio

import (
	"context"
	"errors"
	"fmt"
	"net"
	"sync"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// StdServer is a benchmark-only baseline: it serves a Handler like Server
// does, but over Go's standard net package, so that core's benchmarks can
// measure what the epoll loops gain in the same run (BENCHMARKS.md). The
// broker never serves clients with it.
//
// A net.Listener accepts connections, spread round robin over the shard
// loops (cfg.Steering does not apply), and each connection gets a reader
// and a writer goroutine that block in Go's netpoller. Handlers still run
// on the loops, which own the partitions, so the design it measures is
// "goroutine per connection, hand each read to the owning shard" rather
// than one with locks around partition state.
//
// Everything above the socket calls is the epoll connection's own code:
// the loop splits frames, calls the handler, orders responses and applies
// MaxFrameBytes, MaxInFlight, MaxQueuedBytes and IdleTimeout through the
// same Conn methods, and Shutdown is Server's. Where the two differ:
//   - The reader and the loop take turns on the connection's read buffer
//     (one read outstanding): the reader reads straight into it, as the
//     epoll loop does, and is not given the buffer while the connection is
//     paused, so the kernel's socket buffer fills and the client blocks as
//     with epoll. An idle connection keeps its buffer (the reader is
//     blocked reading into it) where an epoll one gives it back.
//   - The loop hands the writer every queued response at once and the
//     writer writes them with one writev (net.Buffers); its bytes count as
//     unwritten until the writer tells the loop they went out.
type StdServer struct {
	srv        *Server // loops without listeners, and their drain
	ln         net.Listener
	acceptDone chan struct{}
	conns      sync.WaitGroup // connection goroutines
}

// ListenStd listens on cfg.Listen with net.Listen; Start serves. Benchmark
// only: see StdServer.
func ListenStd(cfg Config, h Handler) (*StdServer, error) {
	cfg = cfg.withDefaults()
	ln, err := net.Listen("tcp", cfg.Listen)
	if err != nil {
		return nil, fmt.Errorf("netio: listen %s: %w", cfg.Listen, err)
	}
	s := &StdServer{srv: &Server{cfg: cfg, addr: ln.Addr().String()}, ln: ln, acceptDone: make(chan struct{})}
	for i := range cfg.Shards {
		l, err := newStdLoop(i, cfg, h)
		if err != nil {
			ln.Close()
			s.srv.closeLoops()
			return nil, err
		}
		s.srv.loops = append(s.srv.loops, l)
	}
	return s, nil
}

// newStdLoop makes a loop that accepts nothing itself. newLoop wants a
// listening socket to watch, so it is given an eventfd that never fires,
// taken out again at once; this way the loop is built by the same code as
// the epoll server's.
func newStdLoop(id int, cfg Config, h Handler) (*Loop, error) {
	fd, err := unix.Eventfd(0, unix.EFD_NONBLOCK|unix.EFD_CLOEXEC)
	if err != nil {
		return nil, fmt.Errorf("eventfd: %w", err)
	}
	l, err := newLoop(id, cfg, h, fd)
	if err != nil {
		// Not closed here: newLoop closes it on some failures, and closing
		// it twice could close an fd another goroutine just opened.
		return nil, err
	}
	unix.EpollCtl(l.epfd, unix.EPOLL_CTL_DEL, fd, nil)
	unix.Close(fd)
	l.lfd = -1
	return l, nil
}

// Addr is the address the server listens on, with the port it got.
func (s *StdServer) Addr() string { return s.srv.addr }

// Loops are the shards' event loops, indexed by shard.
func (s *StdServer) Loops() []*Loop { return s.srv.loops }

// Start runs the loops and starts accepting.
func (s *StdServer) Start() {
	s.srv.started = true
	for _, l := range s.srv.loops {
		go l.run()
	}
	go s.accept()
	s.srv.cfg.Logger.Info("listening", "addr", s.srv.addr, "shards", len(s.srv.loops), "transport", "std net (benchmark baseline)")
}

// Shutdown stops accepting and then shuts down as Server.Shutdown does:
// in-flight requests are answered, then every connection is closed.
func (s *StdServer) Shutdown(ctx context.Context) error {
	s.ln.Close()
	if !s.srv.started {
		return s.srv.Shutdown(ctx)
	}
	// Every connection accepted so far has been posted to its loop before
	// the drain below begins, so none is left out of it.
	<-s.acceptDone
	err := s.srv.Shutdown(ctx)
	// The loops have closed every connection, which ends its goroutines.
	done := make(chan struct{})
	go func() {
		s.conns.Wait()
		close(done)
	}()
	select {
	case <-done:
	case <-ctx.Done():
		if err == nil {
			err = ctx.Err()
		}
	}
	return err
}

func (s *StdServer) accept() {
	defer close(s.acceptDone)
	log := s.srv.cfg.Logger
	for i := 0; ; i++ {
		nc, err := s.ln.Accept()
		if errors.Is(err, net.ErrClosed) {
			return
		}
		if err != nil {
			// EMFILE and the like would otherwise make this spin; net/http
			// backs off the same way.
			log.Warn("accept failed", "err", err)
			time.Sleep(10 * time.Millisecond)
			continue
		}
		l := s.srv.loops[i%len(s.srv.loops)]
		sc, err := newStdConn(nc, l)
		if err != nil {
			log.Warn("accept failed", "err", err)
			nc.Close()
			continue
		}
		s.conns.Add(2)
		go sc.readLoop(&s.conns)
		go sc.writeLoop(&s.conns)
		l.Post(sc.register)
	}
}

// stdConn is the std transport's side of a Conn (Conn.std). Fields without
// a note are touched only on the loop.
type stdConn struct {
	c  *Conn
	nc net.Conn

	// turn gives the reader the free end of the read buffer; batches give
	// the writer the frames to write. Each holds at most one item, since
	// the loop sends again only after the goroutine has reported back.
	// Closing them (with nc) ends the goroutines.
	turn    chan []byte
	batches chan [][]byte
	reading bool     // the reader holds the read buffer
	writing bool     // the writer holds batch
	batch   [][]byte // the writer's while writing, reused

	// Results that the goroutines hand back through Post, which orders the
	// write before the loop's read.
	readN    int
	readErr  error
	wroteN   int64
	writeErr error
	// Bound once, so that reporting back allocates nothing.
	readDoneFn, writeDoneFn func()
}

func newStdConn(nc net.Conn, l *Loop) (*stdConn, error) {
	// The socket's own fd keys the connection in the loop's map, as an
	// epoll connection's does, and lets Conn.peer ask for its address. It
	// stays open, so unique, until the loop closes nc and forgets the key
	// in the same task.
	sc, ok := nc.(syscall.Conn)
	if !ok {
		return nil, fmt.Errorf("netio: %T has no file descriptor", nc)
	}
	raw, err := sc.SyscallConn()
	if err != nil {
		return nil, err
	}
	fd := -1
	if err := raw.Control(func(f uintptr) { fd = int(f) }); err != nil {
		return nil, err
	}
	s := &stdConn{nc: nc, turn: make(chan []byte, 1), batches: make(chan [][]byte, 1)}
	s.c = &Conn{fd: fd, loop: l, lastActive: time.Now(), std: s}
	s.readDoneFn, s.writeDoneFn = s.readDone, s.writeDone
	return s, nil
}

func (s *stdConn) register() {
	l := s.c.loop
	l.conns[s.c.fd] = s.c
	if l.stopping {
		s.c.close(nil)
		return
	}
	s.read()
}

// read gives the reader the buffer unless the connection is paused, closed
// or already being read. Conn.read calls it. Runs on the loop.
func (s *stdConn) read() {
	c := s.c
	if c.closed || c.paused || s.reading {
		return
	}
	if c.off == c.n && c.in != nil {
		// Everything read is processed: start again at the front, and let
		// a buffer grown for a large frame go, as an epoll read does.
		c.loop.putBuf(c.in)
		c.in, c.off, c.n = nil, 0, 0
	}
	if c.in == nil {
		c.in = c.loop.getBuf(readChunk)
	}
	if c.n == len(c.in) {
		c.makeRoom(c.n - c.off + 1)
	}
	s.reading = true
	s.turn <- c.in[c.n:]
}

func (s *stdConn) readLoop(wg *sync.WaitGroup) {
	defer wg.Done()
	for buf := range s.turn {
		s.readN, s.readErr = s.nc.Read(buf)
		s.c.loop.Post(s.readDoneFn)
		if s.readErr != nil {
			return
		}
	}
}

// readDone takes what the reader read. Runs on the loop.
func (s *stdConn) readDone() {
	c := s.c
	s.reading = false
	if c.closed {
		return
	}
	if s.readN > 0 {
		c.n += s.readN
		c.lastActive = time.Now()
		c.process()
	}
	if s.readErr != nil {
		c.close(s.readErr)
		return
	}
	s.read()
}

// flush hands every queued response to the writer unless it is busy; they
// stay in c.out, counted in c.outBytes, until it reports them written.
// Conn.flush calls it. Runs on the loop.
func (s *stdConn) flush() {
	c := s.c
	if s.writing || len(c.out) == 0 || c.closed {
		return
	}
	s.writing = true
	s.batch = append(s.batch[:0], c.out...)
	s.batches <- s.batch
}

func (s *stdConn) writeLoop(wg *sync.WaitGroup) {
	defer wg.Done()
	for b := range s.batches {
		bufs := net.Buffers(b)
		s.wroteN, s.writeErr = bufs.WriteTo(s.nc)
		s.c.loop.Post(s.writeDoneFn)
		if s.writeErr != nil {
			return
		}
	}
}

// writeDone drops what the writer wrote from the queue and hands it the
// rest. Runs on the loop.
func (s *stdConn) writeDone() {
	c := s.c
	s.writing = false
	clear(s.batch) // the frames may be large; keep no reference
	if c.closed {
		return
	}
	if s.writeErr != nil {
		c.close(s.writeErr)
		return
	}
	k := len(s.batch)
	clear(c.out[:k])
	c.out = c.out[k:]
	if len(c.out) == 0 {
		c.out = c.out[:0:0]
	}
	c.outBytes -= int(s.wroteN)
	c.lastActive = time.Now()
	c.flush()
	c.maybeResume()
}

// close ends the goroutines: closing nc wakes whichever is blocked on the
// socket, closing the channels whichever waits for the loop. Conn.close
// calls it. Runs on the loop.
func (s *stdConn) close() {
	if s.reading {
		// The reader may still be reading into the buffer: it must not go
		// back to the pool.
		s.c.in = nil
	}
	s.nc.Close()
	close(s.turn)
	close(s.batches)
}
