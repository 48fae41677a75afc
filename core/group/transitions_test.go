package group

import (
	"testing"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// Every transition of Kafka's group state machine, and what causes it.
// Each case starts from a group "g" in a given state with clients a (the
// leader) and b, applies one event, and checks the state reached.
func TestStateTransitions(t *testing.T) {
	type world struct {
		h    *harness
		a, b *client
	}
	setups := map[State]func(w *world){
		// Empty with an offset, so that the group lingers.
		Empty: func(w *world) {
			w.h.stabilize(w.a, w.b)
			w.h.wantNoErr(w.a.commit("t", 0, 1))
			w.h.apply(w.h.c.Leave(w.h.now, w.h.handle("leave"), &LeaveRequest{Group: "g", Members: []LeaveMember{{MemberID: w.a.memberID}, {MemberID: w.b.memberID}}}))
			w.a.restart()
			w.b.restart()
		},
		// The leader rejoined; b has not yet.
		PreparingRebalance: func(w *world) {
			w.h.stabilize(w.a, w.b)
			w.a.join()
		},
		// Both joined; nobody synced.
		CompletingRebalance: func(w *world) {
			w.a.joinFully()
			w.b.joinFully()
			w.h.advance(0)
		},
		Stable: func(w *world) { w.h.stabilize(w.a, w.b) },
	}
	tests := []struct {
		from  State
		event string
		do    func(w *world)
		to    State
	}{
		{Empty, "a member joins", func(w *world) { w.a.joinFully() }, PreparingRebalance},
		{Empty, "the group is deleted", func(w *world) { w.h.apply(w.h.c.DeleteGroup(w.h.now, w.h.handle("del"), "g")) }, Dead},
		{Empty, "its last offset is deleted", func(w *world) {
			w.h.apply(w.h.c.OffsetDelete(w.h.now, w.h.handle("del"), &OffsetDeleteRequest{Group: "g", Topics: []DeletePartitions{{Topic: "t", Partitions: []PartitionResult{{}}}}}))
		}, Dead},
		{Empty, "its offsets expire", func(w *world) { w.h.advance(w.h.cfg.OffsetsRetentionMs + w.h.cfg.OffsetsRetentionCheckIntervalMs) }, Dead},
		{Empty, "a simple commit", func(w *world) { w.h.simpleCommit("g", "t", 1, 1) }, Empty},

		{PreparingRebalance, "every member has rejoined", func(w *world) { w.b.join() }, CompletingRebalance},
		{PreparingRebalance, "the rebalance timeout passes", func(w *world) { w.h.idle(30000, w.a) }, CompletingRebalance},
		{PreparingRebalance, "the member not rejoined leaves", func(w *world) { w.b.leave() }, CompletingRebalance},
		{PreparingRebalance, "the member not rejoined expires", func(w *world) { w.h.advance(10000) }, CompletingRebalance},
		{PreparingRebalance, "every member leaves", func(w *world) { w.b.leave(); w.a.leave() }, Empty},
		{PreparingRebalance, "a heartbeat", func(w *world) { w.h.wantErr(w.b.heartbeat(), kerr.RebalanceInProgress) }, PreparingRebalance},

		{CompletingRebalance, "the leader's SyncGroup", func(w *world) { w.a.sync() }, Stable},
		{CompletingRebalance, "a follower's SyncGroup", func(w *world) { w.b.sync() }, CompletingRebalance},
		{CompletingRebalance, "a member leaves", func(w *world) { w.b.leave() }, PreparingRebalance},
		{CompletingRebalance, "a session expires", func(w *world) { w.h.idle(10000, w.a) }, PreparingRebalance},
		{CompletingRebalance, "a new member joins", func(w *world) { w.h.client("c").joinFully() }, PreparingRebalance},
		{CompletingRebalance, "a member rejoins with new metadata", func(w *world) {
			w.b.protocols = []Protocol{{Name: "range", Metadata: subscription("u")}}
			w.b.join()
		}, PreparingRebalance},
		{CompletingRebalance, "a member rejoins with the same metadata", func(w *world) { w.b.join() }, CompletingRebalance},
		{CompletingRebalance, "the leader never syncs", func(w *world) { w.b.sync(); w.h.idle(30000, w.a, w.b) }, PreparingRebalance},
		{CompletingRebalance, "nobody syncs", func(w *world) { w.h.idle(30000, w.a, w.b) }, Empty},

		{Stable, "the leader rejoins", func(w *world) { w.a.join() }, PreparingRebalance},
		{Stable, "a follower rejoins with the same metadata", func(w *world) { w.b.join() }, Stable},
		{Stable, "a follower rejoins with new metadata", func(w *world) {
			w.b.protocols = []Protocol{{Name: "range", Metadata: subscription("u")}}
			w.b.join()
		}, PreparingRebalance},
		{Stable, "a new member joins", func(w *world) { w.h.client("c").joinFully() }, PreparingRebalance},
		{Stable, "a new member only gets its id", func(w *world) { w.h.client("c").join() }, Stable},
		{Stable, "a member leaves", func(w *world) { w.b.leave() }, PreparingRebalance},
		{Stable, "a session expires", func(w *world) { w.h.idle(10000, w.a) }, PreparingRebalance},
		{Stable, "heartbeats and commits", func(w *world) { w.h.idle(60000, w.a, w.b); w.a.commit("t", 0, 1) }, Stable},
		{Stable, "a follower never syncs", func(w *world) { w.h.idle(30000, w.a, w.b) }, Stable},
		{Stable, "the group is deleted", func(w *world) { w.h.apply(w.h.c.DeleteGroup(w.h.now, w.h.handle("del"), "g")) }, Stable},
	}
	for _, tt := range tests {
		t.Run(tt.from.String()+"/"+tt.event, func(t *testing.T) {
			h := newHarness(t, testConfig())
			w := &world{h: h, a: h.client("a"), b: h.client("b")}
			setups[tt.from](w)
			h.wantState("g", tt.from)
			tt.do(w)
			h.wantState("g", tt.to)
		})
	}
}

func TestConfigRefused(t *testing.T) {
	for name, change := range map[string]func(*Config){
		"session bounds":     func(c *Config) { c.MaxSessionTimeoutMs = c.MinSessionTimeoutMs - 1 },
		"max size":           func(c *Config) { c.MaxSize = 0 },
		"negative delay":     func(c *Config) { c.InitialRebalanceDelayMs = -1 },
		"retention":          func(c *Config) { c.OffsetsRetentionMs = 0 },
		"retention interval": func(c *Config) { c.OffsetsRetentionCheckIntervalMs = 0 },
		"metadata size":      func(c *Config) { c.MaxMetadataBytes = -1 },
	} {
		cfg := DefaultConfig()
		change(&cfg)
		if _, err := New(cfg); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
	if _, err := New(DefaultConfig()); err != nil {
		t.Fatal(err)
	}
}

// JoinGroup v0 has no rebalance timeout; the session timeout stands in.
func TestJoinV0RebalanceTimeout(t *testing.T) {
	h := newHarness(t, testConfig())
	a := h.client("a")
	a.version, a.session, a.rebalance = 0, 7000, 99999
	h.stabilize(a)
	if m := h.c.groups["g"].members[0]; m.rebalanceTimeoutMs != 7000 {
		t.Fatalf("rebalance timeout %d", m.rebalanceTimeoutMs)
	}
}

// A group loaded with more members than group.max.size allows (it was
// lowered) rebalances, so that the last to rejoin are shed.
func TestLoadedGroupOverCapacity(t *testing.T) {
	h := newHarness(t, testConfig())
	a, b, c := h.client("a"), h.client("b"), h.client("c")
	h.stabilize(a, b, c)
	cfg := h.cfg
	cfg.MaxSize = 2
	co, out := replay(t, cfg, h.now, h.records)
	h.c, h.cfg = co, cfg
	h.apply(out)
	h.wantState("g", PreparingRebalance)
	h.wantErr(a.heartbeat(), kerr.RebalanceInProgress)
	ja, jb := a.join(), b.join()
	h.wantErr(c.join(), kerr.GroupMaxSizeReached)
	h.wantNoErr(ja)
	h.wantNoErr(jb)
	if len(a.members) != 2 {
		t.Fatalf("%d members", len(a.members))
	}
}

// Offsets written by Kafka before 2.1 carry their own expiry time, which
// is honoured once the group has no members.
func TestExplicitExpireTimestamp(t *testing.T) {
	key := kmsg.OffsetCommitKey{Version: 1, Group: "old", Topic: "t", Partition: 0}
	v := kmsg.NewOffsetCommitValue()
	v.Version, v.Offset, v.CommitTimestamp, v.ExpireTimestamp = 1, 5, 100, 5000
	cfg := testConfig()
	cfg.OffsetsRetentionCheckIntervalMs = 1000
	c, _ := replay(t, cfg, 1000, []Record{{key.AppendTo(nil), v.AppendTo(nil)}})
	c.Tick(4000)
	if len(c.groups["old"].offsets) != 1 {
		t.Fatal("expired early")
	}
	out := c.Tick(5000)
	if c.groups["old"] != nil || len(out.Records) != 2 {
		t.Fatalf("not expired at its expire timestamp: %d records", len(out.Records))
	}
}
