package torture

import (
	"context"
	"os"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
)

// TestShortCampaign runs a 20-second campaign with a fixed seed against a
// freshly built sluice and fails on any violation. Runs within a minute.
func TestShortCampaign(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs a broker for ~30s")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	t.Cleanup(cancel)
	var log strings.Builder
	res, err := Run(ctx, Config{Seed: 7, Duration: 20 * time.Second, Rate: 500, Dir: t.TempDir(), Log: &log})
	t.Log(log.String())
	if err != nil {
		t.Fatal(err)
	}
	var sum strings.Builder
	res.Summary(&sum)
	t.Log(sum.String())
	if len(res.Schedule) == 0 {
		t.Error("no faults scheduled")
	}
	if res.Acked[idemProducer] == 0 || res.Acked[plainProducer] == 0 {
		t.Error("a producer had nothing acknowledged")
	}
	if len(res.Violations) > 0 {
		t.Errorf("%d violations (seed %d); see the summary above", len(res.Violations), res.Seed)
	}
}

func TestScheduleIsSeeded(t *testing.T) {
	a, b := Schedule(1, time.Minute), Schedule(1, time.Minute)
	if !slices.Equal(a, b) {
		t.Fatal("same seed, different schedules")
	}
	if slices.Equal(a, Schedule(2, time.Minute)) {
		t.Fatal("different seeds, same schedule")
	}
	kinds := map[FaultKind]bool{}
	for i, f := range a {
		kinds[f.Kind] = true
		if f.At+f.Hold > time.Minute-2*time.Second || (i > 0 && f.At < a[i-1].At+a[i-1].Hold) {
			t.Fatalf("fault %d %v overlaps or runs past the end", i, f)
		}
	}
	if !kinds[Kill] || !kinds[Pause] {
		t.Fatalf("a minute of faults lacks a kind: %v", a)
	}
	if len(Schedule(1, time.Second)) != 0 {
		t.Fatal("a 1s run has faults")
	}
}

func TestBrokerCloseKills(t *testing.T) {
	if testing.Short() {
		t.Skip("builds sluice")
	}
	dir := t.TempDir()
	bin, err := Build(context.Background(), dir)
	if err != nil {
		t.Fatal(err)
	}
	addr, err := FreeAddr()
	if err != nil {
		t.Fatal(err)
	}
	b := &Broker{Bin: bin, Addr: addr, DataDir: dir + "/data", LogPath: dir + "/log"}
	t.Cleanup(func() { b.Close() })
	if err := b.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	pid := b.Pid()
	if err := b.Pause(); err != nil {
		t.Fatal(err)
	}
	if err := b.Close(); err != nil { // a stopped process must die too
		t.Fatal(err)
	}
	if _, err := os.Stat("/proc/" + itoa(pid)); err == nil {
		t.Fatalf("pid %d still exists after Close", pid)
	}
	if err := b.Start(context.Background()); err != nil { // same port, same data dir
		t.Fatal(err)
	}
}

func itoa(n int) string { return strconv.Itoa(n) }
