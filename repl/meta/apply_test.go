package meta

import (
	"bytes"
	"errors"
	"slices"
	"testing"
)

var (
	plaintext = []Listener{{Name: "PLAINTEXT", Host: "127.0.0.1", Port: 9092}}
	topicT    = TopicID{0xaa}
	topicU    = TopicID{0xbb}
)

func inc(n byte) [16]byte { return [16]byte{0x10, n} }

func register(id int32) RegisterBroker {
	return RegisterBroker{ID: id, IncarnationID: inc(byte(id)), Listeners: plaintext}
}

// fixture: brokers 1, 2 and 3 registered (epochs 1, 2, 3) and unfenced;
// topic "t" with partition 0 on [1 2 3] and partition 1 on [2 3 1]. No
// cluster id yet.
func fixture(t *testing.T) *State {
	t.Helper()
	s := New()
	for id := int32(1); id <= 3; id++ {
		mustApply(t, s, register(id), UnfenceBroker{ID: id, Epoch: int64(id)})
	}
	mustApply(t, s, CreateTopic{ID: topicT, Name: "t", Assignment: [][]int32{{1, 2, 3}, {2, 3, 1}}})
	return s
}

func mustApply(t *testing.T, s *State, cmds ...Command) {
	t.Helper()
	for _, c := range cmds {
		if _, err := s.Apply(c); err != nil {
			t.Fatalf("%T%+v: %v", c, c, err)
		}
		if err := s.Check(); err != nil {
			t.Fatalf("after %T%+v: %v", c, c, err)
		}
	}
}

func part(s *State, id TopicID, i int) Partition { return s.TopicByID(id).Partitions[i] }

func wantPartition(t *testing.T, s *State, id TopicID, i int, want Partition) {
	t.Helper()
	got := part(s, id, i)
	if !slices.Equal(got.Replicas, want.Replicas) || !slices.Equal(got.ISR, want.ISR) || got.Leader != want.Leader ||
		got.LeaderEpoch != want.LeaderEpoch || got.PartitionEpoch != want.PartitionEpoch {
		t.Fatalf("partition %d = %+v, want %+v", i, got, want)
	}
}

func fence(ids ...int32) []Command {
	var out []Command
	for _, id := range ids {
		out = append(out, FenceBroker{ID: id, Epoch: int64(id)})
	}
	return out
}

type applyCase struct {
	name  string
	prep  func(s *State) // pokes the state directly, for what no command reaches
	setup []Command      // applied first; each must be accepted
	cmd   Command
	raw   bool  // apply cmd as built: the codec would refuse it first
	err   error // the rejection expected, or nil
	check func(t *testing.T, s *State, r Result)
}

// runCases applies each case's command, after an encode/decode round trip,
// to a fresh fixture. A rejection must leave the state byte-for-byte as it
// was; an acceptance must keep every invariant and must not show through a
// clone taken before it.
func runCases(t *testing.T, cases []applyCase) {
	t.Helper()
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s := fixture(t)
			if tc.prep != nil {
				tc.prep(s)
			}
			mustApply(t, s, tc.setup...)
			before := s.AppendSnapshot(nil)
			clone := s.Clone()
			enc := AppendCommand(nil, tc.cmd)
			var res Result
			c, err := DecodeCommand(enc)
			if tc.raw {
				c, err = tc.cmd, nil
			}
			if err == nil {
				if !tc.raw && !bytes.Equal(AppendCommand(nil, c), enc) {
					t.Fatalf("round trip changed %T", tc.cmd)
				}
				res, err = s.Apply(c)
			}
			if !bytes.Equal(clone.AppendSnapshot(nil), before) {
				t.Fatal("Apply changed a clone")
			}
			if tc.err != nil {
				if !errors.Is(err, tc.err) {
					t.Fatalf("err = %v, want %v", err, tc.err)
				}
				if !bytes.Equal(s.AppendSnapshot(nil), before) {
					t.Fatal("a rejected command changed the state")
				}
				return
			}
			if err != nil {
				t.Fatalf("rejected: %v", err)
			}
			if err := s.Check(); err != nil {
				t.Fatal(err)
			}
			if tc.check != nil {
				tc.check(t, s, res)
			}
		})
	}
}

func TestInitCluster(t *testing.T) {
	runCases(t, []applyCase{
		{name: "sets the id", cmd: InitCluster{ClusterID: "c1"}, check: func(t *testing.T, s *State, _ Result) {
			if s.ClusterID() != "c1" {
				t.Fatal(s.ClusterID())
			}
		}},
		{name: "same id again is a no-op", setup: []Command{InitCluster{ClusterID: "c1"}}, cmd: InitCluster{ClusterID: "c1", ProducerIDFloor: 7},
			check: func(t *testing.T, s *State, _ Result) {
				if s.NextProducerID() != 0 {
					t.Fatal("a second InitCluster moved the producer ids")
				}
			}},
		{name: "producer id floor", setup: []Command{AllocateProducerIDs{BrokerID: 1, BrokerEpoch: 1}},
			cmd: InitCluster{ClusterID: "c1", ProducerIDFloor: 123456},
			check: func(t *testing.T, s *State, _ Result) {
				if s.NextProducerID() != 123456 {
					t.Fatal(s.NextProducerID())
				}
			}},
		{name: "floor below what was handed out", setup: []Command{AllocateProducerIDs{BrokerID: 1, BrokerEpoch: 1}},
			cmd: InitCluster{ClusterID: "c1", ProducerIDFloor: 10},
			check: func(t *testing.T, s *State, _ Result) {
				if s.NextProducerID() != ProducerIDBlockSize {
					t.Fatal(s.NextProducerID())
				}
			}},
		{name: "negative floor", cmd: InitCluster{ClusterID: "c1", ProducerIDFloor: -1}, err: ErrInvalidClusterID},
		{name: "another id", setup: []Command{InitCluster{ClusterID: "c1"}}, cmd: InitCluster{ClusterID: "c2"}, err: ErrClusterInitialized},
		{name: "empty id", cmd: InitCluster{}, err: ErrInvalidClusterID},
		{name: "bad character", cmd: InitCluster{ClusterID: "a b"}, err: ErrInvalidClusterID},
	})
}

func TestRegisterBroker(t *testing.T) {
	runCases(t, []applyCase{
		{name: "new broker starts fenced with the next epoch", cmd: register(4), check: func(t *testing.T, s *State, r Result) {
			if b := s.Broker(4); r.BrokerEpoch != 4 || b.Epoch != 4 || !b.Fenced {
				t.Fatalf("%+v %+v", r, b)
			}
		}},
		{name: "same incarnation is a retry", cmd: register(1), check: func(t *testing.T, s *State, r Result) {
			if b := s.Broker(1); r.BrokerEpoch != 1 || b.Epoch != 1 || b.Fenced {
				t.Fatalf("%+v %+v", r, b)
			}
		}},
		{name: "same incarnation, other listeners",
			cmd: RegisterBroker{ID: 1, IncarnationID: inc(1), Listeners: []Listener{{Name: "PLAINTEXT", Host: "10.0.0.1", Port: 9092}}},
			err: ErrDuplicateBroker},
		{name: "new incarnation fences the old",
			cmd: RegisterBroker{ID: 1, IncarnationID: inc(99), Listeners: plaintext, Rack: "r1"},
			check: func(t *testing.T, s *State, r Result) {
				if b := s.Broker(1); r.BrokerEpoch != 4 || !b.Fenced || b.Rack != "r1" {
					t.Fatalf("%+v %+v", r, b)
				}
				wantPartition(t, s, topicT, 0, Partition{Replicas: []int32{1, 2, 3}, ISR: []int32{2, 3}, Leader: 2, LeaderEpoch: 1, PartitionEpoch: 1})
				wantPartition(t, s, topicT, 1, Partition{Replicas: []int32{2, 3, 1}, ISR: []int32{2, 3}, Leader: 2, LeaderEpoch: 0, PartitionEpoch: 1})
			}},
		{name: "negative id", cmd: RegisterBroker{ID: -1, IncarnationID: inc(1), Listeners: plaintext}, err: ErrInvalidRegistration},
		{name: "zero incarnation", cmd: RegisterBroker{ID: 5, Listeners: plaintext}, err: ErrInvalidRegistration},
		{name: "no listeners", cmd: RegisterBroker{ID: 5, IncarnationID: inc(5)}, err: ErrInvalidRegistration},
		{name: "port 0", cmd: RegisterBroker{ID: 5, IncarnationID: inc(5), Listeners: []Listener{{Name: "A", Host: "h"}}}, err: ErrInvalidRegistration},
		{name: "two listeners of one name",
			cmd: RegisterBroker{ID: 5, IncarnationID: inc(5), Listeners: []Listener{{Name: "A", Host: "h", Port: 1}, {Name: "A", Host: "h", Port: 2}}},
			err: ErrInvalidRegistration},
	})
}

func TestFenceBroker(t *testing.T) {
	runCases(t, []applyCase{
		{name: "leader and follower leave the ISR", cmd: FenceBroker{ID: 1, Epoch: 1}, check: func(t *testing.T, s *State, _ Result) {
			if !s.Broker(1).Fenced {
				t.Fatal("not fenced")
			}
			wantPartition(t, s, topicT, 0, Partition{Replicas: []int32{1, 2, 3}, ISR: []int32{2, 3}, Leader: 2, LeaderEpoch: 1, PartitionEpoch: 1})
			wantPartition(t, s, topicT, 1, Partition{Replicas: []int32{2, 3, 1}, ISR: []int32{2, 3}, Leader: 2, LeaderEpoch: 0, PartitionEpoch: 1})
		}},
		{name: "the last ISR member stays, leaderless", setup: fence(1, 2), cmd: FenceBroker{ID: 3, Epoch: 3},
			check: func(t *testing.T, s *State, _ Result) {
				wantPartition(t, s, topicT, 0, Partition{Replicas: []int32{1, 2, 3}, ISR: []int32{3}, Leader: NoLeader, LeaderEpoch: 3, PartitionEpoch: 3})
				wantPartition(t, s, topicT, 1, Partition{Replicas: []int32{2, 3, 1}, ISR: []int32{3}, Leader: NoLeader, LeaderEpoch: 2, PartitionEpoch: 3})
			}},
		{name: "fenced again is a no-op", setup: fence(1), cmd: FenceBroker{ID: 1, Epoch: 1}, check: func(t *testing.T, s *State, _ Result) {
			wantPartition(t, s, topicT, 0, Partition{Replicas: []int32{1, 2, 3}, ISR: []int32{2, 3}, Leader: 2, LeaderEpoch: 1, PartitionEpoch: 1})
		}},
		{name: "stale epoch", cmd: FenceBroker{ID: 1, Epoch: 7}, err: ErrStaleBrokerEpoch},
		{name: "unknown broker", cmd: FenceBroker{ID: 9, Epoch: 1}, err: ErrUnknownBroker},
	})
}

func TestUnfenceBroker(t *testing.T) {
	runCases(t, []applyCase{
		{name: "the last ISR member leads again", setup: fence(1, 2, 3), cmd: UnfenceBroker{ID: 3, Epoch: 3},
			check: func(t *testing.T, s *State, _ Result) {
				wantPartition(t, s, topicT, 0, Partition{Replicas: []int32{1, 2, 3}, ISR: []int32{3}, Leader: 3, LeaderEpoch: 4, PartitionEpoch: 4})
				wantPartition(t, s, topicT, 1, Partition{Replicas: []int32{2, 3, 1}, ISR: []int32{3}, Leader: 3, LeaderEpoch: 3, PartitionEpoch: 4})
			}},
		{name: "a broker out of the ISR does not lead", setup: fence(1, 2, 3), cmd: UnfenceBroker{ID: 1, Epoch: 1},
			check: func(t *testing.T, s *State, _ Result) {
				if s.Broker(1).Fenced || part(s, topicT, 0).Leader != NoLeader {
					t.Fatal(s.TopicByID(topicT))
				}
			}},
		{name: "unfenced again is a no-op", cmd: UnfenceBroker{ID: 1, Epoch: 1}},
		{name: "stale epoch", setup: fence(1), cmd: UnfenceBroker{ID: 1, Epoch: 0}, err: ErrStaleBrokerEpoch},
		{name: "unknown broker", cmd: UnfenceBroker{ID: 9, Epoch: 9}, err: ErrUnknownBroker},
	})
}

func TestCreateTopic(t *testing.T) {
	create := func(name string, id TopicID, a ...[]int32) CreateTopic {
		return CreateTopic{ID: id, Name: name, Assignment: a}
	}
	tooMany := make([][]int32, MaxPartitions+1)
	for i := range tooMany {
		tooMany[i] = []int32{1}
	}
	runCases(t, []applyCase{
		{name: "created", cmd: CreateTopic{ID: topicU, Name: "u", Configs: map[string]string{"retention.ms": "1000"}, Assignment: [][]int32{{1}, {2}, {3}}},
			check: func(t *testing.T, s *State, _ Result) {
				u := s.Topic("u")
				if u == nil || u.ID != topicU || len(u.Partitions) != 3 || u.Configs["retention.ms"] != "1000" {
					t.Fatalf("%v", u)
				}
				wantPartition(t, s, topicU, 2, Partition{Replicas: []int32{3}, ISR: []int32{3}, Leader: 3})
				if names := len(s.Topics()); names != 2 {
					t.Fatal(names)
				}
			}},
		{name: "fenced replicas start out of the ISR", setup: fence(3), cmd: create("u", topicU, []int32{3, 1, 2}),
			check: func(t *testing.T, s *State, _ Result) {
				wantPartition(t, s, topicU, 0, Partition{Replicas: []int32{3, 1, 2}, ISR: []int32{1, 2}, Leader: 1})
			}},
		{name: "every replica fenced", setup: fence(3), cmd: create("u", topicU, []int32{3}), err: ErrInvalidReplicationFactor},
		{name: "name taken", cmd: create("t", topicU, []int32{1}), err: ErrTopicExists},
		{name: "id taken", cmd: create("u", topicT, []int32{1}), err: ErrTopicExists},
		{name: "name reusable after delete", setup: []Command{DeleteTopic{ID: topicT}}, cmd: create("t", topicU, []int32{1})},
		{name: "bad name", cmd: create("a/b", topicU, []int32{1}), err: ErrInvalidTopic},
		{name: "dot dot", cmd: create("..", topicU, []int32{1}), err: ErrInvalidTopic},
		{name: "empty name", cmd: create("", topicU, []int32{1}), err: ErrInvalidTopic},
		{name: "zero id", cmd: create("u", TopicID{}, []int32{1}), err: ErrInvalidTopic},
		{name: "no partitions", cmd: create("u", topicU), err: ErrInvalidPartitions},
		{name: "too many partitions", cmd: create("u", topicU, tooMany...), raw: true, err: ErrInvalidPartitions},
		{name: "too many partitions to decode", cmd: create("u", topicU, tooMany...), err: ErrCorrupt},
		{name: "unregistered broker", cmd: create("u", topicU, []int32{1, 9}), err: ErrInvalidReplicaAssignment},
		{name: "broker twice", cmd: create("u", topicU, []int32{1, 1}), err: ErrInvalidReplicaAssignment},
		{name: "no replicas", cmd: create("u", topicU, []int32{}), err: ErrInvalidReplicaAssignment},
		{name: "uneven replication", cmd: create("u", topicU, []int32{1, 2}, []int32{1}), err: ErrInvalidReplicaAssignment},
		{name: "bad config value", cmd: CreateTopic{ID: topicU, Name: "u", Configs: map[string]string{ConfigMinInsyncReplicas: "0"}, Assignment: [][]int32{{1}}},
			err: ErrInvalidConfig},
		{name: "bad config key", cmd: CreateTopic{ID: topicU, Name: "u", Configs: map[string]string{"A B": "1"}, Assignment: [][]int32{{1}}},
			err: ErrInvalidConfig},
	})
}

func TestDeleteTopic(t *testing.T) {
	runCases(t, []applyCase{
		{name: "deleted", cmd: DeleteTopic{ID: topicT}, check: func(t *testing.T, s *State, _ Result) {
			if s.Topic("t") != nil || s.TopicByID(topicT) != nil || len(s.Topics()) != 0 {
				t.Fatal("still there")
			}
		}},
		{name: "unknown", cmd: DeleteTopic{ID: topicU}, err: ErrUnknownTopic},
	})
}

func TestCreatePartitions(t *testing.T) {
	runCases(t, []applyCase{
		{name: "added", cmd: CreatePartitions{ID: topicT, Assignment: [][]int32{{3, 1, 2}}}, check: func(t *testing.T, s *State, _ Result) {
			wantPartition(t, s, topicT, 2, Partition{Replicas: []int32{3, 1, 2}, ISR: []int32{3, 1, 2}, Leader: 3})
			wantPartition(t, s, topicT, 0, Partition{Replicas: []int32{1, 2, 3}, ISR: []int32{1, 2, 3}, Leader: 1})
		}},
		{name: "unknown topic", cmd: CreatePartitions{ID: topicU, Assignment: [][]int32{{1, 2, 3}}}, err: ErrUnknownTopic},
		{name: "none", cmd: CreatePartitions{ID: topicT}, err: ErrInvalidPartitions},
		{name: "other replication factor", cmd: CreatePartitions{ID: topicT, Assignment: [][]int32{{1, 2}}}, err: ErrInvalidReplicaAssignment},
		{name: "every replica fenced", setup: fence(1, 2, 3), cmd: CreatePartitions{ID: topicT, Assignment: [][]int32{{1, 2, 3}}},
			err: ErrInvalidReplicationFactor},
		{name: "too many", cmd: CreatePartitions{ID: topicT, Assignment: slices.Repeat([][]int32{{1, 2, 3}}, MaxPartitions-1)},
			err: ErrInvalidPartitions},
	})
}

func set(k, v string) ConfigOp { return ConfigOp{Key: k, Value: v} }

func TestAlterConfigs(t *testing.T) {
	topic := func(replace bool, ops ...ConfigOp) AlterConfigs {
		return AlterConfigs{Resource: ResourceTopic, TopicID: topicT, Replace: replace, Ops: ops}
	}
	configs := func(want map[string]string) func(*testing.T, *State, Result) {
		return func(t *testing.T, s *State, _ Result) {
			if got := s.Topic("t").Configs; len(got) != len(want) {
				t.Fatalf("%v, want %v", got, want)
			}
			for k, v := range want {
				if got, _ := s.TopicConfig(s.Topic("t"), k); got != v {
					t.Fatalf("%s = %q, want %q", k, got, v)
				}
			}
		}
	}
	many := make([]ConfigOp, MaxConfigs+1)
	for i := range many {
		many[i] = set("k"+string(rune('a'+i%26))+string(rune('a'+i/26)), "1")
	}
	runCases(t, []applyCase{
		{name: "set", cmd: topic(false, set("retention.ms", "5")), check: configs(map[string]string{"retention.ms": "5"})},
		{name: "incremental keeps the others", setup: []Command{topic(false, set("a", "1"))}, cmd: topic(false, set("b", "2")),
			check: configs(map[string]string{"a": "1", "b": "2"})},
		{name: "replace drops the others", setup: []Command{topic(false, set("a", "1"))}, cmd: topic(true, set("b", "2")),
			check: configs(map[string]string{"b": "2"})},
		{name: "delete", setup: []Command{topic(false, set("a", "1"), set("b", "2"))}, cmd: topic(false, ConfigOp{Key: "a", Delete: true}),
			check: configs(map[string]string{"b": "2"})},
		{name: "delete a known key", cmd: topic(false, ConfigOp{Key: ConfigUncleanLeaderElection, Delete: true})},
		{name: "cluster default", cmd: AlterConfigs{Resource: ResourceCluster, Ops: []ConfigOp{set(ConfigUncleanLeaderElection, "true")}},
			check: func(t *testing.T, s *State, _ Result) {
				if v, _ := s.ClusterConfig(ConfigUncleanLeaderElection); v != "true" || !s.UncleanLeaderElection(s.Topic("t")) {
					t.Fatal(v)
				}
			}},
		{name: "topic overrides cluster", setup: []Command{AlterConfigs{Resource: ResourceCluster, Ops: []ConfigOp{set(ConfigUncleanLeaderElection, "true")}}},
			cmd: topic(false, set(ConfigUncleanLeaderElection, "false")),
			check: func(t *testing.T, s *State, _ Result) {
				if s.UncleanLeaderElection(s.Topic("t")) {
					t.Fatal("cluster default won")
				}
			}},
		{name: "unknown topic", cmd: AlterConfigs{Resource: ResourceTopic, TopicID: topicU, Ops: []ConfigOp{set("a", "1")}}, err: ErrUnknownTopic},
		{name: "unknown resource", cmd: AlterConfigs{Resource: 3, Ops: []ConfigOp{set("a", "1")}}, err: ErrInvalidConfig},
		{name: "bad bool", cmd: topic(false, set(ConfigUncleanLeaderElection, "yes")), err: ErrInvalidConfig},
		{name: "bad int", cmd: topic(false, set(ConfigMinInsyncReplicas, "two")), err: ErrInvalidConfig},
		{name: "bad key", cmd: topic(false, set("Retention", "1")), err: ErrInvalidConfig},
		{name: "bad key to delete", cmd: topic(false, ConfigOp{Key: "", Delete: true}), err: ErrInvalidConfig},
		{name: "later op fails, nothing changes", cmd: topic(false, set("a", "1"), set("", "2")), err: ErrInvalidConfig},
		{name: "too many", cmd: topic(true, many...), err: ErrInvalidConfig},
	})
}

func TestAllocateProducerIDs(t *testing.T) {
	runCases(t, []applyCase{
		{name: "first block", cmd: AllocateProducerIDs{BrokerID: 2, BrokerEpoch: 2}, check: func(t *testing.T, s *State, r Result) {
			if r.ProducerIDs != (ProducerIDBlock{BrokerID: 2, Start: 0, Size: ProducerIDBlockSize}) || s.NextProducerID() != ProducerIDBlockSize {
				t.Fatalf("%+v next %d", r, s.NextProducerID())
			}
		}},
		{name: "next block", setup: []Command{AllocateProducerIDs{BrokerID: 1, BrokerEpoch: 1}}, cmd: AllocateProducerIDs{BrokerID: 2, BrokerEpoch: 2},
			check: func(t *testing.T, s *State, r Result) {
				if r.ProducerIDs.Start != ProducerIDBlockSize {
					t.Fatalf("%+v", r)
				}
			}},
		{name: "fenced brokers may allocate", setup: fence(2), cmd: AllocateProducerIDs{BrokerID: 2, BrokerEpoch: 2}},
		{name: "stale epoch", cmd: AllocateProducerIDs{BrokerID: 2, BrokerEpoch: 1}, err: ErrStaleBrokerEpoch},
		{name: "unknown broker", cmd: AllocateProducerIDs{BrokerID: 7, BrokerEpoch: 1}, err: ErrUnknownBroker},
		{name: "exhausted", prep: func(s *State) { s.nextProducerID = 1<<63 - 1 - ProducerIDBlockSize + 1 },
			cmd: AllocateProducerIDs{BrokerID: 1, BrokerEpoch: 1}, err: ErrProducerIDsExhausted},
	})
}

func TestChangeISR(t *testing.T) {
	// Partition 0 starts led by 1 at leader epoch 0, partition epoch 0.
	isr := func(pe int32, ids ...int32) ChangeISR {
		c := ChangeISR{BrokerID: 1, BrokerEpoch: 1, TopicID: topicT, Partition: 0, PartitionEpoch: pe}
		for _, id := range ids {
			c.ISR = append(c.ISR, ISRMember{BrokerID: id, BrokerEpoch: int64(id)})
		}
		return c
	}
	with := func(c ChangeISR, f func(*ChangeISR)) ChangeISR { f(&c); return c }
	runCases(t, []applyCase{
		{name: "shrink", cmd: isr(0, 1, 2), check: func(t *testing.T, s *State, _ Result) {
			wantPartition(t, s, topicT, 0, Partition{Replicas: []int32{1, 2, 3}, ISR: []int32{1, 2}, Leader: 1, PartitionEpoch: 1})
			wantPartition(t, s, topicT, 1, Partition{Replicas: []int32{2, 3, 1}, ISR: []int32{2, 3, 1}, Leader: 2})
		}},
		{name: "expand", setup: []Command{isr(0, 1)}, cmd: isr(1, 1, 3), check: func(t *testing.T, s *State, _ Result) {
			wantPartition(t, s, topicT, 0, Partition{Replicas: []int32{1, 2, 3}, ISR: []int32{1, 3}, Leader: 1, PartitionEpoch: 2})
		}},
		{name: "kept in replica order", cmd: isr(0, 2, 1), check: func(t *testing.T, s *State, _ Result) {
			wantPartition(t, s, topicT, 0, Partition{Replicas: []int32{1, 2, 3}, ISR: []int32{1, 2}, Leader: 1, PartitionEpoch: 1})
		}},
		{name: "unchanged is a no-op", cmd: isr(0, 3, 2, 1), check: func(t *testing.T, s *State, _ Result) {
			wantPartition(t, s, topicT, 0, Partition{Replicas: []int32{1, 2, 3}, ISR: []int32{1, 2, 3}, Leader: 1})
		}},
		{name: "member epoch -1 is not checked", cmd: with(isr(0, 1), func(c *ChangeISR) {
			c.ISR = append(c.ISR, ISRMember{BrokerID: 2, BrokerEpoch: -1})
		})},
		{name: "stale leader registration", cmd: with(isr(0, 1), func(c *ChangeISR) { c.BrokerEpoch = 9 }), err: ErrStaleBrokerEpoch},
		{name: "unknown leader", cmd: with(isr(0, 1), func(c *ChangeISR) { c.BrokerID = 9 }), err: ErrUnknownBroker},
		{name: "unknown topic", cmd: with(isr(0, 1), func(c *ChangeISR) { c.TopicID = topicU }), err: ErrUnknownTopic},
		{name: "unknown partition", cmd: with(isr(0, 1), func(c *ChangeISR) { c.Partition = 2 }), err: ErrUnknownPartition},
		{name: "negative partition", cmd: with(isr(0, 1), func(c *ChangeISR) { c.Partition = -1 }), err: ErrUnknownPartition},
		{name: "not the leader", cmd: with(isr(0, 2), func(c *ChangeISR) { c.BrokerID, c.BrokerEpoch = 2, 2 }), err: ErrNotLeader},
		{name: "deposed leader", setup: fence(1), cmd: isr(0, 1), err: ErrNotLeader},
		{name: "leader epoch ahead", cmd: with(isr(0, 1), func(c *ChangeISR) { c.LeaderEpoch = 1 }), err: ErrFencedLeaderEpoch},
		{name: "stale partition epoch", setup: []Command{isr(0, 1, 2)}, cmd: isr(0, 1), err: ErrInvalidUpdateVersion},
		{name: "not a replica", setup: []Command{register(4)}, cmd: with(isr(0, 1), func(c *ChangeISR) {
			c.ISR = append(c.ISR, ISRMember{BrokerID: 4, BrokerEpoch: 4})
		}), err: ErrInvalidISR},
		{name: "member twice", cmd: isr(0, 1, 2, 2), err: ErrInvalidISR},
		{name: "leader left out", cmd: isr(0, 2, 3), err: ErrInvalidISR},
		{name: "empty", cmd: isr(0), err: ErrInvalidISR},
		{name: "fenced member", setup: fence(3), cmd: isr(1, 1, 2, 3), err: ErrIneligibleReplica},
		{name: "member restarted since", cmd: with(isr(0, 1), func(c *ChangeISR) {
			c.ISR = append(c.ISR, ISRMember{BrokerID: 3, BrokerEpoch: 2})
		}), err: ErrIneligibleReplica},
	})
}

func TestElectLeader(t *testing.T) {
	preferred := ElectLeader{TopicID: topicT, Partition: 0, Election: ElectPreferred}
	unclean := ElectLeader{TopicID: topicT, Partition: 0, Election: ElectUnclean}
	uncleanOn := AlterConfigs{Resource: ResourceTopic, TopicID: topicT, Ops: []ConfigOp{set(ConfigUncleanLeaderElection, "true")}}
	// Broker 1 fenced and back: partition 0 is led by 2 at leader epoch 1,
	// partition epoch 1, and 1 catches up into the ISR (partition epoch 2).
	returned := []Command{
		FenceBroker{ID: 1, Epoch: 1}, UnfenceBroker{ID: 1, Epoch: 1},
		ChangeISR{BrokerID: 2, BrokerEpoch: 2, TopicID: topicT, LeaderEpoch: 1, PartitionEpoch: 1,
			ISR: []ISRMember{{1, 1}, {2, 2}, {3, 3}}},
	}
	runCases(t, []applyCase{
		{name: "preferred", setup: returned, cmd: preferred, check: func(t *testing.T, s *State, _ Result) {
			wantPartition(t, s, topicT, 0, Partition{Replicas: []int32{1, 2, 3}, ISR: []int32{1, 2, 3}, Leader: 1, LeaderEpoch: 2, PartitionEpoch: 3})
		}},
		{name: "preferred already leads", cmd: preferred, err: ErrElectionNotNeeded},
		{name: "preferred out of the ISR", setup: returned[:2], cmd: preferred, err: ErrPreferredLeaderNotAvailable},
		{name: "preferred fenced", setup: fence(1), cmd: preferred, err: ErrPreferredLeaderNotAvailable},
		{name: "unclean", setup: append(fence(1, 2, 3), UnfenceBroker{ID: 2, Epoch: 2}, uncleanOn), cmd: unclean,
			check: func(t *testing.T, s *State, _ Result) {
				wantPartition(t, s, topicT, 0, Partition{Replicas: []int32{1, 2, 3}, ISR: []int32{2}, Leader: 2, LeaderEpoch: 4, PartitionEpoch: 4})
				if part(s, topicT, 1).Leader != NoLeader {
					t.Fatal("elected partition 1 too")
				}
			}},
		{name: "unclean by cluster default",
			setup: append(fence(1, 2, 3), UnfenceBroker{ID: 1, Epoch: 1},
				AlterConfigs{Resource: ResourceCluster, Ops: []ConfigOp{set(ConfigUncleanLeaderElection, "true")}}),
			cmd: unclean},
		{name: "unclean disabled", setup: append(fence(1, 2, 3), UnfenceBroker{ID: 2, Epoch: 2}), cmd: unclean, err: ErrEligibleLeadersNotAvailable},
		{name: "unclean with every replica fenced", setup: append(fence(1, 2, 3), uncleanOn), cmd: unclean, err: ErrEligibleLeadersNotAvailable},
		{name: "unclean with a leader", setup: []Command{uncleanOn}, cmd: unclean, err: ErrElectionNotNeeded},
		{name: "unknown partition", cmd: ElectLeader{TopicID: topicT, Partition: 5}, err: ErrUnknownPartition},
		{name: "unknown topic", cmd: ElectLeader{TopicID: topicU}, err: ErrUnknownTopic},
		{name: "unknown election type", cmd: ElectLeader{TopicID: topicT, Election: 2}, err: ErrCorrupt},
	})
}

func TestAssignReplicas(t *testing.T) {
	s := fixture(t)
	mustApply(t, s, register(4), UnfenceBroker{ID: 4, Epoch: 4}, FenceBroker{ID: 2, Epoch: 2})
	got, err := s.AssignReplicas(0, 4, 2, 1)
	if err != nil {
		t.Fatal(err)
	}
	want := [][]int32{{3, 4}, {4, 1}, {1, 3}, {3, 4}}
	for i := range want {
		if !slices.Equal(got[i], want[i]) {
			t.Fatalf("%v, want %v", got, want)
		}
	}
	mustApply(t, s, CreateTopic{ID: topicU, Name: "u", Assignment: got})
	more, err := s.AssignReplicas(4, 1, 2, 1)
	if err != nil || !slices.Equal(more[0], []int32{4, 1}) {
		t.Fatal(more, err)
	}
	for _, bad := range []struct {
		first, count int32
		rf           int
		err          error
	}{
		{0, 1, 4, ErrInvalidReplicationFactor},
		{0, 1, 0, ErrInvalidReplicationFactor},
		{0, 0, 1, ErrInvalidPartitions},
		{MaxPartitions, 1, 1, ErrInvalidPartitions},
	} {
		if _, err := s.AssignReplicas(bad.first, bad.count, bad.rf, 0); !errors.Is(err, bad.err) {
			t.Errorf("%+v: %v", bad, err)
		}
	}
}
