package core

// Produce, versions 3-13 (record batch v2 only), and 0-2 advertised but
// refused: v0-2 carry message formats v0/v1, which Sluice does not store,
// yet librdkafka turns compression off against a broker whose Produce range
// does not start at 0 (KAFKA-18659), so ApiVersions says 0 as Apache Kafka
// 4 does and a v0-2 request closes the connection. v13 names topics by ID
// (an unknown ID is UNKNOWN_TOPIC_ID; no auto-creation by ID).
//
// acks=0 gets no response; acks=1 and acks=-1 are acknowledged when the
// batch is in the log (a single node is its own ISR), or after fdatasync
// when the topic sets flush.messages=1. Each partition's batch must be one
// valid v2 batch: anything else is CORRUPT_MESSAGE and nothing of it is
// written. Batches of idempotent producers are checked against the
// partition's producer state first (see producers.go). __consumer_offsets
// is written by the group coordinators alone: a client's produce to it is
// INVALID_TOPIC_EXCEPTION, as in Kafka. Differences from Apache Kafka: no
// transactions yet; a produce to a missing topic auto-creates it when
// auto.create.topics.enable is on.

import (
	"errors"

	"github.com/twmb/franz-go/pkg/kmsg"

	"sluice/disk/batch"
)

func handleProduce(r *request, kreq kmsg.Request) {
	req := kreq.(*kmsg.ProduceRequest)
	resp := req.ResponseKind().(*kmsg.ProduceResponse)
	if req.Acks != 0 && req.Acks != 1 && req.Acks != -1 {
		for _, t := range req.Topics {
			rt := kmsg.NewProduceResponseTopic()
			rt.Topic, rt.TopicID = t.Topic, t.TopicID
			for _, p := range t.Partitions {
				rp := kmsg.NewProduceResponseTopicPartition()
				rp.Partition, rp.ErrorCode = p.Partition, errInvalidRequiredAcks
				rt.Partitions = append(rt.Partitions, rp)
			}
			resp.Topics = append(resp.Topics, rt)
		}
		r.respond(resp)
		return
	}
	resp.Topics = make([]kmsg.ProduceResponseTopic, len(req.Topics))
	pending := 1 // released after the loop, so completions during it cannot finish early
	finish := func() {
		if pending--; pending == 0 && req.Acks != 0 {
			r.respond(resp)
		}
	}
	if req.Acks == 0 {
		r.c.Respond(r.seq, nil)
		r.observe(false)
	}
	home := r.c.Loop()
	for i, t := range req.Topics {
		rt := &resp.Topics[i]
		rt.Topic, rt.TopicID = t.Topic, t.TopicID
		rt.Partitions = make([]kmsg.ProduceResponseTopicPartition, len(t.Partitions))
		var tp *topic
		missing := errUnknownTopicOrPartition
		if req.Version >= 13 {
			tp, missing = r.b.topicByID(t.TopicID), errUnknownTopicID
		} else {
			tp = r.b.topicForWrite(t.Topic)
		}
		for j, p := range t.Partitions {
			rp := &rt.Partitions[j]
			*rp = kmsg.NewProduceResponseTopicPartition()
			rp.Partition = p.Partition
			part := tp.partition(p.Partition)
			if part == nil {
				rp.ErrorCode = missing
				continue
			}
			if tp.isInternal() {
				// Only the group coordinators write __consumer_offsets;
				// Kafka refuses clients with "Cannot append to internal
				// topic".
				rp.ErrorCode = errInvalidTopic
				continue
			}
			pending++
			n := uint64(len(p.Records))
			done := func(base int64, err error) {
				if err == nil {
					r.b.shardStats(home).produceBytes.Add(n)
				}
				if errors.Is(err, batch.ErrCorrupt) || errors.Is(err, batch.ErrTooLarge) {
					r.b.badInput.warn("rejected a record batch", "topic", rt.Topic, "partition", rp.Partition, "client", r.clientID, "err", err)
				}
				rp.BaseOffset, rp.ErrorCode = base, errorCode(err)
				rp.LogStartOffset = -1
				finish()
			}
			if part.loop == home {
				part.produce(p.Records, req.Acks, done)
				continue
			}
			// Another shard owns it: the records alias this connection's
			// read buffer, so they travel as a copy.
			records := append([]byte(nil), p.Records...)
			part.loop.Post(func() {
				part.produce(records, req.Acks, func(base int64, err error) {
					home.Post(func() { done(base, err) })
				})
			})
		}
	}
	finish()
}

// topicForWrite returns the topic, creating it with the default partition
// count when auto-creation is on.
func (b *Broker) topicForWrite(name string) *topic {
	if t := b.topic(name); t != nil || !*b.cfg.AutoCreateTopics {
		return t
	}
	t, _, err := b.createTopic(name, b.cfg.DefaultPartitions, nil, false)
	if err != nil && t == nil {
		b.badInput.warn("auto-create failed", "topic", name, "err", err)
	}
	return t
}
