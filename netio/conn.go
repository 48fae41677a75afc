package netio

import (
	"encoding/binary"
	"time"

	"golang.org/x/sys/unix"
)

// Conn is one client connection. All methods run on its loop.
type Conn struct {
	fd   int
	loop *Loop
	// std is set when the benchmark-only std-net transport (stdnet.go)
	// serves the connection in place of epoll: it replaces only the socket
	// calls below.
	std *stdConn
	// Ctx is the handler's per-connection state.
	Ctx any

	in     []byte // read buffer; in[off:n] is not yet processed
	off, n int
	// want is the size (prefix included) of the partial frame at
	// in[off:n] once its prefix is known, else 0. The buffer grows towards
	// it only as bytes arrive: a client that declares a large frame and
	// sends little gets little memory.
	want int

	nextSeq  uint64 // seq of the next request read
	firstSeq uint64 // seq of slots[0]
	slots    []slot // requests in flight, in order

	out      [][]byte // response bytes ready to write, in order
	outBytes int

	// lastActive is when the connection last wrote, completed a request
	// or began one; bytes in the middle of a frame do not count, so the
	// idle timeout also bounds how long one frame may take to arrive and a
	// slowloris client (a byte now and then) is closed like an idle one.
	lastActive time.Time
	paused     bool // not read: too much in flight
	queued     bool // in loop.unflushed
	peerClosed bool // the peer shut down its side: read on to the EOF
	closed     bool
}

type slot struct {
	done  bool
	frame []byte // nil: no response (Kafka acks=0)
}

// Loop returns the connection's loop, for handlers that answer later.
func (c *Conn) Loop() *Loop { return c.loop }

// RemoteAddr is the client's address, for logs.
func (c *Conn) RemoteAddr() string { return c.peer() }

// Closed reports whether the connection is gone; a late answer to it is
// dropped.
func (c *Conn) Closed() bool { return c.closed }

// Respond answers request seq with frame, whose first four bytes are
// reserved for the size prefix that Respond fills in; nil means the request
// gets no response. Responses go out in request order whatever order
// Respond is called in.
func (c *Conn) Respond(seq uint64, frame []byte) {
	if c.closed || seq < c.firstSeq || seq >= c.nextSeq {
		return
	}
	s := &c.slots[seq-c.firstSeq]
	if s.done {
		return
	}
	s.done, s.frame = true, frame
	if frame != nil {
		binary.BigEndian.PutUint32(frame, uint32(len(frame)-4))
	}
	for len(c.slots) > 0 && c.slots[0].done {
		if f := c.slots[0].frame; f != nil {
			c.out = append(c.out, f)
			c.outBytes += len(f)
		}
		c.slots[0] = slot{}
		c.slots = c.slots[1:]
		c.firstSeq++
	}
	if !c.queued {
		c.queued = true
		c.loop.unflushed = append(c.loop.unflushed, c)
	}
}

// CloseNow drops the connection, for a handler that lost the framing of
// the protocol above (a request it cannot even parse a header of).
func (c *Conn) CloseNow() { c.close(nil) }

func (c *Conn) idle() bool { return len(c.slots) == 0 && len(c.out) == 0 }

func (c *Conn) onEvent(ev uint32) {
	if ev&(unix.EPOLLERR|unix.EPOLLHUP) != 0 {
		c.close(nil)
		return
	}
	if ev&unix.EPOLLOUT != 0 {
		c.flush()
		c.maybeResume()
	}
	if ev&unix.EPOLLRDHUP != 0 {
		c.peerClosed = true
	}
	if ev&(unix.EPOLLIN|unix.EPOLLRDHUP) != 0 && !c.closed {
		c.read()
	}
}

// read takes bytes until the socket is drained or the connection pauses;
// with edge-triggered epoll nothing else would tell us to come back.
func (c *Conn) read() {
	if c.std != nil {
		c.std.read()
		return
	}
	for !c.closed && !c.paused {
		if c.in == nil {
			c.in = c.loop.getBuf(readChunk)
		}
		if c.n == len(c.in) {
			c.makeRoom(c.n - c.off + 1)
		}
		k, err := unix.Read(c.fd, c.in[c.n:])
		if err == unix.EINTR {
			continue
		}
		if err == unix.EAGAIN {
			break
		}
		if err != nil || k == 0 {
			c.close(err)
			return
		}
		began := c.off == c.n // these bytes begin a frame
		c.n += k
		short := c.n < len(c.in) && !c.peerClosed
		seq := c.nextSeq
		c.process()
		if began || c.nextSeq != seq {
			c.lastActive = time.Now()
		}
		if short {
			// The socket is drained: a short read took all it had, and
			// data arriving later raises a new edge. Saves the read that
			// would only say EAGAIN.
			break
		}
	}
	if !c.closed && c.off == c.n && c.in != nil {
		c.loop.putBuf(c.in)
		c.in, c.off, c.n, c.want = nil, 0, 0, 0
	}
}

// process hands every complete frame in the buffer to the handler.
func (c *Conn) process() {
	for !c.closed && !c.paused {
		body, used, need, err := splitFrame(c.in[c.off:c.n], c.loop.cfg.MaxFrameBytes)
		if err != nil {
			c.loop.log.Warn("closing connection", "err", err, "peer", c.peer())
			c.close(err)
			return
		}
		if body == nil {
			c.want = need
			if need > len(c.in)-c.off && c.off > 0 {
				// Only compacts: read grows the buffer as bytes come.
				c.makeRoom(min(need, len(c.in)))
			}
			return
		}
		c.want = 0
		seq := c.nextSeq
		c.nextSeq++
		c.slots = append(c.slots, slot{})
		c.off += used
		c.loop.h.Request(c, seq, body)
		if len(c.slots) >= c.loop.cfg.MaxInFlight || c.outBytes > c.loop.cfg.MaxQueuedBytes {
			c.paused = true
		}
	}
}

// makeRoom makes the buffer able to hold need unprocessed bytes, moving
// them to its front and growing it only for a frame larger than it: by
// doubling, never past the frame's declared size, so that what a
// connection holds stays under twice what it has sent (plus readChunk).
func (c *Conn) makeRoom(need int) {
	if need > len(c.in) {
		nb := make([]byte, max(need, min(2*len(c.in), max(c.want, need))))
		copy(nb, c.in[c.off:c.n])
		c.loop.putBuf(c.in)
		c.in = nb
	} else {
		copy(c.in, c.in[c.off:c.n])
	}
	c.n -= c.off
	c.off = 0
}

// maybeResume reads again once the connection is back under its bounds.
func (c *Conn) maybeResume() {
	if c.paused && !c.closed && !c.loop.stopping && len(c.slots) < c.loop.cfg.MaxInFlight && c.outBytes <= c.loop.cfg.MaxQueuedBytes {
		c.paused = false
		c.process()
		c.read()
	}
}

// flush writes queued responses until the socket would block.
func (c *Conn) flush() {
	if c.std != nil {
		c.std.flush()
		return
	}
	for len(c.out) > 0 && !c.closed {
		k, err := unix.Writev(c.fd, c.out[:min(len(c.out), 1024)])
		if err == unix.EINTR {
			continue
		}
		if err == unix.EAGAIN {
			return // EPOLLOUT will call again
		}
		if err != nil {
			c.close(err)
			return
		}
		c.outBytes -= k
		c.lastActive = time.Now()
		for k > 0 {
			if k >= len(c.out[0]) {
				k -= len(c.out[0])
				c.out[0] = nil
				c.out = c.out[1:]
			} else {
				c.out[0] = c.out[0][k:]
				k = 0
			}
		}
	}
	if len(c.out) == 0 {
		c.out = c.out[:0:0]
	}
}

func (c *Conn) close(err error) {
	if c.closed {
		return
	}
	c.closed = true
	if c.std != nil {
		c.std.close()
	} else {
		unix.EpollCtl(c.loop.epfd, unix.EPOLL_CTL_DEL, c.fd, nil)
		unix.Close(c.fd)
	}
	delete(c.loop.conns, c.fd)
	if c.in != nil {
		c.loop.putBuf(c.in)
		c.in = nil
	}
	c.slots, c.out = nil, nil
	c.loop.h.Closed(c)
}

func (c *Conn) peer() string {
	sa, err := unix.Getpeername(c.fd)
	if err != nil {
		return "?"
	}
	switch a := sa.(type) {
	case *unix.SockaddrInet4:
		return fmtAddr(a.Addr[:], a.Port)
	case *unix.SockaddrInet6:
		return fmtAddr(a.Addr[:], a.Port)
	}
	return "?"
}
