package group

import (
	"cmp"
	"maps"
	"slices"

	"github.com/twmb/franz-go/pkg/kerr"
)

// OffsetCommit handles an OffsetCommit. The commit is applied at once and
// its records are in the Output; the response goes with them, to be sent
// once they are written. Runs on the owning shard.
func (c *Coordinator) OffsetCommit(now int64, h Handle, req *OffsetCommitRequest) Output {
	resp := &OffsetCommitResponse{Topics: make([]TopicResult, len(req.Topics))}
	for i, t := range req.Topics {
		resp.Topics[i] = TopicResult{Topic: t.Topic, Partitions: make([]PartitionResult, len(t.Partitions))}
		for j, p := range t.Partitions {
			resp.Topics[i].Partitions[j] = PartitionResult{Partition: p.Partition, Err: p.Err}
		}
	}
	defer c.checkInvariants()
	if err := c.phaseErr(); err != nil {
		c.reply(h, &OffsetCommitResponse{Topics: failTopics(resp.Topics, err)})
		return c.flush()
	}
	g := c.groups[req.Group]
	if g == nil {
		if req.Generation >= 0 {
			// A generation for a group that does not exist is stale.
			err := error(kerr.IllegalGeneration)
			if req.Version >= 9 {
				err = kerr.GroupIDNotFound
			}
			c.reply(h, &OffsetCommitResponse{Topics: failTopics(resp.Topics, err)})
			return c.flush()
		}
		// A commit from outside group management creates a simple
		// group: offsets, no members.
		g = c.addGroup(req.Group)
	}
	if err := validateCommit(g, req); err != nil {
		resp.Topics = failTopics(resp.Topics, err)
	} else {
		// A commit counts as a heartbeat.
		if m := g.byID[req.MemberID]; m != nil && (g.state == Stable || g.state == PreparingRebalance) {
			heartbeat(now, m)
		}
		for i, t := range req.Topics {
			for j, p := range t.Partitions {
				r := &resp.Topics[i].Partitions[j]
				switch {
				case r.Err != nil:
				case len(p.Metadata) > c.cfg.MaxMetadataBytes:
					r.Err = kerr.OffsetMetadataTooLarge
				default:
					tp := topicPartition{t.Topic, p.Partition}
					o := offset{offset: p.Offset, leaderEpoch: p.LeaderEpoch, metadata: p.Metadata, commitTimestamp: now, expireTimestamp: -1}
					g.offsets[tp] = o
					c.record(offsetKey(g.id, tp), offsetValue(o))
				}
			}
		}
	}
	if g.state == Empty {
		c.dropIfUnused(g)
	}
	c.reschedule(g)
	c.reply(h, resp)
	return c.flush()
}

// validateCommit is Kafka's ClassicGroup.validateOffsetCommit: a commit
// with generation -1 is accepted while the group is Empty; one naming a
// member must come from a current member of the current generation; an
// anonymous one is refused while the group has members; and none is taken
// between the join phase and the assignment.
func validateCommit(g *group, req *OffsetCommitRequest) error {
	if req.Generation < 0 && g.state == Empty {
		return nil
	}
	if req.Generation >= 0 || req.MemberID != "" || (req.InstanceID != nil && *req.InstanceID != "") {
		if err := g.validateMember(req.MemberID, req.InstanceID); err != nil {
			return err
		}
		if req.Generation != g.generation {
			return kerr.IllegalGeneration
		}
	} else if g.state != Empty {
		return kerr.UnknownMemberID
	}
	if g.state == CompletingRebalance {
		return kerr.RebalanceInProgress
	}
	return nil
}

// OffsetFetch is one group of an OffsetFetch. Offsets are answered
// whatever the group's state, since a group may use Kafka only to store
// offsets; a partition (or group) with none gets offset -1.
func (c *Coordinator) OffsetFetch(req *OffsetFetchRequest) OffsetFetchResponse {
	if err := c.phaseErr(); err != nil {
		return OffsetFetchResponse{Err: err}
	}
	g := c.groups[req.Group]
	var resp OffsetFetchResponse
	if req.Topics == nil {
		if g == nil {
			return resp
		}
		for _, tp := range g.sortedOffsets() {
			if n := len(resp.Topics); n == 0 || resp.Topics[n-1].Topic != tp.topic {
				resp.Topics = append(resp.Topics, FetchedTopic{Topic: tp.topic})
			}
			t := &resp.Topics[len(resp.Topics)-1]
			t.Partitions = append(t.Partitions, fetched(tp.partition, g.offsets[tp], true))
		}
		return resp
	}
	resp.Topics = make([]FetchedTopic, len(req.Topics))
	for i, t := range req.Topics {
		resp.Topics[i] = FetchedTopic{Topic: t.Topic, Partitions: make([]FetchedPartition, len(t.Partitions))}
		for j, p := range t.Partitions {
			var o offset
			ok := false
			if g != nil {
				o, ok = g.offsets[topicPartition{t.Topic, p}]
			}
			resp.Topics[i].Partitions[j] = fetched(p, o, ok)
		}
	}
	return resp
}

func fetched(partition int32, o offset, ok bool) FetchedPartition {
	if !ok {
		return FetchedPartition{Partition: partition, Offset: -1, LeaderEpoch: -1}
	}
	return FetchedPartition{Partition: partition, Offset: o.offset, LeaderEpoch: o.leaderEpoch, Metadata: o.metadata}
}

func (g *group) sortedOffsets() []topicPartition {
	return slices.SortedFunc(maps.Keys(g.offsets), func(a, b topicPartition) int {
		return cmp.Or(cmp.Compare(a.topic, b.topic), cmp.Compare(a.partition, b.partition))
	})
}

// OffsetDelete handles an OffsetDelete: offsets of an Empty group go; a
// consumer group with members keeps those of topics it subscribes to
// (GROUP_SUBSCRIBED_TO_TOPIC); other groups with members refuse
// (NON_EMPTY_GROUP). Runs on the owning shard.
func (c *Coordinator) OffsetDelete(now int64, h Handle, req *OffsetDeleteRequest) Output {
	defer c.checkInvariants()
	if err := c.phaseErr(); err != nil {
		c.reply(h, &OffsetDeleteResponse{Err: err})
		return c.flush()
	}
	g := c.groups[req.Group]
	switch {
	case g == nil:
		c.reply(h, &OffsetDeleteResponse{Err: kerr.GroupIDNotFound})
		return c.flush()
	case g.state != Empty && g.protocolType != consumerProtocolType:
		c.reply(h, &OffsetDeleteResponse{Err: kerr.NonEmptyGroup})
		return c.flush()
	}
	resp := &OffsetDeleteResponse{Topics: make([]TopicResult, len(req.Topics))}
	eligible := false
	for i, t := range req.Topics {
		resp.Topics[i] = TopicResult{Topic: t.Topic, Partitions: make([]PartitionResult, len(t.Partitions))}
		for j, p := range t.Partitions {
			r := &resp.Topics[i].Partitions[j]
			*r = p
			switch {
			case r.Err != nil:
			case g.state != Empty && g.isSubscribedTo(t.Topic):
				r.Err = kerr.GroupSubscribedToTopic
			default:
				eligible = true
				tp := topicPartition{t.Topic, p.Partition}
				if _, ok := g.offsets[tp]; ok {
					delete(g.offsets, tp)
					c.record(offsetKey(g.id, tp), nil)
				}
			}
		}
	}
	if eligible {
		c.dropIfDead(g)
	}
	c.reply(h, resp)
	return c.flush()
}

// DeleteGroup is one group of a DeleteGroups: only an Empty group can go,
// with its offsets. Runs on the owning shard.
func (c *Coordinator) DeleteGroup(now int64, h Handle, groupID string) Output {
	defer c.checkInvariants()
	resp := &DeleteGroupResponse{Group: groupID}
	g := c.groups[groupID]
	switch {
	case c.phaseErr() != nil:
		resp.Err = c.phaseErr()
	case g == nil:
		resp.Err = kerr.GroupIDNotFound
	case g.state != Empty:
		resp.Err = kerr.NonEmptyGroup
	default:
		for _, tp := range g.sortedOffsets() {
			c.record(offsetKey(g.id, tp), nil)
		}
		clear(g.offsets)
		c.record(groupKey(g.id), nil)
		c.dropGroup(g)
	}
	c.reply(h, resp)
	return c.flush()
}

// dropIfDead removes an Empty group that has no offsets left, with a
// tombstone for its metadata, as Kafka's cleanupGroupMetadata does after
// offsets are deleted or expire. A group still expecting a member id back
// from MEMBER_ID_REQUIRED is kept (Kafka drops it, and the member's
// rejoin then fails with UNKNOWN_MEMBER_ID).
func (c *Coordinator) dropIfDead(g *group) {
	if g.state == Empty && len(g.offsets) == 0 && len(g.pending) == 0 {
		c.record(groupKey(g.id), nil)
		c.dropGroup(g)
	}
}

// expireOffsets removes offsets past offsets.retention.minutes, and the
// groups left Empty with none.
func (c *Coordinator) expireOffsets(now int64) {
	for _, id := range slices.Sorted(maps.Keys(c.groups)) {
		g := c.groups[id]
		for _, tp := range g.sortedOffsets() {
			if g.expired(now, c.cfg.OffsetsRetentionMs, tp) {
				delete(g.offsets, tp)
				c.record(offsetKey(g.id, tp), nil)
			}
		}
		c.dropIfDead(g)
	}
}

// expired is Kafka's rule (KIP-211): offsets of a group with members do
// not expire, except, in a Stable consumer group, those of topics no
// member subscribes to any more. The retention of an Empty group's offsets
// counts from when it became Empty; of a simple group's (or one whose
// state time is unknown), from the commit.
func (g *group) expired(now, retentionMs int64, tp topicPartition) bool {
	o := g.offsets[tp]
	var base int64
	switch {
	case g.protocolType == "":
		base = o.commitTimestamp
	case g.state == Empty:
		base = o.commitTimestamp
		if g.stateTimestamp >= 0 {
			base = g.stateTimestamp
		}
	case g.state == Stable && g.protocolType == consumerProtocolType && g.subscribedOK && !g.subscribed[tp.topic]:
		base = o.commitTimestamp
	default:
		return false
	}
	if o.expireTimestamp >= 0 {
		return now >= o.expireTimestamp
	}
	return now-base >= retentionMs
}

// TopicsDeleted removes every group's offsets of deleted topics, as
// Kafka's handleDeletedPartitions does, so that a topic created again
// under the same name is not read from stale positions. Groups left Empty
// with no offsets go too. Runs on the owning shard.
func (c *Coordinator) TopicsDeleted(now int64, topics []string) Output {
	if c.phase != active || len(topics) == 0 {
		return Output{}
	}
	gone := make(map[string]bool, len(topics))
	for _, t := range topics {
		gone[t] = true
	}
	for _, id := range slices.Sorted(maps.Keys(c.groups)) {
		g := c.groups[id]
		removed := false
		for _, tp := range g.sortedOffsets() {
			if gone[tp.topic] {
				delete(g.offsets, tp)
				c.record(offsetKey(g.id, tp), nil)
				removed = true
			}
		}
		if removed {
			c.dropIfDead(g)
		}
	}
	c.checkInvariants()
	return c.flush()
}
