package bench

import (
	"context"
	"sync/atomic"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
)

// fakeClock is a clock that moves only when told to: sleeping moves it to
// the wake-up time, and a fake send moves it to simulate a stall.
type fakeClock struct{ t atomic.Int64 }

func (c *fakeClock) now() time.Duration { return time.Duration(c.t.Load()) }

func (c *fakeClock) sleepUntil(t time.Duration) {
	if t > c.now() {
		c.t.Store(int64(t))
	}
}

func (c *fakeClock) advance(d time.Duration) { c.t.Add(int64(d)) }

// TestPaceIsOpenLoop: one send stalls for 50 ms in a schedule of one send
// per millisecond. Every send behind it is still made, back to back once
// the stall ends, and each one's latency runs from its own due time, so
// the stall shows up as latency for the 49 sends scheduled during it
// (49 ms down to 1 ms) instead of disappearing into a lower rate.
func TestPaceIsOpenLoop(t *testing.T) {
	const (
		stalled = 10
		stall   = 50 * time.Millisecond
		n       = 100
	)
	clk := &fakeClock{}
	w := DefaultWorkload()
	w.PartitionsPerTopic, w.MessageSize = 1, 100
	lat := newSeries(1, 0, time.Minute)
	p := &producer{
		topic: "t", clock: clk, ctx: context.Background(), shape: newRecordShape(&w, 0, nil),
		payload: makePayload(&w), log: newSentLog(1), lat: lat, errs: &samples{},
	}
	// The fake client acknowledges at once, except that the record with
	// sequence `stalled` blocks in Produce for `stall`.
	p.produce = func(_ context.Context, r *kgo.Record, promise func(*kgo.Record, error)) {
		if h, _ := parseHeader(r.Value); h.seq == stalled {
			clk.advance(stall)
		}
		promise(r, nil)
	}
	var lates []time.Duration
	sent := pace(context.Background(), clk, schedule{start: 0, end: n * time.Millisecond, rate: 1000},
		func(_, late time.Duration) { lates = append(lates, late) },
		func(_ int64, due time.Duration) { p.send(due) })
	if sent != n || p.acked.Load() != n {
		t.Fatalf("made %d sends, %d acknowledged; want %d: a stall must not drop or postpone sends", sent, p.acked.Load(), n)
	}
	lat.collect(0)

	want := newHist()
	for i := range n {
		due := time.Duration(i) * time.Millisecond
		ack := due // acknowledged when sent, and sent when due...
		switch {
		case i == stalled:
			ack = due + stall
		case i > stalled && due < stalled*time.Millisecond+stall:
			ack = stalled*time.Millisecond + stall // ...unless due during the stall
		}
		want.RecordValue(max((ack - due).Microseconds(), histMinUs))
		// The pacer's lateness is the sending side alone: the stalled
		// send left on time, the ones behind it left late.
		wantLate := ack - due
		if i == stalled {
			wantLate = 0
		}
		if lates[i] != wantLate {
			t.Errorf("send %d: %v late, want %v", i, lates[i], wantLate)
		}
	}
	if !lat.total.Equals(want) {
		t.Errorf("produce latency: p50 %d µs p90 %d µs max %d µs over %d records; want p50 %d µs p90 %d µs max %d µs over %d",
			lat.total.ValueAtQuantile(50), lat.total.ValueAtQuantile(90), lat.total.Max(), lat.total.TotalCount(),
			want.ValueAtQuantile(50), want.ValueAtQuantile(90), want.Max(), want.TotalCount())
	}
	// A closed loop would have recorded one slow send; here the stalled
	// send and the 49 due during its stall, half of all, show it.
	if got := lat.total.ValueAtQuantile(51); got < 1000 {
		t.Errorf("p51 is %d µs: half of the sends were due during the stall and must show it", got)
	}
}

// TestScheduleCount: the pacing loop's bound is exactly the sends due
// before the end.
func TestScheduleCount(t *testing.T) {
	for _, tc := range []struct {
		s    schedule
		want int64
	}{
		{schedule{0, time.Second, 1000}, 1000},
		{schedule{0, time.Second, 3}, 3},
		{schedule{0, time.Second + 1, 3}, 4},
		{schedule{0, 10 * time.Second, 0.5}, 5},
		{schedule{time.Second, time.Second, 1000}, 0},
		{schedule{0, 1500 * time.Millisecond, 1000 / 3.0}, 500},
	} {
		if got := tc.s.count(); got != tc.want {
			t.Errorf("%+v: count %d, want %d", tc.s, got, tc.want)
		}
		if n := tc.s.count(); n > 0 && (tc.s.due(n-1) >= tc.s.end || tc.s.due(n) < tc.s.end) {
			t.Errorf("%+v: send %d due %v, send %d due %v, end %v", tc.s, n-1, tc.s.due(n-1), n, tc.s.due(n), tc.s.end)
		}
	}
}

// TestPaceStopsOnCancel: a cancelled run stops pacing even with a
// backlog of due sends.
func TestPaceStopsOnCancel(t *testing.T) {
	clk := &fakeClock{}
	ctx, cancel := context.WithCancel(context.Background())
	sent := pace(ctx, clk, schedule{0, time.Hour, 1000}, nil, func(i int64, _ time.Duration) {
		if i == 5 {
			cancel()
		}
	})
	if sent < 6 || sent > 6+256 {
		t.Fatalf("made %d sends after cancelling at send 5", sent)
	}
}
