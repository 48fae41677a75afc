package core

// LeaveGroup, versions 0-5. v0-2 name one member; v3+ a batch of members,
// each by member id or, for an administrator removing a static member, by
// group.instance.id alone (KIP-345), with an error each. Before v3 the
// member's error is the response's, as Kafka answers. The v5+ Reason is
// not kept.

import (
	"github.com/twmb/franz-go/pkg/kmsg"

	"sluice/core/group"
)

func handleLeaveGroup(r *request, kreq kmsg.Request) {
	req := kreq.(*kmsg.LeaveGroupRequest)
	gr := &group.LeaveRequest{Group: req.Group}
	if req.Version < 3 {
		gr.Members = []group.LeaveMember{{MemberID: req.MemberID}}
	} else {
		gr.Members = make([]group.LeaveMember, len(req.Members))
		for i, m := range req.Members {
			gr.Members[i] = group.LeaveMember{MemberID: m.MemberID, InstanceID: m.InstanceID}
		}
	}
	version := req.Version
	r.onCoordinator(req.Group, func(gc *groupCoordinator) {
		gc.apply(gc.c.Leave(nowMs(), r.groupReply(gc, func(resp any) kmsg.Response {
			return leaveResponse(version, resp.(*group.LeaveResponse))
		}), gr))
	})
}

func leaveResponse(version int16, lr *group.LeaveResponse) kmsg.Response {
	out := kmsg.NewPtrLeaveGroupResponse()
	out.ErrorCode = errorCode(lr.Err)
	if version < 3 {
		if out.ErrorCode == 0 && len(lr.Members) == 1 {
			out.ErrorCode = errorCode(lr.Members[0].Err)
		}
		return out
	}
	out.Members = make([]kmsg.LeaveGroupResponseMember, len(lr.Members))
	for i, m := range lr.Members {
		km := kmsg.NewLeaveGroupResponseMember()
		km.MemberID, km.InstanceID, km.ErrorCode = m.MemberID, m.InstanceID, errorCode(m.Err)
		out.Members[i] = km
	}
	return out
}
