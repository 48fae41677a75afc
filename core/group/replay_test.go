package group

import (
	"errors"
	"maps"
	"reflect"
	"slices"
	"testing"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// durableGroup is what of a group the log keeps.
type durableGroup struct {
	State          State
	StateTimestamp int64
	ProtocolType   string
	Protocol       string
	Leader         string
	Generation     int32
	Members        []durableMember
	Offsets        map[topicPartition]offset
	Subscribed     []string
}

type durableMember struct {
	ID, Instance, ClientID, ClientHost string
	Session, Rebalance                 int32
	Metadata, Assignment               string
}

// durable is the coordinator's state as a replay must rebuild it. Call it
// when no group is in the middle of a rebalance.
func durable(c *Coordinator) map[string]durableGroup {
	out := map[string]durableGroup{}
	for id, g := range c.groups {
		d := durableGroup{
			State: g.state, StateTimestamp: g.stateTimestamp, ProtocolType: g.protocolType, Protocol: g.protocol,
			Leader: g.leader, Generation: g.generation, Offsets: maps.Clone(g.offsets),
			Subscribed: slices.Sorted(maps.Keys(g.subscribed)),
		}
		for _, m := range g.members {
			d.Members = append(d.Members, durableMember{
				ID: m.id, Instance: m.instanceID, ClientID: m.clientID, ClientHost: m.clientHost,
				Session: m.sessionTimeoutMs, Rebalance: m.rebalanceTimeoutMs,
				Metadata: string(m.metadata(g.protocol)), Assignment: string(m.assignment),
			})
		}
		out[id] = d
	}
	return out
}

// replay rebuilds a coordinator from records, as a restarted broker does.
func replay(t testing.TB, cfg Config, now int64, records []Record) (*Coordinator, Output) {
	t.Helper()
	c, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range records {
		if err := c.Replay(r.Key, r.Value); err != nil {
			t.Fatal(err)
		}
	}
	return c, c.Loaded(now)
}

// Replaying everything a coordinator wrote rebuilds the same groups and
// offsets: rebalances, static member replacement, commits (the last one
// wins), an Empty group, a simple group, deleted offsets, a deleted
// group, expired offsets.
func TestReplayReconstructsState(t *testing.T) {
	cfg := testConfig()
	cfg.OffsetsRetentionMs = 60_000
	cfg.OffsetsRetentionCheckIntervalMs = 1000
	h := newHarness(t, cfg)

	a, b, s := h.client("a"), h.client("b"), h.static("s", "i1")
	b.protocols = []Protocol{{Name: "range", Metadata: subscription("t", "u")}}
	h.stabilize(a, s)
	h.stabilize(b, a, s) // b's arrival starts the rebalance

	h.wantNoErr(a.commit("t", 0, 1))
	h.wantNoErr(a.commit("t", 0, 2))
	h.wantNoErr(b.commit("u", 3, 9))
	s.restart()
	h.wantNoErr(s.join()) // static replacement, persisted
	h.wantNoErr(s.sync())

	e := h.client("e")
	e.group = "e"
	h.stabilize(e)
	h.wantNoErr(e.commit("t", 1, 5))
	h.wantNoErr(e.leave())

	h.wantNoErr(h.simpleCommit("simple", "t", 0, 7))
	h.wantNoErr(h.simpleCommit("simple", "t", 1, 8))
	hd := h.handle("delete offsets")
	h.apply(h.c.OffsetDelete(h.now, hd, &OffsetDeleteRequest{Group: "simple", Topics: []DeletePartitions{{Topic: "t", Partitions: []PartitionResult{{Partition: 1}}}}}))

	h.wantNoErr(h.simpleCommit("deleted", "t", 0, 1))
	hd = h.handle("delete group")
	h.apply(h.c.DeleteGroup(h.now, hd, "deleted"))
	h.wantNoErr(hd)

	h.wantNoErr(h.simpleCommit("expired", "t", 0, 1))
	h.idle(30_000, a, b, s)
	h.wantNoErr(h.simpleCommit("simple", "t", 0, 70)) // keeps "simple" alive
	h.idle(35_000, a, b, s)
	h.wantState("expired", Dead)
	h.wantState("e", Dead) // Empty for 65 s: its offsets expired, then it

	e2 := h.client("e2") // an Empty group that keeps its offsets
	e2.group = "e2"
	h.stabilize(e2)
	h.wantNoErr(e2.commit("t", 0, 11))
	h.wantNoErr(e2.leave())

	want := durable(h.c)
	if len(want) != 3 || want["g"].State != Stable || want["e2"].State != Empty || want["simple"].State != Empty {
		t.Fatalf("scenario went wrong: %+v", want)
	}
	c, _ := replay(t, cfg, h.now, h.records)
	if got := durable(c); !reflect.DeepEqual(got, want) {
		t.Fatalf("replayed state differs:\n got %+v\nwant %+v", got, want)
	}

	// Replaying a log that repeats itself changes nothing: last value wins.
	c, _ = replay(t, cfg, h.now, append(slices.Clone(h.records), h.records...))
	if got := durable(c); !reflect.DeepEqual(got, want) {
		t.Fatal("replaying twice differs")
	}
}

// After a restart the members carry on: their heartbeats, SyncGroups and
// commits with the old generation work without a rebalance, and one that
// is gone is removed a session timeout after the load.
func TestMembersCarryOnAfterRestart(t *testing.T) {
	h := newHarness(t, testConfig())
	a, b, s := h.client("a"), h.client("b"), h.static("s", "i1")
	h.stabilize(a, b, s)
	h.wantNoErr(a.commit("t", 0, 5))
	h.advance(3000)

	c, out := replay(t, h.cfg, h.now, h.records)
	h.c = c
	h.apply(out)
	h.wantState("g", Stable)
	h.wantNoErr(a.heartbeat())
	h.wantNoErr(s.heartbeat())
	if r := h.syncReply(s.sync()); r.Err != nil || string(r.Assignment) != "a:"+s.memberID {
		t.Fatalf("sync after restart: %+v", r)
	}
	h.wantNoErr(a.commit("t", 0, 6))
	if h.fetch("g", "t", 0) != 6 {
		t.Fatal("commit after restart")
	}
	// b is gone: a fresh session timeout after the load, it is removed.
	h.advance(9999)
	h.wantNoErr(a.heartbeat())
	h.wantNoErr(s.heartbeat())
	h.advance(1)
	h.wantState("g", PreparingRebalance)
	// A static member restarting right after the broker did rejoins
	// without a rebalance too.
	h2 := newHarness(t, testConfig())
	s2, d := h2.static("s", "i1"), h2.client("d")
	h2.stabilize(s2, d)
	c, out = replay(t, h2.cfg, h2.now, h2.records)
	h2.c = c
	h2.apply(out)
	s2.restart()
	h2.wantNoErr(s2.join())
	h2.wantState("g", Stable)
	h2.wantNoErr(s2.sync())
	h2.wantNoErr(d.heartbeat())
}

// Records Kafka itself wrote in older formats replay too.
func TestReplayOlderFormats(t *testing.T) {
	var records []Record
	key := kmsg.OffsetCommitKey{Version: 0, Group: "old", Topic: "t", Partition: 0}
	v1 := kmsg.NewOffsetCommitValue()
	v1.Version, v1.Offset, v1.Metadata, v1.CommitTimestamp, v1.ExpireTimestamp = 1, 10, "m", 500, 2000
	records = append(records, Record{key.AppendTo(nil), v1.AppendTo(nil)})
	gk := kmsg.GroupMetadataKey{Version: 2, Group: "old"}
	gv := kmsg.NewGroupMetadataValue()
	gv.Version, gv.ProtocolType, gv.Generation, gv.Protocol, gv.Leader = 0, "consumer", 4, ptr("range"), ptr("m-1")
	gv.Members = []kmsg.GroupMetadataValueMember{{MemberID: "m-1", ClientID: "c", ClientHost: "h", SessionTimeoutMillis: 10000, Subscription: subscription("t"), Assignment: []byte("x")}}
	records = append(records, Record{gk.AppendTo(nil), gv.AppendTo(nil)})

	cfg := testConfig()
	cfg.OffsetsRetentionCheckIntervalMs = 1000
	c, _ := replay(t, cfg, 1000, records)
	g := c.groups["old"]
	if g == nil || g.state != Stable || g.generation != 4 || g.members[0].rebalanceTimeoutMs != 10000 || g.stateTimestamp != -1 {
		t.Fatalf("group: %+v", g)
	}
	if o := g.offsets[topicPartition{"t", 0}]; o.leaderEpoch != -1 || o.expireTimestamp != 2000 || o.offset != 10 {
		t.Fatalf("offset: %+v", o)
	}
	// An explicit expire timestamp is honoured, but not while the group
	// has members.
	c.Tick(2000)
	if len(g.offsets) != 1 {
		t.Fatal("offset of a Stable group expired")
	}
}

func TestReplayRefusesCorruptRecords(t *testing.T) {
	okKey := groupKey("g")
	tests := []struct {
		name       string
		key, value []byte
	}{
		{"short key", []byte{0}, nil},
		{"unknown key version", []byte{0, 9, 0, 0}, nil},
		{"truncated offset key", offsetKey("g", topicPartition{"t", 0})[:6], nil},
		{"truncated offset value", offsetKey("g", topicPartition{"t", 0}), offsetValue(offset{})[:5]},
		{"truncated group value", okKey, []byte{0, 3, 0}},
		{"members without protocol", okKey, func() []byte {
			v := kmsg.NewGroupMetadataValue()
			v.Version, v.ProtocolType, v.Leader = 3, "consumer", ptr("m")
			v.Members = []kmsg.GroupMetadataValueMember{{MemberID: "m"}}
			return v.AppendTo(nil)
		}()},
		{"leader not a member", okKey, func() []byte {
			v := kmsg.NewGroupMetadataValue()
			v.Version, v.ProtocolType, v.Protocol, v.Leader = 3, "consumer", ptr("range"), ptr("x")
			v.Members = []kmsg.GroupMetadataValueMember{{MemberID: "m"}}
			return v.AppendTo(nil)
		}()},
		{"member twice", okKey, func() []byte {
			v := kmsg.NewGroupMetadataValue()
			v.Version, v.ProtocolType, v.Protocol, v.Leader = 3, "consumer", ptr("range"), ptr("m")
			v.Members = []kmsg.GroupMetadataValueMember{{MemberID: "m"}, {MemberID: "m"}}
			return v.AppendTo(nil)
		}()},
	}
	for _, tt := range tests {
		c, _ := New(testConfig())
		if err := c.Replay(tt.key, tt.value); !errors.Is(err, ErrCorruptRecord) {
			t.Errorf("%s: %v", tt.name, err)
		}
		c.Loaded(0)
		if len(c.groups) != 0 {
			t.Errorf("%s: applied", tt.name)
		}
	}
	c, _ := New(testConfig())
	c.Loaded(0)
	if err := c.Replay(okKey, nil); err == nil {
		t.Error("Replay after Loaded accepted")
	}
}

// FuzzReplay feeds arbitrary records to a loading coordinator. It checks
// that Replay never panics, that Loaded then yields a coordinator whose
// invariants hold, and that it serves a JoinGroup and a Tick.
func FuzzReplay(f *testing.F) {
	h := newHarness(f, testConfig())
	a, s := h.client("a"), h.static("s", "i1")
	h.stabilize(a, s)
	a.commit("t", 0, 1)
	for _, r := range h.records {
		f.Add(r.Key, r.Value, true)
	}
	f.Add(groupKey("g"), []byte(nil), false)
	f.Fuzz(func(t *testing.T, key, value []byte, hasValue bool) {
		if !hasValue {
			value = nil
		}
		c, err := New(testConfig())
		if err != nil {
			t.Fatal(err)
		}
		c.Replay(key, value)
		c.Loaded(0)
		if err := c.verify(); err != nil {
			t.Fatal(err)
		}
		for id := range c.groups {
			c.Join(1, "j", &JoinRequest{Version: 9, Group: id, ClientID: "c", SessionTimeoutMs: 10000, ProtocolType: "consumer", Protocols: []Protocol{{Name: "range"}}})
		}
		c.Tick(1 << 40)
		if err := c.verify(); err != nil {
			t.Fatal(err)
		}
	})
}

// Until Loaded, requests are answered as Kafka answers them while it
// loads a partition; after Unload, with NOT_COORDINATOR, and parked
// requests are released.
func TestLoadingAndUnloading(t *testing.T) {
	c, _ := New(testConfig())
	if _, ok := c.NextDeadline(); ok {
		t.Fatal("timers armed while loading")
	}
	replies := func(out Output) any { return out.Replies[0].Response }
	if r := replies(c.Join(0, 1, &JoinRequest{Group: "g", SessionTimeoutMs: 10000})).(*JoinResponse); r.Err != kerr.CoordinatorLoadInProgress {
		t.Fatalf("join: %v", r.Err)
	}
	if r := replies(c.Sync(0, 1, &SyncRequest{Group: "g"})).(*SyncResponse); r.Err != kerr.RebalanceInProgress {
		t.Fatalf("sync: %v", r.Err)
	}
	if r := replies(c.Heartbeat(0, 1, &HeartbeatRequest{Group: "g"})).(*HeartbeatResponse); r.Err != nil {
		t.Fatalf("heartbeat: %v", r.Err)
	}
	if r := c.OffsetFetch(&OffsetFetchRequest{Group: "g"}); r.Err != kerr.CoordinatorLoadInProgress {
		t.Fatalf("fetch: %v", r.Err)
	}
	if _, err := c.List(nil); err != kerr.CoordinatorLoadInProgress {
		t.Fatalf("list: %v", err)
	}

	h := newHarness(t, testConfig())
	a, b := h.client("a"), h.client("b")
	h.stabilize(a, b)
	ja := a.join()
	h.pending(ja)
	c1, c2 := h.client("c1"), h.client("c2")
	c1.group, c2.group = "g2", "g2"
	j1, j2 := c1.joinFully(), c2.joinFully()
	h.advance(0)
	h.wantNoErr(j1)
	h.wantNoErr(j2)
	s2 := c2.sync() // the follower's, parked
	h.pending(s2)
	h.apply(h.c.Unload())
	h.wantErr(ja, kerr.NotCoordinator)
	h.wantErr(s2, kerr.NotCoordinator)
	h.wantErr(b.heartbeat(), kerr.NotCoordinator)
	h.wantErr(b.join(), kerr.NotCoordinator)
	if d := h.c.Describe("g", 5); d.Err != kerr.NotCoordinator {
		t.Fatalf("describe: %v", d.Err)
	}
}

// When the records of an Output cannot be written, its replies all carry
// the error instead.
func TestFailedReplies(t *testing.T) {
	h := newHarness(t, testConfig())
	a, b := h.client("a"), h.client("b")
	ja, jb := a.joinFully(), b.joinFully()
	h.advance(0)
	h.wantNoErr(ja)
	h.wantNoErr(jb)
	b.sync()
	out := h.c.Sync(h.now, "a/sync", &SyncRequest{Group: "g", Generation: 1, MemberID: a.memberID})
	failed := FailedReplies(out, kerr.CoordinatorNotAvailable)
	if len(failed) != 2 {
		t.Fatalf("%d replies", len(failed))
	}
	for _, r := range failed {
		if r.Response.(*SyncResponse).Err != kerr.CoordinatorNotAvailable {
			t.Fatalf("%v: %+v", r.Handle, r.Response)
		}
	}
	out = h.c.OffsetCommit(h.now, "c", &OffsetCommitRequest{Group: "s", Generation: -1, Topics: []CommitTopic{{Topic: "t", Partitions: []CommitPartition{
		{Partition: 0}, {Partition: 1, Err: kerr.UnknownTopicOrPartition},
	}}}})
	r := FailedReplies(out, kerr.NotCoordinator)[0].Response.(*OffsetCommitResponse)
	if r.Topics[0].Partitions[0].Err != kerr.NotCoordinator || r.Topics[0].Partitions[1].Err != kerr.UnknownTopicOrPartition {
		t.Fatalf("commit: %+v", r)
	}
	if out.Replies[0].Response.(*OffsetCommitResponse).Topics[0].Partitions[0].Err != nil {
		t.Fatal("FailedReplies changed the original")
	}
}
