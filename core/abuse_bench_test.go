package core

import (
	"encoding/binary"
	"fmt"
	"net/netip"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// Abusive clients, each bounded, run against the broker while a normal
// producer is measured (BenchmarkProduceLatencyUnderAbuse). They are raw
// sockets (unix.Socket), not Go net.Conns, so that they cost the process
// descriptors and a goroutine at most, not heap or scheduler work per
// connection.
const (
	abuseIdleConns      = 10000 // fewer when RLIMIT_NOFILE is lower
	abuseSlowlorisConns = 200   // each sends one byte a second
	abuseHugeConns      = 50    // each declares a frame of abuseHugeDeclared
	abuseHugeDeclared   = 100<<20 - 4
	abuseHugeFirst      = 1 << 20  // bytes each huge client sends at once
	abuseHugeRate       = 64 << 10 // then bytes per second, each
	abuseHugeMax        = 50 << 20 // and no more than this, each: frames never complete
)

// abuses start one kind of abuse against addr and return a func that stops
// it; the connections close when the benchmark ends.
var abuses = []struct {
	name  string
	start func(b *testing.B, addr string) (stop func())
}{
	{"none", func(*testing.B, string) func() { return func() {} }},
	{"idle", abuseIdle},
	{"slowloris", abuseSlowloris},
	{"huge", abuseHuge},
}

// BenchmarkProduceLatencyUnderAbuse is BenchmarkProduceLatency (same
// producers, rate, open-loop pacer and metrics; epoll transport only)
// while abusive clients run against the same broker: abuse=none for the
// baseline; abuse=idle, abuseIdleConns idle connections; abuse=slowloris,
// abuseSlowlorisConns connections each declaring a 100,000-byte frame and
// sending it a byte a second; abuse=huge, abuseHugeConns connections each
// declaring a frame just under 100 MiB (the default MaxFrameBytes),
// sending 1 MiB of it at once and then 64 KiB a second. The abuse starts
// before the timer and runs until the last record is acknowledged.
// heap-MiB is the live heap (after a GC) at that moment, broker and
// clients together.
func BenchmarkProduceLatencyUnderAbuse(b *testing.B) {
	b.Run(fmt.Sprintf("acks=all/rate=%d", *latencyRate), func(b *testing.B) {
		for _, a := range abuses {
			b.Run("abuse="+a.name, func(b *testing.B) {
				benchmarkProduceLatency(b, false, latencyProducers, *latencyRate, a.start)
			})
		}
	})
}

// abuseDial opens a blocking raw connection to addr, closed when the
// benchmark ends.
func abuseDial(b *testing.B, addr string) int {
	b.Helper()
	ap, err := netip.ParseAddrPort(addr)
	if err != nil || !ap.Addr().Is4() {
		b.Fatalf("abuse needs an IPv4 address, got %q: %v", addr, err)
	}
	fd, err := unix.Socket(unix.AF_INET, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { unix.Close(fd) })
	if err := unix.Connect(fd, &unix.SockaddrInet4{Addr: ap.Addr().As4(), Port: int(ap.Port())}); err != nil {
		b.Fatalf("connect: %v", err)
	}
	return fd
}

func abuseIdle(b *testing.B, addr string) func() {
	var rl syscall.Rlimit
	syscall.Getrlimit(syscall.RLIMIT_NOFILE, &rl)
	if rl.Cur < rl.Max {
		rl.Cur = rl.Max
		syscall.Setrlimit(syscall.RLIMIT_NOFILE, &rl)
		syscall.Getrlimit(syscall.RLIMIT_NOFILE, &rl)
	}
	// Two descriptors a connection (client and server, one process), and
	// room for the producers and the broker's files.
	n := min(abuseIdleConns, (int(rl.Cur)-1024)/2)
	for range n {
		abuseDial(b, addr)
	}
	b.Logf("%d idle connections", n)
	return func() {}
}

// trickle runs send once a second until stopped.
func trickle(send func()) (stop func()) {
	done, exited := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(exited)
		t := time.NewTicker(time.Second)
		defer t.Stop()
		for {
			select {
			case <-done:
				return
			case <-t.C:
				send()
			}
		}
	}()
	return func() { close(done); <-exited }
}

func abuseSlowloris(b *testing.B, addr string) func() {
	fds := make([]int, abuseSlowlorisConns)
	for i := range fds {
		fds[i] = abuseDial(b, addr)
		unix.Write(fds[i], binary.BigEndian.AppendUint32(nil, 100000))
	}
	return trickle(func() {
		for _, fd := range fds {
			unix.Sendto(fd, []byte{0}, unix.MSG_NOSIGNAL|unix.MSG_DONTWAIT, nil)
		}
	})
}

func abuseHuge(b *testing.B, addr string) func() {
	fds := make([]int, abuseHugeConns)
	chunk := make([]byte, abuseHugeRate)
	sent := abuseHugeFirst
	for i := range fds {
		fds[i] = abuseDial(b, addr)
		unix.Write(fds[i], binary.BigEndian.AppendUint32(nil, abuseHugeDeclared))
		for k := 0; k < abuseHugeFirst; k += len(chunk) {
			unix.Write(fds[i], chunk)
		}
	}
	return trickle(func() {
		if sent+len(chunk) > abuseHugeMax {
			return
		}
		sent += len(chunk)
		for _, fd := range fds {
			unix.Sendto(fd, chunk, unix.MSG_NOSIGNAL|unix.MSG_DONTWAIT, nil)
		}
	})
}
