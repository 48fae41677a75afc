package meta

import "fmt"

// AssignReplicas proposes replicas for partitions [first, first+count) of a
// topic: the unfenced brokers in id order, round robin, so that preferred
// leaders (the first replica) spread evenly and each partition's followers
// are the brokers after its leader. start offsets the rotation; the active
// controller picks it (at random, as Kafka does) so that many small topics
// do not all lead on the lowest broker id. The result is meant for
// CreateTopic or CreatePartitions.
func (s *State) AssignReplicas(first, count int32, replicationFactor int, start int) ([][]int32, error) {
	var live []int32
	for _, b := range s.Brokers() {
		if !b.Fenced {
			live = append(live, b.ID)
		}
	}
	if replicationFactor < 1 || replicationFactor > len(live) || replicationFactor > MaxReplicas {
		return nil, fmt.Errorf("%w: replication factor %d with %d unfenced brokers", ErrInvalidReplicationFactor, replicationFactor, len(live))
	}
	if count < 1 || first < 0 || int(first)+int(count) > MaxPartitions {
		return nil, fmt.Errorf("%w: %d partitions from %d", ErrInvalidPartitions, count, first)
	}
	start = ((start % len(live)) + len(live)) % len(live)
	out := make([][]int32, count)
	for i := range out {
		rs := make([]int32, replicationFactor)
		for j := range rs {
			rs[j] = live[(start+int(first)+i+j)%len(live)]
		}
		out[i] = rs
	}
	return out, nil
}
