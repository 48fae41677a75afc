package tune

import (
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// TestMeasureDisk measures a temporary directory with tiny bounds: the
// profile is stored, its figures are consistent, and the scratch file is
// gone.
func TestMeasureDisk(t *testing.T) {
	dir := t.TempDir()
	b := DiskBounds{WriteDuration: time.Second, MaxWriteBytes: 4 << 20, SyncDuration: time.Second, MaxSyncs: 20}
	p, err := MeasureDisk(dir, b)
	if err != nil {
		t.Fatal(err)
	}
	if p.WriteBytes <= 0 || p.WriteBytes > b.MaxWriteBytes || p.WriteBytes%(1<<20) != 0 || p.WriteBytesPerSec <= 0 {
		t.Errorf("write phase: %+v", p)
	}
	if p.Syncs < 1 || p.Syncs > b.MaxSyncs || p.SyncP50Us <= 0 || p.SyncP50Us > p.SyncP99Us || p.SyncP99Us > p.SyncMaxUs {
		t.Errorf("sync phase: %+v", p)
	}
	raw, err := os.ReadFile(filepath.Join(dir, ProfileFile))
	if err != nil {
		t.Fatal(err)
	}
	var stored DiskProfile
	if err := json.Unmarshal(raw, &stored); err != nil {
		t.Fatal(err)
	}
	if stored.WriteBytes != p.WriteBytes || stored.Syncs != p.Syncs || stored.Note == "" {
		t.Errorf("stored %+v, measured %+v", stored, p)
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 1 {
		t.Errorf("dir holds %v, want only %s", entries, ProfileFile)
	}
}

func TestMeasureDiskErrors(t *testing.T) {
	if _, err := MeasureDisk(filepath.Join(t.TempDir(), "missing"), DefaultDiskBounds); err == nil {
		t.Error("missing dir accepted")
	}
	dir := t.TempDir()
	if _, err := MeasureDisk(dir, DiskBounds{MaxWriteBytes: 4096, MaxSyncs: 1}); err == nil {
		t.Error("MaxWriteBytes below one write accepted")
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 0 {
		t.Errorf("left %v behind", entries)
	}
}

func TestAlignedBuffer(t *testing.T) {
	for _, n := range []int{4096, 1 << 20} {
		b := alignedBuffer(n)
		if len(b) != n || cap(b) != n {
			t.Fatalf("len %d cap %d", len(b), cap(b))
		}
	}
}
