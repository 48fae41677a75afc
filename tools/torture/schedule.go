package torture

import (
	"fmt"
	"math/rand/v2"
	"time"
)

// FaultKind is what a Fault does to the broker process.
type FaultKind string

const (
	Kill  FaultKind = "kill9" // SIGKILL, stay down for Hold, restart on the same port and data dir
	Pause FaultKind = "pause" // SIGSTOP, hold, SIGCONT
)

// Fault is one step of a schedule; At is from the start of the fault phase.
type Fault struct {
	At   time.Duration
	Kind FaultKind
	Hold time.Duration
}

func (f Fault) String() string {
	return fmt.Sprintf("+%.3fs %s hold %v", f.At.Seconds(), f.Kind, f.Hold)
}

// maxFaults bounds a schedule whatever its length.
const maxFaults = 100_000

// Schedule returns the faults of a run of length d from seed: the same
// seed and length give the same schedule. Faults are 1-4 s apart (from the
// end of the previous one), half kills with 0-500 ms down, half pauses of
// 100 ms-2 s; none starts in the last 2 s.
func Schedule(seed uint64, d time.Duration) []Fault {
	rng := rand.New(rand.NewPCG(seed, 0x736c75696365)) // "sluice"
	between := func(lo, hi time.Duration) time.Duration { return lo + time.Duration(rng.Int64N(int64(hi-lo))) }
	var fs []Fault
	at := time.Duration(0)
	for len(fs) < maxFaults {
		at += between(time.Second, 4*time.Second)
		f := Fault{At: at, Kind: Kill, Hold: between(0, 500*time.Millisecond)}
		if rng.IntN(2) == 1 {
			f.Kind, f.Hold = Pause, between(100*time.Millisecond, 2*time.Second)
		}
		if f.At+f.Hold > d-2*time.Second {
			break
		}
		fs = append(fs, f)
		at += f.Hold
	}
	return fs
}
