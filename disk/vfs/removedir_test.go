package vfs

import (
	"errors"
	"io/fs"
	"path/filepath"
	"testing"
)

// TestRemoveDir removes a directory of files on the real filesystem and on
// Mem, where a crash afterwards must not bring the files back; a missing
// directory is not an error.
func TestRemoveDir(t *testing.T) {
	for name, fsys := range map[string]FS{"OS": OS{}, "Mem": NewMem()} {
		t.Run(name, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "p-0")
			if err := fsys.MkdirAll(dir); err != nil {
				t.Fatal(err)
			}
			for _, n := range []string{"a.log", "a.index"} {
				if err := WriteFileAtomic(fsys, filepath.Join(dir, n), []byte(n)); err != nil {
					t.Fatal(err)
				}
			}
			if err := RemoveDir(fsys, dir); err != nil {
				t.Fatal(err)
			}
			if _, err := fsys.List(dir); !errors.Is(err, fs.ErrNotExist) {
				t.Fatalf("List after RemoveDir: %v", err)
			}
			if err := RemoveDir(fsys, dir); err != nil {
				t.Fatalf("second RemoveDir: %v", err)
			}
			if m, ok := fsys.(*Mem); ok {
				if _, ok := m.CrashClone().ReadFile(filepath.Join(dir, "a.log")); ok {
					t.Fatal("a removed file came back after a crash")
				}
			}
		})
	}
}
