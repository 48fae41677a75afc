package core

// OffsetDelete, version 0 (KIP-496): removes committed offsets of a group.
// An Empty group loses them; a consumer group with members keeps those of
// topics it subscribes to (GROUP_SUBSCRIBED_TO_TOPIC per partition); other
// groups with members refuse (NON_EMPTY_GROUP). Partitions of topics that
// do not exist are UNKNOWN_TOPIC_OR_PARTITION; an empty group id is
// INVALID_GROUP_ID. Tombstones are written before the answer.

import (
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"sluice/core/group"
)

func handleOffsetDelete(r *request, kreq kmsg.Request) {
	req := kreq.(*kmsg.OffsetDeleteRequest)
	gr := &group.OffsetDeleteRequest{Group: req.Group, Topics: make([]group.DeletePartitions, len(req.Topics))}
	for i, t := range req.Topics {
		tp := r.b.topic(t.Topic)
		dp := group.DeletePartitions{Topic: t.Topic, Partitions: make([]group.PartitionResult, len(t.Partitions))}
		for j, p := range t.Partitions {
			dp.Partitions[j].Partition = p.Partition
			if tp.partition(p.Partition) == nil {
				dp.Partitions[j].Err = kerr.UnknownTopicOrPartition
			}
		}
		gr.Topics[i] = dp
	}
	build := func(resp any) kmsg.Response {
		dr := resp.(*group.OffsetDeleteResponse)
		out := req.ResponseKind().(*kmsg.OffsetDeleteResponse)
		out.ErrorCode = errorCode(dr.Err)
		for _, t := range dr.Topics {
			kt := kmsg.NewOffsetDeleteResponseTopic()
			kt.Topic = t.Topic
			for _, p := range t.Partitions {
				kp := kmsg.NewOffsetDeleteResponseTopicPartition()
				kp.Partition, kp.ErrorCode = p.Partition, errorCode(p.Err)
				kt.Partitions = append(kt.Partitions, kp)
			}
			out.Topics = append(out.Topics, kt)
		}
		return out
	}
	if req.Group == "" {
		r.respond(build(&group.OffsetDeleteResponse{Err: kerr.InvalidGroupID}))
		return
	}
	r.onCoordinator(req.Group, func(gc *groupCoordinator) {
		gc.apply(gc.c.OffsetDelete(nowMs(), r.groupReply(gc, build), gr))
	})
}
