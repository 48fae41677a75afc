package core

// FindCoordinator, versions 0-6 (v4+ batch keys, KIP-699; v6 adds the
// share key type). Every group's coordinator is this node: the owner of
// the group's __consumer_offsets partition, which on a single node is
// always here. Transactions are not served, and a transactional id is
// answered as Kafka answers when its transaction state topic is not
// available: COORDINATOR_NOT_AVAILABLE (retriable; a transactional client
// gives up after its own timeout). Share groups (key type 2) are not
// served either, and any key type but 0 and 1 is INVALID_REQUEST, as in a
// Kafka without share groups.

import (
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

func handleFindCoordinator(r *request, kreq kmsg.Request) {
	req := kreq.(*kmsg.FindCoordinatorRequest)
	resp := req.ResponseKind().(*kmsg.FindCoordinatorResponse)
	keys := req.CoordinatorKeys
	if req.Version < 4 {
		keys = []string{req.CoordinatorKey}
	}
	for _, key := range keys {
		c := kmsg.NewFindCoordinatorResponseCoordinator()
		c.Key = key
		var err error
		switch req.CoordinatorType {
		case 0:
			c.NodeID, c.Host, c.Port = r.b.cfg.NodeID, r.b.host, r.b.port
		case 1:
			err = kerr.CoordinatorNotAvailable
			msg := "transactions are not supported by this broker"
			c.ErrorMessage = &msg
		default:
			err = kerr.InvalidRequest
			msg := "only group coordinators (key type 0) are served"
			c.ErrorMessage = &msg
		}
		if err != nil {
			c.ErrorCode, c.NodeID, c.Port = errorCode(err), -1, -1
		}
		resp.Coordinators = append(resp.Coordinators, c)
	}
	if req.Version < 4 {
		c := resp.Coordinators[0]
		resp.ErrorCode, resp.ErrorMessage, resp.NodeID, resp.Host, resp.Port = c.ErrorCode, c.ErrorMessage, c.NodeID, c.Host, c.Port
		resp.Coordinators = nil
	}
	r.respond(resp)
}
