package torture

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"syscall"
	"time"
)

// Build compiles sluice/cmd/sluice into dir and returns the binary's path.
func Build(ctx context.Context, dir string) (string, error) {
	bin := filepath.Join(dir, "sluice")
	ctx, cancel := context.WithTimeout(ctx, 5*time.Minute)
	defer cancel()
	out, err := exec.CommandContext(ctx, "go", "build", "-o", bin, "sluice/cmd/sluice").CombinedOutput()
	if err != nil {
		return "", fmt.Errorf("go build sluice/cmd/sluice: %w\n%s", err, out)
	}
	return bin, nil
}

// FreeAddr returns a 127.0.0.1 address with a port that was free a moment ago.
func FreeAddr() (string, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer l.Close()
	return l.Addr().String(), nil
}

// Broker is one `sluice serve` process that can be killed, paused and
// restarted on the same address and data dir. Its output is appended to
// LogPath. Close kills it; call it on every way out.
type Broker struct {
	Bin, Addr, DataDir, LogPath string
	Args                        []string // extra serve flags

	mu     sync.Mutex
	cmd    *exec.Cmd
	done   chan struct{} // closed when cmd has been waited for
	paused bool
}

// readyTimeout bounds how long a start waits for the port to accept.
const readyTimeout = 60 * time.Second

// Start starts the process and waits until its port accepts connections.
func (b *Broker) Start(ctx context.Context) error {
	b.mu.Lock()
	if b.cmd != nil {
		b.mu.Unlock()
		return errors.New("broker already running")
	}
	logf, err := os.OpenFile(b.LogPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		b.mu.Unlock()
		return err
	}
	args := append([]string{"serve", "--listen", b.Addr, "--data-dir", b.DataDir, "--admin-listen", "off"}, b.Args...)
	cmd := exec.Command(b.Bin, args...)
	cmd.Stdout, cmd.Stderr = logf, logf
	// Dies with the harness even if the harness is killed itself.
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		logf.Close()
		b.mu.Unlock()
		return err
	}
	done := make(chan struct{})
	go func() { cmd.Wait(); logf.Close(); close(done) }()
	b.cmd, b.done, b.paused = cmd, done, false
	b.mu.Unlock()

	deadline := time.Now().Add(readyTimeout)
	for time.Now().Before(deadline) {
		select {
		case <-done:
			return fmt.Errorf("sluice exited during start-up: %v (see %s)", cmd.ProcessState, b.LogPath)
		case <-ctx.Done():
			return ctx.Err()
		default:
		}
		if c, err := net.DialTimeout("tcp", b.Addr, 200*time.Millisecond); err == nil {
			c.Close()
			return nil
		}
		time.Sleep(20 * time.Millisecond)
	}
	return fmt.Errorf("sluice not accepting on %s after %v (see %s)", b.Addr, readyTimeout, b.LogPath)
}

// Pid is the running process's id, or 0.
func (b *Broker) Pid() int {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.cmd == nil {
		return 0
	}
	return b.cmd.Process.Pid
}

// Kill sends SIGKILL and waits for the process to be gone.
func (b *Broker) Kill() error {
	b.mu.Lock()
	cmd, done := b.cmd, b.done
	b.cmd, b.paused = nil, false
	b.mu.Unlock()
	if cmd == nil {
		return nil
	}
	cmd.Process.Signal(syscall.SIGKILL) // kills a stopped process too
	select {
	case <-done:
		return nil
	case <-time.After(10 * time.Second):
		return fmt.Errorf("pid %d still there 10s after SIGKILL", cmd.Process.Pid)
	}
}

// Pause sends SIGSTOP; Resume sends SIGCONT.
func (b *Broker) Pause() error  { return b.signal(syscall.SIGSTOP, true) }
func (b *Broker) Resume() error { return b.signal(syscall.SIGCONT, false) }

func (b *Broker) signal(s syscall.Signal, paused bool) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.cmd == nil {
		return errors.New("broker not running")
	}
	b.paused = paused
	return b.cmd.Process.Signal(s)
}

// Close kills the process if it runs. Safe to call more than once.
func (b *Broker) Close() error { return b.Kill() }

// tail returns the last n bytes of the broker's log.
func (b *Broker) tail(n int64) string {
	f, err := os.Open(b.LogPath)
	if err != nil {
		return ""
	}
	defer f.Close()
	if st, err := f.Stat(); err == nil && st.Size() > n {
		f.Seek(st.Size()-n, io.SeekStart)
	}
	buf, _ := io.ReadAll(io.LimitReader(f, n))
	return string(buf)
}
