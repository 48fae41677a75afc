package controller

import (
	"errors"
	"fmt"
	"testing"

	"sluice/disk/vfs"
	"sluice/repl/meta"
	"sluice/repl/raftlog"
)

// runScript proposes each command of script() in turn on a voter chosen by
// pick, waiting for its outcome and proposing it again when that is unknown
// (lost on the way) or dropped.
func (c *cluster) runScript(pick func() uint64) {
	c.t.Helper()
	for _, cmd := range script() {
		for attempt := 0; ; attempt++ {
			if attempt == 20 {
				c.t.Fatalf("%T never applied", cmd)
			}
			o := c.propose(pick(), cmd)
			c.runUntil("outcome", 1000, func() bool { return o.calls > 0 })
			if o.calls != 1 {
				c.t.Fatalf("done called %d times", o.calls)
			}
			if !errors.Is(o.err, ErrOutcomeUnknown) && !errors.Is(o.err, ErrProposalDropped) {
				break
			}
		}
	}
}

func TestThreeVotersElectALeader(t *testing.T) {
	for seed := range uint64(5) {
		c := newCluster(t, seed, 3, nil)
		c.drop, c.dup = 0.1, 0.05
		c.runUntil("leader", 200, func() bool { return c.leader() != 0 })
		// The leader stays: heartbeats keep it in place on a lossy network.
		lead, term := c.leader(), c.nodes[c.leader()].Term()
		for range 100 {
			c.tick()
		}
		if c.leader() != lead || c.nodes[lead].Term() != term {
			t.Fatalf("seed %d: leader %d at term %d became %d at %d", seed, lead, term, c.leader(), c.nodes[lead].Term())
		}
	}
}

// TestProposalsAppliedIdentically proposes on random voters (followers
// forward to the leader) over a network that loses, duplicates and
// reorders: every index applies the same way on every voter (checked as
// each applies), and the voters end with byte-identical states.
func TestProposalsAppliedIdentically(t *testing.T) {
	for seed := range uint64(5) {
		c := newCluster(t, seed, 3, nil)
		c.drop, c.dup = 0.1, 0.05
		c.runUntil("leader", 200, func() bool { return c.leader() != 0 })
		c.runScript(func() uint64 { return c.ids[c.r.IntN(3)] })
		c.runUntil("convergence", 200, func() bool { return c.converged() })
		for _, id := range c.ids {
			checkScript(t, c.nodes[id].State())
		}
	}
}

// TestPersistBeforeSend checks, at every Send, that a power cut then would
// keep every vote and appended entry the messages announce.
func TestPersistBeforeSend(t *testing.T) {
	c := newCluster(t, 2, 3, nil)
	c.durableSends = true
	c.drop = 0.1
	c.runUntil("leader", 200, func() bool { return c.leader() != 0 })
	c.runScript(func() uint64 { return c.ids[c.r.IntN(3)] })
	c.crash(c.leader())
	c.runUntil("leader", 300, func() bool { return c.leader() != 0 })
}

// TestRestartedVoterCatchesUp crashes a voter (a follower, then the leader)
// while the others carry on far enough to compact their logs, restarts it
// from what its disk kept, and checks that it catches up, by snapshot, to
// the same state.
func TestRestartedVoterCatchesUp(t *testing.T) {
	for _, victim := range []string{"follower", "leader"} {
		t.Run(victim, func(t *testing.T) {
			c := newClusterLogs(t, 1, 3, func(cfg *Config) { cfg.SnapshotEntries = 5 }, raftlog.Options{CatchUpEntries: 2})
			c.drop = 0.05
			c.runUntil("leader", 200, func() bool { return c.leader() != 0 })
			c.runScript(c.leader)
			c.runUntil("convergence", 200, func() bool { return c.converged() })
			down := c.leader()
			if victim == "follower" {
				down = c.ids[0]
				if down == c.leader() {
					down = c.ids[1]
				}
			}
			c.crash(down)
			c.runUntil("leader", 300, func() bool { return c.leader() != 0 })
			for i := range 20 {
				o := c.propose(c.leader(), createTopic(fmt.Sprint("while-down-", i), byte(10+i)))
				c.runUntil("outcome", 200, func() bool { return o.calls > 0 })
			}
			c.start(down)
			c.runUntil("catch up", 500, func() bool {
				return c.converged() && c.nodes[down].State().Topic("while-down-19") != nil
			})
			checkScript(t, c.nodes[down].State())
			if c.snapshots == 0 {
				t.Fatal("caught up without a snapshot: the test no longer covers that path")
			}
		})
	}
}

// TestPartitionedLeaderReplaced cuts the leader off, proposes on it (it
// appends but cannot commit), lets the others elect a new leader and
// commit, then heals: the old leader's proposals are dropped everywhere and
// reported so, and it converges on the new history.
func TestPartitionedLeaderReplaced(t *testing.T) {
	for seed := range uint64(3) {
		c := newCluster(t, seed, 3, func(cfg *Config) { cfg.ProposalTimeoutTicks = 100000 })
		c.runUntil("leader", 200, func() bool { return c.leader() != 0 })
		c.runScript(c.leader)
		old := c.leader()
		c.isolate(old, true)
		var lost []*outcome
		for i := range 3 {
			lost = append(lost, c.propose(old, createTopic(fmt.Sprint("lost-", i), byte(20+i))))
		}
		others := []uint64{}
		for _, id := range c.ids {
			if id != old {
				others = append(others, id)
			}
		}
		var lead uint64
		c.runUntil("new leader", 500, func() bool {
			for _, id := range others {
				if c.nodes[id].IsLeader() {
					lead = id
				}
			}
			return lead != 0 && !c.nodes[old].IsLeader()
		})
		kept := c.propose(lead, createTopic("kept", 30))
		c.runUntil("commit without the old leader", 200, func() bool { return kept.calls > 0 })
		if kept.err != nil {
			t.Fatal(kept.err)
		}
		c.isolate(old, false)
		c.runUntil("convergence", 500, func() bool { return c.converged() && c.nodes[old].Applied() == c.nodes[lead].Applied() })
		for i, o := range lost {
			if o.calls != 1 || !errors.Is(o.err, ErrProposalDropped) {
				t.Fatalf("seed %d: lost proposal %d: %d calls, %v", seed, i, o.calls, o.err)
			}
		}
		for _, id := range c.ids {
			s := c.nodes[id].State()
			if s.Topic("kept") == nil || s.Topic("lost-0") != nil || s.Topic("lost-2") != nil {
				t.Fatalf("seed %d: node %d has %v", seed, id, s.Topics())
			}
		}
	}
}

// TestSingleVoter runs a one-voter group on the same path: it elects
// itself, applies, snapshots, and restarts from its disk.
func TestSingleVoter(t *testing.T) {
	// The log keeps entries before each snapshot: a restart must not apply
	// them again (each CreateTopic would be rejected the second time, which
	// the cluster's apply check catches).
	c := newClusterLogs(t, 1, 1, func(cfg *Config) { cfg.SnapshotEntries = 4 }, raftlog.Options{CatchUpEntries: 3})
	c.runUntil("leader", 100, func() bool { return c.leader() == 1 })
	c.runScript(c.leader)
	checkScript(t, c.nodes[1].State())
	for i := range 6 {
		// Synchronous: a single voter commits in the Process after Propose.
		o := c.propose(1, createTopic(fmt.Sprint("now-", i), byte(40+i)))
		if o.calls != 1 || o.err != nil {
			t.Fatalf("%d calls, %v", o.calls, o.err)
		}
	}
	applied := c.nodes[1].Applied()
	c.crash(1)
	c.start(1)
	// The commit index is written without a sync when nothing else
	// changed, so the restarted voter may lag until it leads again and
	// commits its log anew.
	if n := c.nodes[1]; n.Applied() > applied || n.Applied() < applied-1 {
		t.Fatalf("restarted at %d, want %d or just below", n.Applied(), applied)
	}
	c.runUntil("leader again", 100, func() bool { return c.leader() == 1 })
	if n := c.nodes[1]; n.Applied() <= applied || n.State().Topic("now-5") == nil {
		t.Fatalf("applied %d after the restart, %d before", n.Applied(), applied)
	}
	if o := c.propose(1, createTopic("after", 50)); o.err != nil || c.nodes[1].State().Topic("after") == nil {
		t.Fatal(o.err)
	}
}

func TestProposeRefusals(t *testing.T) {
	c := newCluster(t, 1, 3, func(cfg *Config) { cfg.MaxPendingProposals = 2 })
	if err := c.nodes[1].Propose(meta.InitCluster{ClusterID: "x"}, nil); err == nil {
		t.Fatal("a voter that knows no leader accepted a proposal")
	}
	c.runUntil("leader", 200, func() bool { return c.leader() != 0 })
	n := c.nodes[c.leader()]
	c.isolate(c.leader(), true)
	for range 2 {
		if err := n.Propose(meta.InitCluster{ClusterID: "x"}, func(meta.Result, error) {}); err != nil {
			t.Fatal(err)
		}
	}
	if err := n.Propose(meta.InitCluster{ClusterID: "x"}, func(meta.Result, error) {}); !errors.Is(err, ErrTooManyPending) {
		t.Fatal(err)
	}
}

// TestEntriesFromANewerRelease: a malformed command is rejected alike by
// every voter and the log goes on; one from a newer release stops the
// voter rather than let it diverge.
func TestEntriesFromANewerRelease(t *testing.T) {
	c := newCluster(t, 1, 1, nil)
	c.runUntil("leader", 100, func() bool { return c.leader() == 1 })
	n := c.nodes[1]
	var rejected error
	n.cfg.OnApply = func(a Applied) { rejected = a.Err }
	if err := n.rn.Propose([]byte{envelopeVersion, 1, 1, byte(meta.TypeInitCluster), 0, 200}); err != nil {
		t.Fatal(err)
	}
	if err := n.Process(); err != nil || !errors.Is(rejected, meta.ErrCorrupt) {
		t.Fatalf("%v, rejection %v", err, rejected)
	}
	if err := n.rn.Propose([]byte{envelopeVersion, 1, 2, 99, 0}); err != nil {
		t.Fatal(err)
	}
	if err := n.Process(); !errors.Is(err, meta.ErrUnknownCommand) || n.Err() == nil {
		t.Fatalf("an unknown command type: %v", err)
	}
}

func TestConfigChecks(t *testing.T) {
	l, err := raftlog.Open(vfs.NewMem(), "/d", raftlog.Options{})
	if err != nil {
		t.Fatal(err)
	}
	for _, cfg := range []Config{
		{ID: 0, Voters: []uint64{0}},
		{ID: 4, Voters: []uint64{1, 2, 3}},
		{ID: 1, Voters: []uint64{1, 1}},
		{ID: 1, Voters: []uint64{1}},
	} {
		if _, err := New(cfg); err == nil {
			t.Errorf("%+v accepted", cfg)
		}
	}
	if _, err := New(Config{ID: 1, Voters: []uint64{1, 2}, Log: l, Transport: sender{}}); err != nil {
		t.Fatal(err)
	}
	// The same log under another membership is refused.
	if _, err := New(Config{ID: 1, Voters: []uint64{1, 3}, Log: l, Transport: sender{}}); err == nil {
		t.Fatal("voters changed under an existing log")
	}
}
