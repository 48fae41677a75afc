package group

import (
	"encoding/binary"
	"errors"
	"fmt"
	"maps"
	"slices"

	"github.com/twmb/franz-go/pkg/kmsg"
)

// ErrCorruptRecord is returned by Replay for a record it cannot read.
var ErrCorruptRecord = errors.New("corrupt __consumer_offsets record")

var errNotLoading = errors.New("group: Replay after Loaded")

// Replay applies one record of the coordinator's __consumer_offsets
// partition, in log order: the last value of a key wins and a tombstone
// (nil value) deletes it. A record it cannot read is reported and changes
// nothing; the caller decides whether to go on. Runs on the owning shard.
func (c *Coordinator) Replay(key, value []byte) error {
	if c.phase != loading {
		return errNotLoading
	}
	if len(key) < 2 {
		return fmt.Errorf("%w: key of %d bytes", ErrCorruptRecord, len(key))
	}
	switch v := int16(binary.BigEndian.Uint16(key)); v {
	case 0, 1:
		return c.replayOffset(key, value)
	case groupKeyVersion:
		return c.replayGroup(key, value)
	default:
		return fmt.Errorf("%w: key version %d", ErrCorruptRecord, v)
	}
}

func (c *Coordinator) replayOffset(key, value []byte) error {
	var k kmsg.OffsetCommitKey
	if err := k.ReadFrom(key); err != nil {
		return fmt.Errorf("%w: offset key: %v", ErrCorruptRecord, err)
	}
	tp := topicPartition{k.Topic, k.Partition}
	g := c.groups[k.Group]
	if value == nil {
		if g != nil {
			delete(g.offsets, tp)
		}
		return nil
	}
	var v kmsg.OffsetCommitValue
	if err := v.ReadFrom(value); err != nil {
		return fmt.Errorf("%w: offset of group %q: %v", ErrCorruptRecord, k.Group, err)
	}
	o := offset{offset: v.Offset, leaderEpoch: -1, metadata: v.Metadata, commitTimestamp: v.CommitTimestamp, expireTimestamp: -1}
	if v.Version >= 3 {
		o.leaderEpoch = v.LeaderEpoch
	}
	if v.Version == 1 {
		o.expireTimestamp = v.ExpireTimestamp
	}
	if g == nil {
		g = c.addGroup(k.Group)
	}
	g.offsets[tp] = o
	return nil
}

func (c *Coordinator) replayGroup(key, value []byte) error {
	var k kmsg.GroupMetadataKey
	if err := k.ReadFrom(key); err != nil {
		return fmt.Errorf("%w: group key: %v", ErrCorruptRecord, err)
	}
	g := c.groups[k.Group]
	if value == nil {
		if g != nil {
			// Offsets written after the tombstone may still come and
			// make it a simple group; Loaded drops it otherwise.
			g.resetMetadata()
		}
		return nil
	}
	var v kmsg.GroupMetadataValue
	if err := v.ReadFrom(value); err != nil {
		return fmt.Errorf("%w: metadata of group %q: %v", ErrCorruptRecord, k.Group, err)
	}
	if err := checkMetadata(&v); err != nil {
		return fmt.Errorf("%w: metadata of group %q: %v", ErrCorruptRecord, k.Group, err)
	}
	if g == nil {
		g = c.addGroup(k.Group)
	}
	g.loadMetadata(&v)
	return nil
}

// checkMetadata refuses a metadata value the coordinator could not have
// written, before anything of it is applied.
func checkMetadata(v *kmsg.GroupMetadataValue) error {
	if len(v.Members) == 0 {
		return nil
	}
	if v.Protocol == nil || *v.Protocol == "" || v.ProtocolType == "" {
		return errors.New("members but no protocol")
	}
	ids, instances := map[string]bool{}, map[string]bool{}
	leader := false
	for _, m := range v.Members {
		if m.MemberID == "" || ids[m.MemberID] {
			return fmt.Errorf("member id %q missing or repeated", m.MemberID)
		}
		ids[m.MemberID] = true
		if m.InstanceID != nil && *m.InstanceID != "" {
			if instances[*m.InstanceID] {
				return fmt.Errorf("instance id %q repeated", *m.InstanceID)
			}
			instances[*m.InstanceID] = true
		}
		leader = leader || (v.Leader != nil && *v.Leader == m.MemberID)
	}
	if !leader {
		return errors.New("leader is not a member")
	}
	return nil
}

func (g *group) resetMetadata() {
	*g = *newGroupWithOffsets(g.id, g.offsets)
}

func newGroupWithOffsets(id string, offsets map[topicPartition]offset) *group {
	n := newGroup(id)
	n.offsets = offsets
	return n
}

// loadMetadata makes g what a metadata record says: Stable with its
// members, or Empty. Members support only the selected protocol, with the
// metadata they joined with; that is all the record keeps.
func (g *group) loadMetadata(v *kmsg.GroupMetadataValue) {
	g.resetMetadata()
	g.metadataLoaded = true
	g.protocolType = v.ProtocolType
	g.generation = v.Generation
	g.stateTimestamp = v.CurrentStateTimestamp
	if v.Version < 2 {
		g.stateTimestamp = -1
	}
	if v.Protocol != nil {
		g.protocol = *v.Protocol
	}
	for _, vm := range v.Members {
		m := &member{
			id:                 vm.MemberID,
			clientID:           vm.ClientID,
			clientHost:         vm.ClientHost,
			sessionTimeoutMs:   vm.SessionTimeoutMillis,
			rebalanceTimeoutMs: vm.RebalanceTimeoutMillis,
			protocols:          []Protocol{{Name: g.protocol, Metadata: append([]byte{}, vm.Subscription...)}},
			// Copied: decoded bytes alias the caller's read buffer.
			assignment: append([]byte{}, vm.Assignment...),
			deadline:   never,
		}
		if v.Version == 0 {
			m.rebalanceTimeoutMs = m.sessionTimeoutMs
		}
		if vm.InstanceID != nil {
			m.instanceID = *vm.InstanceID
		}
		g.add(m, v.ProtocolType)
	}
	if len(g.members) > 0 {
		g.leader = *v.Leader
		g.state = Stable
	}
}

// Loaded ends the replay and starts serving: groups with neither metadata
// nor offsets left are forgotten, and every member of a loaded group gets
// a session deadline from now, so that members still alive carry on with
// their generation and assignment. A group loaded with more members than
// group.max.size rebalances, as in Kafka. Runs on the owning shard.
func (c *Coordinator) Loaded(now int64) Output {
	if c.phase != loading {
		return Output{}
	}
	c.phase = active
	for _, id := range slices.Sorted(maps.Keys(c.groups)) {
		g := c.groups[id]
		if !g.metadataLoaded && len(g.offsets) == 0 {
			delete(c.groups, id)
			continue
		}
		g.computeSubscribed()
		for _, m := range g.members {
			heartbeat(now, m)
		}
		if len(g.members) > c.cfg.MaxSize {
			c.prepareRebalance(now, g)
		}
		c.reschedule(g)
	}
	c.sweepAt = now + c.cfg.OffsetsRetentionCheckIntervalMs
	c.checkInvariants()
	return c.flush()
}
