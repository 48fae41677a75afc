package bench

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"time"

	"github.com/HdrHistogram/hdrhistogram-go"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"
)

// Options say where a run goes and how it is labelled; the workload says
// what it does.
type Options struct {
	Brokers  []string
	Out      string    // directory for the results; created
	Label    string    // the broker measured, e.g. "sluice" or "kfake"
	Run      string    // the repetition, e.g. "round-1"
	Command  []string  // recorded in the summary
	Progress io.Writer // a line a second; nil for none
}

// ErrInterrupted: the run's context ended before the run did. The results
// it wrote cover what was measured until then.
var ErrInterrupted = errors.New("interrupted")

const (
	// setupTimeout bounds everything before the first record: metadata,
	// creating topics and waiting for their leaders.
	setupTimeout = 60 * time.Second
	// interruptedDrain bounds each stage of the stop after an interrupt.
	interruptedDrain = 5 * time.Second
	// closeTimeout bounds waiting for the client's callbacks after the
	// clients are closed.
	closeTimeout = 10 * time.Second
	// pollInterval is how often a wait for a condition looks again.
	pollInterval = 20 * time.Millisecond
)

// Run runs workload w against o.Brokers and writes its results into o.Out.
// Cancelling ctx stops the run early; what was measured until then is still
// written, and the error is ErrInterrupted. A run that saw any error (a
// failed produce, a lost, duplicated or reordered record, a failed fetch)
// writes its results and returns an error saying so.
func Run(ctx context.Context, w Workload, o Options) (*Summary, error) {
	if err := w.Validate(); err != nil {
		return nil, err
	}
	if len(o.Brokers) == 0 || o.Out == "" {
		return nil, errors.New("bench: brokers and an output directory are required")
	}
	r := &run{w: w, o: o}
	return r.run(ctx)
}

const (
	phaseWarmup int32 = iota
	phaseMeasure
	phaseDrain
)

var phaseNames = []string{"warm-up", "measure", "drain"}

type run struct {
	w     Workload
	o     Options
	clock *osClock // epoch set when the first record is due
	adm   *kadm.Client

	topics    []string
	producers []*producer
	pclients  []*kgo.Client
	consumers []*consumer
	cclients  []*kgo.Client
	checks    [][]*partitionCheck // by topic, partition
	states    [][]*partitionState // by topic, partition

	produceLat, e2eLat, sendLag *series
	errs                        samples
	phase                       atomic.Int32
	trims, trimErrors           atomic.Int64
}

func (r *run) run(ctx context.Context) (*Summary, error) {
	w := &r.w
	s := &Summary{Name: w.Name, Label: r.o.Label, Run: r.o.Run, Command: r.o.Command, Started: time.Now().UTC(),
		Mode: "fixed_rate", TargetRate: w.Rate, WarmupSeconds: w.Warmup.Seconds(), Brokers: r.o.Brokers,
		Workload: w.Settings(), Host: readHostFacts()}
	if w.MaxThroughput() {
		s.Mode = "max_throughput"
	}

	setupCtx, cancelSetup := context.WithTimeout(ctx, setupTimeout)
	defer cancelSetup()
	admCl, err := kgo.NewClient(kgo.SeedBrokers(r.o.Brokers...), kgo.ClientID("sluice-bench-admin"))
	if err != nil {
		return nil, err
	}
	defer admCl.Close()
	r.adm = kadm.NewClient(admCl)
	// Nothing else would work if this fails, and it fails clearly.
	if _, err := r.adm.BrokerMetadata(setupCtx); err != nil {
		return nil, fmt.Errorf("reaching brokers %v: %w", r.o.Brokers, err)
	}
	s.Broker = readClusterInfo(setupCtx, r.adm)
	if err := r.createTopics(setupCtx); err != nil {
		r.deleteTopics(ctx)
		return nil, err
	}
	defer r.deleteTopics(ctx)
	s.Topics = r.topics
	readTopicConfigs(setupCtx, r.adm, &s.Broker, r.topics[0])
	starts, err := r.adm.ListEndOffsets(setupCtx, r.topics...)
	if err == nil {
		err = starts.Error()
	}
	if err != nil {
		return nil, fmt.Errorf("listing start offsets: %w", err)
	}
	cancelSetup()

	r.clock = &osClock{}
	nConsumers := w.Topics * w.ConsumersPerTopic
	r.produceLat = newSeries(w.Producers, w.Warmup, w.SoakWindow)
	r.e2eLat = newSeries(nConsumers, w.Warmup, w.SoakWindow)
	r.sendLag = newSeries(1, w.Warmup, w.SoakWindow)
	defer r.closeClients()
	if err := r.newConsumers(starts); err != nil {
		return nil, err
	}
	if err := r.newProducers(ctx); err != nil {
		return nil, err
	}

	// Time starts now, with every client made: setting up does not eat
	// into the warm-up, nor make the first records late. Every goroutine
	// that reads the clock starts after this.
	r.clock.epoch = time.Now()
	// Consumers outlive an interrupt, to read what was produced so far.
	consCtx, stopConsumers := context.WithCancel(context.WithoutCancel(ctx))
	defer stopConsumers()
	var consumersDone sync.WaitGroup
	for _, c := range r.consumers {
		consumersDone.Go(func() { c.run(consCtx) })
	}
	progressStop, progressDone := make(chan struct{}), make(chan struct{})
	go r.progress(progressStop, progressDone)
	trimCtx, stopTrim := context.WithCancel(ctx)
	trimDone := make(chan struct{})
	go r.trimLoop(trimCtx, trimDone)

	sendEnd := r.send(ctx)
	interrupted := ctx.Err() != nil
	stopTrim()
	<-trimDone
	r.phase.Store(phaseDrain)

	complete := r.drain(ctx, interrupted)
	stopConsumers()
	consumersDone.Wait()
	r.closeClients()
	if !r.awaitPromises() {
		complete = false
		r.errs.add("some produce callbacks had not run %v after the clients closed", closeTimeout)
	}
	close(progressStop)
	<-progressDone
	r.collect()

	r.summarize(s, sendEnd, interrupted, complete)
	hists := map[string]*hdrhistogram.Histogram{"produce": r.produceLat.total, "send-lag": r.sendLag.total}
	if nConsumers > 0 {
		hists["end-to-end"] = r.e2eLat.total
	}
	s.Host.LoadEnd = loadAverage()
	if err := writeOutputs(r.o.Out, s, hists); err != nil {
		return s, fmt.Errorf("writing results: %w", err)
	}
	switch {
	case interrupted:
		return s, fmt.Errorf("%w after %.0fs of measurement: partial results in %s", ErrInterrupted, s.MeasuredSeconds, r.o.Out)
	case s.Errors.Total > 0:
		return s, fmt.Errorf("%d error(s) (%d produce, %d lost, %d duplicated, %d out of order, %d fetch, %d trim; first: %s): see %s",
			s.Errors.Total, s.Errors.Produce, s.Errors.Delivery.Lost, s.Errors.Delivery.Duplicated, s.Errors.Delivery.OutOfOrder,
			s.Errors.Fetch, s.Errors.Trim, firstOr(s.Errors.Samples, "none kept"), r.o.Out)
	}
	return s, nil
}

// createTopics creates the run's topics under fresh names, so that they
// start empty, and waits until every partition has a leader.
func (r *run) createTopics(ctx context.Context) error {
	w := &r.w
	id := fmt.Sprintf("%06x", rand.Uint32()&0xffffff)
	for i := range w.Topics {
		r.topics = append(r.topics, fmt.Sprintf("%s-%s-%d", w.TopicPrefix, id, i))
	}
	configs := map[string]*string{}
	for _, k := range sortedKeys(w.TopicConfigs) {
		v := w.TopicConfigs[k]
		configs[k] = &v
	}
	resp, err := r.adm.CreateTopics(ctx, int32(w.PartitionsPerTopic), int16(w.ReplicationFactor), configs, r.topics...)
	if err == nil {
		err = resp.Error()
	}
	if err != nil {
		return fmt.Errorf("creating topics: %w", err)
	}
	for {
		md, err := r.adm.Metadata(ctx, r.topics...)
		if err == nil && topicsReady(md, r.topics, w.PartitionsPerTopic) {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("waiting for the topics' leaders: %w (last metadata error: %v)", ctx.Err(), err)
		case <-time.After(pollInterval):
		}
	}
}

func topicsReady(md kadm.Metadata, topics []string, partitions int) bool {
	for _, t := range topics {
		td, ok := md.Topics[t]
		if !ok || td.Err != nil || len(td.Partitions) != partitions {
			return false
		}
		for _, p := range td.Partitions {
			if p.Err != nil || p.Leader < 0 {
				return false
			}
		}
	}
	return true
}

// deleteTopics removes the run's topics unless the workload keeps them.
// It runs after an interrupt too, so it has a context of its own.
func (r *run) deleteTopics(parent context.Context) {
	if r.w.KeepTopics || len(r.topics) == 0 {
		return
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(parent), 30*time.Second)
	defer cancel()
	r.adm.DeleteTopics(ctx, r.topics...)
}

func (r *run) newConsumers(starts kadm.ListedOffsets) error {
	w := &r.w
	for _, topic := range r.topics {
		checks := make([]*partitionCheck, w.PartitionsPerTopic)
		states := make([]*partitionState, w.PartitionsPerTopic)
		for ci := range w.ConsumersPerTopic {
			assign := map[int32]kgo.Offset{}
			parts := make([]*partitionState, w.PartitionsPerTopic)
			for p := ci; p < w.PartitionsPerTopic; p += w.ConsumersPerTopic {
				lo, _ := starts.Lookup(topic, int32(p))
				assign[int32(p)] = kgo.NewOffset().At(lo.Offset)
				checks[p] = newPartitionCheck(topic, int32(p), w.Producers)
				states[p] = &partitionState{check: checks[p]}
				states[p].next.Store(lo.Offset)
				parts[p] = states[p]
			}
			id := len(r.consumers)
			cl, err := kgo.NewClient(
				kgo.SeedBrokers(r.o.Brokers...),
				kgo.ClientID(fmt.Sprintf("sluice-bench-consumer-%d", id)),
				kgo.ConsumePartitions(map[string]map[int32]kgo.Offset{topic: assign}),
				kgo.FetchMaxWait(w.FetchMaxWait),
			)
			if err != nil {
				return err
			}
			r.cclients = append(r.cclients, cl)
			r.consumers = append(r.consumers, &consumer{id: id, cl: cl, clock: r.clock, parts: map[string][]*partitionState{topic: parts},
				e2e: r.e2eLat, errs: &r.errs, measured: w.Warmup})
		}
		r.checks = append(r.checks, checks)
		r.states = append(r.states, states)
	}
	return nil
}

func (r *run) newProducers(ctx context.Context) error {
	w := &r.w
	keys, payload := makeKeys(w), makePayload(w)
	// Records keep being delivered after an interrupt (the drain decides
	// how long): a cancelled record context would fail them unsent.
	pctx := context.WithoutCancel(ctx)
	for i := range w.Producers {
		cl, err := kgo.NewClient(producerOpts(w, r.o.Brokers, i)...)
		if err != nil {
			return err
		}
		r.pclients = append(r.pclients, cl)
		r.producers = append(r.producers, &producer{
			id: uint32(i), topic: r.topics[i%w.Topics], clock: r.clock, produce: cl.Produce, ctx: pctx,
			shape: newRecordShape(w, i, keys), payload: payload, log: newSentLog(w.PartitionsPerTopic),
			lat: r.produceLat, errs: &r.errs, measured: w.Warmup,
		})
	}
	return nil
}

func producerOpts(w *Workload, brokers []string, id int) []kgo.Opt {
	codec := map[string]kgo.CompressionCodec{"none": kgo.NoCompression(), "gzip": kgo.GzipCompression(),
		"snappy": kgo.SnappyCompression(), "lz4": kgo.Lz4Compression(), "zstd": kgo.ZstdCompression()}[w.Compression]
	opts := []kgo.Opt{
		kgo.SeedBrokers(brokers...),
		kgo.ClientID(fmt.Sprintf("sluice-bench-producer-%d", id)),
		kgo.RecordPartitioner(kgo.ManualPartitioner()),
		kgo.ProducerLinger(w.Linger),
		kgo.ProducerBatchMaxBytes(int32(w.BatchMaxBytes)),
		kgo.ProducerBatchCompression(codec),
		kgo.MaxBufferedRecords(w.MaxBufferedRecords),
		kgo.RecordDeliveryTimeout(w.DeliveryTimeout),
	}
	switch w.Acks {
	case "0":
		opts = append(opts, kgo.RequiredAcks(kgo.NoAck()))
	case "1":
		opts = append(opts, kgo.RequiredAcks(kgo.LeaderAck()))
	default:
		opts = append(opts, kgo.RequiredAcks(kgo.AllISRAcks()))
	}
	if !w.Idempotent {
		opts = append(opts, kgo.DisableIdempotentWrite(), kgo.MaxProduceRequestsInflightPerBroker(w.MaxInFlight))
	}
	return opts
}

// send runs the producers until the end of the measured phase or until
// ctx ends, and returns when sending stopped (by the run's clock). A
// sender blocked in Produce past its time (a full buffer in front of a
// stalled broker) is freed by closing the clients once the drain timeout,
// or after an interrupt the shorter interrupted drain, has passed.
func (r *run) send(ctx context.Context) time.Duration {
	w := &r.w
	end := w.Warmup + w.Duration
	done := make(chan struct{})
	if w.MaxThroughput() {
		limit := int64(maxRate * (end.Seconds() + 1))
		var wg sync.WaitGroup
		for _, p := range r.producers {
			wg.Go(func() { closedLoop(ctx, r.clock, end, limit, func(_ int64, due time.Duration) { p.send(due) }) })
		}
		go func() { wg.Wait(); close(done) }()
	} else {
		n := int64(len(r.producers))
		lag := func(due, late time.Duration) { r.sendLag.record(0, due, late) }
		go func() {
			defer close(done)
			lockPacerThread()
			pace(ctx, r.clock, schedule{start: 0, end: end, rate: w.Rate}, lag, func(i int64, due time.Duration) {
				r.producers[i%n].send(due)
			})
		}()
	}
	deadline := time.NewTimer(time.Until(r.clock.epoch.Add(end + w.DrainTimeout)))
	defer deadline.Stop()
	cancelled := ctx.Done()
	for {
		select {
		case <-done:
			return min(r.clock.now(), end)
		case <-cancelled:
			cancelled = nil
			deadline.Reset(interruptedDrain)
		case <-deadline.C:
			r.errs.add("producers still blocked in Produce at the drain deadline; closing them")
			r.closeProducers()
			<-done
			return min(r.clock.now(), end)
		}
	}
}

// drain waits for every record to be acknowledged and for the consumers
// to read up to the end of every partition, and says whether both
// happened in time.
func (r *run) drain(ctx context.Context, interrupted bool) bool {
	timeout := r.w.DrainTimeout
	if interrupted {
		timeout = min(timeout, interruptedDrain)
	}
	dctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), timeout)
	defer cancel()
	var wg sync.WaitGroup
	var flushFailed atomic.Bool
	for _, cl := range r.pclients {
		wg.Go(func() {
			if cl.Flush(dctx) != nil {
				flushFailed.Store(true)
			}
		})
	}
	wg.Wait()
	if flushFailed.Load() {
		r.errs.add("producers had records unacknowledged after the %v drain", timeout)
		return false
	}
	if len(r.consumers) == 0 {
		return true
	}
	ends, err := r.adm.ListEndOffsets(dctx, r.topics...)
	if err == nil {
		err = ends.Error()
	}
	if err != nil {
		r.errs.add("listing end offsets to drain the consumers: %v", err)
		return false
	}
	for {
		caught := true
		for ti, states := range r.states {
			for p, st := range states {
				if lo, ok := ends.Lookup(r.topics[ti], int32(p)); ok && st != nil && st.next.Load() < lo.Offset {
					caught = false
				}
			}
		}
		if caught {
			return true
		}
		select {
		case <-dctx.Done():
			if !interrupted {
				r.errs.add("consumers had not read up to the end offsets after the %v drain", timeout)
			}
			return false
		case <-time.After(pollInterval):
		}
	}
}

func (r *run) closeProducers() {
	for _, cl := range r.pclients {
		cl.Close()
	}
}

// closeClients closes every client; Close is idempotent, so this runs
// both in order and again, deferred, on an early return.
func (r *run) closeClients() {
	r.closeProducers()
	for _, cl := range r.cclients {
		cl.Close()
	}
}

// awaitPromises waits until every record sent has had its callback: a
// closed client fails what it still held, and the checker needs to know.
func (r *run) awaitPromises() bool {
	deadline := time.Now().Add(closeTimeout)
	for {
		pending := int64(0)
		for _, p := range r.producers {
			pending += p.sent.Load() - p.acked.Load() - p.failed.Load()
		}
		if pending == 0 {
			return true
		}
		if time.Now().After(deadline) {
			return false
		}
		time.Sleep(pollInterval)
	}
}

// trimLoop deletes records the consumers have read, every trim_interval,
// so that the broker deletes old segments while producers write new ones.
func (r *run) trimLoop(ctx context.Context, done chan<- struct{}) {
	defer close(done)
	if r.w.TrimInterval == 0 {
		return
	}
	t := time.NewTicker(r.w.TrimInterval)
	defer t.Stop()
	trimmed := map[[2]int]int64{}
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		var offs kadm.Offsets
		for ti, states := range r.states {
			for p, st := range states {
				if st == nil {
					continue
				}
				if next := st.next.Load(); next > trimmed[[2]int{ti, p}] {
					offs.Add(kadm.Offset{Topic: r.topics[ti], Partition: int32(p), At: next, LeaderEpoch: -1})
					trimmed[[2]int{ti, p}] = next
				}
			}
		}
		if len(offs) == 0 {
			continue
		}
		resp, err := r.adm.DeleteRecords(ctx, offs)
		if err == nil {
			err = resp.Error()
		}
		r.trims.Add(1)
		if err != nil && ctx.Err() == nil {
			r.trimErrors.Add(1)
			r.errs.add("DeleteRecords: %v", err)
		}
	}
}

func firstOr(ss []string, def string) string {
	if len(ss) > 0 {
		return ss[0]
	}
	return def
}
