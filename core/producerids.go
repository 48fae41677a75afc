package core

import (
	"errors"
	"fmt"
	"io/fs"
	"path/filepath"
	"strconv"
	"strings"
	"sync"

	"sluice/disk/vfs"
)

// producerIDs hands out producer ids that are never reused, even across a
// crash: ids are reserved in blocks whose end is persisted before any id of
// the block is given out (the single-node form of the controller's
// producer-id blocks).
type producerIDs struct {
	fs   vfs.FS
	path string

	mu   sync.Mutex
	next int64
	end  int64 // first id of the next block; persisted
}

// producerIDBlock is how many ids one durable write reserves.
const producerIDBlock = 1000

const producerIDsFile = "producer-ids"

func openProducerIDs(fsys vfs.FS, dataDir string) (*producerIDs, error) {
	p := &producerIDs{fs: fsys, path: filepath.Join(dataDir, producerIDsFile)}
	raw, err := vfs.ReadFile(fsys, p.path, 64)
	switch {
	case errors.Is(err, fs.ErrNotExist):
	case err != nil:
		return nil, err
	default:
		n, err := strconv.ParseInt(strings.TrimSpace(string(raw)), 10, 64)
		if err != nil || n < 0 {
			return nil, fmt.Errorf("%s: %q is not a producer id", p.path, raw)
		}
		p.next, p.end = n, n
	}
	return p, nil
}

// allocate returns a fresh producer id. Every thousandth call writes and
// syncs a small file.
func (p *producerIDs) allocate() (int64, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.next == p.end {
		end := p.end + producerIDBlock
		if err := vfs.WriteFileAtomic(p.fs, p.path, []byte(strconv.FormatInt(end, 10)+"\n")); err != nil {
			return -1, err
		}
		p.end = end
	}
	id := p.next
	p.next++
	return id, nil
}
