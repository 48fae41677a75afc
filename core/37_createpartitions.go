package core

// CreatePartitions, versions 0-3. Grows a topic to Count partitions; the
// new ones start empty and take the topic's configs. A count that is not an
// increase is INVALID_PARTITIONS, as is one over maxPartitions; an unknown
// topic is UNKNOWN_TOPIC_OR_PARTITION; a topic named twice is
// INVALID_REQUEST; ValidateOnly checks without creating. __consumer_offsets
// cannot grow (INVALID_TOPIC_EXCEPTION): groups are placed by their id's
// hash modulo its partition count. Difference from
// Apache Kafka: manual replica assignments are refused as INVALID_REQUEST
// (a single node places every replica on itself).
//
// Handlers read a topic's partitions without a lock, so growth never
// changes a published topic: a copy with the longer partition list
// replaces it under Broker.mu. A request that loaded the topic just before
// sees the old count and answers the new partitions as unknown, as if it
// had come first.

import (
	"fmt"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// maxPartitions caps a topic's partition count, at creation (createTopic)
// and growth. Each partition is a log
// with its own writer goroutine, open files and tail cache, opened under
// Broker.mu while every loop waits: a mistyped count must not stall the
// broker opening millions of them.
const maxPartitions = 10000

func handleCreatePartitions(r *request, kreq kmsg.Request) {
	req := kreq.(*kmsg.CreatePartitionsRequest)
	resp := req.ResponseKind().(*kmsg.CreatePartitionsResponse)
	named := map[string]int{}
	for _, t := range req.Topics {
		named[t.Topic]++
	}
	for _, t := range req.Topics {
		rt := kmsg.NewCreatePartitionsResponseTopic()
		rt.Topic = t.Topic
		var msg string
		switch {
		case named[t.Topic] < 0:
			continue // a duplicate, answered once already
		case named[t.Topic] > 1:
			named[t.Topic] = -1
			rt.ErrorCode, msg = kerr.InvalidRequest.Code, "Duplicate topic name."
		case t.Assignment != nil:
			rt.ErrorCode, msg = kerr.InvalidRequest.Code, "manual replica assignment is not supported"
		default:
			var err error
			if rt.ErrorCode, err = r.b.createPartitions(t.Topic, t.Count, req.ValidateOnly); err != nil {
				msg = err.Error()
			}
		}
		if rt.ErrorCode != 0 {
			rt.ErrorMessage = &msg
		}
		resp.Topics = append(resp.Topics, rt)
	}
	r.respond(resp)
}

// createPartitions grows topic name to n partitions. Takes Broker.mu.
func (b *Broker) createPartitions(name string, n int32, validateOnly bool) (int16, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	t := b.topics[name]
	if t == nil {
		return errUnknownTopicOrPartition, fmt.Errorf("topic %q does not exist", name)
	}
	had := int32(len(t.partitions))
	switch {
	case t.isInternal():
		// A group's partition is its id's hash modulo the count.
		return errInvalidTopic, fmt.Errorf("The number of partitions for the internal topic %s cannot be changed.", name)
	case n < had:
		return errInvalidPartitions, fmt.Errorf("The topic %s currently has %d partition(s); %d would not be an increase.", name, had, n)
	case n == had:
		return errInvalidPartitions, fmt.Errorf("Topic already has %d partition(s).", had)
	case n > maxPartitions:
		return errInvalidPartitions, fmt.Errorf("%d partitions is more than the %d a topic may have", n, maxPartitions)
	case validateOnly:
		return 0, nil
	}
	if err := b.removeLeftoverDirs(name, had, n); err != nil {
		return errorCode(err), err
	}
	// The full slice expression makes openPartitions append to a new array,
	// leaving the published one as it is.
	grown := &topic{name: t.name, id: t.id, configs: t.configs, partitions: t.partitions[:had:had]}
	if err := b.openPartitions(grown, n); err != nil {
		closeUnpublished(grown.partitions[had:])
		return errorCode(err), err
	}
	b.topics[name], b.topicIDs[t.id] = grown, grown
	if err := b.saveMetaLocked(); err != nil {
		b.topics[name], b.topicIDs[t.id] = t, t
		closeUnpublished(grown.partitions[had:])
		return errorCode(err), err
	}
	b.log.Info("created partitions", "topic", name, "from", had, "to", n)
	return 0, nil
}

// closeUnpublished closes the logs of partitions that were opened but never
// reached Broker.topics, so no loop has work for them and they can be closed
// here. Their directories stay until the next create of the same partitions
// removes them.
func closeUnpublished(ps []*partition) {
	for _, p := range ps {
		p.log.Close()
	}
}
