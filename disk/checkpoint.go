package disk

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io/fs"
	"path/filepath"

	"github.com/klauspost/crc32"

	"sluice/disk/vfs"
)

// Checkpoint files hold one offset each: 8 bytes big-endian and their
// CRC-32C. They are replaced atomically (temporary file, sync, rename, sync
// of the directory), so a reader sees the old value or the new one.
const (
	logStartFile      = "log-start-offset.checkpoint"
	highWatermarkFile = "high-watermark.checkpoint"
)

func writeCheckpoint(fs vfs.FS, dir, name string, v int64) error {
	b := binary.BigEndian.AppendUint64(nil, uint64(v))
	b = binary.BigEndian.AppendUint32(b, crc32.Checksum(b, castagnoli))
	return vfs.WriteFileAtomic(fs, filepath.Join(dir, name), b)
}

// readCheckpoint returns the stored value; ok is false when the file is
// missing. A damaged file is an error: guessing an offset could expose or
// hide data.
func readCheckpoint(fsys vfs.FS, dir, name string) (v int64, ok bool, err error) {
	b, err := vfs.ReadFile(fsys, filepath.Join(dir, name), 64)
	if errors.Is(err, fs.ErrNotExist) {
		return 0, false, nil
	}
	if err != nil {
		return 0, false, err
	}
	if len(b) != 12 || crc32.Checksum(b[:8], castagnoli) != binary.BigEndian.Uint32(b[8:]) {
		return 0, false, fmt.Errorf("checkpoint %s is damaged (%d bytes)", name, len(b))
	}
	return int64(binary.BigEndian.Uint64(b)), true, nil
}
