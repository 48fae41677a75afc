package controller

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"

	"go.etcd.io/raft/v3/raftpb"
	"google.golang.org/protobuf/proto"

	"sluice/disk/vfs"
	"sluice/repl/meta"
	"sluice/repl/raftlog"
)

// cluster runs voters in one goroutine over an in-memory network that loses,
// duplicates and reorders messages, with a shared fake clock. Each voter's
// disk is a vfs.Mem; crashing a voter keeps only what it synced.
//
// raft draws its randomized election timeouts from crypto/rand, so runs
// with one seed are not identical; the tests assert what must hold whatever
// the timeouts are, within generous tick bounds.
type cluster struct {
	t     *testing.T
	r     *rand.Rand
	ids   []uint64
	disks map[uint64]*vfs.Mem
	nodes map[uint64]*Node // nil while down
	cfg   func(*Config)
	logs  raftlog.Options

	queue     []wire
	drop, dup float64
	cut       map[[2]uint64]bool // from, to

	snapshots int // MsgSnap delivered
	// durableSends makes every Send first check that what its messages
	// promise (a vote, an appended entry) would survive a power cut.
	durableSends bool

	// applied[i] is what index i applied to, the first time any voter
	// applied it; every later application anywhere must match.
	applied map[uint64]string
}

type wire struct {
	from, to uint64
	b        []byte
	snap     bool
}

// maxDeliveriesPerTick bounds the work of one tick; what is left waits.
const maxDeliveriesPerTick = 20000

func newCluster(t *testing.T, seed uint64, n int, cfg func(*Config)) *cluster {
	return newClusterLogs(t, seed, n, cfg, raftlog.Options{})
}

func newClusterLogs(t *testing.T, seed uint64, n int, cfg func(*Config), logs raftlog.Options) *cluster {
	c := &cluster{t: t, r: rand.New(rand.NewPCG(seed, 3)), disks: map[uint64]*vfs.Mem{}, nodes: map[uint64]*Node{},
		cfg: cfg, logs: logs, cut: map[[2]uint64]bool{}, applied: map[uint64]string{}}
	for i := range n {
		c.ids = append(c.ids, uint64(i+1))
	}
	for _, id := range c.ids {
		c.disks[id] = vfs.NewMem()
		c.start(id)
	}
	return c
}

type sender struct {
	c    *cluster
	from uint64
}

func (s sender) Send(msgs []*raftpb.Message) {
	if s.c.durableSends {
		s.c.checkDurable(s.from, msgs)
	}
	for _, m := range msgs {
		b, err := proto.Marshal(m)
		if err != nil {
			s.c.t.Fatal(err)
		}
		s.c.queue = append(s.c.queue, wire{from: s.from, to: m.GetTo(), b: b, snap: m.GetType() == raftpb.MsgSnap})
	}
}

func (c *cluster) start(id uint64) {
	c.t.Helper()
	l, err := raftlog.Open(c.disks[id], "/data/controller", c.logs)
	if err != nil {
		c.t.Fatal(err)
	}
	cfg := Config{ID: id, Voters: c.ids, Log: l, Transport: sender{c, id}, OnApply: func(a Applied) { c.check(id, a) }}
	if c.cfg != nil {
		c.cfg(&cfg)
	}
	n, err := New(cfg)
	if err != nil {
		c.t.Fatal(err)
	}
	c.nodes[id] = n
	c.process(id)
}

// check fails the test if index a.Index applied differently anywhere.
func (c *cluster) check(id uint64, a Applied) {
	got := fmt.Sprintf("%T%+v -> %+v %v", a.Command, a.Command, a.Result, a.Err)
	if want, ok := c.applied[a.Index]; ok && want != got {
		c.t.Fatalf("node %d applied index %d as %s, another as %s", id, a.Index, got, want)
	}
	c.applied[a.Index] = got
}

// crash cuts a voter's power: its node is gone, its disk keeps what was
// synced.
func (c *cluster) crash(id uint64) {
	c.nodes[id] = nil
	c.disks[id] = c.disks[id].CrashClone()
}

func (c *cluster) process(id uint64) {
	c.t.Helper()
	if n := c.nodes[id]; n != nil {
		if err := n.Process(); err != nil {
			c.t.Fatal(err)
		}
	}
}

// checkDurable opens what a power cut would leave of from's disk and
// checks that it holds what msgs tell their receivers.
func (c *cluster) checkDurable(from uint64, msgs []*raftpb.Message) {
	c.t.Helper()
	l, err := raftlog.Open(c.disks[from].CrashClone(), "/data/controller", c.logs)
	if err != nil {
		c.t.Fatal(err)
	}
	defer l.Close()
	hs, _, _ := l.InitialState()
	last, _ := l.LastIndex()
	for _, m := range msgs {
		switch {
		case m.GetType() == raftpb.MsgVoteResp && !m.GetReject():
			if hs.GetTerm() != m.GetTerm() || hs.GetVote() != m.GetTo() {
				c.t.Fatalf("node %d sent a vote for %d at term %d with %v durable", from, m.GetTo(), m.GetTerm(), hs)
			}
		case m.GetType() == raftpb.MsgAppResp && !m.GetReject():
			if last < m.GetIndex() {
				c.t.Fatalf("node %d acknowledged index %d with %d durable", from, m.GetIndex(), last)
			}
		}
		if hs.GetTerm() < m.GetTerm() && m.GetType() != raftpb.MsgPreVote && m.GetType() != raftpb.MsgPreVoteResp {
			c.t.Fatalf("node %d sent %v at term %d with term %d durable", from, m.GetType(), m.GetTerm(), hs.GetTerm())
		}
	}
}

// isolate cuts (or with false heals) every link to and from id.
func (c *cluster) isolate(id uint64, cut bool) {
	for _, o := range c.ids {
		if o != id {
			c.cut[[2]uint64{id, o}], c.cut[[2]uint64{o, id}] = cut, cut
		}
	}
}

func (c *cluster) deliverOne() {
	i := c.r.IntN(len(c.queue))
	w := c.queue[i]
	c.queue = slices.Delete(c.queue, i, i+1)
	dst := c.nodes[w.to]
	lost := dst == nil || c.cut[[2]uint64{w.from, w.to}] || c.r.Float64() < c.drop
	if !lost && c.r.Float64() < c.dup {
		c.queue = append(c.queue, w)
	}
	if w.snap {
		if src := c.nodes[w.from]; src != nil {
			src.ReportSnapshot(w.to, !lost)
			defer c.process(w.from)
		}
	}
	if lost {
		return
	}
	if w.snap {
		c.snapshots++
	}
	m := &raftpb.Message{}
	if err := proto.Unmarshal(w.b, m); err != nil {
		c.t.Fatal(err)
	}
	_ = dst.Step(m) // raft refuses some messages (a proposal with no leader known); that is its business
	c.process(w.to)
}

// tick advances every running voter's clock by one tick and delivers what
// that causes.
func (c *cluster) tick() {
	for _, id := range c.ids {
		if n := c.nodes[id]; n != nil {
			n.Tick()
			c.process(id)
		}
	}
	for k := 0; len(c.queue) > 0 && k < maxDeliveriesPerTick; k++ {
		c.deliverOne()
	}
}

// runUntil ticks until cond holds, failing after maxTicks.
func (c *cluster) runUntil(what string, maxTicks int, cond func() bool) {
	c.t.Helper()
	for range maxTicks {
		if cond() {
			return
		}
		c.tick()
	}
	if !cond() {
		c.t.Fatalf("no %s after %d ticks", what, maxTicks)
	}
}

// leader returns the one running voter that leads and that every other
// running voter follows, or 0.
func (c *cluster) leader() uint64 {
	var lead uint64
	for _, id := range c.ids {
		n := c.nodes[id]
		if n == nil {
			continue
		}
		if n.IsLeader() {
			if lead != 0 {
				return 0
			}
			lead = id
		}
	}
	for _, id := range c.ids {
		if n := c.nodes[id]; n != nil && n.Leader() != lead {
			return 0
		}
	}
	return lead
}

// converged reports whether every running voter (or those given) applied
// the same index to byte-identical states.
func (c *cluster) converged(ids ...uint64) bool {
	if len(ids) == 0 {
		ids = c.ids
	}
	var first *Node
	for _, id := range ids {
		n := c.nodes[id]
		if n == nil {
			continue
		}
		if first == nil {
			first = n
			continue
		}
		if n.Applied() != first.Applied() || !bytes.Equal(n.State().AppendSnapshot(nil), first.State().AppendSnapshot(nil)) {
			return false
		}
	}
	return true
}

// outcome records what a proposal's done reported.
type outcome struct {
	calls int
	res   meta.Result
	err   error
}

func (o *outcome) done(res meta.Result, err error) { o.calls++; o.res, o.err = res, err }

// propose proposes c on node id, retrying on later ticks while raft refuses
// it (no leader known yet).
func (c *cluster) propose(id uint64, cmd meta.Command) *outcome {
	c.t.Helper()
	o := &outcome{}
	c.runUntil("accepted proposal", 200, func() bool {
		n := c.nodes[id]
		return n.Propose(cmd, o.done) == nil
	})
	c.process(id)
	return o
}

var plaintext = []meta.Listener{{Name: "PLAINTEXT", Host: "127.0.0.1", Port: 9092}}

func registerBroker(id int32) meta.RegisterBroker {
	return meta.RegisterBroker{ID: id, IncarnationID: [16]byte{1, byte(id)}, Listeners: plaintext}
}

func createTopic(name string, i byte) meta.CreateTopic {
	return meta.CreateTopic{ID: meta.TopicID{2, i}, Name: name, Assignment: [][]int32{{1, 2, 3}, {2, 3, 1}, {3, 1, 2}}}
}

// script is a metadata history: brokers register and are unfenced, a topic
// is created, a leader shrinks its ISR, producer ids are allocated, and a
// few commands are rejected.
func script() []meta.Command {
	var cmds []meta.Command
	cmds = append(cmds, meta.InitCluster{ClusterID: "test-cluster"})
	for id := int32(1); id <= 3; id++ {
		cmds = append(cmds, registerBroker(id))
	}
	// Epochs are 1, 2, 3 in registration order.
	for id := int32(1); id <= 3; id++ {
		cmds = append(cmds, meta.UnfenceBroker{ID: id, Epoch: int64(id)})
	}
	cmds = append(cmds, createTopic("orders", 1),
		meta.ChangeISR{BrokerID: 1, BrokerEpoch: 1, TopicID: meta.TopicID{2, 1}, ISR: []meta.ISRMember{{BrokerID: 1, BrokerEpoch: 1}, {BrokerID: 3, BrokerEpoch: 3}}},
		meta.AllocateProducerIDs{BrokerID: 2, BrokerEpoch: 2},
		meta.FenceBroker{ID: 2, Epoch: 2},
		createTopic("orders", 9),              // rejected: the name is taken
		meta.FenceBroker{ID: 2, Epoch: 99},    // rejected: stale epoch
		meta.DeleteTopic{ID: meta.TopicID{7}}, // rejected: unknown
	)
	return cmds
}

// checkScript checks the state script() leads to.
func checkScript(t *testing.T, s *meta.State) {
	t.Helper()
	// A duplicated proposal allocates a second block: harmless, and possible
	// on this network.
	if s.ClusterID() != "test-cluster" || len(s.Brokers()) != 3 || !s.Broker(2).Fenced ||
		s.NextProducerID() < meta.ProducerIDBlockSize || s.NextProducerID()%meta.ProducerIDBlockSize != 0 {
		t.Fatalf("brokers %v, cluster %q", s.Brokers(), s.ClusterID())
	}
	o := s.Topic("orders")
	if o == nil || o.ID != (meta.TopicID{2, 1}) {
		t.Fatalf("topic %v", o)
	}
	if p := o.Partitions[0]; !slices.Equal(p.ISR, []int32{1, 3}) || p.Leader != 1 || p.PartitionEpoch != 1 {
		t.Fatalf("partition 0: %+v", p)
	}
	if p := o.Partitions[1]; !slices.Equal(p.ISR, []int32{3, 1}) || p.Leader != 3 || p.LeaderEpoch != 1 {
		t.Fatalf("partition 1: %+v", p)
	}
}
