package netio

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// shardEcho answers every request with the id of the shard serving it.
type shardEcho struct{}

func (shardEcho) Request(c *Conn, seq uint64, body []byte) {
	c.Respond(seq, []byte{0, 0, 0, 1, byte(c.Loop().ID)})
}
func (shardEcho) Closed(*Conn) {}

// listenSteered listens without starting, so that a test can look at the
// listeners before the loops own them.
func listenSteered(t *testing.T, cfg Config) *Server {
	t.Helper()
	cfg.Listen = "127.0.0.1:0"
	if cfg.Logger == nil {
		cfg.Logger = quiet
	}
	s, err := Listen(cfg, shardEcho{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		s.Shutdown(ctx)
	})
	return s
}

// requireSteered skips the test when the kernel would not take the
// program, saying why, so that a kernel without eBPF reads as a skip and
// not as a pass.
func requireSteered(t *testing.T, s *Server) {
	t.Helper()
	if !s.steer.attached {
		t.Skipf("eBPF steering not attached here, nothing to test: %v", s.steer.err)
	}
}

// groupHasProgram asks the kernel whether the listener's reuseport group
// has a program, by detaching it: ENOENT means there was none. Call it
// last on a server, or on one whose steering does not matter afterwards.
func groupHasProgram(t *testing.T, lfd int) bool {
	t.Helper()
	err := unix.SetsockoptInt(lfd, unix.SOL_SOCKET, unix.SO_DETACH_REUSEPORT_BPF, 0)
	if errors.Is(err, unix.ENOENT) {
		return false
	}
	if err != nil {
		t.Fatalf("SO_DETACH_REUSEPORT_BPF: %v", err)
	}
	return true
}

func allowedCPUs(t *testing.T) []int {
	t.Helper()
	var set unix.CPUSet
	if err := unix.SchedGetaffinity(0, &set); err != nil {
		t.Fatal(err)
	}
	var cpus []int
	for cpu := range 1024 {
		if set.IsSet(cpu) {
			cpus = append(cpus, cpu)
		}
	}
	return cpus
}

// shardsOnCPU opens conns connections to addr from a thread bound to cpu,
// all open at once, and returns the shard that served each. On loopback
// the SYN is processed in the sender's softirq, on the sender's CPU, which
// is the CPU the steering program sees.
func shardsOnCPU(addr string, cpu, conns int) ([]int, error) {
	type result struct {
		shards []int
		err    error
	}
	done := make(chan result, 1)
	go func() {
		// Never unlocked: the thread exits with the goroutine instead of
		// carrying its affinity back to the scheduler's pool.
		runtime.LockOSThread()
		var set unix.CPUSet
		set.Set(cpu)
		if err := unix.SchedSetaffinity(0, &set); err != nil {
			done <- result{err: fmt.Errorf("bind to CPU %d: %w", cpu, err)}
			return
		}
		var cs []net.Conn
		defer func() {
			for _, c := range cs {
				c.Close()
			}
		}()
		for range conns {
			c, err := net.DialTimeout("tcp", addr, 5*time.Second)
			if err != nil {
				done <- result{err: err}
				return
			}
			c.SetDeadline(time.Now().Add(10 * time.Second))
			cs = append(cs, c)
		}
		var shards []int
		for _, c := range cs {
			var b [5]byte
			if _, err := c.Write(frame("?")); err != nil {
				done <- result{err: err}
				return
			}
			if _, err := io.ReadFull(c, b[:]); err != nil {
				done <- result{err: err}
				return
			}
			shards = append(shards, int(b[4]))
		}
		done <- result{shards: shards}
	}()
	r := <-done
	return r.shards, r.err
}

// TestSteeringByCPU: with the program attached, every connection is
// served, by the shard numbered CPU id modulo shards of the CPU its SYN
// arrived on, so connections from every CPU spread over the shards. Under
// the kernel's hash, 64 connections from one CPU all landing on the
// matching shard would happen once in 2^64.
func TestSteeringByCPU(t *testing.T) {
	const shards, perCPU = 2, 64
	s := listenSteered(t, Config{Shards: shards})
	requireSteered(t, s)
	s.Start()
	served := make([]int, shards)
	for _, cpu := range allowedCPUs(t) {
		got, err := shardsOnCPU(s.Addr(), cpu, perCPU)
		if err != nil {
			t.Fatalf("CPU %d: %v", cpu, err)
		}
		for i, shard := range got {
			if shard != cpu%shards {
				t.Fatalf("CPU %d, connection %d: served by shard %d, want %d", cpu, i, shard, cpu%shards)
			}
			served[shard]++
		}
	}
	t.Logf("connections per shard: %v", served)
	if len(allowedCPUs(t)) >= shards {
		for shard, n := range served {
			if n == 0 {
				t.Errorf("shard %d served nothing: %v", shard, served)
			}
		}
	}
}

// TestSteeringClosedShardFallsBackToHash: when the shard a CPU maps to has
// closed its listener (as happens during shutdown), the helper finds no
// socket and the program passes without choosing, so the kernel hashes the
// connection to a listener still open instead of refusing it.
func TestSteeringClosedShardFallsBackToHash(t *testing.T) {
	const shards = 2
	var cpu = -1
	for _, c := range allowedCPUs(t) {
		if c%shards == 1 {
			cpu = c
			break
		}
	}
	if cpu < 0 {
		t.Skip("no CPU here maps to shard 1")
	}
	s := listenSteered(t, Config{Shards: shards})
	requireSteered(t, s)
	l := s.loops[1]
	unix.Close(l.lfd) // closing drops it from the epoll set and the map
	l.lfd = -1
	s.Start()
	got, err := shardsOnCPU(s.Addr(), cpu, 16)
	if err != nil {
		t.Fatalf("CPU %d with its shard's listener closed: %v", cpu, err)
	}
	for i, shard := range got {
		if shard != 0 {
			t.Fatalf("connection %d served by shard %d, want 0", i, shard)
		}
	}
}

// TestSteeringAttachesProgram checks with the kernel itself that auto
// attaches a program to the listeners' reuseport group.
func TestSteeringAttachesProgram(t *testing.T) {
	s := listenSteered(t, Config{Shards: 2})
	requireSteered(t, s)
	if !groupHasProgram(t, s.loops[1].lfd) {
		t.Fatal("steering reported attached, but the reuseport group has no program")
	}
}

// lockedBuffer is a log destination that loops and the test may share.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (w *lockedBuffer) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.b.Write(p)
}

func (w *lockedBuffer) String() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.b.String()
}

// failSteering makes loading fail as an unprivileged process would, and
// counts the attempts.
func failSteering(t *testing.T) *int {
	calls := new(int)
	old := attachSteering
	attachSteering = func([]int) error {
		*calls++
		return fmt.Errorf("load sk_reuseport program: %w", unix.EPERM)
	}
	t.Cleanup(func() { attachSteering = old })
	return calls
}

// TestSteeringFallback: when the program cannot be loaded, Listen still
// succeeds, says once that it falls back to hashing, attaches nothing, and
// serves every connection across the shards.
func TestSteeringFallback(t *testing.T) {
	calls := failSteering(t)
	var logs lockedBuffer
	log := slog.New(slog.NewTextHandler(&logs, nil))
	s := listenSteered(t, Config{Shards: 2, Logger: log})
	if *calls != 1 {
		t.Fatalf("loader called %d times, want 1", *calls)
	}
	if s.steer.attached || s.steer.err == nil {
		t.Fatalf("steering state %+v after the loader failed", s.steer)
	}
	if groupHasProgram(t, s.loops[0].lfd) {
		t.Fatal("a program is attached after the loader failed")
	}
	s.Start()
	var served [2]int
	for i := range 64 {
		c := dial(t, s)
		c.Write(frame("?"))
		b := readFrame(t, c)
		if len(b) != 1 || int(b[0]) >= len(served) {
			t.Fatalf("connection %d: response %q", i, b)
		}
		served[b[0]]++
	}
	// Each of 64 hashed connections picks a shard independently; all on
	// one shard would happen once in 2^63.
	if served[0] == 0 || served[1] == 0 {
		t.Errorf("connections per shard %v: hashing should spread them", served)
	}
	out := logs.String()
	if n := strings.Count(out, "falling back to SO_REUSEPORT hashing"); n != 1 || !strings.Contains(out, "level=WARN") {
		t.Errorf("want one warning about falling back, got:\n%s", out)
	}
	if !strings.Contains(out, "eBPF unavailable") {
		t.Errorf("the listening line does not say steering is unavailable:\n%s", out)
	}
}

// TestSteeringOff: off loads nothing and attaches nothing, and says so in
// the listening line rather than as a warning.
func TestSteeringOff(t *testing.T) {
	calls := failSteering(t)
	var logs lockedBuffer
	s := listenSteered(t, Config{Shards: 2, Steering: SteeringOff, Logger: slog.New(slog.NewTextHandler(&logs, nil))})
	if *calls != 0 {
		t.Fatalf("loader called %d times with steering off", *calls)
	}
	if groupHasProgram(t, s.loops[0].lfd) {
		t.Fatal("a program is attached with steering off")
	}
	s.Start()
	c := dial(t, s)
	c.Write(frame("?"))
	readFrame(t, c)
	out := logs.String()
	if strings.Contains(out, "WARN") || !strings.Contains(out, "steering off") {
		t.Errorf("log with steering off:\n%s", out)
	}
}

func TestSteeringInvalid(t *testing.T) {
	_, err := Listen(Config{Listen: "127.0.0.1:0", Logger: quiet, Steering: "on"}, shardEcho{})
	if err == nil || !strings.Contains(err.Error(), `"on"`) {
		t.Fatalf("Listen with steering %q: %v", "on", err)
	}
}
