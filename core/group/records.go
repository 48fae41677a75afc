package group

import (
	"github.com/twmb/franz-go/pkg/kmsg"
)

// The versions written are those Kafka has written since 2.3 (KIP-345),
// which every tool reading __consumer_offsets understands. Key versions
// double as record types: 0 and 1 are offset commits, 2 group metadata.
const (
	offsetKeyVersion   = 1
	offsetValueVersion = 3
	groupKeyVersion    = 2
	groupValueVersion  = 3
)

func offsetKey(group string, tp topicPartition) []byte {
	k := kmsg.OffsetCommitKey{Version: offsetKeyVersion, Group: group, Topic: tp.topic, Partition: tp.partition}
	return k.AppendTo(nil)
}

func offsetValue(o offset) []byte {
	v := kmsg.NewOffsetCommitValue()
	v.Version = offsetValueVersion
	v.Offset = o.offset
	v.LeaderEpoch = o.leaderEpoch
	v.Metadata = o.metadata
	v.CommitTimestamp = o.commitTimestamp
	return v.AppendTo(nil)
}

func groupKey(group string) []byte {
	k := kmsg.GroupMetadataKey{Version: groupKeyVersion, Group: group}
	return k.AppendTo(nil)
}

// groupValue is the group as a completed rebalance (or an Empty group)
// leaves it: each member with its metadata for the selected protocol
// and its assignment.
func groupValue(g *group) []byte {
	v := kmsg.NewGroupMetadataValue()
	v.Version = groupValueVersion
	v.ProtocolType = g.protocolType
	v.Generation = g.generation
	v.Protocol = strPtr(g.protocol)
	v.Leader = strPtr(g.leader)
	v.CurrentStateTimestamp = g.stateTimestamp
	v.Members = make([]kmsg.GroupMetadataValueMember, len(g.members))
	for i, m := range g.members {
		v.Members[i] = kmsg.GroupMetadataValueMember{
			MemberID:               m.id,
			InstanceID:             m.instance(),
			ClientID:               m.clientID,
			ClientHost:             m.clientHost,
			RebalanceTimeoutMillis: m.rebalanceTimeoutMs,
			SessionTimeoutMillis:   m.sessionTimeoutMs,
			Subscription:           m.metadata(g.protocol),
			Assignment:             m.assignment,
		}
	}
	return v.AppendTo(nil)
}

// storeGroup persists g's metadata.
func (c *Coordinator) storeGroup(g *group) {
	c.record(groupKey(g.id), groupValue(g))
}
