package logtool

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"

	"sluice/disk/batch"
)

// Problem is the first thing in a log that does not check out, where it
// is: the file, the byte position in it and, when known, the offset the
// batch there has or should have had.
type Problem struct {
	File     string `json:"file"`
	Position int64  `json:"position"`
	Offset   int64  `json:"offset"` // -1 when unknown
	Reason   string `json:"reason"`
}

func (p *Problem) Error() string {
	if p.Offset >= 0 {
		return fmt.Sprintf("%s at byte %d (offset %d): %s", p.File, p.Position, p.Offset, p.Reason)
	}
	return fmt.Sprintf("%s at byte %d: %s", p.File, p.Position, p.Reason)
}

// Segments lists the segment files of a partition directory in offset
// order, or returns path alone when it names a file.
func Segments(path string) ([]string, error) {
	st, err := os.Stat(path)
	if err != nil {
		return nil, err
	}
	if !st.IsDir() {
		return []string{path}, nil
	}
	ents, err := os.ReadDir(path)
	if err != nil {
		return nil, err
	}
	type seg struct {
		base int64
		name string
	}
	var segs []seg
	for _, e := range ents {
		if base, ok := segmentBase(e.Name()); ok && !e.IsDir() {
			segs = append(segs, seg{base, e.Name()})
		}
	}
	if len(segs) == 0 {
		return nil, fmt.Errorf("%s: no segment files (<20-digit base offset>.log)", path)
	}
	sort.Slice(segs, func(i, j int) bool { return segs[i].base < segs[j].base })
	out := make([]string, len(segs))
	for i, s := range segs {
		out[i] = filepath.Join(path, s.name)
	}
	return out, nil
}

// segmentBase parses a segment file name, as disk names them: the base
// offset in 20 digits, then ".log".
func segmentBase(name string) (int64, bool) {
	s, ok := strings.CutSuffix(filepath.Base(name), ".log")
	if !ok || len(s) != 20 {
		return 0, false
	}
	v, err := strconv.ParseInt(s, 10, 64)
	return v, err == nil && v >= 0
}

// Batch is one batch found in a segment file.
type Batch struct {
	File     string
	Position int64
	Header   batch.Header
	CRCOK    bool
	Invalid  error // what batch.Validate says of it, nil when it is whole and sound
}

// readBufBytes is the read-ahead of a scan: big enough that walking
// headers of small batches is not a syscall each, small beside a segment.
const readBufBytes = 1 << 20

// scanFile walks one segment file batch by batch, as disk's recovery does,
// calling fn for each batch it can frame. A scan ends cleanly at the end
// of the file or at an all-zero header (the preallocated tail the log
// treats as its end), once it has checked that only zeros follow. It
// returns a *Problem when it cannot frame a batch (a partial or bad
// header, a length running past the file) or finds data after the zeros.
// The batch bytes given to fn are only valid during the call.
func scanFile(path string, fn func(b Batch, raw []byte) error) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return err
	}
	size := st.Size()
	r := bufio.NewReaderSize(f, readBufBytes)
	var buf []byte
	pos := int64(0)
	for pos < size {
		n := int(min(batch.HeaderSize, size-pos))
		buf = grow(buf, batch.HeaderSize)
		if _, err := io.ReadFull(r, buf[:n]); err != nil {
			return fmt.Errorf("%s: read at %d: %w", path, pos, err)
		}
		if allZero(buf[:n]) {
			return checkZeroTail(path, r, pos, pos+int64(n))
		}
		if n < batch.HeaderSize {
			return &Problem{path, pos, -1, fmt.Sprintf("partial batch header: the file ends %d bytes in", n)}
		}
		h, err := batch.ParseHeader(buf)
		if err != nil {
			return &Problem{path, pos, -1, err.Error()}
		}
		// The length is checked against the bytes left before anything
		// is allocated for it.
		if left := size - pos; int64(h.Size()) > left {
			return &Problem{path, pos, h.BaseOffset, fmt.Sprintf("batch of %d bytes runs past the end of the file (%d bytes left)", h.Size(), left)}
		}
		buf = grow(buf, h.Size())
		if _, err := io.ReadFull(r, buf[batch.HeaderSize:h.Size()]); err != nil {
			return fmt.Errorf("%s: read at %d: %w", path, pos, err)
		}
		raw := buf[:h.Size()]
		_, invalid := batch.Validate(raw, 0)
		b := Batch{File: path, Position: pos, Header: h, CRCOK: batch.Checksum(raw) == h.CRC, Invalid: invalid}
		if err := fn(b, raw); err != nil {
			return err
		}
		pos += int64(h.Size())
	}
	return nil
}

// checkZeroTail reads the rest of a file after the zeros at end; any
// non-zero byte is data recovery would drop.
func checkZeroTail(path string, r io.Reader, end, pos int64) error {
	chunk := make([]byte, 64<<10)
	for {
		n, err := r.Read(chunk)
		for i, c := range chunk[:n] {
			if c != 0 {
				return &Problem{path, end, -1, fmt.Sprintf("the log ends in zeros here, but data follows at byte %d; recovery would drop it", pos+int64(i))}
			}
		}
		pos += int64(n)
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("%s: read at %d: %w", path, pos, err)
		}
	}
}

func grow(b []byte, n int) []byte {
	if cap(b) >= n {
		return b[:n]
	}
	nb := make([]byte, n)
	copy(nb, b)
	return nb
}

func allZero(b []byte) bool {
	for _, c := range b {
		if c != 0 {
			return false
		}
	}
	return true
}
