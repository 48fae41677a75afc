package core

// Metadata, versions 0-13 (v13 adds a top-level error code, always 0
// here). This node is the only broker, the controller and every
// partition's leader, with itself as the only replica and ISR.
// __consumer_offsets is listed like any topic, marked IsInternal (v1+).
// A topic asked for by name is created when auto.create.topics.enable is on
// and the request allows it (v4+ AllowAutoTopicCreation; always before v4,
// as Kafka does). A null topic list (an empty one before v1) means all.

import (
	"sort"

	"github.com/twmb/franz-go/pkg/kmsg"
)

func handleMetadata(r *request, kreq kmsg.Request) {
	req := kreq.(*kmsg.MetadataRequest)
	resp := req.ResponseKind().(*kmsg.MetadataResponse)
	b := r.b
	broker := kmsg.NewMetadataResponseBroker()
	broker.NodeID, broker.Host, broker.Port = b.cfg.NodeID, b.host, b.port
	resp.Brokers = []kmsg.MetadataResponseBroker{broker}
	resp.ClusterID = &b.clusterID
	resp.ControllerID = b.cfg.NodeID

	var topics []*topic
	all := req.Topics == nil || (req.Version == 0 && len(req.Topics) == 0)
	if all {
		b.mu.RLock()
		for _, t := range b.topics {
			topics = append(topics, t)
		}
		b.mu.RUnlock()
		sort.Slice(topics, func(i, j int) bool { return topics[i].name < topics[j].name })
	}
	for _, rt := range topics {
		resp.Topics = append(resp.Topics, b.metadataTopic(rt))
	}
	if all {
		r.respond(resp)
		return
	}
	autoCreate := *b.cfg.AutoCreateTopics && (req.Version < 4 || req.AllowAutoTopicCreation)
	for _, qt := range req.Topics {
		var t *topic
		var name string
		switch {
		case qt.Topic != nil:
			name = *qt.Topic
			t = b.topic(name)
		default:
			b.mu.RLock()
			t = b.topicIDs[qt.TopicID]
			b.mu.RUnlock()
		}
		if t == nil && autoCreate && name != "" {
			var code int16
			var err error
			if t, code, err = b.createTopic(name, b.cfg.DefaultPartitions, nil, false); err != nil && code != errTopicAlreadyExists {
				mt := kmsg.NewMetadataResponseTopic()
				mt.Topic, mt.ErrorCode = &name, code
				resp.Topics = append(resp.Topics, mt)
				continue
			}
		}
		if t == nil {
			mt := kmsg.NewMetadataResponseTopic()
			if name != "" {
				mt.Topic = &name
			}
			mt.TopicID, mt.ErrorCode = qt.TopicID, errUnknownTopicOrPartition
			if name != "" && validTopicName(name) != nil {
				mt.ErrorCode = errInvalidTopic
			}
			resp.Topics = append(resp.Topics, mt)
			continue
		}
		resp.Topics = append(resp.Topics, b.metadataTopic(t))
	}
	r.respond(resp)
}

func (b *Broker) metadataTopic(t *topic) kmsg.MetadataResponseTopic {
	mt := kmsg.NewMetadataResponseTopic()
	name := t.name
	mt.Topic, mt.TopicID, mt.IsInternal = &name, t.id, t.isInternal()
	mt.Partitions = make([]kmsg.MetadataResponseTopicPartition, len(t.partitions))
	for i := range t.partitions {
		mp := kmsg.NewMetadataResponseTopicPartition()
		mp.Partition, mp.Leader, mp.LeaderEpoch = int32(i), b.cfg.NodeID, leaderEpoch
		mp.Replicas, mp.ISR = []int32{b.cfg.NodeID}, []int32{b.cfg.NodeID}
		mt.Partitions[i] = mp
	}
	return mt
}
