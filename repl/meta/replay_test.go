package meta

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"
)

// randomCommand returns a command that is plausible for s: mostly aimed at
// brokers, topics and epochs that exist, sometimes not, so that a random
// sequence mixes acceptances and every kind of rejection.
func randomCommand(r *rand.Rand, s *State) Command {
	ids := [4]TopicID{{1}, {2}, {3}, {4}}
	names := [4]string{"a", "b", "c", "d"}
	broker := func() int32 { return int32(r.IntN(5)) }
	epoch := func(id int32) int64 {
		if b := s.Broker(id); b != nil && r.IntN(8) != 0 {
			return b.Epoch
		}
		return int64(r.IntN(12))
	}
	topic := func() *Topic {
		if ts := s.Topics(); len(ts) > 0 && r.IntN(8) != 0 {
			return ts[r.IntN(len(ts))]
		}
		return &Topic{ID: ids[r.IntN(4)], Partitions: make([]Partition, 1)}
	}
	replicas := func(n int) []int32 {
		perm := r.Perm(5)
		out := make([]int32, n)
		for i := range out {
			out[i] = int32(perm[i])
		}
		return out
	}
	assignment := func(rf int) [][]int32 {
		a := make([][]int32, 1+r.IntN(3))
		for i := range a {
			a[i] = replicas(rf)
		}
		return a
	}
	switch r.IntN(16) {
	case 0:
		return InitCluster{ClusterID: fmt.Sprint("c", r.IntN(2))}
	case 1:
		id := broker()
		return RegisterBroker{ID: id, IncarnationID: [16]byte{byte(id), byte(r.IntN(3))}, Listeners: plaintext}
	case 2:
		id := broker()
		return FenceBroker{ID: id, Epoch: epoch(id)}
	case 3, 4:
		id := broker()
		return UnfenceBroker{ID: id, Epoch: epoch(id)}
	case 5, 6:
		return CreateTopic{ID: ids[r.IntN(4)], Name: names[r.IntN(4)], Assignment: assignment(1 + r.IntN(3))}
	case 7:
		return DeleteTopic{ID: topic().ID}
	case 8:
		t := topic()
		return CreatePartitions{ID: t.ID, Assignment: assignment(max(1, len(t.Partitions[0].Replicas)))}
	case 9:
		keys := []string{ConfigUncleanLeaderElection, ConfigMinInsyncReplicas, "retention.ms"}
		vals := []string{"true", "true", "false", "2", "x"}
		c := AlterConfigs{Resource: ResourceTopic, TopicID: topic().ID, Replace: r.IntN(4) == 0}
		if r.IntN(3) == 0 {
			c.Resource = ResourceCluster
		}
		for range 1 + r.IntN(2) {
			c.Ops = append(c.Ops, ConfigOp{Key: keys[r.IntN(len(keys))], Value: vals[r.IntN(len(vals))], Delete: r.IntN(4) == 0})
		}
		return c
	case 10:
		id := broker()
		return AllocateProducerIDs{BrokerID: id, BrokerEpoch: epoch(id)}
	case 11, 12:
		t := topic()
		i := r.IntN(len(t.Partitions) + 1)
		p := Partition{Replicas: replicas(3), Leader: broker()}
		if i < len(t.Partitions) && t.Partitions[i].Replicas != nil {
			p = t.Partitions[i]
		}
		c := ChangeISR{BrokerID: p.Leader, BrokerEpoch: epoch(p.Leader), TopicID: t.ID, Partition: int32(i),
			LeaderEpoch: p.LeaderEpoch, PartitionEpoch: p.PartitionEpoch}
		if r.IntN(10) == 0 {
			c.PartitionEpoch--
		}
		c.ISR = append(c.ISR, ISRMember{BrokerID: p.Leader, BrokerEpoch: -1})
		for _, id := range p.Replicas {
			if id != p.Leader && r.IntN(4) != 0 {
				c.ISR = append(c.ISR, ISRMember{BrokerID: id, BrokerEpoch: epoch(id)})
			}
		}
		return c
	default:
		// Aim at partitions where an election could do something.
		for _, t := range s.Topics() {
			for i, p := range t.Partitions {
				pref := p.Replicas[0]
				switch {
				case r.IntN(4) == 0:
				case p.Leader == NoLeader:
					return ElectLeader{TopicID: t.ID, Partition: int32(i), Election: ElectUnclean}
				case p.Leader != pref && s.usable(pref) && slices.Contains(p.ISR, pref):
					return ElectLeader{TopicID: t.ID, Partition: int32(i), Election: ElectPreferred}
				}
			}
		}
		t := topic()
		return ElectLeader{TopicID: t.ID, Partition: int32(r.IntN(len(t.Partitions))), Election: ElectionType(r.IntN(2))}
	}
}

// TestReplay applies random command sequences and checks determinism: a
// state restored from a snapshot taken midway gives the same results and
// ends byte-for-byte equal to the state that never stopped, every accepted
// command keeps the invariants and every rejected one changes nothing.
func TestReplay(t *testing.T) {
	const steps = 400
	accepted := map[CommandType]int{}
	for seed := range uint64(30) {
		r := rand.New(rand.NewPCG(seed, 1))
		var cmds []Command
		s := New()
		var mid []byte
		for i := range steps {
			if i == steps/2 {
				mid = s.AppendSnapshot(nil)
			}
			c := randomCommand(r, s)
			enc := AppendCommand(nil, c)
			dc, err := DecodeCommand(enc)
			if err != nil {
				t.Fatalf("seed %d step %d: %T does not decode: %v", seed, i, c, err)
			}
			cmds = append(cmds, dc)
			before := s.AppendSnapshot(nil)
			if _, err := s.Apply(dc); err != nil {
				if !bytes.Equal(before, s.AppendSnapshot(nil)) {
					t.Fatalf("seed %d step %d: rejected %T%+v changed the state", seed, i, c, c)
				}
				continue
			}
			accepted[c.Type()]++
			if err := s.Check(); err != nil {
				t.Fatalf("seed %d step %d: after %T%+v: %v", seed, i, c, c, err)
			}
		}

		restored, err := Restore(mid)
		if err != nil {
			t.Fatalf("seed %d: %v", seed, err)
		}
		again := New()
		for i, c := range cmds {
			if i == steps/2 && !bytes.Equal(again.AppendSnapshot(nil), mid) {
				t.Fatalf("seed %d: replay differs at the snapshot", seed)
			}
			res1, err1 := again.Apply(c)
			if i < steps/2 {
				continue
			}
			res2, err2 := restored.Apply(c)
			if res1 != res2 || fmt.Sprint(err1) != fmt.Sprint(err2) {
				t.Fatalf("seed %d step %d: %T: %+v %v after a restore, %+v %v without", seed, i, c, res2, err2, res1, err1)
			}
		}
		final := s.AppendSnapshot(nil)
		if !bytes.Equal(again.AppendSnapshot(nil), final) || !bytes.Equal(restored.AppendSnapshot(nil), final) {
			t.Fatalf("seed %d: final states differ", seed)
		}
	}
	// The generator must reach the interesting paths, not just rejections.
	for typ := TypeInitCluster; typ <= TypeElectLeader; typ++ {
		if accepted[typ] < 5 {
			t.Errorf("command type %d accepted only %d times", typ, accepted[typ])
		}
	}
	t.Logf("accepted: %v", accepted)
}
