package bench

import (
	"fmt"
	"time"

	"github.com/HdrHistogram/hdrhistogram-go"
)

// collect merges what every producer and consumer recorded since the last
// collect. Runs on the progress goroutine, then once more on the run's
// after that goroutine ended.
func (r *run) collect() {
	measured := r.clock.now() - r.w.Warmup
	r.produceLat.collect(measured)
	r.e2eLat.collect(measured)
	r.sendLag.collect(measured)
}

// counts are the run's counters at one moment.
type counts struct {
	sent, acked, failed, read, problems, gaps, fetchErrors int64
}

func (r *run) counts() counts {
	var c counts
	for _, p := range r.producers {
		c.sent += p.sent.Load()
		c.acked += p.acked.Load()
		c.failed += p.failed.Load()
	}
	for _, k := range r.consumers {
		c.read += k.read.Load()
		c.problems += k.problems.Load()
		c.gaps += k.gaps.Load()
		c.fetchErrors += k.fetchErrors.Load()
	}
	return c
}

// progress collects the histograms once a second and, if asked to, prints
// a line of how the run goes: rates over the last second, p99 so far (of
// the warm-up while it lasts), and errors so far. Gaps are holes in a
// partition's sequence that may still fill (a retried record arriving
// late); the checker decides at the end.
func (r *run) progress(stop <-chan struct{}, done chan<- struct{}) {
	defer close(done)
	t := time.NewTicker(time.Second)
	defer t.Stop()
	last, lastAt := counts{}, r.clock.now()
	for {
		select {
		case <-stop:
			return
		case <-t.C:
		}
		now := r.clock.now()
		if now >= r.w.Warmup {
			r.phase.CompareAndSwap(phaseWarmup, phaseMeasure)
		}
		r.collect()
		if r.o.Progress == nil {
			continue
		}
		c := r.counts()
		dt := max((now - lastAt).Seconds(), 1e-3)
		phase := r.phase.Load()
		prod, e2e := r.produceLat.total, r.e2eLat.total
		if phase == phaseWarmup {
			prod, e2e = r.produceLat.warmSeen, r.e2eLat.warmSeen
		}
		line := fmt.Sprintf("%5.0fs %-7s  sent %7s/s  acked %7s/s  read %7s/s  in flight %6d  p99 produce %s",
			now.Seconds(), phaseNames[phase], fmtNum(float64(c.sent-last.sent)/dt), fmtNum(float64(c.acked-last.acked)/dt),
			fmtNum(float64(c.read-last.read)/dt), c.sent-c.acked-c.failed, p99ms(prod))
		if len(r.consumers) > 0 {
			line += "  e2e " + p99ms(e2e)
		}
		line += fmt.Sprintf("  errors %d", c.failed+c.problems+c.fetchErrors+r.trimErrors.Load())
		if c.gaps > 0 {
			line += fmt.Sprintf("  gaps %d", c.gaps)
		}
		fmt.Fprintln(r.o.Progress, line)
		last, lastAt = c, now
	}
}

// summarize fills s from the run's counters and histograms. sendEnd is
// when sending stopped; complete says the drain finished.
func (r *run) summarize(s *Summary, sendEnd time.Duration, interrupted, complete bool) {
	w := &r.w
	measured := max(0, sendEnd-w.Warmup)
	secs := measured.Seconds()
	rate := func(n int64) float64 {
		if secs <= 0 {
			return 0
		}
		return float64(n) / secs
	}
	s.Interrupted = interrupted
	s.MeasuredSeconds = secs

	var sent, acked, bytes, failed int64
	for _, p := range r.producers {
		sent += p.sentMeasured.Load()
		acked += p.ackedMeasured.Load()
		bytes += p.bytesMeasured.Load()
		failed += p.failed.Load()
	}
	s.Produce = ProduceStats{Sent: sent, Acked: acked, Failed: failed, SentPerSec: rate(sent), RecordsPerSec: rate(acked),
		MBPerSec: rate(bytes) / 1e6, Latency: latencyOf(r.produceLat.total, r.produceLat.clamped)}
	if !w.MaxThroughput() {
		l := latencyOf(r.sendLag.total, r.sendLag.clamped)
		s.SendLag = &l
	}

	var fetchErrors int64
	if len(r.consumers) > 0 {
		var read, rbytes int64
		for _, c := range r.consumers {
			read += c.readMeasured.Load()
			rbytes += c.bytesMeasured.Load()
			fetchErrors += c.fetchErrors.Load()
		}
		s.EndToEnd = &ReadStats{Read: read, RecordsPerSec: rate(read), MBPerSec: rate(rbytes) / 1e6,
			Latency: latencyOf(r.e2eLat.total, r.e2eLat.clamped)}
		logs, topicOf := make([]*sentLog, len(r.producers)), make([]int, len(r.producers))
		for i, p := range r.producers {
			logs[i], topicOf[i] = p.log, i%w.Topics
		}
		// Unless interrupted, whatever was not read by the end of the
		// drain counts as lost: reading it is the run's promise.
		s.Errors.Delivery = verify(r.checks, logs, topicOf, complete || !interrupted, &r.errs)
	} else {
		s.Errors.Delivery.Notes = append(s.Errors.Delivery.Notes, "no consumers: delivery not checked")
	}

	if measured >= 2*w.SoakWindow {
		last, span := r.produceLat.win.last()
		e2eLast, _ := r.e2eLat.win.last()
		soak := &Soak{WindowSeconds: w.SoakWindow.Seconds(), LastSpanSeconds: span.Seconds(),
			ProduceFirst: latencyOf(r.produceLat.win.first, 0), ProduceLast: latencyOf(last, 0),
			EndToEndFirst: latencyOf(r.e2eLat.win.first, 0), EndToEndLast: latencyOf(e2eLast, 0)}
		soak.ProduceP99Drift = ratio(soak.ProduceLast.P99Us, soak.ProduceFirst.P99Us)
		soak.EndToEndP99Drift = ratio(soak.EndToEndLast.P99Us, soak.EndToEndFirst.P99Us)
		s.Soak = soak
	}

	e := &s.Errors
	e.Produce, e.Fetch, e.Trim = failed, fetchErrors, r.trimErrors.Load()
	e.DrainIncomplete = !complete && !interrupted
	e.Total = e.Produce + e.Fetch + e.Trim + e.Delivery.errors()
	if e.DrainIncomplete && e.Total == 0 {
		e.Total = 1 // the drain's own failure, already in the samples
	}
	r.errs.mu.Lock()
	e.Samples = append([]string(nil), r.errs.list...)
	r.errs.mu.Unlock()
}

// p99ms is a histogram's p99 for the progress line; "-" until it has
// values.
func p99ms(h *hdrhistogram.Histogram) string {
	if h.TotalCount() == 0 {
		return "-"
	}
	return ms(h.ValueAtQuantile(99)) + " ms"
}

func ratio(a, b int64) float64 {
	if b == 0 {
		return 0
	}
	return float64(a) / float64(b)
}
