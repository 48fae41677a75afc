package torture

import (
	"cmp"
	"fmt"
	"io"
	"slices"
	"time"
)

// LogRecord is one record of the final read of a partition.
type LogRecord struct {
	Offset int64
	Value  string
}

// Violation kinds.
const (
	Lost         = "lost"          // acknowledged, not in the log
	WrongOffset  = "wrong-offset"  // exactly-once record not at its acknowledged offset
	Duplicate    = "duplicate"     // exactly-once record in the log more than once
	Phantom      = "phantom"       // in the log, never sent (or sent to another partition)
	Reorder      = "reorder"       // a producer's records out of send order in a partition
	ConsumedLost = "consumed-lost" // read during the run, not in the log at that offset at the end
	Incomplete   = "incomplete"    // the history dropped events: the check is not sound
)

// Violation is one broken promise, with enough to find it in the history.
type Violation struct {
	Kind      string
	Value     string // the record's value
	Partition int32
	Offsets   []int64 // where the final read has it
	Acked     int64   // the acknowledged offset, or -1
	At        time.Duration
	Detail    string
}

func (v Violation) String() string {
	acked := "unacked"
	if v.Acked >= 0 {
		acked = fmt.Sprintf("acked@%d", v.Acked)
	}
	return fmt.Sprintf("%s: %q p%d %s in log at %v (t=%.3fs) %s", v.Kind, v.Value, v.Partition, acked, v.Offsets, v.At.Seconds(), v.Detail)
}

type recKey struct {
	producer string
	seq      uint64
}

type sendState struct {
	partition   int32
	exactlyOnce bool
	at          time.Duration
	acked       bool
	ackOffset   int64
	occurrences []int64
}

// Check compares a history with the final read of every partition and
// returns the violations, in a stable order.
func Check(events []Event, overflowed bool, final map[int32][]LogRecord) []Violation {
	var vs []Violation
	if overflowed {
		vs = append(vs, Violation{Kind: Incomplete, Acked: -1, Detail: "history overflowed; raise its bound or shorten the run"})
	}
	sent := map[recKey]*sendState{}
	for _, e := range events {
		k := recKey{e.Producer, e.Seq}
		switch e.Kind {
		case EvSend:
			sent[k] = &sendState{partition: e.Partition, exactlyOnce: e.ExactlyOnce, at: e.At, ackOffset: -1}
		case EvAck:
			if s := sent[k]; s != nil {
				s.acked, s.ackOffset, s.at = true, e.Offset, e.At
			}
		}
	}

	parts := slices.Sorted(func(yield func(int32) bool) {
		for p := range final {
			if !yield(p) {
				return
			}
		}
	})
	for _, p := range parts {
		lastSeq := map[string]uint64{} // producer → seq of its latest first occurrence
		lastOff := map[string]int64{}
		for _, r := range final[p] {
			prod, seq, ok := parseValue(r.Value)
			s := sent[recKey{prod, seq}]
			if !ok || s == nil || s.partition != p {
				d := "never sent"
				if s != nil {
					d = fmt.Sprintf("sent to partition %d", s.partition)
				}
				vs = append(vs, Violation{Kind: Phantom, Value: r.Value, Partition: p, Offsets: []int64{r.Offset}, Acked: -1, Detail: d})
				continue
			}
			s.occurrences = append(s.occurrences, r.Offset)
			if len(s.occurrences) > 1 {
				continue // later copies of a non-idempotent retry; duplicates are reported below
			}
			if last, seen := lastSeq[prod]; seen && seq < last {
				vs = append(vs, Violation{Kind: Reorder, Value: r.Value, Partition: p, Offsets: []int64{r.Offset}, Acked: s.ackOffset, At: s.at,
					Detail: fmt.Sprintf("after %q at offset %d", RecordValue(prod, last), lastOff[prod])})
			}
			lastSeq[prod], lastOff[prod] = seq, r.Offset
		}
	}

	keys := make([]recKey, 0, len(sent))
	for k := range sent {
		keys = append(keys, k)
	}
	slices.SortFunc(keys, func(a, b recKey) int {
		return cmp.Or(cmp.Compare(a.producer, b.producer), cmp.Compare(a.seq, b.seq))
	})
	for _, k := range keys {
		s := sent[k]
		v := Violation{Value: RecordValue(k.producer, k.seq), Partition: s.partition, Offsets: s.occurrences, Acked: s.ackOffset, At: s.at}
		switch {
		case s.acked && len(s.occurrences) == 0:
			v.Kind = Lost
		case s.exactlyOnce && len(s.occurrences) > 1:
			v.Kind = Duplicate
		case s.exactlyOnce && s.acked && s.occurrences[0] != s.ackOffset:
			v.Kind = WrongOffset
		default:
			continue
		}
		vs = append(vs, v)
	}

	at := map[int32]map[int64]string{}
	for p, rs := range final {
		m := make(map[int64]string, len(rs))
		for _, r := range rs {
			m[r.Offset] = r.Value
		}
		at[p] = m
	}
	for _, e := range events {
		if e.Kind != EvConsume {
			continue
		}
		val := RecordValue(e.Producer, e.Seq)
		if got, ok := at[e.Partition][e.Offset]; !ok || got != val {
			d := "offset absent at the end"
			if ok {
				d = fmt.Sprintf("offset holds %q at the end", got)
			}
			vs = append(vs, Violation{Kind: ConsumedLost, Value: val, Partition: e.Partition, Offsets: []int64{e.Offset}, Acked: -1, At: e.At, Detail: d})
		}
	}
	return vs
}

// WriteViolations prints up to max violations, each followed by the faults
// within window of the time it names, then a count of the rest.
func WriteViolations(w io.Writer, vs []Violation, events []Event, window time.Duration, max int) {
	var faults []Event
	for _, e := range events {
		if e.Kind == EvFault {
			faults = append(faults, e)
		}
	}
	for i, v := range vs {
		if i == max {
			fmt.Fprintf(w, "... and %d more violations\n", len(vs)-max)
			return
		}
		fmt.Fprintf(w, "VIOLATION %s\n", v)
		for _, f := range faults {
			if f.At >= v.At-window && f.At <= v.At+window {
				fmt.Fprintf(w, "    near: %s\n", f)
			}
		}
	}
}
