package core

// OffsetFetch, versions 1-10. v8+ ask for many groups at once (each is
// answered by its own coordinator, and carries its own error); v10 names
// topics by ID (an unknown ID is UNKNOWN_TOPIC_ID per partition). A null
// topic list (v2+) asks for every committed offset of the group. A
// partition, or a group, with nothing committed gets offset -1 and no
// error, as Kafka answers; an empty group id is allowed, for the offsets
// of old clients that commit without a group. Group errors go on each
// partition before v2, in the response's error code from v2 and on the
// group from v8.
//
// RequireStable (v7+) holds the answer until every commit the coordinator
// has taken is written: with no transactions there are no other unstable
// offsets. Without it, a commit not yet written is already visible (see
// core/group's package doc). The v9+ member id and epoch belong to the
// KIP-848 protocol and are ignored for classic groups, as Kafka ignores
// them. Version 0 (offsets kept in ZooKeeper) is not served, as Kafka 4
// no longer serves it (KIP-896).

import (
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"sluice/core/group"
)

// offsetFetchGroup is one group of an OffsetFetch as the handler keeps
// it: the coordinator's request and, for v10, the ID of each topic.
type offsetFetchGroup struct {
	req  group.OffsetFetchRequest
	ids  [][16]byte // by request topic, v10
	bad  []bool     // by request topic: an unknown ID
	resp group.OffsetFetchResponse
}

func handleOffsetFetch(r *request, kreq kmsg.Request) {
	req := kreq.(*kmsg.OffsetFetchRequest)
	var groups []*offsetFetchGroup
	if req.Version < 8 {
		g := &offsetFetchGroup{req: group.OffsetFetchRequest{Group: req.Group}}
		if req.Topics != nil || req.Version < 2 {
			g.req.Topics = make([]group.FetchTopic, len(req.Topics))
			for i, t := range req.Topics {
				g.req.Topics[i] = group.FetchTopic{Topic: t.Topic, Partitions: t.Partitions}
			}
		}
		groups = append(groups, g)
	} else {
		for _, rg := range req.Groups {
			g := &offsetFetchGroup{req: group.OffsetFetchRequest{Group: rg.Group}}
			if rg.Topics != nil {
				g.req.Topics = make([]group.FetchTopic, len(rg.Topics))
				g.ids, g.bad = make([][16]byte, len(rg.Topics)), make([]bool, len(rg.Topics))
				for i, t := range rg.Topics {
					name := t.Topic
					if req.Version >= 10 {
						g.ids[i] = t.TopicID
						if tp := r.b.topicByID(t.TopicID); tp != nil {
							name = tp.name
						} else {
							name, g.bad[i] = "", true
						}
					}
					g.req.Topics[i] = group.FetchTopic{Topic: name, Partitions: t.Partitions}
				}
			}
			groups = append(groups, g)
		}
	}
	stable := req.RequireStable
	fo := r.fanOut(func() { r.respond(offsetFetchResponse(r.b, req, groups)) })
	for _, g := range groups {
		p := r.b.coordinatorFor(g.req.Group)
		fo.runAsync(p, func(reply func(apply func())) {
			resp := p.coord.c.OffsetFetch(&g.req)
			done := func() { reply(func() { g.resp = resp }) }
			if stable {
				p.coord.afterWrites(done)
			} else {
				done()
			}
		})
	}
	fo.wait()
}

func offsetFetchResponse(b *Broker, req *kmsg.OffsetFetchRequest, groups []*offsetFetchGroup) *kmsg.OffsetFetchResponse {
	out := req.ResponseKind().(*kmsg.OffsetFetchResponse)
	if req.Version < 8 {
		g := groups[0]
		code := errorCode(g.resp.Err)
		if req.Version >= 2 {
			out.ErrorCode = code
		}
		topics := g.resp.Topics
		if g.resp.Err != nil && req.Version < 2 {
			// No group error field yet: each requested partition says it.
			topics = make([]group.FetchedTopic, len(g.req.Topics))
			for i, t := range g.req.Topics {
				topics[i] = group.FetchedTopic{Topic: t.Topic}
				for _, p := range t.Partitions {
					topics[i].Partitions = append(topics[i].Partitions, group.FetchedPartition{Partition: p, Offset: -1, LeaderEpoch: -1, Err: g.resp.Err})
				}
			}
		}
		for _, t := range topics {
			kt := kmsg.NewOffsetFetchResponseTopic()
			kt.Topic = t.Topic
			for _, p := range t.Partitions {
				kp := kmsg.NewOffsetFetchResponseTopicPartition()
				kp.Partition, kp.Offset, kp.LeaderEpoch, kp.ErrorCode = p.Partition, p.Offset, p.LeaderEpoch, errorCode(p.Err)
				kp.Metadata = &p.Metadata
				kt.Partitions = append(kt.Partitions, kp)
			}
			out.Topics = append(out.Topics, kt)
		}
		return out
	}
	for _, g := range groups {
		kg := kmsg.NewOffsetFetchResponseGroup()
		kg.Group, kg.ErrorCode = g.req.Group, errorCode(g.resp.Err)
		for i, t := range g.resp.Topics {
			kt := kmsg.NewOffsetFetchResponseGroupTopic()
			kt.Topic = t.Topic
			var partErr error
			if req.Version >= 10 {
				switch {
				case g.ids != nil:
					kt.TopicID = g.ids[i]
					if g.bad[i] {
						partErr = kerr.UnknownTopicID
					}
				default:
					// All topics: name them by ID; offsets of a topic no
					// longer there have no ID to give and are left out.
					tp := b.topic(t.Topic)
					if tp == nil {
						continue
					}
					kt.TopicID = tp.id
				}
			}
			for _, p := range t.Partitions {
				kp := kmsg.NewOffsetFetchResponseGroupTopicPartition()
				kp.Partition, kp.Offset, kp.LeaderEpoch, kp.ErrorCode = p.Partition, p.Offset, p.LeaderEpoch, errorCode(p.Err)
				if partErr != nil {
					kp.Offset, kp.LeaderEpoch, kp.ErrorCode = -1, -1, errorCode(partErr)
				}
				kp.Metadata = &p.Metadata
				kt.Partitions = append(kt.Partitions, kp)
			}
			kg.Topics = append(kg.Topics, kt)
		}
		out.Groups = append(out.Groups, kg)
	}
	return out
}
