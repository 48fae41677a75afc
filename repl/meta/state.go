package meta

import (
	"fmt"
	"maps"
	"slices"
	"strings"
)

// TopicID is a topic's 16-byte id (Kafka's topic UUID). The zero id is
// never a topic's.
type TopicID [16]byte

// NoLeader is the leader of a partition that has none (Kafka's -1).
const NoLeader int32 = -1

// Listener is one address a broker serves Kafka clients on.
type Listener struct {
	Name string
	Host string
	Port uint16
}

// Broker is a registered broker. Epoch identifies the registration: a broker
// that restarts registers again and gets a new one, which fences whatever it
// promised under the old one (ISR membership, leadership).
type Broker struct {
	ID            int32
	Epoch         int64
	IncarnationID [16]byte
	Listeners     []Listener
	Rack          string
	// Fenced brokers lead nothing and are in no ISR, but for the last
	// member of a leaderless partition's ISR, which stays as the record of
	// who has every acknowledged batch.
	Fenced bool
}

// Partition is one partition's assignment and leadership.
//
// LeaderEpoch changes whenever the leader does; PartitionEpoch whenever
// anything here does (leader, ISR, replicas), which is what ChangeISR's
// compare-and-set checks, as Kafka's AlterPartition does.
type Partition struct {
	Replicas       []int32 // in preference order: Replicas[0] is the preferred leader
	ISR            []int32 // in Replicas order
	Leader         int32
	LeaderEpoch    int32
	PartitionEpoch int32
}

// Topic is a topic and its partitions.
type Topic struct {
	Name       string
	ID         TopicID
	Configs    map[string]string // topic-level overrides only
	Partitions []Partition
}

// ProducerIDBlock is a range of producer ids [Start, Start+Size) given to one
// broker.
type ProducerIDBlock struct {
	BrokerID int32
	Start    int64
	Size     int64
}

// State is the cluster metadata. The zero value is not usable; use New.
//
// Broker and Topic values reachable from a State are never modified once
// they are in it: Apply replaces them. So Clone is cheap (it copies the maps,
// not the partitions) and a clone, or a *Topic read from it, stays a
// consistent view while Apply goes on changing the original. Callers must
// not modify what the accessors return either.
//
// A State is not safe for concurrent use: one goroutine applies, and others
// read clones.
type State struct {
	clusterID       string
	brokers         map[int32]*Broker
	topics          map[TopicID]*Topic
	names           map[string]TopicID
	configs         map[string]string // cluster-wide defaults for topic configs
	lastBrokerEpoch int64
	nextProducerID  int64
}

// New returns an empty state: no cluster id, brokers or topics.
func New() *State {
	return &State{
		brokers: map[int32]*Broker{},
		topics:  map[TopicID]*Topic{},
		names:   map[string]TopicID{},
		configs: map[string]string{},
	}
}

// Clone returns a copy that Apply on either does not affect.
func (s *State) Clone() *State {
	c := *s
	c.brokers = maps.Clone(s.brokers)
	c.topics = maps.Clone(s.topics)
	c.names = maps.Clone(s.names)
	c.configs = maps.Clone(s.configs)
	return &c
}

// ClusterID is the id InitCluster set, or "" before it.
func (s *State) ClusterID() string { return s.clusterID }

// Broker returns the broker with that id, or nil.
func (s *State) Broker(id int32) *Broker { return s.brokers[id] }

// Brokers returns every registered broker in id order.
func (s *State) Brokers() []*Broker {
	out := make([]*Broker, 0, len(s.brokers))
	for _, id := range slices.Sorted(maps.Keys(s.brokers)) {
		out = append(out, s.brokers[id])
	}
	return out
}

// Topic returns the topic of that name, or nil.
func (s *State) Topic(name string) *Topic {
	id, ok := s.names[name]
	if !ok {
		return nil
	}
	return s.topics[id]
}

// TopicByID returns the topic with that id, or nil.
func (s *State) TopicByID(id TopicID) *Topic { return s.topics[id] }

// Topics returns every topic in name order.
func (s *State) Topics() []*Topic {
	out := make([]*Topic, 0, len(s.names))
	for _, name := range slices.Sorted(maps.Keys(s.names)) {
		out = append(out, s.topics[s.names[name]])
	}
	return out
}

// ClusterConfig returns a cluster-wide default for a topic config.
func (s *State) ClusterConfig(key string) (string, bool) {
	v, ok := s.configs[key]
	return v, ok
}

// TopicConfig returns the value of a topic config in effect for t: the
// topic's own, else the cluster-wide default; ok is false when neither is
// set and the broker's built-in default applies.
func (s *State) TopicConfig(t *Topic, key string) (string, bool) {
	if v, ok := t.Configs[key]; ok {
		return v, true
	}
	v, ok := s.configs[key]
	return v, ok
}

// NextProducerID is the first producer id not yet handed out.
func (s *State) NextProducerID() int64 { return s.nextProducerID }

// UncleanLeaderElection reports whether t may elect a leader from outside
// its ISR (unclean.leader.election.enable; off unless set).
func (s *State) UncleanLeaderElection(t *Topic) bool {
	v, _ := s.TopicConfig(t, ConfigUncleanLeaderElection)
	return v == "true"
}

// usable reports whether a broker may lead or be in an ISR.
func (s *State) usable(id int32) bool {
	b := s.brokers[id]
	return b != nil && !b.Fenced
}

// Check verifies the state's invariants. Apply keeps them, Restore checks
// them on what it decodes, and tests call it after every command.
func (s *State) Check() error {
	if len(s.names) != len(s.topics) {
		return fmt.Errorf("meta: %d topic names for %d topics", len(s.names), len(s.topics))
	}
	if s.nextProducerID < 0 || s.lastBrokerEpoch < 0 {
		return fmt.Errorf("meta: negative counter")
	}
	if s.clusterID != "" {
		if err := validClusterID(s.clusterID); err != nil {
			return err
		}
	}
	if err := validConfigs(s.configs); err != nil {
		return err
	}
	for id, b := range s.brokers {
		if b.ID != id || id < 0 || b.Epoch <= 0 || b.Epoch > s.lastBrokerEpoch {
			return fmt.Errorf("meta: broker %d (key %d) has epoch %d of %d", b.ID, id, b.Epoch, s.lastBrokerEpoch)
		}
		if err := validListeners(b.Listeners, b.Rack); err != nil {
			return err
		}
	}
	for id, t := range s.topics {
		if t.ID != id || id == (TopicID{}) || s.names[t.Name] != id {
			return fmt.Errorf("meta: topic %q is indexed wrongly", t.Name)
		}
		if err := validTopicName(t.Name); err != nil {
			return err
		}
		if err := validConfigs(t.Configs); err != nil {
			return err
		}
		if len(t.Partitions) == 0 || len(t.Partitions) > MaxPartitions {
			return fmt.Errorf("meta: topic %q has %d partitions", t.Name, len(t.Partitions))
		}
		for i := range t.Partitions {
			if err := s.checkPartition(&t.Partitions[i], len(t.Partitions[0].Replicas)); err != nil {
				return fmt.Errorf("meta: %s-%d: %w", t.Name, i, err)
			}
		}
	}
	return nil
}

func (s *State) checkPartition(p *Partition, rf int) error {
	if len(p.Replicas) != rf {
		return fmt.Errorf("%d replicas where the topic has %d", len(p.Replicas), rf)
	}
	if err := s.validReplicas(p.Replicas); err != nil {
		return err
	}
	if len(p.ISR) == 0 || hasDuplicates(p.ISR) || !inOrderOf(p.ISR, p.Replicas) {
		return fmt.Errorf("ISR %v is not an ordered subset of replicas %v", p.ISR, p.Replicas)
	}
	if p.LeaderEpoch < 0 || p.PartitionEpoch < 0 {
		return fmt.Errorf("negative epoch")
	}
	if p.Leader == NoLeader {
		// A partition loses its leader only when its last ISR member is
		// fenced, and gets one back as soon as that broker is unfenced (or
		// an unclean election picks another).
		if len(p.ISR) != 1 || s.usable(p.ISR[0]) {
			return fmt.Errorf("no leader with ISR %v", p.ISR)
		}
		return nil
	}
	if !slices.Contains(p.ISR, p.Leader) {
		return fmt.Errorf("leader %d not in ISR %v", p.Leader, p.ISR)
	}
	for _, r := range p.ISR {
		if !s.usable(r) {
			return fmt.Errorf("fenced broker %d in ISR %v", r, p.ISR)
		}
	}
	return nil
}

func (t *Topic) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s %x", t.Name, t.ID[:4])
	for i, p := range t.Partitions {
		fmt.Fprintf(&b, " [%d r=%v isr=%v l=%d le=%d pe=%d]", i, p.Replicas, p.ISR, p.Leader, p.LeaderEpoch, p.PartitionEpoch)
	}
	return b.String()
}

func hasDuplicates(ids []int32) bool {
	for i, a := range ids {
		if slices.Contains(ids[i+1:], a) {
			return true
		}
	}
	return false
}

// inOrderOf reports whether sub is a subsequence of all.
func inOrderOf(sub, all []int32) bool {
	j := 0
	for _, a := range all {
		if j < len(sub) && sub[j] == a {
			j++
		}
	}
	return j == len(sub)
}
