package bench

import (
	"sync"
	"time"

	"github.com/HdrHistogram/hdrhistogram-go"
)

// Latency histograms count microseconds from 1 µs to 60 s with 3
// significant digits (0.1% resolution at every magnitude). Microseconds,
// not nanoseconds: the loopback round trip alone is ~17 µs here, and the
// smaller value range keeps each histogram at ~140 KiB, of which a run
// holds a few per producer and consumer.
const (
	histMinUs   = 1
	histMaxUs   = 60_000_000
	histSigFigs = 3
)

func newHist() *hdrhistogram.Histogram { return hdrhistogram.New(histMinUs, histMaxUs, histSigFigs) }

// recorder takes the latencies of one producer or consumer. Its owner's
// client may call back on several goroutines, so it is locked; the
// collector swaps the histogram out once a second, so that readers never
// hold the lock for longer than one swap.
type recorder struct {
	mu      sync.Mutex
	cur     *hdrhistogram.Histogram
	clamped int64 // values above histMaxUs, recorded as histMaxUs
}

func newRecorder() *recorder { return &recorder{cur: newHist()} }

func (r *recorder) record(d time.Duration) {
	us := d.Microseconds()
	r.mu.Lock()
	if us > histMaxUs {
		us = histMaxUs
		r.clamped++
	}
	r.cur.RecordValue(max(us, histMinUs))
	r.mu.Unlock()
}

// swap hands back what was recorded since the last swap and records into
// spare (which must be empty) from now on.
func (r *recorder) swap(spare *hdrhistogram.Histogram) (h *hdrhistogram.Histogram, clamped int64) {
	r.mu.Lock()
	h, r.cur = r.cur, spare
	clamped, r.clamped = r.clamped, 0
	r.mu.Unlock()
	return h, clamped
}

// series is one kind of latency (produce, end-to-end, send lag) over all
// the producers or consumers of a run: each records into its own recorder,
// and collect merges them. Records intended before the warm-up ended go to
// a recorder of their own that only the progress line reads, so warm-up is
// excluded by when a record was due, not by when its acknowledgement came.
// collect runs on one goroutine; only record is concurrent.
type series struct {
	warmupEnd time.Duration
	warm      *recorder
	recs      []*recorder
	spare     *hdrhistogram.Histogram

	total    *hdrhistogram.Histogram // measured phase, all of it
	interval *hdrhistogram.Histogram // what the last collect merged
	warmSeen *hdrhistogram.Histogram // warm-up, for the progress line
	clamped  int64
	win      *windows
}

func newSeries(n int, warmupEnd, window time.Duration) *series {
	s := &series{warmupEnd: warmupEnd, warm: newRecorder(), spare: newHist(),
		total: newHist(), interval: newHist(), warmSeen: newHist(), win: newWindows(window)}
	for range n {
		s.recs = append(s.recs, newRecorder())
	}
	return s
}

// record adds one latency to recorder i, or to the warm-up's when the
// record was due before the warm-up ended.
func (s *series) record(i int, intended, latency time.Duration) {
	if intended < s.warmupEnd {
		s.warm.record(latency)
		return
	}
	s.recs[i].record(latency)
}

// collect merges everything recorded since the last collect into the
// totals; measured is the time since the warm-up ended (negative during
// it), which places the interval in the soak windows.
func (s *series) collect(measured time.Duration) {
	s.interval.Reset()
	h, c := s.warm.swap(s.spare)
	s.warmSeen.Merge(h)
	s.clamped += c
	h.Reset()
	s.spare = h
	for _, r := range s.recs {
		h, c := r.swap(s.spare)
		s.interval.Merge(h)
		s.clamped += c
		h.Reset()
		s.spare = h
	}
	if s.interval.TotalCount() > 0 {
		s.total.Merge(s.interval)
		s.win.add(s.interval, max(measured, 0))
	}
}

// windowSlots divide a soak window so that "the last window" can slide:
// it is the current slot and the slots before it, windowSlots in all.
const windowSlots = 10

// windows keeps the first soak window of a run whole and the last one as a
// ring of slots, so that p99 drift over a long run is visible from two
// histograms of bounded size.
type windows struct {
	length time.Duration
	slot   time.Duration
	first  *hdrhistogram.Histogram
	ring   [windowSlots]*hdrhistogram.Histogram
	cur    int64 // index of the newest slot (measured time / slot)
	at     time.Duration
}

func newWindows(length time.Duration) *windows {
	w := &windows{length: length, slot: max(length/windowSlots, time.Millisecond), first: newHist(), cur: -1}
	for i := range w.ring {
		w.ring[i] = newHist()
	}
	return w
}

// add merges h, collected at measured time t, into the windows.
func (w *windows) add(h *hdrhistogram.Histogram, t time.Duration) {
	if t < w.length {
		w.first.Merge(h)
	}
	if idx := int64(t / w.slot); idx > w.cur {
		// Clear the slots that the ring reuses: those from cur+1 to idx,
		// at most all of them.
		for j := range min(idx-w.cur, windowSlots) {
			w.ring[(idx-j)%windowSlots].Reset()
		}
		w.cur = idx
	}
	w.ring[w.cur%windowSlots].Merge(h)
	w.at = t
}

// last merges the newest slots into one histogram and says how much
// measured time they cover: between 9 and 10 slots, the newest partial.
func (w *windows) last() (*hdrhistogram.Histogram, time.Duration) {
	h := newHist()
	for _, r := range w.ring {
		h.Merge(r)
	}
	from := max(0, time.Duration(w.cur-windowSlots+1)*w.slot)
	return h, w.at - from
}
