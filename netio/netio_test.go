package netio

import (
	"context"
	"encoding/binary"
	"io"
	"log/slog"
	"math/rand/v2"
	"net"
	"runtime"
	"sync/atomic"
	"testing"
	"time"
)

var quiet = slog.New(slog.NewTextHandler(io.Discard, nil))

// echo answers every request with its body; requests whose body starts
// with 'D' are answered later, in reverse order of arrival, to check that
// responses still go out in request order.
type echo struct {
	closed  atomic.Int64
	delayed []func()
}

func (e *echo) Request(c *Conn, seq uint64, body []byte) {
	frame := append(make([]byte, 4, 4+len(body)), body...)
	if len(body) > 0 && body[0] == 'D' {
		e.delayed = append(e.delayed, func() { c.Respond(seq, frame) })
		if len(e.delayed) == 3 {
			for i := len(e.delayed) - 1; i >= 0; i-- {
				e.delayed[i]()
			}
			e.delayed = nil
		}
		return
	}
	if len(body) > 0 && body[0] == 'N' {
		c.Respond(seq, nil) // no response, like acks=0
		return
	}
	c.Respond(seq, frame)
}

func (e *echo) Closed(*Conn) { e.closed.Add(1) }

func start(t *testing.T, cfg Config, h Handler) *Server {
	t.Helper()
	return startOn(t, listenEpoll, cfg, h).(*Server)
}

// testServer is what the tests need of either transport.
type testServer interface {
	Addr() string
	Start()
	Shutdown(context.Context) error
}

func listenEpoll(cfg Config, h Handler) (testServer, error) { return Listen(cfg, h) }
func listenStd(cfg Config, h Handler) (testServer, error)   { return ListenStd(cfg, h) }

// transports are the two ways netio serves: the epoll loops, and the
// benchmark-only std-net baseline, which must keep the promises a client
// sees (order, backpressure, drain on shutdown) for the benchmarks to
// compare like with like. Those tests run on both.
var transports = []struct {
	name   string
	listen func(Config, Handler) (testServer, error)
}{{"epoll", listenEpoll}, {"stdnet", listenStd}}

func startOn(t *testing.T, listen func(Config, Handler) (testServer, error), cfg Config, h Handler) testServer {
	t.Helper()
	cfg.Listen, cfg.Logger = "127.0.0.1:0", quiet
	if cfg.Shards == 0 {
		cfg.Shards = 2
	}
	s, err := listen(cfg, h)
	if err != nil {
		t.Fatal(err)
	}
	s.Start()
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		s.Shutdown(ctx)
	})
	return s
}

func dial(t *testing.T, s testServer) net.Conn {
	t.Helper()
	c, err := net.DialTimeout("tcp", s.Addr(), 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	c.SetDeadline(time.Now().Add(10 * time.Second))
	t.Cleanup(func() { c.Close() })
	return c
}

func frame(body string) []byte {
	return append(binary.BigEndian.AppendUint32(nil, uint32(len(body))), body...)
}

func readFrame(t *testing.T, c net.Conn) string {
	t.Helper()
	var hdr [4]byte
	if _, err := io.ReadFull(c, hdr[:]); err != nil {
		t.Fatalf("read size: %v", err)
	}
	b := make([]byte, binary.BigEndian.Uint32(hdr[:]))
	if _, err := io.ReadFull(c, b); err != nil {
		t.Fatalf("read body: %v", err)
	}
	return string(b)
}

// TestPipelinedInOrder sends many requests at once, split at random byte
// boundaries, some answered late and out of order, some not at all, and
// expects every answer in request order.
func TestPipelinedInOrder(t *testing.T) {
	for _, tr := range transports {
		t.Run(tr.name, func(t *testing.T) { testPipelinedInOrder(t, startOn(t, tr.listen, Config{}, &echo{})) })
	}
}

func testPipelinedInOrder(t *testing.T, s testServer) {
	c := dial(t, s)
	rng := rand.New(rand.NewPCG(1, 1))
	var stream []byte
	var want []string
	for i := range 300 {
		body := string(rune('a'+i%26)) + string(make([]byte, rng.IntN(3000)))
		switch i % 10 {
		case 3, 4, 5:
			body = "D" + body
		case 7:
			body = "N" + body
		}
		stream = append(stream, frame(body)...)
		if body[0] != 'N' {
			want = append(want, body)
		}
	}
	go func() {
		for len(stream) > 0 {
			n := min(len(stream), 1+rng.IntN(5000))
			c.Write(stream[:n])
			stream = stream[n:]
		}
	}()
	for i, w := range want {
		if got := readFrame(t, c); got != w {
			t.Fatalf("response %d: got %d bytes starting %q, want %d starting %q", i, len(got), got[:1], len(w), w[:1])
		}
	}
}

func TestOversizedFrameCloses(t *testing.T) {
	e := &echo{}
	s := start(t, Config{MaxFrameBytes: 1000}, e)
	c := dial(t, s)
	c.Write(frame("ok"))
	if got := readFrame(t, c); got != "ok" {
		t.Fatalf("got %q", got)
	}
	for _, size := range []uint32{1001, 0x80000000, 0xffffffff} {
		c := dial(t, s)
		c.Write(binary.BigEndian.AppendUint32(nil, size))
		if _, err := c.Read(make([]byte, 1)); err != io.EOF {
			t.Fatalf("size %d: connection not closed: %v", size, err)
		}
	}
	// Other connections keep working.
	c.Write(frame("still"))
	if got := readFrame(t, c); got != "still" {
		t.Fatalf("got %q", got)
	}
}

func TestIdleTimeout(t *testing.T) {
	e := &echo{}
	s := start(t, Config{IdleTimeout: 50 * time.Millisecond}, e)
	c := dial(t, s)
	if _, err := c.Read(make([]byte, 1)); err != io.EOF {
		t.Fatalf("idle connection not closed: %v", err)
	}
	// Closed runs just after the socket closes.
	waitFor(t, "Closed", 5*time.Second, func() bool { return e.closed.Load() >= 1 })
	if e.closed.Load() != 1 {
		t.Fatalf("Closed called %d times", e.closed.Load())
	}
}

// TestBackpressure: a client that sends without reading stops being read
// once its unwritten responses pass the bound, so the server buffers only
// what the bounds allow; when it reads again, everything arrives.
func TestBackpressure(t *testing.T) {
	for _, tr := range transports {
		t.Run(tr.name, func(t *testing.T) {
			var inFlight atomic.Int64
			s := startOn(t, tr.listen, Config{MaxQueuedBytes: 256 << 10, MaxInFlight: 8}, &countingEcho{n: &inFlight})
			testBackpressure(t, s, &inFlight)
		})
	}
}

func testBackpressure(t *testing.T, s testServer, inFlight *atomic.Int64) {
	c := dial(t, s)
	body := string(make([]byte, 64<<10))
	sent := make(chan int)
	go func() {
		n := 0
		c.SetWriteDeadline(time.Now().Add(500 * time.Millisecond))
		for n < 2000 {
			if _, err := c.Write(frame(body)); err != nil {
				break
			}
			n++
		}
		sent <- n
	}()
	n := <-sent
	if n >= 2000 {
		t.Fatalf("server read all %d requests of a client that reads nothing", n)
	}
	handled := inFlight.Load()
	c.SetDeadline(time.Now().Add(10 * time.Second))
	for range handled {
		readFrame(t, c)
	}
	t.Logf("client wrote %d frames before blocking; server handled %d", n, handled)
}

type countingEcho struct{ n *atomic.Int64 }

func (e *countingEcho) Request(c *Conn, seq uint64, body []byte) {
	e.n.Add(1)
	c.Respond(seq, append(make([]byte, 4, 4+len(body)), body...))
}
func (e *countingEcho) Closed(*Conn) {}

// TestShutdownFinishesInFlight: a request answered after Shutdown began
// still reaches the client before the connection closes.
func TestShutdownFinishesInFlight(t *testing.T) {
	for _, tr := range transports {
		t.Run(tr.name, func(t *testing.T) { testShutdownFinishesInFlight(t, tr.listen) })
	}
}

func testShutdownFinishesInFlight(t *testing.T, listen func(Config, Handler) (testServer, error)) {
	h := &laterEcho{}
	s, err := listen(Config{Listen: "127.0.0.1:0", Logger: quiet, Shards: 1}, h)
	if err != nil {
		t.Fatal(err)
	}
	s.Start()
	c := dial(t, s)
	c.Write(frame("late"))
	waitFor(t, "the request to reach the handler", 5*time.Second, func() bool { return h.pending.Load() != nil })
	done := make(chan error)
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		done <- s.Shutdown(ctx)
	}()
	p := h.pending.Load()
	p.c.Loop().Post(func() { p.c.Respond(p.seq, append(make([]byte, 4), "late"...)) })
	if got := readFrame(t, c); got != "late" {
		t.Fatalf("got %q", got)
	}
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if _, err := c.Read(make([]byte, 1)); err != io.EOF {
		t.Fatalf("connection open after shutdown: %v", err)
	}
}

type pendingReq struct {
	c   *Conn
	seq uint64
}

type laterEcho struct{ pending atomic.Pointer[pendingReq] }

func (e *laterEcho) Request(c *Conn, seq uint64, body []byte) {
	e.pending.Store(&pendingReq{c, seq})
}
func (e *laterEcho) Closed(*Conn) {}

// FuzzSplitFrame checks the frame splitter on arbitrary bytes: it never
// panics, a frame it returns lies inside the input with the declared size,
// and it never asks for more than the limit plus the prefix.
func FuzzSplitFrame(f *testing.F) {
	f.Add([]byte{0, 0, 0, 2, 'h', 'i'}, 10)
	f.Add([]byte{0xff, 0xff, 0xff, 0xff}, 10)
	f.Add([]byte{0, 0, 1}, 10)
	f.Fuzz(func(t *testing.T, b []byte, limit int) {
		limit = max(0, limit%(1<<20))
		body, used, need, err := splitFrame(b, limit)
		if err != nil {
			return
		}
		if body != nil && (used != 4+len(body) || used > len(b) || len(body) > limit) {
			t.Fatalf("frame of %d bytes, used %d of %d", len(body), used, len(b))
		}
		if need > limit+4 {
			t.Fatalf("needs %d bytes with limit %d", need, limit)
		}
	})
}

// TestLoopsAddProcs: each running loop adds a P of its own, so loops
// parked in epoll_wait never hold every P, and shutdown gives them back.
func TestLoopsAddProcs(t *testing.T) {
	before, base := runtime.GOMAXPROCS(0), baseProcs()
	s, err := Listen(Config{Listen: "127.0.0.1:0", Shards: 3, Logger: quiet}, &echo{})
	if err != nil {
		t.Fatal(err)
	}
	s.Start()
	waitFor(t, "the loops to start", 5*time.Second, func() bool { return runtime.GOMAXPROCS(0) == before+3 })
	if got := runtime.GOMAXPROCS(0); got != before+3 || baseProcs() != base {
		t.Fatalf("GOMAXPROCS %d (base %d) with 3 loops running; want %d (base %d)", got, baseProcs(), before+3, base)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := s.Shutdown(ctx); err != nil {
		t.Fatal(err)
	}
	if got := runtime.GOMAXPROCS(0); got != before {
		t.Fatalf("GOMAXPROCS %d after shutdown; want %d", got, before)
	}
}

// waitFor polls cond until it holds or the deadline passes.
func waitFor(t *testing.T, what string, timeout time.Duration, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting for %s", timeout, what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}
