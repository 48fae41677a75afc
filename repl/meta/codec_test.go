package meta

import (
	"bytes"
	"errors"
	"testing"
)

// sampleCommands has one command of every type, with every field set.
func sampleCommands() []Command {
	return []Command{
		InitCluster{ClusterID: "c1", ProducerIDFloor: 5000},
		RegisterBroker{ID: 7, IncarnationID: inc(7), Rack: "r",
			Listeners: []Listener{{Name: "PLAINTEXT", Host: "127.0.0.1", Port: 9092}, {Name: "REPL", Host: "::1", Port: 65535}}},
		FenceBroker{ID: 2, Epoch: 1 << 40},
		UnfenceBroker{ID: 2, Epoch: 3},
		CreateTopic{ID: topicU, Name: "u", Configs: map[string]string{"b": "2", "a": "1"}, Assignment: [][]int32{{1, 2}, {2, 1}}},
		DeleteTopic{ID: topicT},
		CreatePartitions{ID: topicT, Assignment: [][]int32{{3, 1, 2}}},
		AlterConfigs{Resource: ResourceTopic, TopicID: topicT, Replace: true, Ops: []ConfigOp{set("a", "1"), {Key: "b", Delete: true}}},
		AllocateProducerIDs{BrokerID: 3, BrokerEpoch: 3},
		ChangeISR{BrokerID: 1, BrokerEpoch: 1, TopicID: topicT, Partition: 1, LeaderEpoch: 4, PartitionEpoch: 5,
			ISR: []ISRMember{{1, 1}, {2, -1}}},
		ElectLeader{TopicID: topicT, Partition: 1, Election: ElectUnclean},
	}
}

func TestCommandRoundTrip(t *testing.T) {
	seen := map[CommandType]bool{}
	for _, c := range sampleCommands() {
		enc := AppendCommand([]byte("prefix"), c)[len("prefix"):]
		got, err := DecodeCommand(enc)
		if err != nil {
			t.Fatalf("%T: %v", c, err)
		}
		if got.Type() != c.Type() || !bytes.Equal(AppendCommand(nil, got), enc) {
			t.Fatalf("%T: round trip gave %+v", c, got)
		}
		seen[c.Type()] = true
		// Every proper prefix is refused, without a panic.
		for i := range len(enc) {
			if _, err := DecodeCommand(enc[:i]); err == nil {
				t.Fatalf("%T: %d of %d bytes decoded", c, i, len(enc))
			}
		}
		if _, err := DecodeCommand(append(enc, 0)); !errors.Is(err, ErrCorrupt) {
			t.Fatalf("%T with a trailing byte: %v", c, err)
		}
		newer := append([]byte(nil), enc...)
		newer[1] = commandVersion + 1
		if _, err := DecodeCommand(newer); !errors.Is(err, ErrUnsupportedVersion) {
			t.Fatalf("%T at a newer version: %v", c, err)
		}
	}
	for typ := TypeInitCluster; typ <= TypeElectLeader; typ++ {
		if !seen[typ] {
			t.Errorf("no sample of command type %d", typ)
		}
	}
	for _, b := range [][]byte{nil, {0, 0}, {byte(TypeElectLeader) + 1, 0}} {
		if _, err := DecodeCommand(b); err == nil {
			t.Errorf("%x decoded", b)
		}
	}
}

func TestSnapshotRoundTrip(t *testing.T) {
	s := fixture(t)
	mustApply(t, s, InitCluster{ClusterID: "c1"}, register(4), FenceBroker{ID: 3, Epoch: 3},
		AlterConfigs{Resource: ResourceCluster, Ops: []ConfigOp{set("retention.ms", "1")}},
		CreateTopic{ID: topicU, Name: "u", Configs: map[string]string{"x": "y"}, Assignment: [][]int32{{2}}},
		AllocateProducerIDs{BrokerID: 1, BrokerEpoch: 1})
	snap := s.AppendSnapshot(nil)
	r, err := Restore(snap)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(r.AppendSnapshot(nil), snap) {
		t.Fatal("restored state differs")
	}
	// The restored state carries on as the original does.
	c := RegisterBroker{ID: 5, IncarnationID: inc(5), Listeners: plaintext}
	r1, _ := s.Apply(c)
	r2, _ := r.Apply(c)
	if r1 != r2 || !bytes.Equal(s.AppendSnapshot(nil), r.AppendSnapshot(nil)) {
		t.Fatal("diverged after restore")
	}

	for i := range len(snap) {
		if _, err := Restore(snap[:i]); err == nil {
			t.Fatalf("%d of %d bytes restored", i, len(snap))
		}
	}
	if _, err := Restore(append(snap, 0)); !errors.Is(err, ErrCorrupt) {
		t.Fatal(err)
	}
	newer := append([]byte(nil), snap...)
	newer[len(snapshotMagic)]++
	if _, err := Restore(newer); !errors.Is(err, ErrUnsupportedVersion) {
		t.Fatal(err)
	}
	// A snapshot that decodes but breaks an invariant is refused.
	bad := fixture(t)
	bad.brokers[1] = &Broker{ID: 1, Epoch: 1, IncarnationID: inc(1), Listeners: plaintext, Fenced: true}
	if _, err := Restore(bad.AppendSnapshot(nil)); !errors.Is(err, ErrCorrupt) {
		t.Fatalf("fenced leader restored: %v", err)
	}
}

func TestEmptySnapshot(t *testing.T) {
	r, err := Restore(New().AppendSnapshot(nil))
	if err != nil || len(r.Topics()) != 0 || len(r.Brokers()) != 0 || r.ClusterID() != "" {
		t.Fatal(r, err)
	}
}

// FuzzDecodeCommand checks that DecodeCommand never panics; that what it
// accepts re-encodes to bytes it decodes the same way; and that applying
// it to a populated state either changes nothing (a rejection) or keeps
// every invariant.
func FuzzDecodeCommand(f *testing.F) {
	for _, c := range sampleCommands() {
		f.Add(AppendCommand(nil, c))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		c, err := DecodeCommand(b)
		if err != nil {
			return
		}
		enc := AppendCommand(nil, c)
		c2, err := DecodeCommand(enc)
		if err != nil || !bytes.Equal(AppendCommand(nil, c2), enc) {
			t.Fatalf("re-encoding is not stable: %v", err)
		}
		s := fixture(t)
		before := s.AppendSnapshot(nil)
		if _, err := s.Apply(c); err != nil {
			if !bytes.Equal(before, s.AppendSnapshot(nil)) {
				t.Fatal("a rejected command changed the state")
			}
			return
		}
		if err := s.Check(); err != nil {
			t.Fatal(err)
		}
	})
}

// FuzzRestore checks that Restore never panics and that what it accepts
// keeps every invariant and snapshots back to a fixed point.
func FuzzRestore(f *testing.F) {
	s := New()
	f.Add(s.AppendSnapshot(nil))
	for i := int32(1); i <= 2; i++ {
		s.Apply(register(i))
		s.Apply(UnfenceBroker{ID: i, Epoch: int64(i)})
	}
	s.Apply(CreateTopic{ID: topicT, Name: "t", Configs: map[string]string{"a": "b"}, Assignment: [][]int32{{1, 2}}})
	f.Add(s.AppendSnapshot(nil))
	f.Fuzz(func(t *testing.T, b []byte) {
		r, err := Restore(b)
		if err != nil {
			return
		}
		if err := r.Check(); err != nil {
			t.Fatal(err)
		}
		snap := r.AppendSnapshot(nil)
		r2, err := Restore(snap)
		if err != nil || !bytes.Equal(r2.AppendSnapshot(nil), snap) {
			t.Fatalf("not a fixed point: %v", err)
		}
	})
}
