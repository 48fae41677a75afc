package core

// ListOffsets, versions 1-6. Timestamp -2 is the log start, -1 the high
// watermark (the last stable offset: the same until transactions exist),
// anything else the first offset whose record timestamp is at least it
// (within a compressed batch, the batch's first offset). v7+ (max
// timestamp, -3) is not served yet.

import (
	"github.com/twmb/franz-go/pkg/kmsg"
)

func handleListOffsets(r *request, kreq kmsg.Request) {
	req := kreq.(*kmsg.ListOffsetsRequest)
	resp := req.ResponseKind().(*kmsg.ListOffsetsResponse)
	resp.Topics = make([]kmsg.ListOffsetsResponseTopic, len(req.Topics))
	home := r.c.Loop()
	pending := 1
	finish := func() {
		if pending--; pending == 0 {
			r.respond(resp)
		}
	}
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
			pending++
			part.loop.Post(func() {
				offset, stamp, code := part.offsetFor(ts)
				home.Post(func() {
					rp.Offset, rp.Timestamp, rp.ErrorCode = offset, stamp, code
					rp.OldStyleOffsets = []int64{offset}
					finish()
				})
			})
		}
	}
	finish()
}

// offsetFor resolves a ListOffsets timestamp. Runs on the owning shard.
func (p *partition) offsetFor(ts int64) (offset, stamp int64, code int16) {
	switch ts {
	case -2:
		return p.log.LogStartOffset(), -1, 0
	case -1:
		return p.highWatermark(), -1, 0
	}
	if ts < 0 {
		return -1, -1, errUnsupportedVersion
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
