package core

// Heartbeat, versions 0-4: keeps a member's session alive and tells it,
// with REBALANCE_IN_PROGRESS, to rejoin. v3+ carry group.instance.id.
// While the coordinator is loading (never, on a single node: the log is
// replayed before the broker serves) Kafka answers blindly, and so does
// core/group.

import (
	"github.com/twmb/franz-go/pkg/kmsg"

	"sluice/core/group"
)

func handleHeartbeat(r *request, kreq kmsg.Request) {
	req := kreq.(*kmsg.HeartbeatRequest)
	gr := &group.HeartbeatRequest{Group: req.Group, Generation: req.Generation, MemberID: req.MemberID, InstanceID: req.InstanceID}
	r.onCoordinator(req.Group, func(gc *groupCoordinator) {
		gc.apply(gc.c.Heartbeat(nowMs(), r.groupReply(gc, heartbeatResponse), gr))
	})
}

func heartbeatResponse(resp any) kmsg.Response {
	out := kmsg.NewPtrHeartbeatResponse()
	out.ErrorCode = errorCode(resp.(*group.HeartbeatResponse).Err)
	return out
}
