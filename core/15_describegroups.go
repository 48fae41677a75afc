package core

// DescribeGroups, versions 0-6: each group from its own coordinator. A
// group that does not exist is Dead with no members, and from v6 also
// GROUP_ID_NOT_FOUND with a message, as in Kafka; an empty group id is
// INVALID_GROUP_ID. Members' metadata and assignments are shown only for a
// Stable group. AuthorizedOperations (v3+) is Kafka's "not requested" value
// unless asked for, and then every group operation, as Kafka reports
// without an authorizer.

import (
	"math"
	"slices"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"sluice/core/group"
)

func handleDescribeGroups(r *request, kreq kmsg.Request) {
	req := kreq.(*kmsg.DescribeGroupsRequest)
	resp := req.ResponseKind().(*kmsg.DescribeGroupsResponse)
	resp.Groups = make([]kmsg.DescribeGroupsResponseGroup, len(req.Groups))
	fo := r.fanOut(func() { r.respond(resp) })
	for i, id := range req.Groups {
		kg := &resp.Groups[i]
		*kg = kmsg.NewDescribeGroupsResponseGroup()
		kg.Group, kg.AuthorizedOperations = id, math.MinInt32
		if req.IncludeAuthorizedOperations {
			kg.AuthorizedOperations = groupOperations
		}
		if id == "" {
			setDescribeError(req.Version, kg, kerr.InvalidGroupID)
			continue
		}
		p, version := r.b.coordinatorFor(id), req.Version
		fo.run(p, func() func() {
			d := p.coord.c.Describe(id, version)
			// The coordinator's bytes may change at its next call.
			for j := range d.Members {
				m := &d.Members[j]
				m.Metadata, m.Assignment = slices.Clone(m.Metadata), slices.Clone(m.Assignment)
			}
			return func() { fillDescribed(version, kg, &d) }
		})
	}
	fo.wait()
}

func setDescribeError(version int16, kg *kmsg.DescribeGroupsResponseGroup, err error) {
	kg.ErrorCode = errorCode(err)
	if version >= 6 {
		kg.ErrorMessage = errString(err)
	}
}

func fillDescribed(version int16, kg *kmsg.DescribeGroupsResponseGroup, d *group.DescribeResponse) {
	if d.Err != nil {
		setDescribeError(version, kg, d.Err)
	}
	kg.State, kg.ProtocolType, kg.Protocol = d.State, d.ProtocolType, d.Protocol
	kg.Members = make([]kmsg.DescribeGroupsResponseGroupMember, len(d.Members))
	for i, m := range d.Members {
		km := kmsg.NewDescribeGroupsResponseGroupMember()
		km.MemberID, km.InstanceID, km.ClientID, km.ClientHost = m.MemberID, m.InstanceID, m.ClientID, m.ClientHost
		km.ProtocolMetadata, km.MemberAssignment = m.Metadata, m.Assignment
		kg.Members[i] = km
	}
}
