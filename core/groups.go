package core

// The group coordinator's home in the broker: the __consumer_offsets topic,
// one group.Coordinator per partition of it, driven by the shard that owns
// the partition. The coordinator is a pure state machine (core/group);
// this file is its I/O edge: it appends the records a call emits through
// the produce path, releases the call's replies once they are written,
// arms its timer, and rebuilds it from the log at start-up.
//
// __consumer_offsets is created at the first start with
// offsets.topic.num.partitions partitions (default 16) and keeps that count:
// a group's partition is a hash of its id modulo the count, so changing it
// would lose every group's state, and growing the topic is refused. 16, as
// Redpanda chose, rather than Kafka's 50: Kafka spreads coordinators over
// many brokers with it, while here every partition is on this node and costs
// a log (a writer goroutine, open files, a tail cache) and a replay at each
// start; 16 still spreads the groups over the shards of a typical
// appliance. Its segments are preallocated in small steps, since commits
// are a trickle next to produce traffic.
//
// Durability: a coordinator's records are produced with acks=all through
// partition.produce, so they follow the topic's flush.messages like any
// other topic's: by default a commit is acknowledged once it is in the log
// (what Kafka does: replicated to the ISR, not fsync'd), and with
// flush.messages=1 set on __consumer_offsets (AlterConfigs) once it is
// fdatasync'd. Not fsync'd by default because an offset should not be more
// durable than the records it points past, which at the default flush
// policy are not either: after a power cut a synced offset could point
// beyond the recovered end of its partition.
//
// Compaction does not exist yet, so the topic's cleanup.policy is delete
// with retention.ms=-1: nothing is ever removed, and each start replays the
// whole log into the coordinators. That costs start-up time in proportion
// to every commit ever made: a record of about 60 bytes per partition per
// commit and one per rebalance, so a consumer committing 10 partitions at
// the usual 5 s auto-commit interval adds some 12 MB a day, and a year of
// it is over 4 GB read at every start. Compaction (Kafka's policy for this
// topic) will bound it by the live keys. Setting a retention on the topic
// instead would make a restart forget offsets older than it.

import (
	"errors"
	"fmt"
	"math"
	"strconv"
	"sync"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"sluice/core/group"
	"sluice/disk/batch"
	"sluice/netio"
)

const (
	offsetsTopic = "__consumer_offsets"
	// defaultOffsetsPartitions is offsets.topic.num.partitions; see above.
	defaultOffsetsPartitions = 16
	// offsetsPreallocateBytes is the fallocate step of the topic's
	// segments, in place of the 32 MiB of data topics.
	offsetsPreallocateBytes = 1 << 20
	// maxGroupBatchBytes bounds one batch of coordinator records, well
	// under the topic's max.message.bytes, so that a large Output (expiry,
	// a deleted topic's offsets in many groups) is written as several
	// batches rather than refused.
	maxGroupBatchBytes = 256 << 10
	// groupReplayReadBytes is how much of the log one replay step reads.
	groupReplayReadBytes = 1 << 20
)

// offsetsTopicConfigs are the topic configs __consumer_offsets is created
// with: nothing expires (see above), and 100 MiB segments as Kafka's
// offsets.topic.segment.bytes.
func offsetsTopicConfigs() map[string]string {
	return map[string]string{"retention.ms": "-1", "segment.bytes": "104857600"}
}

// isInternal reports whether t is __consumer_offsets, which clients may
// read but not produce to, delete, grow or truncate.
func (t *topic) isInternal() bool { return t != nil && t.name == offsetsTopic }

// groupConfig is the coordinators' configuration: Kafka's defaults,
// overridden by what Config sets.
func (c *Config) groupConfig() group.Config {
	g := group.DefaultConfig()
	ms32 := func(d time.Duration) int32 { return int32(min(d.Milliseconds(), math.MaxInt32)) }
	if c.GroupMinSessionTimeout > 0 {
		g.MinSessionTimeoutMs = ms32(c.GroupMinSessionTimeout)
	}
	if c.GroupMaxSessionTimeout > 0 {
		g.MaxSessionTimeoutMs = ms32(c.GroupMaxSessionTimeout)
	}
	if c.GroupInitialRebalanceDelay != nil {
		g.InitialRebalanceDelayMs = ms32(*c.GroupInitialRebalanceDelay)
	}
	if c.GroupMaxSize > 0 {
		g.MaxSize = c.GroupMaxSize
	}
	if c.OffsetsRetention > 0 {
		g.OffsetsRetentionMs = c.OffsetsRetention.Milliseconds()
	}
	return g
}

// openGroupCoordinators creates __consumer_offsets if it is missing and
// gives each of its partitions a coordinator rebuilt from its log. Runs in
// Start, before the loops run: the replays run in parallel, one goroutine
// per partition, each touching only its own partition. It fails only when
// the topic cannot be created or the configuration is invalid.
func (b *Broker) openGroupCoordinators() error {
	cfg := b.cfg.groupConfig()
	if _, err := group.New(cfg); err != nil {
		return err
	}
	t := b.topic(offsetsTopic)
	if t == nil {
		var err error
		if t, _, err = b.createTopic(offsetsTopic, b.cfg.OffsetsTopicPartitions, offsetsTopicConfigs(), false); err != nil {
			return fmt.Errorf("creating %s: %w", offsetsTopic, err)
		}
	} else if n := int32(len(t.partitions)); n != b.cfg.OffsetsTopicPartitions {
		b.log.Warn("offsets.topic.num.partitions differs from the existing topic's; the topic's count stays, as in Kafka",
			"configured", b.cfg.OffsetsTopicPartitions, "partitions", n)
	}
	b.offsets = t
	var wg sync.WaitGroup
	for _, p := range t.partitions {
		wg.Add(1)
		go func() {
			defer wg.Done()
			p.coord = newGroupCoordinator(p, cfg)
			p.coord.load()
		}()
	}
	wg.Wait()
	return nil
}

// groupCoordinator drives one group.Coordinator on the loop of its
// __consumer_offsets partition. Everything but construction runs on the
// owning shard.
type groupCoordinator struct {
	p   *partition
	cfg group.Config
	c   *group.Coordinator
	// timer fires at the coordinator's NextDeadline (armed, in ms since
	// the epoch; -1 when not set) and posts tick to the loop.
	timer *time.Timer
	armed int64
	// waiting holds, in the order the coordinator produced them, the
	// outputs whose replies are not out yet: each waits for its own
	// appends and for every output before it, so replies leave in call
	// order even when some wait for an fdatasync. Bounded by the requests
	// in flight, whose records are bounded by the log's pending bytes.
	waiting  []*groupOutput
	build    batch.Builder
	buf      []byte
	unloaded bool // at shutdown: no timers, NOT_COORDINATOR to all
}

// groupOutput is one Output (or a barrier, then) waiting for release.
type groupOutput struct {
	replies []group.Reply
	appends int   // batches not yet written, plus one while being issued
	err     error // the first append that failed
	then    func()
}

// groupReply is the group.Handle of every request a coordinator answers:
// it runs on the coordinator's loop when the answer is released.
type groupReply func(resp any)

func newGroupCoordinator(p *partition, cfg group.Config) *groupCoordinator {
	gc := &groupCoordinator{p: p, cfg: cfg, armed: -1}
	gc.timer = time.AfterFunc(time.Hour, func() { p.loop.Post(gc.tick) })
	gc.timer.Stop()
	return gc
}

func nowMs() int64 { return time.Now().UnixMilli() }

// load replays the partition's log into a new coordinator and starts it.
// A log that cannot be read takes this partition's groups offline, not the
// broker. Runs in Start, before the partition's loop runs.
func (gc *groupCoordinator) load() {
	c, err := gc.replay()
	if err != nil {
		gc.offline(err)
		return
	}
	gc.c = c
	gc.apply(c.Loaded(nowMs()))
}

// offline leaves the partition without a working coordinator: its groups
// get NOT_COORDINATOR (clients retry, so they resume once an operator has
// fixed the disk and restarted the broker). Runs on the owning shard.
func (gc *groupCoordinator) offline(err error) {
	gc.p.b.log.Error("cannot load a group coordinator; its groups are unavailable", "partition", gc.p.index, "err", err)
	c, _ := group.New(gc.cfg) // the config was validated at start
	c.Unload()
	gc.c = c
	gc.arm()
}

// replay reads the whole log into a new coordinator, as Kafka's
// GroupMetadataManager loads a partition: the last record of a key wins.
// A record the coordinator cannot read is logged and skipped; a log that
// cannot be read fails the replay. Runs on the owning shard (or before
// its loop runs).
func (gc *groupCoordinator) replay() (*group.Coordinator, error) {
	c, err := group.New(gc.cfg)
	if err != nil {
		return nil, err
	}
	l := gc.p.log
	from, end := l.LogStartOffset(), l.LogEndOffset()
	var buf []byte
	records, skipped := 0, 0
	var firstErr error
	apply := func(r batch.Record) error {
		records++
		if err := c.Replay(r.Key, r.Value); err != nil {
			skipped++
			firstErr = cmpOr(firstErr, err)
		}
		return nil
	}
	for from < end {
		var next int64
		buf, next, err = l.Read(buf[:0], from, groupReplayReadBytes, end)
		if err != nil {
			return nil, fmt.Errorf("replaying at offset %d: %w", from, err)
		}
		if next <= from {
			return nil, fmt.Errorf("replaying: no progress at offset %d", from)
		}
		for rest := buf; len(rest) > 0; {
			h, err := batch.ParseHeader(rest)
			if err != nil || h.Size() > len(rest) {
				return nil, fmt.Errorf("replaying at offset %d: %v", from, err)
			}
			if !h.IsControl() {
				if err := batch.Records(rest[:h.Size()], apply); err != nil {
					skipped++
					firstErr = cmpOr(firstErr, fmt.Errorf("batch at offset %d: %w", h.BaseOffset, err))
				}
			}
			rest = rest[h.Size():]
		}
		from = next
	}
	if skipped > 0 {
		gc.p.b.log.Warn("skipped unreadable __consumer_offsets records", "partition", gc.p.index, "skipped", skipped, "first", firstErr)
	}
	if records > 0 {
		gc.p.b.log.Info("loaded group coordinator", "partition", gc.p.index, "records", records, "offsets", end-l.LogStartOffset())
	}
	return c, nil
}

func cmpOr(a, b error) error {
	if a != nil {
		return a
	}
	return b
}

// apply carries out an Output: its records go to the log, in batches of
// at most maxGroupBatchBytes, through the produce path with acks=all; its
// replies go once those are written (and every earlier Output's replies
// have gone). Then the timer is re-armed. Runs on the owning shard.
func (gc *groupCoordinator) apply(out group.Output) {
	if len(out.Records) > 0 || len(out.Replies) > 0 {
		o := &groupOutput{replies: out.Replies, appends: 1}
		gc.waiting = append(gc.waiting, o)
		gc.appendRecords(o, out.Records)
		o.appends--
		gc.release()
	}
	gc.arm()
}

func (gc *groupCoordinator) appendRecords(o *groupOutput, records []group.Record) {
	if len(records) == 0 {
		return
	}
	now := nowMs()
	gc.build.Reset(gc.buf, now)
	for i, r := range records {
		if gc.build.NumRecords() > 0 && gc.build.Len()+len(r.Key)+len(r.Value)+32 > maxGroupBatchBytes {
			if !gc.appendBatch(o) {
				return
			}
			gc.build.Reset(gc.buf, now)
		}
		gc.build.Add(r.Key, r.Value)
		if i == len(records)-1 {
			gc.appendBatch(o)
		}
	}
}

// appendBatch appends the batch built so far; false when it failed at
// once, and the Output's later batches are not tried.
func (gc *groupCoordinator) appendBatch(o *groupOutput) bool {
	raw := gc.build.Finish()
	gc.buf = raw[:0] // the log copies what it appends
	o.appends++
	gc.p.produce(raw, -1, func(_ int64, err error) {
		if err != nil && o.err == nil {
			o.err = err
		}
		o.appends--
		gc.release()
	})
	return o.err == nil
}

// release sends the replies of every Output at the head of waiting whose
// appends are written. An Output whose append failed gets failed replies
// instead, and the coordinator, whose memory is now ahead of the log, is
// rebuilt from the log.
func (gc *groupCoordinator) release() {
	for len(gc.waiting) > 0 && gc.waiting[0].appends == 0 {
		o := gc.waiting[0]
		gc.waiting[0] = nil
		gc.waiting = gc.waiting[1:]
		if o.err != nil {
			gc.fail(o)
			continue
		}
		for _, r := range o.replies {
			r.Handle.(groupReply)(r.Response)
		}
		if o.then != nil {
			o.then()
		}
	}
	if len(gc.waiting) == 0 {
		gc.waiting = nil // let a burst's backing array go
	}
}

// afterWrites calls fn once every Output applied so far is released:
// OffsetFetch's RequireStable. Runs on the owning shard.
func (gc *groupCoordinator) afterWrites(fn func()) {
	if len(gc.waiting) == 0 {
		fn()
		return
	}
	gc.waiting = append(gc.waiting, &groupOutput{then: fn})
}

// fail answers an Output whose records could not be written, as Kafka
// answers a failed write of the offsets partition, and rebuilds the
// coordinator from what the log holds. Requests parked in the old
// coordinator are answered NOT_COORDINATOR so that their clients come
// back to the new one.
func (gc *groupCoordinator) fail(o *groupOutput) {
	gc.p.b.log.Warn("writing group coordinator records failed; rebuilding it from the log", "partition", gc.p.index, "err", o.err)
	for _, r := range o.replies {
		_, commit := r.Response.(*group.OffsetCommitResponse)
		failed := group.FailedReplies(group.Output{Replies: []group.Reply{r}}, groupWriteError(o.err, commit))
		failed[0].Handle.(groupReply)(failed[0].Response)
	}
	old := gc.c
	gc.c = nil
	for _, r := range old.Unload().Replies {
		r.Handle.(groupReply)(r.Response)
	}
	c, err := gc.replay()
	if err != nil {
		gc.offline(err)
		return
	}
	gc.c = c
	gc.apply(c.Loaded(nowMs()))
}

// arm sets the timer for the coordinator's next deadline. The extra
// millisecond keeps the timer from firing in the millisecond before the
// deadline, which Tick would take for "not yet".
func (gc *groupCoordinator) arm() {
	d, ok := gc.c.NextDeadline()
	if !ok || gc.unloaded {
		if gc.armed >= 0 {
			gc.timer.Stop()
			gc.armed = -1
		}
		return
	}
	if d == gc.armed {
		return
	}
	gc.armed = d
	gc.timer.Reset(max(time.Duration(d-nowMs())*time.Millisecond+time.Millisecond, 0))
}

// tick runs when the timer fires (or fired for an earlier arming: Tick at
// a time with nothing due does nothing). Runs on the owning shard.
func (gc *groupCoordinator) tick() {
	gc.armed = -1
	if gc.unloaded {
		return
	}
	gc.apply(gc.c.Tick(nowMs()))
}

// unload gives the partition up at shutdown: parked JoinGroups and
// SyncGroups are answered NOT_COORDINATOR, as Kafka answers them when it
// resigns, so that the drain need not wait out their rebalance timeouts.
// Runs on the owning shard.
func (gc *groupCoordinator) unload() {
	gc.unloaded = true
	gc.timer.Stop()
	gc.armed = -1
	gc.apply(gc.c.Unload())
}

// coordinatorFor returns the __consumer_offsets partition that holds
// groupID's state.
func (b *Broker) coordinatorFor(groupID string) *partition {
	ps := b.offsets.partitions
	return ps[group.PartitionFor(groupID, int32(len(ps)))]
}

// onCoordinator runs fn with groupID's coordinator on its loop: at once
// when that is the request's own loop, else posted there. Whatever fn
// uses of the request must have been copied out of the read buffer.
func (r *request) onCoordinator(groupID string, fn func(gc *groupCoordinator)) {
	p := r.b.coordinatorFor(groupID)
	if p.loop == r.c.Loop() {
		fn(p.coord)
		return
	}
	p.loop.Post(func() { fn(p.coord) })
}

// groupReply makes the Handle for a request that gc will answer: build
// turns the coordinator's response into the request's kmsg response, which
// is encoded on the coordinator's loop (a response may share bytes with
// the coordinator's state, which its next call may replace) and sent from
// the connection's.
func (r *request) groupReply(gc *groupCoordinator, build func(resp any) kmsg.Response) groupReply {
	return func(resp any) {
		kresp := build(resp)
		r.sendFrom(gc.p.loop, r.encode(kresp), responseFailed(kresp))
	}
}

// clientHost is how Kafka shows a member's address: "/" and the IP.
func clientHost(c *netio.Conn) string {
	addr := c.RemoteAddr()
	for i := len(addr) - 1; i >= 0; i-- {
		if addr[i] == ':' {
			addr = addr[:i]
			break
		}
	}
	if len(addr) > 1 && addr[0] == '[' && addr[len(addr)-1] == ']' {
		addr = addr[1 : len(addr)-1]
	}
	return "/" + addr
}

// copyBytes copies a byte field out of the read buffer, keeping nil apart
// from empty.
func copyBytes(b []byte) []byte {
	if b == nil {
		return nil
	}
	return append([]byte{}, b...)
}

// groupOperations is the bit field of the ACL operations that apply to a
// group (Kafka's AclEntry.supportedOperations(GROUP)): READ 3, DELETE 6,
// DESCRIBE 8; all allowed, as Kafka reports without an authorizer.
const groupOperations = 1<<3 | 1<<6 | 1<<8

// errString returns a pointer to err's message, or nil for no error: the
// ErrorMessage of the responses that carry one.
func errString(err error) *string {
	if err == nil {
		return nil
	}
	var ke *kerr.Error
	if errors.As(err, &ke) {
		s := ke.Description
		return &s
	}
	s := err.Error()
	return &s
}

// groupBrokerConfigs are the coordinator's settings as DescribeConfigs shows
// them on the broker resource.
func (b *Broker) groupBrokerConfigs() []brokerConfig {
	g := b.cfg.groupConfig()
	n := int32(len(b.offsets.partitions))
	return []brokerConfig{
		{"offsets.topic.num.partitions", strconv.Itoa(int(n)), kmsg.ConfigSourceStaticBrokerConfig, kmsg.ConfigTypeInt, "The partitions of __consumer_offsets; fixed once the topic exists."},
		{"group.initial.rebalance.delay.ms", strconv.Itoa(int(g.InitialRebalanceDelayMs)), kmsg.ConfigSourceStaticBrokerConfig, kmsg.ConfigTypeInt, "How long the first rebalance of an empty group waits for more members."},
		{"group.min.session.timeout.ms", strconv.Itoa(int(g.MinSessionTimeoutMs)), kmsg.ConfigSourceStaticBrokerConfig, kmsg.ConfigTypeInt, "The shortest session timeout a member may ask for."},
		{"group.max.session.timeout.ms", strconv.Itoa(int(g.MaxSessionTimeoutMs)), kmsg.ConfigSourceStaticBrokerConfig, kmsg.ConfigTypeInt, "The longest session timeout a member may ask for."},
		{"group.max.size", strconv.Itoa(g.MaxSize), kmsg.ConfigSourceStaticBrokerConfig, kmsg.ConfigTypeInt, "The most members a group may have."},
		{"offsets.retention.minutes", strconv.FormatInt(g.OffsetsRetentionMs/60000, 10), kmsg.ConfigSourceStaticBrokerConfig, kmsg.ConfigTypeInt, "How long the offsets of a group without members are kept."},
	}
}

// groupTopicsDeleted removes the committed offsets of deleted topics from
// every coordinator, and waits until each has taken them out of its state
// (the tombstones are written in the background, like any Output's).
func (b *Broker) groupTopicsDeleted(topics []*topic) {
	names := make([]string, len(topics))
	for i, t := range topics {
		names[i] = t.name
	}
	var wg sync.WaitGroup
	for _, p := range b.offsets.partitions {
		wg.Add(1)
		p.loop.Post(func() {
			defer wg.Done()
			p.coord.apply(p.coord.c.TopicsDeleted(nowMs(), names))
		})
	}
	wg.Wait()
}
