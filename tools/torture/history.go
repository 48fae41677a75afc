package torture

import (
	"fmt"
	"strconv"
	"strings"
	"sync"
	"time"
)

// EventKind says what an Event records.
type EventKind uint8

const (
	EvSend    EventKind = iota // a record handed to a producer
	EvAck                      // the producer's record was acknowledged at Offset
	EvFail                     // the producer gave up on the record (Err)
	EvConsume                  // the consumer read Value at Partition/Offset
	EvFault                    // a fault was applied (Detail)
)

func (k EventKind) String() string {
	switch k {
	case EvSend:
		return "send"
	case EvAck:
		return "ack"
	case EvFail:
		return "fail"
	case EvConsume:
		return "consume"
	case EvFault:
		return "fault"
	}
	return fmt.Sprintf("kind(%d)", uint8(k))
}

// Event is one entry of a History. Records are named by Producer and Seq;
// their value on the wire is RecordValue(Producer, Seq).
type Event struct {
	At          time.Duration // since the history began
	Kind        EventKind
	Producer    string
	Seq         uint64
	ExactlyOnce bool // on EvSend: the producer is idempotent
	Partition   int32
	Offset      int64
	Err         string // EvFail
	Detail      string // EvFault
}

func (e Event) String() string {
	switch e.Kind {
	case EvFault:
		return fmt.Sprintf("%9.3fs fault %s", e.At.Seconds(), e.Detail)
	case EvSend:
		return fmt.Sprintf("%9.3fs send %s p%d", e.At.Seconds(), RecordValue(e.Producer, e.Seq), e.Partition)
	case EvFail:
		return fmt.Sprintf("%9.3fs fail %s p%d: %s", e.At.Seconds(), RecordValue(e.Producer, e.Seq), e.Partition, e.Err)
	}
	return fmt.Sprintf("%9.3fs %s %s p%d@%d", e.At.Seconds(), e.Kind, RecordValue(e.Producer, e.Seq), e.Partition, e.Offset)
}

// RecordValue is the value a producer sends for its record seq; unique
// within a run.
func RecordValue(producer string, seq uint64) string {
	return producer + "-" + strconv.FormatUint(seq, 10)
}

// parseValue undoes RecordValue.
func parseValue(v string) (producer string, seq uint64, ok bool) {
	i := strings.LastIndexByte(v, '-')
	if i <= 0 {
		return "", 0, false
	}
	seq, err := strconv.ParseUint(v[i+1:], 10, 64)
	if err != nil {
		return "", 0, false
	}
	return v[:i], seq, true
}

// History is an append-only, bounded log of events, safe for concurrent
// use. Past max events it drops further ones and says so (Overflowed), and
// the checker refuses to pass an incomplete history.
type History struct {
	mu         sync.Mutex
	start      time.Time
	events     []Event
	max        int
	overflowed bool
}

// NewHistory returns an empty history holding at most max events.
func NewHistory(max int) *History {
	return &History{start: time.Now(), max: max}
}

// Add stamps e with the time since the history began and appends it.
func (h *History) Add(e Event) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if len(h.events) >= h.max {
		h.overflowed = true
		return
	}
	e.At = time.Since(h.start)
	h.events = append(h.events, e)
}

// Faultf records a fault.
func (h *History) Faultf(format string, args ...any) {
	h.Add(Event{Kind: EvFault, Detail: fmt.Sprintf(format, args...)})
}

// Events returns a copy of the events so far and whether any were dropped.
func (h *History) Events() ([]Event, bool) {
	h.mu.Lock()
	defer h.mu.Unlock()
	return append([]Event(nil), h.events...), h.overflowed
}
