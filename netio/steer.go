package netio

import (
	"errors"
	"fmt"
	"log/slog"
	"runtime"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/asm"
	"golang.org/x/sys/unix"
)

// Steering says how new connections are spread over the shards'
// SO_REUSEPORT listeners.
type Steering string

const (
	// SteeringAuto attaches an eBPF sk_reuseport program that hands a
	// connection to the shard numbered after the CPU that received its SYN
	// (CPU id modulo the shard count), so the softirq work and the shard
	// that serves the connection share a core's caches. When the kernel
	// refuses the program (no CAP_BPF/CAP_NET_ADMIN, old kernel, memlock
	// limit, verifier), one line is logged and the kernel's SO_REUSEPORT
	// hash is used instead.
	SteeringAuto Steering = "auto"
	// SteeringOff leaves the choice to the kernel's SO_REUSEPORT hash.
	SteeringOff Steering = "off"
)

func (s Steering) valid() error {
	switch s {
	case SteeringAuto, SteeringOff:
		return nil
	}
	return fmt.Errorf("netio: steering %q: want %q or %q", s, SteeringAuto, SteeringOff)
}

// steerState is what Listen got: the program attached, or why not.
type steerState struct {
	attached bool
	off      bool  // the configuration turned steering off
	err      error // why the program is not attached, when not off
}

// LogValue names the mode for the listening log line.
func (st steerState) LogValue() slog.Value {
	switch {
	case st.attached:
		return slog.StringValue("eBPF sk_reuseport by CPU")
	case st.off:
		return slog.StringValue("SO_REUSEPORT hash (steering off)")
	}
	return slog.StringValue("SO_REUSEPORT hash (eBPF unavailable)")
}

// attachSteering loads the program and attaches it to the listeners'
// reuseport group. A variable so that tests can make loading fail.
var attachSteering = attachReuseportProg

// steerListeners applies cfg.Steering to the loops' listeners. It never
// fails Listen: steering only changes which shard serves a connection, and
// the kernel's hash is a correct (if less cache-friendly) answer. It runs
// before Start, while no loop touches its listener.
func steerListeners(cfg Config, loops []*Loop) steerState {
	if cfg.Steering == SteeringOff {
		return steerState{off: true}
	}
	// CPU id modulo shards would never pick the shards numbered at or
	// above the CPU count.
	if n := runtime.NumCPU(); cfg.Shards > n {
		err := fmt.Errorf("%d shards on %d CPUs: steering by CPU would leave shards idle", cfg.Shards, n)
		cfg.Logger.Info("eBPF connection steering skipped; falling back to SO_REUSEPORT hashing", "reason", err)
		return steerState{err: err}
	}
	lfds := make([]int, len(loops))
	for i, l := range loops {
		lfds[i] = l.lfd
	}
	if err := attachSteering(lfds); err != nil {
		attrs := []any{"err", err}
		if errors.Is(err, unix.EPERM) {
			// cilium/ebpf's own hint blames RLIMIT_MEMLOCK, which kernels
			// since 5.11 no longer charge; a missing capability is likelier.
			attrs = append(attrs, "hint", "needs root, or CAP_BPF and CAP_NET_ADMIN")
		}
		cfg.Logger.Warn("eBPF connection steering unavailable; falling back to SO_REUSEPORT hashing", attrs...)
		return steerState{err: err}
	}
	return steerState{attached: true}
}

// attachReuseportProg builds the map and the program and attaches the
// program to the reuseport group of lfds, which must be listening on one
// address, lfds[i] serving shard i.
//
// The program:
//
//	key = bpf_get_smp_processor_id() % len(lfds)
//	bpf_sk_select_reuseport(ctx, listeners, &key, 0)
//	return SK_PASS
//
// SK_PASS is returned whether or not the helper found a socket: the kernel
// (reuseport_select_sock) falls back to its hash when the program passes
// without selecting, whereas SK_DROP would refuse the connection. The
// helper fails with ENOENT once a shard's listener is closed (closing
// removes it from the map), so connections arriving during shutdown go to
// the listeners still open.
//
// Our descriptors for the map and the program are closed on return: the
// reuseport group holds the program and the program holds the map, until
// the last listener closes.
func attachReuseportProg(lfds []int) error {
	n := len(lfds)
	if n == 0 {
		return errors.New("no listeners")
	}
	m, err := ebpf.NewMap(&ebpf.MapSpec{
		Name:       "sluice_shards",
		Type:       ebpf.ReusePortSockArray,
		KeySize:    4,
		ValueSize:  8, // a socket fd; the kernel accepts 4 or 8 bytes
		MaxEntries: uint32(n),
	})
	if err != nil {
		return fmt.Errorf("create REUSEPORT_SOCKARRAY map: %w", err)
	}
	defer m.Close()
	for i, fd := range lfds {
		if err := m.Update(uint32(i), uint64(fd), ebpf.UpdateAny); err != nil {
			return fmt.Errorf("put shard %d listener in map: %w", i, err)
		}
	}
	const key = -4 // stack offset of the u32 key
	prog, err := ebpf.NewProgram(&ebpf.ProgramSpec{
		Name: "sluice_steer",
		Type: ebpf.SkReuseport,
		// Neither helper is GPL-only; a GPL-compatible string keeps it
		// loadable should that change.
		License: "Dual MIT/GPL",
		Instructions: asm.Instructions{
			asm.Mov.Reg(asm.R6, asm.R1), // ctx survives the first call in a callee-saved register
			asm.FnGetSmpProcessorId.Call(),
			asm.Mod.Imm32(asm.R0, int32(n)),
			asm.StoreMem(asm.RFP, key, asm.R0, asm.Word),
			asm.Mov.Reg(asm.R1, asm.R6),
			asm.LoadMapPtr(asm.R2, m.FD()),
			asm.Mov.Reg(asm.R3, asm.RFP),
			asm.Add.Imm(asm.R3, key),
			asm.Mov.Imm(asm.R4, 0),
			asm.FnSkSelectReuseport.Call(),
			asm.Mov.Imm(asm.R0, 1), // SK_PASS
			asm.Return(),
		},
	})
	if err != nil {
		return fmt.Errorf("load sk_reuseport program: %w", err)
	}
	defer prog.Close()
	// The program belongs to the reuseport group, not to the socket it is
	// set on, so one listener is enough.
	if err := unix.SetsockoptInt(lfds[0], unix.SOL_SOCKET, unix.SO_ATTACH_REUSEPORT_EBPF, prog.FD()); err != nil {
		return fmt.Errorf("setsockopt SO_ATTACH_REUSEPORT_EBPF: %w", err)
	}
	return nil
}
