package main

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestTuneCommand runs `sluice tune` on a fake tree: check, then --apply,
// then the JSON output.
func TestTuneCommand(t *testing.T) {
	root := t.TempDir()
	p := filepath.Join(root, "proc/sys/vm/swappiness")
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte("60\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	if err := tuneCmd(nil, &out, root); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), "warn  vm.swappiness [--apply fixes]") {
		t.Errorf("check printed:\n%s", out.String())
	}
	out.Reset()
	if err := tuneCmd([]string{"--apply"}, &out, root); err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(p); string(b) != "1" || !strings.Contains(out.String(), "(was 60)") {
		t.Errorf("after --apply swappiness %q, printed:\n%s", b, out.String())
	}
	out.Reset()
	if err := tuneCmd([]string{"--format", "json", "--data-dir", "/var/lib/sluice"}, &out, root); err != nil {
		t.Fatal(err)
	}
	var checks []map[string]any
	if err := json.Unmarshal(out.Bytes(), &checks); err != nil || len(checks) == 0 {
		t.Fatalf("json: %v\n%s", err, out.String())
	}
	if err := tuneCmd([]string{"extra"}, &out, root); err == nil {
		t.Error("positional argument accepted")
	}
}

// TestTuneDiskCommand measures a temporary dir with tiny bounds.
func TestTuneDiskCommand(t *testing.T) {
	dir := t.TempDir()
	var out bytes.Buffer
	err := tuneCmd([]string{"disk", "--data-dir", dir, "--write-duration", "100ms", "--max-write-bytes", "2097152", "--sync-duration", "100ms"}, &out, "/")
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"sequential write:", "write + fdatasync:  p50", "does not read it yet"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("output lacks %q:\n%s", want, out.String())
		}
	}
	if _, err := os.Stat(filepath.Join(dir, "disk-profile.json")); err != nil {
		t.Error(err)
	}
	if err := tuneCmd([]string{"disk"}, &out, "/"); err == nil {
		t.Error("missing --data-dir accepted")
	}
}
