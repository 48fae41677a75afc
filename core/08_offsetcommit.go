package core

// OffsetCommit, versions 2-10. A commit is validated by the group's
// coordinator (generation and member, or generation -1 and no member for
// a group without members), written to __consumer_offsets through the
// produce path, and acknowledged once written (see groups.go for what
// "written" promises). Partitions of topics that do not exist are refused
// with UNKNOWN_TOPIC_OR_PARTITION (v10 names topics by ID: an unknown ID is
// UNKNOWN_TOPIC_ID) and the rest committed, as Kafka does; an empty group
// id is INVALID_GROUP_ID. v6+ carry each partition's leader epoch, v7+
// group.instance.id.
//
// Versions 0 and 1 are not served, as Kafka 4 no longer serves them
// (KIP-896): v0 committed to ZooKeeper. Differences from Apache Kafka: the
// retention time of v2-v4 is ignored (offsets expire by
// offsets.retention.minutes, KIP-211's rule), and a commit is visible to
// OffsetFetch without RequireStable before it is written.

import (
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"sluice/core/group"
)

func handleOffsetCommit(r *request, kreq kmsg.Request) {
	req := kreq.(*kmsg.OffsetCommitRequest)
	gr := &group.OffsetCommitRequest{
		Version:    req.Version,
		Group:      req.Group,
		Generation: req.Generation,
		MemberID:   req.MemberID,
		InstanceID: req.InstanceID,
		Topics:     make([]group.CommitTopic, len(req.Topics)),
	}
	ids := make([][16]byte, len(req.Topics))
	for i, t := range req.Topics {
		name, tp, missing := t.Topic, (*topic)(nil), error(kerr.UnknownTopicOrPartition)
		if req.Version >= 10 {
			ids[i] = t.TopicID
			if tp = r.b.topicByID(t.TopicID); tp != nil {
				name = tp.name
			} else {
				missing = kerr.UnknownTopicID
			}
		} else {
			tp = r.b.topic(name)
		}
		ct := group.CommitTopic{Topic: name, Partitions: make([]group.CommitPartition, len(t.Partitions))}
		for j, p := range t.Partitions {
			cp := group.CommitPartition{Partition: p.Partition, Offset: p.Offset, LeaderEpoch: p.LeaderEpoch}
			if p.Metadata != nil {
				cp.Metadata = *p.Metadata
			}
			switch {
			case req.Group == "":
				cp.Err = kerr.InvalidGroupID
			case tp.partition(p.Partition) == nil:
				cp.Err = missing
			}
			ct.Partitions[j] = cp
		}
		gr.Topics[i] = ct
	}
	build := func(resp any) kmsg.Response {
		cr := resp.(*group.OffsetCommitResponse)
		out := req.ResponseKind().(*kmsg.OffsetCommitResponse)
		out.Topics = make([]kmsg.OffsetCommitResponseTopic, len(cr.Topics))
		for i, t := range cr.Topics {
			kt := kmsg.NewOffsetCommitResponseTopic()
			kt.Topic, kt.TopicID = req.Topics[i].Topic, ids[i]
			kt.Partitions = make([]kmsg.OffsetCommitResponseTopicPartition, len(t.Partitions))
			for j, p := range t.Partitions {
				kp := kmsg.NewOffsetCommitResponseTopicPartition()
				kp.Partition, kp.ErrorCode = p.Partition, errorCode(p.Err)
				kt.Partitions[j] = kp
			}
			out.Topics[i] = kt
		}
		return out
	}
	if req.Group == "" {
		// Every partition carries the error: answer without a coordinator.
		r.respond(build(&group.OffsetCommitResponse{Topics: commitErrors(gr.Topics)}))
		return
	}
	r.onCoordinator(req.Group, func(gc *groupCoordinator) {
		gc.apply(gc.c.OffsetCommit(nowMs(), r.groupReply(gc, build), gr))
	})
}

// commitErrors is the response of a commit refused before the coordinator.
func commitErrors(topics []group.CommitTopic) []group.TopicResult {
	out := make([]group.TopicResult, len(topics))
	for i, t := range topics {
		out[i] = group.TopicResult{Topic: t.Topic, Partitions: make([]group.PartitionResult, len(t.Partitions))}
		for j, p := range t.Partitions {
			out[i].Partitions[j] = group.PartitionResult{Partition: p.Partition, Err: p.Err}
		}
	}
	return out
}
