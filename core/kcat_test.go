package core

import (
	"fmt"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"
)

// TestKcatRoundTrip produces keyed records with headers through kcat
// (librdkafka) and consumes them back with kcat, in order. make test
// installs kcat; outside CI a missing kcat skips the test.
func TestKcatRoundTrip(t *testing.T) {
	kcat, err := exec.LookPath("kcat")
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatal("kcat is not installed; make test installs it")
		}
		t.Skip("kcat not installed (make test installs it)")
	}
	b := startBroker(t, t.TempDir())
	defer stopBroker(t, b)
	var in, want strings.Builder
	for i := range 50 {
		fmt.Fprintf(&in, "key%d:value %d\n", i%5, i)
		fmt.Fprintf(&want, "key%d=value %d h=v%d offset=%d\n", i%5, i, 1, i)
	}
	run := func(stdin string, args ...string) string {
		t.Helper()
		cmd := exec.Command(kcat, append([]string{"-b", b.Addr()}, args...)...)
		cmd.Stdin = strings.NewReader(stdin)
		cmd.WaitDelay = time.Second
		timer := time.AfterFunc(30*time.Second, func() { cmd.Process.Kill() })
		defer timer.Stop()
		out, err := cmd.Output()
		if err != nil {
			t.Fatalf("kcat %v: %v\n%s", args, err, out)
		}
		return string(out)
	}
	run(in.String(), "-P", "-t", "kc", "-K:", "-H", "h=v1", "-X", "acks=all")
	got := run("", "-C", "-t", "kc", "-e", "-q", "-f", "%k=%s %h offset=%o\n")
	if got != want.String() {
		t.Fatalf("kcat consumed:\n%s\nwant:\n%s", got, want.String())
	}
}

// TestKcatGroupResume: kcat -G (a librdkafka balanced consumer) reads a
// topic to its end and commits on exit; after a broker restart the next
// kcat -G of the group reads only what was produced since.
func TestKcatGroupResume(t *testing.T) {
	kcat, err := exec.LookPath("kcat")
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatal("kcat is not installed; make test installs it")
		}
		t.Skip("kcat not installed (make test installs it)")
	}
	dir := t.TempDir()
	b := startGroupBroker(t, dir, "127.0.0.1:0")
	defer func() { stopBroker(t, b) }()
	run := func(stdin string, args ...string) string {
		t.Helper()
		cmd := exec.Command(kcat, append([]string{"-b", b.Addr()}, args...)...)
		cmd.Stdin = strings.NewReader(stdin)
		cmd.WaitDelay = time.Second
		timer := time.AfterFunc(30*time.Second, func() { cmd.Process.Kill() })
		defer timer.Stop()
		out, err := cmd.Output()
		if err != nil {
			t.Fatalf("kcat %v: %v\n%s", args, err, out)
		}
		return string(out)
	}
	lines := func(from, to int) string {
		var s strings.Builder
		for i := from; i < to; i++ {
			fmt.Fprintf(&s, "v%d\n", i)
		}
		return s.String()
	}
	// Not -o beginning, which kcat -G applies over the committed offsets.
	consume := []string{"-G", "kcat-group", "-X", "auto.offset.reset=earliest", "-e", "-q", "-f", "%s\n", "kg"}
	run(lines(0, 30), "-P", "-t", "kg")
	if got := run("", consume...); got != lines(0, 30) {
		t.Fatalf("first kcat -G read:\n%s", got)
	}
	stopBroker(t, b)
	b = startGroupBroker(t, dir, "127.0.0.1:0")
	run(lines(30, 40), "-P", "-t", "kg")
	if got := run("", consume...); got != lines(30, 40) {
		t.Fatalf("kcat -G after the restart read:\n%s\nwant:\n%s", got, lines(30, 40))
	}
}
