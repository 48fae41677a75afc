package core

// SyncGroup, versions 0-5: the classic protocol's sync phase. The
// leader's request carries every member's assignment, which the
// coordinator persists (in __consumer_offsets, as Kafka's group metadata
// record) before any member is answered; a follower's request is parked
// until then. v3+ carry group.instance.id; v5+ carry the protocol type and
// name, checked when set. Apart from the differences listed in
// core/group's package doc, as Kafka does.

import (
	"github.com/twmb/franz-go/pkg/kmsg"

	"sluice/core/group"
)

func handleSyncGroup(r *request, kreq kmsg.Request) {
	req := kreq.(*kmsg.SyncGroupRequest)
	gr := &group.SyncRequest{
		Group:        req.Group,
		Generation:   req.Generation,
		MemberID:     req.MemberID,
		InstanceID:   req.InstanceID,
		ProtocolType: req.ProtocolType,
		Protocol:     req.Protocol,
		Assignments:  make([]group.SyncAssignment, len(req.GroupAssignment)),
	}
	for i, a := range req.GroupAssignment {
		gr.Assignments[i] = group.SyncAssignment{MemberID: a.MemberID, Assignment: copyBytes(a.MemberAssignment)}
	}
	r.onCoordinator(req.Group, func(gc *groupCoordinator) {
		gc.apply(gc.c.Sync(nowMs(), r.groupReply(gc, syncResponse), gr))
	})
}

func syncResponse(resp any) kmsg.Response {
	sr := resp.(*group.SyncResponse)
	out := kmsg.NewPtrSyncGroupResponse()
	out.ErrorCode = errorCode(sr.Err)
	out.ProtocolType, out.Protocol, out.MemberAssignment = sr.ProtocolType, sr.Protocol, sr.Assignment
	return out
}
