package netio

import (
	"context"
	"fmt"
	"net"
	"net/netip"
	"strconv"
	"time"

	"golang.org/x/sys/unix"
)

// Server is a set of event loops serving one address.
type Server struct {
	cfg   Config
	loops []*Loop
	addr  string
	// started: Start ran the loops (Shutdown of a server never started
	// only closes its sockets).
	started bool
	steer   steerState // set by Listen, see steer.go
}

// Listen opens one SO_REUSEPORT listener per shard on cfg.Listen (Start
// runs them). With cfg.Steering auto, an eBPF program hands each new
// connection to the shard of the CPU that received it; otherwise, or when
// the kernel refuses the program, the kernel spreads them by hash.
func Listen(cfg Config, h Handler) (*Server, error) {
	cfg = cfg.withDefaults()
	if err := cfg.Steering.valid(); err != nil {
		return nil, err
	}
	ap, err := netip.ParseAddrPort(cfg.Listen)
	if err != nil {
		host, port, serr := net.SplitHostPort(cfg.Listen)
		if serr != nil {
			return nil, fmt.Errorf("netio: listen address %q: %w", cfg.Listen, err)
		}
		ips, lerr := net.LookupIP(host)
		if lerr != nil || len(ips) == 0 {
			return nil, fmt.Errorf("netio: resolve %q: %w", host, lerr)
		}
		p, _ := strconv.Atoi(port)
		a, _ := netip.AddrFromSlice(ips[0])
		ap = netip.AddrPortFrom(a.Unmap(), uint16(p))
	}
	s := &Server{cfg: cfg}
	port := ap.Port()
	for i := range cfg.Shards {
		lfd, bound, err := listenReusePort(netip.AddrPortFrom(ap.Addr(), port))
		if err != nil {
			s.closeLoops()
			return nil, err
		}
		port = bound
		l, err := newLoop(i, cfg, h, lfd)
		if err != nil {
			unix.Close(lfd)
			s.closeLoops()
			return nil, err
		}
		s.loops = append(s.loops, l)
	}
	s.addr = netip.AddrPortFrom(ap.Addr(), port).String()
	s.steer = steerListeners(s.cfg, s.loops)
	return s, nil
}

// Start runs the loops. Connections that arrive between Listen and Start
// wait in the listen backlog, so the caller can finish loading state that
// handlers need.
func (s *Server) Start() {
	s.started = true
	for _, l := range s.loops {
		go l.run()
	}
	s.cfg.Logger.Info("listening", "addr", s.addr, "shards", s.cfg.Shards, "steering", s.steer)
}

func listenReusePort(ap netip.AddrPort) (fd int, port uint16, err error) {
	family := unix.AF_INET
	var sa unix.Sockaddr = &unix.SockaddrInet4{Addr: ap.Addr().As4(), Port: int(ap.Port())}
	if ap.Addr().Is6() {
		family = unix.AF_INET6
		sa = &unix.SockaddrInet6{Addr: ap.Addr().As16(), Port: int(ap.Port())}
	}
	fd, err = unix.Socket(family, unix.SOCK_STREAM|unix.SOCK_NONBLOCK|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return -1, 0, fmt.Errorf("netio: socket: %w", err)
	}
	for _, opt := range []int{unix.SO_REUSEADDR, unix.SO_REUSEPORT} {
		if err := unix.SetsockoptInt(fd, unix.SOL_SOCKET, opt, 1); err != nil {
			unix.Close(fd)
			return -1, 0, fmt.Errorf("netio: setsockopt: %w", err)
		}
	}
	if err := unix.Bind(fd, sa); err != nil {
		unix.Close(fd)
		return -1, 0, fmt.Errorf("netio: bind %s: %w", ap, err)
	}
	if err := unix.Listen(fd, 4096); err != nil {
		unix.Close(fd)
		return -1, 0, fmt.Errorf("netio: listen %s: %w", ap, err)
	}
	got, err := unix.Getsockname(fd)
	if err != nil {
		unix.Close(fd)
		return -1, 0, err
	}
	switch a := got.(type) {
	case *unix.SockaddrInet4:
		port = uint16(a.Port)
	case *unix.SockaddrInet6:
		port = uint16(a.Port)
	}
	return fd, port, nil
}

// Addr is the address the server listens on, with the port it got.
func (s *Server) Addr() string { return s.addr }

// Loops are the shards' event loops, indexed by shard.
func (s *Server) Loops() []*Loop { return s.loops }

// Shutdown stops accepting, lets every connection finish the requests it
// has in flight and write their responses (reading no new ones), and then
// closes them all. Loops wait for one another, since a request on one may
// need a partition on another. When ctx ends first, what is left is closed
// at once.
func (s *Server) Shutdown(ctx context.Context) error {
	if !s.started {
		s.closeLoops()
		return nil
	}
	for _, l := range s.loops {
		l.mu.Lock()
		l.draining = true
		l.mu.Unlock()
		l.Post(func() {
			l.stopping = true
			for _, c := range l.conns {
				c.paused = true
			}
		})
	}
	tick := time.NewTicker(time.Millisecond)
	defer tick.Stop()
	var err error
	for !s.drained() {
		select {
		case <-ctx.Done():
			err = ctx.Err()
		case <-tick.C:
			continue
		}
		break
	}
	for _, l := range s.loops {
		l.mu.Lock()
		l.exit = true
		l.mu.Unlock()
		l.Post(func() {})
	}
	for _, l := range s.loops {
		<-l.done
	}
	return err
}

// drained asks every loop whether it still has work in flight.
func (s *Server) drained() bool {
	for _, l := range s.loops {
		busy := make(chan bool, 1)
		l.Post(func() { busy <- l.busy() })
		select {
		case b := <-busy:
			if b {
				return false
			}
		case <-l.done:
		}
	}
	return true
}

func (s *Server) closeLoops() {
	for _, l := range s.loops {
		l.closeFds()
	}
}

func fmtAddr(ip []byte, port int) string {
	a, _ := netip.AddrFromSlice(ip)
	return netip.AddrPortFrom(a.Unmap(), uint16(port)).String()
}
