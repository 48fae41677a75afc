package tune

import (
	"path/filepath"
	"strconv"
	"strings"
)

// mount is one line of /proc/self/mountinfo.
type mount struct {
	point, fstype, source string
	opts                  []string // per-mount and superblock options together
}

// parseMountinfo reads the lines of proc(5)'s mountinfo:
//
//	36 35 98:0 /mnt1 /mnt2 rw,noatime master:1 - ext3 /dev/root rw,errors=continue
//	                 ^point ^mount opts           ^type ^source ^super opts
func parseMountinfo(s string) []mount {
	var ms []mount
	for _, l := range strings.Split(s, "\n") {
		f := strings.Fields(l)
		sep := -1
		for i, w := range f {
			if w == "-" && i >= 6 {
				sep = i
				break
			}
		}
		if sep < 0 || len(f) < sep+4 {
			continue
		}
		opts := strings.Split(f[5], ",")
		opts = append(opts, strings.Split(f[sep+3], ",")...)
		ms = append(ms, mount{point: unescapeOctal(f[4]), fstype: f[sep+1], source: f[sep+2], opts: opts})
	}
	return ms
}

// unescapeOctal undoes mountinfo's \040-style escapes of space, tab,
// newline and backslash.
func unescapeOctal(s string) string {
	if !strings.Contains(s, `\`) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+4 <= len(s) {
			if n, err := strconv.ParseUint(s[i+1:i+4], 8, 8); err == nil {
				b.WriteByte(byte(n))
				i += 3
				continue
			}
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

// mountOf returns the mount holding dir: the last listed (so the topmost
// of stacked mounts) with the longest mount point that is dir or a parent.
func mountOf(ms []mount, dir string) (mount, bool) {
	dir = filepath.Clean(dir)
	var best mount
	found := false
	for _, m := range ms {
		if dir == m.point || m.point == "/" || strings.HasPrefix(dir, m.point+"/") {
			if !found || len(m.point) >= len(best.point) {
				best, found = m, true
			}
		}
	}
	return best, found
}

// dataDirMount checks the filesystem type and mount options of the mount
// holding dataDir. None is fixable here: they need a remount, which tune
// never does.
func dataDirMount(h Host, dataDir string) []Check {
	if dataDir == "" {
		return []Check{{Name: "data dir filesystem", Status: Info, Found: "no --data-dir given",
			Recommend: "run with --data-dir DIR (the broker's log.dirs)", Why: "the filesystem checks need to know where the data lives"}}
	}
	raw, err := h.read("/proc/self/mountinfo")
	if err != nil {
		return []Check{unreadable("data dir filesystem", "/proc/self/mountinfo", err)}
	}
	m, ok := mountOf(parseMountinfo(raw), dataDir)
	if !ok {
		return []Check{{Name: "data dir filesystem", Status: Warn, Found: "no mount holds " + dataDir,
			Recommend: "check the path", Why: "the filesystem cannot be checked"}}
	}
	where := dataDir + " is on " + m.point + " (" + m.source + ")"
	fs := Check{Name: "data dir filesystem", Status: OK, Found: where + ": " + m.fstype, Recommend: "xfs or ext4",
		Why: "both do O_DIRECT, fallocate and fdatasync well and are what the broker is tested on; tmpfs loses data on reboot, network and FUSE filesystems differ in fsync and O_DIRECT semantics"}
	if m.fstype != "xfs" && m.fstype != "ext4" {
		fs.Status = Warn
	}
	opts := strings.Join(m.opts, ",")
	atime := Check{Name: "data dir noatime", Status: OK, Found: where + " with " + opts,
		Recommend: "noatime (in /etc/fstab; takes a remount, which tune does not do)",
		Why:       "reading a segment otherwise updates its inode's access time, a metadata write for nothing"}
	if !contains(m.opts, "noatime") {
		atime.Status = Warn
	}
	discard := Check{Name: "data dir discard", Status: OK, Found: where + " with " + opts,
		Recommend: "no online discard; run fstrim periodically instead (systemctl enable --now fstrim.timer)",
		Why:       "with online discard, unlinking a retired 1 GiB segment sends a 1 GiB TRIM that stalls the device for hundreds of ms (BENCHMARKS.md, disk section); fstrim batches it off the hot path"}
	if contains(m.opts, "discard") {
		discard.Status = Warn
	}
	return []Check{fs, atime, discard}
}
