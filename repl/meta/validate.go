package meta

import (
	"fmt"
	"slices"
	"strconv"
)

// Bounds on what a command may carry. They keep one command, and so one
// raft entry, small, and bound what a decoder allocates.
const (
	// MaxPartitions per topic, as the broker's CreatePartitions allows.
	MaxPartitions       = 10000
	MaxReplicas         = 64 // per partition
	MaxListeners        = 16
	MaxConfigs          = 256 // per topic, or cluster-wide
	maxNameLen          = 249 // Kafka's topic name limit
	maxShortString      = 255 // listener names, hosts, racks, config keys
	maxConfigValueBytes = 32 << 10
	maxClusterIDLen     = 64
)

// Topic configs whose meaning this package knows. Others are stored as
// given: the broker validates them before it proposes a command.
const (
	ConfigUncleanLeaderElection = "unclean.leader.election.enable"
	ConfigMinInsyncReplicas     = "min.insync.replicas"
)

// validTopicName applies Kafka's rules: 1-249 characters of [a-zA-Z0-9._-],
// not "." or "..".
func validTopicName(name string) error {
	if name == "" || name == "." || name == ".." || len(name) > maxNameLen {
		return fmt.Errorf("%w: name %q", ErrInvalidTopic, name)
	}
	for _, c := range []byte(name) {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '.' || c == '_' || c == '-') {
			return fmt.Errorf("%w: character %q in name", ErrInvalidTopic, c)
		}
	}
	return nil
}

func validClusterID(id string) error {
	if id == "" || len(id) > maxClusterIDLen {
		return fmt.Errorf("%w: %q", ErrInvalidClusterID, id)
	}
	for _, c := range []byte(id) {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '-') {
			return fmt.Errorf("%w: %q", ErrInvalidClusterID, id)
		}
	}
	return nil
}

func validListeners(ls []Listener, rack string) error {
	if len(ls) == 0 || len(ls) > MaxListeners {
		return fmt.Errorf("%w: %d listeners", ErrInvalidRegistration, len(ls))
	}
	if len(rack) > maxShortString {
		return fmt.Errorf("%w: rack of %d bytes", ErrInvalidRegistration, len(rack))
	}
	for i, l := range ls {
		if l.Name == "" || len(l.Name) > maxShortString || l.Host == "" || len(l.Host) > maxShortString || l.Port == 0 {
			return fmt.Errorf("%w: listener %q %q:%d", ErrInvalidRegistration, l.Name, l.Host, l.Port)
		}
		for _, o := range ls[:i] {
			if o.Name == l.Name {
				return fmt.Errorf("%w: two listeners named %q", ErrInvalidRegistration, l.Name)
			}
		}
	}
	return nil
}

func validConfigs(m map[string]string) error {
	if len(m) > MaxConfigs {
		return fmt.Errorf("%w: %d configs", ErrInvalidConfig, len(m))
	}
	for k, v := range m {
		if err := validConfig(k, v); err != nil {
			return err
		}
	}
	return nil
}

func validConfigKey(k string) error {
	if k == "" || len(k) > maxShortString {
		return fmt.Errorf("%w: key %q", ErrInvalidConfig, k)
	}
	for _, c := range []byte(k) {
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '.' || c == '_' || c == '-') {
			return fmt.Errorf("%w: key %q", ErrInvalidConfig, k)
		}
	}
	return nil
}

func validConfig(k, v string) error {
	if err := validConfigKey(k); err != nil {
		return err
	}
	if len(v) > maxConfigValueBytes {
		return fmt.Errorf("%w: %s has %d bytes", ErrInvalidConfig, k, len(v))
	}
	switch k {
	case ConfigUncleanLeaderElection:
		if v != "true" && v != "false" {
			return fmt.Errorf("%w: %s=%q", ErrInvalidConfig, k, v)
		}
	case ConfigMinInsyncReplicas:
		if n, err := strconv.ParseInt(v, 10, 32); err != nil || n < 1 {
			return fmt.Errorf("%w: %s=%q", ErrInvalidConfig, k, v)
		}
	}
	return nil
}

// validReplicas checks one partition's replica list: not empty, no broker
// twice, every broker registered.
func (s *State) validReplicas(rs []int32) error {
	if len(rs) == 0 || len(rs) > MaxReplicas || hasDuplicates(rs) {
		return fmt.Errorf("%w: replicas %v", ErrInvalidReplicaAssignment, rs)
	}
	for _, r := range rs {
		if s.brokers[r] == nil {
			return fmt.Errorf("%w: broker %d in %v is not registered", ErrInvalidReplicaAssignment, r, rs)
		}
	}
	return nil
}

// newPartitions checks an assignment for new partitions (all with rf
// replicas; rf 0 takes the first's) and returns them with their first leader
// and ISR: every unfenced replica, led by the first of them.
func (s *State) newPartitions(assignment [][]int32, rf int) ([]Partition, error) {
	if len(assignment) == 0 {
		return nil, fmt.Errorf("%w: no partitions", ErrInvalidPartitions)
	}
	if rf == 0 {
		rf = len(assignment[0])
	}
	out := make([]Partition, len(assignment))
	for i, rs := range assignment {
		if len(rs) != rf {
			return nil, fmt.Errorf("%w: partition %d has %d replicas, not %d like the others", ErrInvalidReplicaAssignment, i, len(rs), rf)
		}
		if err := s.validReplicas(rs); err != nil {
			return nil, err
		}
		isr := slices.DeleteFunc(slices.Clone(rs), func(r int32) bool { return !s.usable(r) })
		if len(isr) == 0 {
			return nil, fmt.Errorf("%w: every replica of %v is fenced", ErrInvalidReplicationFactor, rs)
		}
		out[i] = Partition{Replicas: slices.Clone(rs), ISR: isr, Leader: isr[0]}
	}
	return out, nil
}
