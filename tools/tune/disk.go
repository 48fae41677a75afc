package tune

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"
)

// DiskBounds bound `sluice tune disk`: each phase stops at its duration or
// its byte/sample cap, whichever comes first.
type DiskBounds struct {
	WriteDuration time.Duration // sequential write phase
	MaxWriteBytes int64         // and the size of the fallocated file
	SyncDuration  time.Duration // write+fdatasync phase
	MaxSyncs      int
}

// DefaultDiskBounds keep the measurement under ~10 s and 1 GiB of disk.
var DefaultDiskBounds = DiskBounds{WriteDuration: 5 * time.Second, MaxWriteBytes: 1 << 30,
	SyncDuration: 5 * time.Second, MaxSyncs: 100000}

// DiskProfile is what `sluice tune disk` measured, as stored in
// DIR/disk-profile.json.
type DiskProfile struct {
	Dir        string    `json:"dir"`
	MeasuredAt time.Time `json:"measuredAt"`
	DirectIO   bool      `json:"directIO"` // false: the filesystem refused O_DIRECT
	// Sequential 1 MiB writes into a fallocated file, then one fdatasync.
	WriteBlockBytes  int     `json:"writeBlockBytes"`
	WriteBytes       int64   `json:"writeBytes"`
	WriteDurationMs  float64 `json:"writeDurationMs"`
	WriteBytesPerSec float64 `json:"writeBytesPerSec"`
	// 4 KiB pwrite + fdatasync at the same offset, one at a time.
	SyncBlockBytes int     `json:"syncBlockBytes"`
	Syncs          int     `json:"syncs"`
	SyncP50Us      float64 `json:"syncP50Us"`
	SyncP99Us      float64 `json:"syncP99Us"`
	SyncMaxUs      float64 `json:"syncMaxUs"`
	Note           string  `json:"note"`
}

// ProfileFile is the name of the stored profile inside the data dir.
const ProfileFile = "disk-profile.json"

const scratchFile = ".sluice-tune-disk"

// MeasureDisk measures dir's disk within b, removes its scratch file, and
// stores the result in dir/disk-profile.json.
func MeasureDisk(dir string, b DiskBounds) (DiskProfile, error) {
	p := DiskProfile{Dir: dir, MeasuredAt: time.Now().UTC(), WriteBlockBytes: 1 << 20, SyncBlockBytes: 4096,
		Note: "stored for the broker to size its write batches; the broker does not read it yet"}
	name := filepath.Join(dir, scratchFile)
	fd, direct, err := openScratch(name)
	if err != nil {
		return p, err
	}
	defer os.Remove(name)
	defer unix.Close(fd)
	p.DirectIO = direct

	buf := alignedBuffer(p.WriteBlockBytes)
	for i := range buf {
		buf[i] = byte(i*7 + 1) // not zeros, in case the device compresses
	}
	size := b.MaxWriteBytes / int64(p.WriteBlockBytes) * int64(p.WriteBlockBytes)
	if size < int64(p.WriteBlockBytes) {
		return p, fmt.Errorf("tune disk: MaxWriteBytes %d is below one %d-byte write", b.MaxWriteBytes, p.WriteBlockBytes)
	}
	if err := unix.Fallocate(fd, 0, 0, size); err != nil && !errors.Is(err, unix.EOPNOTSUPP) {
		return p, fmt.Errorf("tune disk: fallocate %d bytes: %w", size, err)
	}
	start := time.Now()
	deadline := start.Add(b.WriteDuration)
	for p.WriteBytes < size && (p.WriteBytes == 0 || time.Now().Before(deadline)) {
		n, err := unix.Pwrite(fd, buf, p.WriteBytes)
		if err != nil {
			return p, fmt.Errorf("tune disk: write at %d: %w", p.WriteBytes, err)
		}
		p.WriteBytes += int64(n)
	}
	if err := unix.Fdatasync(fd); err != nil {
		return p, fmt.Errorf("tune disk: fdatasync: %w", err)
	}
	el := time.Since(start)
	p.WriteDurationMs = float64(el.Microseconds()) / 1000
	p.WriteBytesPerSec = float64(p.WriteBytes) / el.Seconds()

	small := buf[:p.SyncBlockBytes]
	lat := make([]time.Duration, 0, min(b.MaxSyncs, 1<<16))
	deadline = time.Now().Add(b.SyncDuration)
	for len(lat) < b.MaxSyncs && (len(lat) == 0 || time.Now().Before(deadline)) {
		t := time.Now()
		if _, err := unix.Pwrite(fd, small, 0); err != nil {
			return p, fmt.Errorf("tune disk: 4 KiB write: %w", err)
		}
		if err := unix.Fdatasync(fd); err != nil {
			return p, fmt.Errorf("tune disk: fdatasync: %w", err)
		}
		lat = append(lat, time.Since(t))
	}
	slices.Sort(lat)
	us := func(d time.Duration) float64 { return float64(d.Nanoseconds()) / 1000 }
	p.Syncs = len(lat)
	p.SyncP50Us = us(lat[(len(lat)-1)*50/100])
	p.SyncP99Us = us(lat[(len(lat)-1)*99/100])
	p.SyncMaxUs = us(lat[len(lat)-1])
	return p, storeProfile(dir, p)
}

// openScratch creates the scratch file with O_DIRECT, or without it where
// the filesystem refuses it (tmpfs before Linux 6.6).
func openScratch(name string) (fd int, direct bool, err error) {
	flags := unix.O_RDWR | unix.O_CREAT | unix.O_TRUNC | unix.O_CLOEXEC
	fd, err = unix.Open(name, flags|unix.O_DIRECT, 0o600)
	if err == nil {
		return fd, true, nil
	}
	if !errors.Is(err, unix.EINVAL) {
		return -1, false, fmt.Errorf("tune disk: create %s: %w", name, err)
	}
	fd, err = unix.Open(name, flags, 0o600)
	if err != nil {
		return -1, false, fmt.Errorf("tune disk: create %s: %w", name, err)
	}
	return fd, false, nil
}

// alignedBuffer returns n bytes starting on a 4 KiB boundary, as O_DIRECT
// requires.
func alignedBuffer(n int) []byte {
	const align = 4096
	b := make([]byte, n+align)
	off := int(uintptr(unsafe.Pointer(&b[0])) & (align - 1))
	if off != 0 {
		off = align - off
	}
	return b[off : off+n : off+n]
}

// storeProfile writes the profile to a temporary file and renames it into
// place, so a reader never sees half of one.
func storeProfile(dir string, p DiskProfile) error {
	b, err := json.MarshalIndent(p, "", "  ")
	if err != nil {
		return err
	}
	tmp := filepath.Join(dir, ProfileFile+".tmp")
	if err := os.WriteFile(tmp, append(b, '\n'), 0o644); err != nil {
		return fmt.Errorf("tune disk: %w", err)
	}
	if err := os.Rename(tmp, filepath.Join(dir, ProfileFile)); err != nil {
		os.Remove(tmp)
		return fmt.Errorf("tune disk: %w", err)
	}
	return nil
}
