package core

// DeleteGroups, versions 0-3: each group is deleted by its own coordinator,
// with its offsets, and only when it is Empty (NON_EMPTY_GROUP otherwise;
// GROUP_ID_NOT_FOUND when there is no such group); the tombstones are
// written before the answer. A group named twice is answered once, as
// Kafka does; an empty group id is INVALID_GROUP_ID. v3 adds an error
// message per group.

import (
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"sluice/core/group"
)

func handleDeleteGroups(r *request, kreq kmsg.Request) {
	req := kreq.(*kmsg.DeleteGroupsRequest)
	resp := req.ResponseKind().(*kmsg.DeleteGroupsResponse)
	seen := map[string]bool{}
	for _, id := range req.Groups {
		if !seen[id] {
			seen[id] = true
			kg := kmsg.NewDeleteGroupsResponseGroup()
			kg.Group = id
			resp.Groups = append(resp.Groups, kg)
		}
	}
	version := req.Version
	setErr := func(kg *kmsg.DeleteGroupsResponseGroup, err error) {
		kg.ErrorCode = errorCode(err)
		if version >= 3 {
			kg.ErrorMessage = errString(err)
		}
	}
	fo := r.fanOut(func() { r.respond(resp) })
	for i := range resp.Groups {
		kg := &resp.Groups[i]
		id := kg.Group
		if id == "" {
			setErr(kg, kerr.InvalidGroupID)
			continue
		}
		p := r.b.coordinatorFor(id)
		fo.runAsync(p, func(reply func(apply func())) {
			h := groupReply(func(resp any) {
				err := resp.(*group.DeleteGroupResponse).Err
				reply(func() { setErr(kg, err) })
			})
			p.coord.apply(p.coord.c.DeleteGroup(nowMs(), h, id))
		})
	}
	fo.wait()
}
