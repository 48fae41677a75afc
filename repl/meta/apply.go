package meta

import (
	"fmt"
	"maps"
	"math"
	"slices"
)

// Each apply method validates everything first and changes s only after the
// last check that can fail: that ordering is what makes a rejection leave
// the state untouched. Cascades (fencing, elections) cannot fail.

func (c InitCluster) apply(s *State) (Result, error) {
	if err := validClusterID(c.ClusterID); err != nil {
		return Result{}, err
	}
	if c.ProducerIDFloor < 0 || c.ProducerIDFloor > math.MaxInt64-ProducerIDBlockSize {
		return Result{}, fmt.Errorf("%w: producer id floor %d", ErrInvalidClusterID, c.ProducerIDFloor)
	}
	switch s.clusterID {
	case "":
		s.clusterID = c.ClusterID
		s.nextProducerID = max(s.nextProducerID, c.ProducerIDFloor)
	case c.ClusterID:
	default:
		return Result{}, fmt.Errorf("%w: %q, not %q", ErrClusterInitialized, s.clusterID, c.ClusterID)
	}
	return Result{}, nil
}

func (c RegisterBroker) apply(s *State) (Result, error) {
	if c.ID < 0 || c.IncarnationID == ([16]byte{}) {
		return Result{}, fmt.Errorf("%w: broker %d, incarnation %x", ErrInvalidRegistration, c.ID, c.IncarnationID)
	}
	if err := validListeners(c.Listeners, c.Rack); err != nil {
		return Result{}, err
	}
	old := s.brokers[c.ID]
	if old != nil && old.IncarnationID == c.IncarnationID {
		if old.Rack == c.Rack && slices.Equal(old.Listeners, c.Listeners) {
			return Result{BrokerEpoch: old.Epoch}, nil
		}
		return Result{}, fmt.Errorf("%w: broker %d incarnation %x changed its listeners", ErrDuplicateBroker, c.ID, c.IncarnationID)
	}
	s.lastBrokerEpoch++
	b := &Broker{ID: c.ID, Epoch: s.lastBrokerEpoch, IncarnationID: c.IncarnationID,
		Listeners: slices.Clone(c.Listeners), Rack: c.Rack, Fenced: true}
	s.brokers[c.ID] = b
	if old != nil && !old.Fenced {
		// The old process is gone or about to be: nothing it promised
		// (ISR membership, leadership) holds for the new one.
		s.fenceCascade(c.ID)
	}
	return Result{BrokerEpoch: b.Epoch}, nil
}

func (s *State) registration(id int32, epoch int64) (*Broker, error) {
	b := s.brokers[id]
	if b == nil {
		return nil, fmt.Errorf("%w: %d", ErrUnknownBroker, id)
	}
	if b.Epoch != epoch {
		return nil, fmt.Errorf("%w: broker %d is at epoch %d, not %d", ErrStaleBrokerEpoch, id, b.Epoch, epoch)
	}
	return b, nil
}

func (c FenceBroker) apply(s *State) (Result, error) {
	b, err := s.registration(c.ID, c.Epoch)
	if err != nil || b.Fenced {
		return Result{}, err
	}
	nb := *b
	nb.Fenced = true
	s.brokers[c.ID] = &nb
	s.fenceCascade(c.ID)
	return Result{}, nil
}

func (c UnfenceBroker) apply(s *State) (Result, error) {
	b, err := s.registration(c.ID, c.Epoch)
	if err != nil || !b.Fenced {
		return Result{}, err
	}
	nb := *b
	nb.Fenced = false
	s.brokers[c.ID] = &nb
	// A leaderless partition's ISR is one fenced broker (see Check), so
	// the partitions that elect now are exactly those whose ISR is this one.
	for _, t := range s.Topics() {
		s.rewrite(t, func(p *Partition) (Partition, bool) {
			if p.Leader != NoLeader || p.ISR[0] != c.ID {
				return Partition{}, false
			}
			np := *p
			np.Leader = c.ID
			np.LeaderEpoch++
			np.PartitionEpoch++
			return np, true
		})
	}
	return Result{}, nil
}

// fenceCascade takes a broker that was just fenced out of every ISR and
// every leadership. A partition it led elects the first remaining ISR member
// in replica order (all unfenced: see Check); if it was the last, the
// partition keeps it as its ISR and has no leader until it returns or an
// unclean election is made.
func (s *State) fenceCascade(id int32) {
	for _, t := range s.Topics() {
		s.rewrite(t, func(p *Partition) (Partition, bool) {
			if p.Leader != id && !slices.Contains(p.ISR, id) {
				return Partition{}, false
			}
			np := *p
			if len(p.ISR) > 1 {
				np.ISR = slices.DeleteFunc(slices.Clone(p.ISR), func(r int32) bool { return r == id })
			}
			if p.Leader == id {
				np.Leader = NoLeader
				if np.ISR[0] != id {
					np.Leader = np.ISR[0]
				}
				np.LeaderEpoch++
			}
			if np.Leader == p.Leader && len(np.ISR) == len(p.ISR) {
				return Partition{}, false
			}
			np.PartitionEpoch++
			return np, true
		})
	}
}

func (s *State) setPartition(t *Topic, index int32, p Partition) {
	nt := *t
	nt.Partitions = slices.Clone(t.Partitions)
	nt.Partitions[index] = p
	s.topics[t.ID] = &nt
}

// rewrite replaces t with a copy in which f changed some partitions, or
// leaves it alone if f changed none.
func (s *State) rewrite(t *Topic, f func(p *Partition) (Partition, bool)) {
	var parts []Partition
	for i := range t.Partitions {
		np, changed := f(&t.Partitions[i])
		if !changed {
			continue
		}
		if parts == nil {
			parts = slices.Clone(t.Partitions)
		}
		parts[i] = np
	}
	if parts != nil {
		nt := *t
		nt.Partitions = parts
		s.topics[t.ID] = &nt
	}
}

func (c CreateTopic) apply(s *State) (Result, error) {
	if err := validTopicName(c.Name); err != nil {
		return Result{}, err
	}
	if c.ID == (TopicID{}) {
		return Result{}, fmt.Errorf("%w: zero topic id", ErrInvalidTopic)
	}
	if err := validConfigs(c.Configs); err != nil {
		return Result{}, err
	}
	if n := len(c.Assignment); n == 0 || n > MaxPartitions {
		return Result{}, fmt.Errorf("%w: %d partitions; a topic has 1 to %d", ErrInvalidPartitions, n, MaxPartitions)
	}
	if _, ok := s.names[c.Name]; ok {
		return Result{}, fmt.Errorf("%w: %q", ErrTopicExists, c.Name)
	}
	if s.topics[c.ID] != nil {
		return Result{}, fmt.Errorf("%w: id %x is %q's", ErrTopicExists, c.ID, s.topics[c.ID].Name)
	}
	parts, err := s.newPartitions(c.Assignment, 0)
	if err != nil {
		return Result{}, err
	}
	s.topics[c.ID] = &Topic{Name: c.Name, ID: c.ID, Configs: cloneConfigs(c.Configs), Partitions: parts}
	s.names[c.Name] = c.ID
	return Result{}, nil
}

func cloneConfigs(m map[string]string) map[string]string {
	if m == nil {
		return map[string]string{}
	}
	return maps.Clone(m)
}

func (c DeleteTopic) apply(s *State) (Result, error) {
	t := s.topics[c.ID]
	if t == nil {
		return Result{}, fmt.Errorf("%w: %x", ErrUnknownTopic, c.ID)
	}
	delete(s.topics, c.ID)
	delete(s.names, t.Name)
	return Result{}, nil
}

func (c CreatePartitions) apply(s *State) (Result, error) {
	t := s.topics[c.ID]
	if t == nil {
		return Result{}, fmt.Errorf("%w: %x", ErrUnknownTopic, c.ID)
	}
	if n := len(t.Partitions) + len(c.Assignment); len(c.Assignment) == 0 || n > MaxPartitions {
		return Result{}, fmt.Errorf("%w: %d partitions plus %d; a topic has up to %d", ErrInvalidPartitions, len(t.Partitions), len(c.Assignment), MaxPartitions)
	}
	parts, err := s.newPartitions(c.Assignment, len(t.Partitions[0].Replicas))
	if err != nil {
		return Result{}, err
	}
	nt := *t
	nt.Partitions = slices.Concat(t.Partitions, parts)
	s.topics[c.ID] = &nt
	return Result{}, nil
}

func (c AlterConfigs) apply(s *State) (Result, error) {
	var cur map[string]string
	var t *Topic
	switch c.Resource {
	case ResourceTopic:
		if t = s.topics[c.TopicID]; t == nil {
			return Result{}, fmt.Errorf("%w: %x", ErrUnknownTopic, c.TopicID)
		}
		cur = t.Configs
	case ResourceCluster:
		cur = s.configs
	default:
		return Result{}, fmt.Errorf("%w: resource type %d", ErrInvalidConfig, c.Resource)
	}
	next := map[string]string{}
	if !c.Replace {
		next = maps.Clone(cur)
	}
	for _, op := range c.Ops {
		if op.Delete {
			if err := validConfigKey(op.Key); err != nil {
				return Result{}, err
			}
			delete(next, op.Key)
			continue
		}
		if err := validConfig(op.Key, op.Value); err != nil {
			return Result{}, err
		}
		next[op.Key] = op.Value
	}
	if len(next) > MaxConfigs {
		return Result{}, fmt.Errorf("%w: %d configs", ErrInvalidConfig, len(next))
	}
	if t == nil {
		s.configs = next
		return Result{}, nil
	}
	nt := *t
	nt.Configs = next
	s.topics[t.ID] = &nt
	return Result{}, nil
}

func (c AllocateProducerIDs) apply(s *State) (Result, error) {
	if _, err := s.registration(c.BrokerID, c.BrokerEpoch); err != nil {
		return Result{}, err
	}
	if s.nextProducerID > math.MaxInt64-ProducerIDBlockSize {
		return Result{}, ErrProducerIDsExhausted
	}
	blk := ProducerIDBlock{BrokerID: c.BrokerID, Start: s.nextProducerID, Size: ProducerIDBlockSize}
	s.nextProducerID += ProducerIDBlockSize
	return Result{ProducerIDs: blk}, nil
}

// partition returns a partition of a live topic.
func (s *State) partition(id TopicID, index int32) (*Topic, *Partition, error) {
	t := s.topics[id]
	if t == nil {
		return nil, nil, fmt.Errorf("%w: %x", ErrUnknownTopic, id)
	}
	if index < 0 || int(index) >= len(t.Partitions) {
		return nil, nil, fmt.Errorf("%w: %s-%d", ErrUnknownPartition, t.Name, index)
	}
	return t, &t.Partitions[index], nil
}

func (c ChangeISR) apply(s *State) (Result, error) {
	if _, err := s.registration(c.BrokerID, c.BrokerEpoch); err != nil {
		return Result{}, err
	}
	t, p, err := s.partition(c.TopicID, c.Partition)
	if err != nil {
		return Result{}, err
	}
	if p.Leader != c.BrokerID {
		return Result{}, fmt.Errorf("%w: %s-%d is led by %d, not %d", ErrNotLeader, t.Name, c.Partition, p.Leader, c.BrokerID)
	}
	if c.LeaderEpoch != p.LeaderEpoch {
		return Result{}, fmt.Errorf("%w: %s-%d is at leader epoch %d, not %d", ErrFencedLeaderEpoch, t.Name, c.Partition, p.LeaderEpoch, c.LeaderEpoch)
	}
	if c.PartitionEpoch != p.PartitionEpoch {
		return Result{}, fmt.Errorf("%w: %s-%d is at partition epoch %d, not %d", ErrInvalidUpdateVersion, t.Name, c.Partition, p.PartitionEpoch, c.PartitionEpoch)
	}
	leaderIn := false
	for i, m := range c.ISR {
		if !slices.Contains(p.Replicas, m.BrokerID) {
			return Result{}, fmt.Errorf("%w: %d is not a replica of %s-%d", ErrInvalidISR, m.BrokerID, t.Name, c.Partition)
		}
		for _, o := range c.ISR[:i] {
			if o.BrokerID == m.BrokerID {
				return Result{}, fmt.Errorf("%w: %d twice", ErrInvalidISR, m.BrokerID)
			}
		}
		b := s.brokers[m.BrokerID]
		if b.Fenced || (m.BrokerEpoch >= 0 && m.BrokerEpoch != b.Epoch) {
			return Result{}, fmt.Errorf("%w: broker %d (fenced %v, epoch %d, not %d)", ErrIneligibleReplica, m.BrokerID, b.Fenced, b.Epoch, m.BrokerEpoch)
		}
		leaderIn = leaderIn || m.BrokerID == c.BrokerID
	}
	if !leaderIn {
		return Result{}, fmt.Errorf("%w: the leader %d must stay in it", ErrInvalidISR, c.BrokerID)
	}
	isr := make([]int32, 0, len(c.ISR))
	for _, r := range p.Replicas {
		if slices.ContainsFunc(c.ISR, func(m ISRMember) bool { return m.BrokerID == r }) {
			isr = append(isr, r)
		}
	}
	if slices.Equal(isr, p.ISR) {
		return Result{}, nil
	}
	np := *p
	np.ISR = isr
	np.PartitionEpoch++
	s.setPartition(t, c.Partition, np)
	return Result{}, nil
}

func (c ElectLeader) apply(s *State) (Result, error) {
	t, p, err := s.partition(c.TopicID, c.Partition)
	if err != nil {
		return Result{}, err
	}
	np := *p
	switch c.Election {
	case ElectPreferred:
		pref := p.Replicas[0]
		if p.Leader == pref {
			return Result{}, fmt.Errorf("%w: %s-%d is led by its preferred replica", ErrElectionNotNeeded, t.Name, c.Partition)
		}
		if !s.usable(pref) || !slices.Contains(p.ISR, pref) {
			return Result{}, fmt.Errorf("%w: %s-%d: broker %d is fenced or out of ISR %v", ErrPreferredLeaderNotAvailable, t.Name, c.Partition, pref, p.ISR)
		}
		np.Leader = pref
	case ElectUnclean:
		if p.Leader != NoLeader {
			return Result{}, fmt.Errorf("%w: %s-%d has leader %d", ErrElectionNotNeeded, t.Name, c.Partition, p.Leader)
		}
		if !s.UncleanLeaderElection(t) {
			return Result{}, fmt.Errorf("%w: %s-%d: %s is not true", ErrEligibleLeadersNotAvailable, t.Name, c.Partition, ConfigUncleanLeaderElection)
		}
		i := slices.IndexFunc(p.Replicas, s.usable)
		if i < 0 {
			return Result{}, fmt.Errorf("%w: %s-%d: every replica of %v is fenced", ErrEligibleLeadersNotAvailable, t.Name, c.Partition, p.Replicas)
		}
		np.Leader = p.Replicas[i]
		np.ISR = []int32{np.Leader}
	default:
		return Result{}, fmt.Errorf("%w: election type %d", ErrCorrupt, c.Election)
	}
	np.LeaderEpoch++
	np.PartitionEpoch++
	s.setPartition(t, c.Partition, np)
	return Result{}, nil
}
