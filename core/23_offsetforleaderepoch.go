package core

// OffsetForLeaderEpoch, versions 0-4. This node has led every partition
// since its creation, in leaderEpoch: asking for that epoch gets it with the
// log end offset, a newer or undefined (-1) one gets -1/-1 with no error, and
// an older one (only a negative epoch is older) gets the requested epoch with
// the log start offset, as Kafka answers for an epoch before its earliest.
// CurrentLeaderEpoch (v2+) is checked as in Kafka (KIP-320): -1 skips the
// check, an older epoch is FENCED_LEADER_EPOCH, a newer one
// UNKNOWN_LEADER_EPOCH. ReplicaID (v3+) changes nothing: there are no
// followers.

import (
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// leaderEpoch is every partition's leader epoch. Produce stamps it into
// every batch (partition.produce appends with epoch 0) and Metadata
// reports it (03_metadata.go); the three must agree.
const leaderEpoch int32 = 0

func handleOffsetForLeaderEpoch(r *request, kreq kmsg.Request) {
	req := kreq.(*kmsg.OffsetForLeaderEpochRequest)
	resp := req.ResponseKind().(*kmsg.OffsetForLeaderEpochResponse)
	resp.Topics = make([]kmsg.OffsetForLeaderEpochResponseTopic, len(req.Topics))
	fo := r.fanOut(func() { r.respond(resp) })
	for i, t := range req.Topics {
		rt := &resp.Topics[i]
		*rt = kmsg.NewOffsetForLeaderEpochResponseTopic()
		rt.Topic = t.Topic
		rt.Partitions = make([]kmsg.OffsetForLeaderEpochResponseTopicPartition, len(t.Partitions))
		tp := r.b.topic(t.Topic)
		for j, p := range t.Partitions {
			rp := &rt.Partitions[j]
			*rp = kmsg.NewOffsetForLeaderEpochResponseTopicPartition()
			rp.Partition, rp.LeaderEpoch, rp.EndOffset = p.Partition, -1, -1
			part, epoch := tp.partition(p.Partition), p.LeaderEpoch
			if part == nil {
				rp.ErrorCode = errUnknownTopicOrPartition
				continue
			}
			if req.Version >= 2 {
				if rp.ErrorCode = checkLeaderEpoch(p.CurrentLeaderEpoch); rp.ErrorCode != 0 {
					continue
				}
			}
			fo.run(part, func() func() {
				e, end := part.endOffsetForEpoch(epoch)
				return func() { rp.LeaderEpoch, rp.EndOffset = e, end }
			})
		}
	}
	fo.wait()
}

// endOffsetForEpoch is Kafka's LeaderEpochFileCache.endOffsetFor for a log
// written in leaderEpoch alone, starting at the log start offset. Runs on
// the owning shard.
func (p *partition) endOffsetForEpoch(epoch int32) (int32, int64) {
	switch {
	case epoch == leaderEpoch:
		return leaderEpoch, p.log.LogEndOffset()
	case epoch == -1 || epoch > leaderEpoch:
		return -1, -1
	default:
		return epoch, p.log.LogStartOffset()
	}
}

// checkLeaderEpoch checks a client's CurrentLeaderEpoch (KIP-320) as
// Partition.checkCurrentLeaderEpoch does in Kafka: -1 means no check.
func checkLeaderEpoch(current int32) int16 {
	switch {
	case current == -1 || current == leaderEpoch:
		return 0
	case current < leaderEpoch:
		return kerr.FencedLeaderEpoch.Code
	default:
		return kerr.UnknownLeaderEpoch.Code
	}
}
