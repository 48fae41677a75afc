package bench

import (
	"sync"
	"testing"
	"time"
)

// TestSeriesMergesProducers: three producers record concurrently, with a
// collect between two bursts; the run's histogram equals one histogram
// that recorded every value, and the warm-up's values are in neither.
func TestSeriesMergesProducers(t *testing.T) {
	const warmupEnd = time.Second
	s := newSeries(3, warmupEnd, time.Minute)
	want := newHist()
	for i := range 3 {
		for v := range 1000 {
			want.RecordValue(int64(i*1000 + v + 1))
		}
	}
	record := func(half int) {
		var wg sync.WaitGroup
		for i := range 3 {
			wg.Go(func() {
				for v := half * 500; v < (half+1)*500; v++ {
					s.record(i, warmupEnd+time.Duration(v), time.Duration(i*1000+v+1)*time.Microsecond)
					// Due during the warm-up: excluded.
					s.record(i, warmupEnd-1, time.Hour)
				}
			})
		}
		wg.Wait()
	}
	record(0)
	s.collect(0)
	if got := s.interval.TotalCount(); got != 1500 {
		t.Fatalf("first collect merged %d values, want 1500", got)
	}
	record(1)
	s.collect(time.Second)
	if !s.total.Equals(want) {
		t.Fatalf("merged: %d values, p50 %d, p99 %d, max %d; want %d values, p50 %d, p99 %d, max %d",
			s.total.TotalCount(), s.total.ValueAtQuantile(50), s.total.ValueAtQuantile(99), s.total.Max(),
			want.TotalCount(), want.ValueAtQuantile(50), want.ValueAtQuantile(99), want.Max())
	}
	if got := s.warmSeen.TotalCount(); got != 3000 {
		t.Errorf("warm-up histogram has %d values, want 3000", got)
	}
	if s.clamped != 3000 {
		t.Errorf("clamped %d values beyond 60 s, want 3000 (the warm-up's hour-long ones)", s.clamped)
	}
}

// TestWindows: a 30 s run with a 10 s soak window, one collect a second
// whose latency is the second's number in ms: the first window holds
// seconds 0-9, the last the ring of the ten newest 1 s slots, 20-29.
func TestWindows(t *testing.T) {
	s := newSeries(1, 0, 10*time.Second)
	for sec := range 30 {
		s.record(0, 0, time.Duration(sec+1)*time.Millisecond)
		s.collect(time.Duration(sec) * time.Second)
	}
	first := s.win.first
	if first.TotalCount() != 10 || first.Min() != 1000 || !first.ValuesAreEquivalent(first.Max(), 10000) {
		t.Errorf("first window: %d values from %d to %d µs, want 10 from 1000 to 10000", first.TotalCount(), first.Min(), first.Max())
	}
	last, span := s.win.last()
	if last.TotalCount() != 10 || !last.ValuesAreEquivalent(last.Min(), 21000) || !last.ValuesAreEquivalent(last.Max(), 30000) {
		t.Errorf("last window: %d values from %d to %d µs, want 10 from 21000 to 30000", last.TotalCount(), last.Min(), last.Max())
	}
	if span != 9*time.Second {
		t.Errorf("last window spans %v, want 9s (slots 20 to 29, the newest just begun)", span)
	}
	// A gap longer than the ring (no records for 20 s) empties it.
	s.record(0, 0, 99*time.Millisecond)
	s.collect(50 * time.Second)
	last, _ = s.win.last()
	if last.TotalCount() != 1 {
		t.Errorf("after a 20 s gap the last window has %d values, want 1", last.TotalCount())
	}
}
