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
