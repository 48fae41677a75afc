package torture

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"sync"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"
)

// Config is one campaign. Zero fields take the defaults in brackets.
type Config struct {
	Seed       uint64
	Duration   time.Duration // of the fault phase [20s]
	Partitions int32         // of the topic [3]
	Rate       int           // records a second per producer [1000]
	MaxRecords uint64        // per producer [1,000,000]
	Dir        string        // work dir: binary, data, broker log [a new temp dir, removed unless Keep]
	Keep       bool          // keep Dir
	Bin        string        // a built sluice binary [built into Dir]
	Log        io.Writer     // progress [io.Discard]
}

// Hard bounds whatever the config says.
const (
	maxDuration   = 24 * time.Hour
	maxEvents     = 20_000_000
	drainTimeout  = 90 * time.Second // producers' flush and the consumer catching up after the faults
	readTimeout   = 90 * time.Second // the final read
	topic         = "torture"
	idemProducer  = "idem"
	plainProducer = "plain"
)

// Result is what a campaign did and found.
type Result struct {
	Seed       uint64
	Schedule   []Fault
	Sent       map[string]uint64
	Acked      map[string]uint64
	Failed     map[string]uint64
	Consumed   uint64
	LogRecords int
	Events     []Event
	Violations []Violation
	Dir        string
}

// Summary writes the counts, the schedule's shape and the violations.
func (r *Result) Summary(w io.Writer) {
	kinds := map[FaultKind]int{}
	for _, f := range r.Schedule {
		kinds[f.Kind]++
	}
	fmt.Fprintf(w, "seed %d: faults %d (kill9 %d, pause %d)\n", r.Seed, len(r.Schedule), kinds[Kill], kinds[Pause])
	for _, p := range []string{idemProducer, plainProducer} {
		fmt.Fprintf(w, "producer %-5s sent %d acked %d failed %d\n", p, r.Sent[p], r.Acked[p], r.Failed[p])
	}
	fmt.Fprintf(w, "consumed during run %d, records in log at end %d\n", r.Consumed, r.LogRecords)
	byKind := map[string]int{}
	for _, v := range r.Violations {
		byKind[v.Kind]++
	}
	fmt.Fprintf(w, "violations %d %v\n", len(r.Violations), byKind)
	WriteViolations(w, r.Violations, r.Events, 5*time.Second, 50)
}

func (c *Config) defaults() {
	if c.Duration <= 0 {
		c.Duration = 20 * time.Second
	}
	c.Duration = min(c.Duration, maxDuration)
	if c.Partitions <= 0 {
		c.Partitions = 3
	}
	if c.Rate <= 0 {
		c.Rate = 1000
	}
	if c.MaxRecords == 0 {
		c.MaxRecords = 1_000_000
	}
	if c.Log == nil {
		c.Log = io.Discard
	}
}

// Run runs a campaign: start the broker, create the topic, produce and
// consume while the seeded schedule of faults plays, let everything drain
// on a healthy broker, read every partition back and check the history.
// The broker is killed before Run returns, whatever happens. An error
// means the campaign could not be carried out; broken promises are in
// Result.Violations.
func Run(ctx context.Context, cfg Config) (res *Result, err error) {
	cfg.defaults()
	if cfg.Dir == "" {
		if cfg.Dir, err = os.MkdirTemp("", "sluice-torture-"); err != nil {
			return nil, err
		}
		if !cfg.Keep {
			defer os.RemoveAll(cfg.Dir)
		}
	}
	if cfg.Bin == "" {
		fmt.Fprintf(cfg.Log, "building sluice into %s\n", cfg.Dir)
		if cfg.Bin, err = Build(ctx, cfg.Dir); err != nil {
			return nil, err
		}
	}
	addr, err := FreeAddr()
	if err != nil {
		return nil, err
	}
	b := &Broker{Bin: cfg.Bin, Addr: addr, DataDir: filepath.Join(cfg.Dir, "data"), LogPath: filepath.Join(cfg.Dir, "sluice.log"), Args: []string{"--shards", "2"}}
	defer b.Close()
	defer func() {
		if err != nil {
			err = fmt.Errorf("%w\nbroker log tail:\n%s", err, b.tail(2000))
		}
	}()
	if err := b.Start(ctx); err != nil {
		return nil, err
	}
	h := NewHistory(maxEvents)
	h.Faultf("start pid %d on %s", b.Pid(), addr)
	fmt.Fprintf(cfg.Log, "sluice pid %d on %s, data %s\n", b.Pid(), addr, b.DataDir)

	if err := createTopic(ctx, addr, cfg.Partitions); err != nil {
		return nil, err
	}

	sched := Schedule(cfg.Seed, cfg.Duration)
	for _, f := range sched {
		h.Faultf("scheduled %s", f)
	}
	res = &Result{Seed: cfg.Seed, Schedule: sched, Dir: cfg.Dir}

	stop := make(chan struct{})
	var wg sync.WaitGroup
	var prodErrs [2]error
	counts := [2]*producerCounts{{}, {}}
	for i, p := range []struct {
		name string
		opts []kgo.Opt
	}{{idemProducer, nil}, {plainProducer, []kgo.Opt{kgo.DisableIdempotentWrite()}}} {
		wg.Go(func() {
			prodErrs[i] = produce(ctx, addr, p.name, p.opts == nil, p.opts, cfg, h, stop, counts[i])
		})
	}
	var consumed uint64
	var consErr error
	consStop := make(chan struct{})
	var cwg sync.WaitGroup
	cwg.Go(func() { consumed, consErr = consume(ctx, addr, h, consStop) })

	faultErr := playFaults(ctx, b, h, sched, cfg.Log)
	// Whatever happened, the drain runs against a live, unpaused broker.
	if b.Pid() == 0 {
		if err := b.Start(ctx); err != nil {
			faultErr = errors.Join(faultErr, err)
		} else {
			h.Faultf("restart pid %d (after schedule)", b.Pid())
		}
	}
	b.Resume()
	close(stop)
	wg.Wait()
	// Let the consumer see the tail before stopping it; bounded.
	time.Sleep(2 * time.Second)
	close(consStop)
	cwg.Wait()
	if err := errors.Join(faultErr, prodErrs[0], prodErrs[1], consErr); err != nil {
		return res, err
	}

	final, err := readAll(ctx, addr)
	if err != nil {
		return res, err
	}
	events, overflowed := h.Events()
	res.Events = events
	res.Consumed = consumed
	res.Sent, res.Acked, res.Failed = map[string]uint64{}, map[string]uint64{}, map[string]uint64{}
	for i, name := range []string{idemProducer, plainProducer} {
		c := counts[i]
		c.mu.Lock()
		res.Sent[name], res.Acked[name], res.Failed[name] = c.sent, c.acked, c.failed
		c.mu.Unlock()
	}
	for _, rs := range final {
		res.LogRecords += len(rs)
	}
	res.Violations = Check(events, overflowed, final)
	return res, nil
}

func createTopic(ctx context.Context, addr string, partitions int32) error {
	cl, err := kgo.NewClient(kgo.SeedBrokers(addr))
	if err != nil {
		return err
	}
	defer cl.Close()
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	one := "1"
	r, err := kadm.NewClient(cl).CreateTopic(ctx, partitions, 1, map[string]*string{"flush.messages": &one}, topic)
	if err == nil {
		err = r.Err
	}
	if err != nil {
		return fmt.Errorf("create topic %s: %w", topic, err)
	}
	return nil
}

// playFaults applies the schedule, in order, each at its time from now.
func playFaults(ctx context.Context, b *Broker, h *History, sched []Fault, log io.Writer) error {
	start := time.Now()
	for _, f := range sched {
		select {
		case <-time.After(time.Until(start.Add(f.At))):
		case <-ctx.Done():
			return ctx.Err()
		}
		fmt.Fprintf(log, "fault %s\n", f)
		switch f.Kind {
		case Kill:
			pid := b.Pid()
			if err := b.Kill(); err != nil {
				return err
			}
			h.Faultf("kill -9 pid %d", pid)
			time.Sleep(f.Hold)
			if err := b.Start(ctx); err != nil {
				return err
			}
			h.Faultf("restart pid %d (was down %v)", b.Pid(), f.Hold)
		case Pause:
			if err := b.Pause(); err != nil {
				return err
			}
			h.Faultf("SIGSTOP pid %d", b.Pid())
			time.Sleep(f.Hold)
			if err := b.Resume(); err != nil {
				return err
			}
			h.Faultf("SIGCONT pid %d (paused %v)", b.Pid(), f.Hold)
		}
	}
	return nil
}

type producerCounts struct {
	mu                  sync.Mutex
	sent, acked, failed uint64
}

// produce sends RecordValue(name, 0, 1, ...) round-robin over the
// partitions at cfg.Rate until stop or cfg.MaxRecords, then waits for
// every record's outcome (bounded by drainTimeout).
func produce(ctx context.Context, addr, name string, exactlyOnce bool, opts []kgo.Opt, cfg Config, h *History, stop <-chan struct{}, c *producerCounts) error {
	opts = append([]kgo.Opt{
		kgo.SeedBrokers(addr), kgo.DefaultProduceTopic(topic),
		kgo.RecordPartitioner(kgo.ManualPartitioner()),
		kgo.MaxBufferedRecords(10_000),
		kgo.ClientID("torture-" + name),
	}, opts...)
	cl, err := kgo.NewClient(opts...)
	if err != nil {
		return err
	}
	defer cl.Close()
	pctx, cancel := context.WithCancel(ctx)
	defer cancel()

	const tick = 10 * time.Millisecond
	perTick := max(1, cfg.Rate/int(time.Second/tick))
	t := time.NewTicker(tick)
	defer t.Stop()
	var seq uint64
loop:
	for seq < cfg.MaxRecords {
		select {
		case <-stop:
			break loop
		case <-ctx.Done():
			break loop
		case <-t.C:
		}
		for range perTick {
			if seq >= cfg.MaxRecords {
				break
			}
			part := int32(seq % uint64(cfg.Partitions))
			r := &kgo.Record{Partition: part, Value: []byte(RecordValue(name, seq))}
			h.Add(Event{Kind: EvSend, Producer: name, Seq: seq, ExactlyOnce: exactlyOnce, Partition: part})
			c.mu.Lock()
			c.sent++
			c.mu.Unlock()
			s := seq
			cl.Produce(pctx, r, func(r *kgo.Record, err error) {
				c.mu.Lock()
				defer c.mu.Unlock()
				if err != nil {
					c.failed++
					h.Add(Event{Kind: EvFail, Producer: name, Seq: s, Partition: r.Partition, Err: err.Error()})
					return
				}
				c.acked++
				h.Add(Event{Kind: EvAck, Producer: name, Seq: s, Partition: r.Partition, Offset: r.Offset})
			})
			seq++
		}
	}
	fctx, fcancel := context.WithTimeout(ctx, drainTimeout)
	defer fcancel()
	if err := cl.Flush(fctx); err != nil {
		return fmt.Errorf("producer %s: flush after the faults: %w", name, err)
	}
	return nil
}

// consume reads the topic from the start until stop, recording each record.
func consume(ctx context.Context, addr string, h *History, stop <-chan struct{}) (uint64, error) {
	cl, err := kgo.NewClient(kgo.SeedBrokers(addr), kgo.ConsumeTopics(topic),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()), kgo.FetchMaxWait(200*time.Millisecond), kgo.ClientID("torture-consumer"))
	if err != nil {
		return 0, err
	}
	defer cl.Close()
	var n uint64
	for {
		select {
		case <-stop:
			return n, nil
		case <-ctx.Done():
			return n, ctx.Err()
		default:
		}
		pctx, cancel := context.WithTimeout(ctx, 500*time.Millisecond)
		fs := cl.PollRecords(pctx, 10_000)
		cancel()
		fs.EachRecord(func(r *kgo.Record) {
			prod, seq, ok := parseValue(string(r.Value))
			if !ok {
				prod, seq = string(r.Value), 0 // shows up as consumed-lost or phantom
			}
			h.Add(Event{Kind: EvConsume, Producer: prod, Seq: seq, Partition: r.Partition, Offset: r.Offset})
			n++
		})
	}
}

// readAll reads every partition from its log start to its high watermark.
func readAll(ctx context.Context, addr string) (map[int32][]LogRecord, error) {
	ctx, cancel := context.WithTimeout(ctx, readTimeout)
	defer cancel()
	acl, err := kgo.NewClient(kgo.SeedBrokers(addr))
	if err != nil {
		return nil, err
	}
	defer acl.Close()
	adm := kadm.NewClient(acl)
	starts, err := adm.ListStartOffsets(ctx, topic)
	if err == nil {
		err = starts.Error()
	}
	if err != nil {
		return nil, fmt.Errorf("final read: start offsets: %w", err)
	}
	ends, err := adm.ListEndOffsets(ctx, topic)
	if err == nil {
		err = ends.Error()
	}
	if err != nil {
		return nil, fmt.Errorf("final read: end offsets: %w", err)
	}
	from := map[int32]kgo.Offset{}
	final := map[int32][]LogRecord{}
	need := map[int32]int64{}
	ends.Each(func(o kadm.ListedOffset) {
		final[o.Partition] = nil
		if s, ok := starts.Lookup(topic, o.Partition); ok && s.Offset < o.Offset {
			from[o.Partition] = kgo.NewOffset().At(s.Offset)
			need[o.Partition] = o.Offset
		}
	})
	if len(need) == 0 {
		return final, nil
	}
	cl, err := kgo.NewClient(kgo.SeedBrokers(addr), kgo.ConsumePartitions(map[string]map[int32]kgo.Offset{topic: from}), kgo.ClientID("torture-final-read"))
	if err != nil {
		return nil, err
	}
	defer cl.Close()
	for len(need) > 0 {
		fs := cl.PollFetches(ctx)
		if ctx.Err() != nil {
			return nil, fmt.Errorf("final read: partitions %v not read up to their end offsets in %v", need, readTimeout)
		}
		fs.EachRecord(func(r *kgo.Record) {
			final[r.Partition] = append(final[r.Partition], LogRecord{Offset: r.Offset, Value: string(r.Value)})
			if end, ok := need[r.Partition]; ok && r.Offset+1 >= end {
				delete(need, r.Partition)
			}
		})
	}
	for _, rs := range final {
		sort.Slice(rs, func(i, j int) bool { return rs[i].Offset < rs[j].Offset })
	}
	return final, nil
}
