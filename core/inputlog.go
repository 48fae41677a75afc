package core

import (
	"log/slog"
	"sync/atomic"

	"golang.org/x/time/rate"
)

// inputLog logs rejected client input (malformed requests, bad batches)
// at a bounded rate, so a client that sends garbage in a loop cannot fill
// the disk with the same line or slow the event loops with logging; each
// line that gets through says how many were left out before it.
type inputLog struct {
	log        *slog.Logger
	limit      *rate.Limiter
	suppressed atomic.Int64
}

// inputLogRate and inputLogBurst: enough to see every case of an isolated
// problem, few enough to stay cheap in a flood.
const (
	inputLogRate  = 10
	inputLogBurst = 20
)

func newInputLog(log *slog.Logger) *inputLog {
	return &inputLog{log: log, limit: rate.NewLimiter(inputLogRate, inputLogBurst)}
}

// warn logs msg with args unless the rate is exceeded. Safe from any loop.
func (l *inputLog) warn(msg string, args ...any) {
	if !l.limit.Allow() {
		l.suppressed.Add(1)
		return
	}
	if n := l.suppressed.Swap(0); n > 0 {
		args = append(args, "suppressedBefore", n)
	}
	l.log.Warn(msg, args...)
}
