package disk

import (
	"bufio"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"os"
	"strconv"
	"time"

	"sluice/disk/batch/batchtest"
	"sluice/disk/vfs"
)

// The child side of TestCrashKill9: a process that appends to a log on the
// real filesystem until the test kills it with SIGKILL, reporting on stdout
// every batch it has seen acknowledged as durable. Its protocol, one line
// each:
//
//	open <logStart> <logEnd>          after Open (and recovery) returned
//	ack <base> <records> <sha256>     a batch below DurableOffset, hashed as stored
//	done                              out of budget; the log was closed
//	error <text>                      the log failed; the child exits 2
//
// A line is only complete once its newline is written: the parent drops a
// trailing fragment cut off by the kill.

const (
	crashChildEnv = "SLUICE_CRASH_CHILD" // the log directory; set only in the child
	crashSeedEnv  = "SLUICE_CRASH_SEED"
	crashRoundEnv = "SLUICE_CRASH_ROUND"

	// Bounds on one child: it stops appending after this many groups or
	// bytes, or after crashChildLife, whichever comes first, so a child
	// that is never killed neither fills the disk nor outlives the test.
	crashChildGroups = 3000
	crashChildBytes  = 24 << 20
	crashChildLife   = 10 * time.Second
	// crashInFlight bounds the groups appended but not yet acknowledged.
	crashInFlight = 3
)

// crashConfig is the log configuration of both sides of TestCrashKill9:
// small segments and preallocation steps, so that a round rolls segments and
// extends files many times.
func crashConfig(logger *slog.Logger) Config {
	return Config{
		SegmentBytes:     256 << 10,
		PreallocateBytes: 64 << 10,
		TailCacheBytes:   512 << 10,
		Logger:           logger,
	}
}

type crashAck struct {
	base    int64
	records int
	sum     string
}

func batchSum(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

// crashBatchSize draws a batch size: mostly small, some medium, a few large
// enough to fill a good part of a segment.
func crashBatchSize(rng *rand.Rand) int {
	switch r := rng.IntN(100); {
	case r < 70:
		return 64 + rng.IntN(2<<10)
	case r < 95:
		return 2<<10 + rng.IntN(14<<10)
	default:
		return 16<<10 + rng.IntN(84<<10)
	}
}

// crashChild runs the child process and exits; it never returns.
func crashChild(dir string) {
	out := bufio.NewWriterSize(os.Stdout, 64<<10)
	fail := func(format string, args ...any) {
		fmt.Fprintf(out, "error "+format+"\n", args...)
		out.Flush()
		os.Exit(2)
	}
	seed, err := strconv.ParseUint(os.Getenv(crashSeedEnv), 10, 64)
	if err != nil {
		fail("bad %s: %v", crashSeedEnv, err)
	}
	round, err := strconv.ParseUint(os.Getenv(crashRoundEnv), 10, 64)
	if err != nil {
		fail("bad %s: %v", crashRoundEnv, err)
	}
	deadline := time.Now().Add(crashChildLife)
	logger := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	l, err := Open(vfs.OS{}, dir, crashConfig(logger))
	if err != nil {
		fail("open: %v", err)
	}
	fmt.Fprintf(out, "open %d %d\n", l.LogStartOffset(), l.LogEndOffset())
	out.Flush()

	rng := rand.New(rand.NewPCG(seed, round))
	// inflight holds up to crashInFlight groups of appended batches; the
	// oldest is waited for and reported while the younger ones are still
	// going to the disk.
	var inflight [][]crashAck
	written := 0
	for groups := 0; ; groups++ {
		more := groups < crashChildGroups && written < crashChildBytes && time.Now().Before(deadline)
		if more {
			k := 1 + rng.IntN(4)
			g := make([]crashAck, 0, k)
			for range k {
				b := batchtest.Sized(time.Now().UnixMilli(), 1+rng.IntN(8), crashBatchSize(rng), byte(rng.Uint32()))
				// Mostly sync, as a producer with acks=all on a
				// flush-every-message topic; the rest become durable
				// through Wait.
				res, err := l.Append(b, int32(round), rng.IntN(4) != 0)
				if err != nil {
					fail("append: %v", err)
				}
				g = append(g, crashAck{base: res.BaseOffset, records: int(res.LastOffset - res.BaseOffset + 1), sum: batchSum(b)})
				written += len(b)
			}
			inflight = append(inflight, g)
		}
		if len(inflight) == 0 {
			break
		}
		if more && len(inflight) < crashInFlight {
			continue
		}
		g := inflight[0]
		inflight = inflight[1:]
		last := g[len(g)-1]
		if err := l.Wait(last.base+int64(last.records), true); err != nil {
			fail("wait: %v", err)
		}
		for _, a := range g {
			fmt.Fprintf(out, "ack %d %d %s\n", a.base, a.records, a.sum)
		}
		out.Flush()
	}
	if err := l.Close(); err != nil {
		fail("close: %v", err)
	}
	fmt.Fprintln(out, "done")
	out.Flush()
	os.Exit(0)
}
