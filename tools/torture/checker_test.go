package torture

import (
	"bytes"
	"strings"
	"testing"
)

// scenario is a clean history: producer "idem" (exactly-once) and "plain"
// each sent three records to partition 0, all acknowledged, and a consumer
// read idem-0. final is the log that matches it: offsets 0-5 hold
// idem-0 plain-0 idem-1 plain-1 idem-2 plain-2.
func scenario() ([]Event, map[int32][]LogRecord) {
	var ev []Event
	var log []LogRecord
	off := int64(0)
	for seq := range uint64(3) {
		for _, p := range []string{"idem", "plain"} {
			ev = append(ev, Event{Kind: EvSend, Producer: p, Seq: seq, ExactlyOnce: p == "idem"})
			ev = append(ev, Event{Kind: EvAck, Producer: p, Seq: seq, Offset: off})
			log = append(log, LogRecord{Offset: off, Value: RecordValue(p, seq)})
			off++
		}
	}
	ev = append(ev, Event{Kind: EvFault, Detail: "kill -9"})
	ev = append(ev, Event{Kind: EvConsume, Producer: "idem", Seq: 0, Offset: 0})
	return ev, map[int32][]LogRecord{0: log}
}

func kinds(vs []Violation) string {
	var s []string
	for _, v := range vs {
		s = append(s, v.Kind+":"+v.Value)
	}
	return strings.Join(s, " ")
}

func TestCheck(t *testing.T) {
	tests := []struct {
		name   string
		mutate func(ev []Event, log []LogRecord) ([]Event, []LogRecord)
		want   string
	}{
		{"clean", func(ev []Event, log []LogRecord) ([]Event, []LogRecord) { return ev, log }, ""},
		{"lost acknowledged record", func(ev []Event, log []LogRecord) ([]Event, []LogRecord) {
			return ev, append(log[:2:2], log[3:]...) // drops idem-1 at offset 2
		}, "lost:idem-1"},
		{"unacknowledged record may be missing", func(ev []Event, log []LogRecord) ([]Event, []LogRecord) {
			ev = append(ev, Event{Kind: EvSend, Producer: "idem", Seq: 3, ExactlyOnce: true})
			return ev, log
		}, ""},
		{"idempotent duplicate", func(ev []Event, log []LogRecord) ([]Event, []LogRecord) {
			return ev, append(log, LogRecord{Offset: 6, Value: "idem-2"})
		}, "duplicate:idem-2"},
		{"non-idempotent duplicate is allowed", func(ev []Event, log []LogRecord) ([]Event, []LogRecord) {
			return ev, append(log, LogRecord{Offset: 6, Value: "plain-2"})
		}, ""},
		{"phantom", func(ev []Event, log []LogRecord) ([]Event, []LogRecord) {
			return ev, append(log, LogRecord{Offset: 6, Value: "idem-99"})
		}, "phantom:idem-99"},
		{"garbage", func(ev []Event, log []LogRecord) ([]Event, []LogRecord) {
			return ev, append(log, LogRecord{Offset: 6, Value: "zz"})
		}, "phantom:zz"},
		{"reorder", func(ev []Event, log []LogRecord) ([]Event, []LogRecord) {
			// plain-1 (offset 3) and plain-2 (offset 5) swap places.
			log[3].Value, log[5].Value = log[5].Value, log[3].Value
			return ev, log
		}, "reorder:plain-1"},
		{"idempotent at another offset", func(ev []Event, log []LogRecord) ([]Event, []LogRecord) {
			log[4].Offset, log[5].Offset = 5, 4 // idem-2 at 5, acked at 4
			return ev, log
		}, "wrong-offset:idem-2"},
		{"consumed then lost", func(ev []Event, log []LogRecord) ([]Event, []LogRecord) {
			ev = append(ev, Event{Kind: EvSend, Producer: "plain", Seq: 3},
				Event{Kind: EvConsume, Producer: "plain", Seq: 3, Offset: 6})
			return ev, log
		}, "consumed-lost:plain-3"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ev, final := scenario()
			ev, log := tt.mutate(ev, final[0])
			vs := Check(ev, false, map[int32][]LogRecord{0: log})
			if got := kinds(vs); got != tt.want {
				t.Errorf("violations %q, want %q", got, tt.want)
			}
		})
	}
}

func TestCheckOverflow(t *testing.T) {
	ev, final := scenario()
	if got := kinds(Check(ev, true, final)); got != "incomplete:" {
		t.Errorf("violations %q, want incomplete", got)
	}
}

func TestWriteViolationsShowsNearbyFaults(t *testing.T) {
	ev, final := scenario()
	final[0] = final[0][1:] // idem-0 lost; consumed-lost too
	vs := Check(ev, false, final)
	var b bytes.Buffer
	WriteViolations(&b, vs, ev, 1e9, 10)
	out := b.String()
	if !strings.Contains(out, `lost: "idem-0" p0 acked@0`) || !strings.Contains(out, "near:") || !strings.Contains(out, "kill -9") {
		t.Errorf("output lacks the record, offset or faults:\n%s", out)
	}
}
