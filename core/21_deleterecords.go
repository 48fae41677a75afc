package core

// DeleteRecords, versions 0-2. Moves each partition's log start offset
// (low watermark) up to Offset, -1 meaning the high watermark, and answers
// the new low watermark; an offset below the current start changes nothing.
// Reads below the new start are OFFSET_OUT_OF_RANGE, and whole segments
// below it are deleted. A negative offset other than -1, or one past the
// high watermark, is OFFSET_OUT_OF_RANGE. As in Kafka, the new start is
// checkpointed in the background: a crash right after the response can
// bring the records back. __consumer_offsets is refused with
// INVALID_TOPIC_EXCEPTION, as Redpanda refuses its protected topics: the
// group coordinators rebuild their state from its whole log.

import (
	"github.com/twmb/franz-go/pkg/kmsg"
)

func handleDeleteRecords(r *request, kreq kmsg.Request) {
	req := kreq.(*kmsg.DeleteRecordsRequest)
	resp := req.ResponseKind().(*kmsg.DeleteRecordsResponse)
	resp.Topics = make([]kmsg.DeleteRecordsResponseTopic, len(req.Topics))
	fo := r.fanOut(func() { r.respond(resp) })
	for i, t := range req.Topics {
		rt := &resp.Topics[i]
		*rt = kmsg.NewDeleteRecordsResponseTopic()
		rt.Topic = t.Topic
		rt.Partitions = make([]kmsg.DeleteRecordsResponseTopicPartition, len(t.Partitions))
		tp := r.b.topic(t.Topic)
		for j, p := range t.Partitions {
			rp := &rt.Partitions[j]
			*rp = kmsg.NewDeleteRecordsResponseTopicPartition()
			rp.Partition, rp.LowWatermark = p.Partition, -1
			part, offset := tp.partition(p.Partition), p.Offset
			if part == nil {
				rp.ErrorCode = errUnknownTopicOrPartition
				continue
			}
			if tp.isInternal() {
				rp.ErrorCode = errInvalidTopic
				continue
			}
			fo.run(part, func() func() {
				low, code := part.deleteRecordsBefore(offset)
				return func() { rp.LowWatermark, rp.ErrorCode = low, code }
			})
		}
	}
	fo.wait()
}

// deleteRecordsBefore advances the log start to offset (-1: the high
// watermark) and returns the log start after it. Runs on the owning shard.
func (p *partition) deleteRecordsBefore(offset int64) (low int64, code int16) {
	hw := p.highWatermark()
	if offset == -1 {
		offset = hw
	}
	if offset < 0 || offset > hw {
		return -1, errOffsetOutOfRange
	}
	if err := p.log.AdvanceLogStart(offset); err != nil {
		return -1, errorCode(err)
	}
	return p.log.LogStartOffset(), 0
}
