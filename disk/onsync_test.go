package disk

import (
	"sync/atomic"
	"testing"
	"time"

	"sluice/disk/batch/batchtest"
	"sluice/disk/vfs"
)

// TestOnSyncReportsEachSync checks that Config.OnSync hears of the
// fdatasync a durable append asks for, survives SetConfig, and is not
// called for appends that do not ask for one.
func TestOnSyncReportsEachSync(t *testing.T) {
	var syncs atomic.Int64
	cfg := testConfig()
	cfg.OnSync = func(d time.Duration) {
		if d < 0 {
			t.Errorf("negative sync duration %v", d)
		}
		syncs.Add(1)
	}
	l := mustOpen(t, vfs.NewMem(), "/p0", cfg)
	defer l.Close()
	res, err := l.Append(batchtest.Values(1, "a"), 0, false)
	if err != nil {
		t.Fatal(err)
	}
	if err := l.Wait(res.LastOffset+1, false); err != nil {
		t.Fatal(err)
	}
	if n := syncs.Load(); n != 0 {
		t.Fatalf("%d syncs reported before any was asked for", n)
	}
	l.SetConfig(testConfig()) // no OnSync in it: the hook stays
	res, err = l.Append(batchtest.Values(2, "b"), 0, true)
	if err != nil {
		t.Fatal(err)
	}
	if err := l.Wait(res.LastOffset+1, true); err != nil {
		t.Fatal(err)
	}
	if n := syncs.Load(); n < 1 {
		t.Fatalf("%d syncs reported after a durable append", n)
	}
}
