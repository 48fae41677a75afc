package core

// JoinGroup, versions 0-9: the classic protocol's join phase, run by the
// group's coordinator (core/group). v0 has no rebalance timeout (the
// session timeout stands in, as in Kafka); v4+ members get
// MEMBER_ID_REQUIRED on their first join (KIP-394); v5+ carry
// group.instance.id (static membership, KIP-345); v9 may answer a
// restarted static leader with SkipAssignment (KIP-814). The answer comes
// when the join phase completes, so the request is parked on the
// coordinator's shard meanwhile. The v8+ Reason is not kept. Apart from
// the differences listed in core/group's package doc, as Kafka does.
//
// v0 stays advertised (Kafka 4 starts at v2) because librdkafka enables
// consumer groups only when JoinGroup, SyncGroup, Heartbeat and LeaveGroup
// ranges include v0, OffsetCommit's meets v1-2 and OffsetFetch's v1
// (TestGroupAPIsEveryVersion checks those ranges).

import (
	"github.com/twmb/franz-go/pkg/kmsg"

	"sluice/core/group"
)

func handleJoinGroup(r *request, kreq kmsg.Request) {
	req := kreq.(*kmsg.JoinGroupRequest)
	gr := &group.JoinRequest{
		Version:            req.Version,
		Group:              req.Group,
		MemberID:           req.MemberID,
		InstanceID:         req.InstanceID,
		ClientID:           r.clientID,
		ClientHost:         clientHost(r.c),
		SessionTimeoutMs:   req.SessionTimeoutMillis,
		RebalanceTimeoutMs: req.RebalanceTimeoutMillis,
		ProtocolType:       req.ProtocolType,
		Protocols:          make([]group.Protocol, len(req.Protocols)),
	}
	for i, p := range req.Protocols {
		gr.Protocols[i] = group.Protocol{Name: p.Name, Metadata: copyBytes(p.Metadata)}
	}
	r.onCoordinator(req.Group, func(gc *groupCoordinator) {
		gc.apply(gc.c.Join(nowMs(), r.groupReply(gc, joinResponse), gr))
	})
}

func joinResponse(resp any) kmsg.Response {
	jr := resp.(*group.JoinResponse)
	out := kmsg.NewPtrJoinGroupResponse()
	out.ErrorCode = errorCode(jr.Err)
	out.Generation = jr.Generation
	out.ProtocolType, out.Protocol = jr.ProtocolType, jr.Protocol
	out.LeaderID, out.MemberID, out.SkipAssignment = jr.LeaderID, jr.MemberID, jr.SkipAssignment
	out.Members = make([]kmsg.JoinGroupResponseMember, len(jr.Members))
	for i, m := range jr.Members {
		km := kmsg.NewJoinGroupResponseMember()
		km.MemberID, km.InstanceID, km.ProtocolMetadata = m.MemberID, m.InstanceID, m.Metadata
		out.Members[i] = km
	}
	return out
}
