package netio

import (
	"encoding/binary"
	"errors"
	"fmt"
)

// ErrFrameSize is returned for a frame whose declared size is negative or
// over the limit; the stream cannot be resynchronised after it.
var ErrFrameSize = errors.New("netio: frame size out of range")

// splitFrame looks for one complete frame at the start of b. It returns the
// frame body and the bytes it spans (prefix included), or need > 0 with the
// total size the frame will take once its header is known, or 0 when even
// the size prefix is incomplete.
func splitFrame(b []byte, maxFrame int) (body []byte, used, need int, err error) {
	if len(b) < 4 {
		return nil, 0, 0, nil
	}
	size := int32(binary.BigEndian.Uint32(b))
	if size < 0 || int64(size) > int64(maxFrame) {
		return nil, 0, 0, fmt.Errorf("%w: %d bytes declared, limit %d", ErrFrameSize, size, maxFrame)
	}
	total := 4 + int(size)
	if len(b) < total {
		return nil, 0, total, nil
	}
	return b[4:total], total, 0, nil
}
