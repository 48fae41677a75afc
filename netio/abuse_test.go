package netio

import (
	"encoding/binary"
	"math/rand/v2"
	"runtime"
	"strings"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// Resource limits under abuse: idle connections, slowloris clients and
// clients that declare huge frames and send little. Each test measures the
// heap in-process (runtime.ReadMemStats after a GC, so only live memory
// counts) against a bound derived from what the broker should hold, and
// checks that a normal client is answered meanwhile. The abusive clients
// are raw non-Go sockets (unix.Socket), so the client side adds file
// descriptors but nothing to the heap being measured.

// raiseNofile lifts the soft RLIMIT_NOFILE to the hard limit and returns it.
func raiseNofile(t *testing.T) uint64 {
	t.Helper()
	var rl syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &rl); err != nil {
		t.Fatal(err)
	}
	if rl.Cur < rl.Max {
		rl.Cur = rl.Max
		if err := syscall.Setrlimit(syscall.RLIMIT_NOFILE, &rl); err != nil {
			t.Logf("raise RLIMIT_NOFILE: %v", err)
			syscall.Getrlimit(syscall.RLIMIT_NOFILE, &rl)
		}
	}
	return rl.Cur
}

// rawDial opens a blocking loopback connection to s, closed when the test
// ends.
func rawDial(t *testing.T, s *Server) int {
	t.Helper()
	fd, err := unix.Socket(unix.AF_INET, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { unix.Close(fd) })
	port := s.loops[0].port(t)
	if err := unix.Connect(fd, &unix.SockaddrInet4{Addr: [4]byte{127, 0, 0, 1}, Port: port}); err != nil {
		t.Fatalf("connect: %v", err)
	}
	return fd
}

func (l *Loop) port(t *testing.T) int {
	t.Helper()
	sa, err := unix.Getsockname(l.lfd)
	if err != nil {
		t.Fatal(err)
	}
	return sa.(*unix.SockaddrInet4).Port
}

// onLoops runs fn on every loop of s and waits for it.
func onLoops(s *Server, fn func(l *Loop)) {
	for _, l := range s.loops {
		done := make(chan struct{})
		l.Post(func() { fn(l); close(done) })
		<-done
	}
}

// liveHeap is the heap in use after a collection.
func liveHeap() uint64 {
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m.HeapInuse
}

// checkServed asserts that a fresh, well-behaved client gets its answer.
func checkServed(t *testing.T, s *Server, body string) {
	t.Helper()
	c := dial(t, s)
	c.Write(frame(body))
	if got := readFrame(t, c); got != body {
		t.Fatalf("normal client: got %q, want %q", got, body)
	}
	c.Close()
}

func connCount(s *Server) (n int) {
	onLoops(s, func(l *Loop) { n += len(l.conns) })
	return n
}

// TestAbuseIdleConnections opens up to 10,000 idle connections (fewer when
// RLIMIT_NOFILE is lower: each takes two descriptors here, client and
// server) and checks that each costs the broker under 4 KiB of heap: a Conn
// and its map entry, a few hundred bytes. Holding a read buffer (readChunk,
// 64 KiB) would cost 16 times the bound, so the bound proves idle
// connections hold none. A normal client is answered among them.
func TestAbuseIdleConnections(t *testing.T) {
	const want, perConnBound = 10000, 4 << 10
	limit := raiseNofile(t)
	n := min(want, (int(limit)-512)/2)
	if n < 2000 {
		t.Skipf("RLIMIT_NOFILE %d allows only %d connections (two descriptors each), under 2000", limit, n)
	}
	s := start(t, Config{Shards: 2}, &echo{})
	checkServed(t, s, "warm")
	waitFor(t, "the warm-up connection to go", 5*time.Second, func() bool { return connCount(s) == 0 })
	before := liveHeap()
	for range n {
		rawDial(t, s)
	}
	waitFor(t, "the server to accept every connection", 10*time.Second, func() bool { return connCount(s) >= n })
	after := liveHeap()
	per := (int64(after) - int64(before)) / int64(n)
	t.Logf("%d idle connections: heap %d -> %d bytes, %d bytes each", n, before, after, per)
	if per > perConnBound {
		t.Fatalf("%d bytes of heap per idle connection, bound %d", per, perConnBound)
	}
	var buffers int
	onLoops(s, func(l *Loop) {
		for _, c := range l.conns {
			if c.in != nil {
				buffers++
			}
		}
	})
	if buffers != 0 {
		t.Fatalf("%d idle connections hold a read buffer", buffers)
	}
	checkServed(t, s, "among idle")
}

// TestAbuseSlowloris: slowlorisConns clients each declare a frame and
// trickle its body a byte at a time, more often than the idle timeout, so
// that a timeout on the last byte read would never fire. Each holds at most
// one read buffer (readChunk) meanwhile; normal clients are answered; and
// since bytes in the middle of a frame do not count as activity, the idle
// timeout closes them all.
func TestAbuseSlowloris(t *testing.T) {
	const slowlorisConns = 200
	const idle = 300 * time.Millisecond
	raiseNofile(t)
	s := start(t, Config{Shards: 2, IdleTimeout: idle}, &echo{})
	checkServed(t, s, "warm")
	before := liveHeap()
	fds := make([]int, slowlorisConns)
	for i := range fds {
		fds[i] = rawDial(t, s)
		if _, err := unix.Write(fds[i], binary.BigEndian.AppendUint32(nil, 100000)); err != nil {
			t.Fatal(err)
		}
	}
	open := slowlorisConns
	alive := make([]bool, slowlorisConns)
	for i := range alive {
		alive[i] = true
	}
	// Send a byte on every live connection every idle/6 until the server
	// has closed them all; a send on a closed one fails (the first may
	// still succeed, drawing the reset).
	deadline := time.Now().Add(idle + 5*time.Second)
	served := 0
	var peak uint64
	for open > 0 && time.Now().Before(deadline) {
		for i, fd := range fds {
			if alive[i] {
				if err := unix.Sendto(fd, []byte{'x'}, unix.MSG_NOSIGNAL, nil); err != nil {
					alive[i] = false
					open--
				}
			}
		}
		if served < 3 {
			checkServed(t, s, "past slowloris")
			served++
			peak = max(peak, liveHeap())
		}
		time.Sleep(idle / 6)
	}
	if open > 0 {
		t.Fatalf("%d of %d slowloris connections still open after the idle timeout (%v) and 5 s", open, slowlorisConns, idle)
	}
	// Each connection may hold one read buffer; the bytes sent are few.
	bound := uint64(slowlorisConns*(readChunk+4<<10) + 8<<20)
	t.Logf("heap %d -> peak %d bytes (bound: growth under %d)", before, peak, bound)
	if peak > before && peak-before > bound {
		t.Fatalf("heap grew by %d bytes with %d slowloris connections, bound %d", peak-before, slowlorisConns, bound)
	}
	checkServed(t, s, "after slowloris")
}

// TestAbuseHugeDeclaredFrames: hugeConns clients each declare a frame just
// under MaxFrameBytes (100 MiB) and send only part of it. Allocating the
// declared size would take hugeConns x 100 MiB; the buffer must instead
// grow as bytes arrive, holding under twice what was sent plus readChunk.
// Normal clients are answered meanwhile.
func TestAbuseHugeDeclaredFrames(t *testing.T) {
	const hugeConns, declared, sent = 50, 100<<20 - 4, 1 << 20
	raiseNofile(t)
	s := start(t, Config{Shards: 2}, &echo{})
	checkServed(t, s, "warm")
	before := liveHeap()
	chunk := make([]byte, 64<<10)
	for range hugeConns {
		fd := rawDial(t, s)
		if _, err := unix.Write(fd, binary.BigEndian.AppendUint32(nil, declared)); err != nil {
			t.Fatal(err)
		}
		for k := 0; k < sent; k += len(chunk) {
			if _, err := unix.Write(fd, chunk); err != nil {
				t.Fatal(err)
			}
		}
	}
	waitFor(t, "the server to read what was sent", 10*time.Second, func() bool {
		full := 0
		onLoops(s, func(l *Loop) {
			for _, c := range l.conns {
				if c.n-c.off >= 4+sent {
					full++
				}
			}
		})
		return full == hugeConns
	})
	checkServed(t, s, "past huge frames")
	after := liveHeap()
	bound := uint64(hugeConns*(2*sent+readChunk) + 8<<20)
	t.Logf("%d connections declaring %d bytes, each sent %d: heap %d -> %d bytes (bound: growth under %d)",
		hugeConns, declared, sent, before, after, bound)
	if after > before && after-before > bound {
		t.Fatalf("heap grew by %d bytes, bound %d (declared in all: %d)", after-before, bound, hugeConns*declared)
	}
}

// TestLargeFrameGrowsAsBytesArrive: frames larger than readChunk, sent in
// random pieces behind small ones, still arrive whole and in order now that
// the buffer grows by doubling instead of to the declared size at once.
func TestLargeFrameGrowsAsBytesArrive(t *testing.T) {
	s := start(t, Config{}, &echo{})
	c := dial(t, s)
	rng := rand.New(rand.NewPCG(2, 2))
	var stream []byte
	var want []string
	for i, size := range []int{10, 5 << 20, 3, readChunk - 4, readChunk + 1, 1 << 20, 7} {
		body := strings.Repeat(string(rune('a'+i)), size)
		stream = append(stream, frame(body)...)
		want = append(want, body)
	}
	go func() {
		for len(stream) > 0 {
			n := min(len(stream), 1+rng.IntN(200<<10))
			c.Write(stream[:n])
			stream = stream[n:]
		}
	}()
	for i, w := range want {
		if got := readFrame(t, c); got != w {
			t.Fatalf("response %d: got %d bytes, want %d", i, len(got), len(w))
		}
	}
}
