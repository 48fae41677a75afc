package core

// CreateTopics, versions 0-7. One node: a replication factor other than 1
// (or -1, the default) is INVALID_REPLICATION_FACTOR, and manual replica
// assignments are refused as INVALID_REQUEST. Unknown or unsupported
// configs are INVALID_CONFIG. ValidateOnly checks without creating.

import (
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

func handleCreateTopics(r *request, kreq kmsg.Request) {
	req := kreq.(*kmsg.CreateTopicsRequest)
	resp := req.ResponseKind().(*kmsg.CreateTopicsResponse)
	for _, t := range req.Topics {
		rt := kmsg.NewCreateTopicsResponseTopic()
		rt.Topic = t.Topic
		n := t.NumPartitions
		if n == -1 {
			n = r.b.cfg.DefaultPartitions
		}
		configs := map[string]string{}
		for _, c := range t.Configs {
			if c.Value != nil {
				configs[c.Name] = *c.Value
			}
		}
		var msg string
		switch {
		case t.ReplicationFactor != -1 && t.ReplicationFactor != 1:
			rt.ErrorCode, msg = errInvalidReplicationFactor, "a single-node cluster has replication factor 1"
		case len(t.ReplicaAssignment) > 0:
			rt.ErrorCode, msg = kerr.InvalidRequest.Code, "manual replica assignment is not supported"
		default:
			tp, code, err := r.b.createTopic(t.Topic, n, configs, req.ValidateOnly)
			rt.ErrorCode = code
			if err != nil {
				msg = err.Error()
			}
			if code == 0 && tp != nil {
				rt.TopicID = tp.id
			}
		}
		if rt.ErrorCode != 0 {
			rt.ErrorMessage = &msg
		} else {
			rt.NumPartitions, rt.ReplicationFactor = n, 1
		}
		resp.Topics = append(resp.Topics, rt)
	}
	r.respond(resp)
}
