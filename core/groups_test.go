package core

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"os/exec"
	"slices"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"

	"sluice/core/group"
)

// Group tests run the broker with short group timeouts, so that members
// join, die and are noticed within seconds: Kafka's 6 s minimum session
// timeout is lowered (for the member a test kills; the others keep 6 s,
// so that a loaded machine does not expire them), and the first rebalance
// of a group does not wait for more members.
const (
	rdkafkaGroupScript   = "testdata/rdkafka_group.py"
	testSessionTimeout   = 6 * time.Second
	testVictimSession    = 1500 * time.Millisecond
	testHeartbeat        = 100 * time.Millisecond
	testRebalanceTimeout = 5 * time.Second
	// groupTestTimeout bounds each test's waits as a whole.
	groupTestTimeout = 30 * time.Second
)

func groupBrokerConfig(dir, listen string) Config {
	noDelay := time.Duration(0)
	return Config{Listen: listen, DataDir: dir, Shards: 2, Logger: quiet,
		GroupMinSessionTimeout: 100 * time.Millisecond, GroupInitialRebalanceDelay: &noDelay}
}

func startGroupBroker(t *testing.T, dir, listen string) *Broker {
	t.Helper()
	b, err := Start(groupBrokerConfig(dir, listen))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// groupMember is one franz-go group consumer, polling in its own
// goroutine and reporting every record to sink.
type groupMember struct {
	id      int
	cl      *kgo.Client
	cancel  context.CancelFunc
	done    chan struct{}
	revoked atomic.Int32 // OnPartitionsRevoked/Lost calls with partitions
}

// consumedLog collects what the members of a test consumed.
type consumedLog struct {
	mu     sync.Mutex
	by     map[string][]int       // record value -> members that got it
	parts  map[int]map[int32]bool // member -> partitions it got records from
	values map[int32][]string     // partition -> values in consumption order
	errs   []error
}

func newConsumedLog() *consumedLog {
	return &consumedLog{by: map[string][]int{}, parts: map[int]map[int32]bool{}, values: map[int32][]string{}}
}

func (l *consumedLog) count() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	n := 0
	for _, ms := range l.by {
		n += len(ms)
	}
	return n
}

func startMember(t *testing.T, b *Broker, id int, log *consumedLog, opts ...kgo.Opt) *groupMember {
	t.Helper()
	m := &groupMember{id: id, done: make(chan struct{})}
	opts = append([]kgo.Opt{
		kgo.SeedBrokers(b.Addr()),
		kgo.SessionTimeout(testSessionTimeout),
		kgo.HeartbeatInterval(testHeartbeat),
		kgo.RebalanceTimeout(testRebalanceTimeout),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()),
		kgo.FetchMaxWait(200 * time.Millisecond),
		kgo.OnPartitionsRevoked(func(_ context.Context, _ *kgo.Client, p map[string][]int32) {
			if len(p) > 0 {
				m.revoked.Add(1)
			}
		}),
	}, opts...)
	cl, err := kgo.NewClient(opts...)
	if err != nil {
		t.Fatal(err)
	}
	m.cl = cl
	ctx, cancel := context.WithCancel(context.Background())
	m.cancel = cancel
	go func() {
		defer close(m.done)
		for ctx.Err() == nil {
			fs := cl.PollFetches(ctx)
			fs.EachError(func(topic string, p int32, err error) {
				if !errors.Is(err, context.Canceled) && !errors.Is(err, kgo.ErrClientClosed) {
					log.mu.Lock()
					log.errs = append(log.errs, fmt.Errorf("member %d, %s/%d: %w", id, topic, p, err))
					log.mu.Unlock()
				}
			})
			log.mu.Lock()
			fs.EachRecord(func(r *kgo.Record) {
				v := string(r.Value)
				log.by[v] = append(log.by[v], id)
				if log.parts[id] == nil {
					log.parts[id] = map[int32]bool{}
				}
				log.parts[id][r.Partition] = true
				log.values[r.Partition] = append(log.values[r.Partition], v)
			})
			log.mu.Unlock()
		}
	}()
	t.Cleanup(m.stop)
	return m
}

// stop ends the member's polling and closes its client, which leaves the
// group (a static member's does not). Safe to call twice.
func (m *groupMember) stop() {
	m.cancel()
	<-m.done
	m.cl.Close()
}

// waitStable polls DescribeGroups until the group is Stable with n members
// whose consumer assignments split the topic's partitions between them,
// none left out and none given twice. It returns the group.
func waitStable(t *testing.T, ctx context.Context, adm *kadm.Client, groupID string, n int, topic string, partitions int32) kadm.DescribedGroup {
	t.Helper()
	var last string
	for {
		if ctx.Err() != nil {
			t.Fatalf("group %s never became stable with %d members splitting %d partitions; last seen: %s", groupID, n, partitions, last)
		}
		dg, err := adm.DescribeGroups(ctx, groupID)
		if err != nil {
			last = err.Error()
			time.Sleep(20 * time.Millisecond)
			continue
		}
		g := dg[groupID]
		owners := map[int32]int{}
		for _, m := range g.Members {
			if c, ok := m.Assigned.AsConsumer(); ok {
				for _, at := range c.Topics {
					if at.Topic == topic {
						for _, p := range at.Partitions {
							owners[p]++
						}
					}
				}
			}
		}
		ok := g.Err == nil && g.State == "Stable" && len(g.Members) == n && len(owners) == int(partitions)
		for _, c := range owners {
			ok = ok && c == 1
		}
		if ok {
			return g
		}
		last = fmt.Sprintf("state %s, %d members, owners by partition %v, err %v", g.State, len(g.Members), owners, g.Err)
		time.Sleep(20 * time.Millisecond)
	}
}

// produceValues produces one record per value to topic, spread over its
// partitions by key, and waits for every acknowledgment.
func produceValues(t *testing.T, ctx context.Context, b *Broker, topic string, values []string) {
	t.Helper()
	p := client(t, b, kgo.DefaultProduceTopic(topic))
	defer p.Close()
	rs := make([]*kgo.Record, len(values))
	for i, v := range values {
		rs[i] = &kgo.Record{Key: []byte(fmt.Sprint(i)), Value: []byte(v)}
	}
	if err := p.ProduceSync(ctx, rs...).FirstErr(); err != nil {
		t.Fatalf("produce: %v", err)
	}
}

func numbered(prefix string, from, to int) []string {
	vs := make([]string, 0, to-from)
	for i := from; i < to; i++ {
		vs = append(vs, fmt.Sprintf("%s-%d", prefix, i))
	}
	return vs
}

// waitConsumed waits until the log holds n records, failing on a fetch
// error or the deadline.
func waitConsumed(t *testing.T, ctx context.Context, log *consumedLog, n int) {
	t.Helper()
	for {
		got := log.count()
		log.mu.Lock()
		errs := slices.Clone(log.errs)
		log.mu.Unlock()
		if len(errs) > 0 {
			t.Fatalf("fetch errors: %v", errs)
		}
		if got >= n {
			return
		}
		if ctx.Err() != nil {
			t.Fatalf("consumed %d records of %d", got, n)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// checkExactlyOnce: every value was consumed, by one member, once; and
// nothing else was.
func checkExactlyOnce(t *testing.T, log *consumedLog, values []string) {
	t.Helper()
	log.mu.Lock()
	defer log.mu.Unlock()
	want := map[string]bool{}
	for _, v := range values {
		want[v] = true
		if got := log.by[v]; len(got) != 1 {
			t.Errorf("record %s consumed by members %v, want exactly one", v, got)
		}
	}
	for v, ms := range log.by {
		if !want[v] {
			t.Errorf("record %s consumed by %v was not expected", v, ms)
		}
	}
}

// TestGroupConsumersSplit: two and three franz-go members of one group,
// with the eager range balancer and with cooperative-sticky, split a
// topic's partitions between them, and every record is consumed exactly
// once across the members, each from the partitions it was assigned.
func TestGroupConsumersSplit(t *testing.T) {
	b := startGroupBroker(t, t.TempDir(), "127.0.0.1:0")
	defer stopBroker(t, b)
	const partitions = 6
	for _, bal := range []struct {
		name string
		b    kgo.GroupBalancer
	}{{"range", kgo.RangeBalancer()}, {"cooperative-sticky", kgo.CooperativeStickyBalancer()}} {
		for _, members := range []int{2, 3} {
			t.Run(fmt.Sprintf("balancer=%s/members=%d", bal.name, members), func(t *testing.T) {
				ctx, cancel := context.WithTimeout(context.Background(), groupTestTimeout)
				defer cancel()
				topic, groupID := fmt.Sprintf("split-%s-%d", bal.name, members), fmt.Sprintf("g-%s-%d", bal.name, members)
				adm := kadm.NewClient(client(t, b))
				if _, err := adm.CreateTopic(ctx, partitions, 1, nil, topic); err != nil {
					t.Fatal(err)
				}
				log := newConsumedLog()
				var ms []*groupMember
				for i := range members {
					ms = append(ms, startMember(t, b, i, log, kgo.ConsumerGroup(groupID), kgo.ConsumeTopics(topic), kgo.Balancers(bal.b)))
				}
				g := waitStable(t, ctx, adm, groupID, members, topic, partitions)
				assigned := map[string][]int32{}
				for _, m := range g.Members {
					c, _ := m.Assigned.AsConsumer()
					for _, at := range c.Topics {
						assigned[m.MemberID] = append(assigned[m.MemberID], at.Partitions...)
					}
				}
				values := numbered(topic, 0, 300)
				produceValues(t, ctx, b, topic, values)
				waitConsumed(t, ctx, log, len(values))
				checkExactlyOnce(t, log, values)
				// Each member read only from the partitions the group
				// assigned it.
				owner := map[int32]string{}
				for id, ps := range assigned {
					for _, p := range ps {
						owner[p] = id
					}
				}
				log.mu.Lock()
				defer log.mu.Unlock()
				if len(log.parts) != members {
					t.Errorf("records went to %d members, want %d", len(log.parts), members)
				}
				for _, m := range ms {
					memberID, _ := m.cl.GroupMetadata()
					for p := range log.parts[m.id] {
						if owner[p] != memberID {
							t.Errorf("member %s read partition %d, assigned to %s", memberID, p, owner[p])
						}
					}
				}
			})
		}
	}
}

// killableDialer dials the broker until kill, which closes every
// connection it made and fails every later dial: a member killed without
// a LeaveGroup, as a crashed process would be.
type killableDialer struct {
	mu     sync.Mutex
	conns  []net.Conn
	killed bool
}

func (d *killableDialer) dial(ctx context.Context, network, host string) (net.Conn, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.killed {
		return nil, errors.New("killed")
	}
	c, err := (&net.Dialer{}).DialContext(ctx, network, host)
	if err == nil {
		d.conns = append(d.conns, c)
	}
	return c, err
}

func (d *killableDialer) kill() {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.killed = true
	for _, c := range d.conns {
		c.Close()
	}
}

// TestGroupMemberKilled: a member whose connections are cut, without a
// LeaveGroup, is removed once its session times out, and the survivors
// split its partitions and consume everything produced afterwards exactly
// once.
func TestGroupMemberKilled(t *testing.T) {
	b := startGroupBroker(t, t.TempDir(), "127.0.0.1:0")
	defer stopBroker(t, b)
	ctx, cancel := context.WithTimeout(context.Background(), groupTestTimeout)
	defer cancel()
	const topic, groupID, partitions = "killed", "g-killed", 6
	adm := kadm.NewClient(client(t, b))
	if _, err := adm.CreateTopic(ctx, partitions, 1, nil, topic); err != nil {
		t.Fatal(err)
	}
	// The victim logs apart: its dial errors are expected.
	log, victimLog := newConsumedLog(), newConsumedLog()
	var d killableDialer
	opts := []kgo.Opt{kgo.ConsumerGroup(groupID), kgo.ConsumeTopics(topic), kgo.Balancers(kgo.RangeBalancer())}
	startMember(t, b, 0, log, opts...)
	startMember(t, b, 1, log, opts...)
	victim := startMember(t, b, 2, victimLog, append(opts, kgo.Dialer(d.dial), kgo.SessionTimeout(testVictimSession))...)
	waitStable(t, ctx, adm, groupID, 3, topic, partitions)
	victimID, _ := victim.cl.GroupMetadata()
	d.kill()
	g := waitStable(t, ctx, adm, groupID, 2, topic, partitions)
	for _, m := range g.Members {
		if m.MemberID == victimID {
			t.Fatalf("the killed member %s is still in the group", victimID)
		}
	}
	values := numbered(topic, 0, 300)
	produceValues(t, ctx, b, topic, values)
	waitConsumed(t, ctx, log, len(values))
	checkExactlyOnce(t, log, values)
	victimLog.mu.Lock()
	if len(victimLog.by) != 0 {
		t.Errorf("the killed member consumed %d records", len(victimLog.by))
	}
	victimLog.mu.Unlock()
	// Let the victim's Close leave quickly: its member id is unknown now.
	d.mu.Lock()
	d.killed = false
	d.mu.Unlock()
}

// TestGroupCommitAcrossRestart: a member commits what it consumed; after
// a broker restart the committed offsets are still there, and a new member
// of the group resumes from them: nothing it had is read again, nothing
// is skipped, including records produced after the restart.
func TestGroupCommitAcrossRestart(t *testing.T) {
	dir := t.TempDir()
	b := startGroupBroker(t, dir, "127.0.0.1:0")
	ctx, cancel := context.WithTimeout(context.Background(), groupTestTimeout)
	defer cancel()
	const topic, groupID, partitions = "restart", "g-restart", 3
	adm := kadm.NewClient(client(t, b))
	if _, err := adm.CreateTopic(ctx, partitions, 1, nil, topic); err != nil {
		t.Fatal(err)
	}
	first := numbered(topic, 0, 200)
	produceValues(t, ctx, b, topic, first)

	cl := client(t, b, kgo.ConsumerGroup(groupID), kgo.ConsumeTopics(topic), kgo.DisableAutoCommit(),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()), kgo.SessionTimeout(testSessionTimeout), kgo.HeartbeatInterval(testHeartbeat))
	var had []string
	for len(had) < 80 {
		fs := cl.PollRecords(ctx, 80-len(had))
		if ctx.Err() != nil {
			t.Fatalf("polled %d records", len(had))
		}
		fs.EachRecord(func(r *kgo.Record) { had = append(had, string(r.Value)) })
	}
	if err := cl.CommitUncommittedOffsets(ctx); err != nil {
		t.Fatal(err)
	}
	committed, err := adm.FetchOffsets(ctx, groupID)
	if err != nil || committed.Error() != nil {
		t.Fatal(err, committed.Error())
	}
	cl.Close()
	stopBroker(t, b)

	b = startGroupBroker(t, dir, "127.0.0.1:0")
	defer stopBroker(t, b)
	adm = kadm.NewClient(client(t, b))
	after, err := adm.FetchOffsets(ctx, groupID)
	if err != nil || after.Error() != nil {
		t.Fatal(err, after.Error())
	}
	if fmt.Sprint(after.Offsets().Sorted()) != fmt.Sprint(committed.Offsets().Sorted()) {
		t.Fatalf("committed offsets after the restart:\n%v\nbefore:\n%v", after.Offsets().Sorted(), committed.Offsets().Sorted())
	}
	second := numbered(topic+"-after", 0, 100)
	produceValues(t, ctx, b, topic, second)

	log := newConsumedLog()
	startMember(t, b, 0, log, kgo.ConsumerGroup(groupID), kgo.ConsumeTopics(topic))
	var want []string
	seen := map[string]bool{}
	for _, v := range had {
		seen[v] = true
	}
	for _, v := range append(slices.Clone(first), second...) {
		if !seen[v] {
			want = append(want, v)
		}
	}
	waitConsumed(t, ctx, log, len(want))
	checkExactlyOnce(t, log, want)
}

// TestGroupStaticMemberRestart: a static member (group.instance.id) that
// restarts within its session timeout takes its place back without a
// rebalance: the generation stays, the other member keeps its partitions,
// and the restarted member gets its old ones.
func TestGroupStaticMemberRestart(t *testing.T) {
	b := startGroupBroker(t, t.TempDir(), "127.0.0.1:0")
	defer stopBroker(t, b)
	ctx, cancel := context.WithTimeout(context.Background(), groupTestTimeout)
	defer cancel()
	const topic, groupID, partitions = "static", "g-static", 4
	adm := kadm.NewClient(client(t, b))
	if _, err := adm.CreateTopic(ctx, partitions, 1, nil, topic); err != nil {
		t.Fatal(err)
	}
	log := newConsumedLog()
	opts := []kgo.Opt{kgo.ConsumerGroup(groupID), kgo.ConsumeTopics(topic), kgo.SessionTimeout(10 * time.Second)}
	// The other member joins first and so leads: a restarted static
	// leader is told to skip assignment (KIP-814), but franz-go assigns
	// anyway and rejoins when its plan differs from the one the group
	// kept, which a fresh client's cooperative-sticky plan may. That
	// rebalance is the client's choice, not what this test is about.
	other := startMember(t, b, 0, log, opts...)
	waitStable(t, ctx, adm, groupID, 1, topic, partitions)
	static := startMember(t, b, 1, log, append(opts, kgo.InstanceID("static-1"))...)
	before := waitStable(t, ctx, adm, groupID, 2, topic, partitions)
	_, gen := other.cl.GroupMetadata()
	oldID, staticGen := static.cl.GroupMetadata()
	if staticGen != gen {
		t.Fatalf("members at generations %d and %d", gen, staticGen)
	}
	revokedBefore := other.revoked.Load()
	assignedTo := func(g kadm.DescribedGroup, instance string) string {
		for _, m := range g.Members {
			if m.InstanceID != nil && *m.InstanceID == instance {
				c, _ := m.Assigned.AsConsumer()
				return fmt.Sprint(c.Topics)
			}
		}
		return ""
	}

	static.stop() // a static member's Close does not leave
	restarted := startMember(t, b, 2, log, append(opts, kgo.InstanceID("static-1"))...)
	var newID string
	var newGen int32
	for {
		if newID, newGen = restarted.cl.GroupMetadata(); newGen >= 0 && newID != "" {
			break
		}
		if ctx.Err() != nil {
			t.Fatal("the restarted static member never joined")
		}
		time.Sleep(10 * time.Millisecond)
	}
	after := waitStable(t, ctx, adm, groupID, 2, topic, partitions)
	if newGen != gen || newID == oldID {
		t.Fatalf("restarted static member: id %s generation %d; before: id %s generation %d", newID, newGen, oldID, gen)
	}
	if _, g := other.cl.GroupMetadata(); g != gen || other.revoked.Load() != revokedBefore {
		t.Fatalf("the other member went to generation %d (was %d), revoked %d times (was %d)", g, gen, other.revoked.Load(), revokedBefore)
	}
	if a, b := assignedTo(before, "static-1"), assignedTo(after, "static-1"); a != b || a == "" {
		t.Fatalf("static member assigned %s before, %s after", a, b)
	}
	// What the coordinator persisted says the same: the last group record
	// has the new member id in the old generation.
	recs := groupRecords(t, ctx, b, groupID)
	last := recs[len(recs)-1]
	idOf := func(v kmsg.GroupMetadataValue) string {
		for _, m := range v.Members {
			if m.InstanceID != nil && *m.InstanceID == "static-1" {
				return m.MemberID
			}
		}
		return ""
	}
	if last.Generation != gen || idOf(last) != newID {
		t.Fatalf("last group record: generation %d, static member %q; want %d, %q", last.Generation, idOf(last), gen, newID)
	}
	// Records of every partition still reach the group.
	values := numbered(topic, 0, 100)
	produceValues(t, ctx, b, topic, values)
	waitConsumed(t, ctx, log, len(values))
	checkExactlyOnce(t, log, values)
}

// groupRecords reads every group metadata record of groupID from
// __consumer_offsets through a plain consumer, as a tool would, and
// decodes them: the state the coordinator persisted at each rebalance.
func groupRecords(t *testing.T, ctx context.Context, b *Broker, groupID string) []kmsg.GroupMetadataValue {
	t.Helper()
	part := group.PartitionFor(groupID, int32(len(b.offsets.partitions)))
	adm := kadm.NewClient(client(t, b))
	ends, err := adm.ListEndOffsets(ctx, offsetsTopic)
	if err != nil {
		t.Fatal(err)
	}
	end, _ := ends.Lookup(offsetsTopic, part)
	cl := client(t, b, kgo.ConsumePartitions(map[string]map[int32]kgo.Offset{offsetsTopic: {part: kgo.NewOffset().AtStart()}}))
	var out []kmsg.GroupMetadataValue
	for next := int64(0); next < end.Offset; {
		fs := cl.PollFetches(ctx)
		if ctx.Err() != nil {
			t.Fatalf("read %s/%d to %d of %d", offsetsTopic, part, next, end.Offset)
		}
		fs.EachRecord(func(r *kgo.Record) {
			next = r.Offset + 1
			var k kmsg.GroupMetadataKey
			if len(r.Key) < 2 || r.Key[1] != 2 || k.ReadFrom(r.Key) != nil || k.Group != groupID || r.Value == nil {
				return
			}
			var v kmsg.GroupMetadataValue
			if err := v.ReadFrom(r.Value); err != nil {
				t.Fatalf("group record at %d: %v", r.Offset, err)
			}
			out = append(out, v)
		})
	}
	return out
}

// TestFetchIsolationLevels: read_committed consumers read what
// read_uncommitted ones do, and the last stable offset is the high
// watermark, while there are no transactions.
func TestFetchIsolationLevels(t *testing.T) {
	b := startBroker(t, t.TempDir())
	defer stopBroker(t, b)
	ctx, cancel := context.WithTimeout(context.Background(), groupTestTimeout)
	defer cancel()
	const topic = "isolation"
	values := numbered(topic, 0, 50)
	produceValues(t, ctx, b, topic, values)
	for _, level := range []kgo.IsolationLevel{kgo.ReadUncommitted(), kgo.ReadCommitted()} {
		cl := client(t, b, kgo.ConsumeTopics(topic), kgo.FetchIsolationLevel(level), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
		var got []string
		for len(got) < len(values) {
			fs := cl.PollFetches(ctx)
			if ctx.Err() != nil {
				t.Fatalf("isolation %v: consumed %d of %d", level, len(got), len(values))
			}
			fs.EachError(func(_ string, _ int32, err error) { t.Fatalf("isolation %v: %v", level, err) })
			fs.EachRecord(func(r *kgo.Record) { got = append(got, string(r.Value)) })
		}
		sort.Strings(got)
		want := slices.Clone(values)
		sort.Strings(want)
		if !slices.Equal(got, want) {
			t.Fatalf("isolation %v: consumed %v", level, got)
		}
		cl.Close()
	}
	for _, level := range []int8{0, 1} {
		fr := fetchReq(12, topic, [16]byte{}, 0, 0, 0)
		fr.IsolationLevel = level
		fp := callRaw[*kmsg.FetchResponse](t, b, fr).Topics[0].Partitions[0]
		if fp.ErrorCode != 0 || fp.LastStableOffset != fp.HighWatermark || fp.HighWatermark <= 0 || len(fp.RecordBatches) == 0 {
			t.Errorf("fetch at isolation level %d: error %d, LSO %d, high watermark %d, %d bytes", level, fp.ErrorCode, fp.LastStableOffset, fp.HighWatermark, len(fp.RecordBatches))
		}
		lo := kmsg.NewPtrListOffsetsRequest()
		lo.Version, lo.IsolationLevel = 11, level
		rt := kmsg.NewListOffsetsRequestTopic()
		rt.Topic = topic
		rp := kmsg.NewListOffsetsRequestTopicPartition()
		rp.Timestamp = -1
		rt.Partitions = append(rt.Partitions, rp)
		lo.Topics = append(lo.Topics, rt)
		if got := callRaw[*kmsg.ListOffsetsResponse](t, b, lo).Topics[0].Partitions[0]; got.ErrorCode != 0 || got.Offset != fp.HighWatermark {
			t.Errorf("ListOffsets latest at isolation level %d: offset %d error %d, want the high watermark %d", level, got.Offset, got.ErrorCode, fp.HighWatermark)
		}
	}
}

// rdkafkaGroupRun is what one run of rdkafka_group.py reports.
type rdkafkaGroupRun struct {
	Records  [][3]any `json:"records"` // partition, offset, value
	Problems []string `json:"problems"`
	Errors   []string `json:"errors"`
}

// runRdkafkaGroup runs rdkafka_group.py once: a librdkafka member of
// groupID consumes count records of topic, commits and closes.
func runRdkafkaGroup(t *testing.T, b *Broker, topic, groupID string, count int, extra ...string) []string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), rdkafkaRunTimeout)
	defer cancel()
	args := append([]string{rdkafkaGroupScript, "--bootstrap", b.Addr(), "--topic", topic, "--group", groupID, "--count", fmt.Sprint(count)}, extra...)
	cmd := exec.CommandContext(ctx, debianPython, args...)
	cmd.WaitDelay = 2 * time.Second
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	lines := strings.Split(strings.TrimSpace(stdout.String()), "\n")
	var res rdkafkaGroupRun
	if err == nil {
		err = json.Unmarshal([]byte(lines[len(lines)-1]), &res)
	}
	if err != nil || len(res.Problems) > 0 {
		t.Fatalf("rdkafka_group.py: %v, problems %v\nstdout:\n%s\nstderr:\n%s", err, res.Problems, stdout.String(), stderr.String())
	}
	t.Logf("rdkafka_group.py %v: %d records, errors %v", extra, len(res.Records), res.Errors)
	values := make([]string, len(res.Records))
	for i, r := range res.Records {
		values[i] = fmt.Sprint(r[2])
	}
	return values
}

// checkDisjointUnion: the runs' records together are want, each once.
func checkDisjointUnion(t *testing.T, want []string, runs ...[]string) {
	t.Helper()
	got := map[string]int{}
	for _, r := range runs {
		for _, v := range r {
			got[v]++
		}
	}
	for _, v := range want {
		if got[v] != 1 {
			t.Errorf("record %s consumed %d times", v, got[v])
		}
		delete(got, v)
	}
	for v, n := range got {
		t.Errorf("unexpected record %s consumed %d times", v, n)
	}
}

// TestRdkafkaGroupCommitRestart: a librdkafka group member consumes part
// of a topic and commits; after a broker restart another member of the
// group consumes the rest, including records produced after the restart,
// and nothing the first one had.
func TestRdkafkaGroupCommitRestart(t *testing.T) {
	needRdkafka(t)
	dir := t.TempDir()
	b := startGroupBroker(t, dir, "127.0.0.1:0")
	ctx, cancel := context.WithTimeout(context.Background(), groupTestTimeout)
	defer cancel()
	const topic, groupID = "rdk-group", "rdk-g"
	rdkafkaTopic(t, b, topic, 3)
	first := numbered(topic, 0, 100)
	produceValues(t, ctx, b, topic, first)
	had := runRdkafkaGroup(t, b, topic, groupID, 40)
	stopBroker(t, b)
	b = startGroupBroker(t, dir, "127.0.0.1:0")
	defer stopBroker(t, b)
	second := numbered(topic+"-after", 0, 50)
	produceValues(t, ctx, b, topic, second)
	rest := runRdkafkaGroup(t, b, topic, groupID, len(first)+len(second)-len(had))
	checkDisjointUnion(t, append(first, second...), had, rest)
}

// TestRdkafkaStaticMember: a librdkafka static member closes (which does
// not leave the group) and a new process with the same group.instance.id
// takes its place within the session timeout without a rebalance: the
// group's generation in __consumer_offsets stays, its member id changes,
// and consumption resumes from what the first one committed.
func TestRdkafkaStaticMember(t *testing.T) {
	needRdkafka(t)
	b := startGroupBroker(t, t.TempDir(), "127.0.0.1:0")
	defer stopBroker(t, b)
	ctx, cancel := context.WithTimeout(context.Background(), groupTestTimeout)
	defer cancel()
	const topic, groupID = "rdk-static", "rdk-static-g"
	rdkafkaTopic(t, b, topic, 2)
	values := numbered(topic, 0, 60)
	produceValues(t, ctx, b, topic, values)
	static := []string{"--instance", "rdk-1", "--session-timeout-ms", "10000"}
	had := runRdkafkaGroup(t, b, topic, groupID, 20, static...)
	before := groupRecords(t, ctx, b, groupID)
	rest := runRdkafkaGroup(t, b, topic, groupID, len(values)-len(had), static...)
	after := groupRecords(t, ctx, b, groupID)
	checkDisjointUnion(t, values, had, rest)
	if len(before) == 0 || len(after) <= len(before) {
		t.Fatalf("group records: %d before the restart, %d after", len(before), len(after))
	}
	old, cur := before[len(before)-1], after[len(after)-1]
	if old.Generation != cur.Generation || len(old.Members) != 1 || len(cur.Members) != 1 || old.Members[0].MemberID == cur.Members[0].MemberID {
		t.Fatalf("static member restart: generation %d -> %d, members %v -> %v", old.Generation, cur.Generation, memberIDs(old), memberIDs(cur))
	}
	for _, v := range after[len(before):] {
		if v.Generation != old.Generation {
			t.Fatalf("a rebalance to generation %d happened (was %d)", v.Generation, old.Generation)
		}
	}
}

func memberIDs(v kmsg.GroupMetadataValue) []string {
	var ids []string
	for _, m := range v.Members {
		ids = append(ids, m.MemberID)
	}
	return ids
}
