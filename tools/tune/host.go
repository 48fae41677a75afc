package tune

import (
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"golang.org/x/sys/unix"
)

// Host is where the checks read and write: Root joined with absolute paths
// such as /proc/sys/vm/swappiness.
type Host struct {
	// Root is "/" for the real machine, a temporary tree in tests.
	Root string
	// Rlimit returns RLIMIT_NOFILE's soft and hard limits; nil means the
	// calling process's own.
	Rlimit func() (soft, hard uint64, err error)
}

// Real is the machine this process runs on.
func Real() Host { return Host{Root: "/"} }

func (h Host) path(p string) string { return filepath.Join(h.Root, p) }

// read returns the file's contents with surrounding white space trimmed.
func (h Host) read(p string) (string, error) {
	b, err := os.ReadFile(h.path(p))
	if err != nil {
		return "", err
	}
	return strings.TrimSpace(string(b)), nil
}

// glob returns the matches of an absolute pattern, as absolute paths
// without the root, sorted.
func (h Host) glob(pattern string) []string {
	m, _ := filepath.Glob(h.path(pattern))
	out := make([]string, 0, len(m))
	for _, p := range m {
		rel, err := filepath.Rel(h.Root, p)
		if err == nil {
			out = append(out, "/"+rel)
		}
	}
	sort.Strings(out)
	return out
}

// write replaces a sysfs/procfs value. Such files take one write; no
// O_CREAT, so a typo cannot create a file.
func (h Host) write(p, value string) error {
	f, err := os.OpenFile(h.path(p), os.O_WRONLY|os.O_TRUNC, 0)
	if err != nil {
		return err
	}
	_, err = f.WriteString(value)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err
}

func (h Host) nofile() (soft, hard uint64, err error) {
	if h.Rlimit != nil {
		return h.Rlimit()
	}
	var r unix.Rlimit
	if err := unix.Getrlimit(unix.RLIMIT_NOFILE, &r); err != nil {
		return 0, 0, fmt.Errorf("getrlimit: %w", err)
	}
	return r.Cur, r.Max, nil
}

// bracketed returns the [selected] word of a sysfs choice list such as
// "always [madvise] never", and all the words without brackets.
func bracketed(s string) (selected string, all []string) {
	for _, w := range strings.Fields(s) {
		if strings.HasPrefix(w, "[") && strings.HasSuffix(w, "]") {
			w = w[1 : len(w)-1]
			selected = w
		}
		all = append(all, w)
	}
	return selected, all
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}
