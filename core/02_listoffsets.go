package core

// ListOffsets, versions 1-11. Timestamp -2 is the log start, -1 the high
// watermark (the last stable offset: the same until transactions exist),
// -3 (v7+, KIP-734) the record with the largest timestamp, -4 (v8+) the
// local log start (there is no tiered storage, so the log start), -5 and
// -6 (v9+, v11+: tiered storage) the unknown offset -1 as Kafka answers
// without tiered storage, and anything else the first offset whose record
// timestamp is at least it (within a compressed batch, the batch's first
// offset). Differences from Kafka: a lookup by timestamp answers with the
// requested timestamp rather than the found record's. v10's TimeoutMillis
// is for remote-storage lookups and has nothing to wait for here.
// CurrentLeaderEpoch (v4+) is checked as in Kafka: see checkLeaderEpoch.

import (
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

func handleListOffsets(r *request, kreq kmsg.Request) {
	req := kreq.(*kmsg.ListOffsetsRequest)
	resp := req.ResponseKind().(*kmsg.ListOffsetsResponse)
	resp.Topics = make([]kmsg.ListOffsetsResponseTopic, len(req.Topics))
	fo := r.fanOut(func() { r.respond(resp) })
	for i, t := range req.Topics {
		rt := &resp.Topics[i]
		*rt = kmsg.NewListOffsetsResponseTopic()
		rt.Topic = t.Topic
		rt.Partitions = make([]kmsg.ListOffsetsResponseTopicPartition, len(t.Partitions))
		tp := r.b.topic(t.Topic)
		for j, p := range t.Partitions {
			rp := &rt.Partitions[j]
			*rp = kmsg.NewListOffsetsResponseTopicPartition()
			rp.Partition = p.Partition
			part, ts := tp.partition(p.Partition), p.Timestamp
			if part == nil {
				rp.ErrorCode = errUnknownTopicOrPartition
				continue
			}
			if req.Version >= 4 {
				if rp.ErrorCode = checkLeaderEpoch(p.CurrentLeaderEpoch); rp.ErrorCode != 0 {
					continue
				}
			}
			fo.run(part, func() func() {
				offset, stamp, code := part.offsetFor(ts)
				return func() {
					rp.Offset, rp.Timestamp, rp.ErrorCode = offset, stamp, code
					if offset >= 0 {
						rp.LeaderEpoch = leaderEpoch
					}
				}
			})
		}
	}
	fo.wait()
}

// offsetFor resolves a ListOffsets timestamp. Runs on the owning shard.
func (p *partition) offsetFor(ts int64) (offset, stamp int64, code int16) {
	switch ts {
	case -2, -4:
		return p.log.LogStartOffset(), -1, 0
	case -1:
		return p.highWatermark(), -1, 0
	case -3:
		off, maxTs, ok, err := p.log.MaxTimestamp()
		if err != nil {
			return -1, -1, errorCode(err)
		}
		if !ok || off >= p.highWatermark() {
			return -1, -1, 0
		}
		return off, maxTs, 0
	case -5, -6:
		return -1, -1, 0
	}
	if ts < 0 {
		return -1, -1, kerr.InvalidRequest.Code
	}
	off, ok, err := p.log.OffsetForTimestamp(ts)
	if err != nil {
		return -1, -1, errorCode(err)
	}
	if !ok || off >= p.highWatermark() {
		return -1, -1, 0 // Kafka answers offset -1 when no record is that new
	}
	return off, ts, 0
}
