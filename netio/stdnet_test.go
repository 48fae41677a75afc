package netio

import (
	"context"
	"io"
	"math/rand/v2"
	"net"
	"sync/atomic"
	"testing"
	"time"
)

// The std-net baseline only has to be faithful enough for benchmarks to
// compare like with like: these tests check that it keeps the promises
// that change what a client sees (order, backpressure, drain on shutdown).

func startStd(t *testing.T, cfg Config, h Handler) *StdServer {
	t.Helper()
	cfg.Listen, cfg.Logger = "127.0.0.1:0", quiet
	if cfg.Shards == 0 {
		cfg.Shards = 2
	}
	s, err := ListenStd(cfg, h)
	if err != nil {
		t.Fatal(err)
	}
	s.Start()
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := s.Shutdown(ctx); err != nil {
			t.Errorf("shutdown: %v", err)
		}
	})
	return s
}

func dialAddr(t *testing.T, addr string) net.Conn {
	t.Helper()
	c, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	c.SetDeadline(time.Now().Add(10 * time.Second))
	t.Cleanup(func() { c.Close() })
	return c
}

// TestStdPipelinedInOrder is TestPipelinedInOrder over the std transport:
// many requests at once, split at random byte boundaries, some answered
// late and out of order, some not at all; every answer comes back in
// request order.
func TestStdPipelinedInOrder(t *testing.T) {
	s := startStd(t, Config{}, &echo{})
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
	c := dialAddr(t, s.Addr())
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

// TestStdBackpressure is TestBackpressure over the std transport: a client
// that sends without reading stops being read once the bounds are reached.
func TestStdBackpressure(t *testing.T) {
	var inFlight atomic.Int64
	s := startStd(t, Config{MaxQueuedBytes: 256 << 10, MaxInFlight: 8}, &countingEcho{n: &inFlight})
	c := dialAddr(t, s.Addr())
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

// TestStdShutdownFinishesInFlight: a request answered after Shutdown began
// still reaches the client before the connection closes.
func TestStdShutdownFinishesInFlight(t *testing.T) {
	h := &laterEcho{}
	s, err := ListenStd(Config{Listen: "127.0.0.1:0", Logger: quiet, Shards: 1}, h)
	if err != nil {
		t.Fatal(err)
	}
	s.Start()
	c := dialAddr(t, s.Addr())
	c.Write(frame("late"))
	deadline := time.Now().Add(5 * time.Second)
	for h.pending.Load() == nil && time.Now().Before(deadline) {
		time.Sleep(time.Millisecond)
	}
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
