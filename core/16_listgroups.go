package core

// ListGroups, versions 0-5: the groups of every coordinator, ordered by
// id. StatesFilter (v4+) keeps groups in any of the named states
// (case-insensitive); TypesFilter (v5+) keeps groups of the named types,
// and every group here is "classic" (the only protocol served). A
// coordinator that cannot answer sets the response's error, and the
// groups of the others are still listed, as in Kafka.

import (
	"slices"
	"strings"

	"github.com/twmb/franz-go/pkg/kmsg"

	"sluice/core/group"
)

const classicGroupType = "classic"

func handleListGroups(r *request, kreq kmsg.Request) {
	req := kreq.(*kmsg.ListGroupsRequest)
	resp := req.ResponseKind().(*kmsg.ListGroupsResponse)
	if len(req.TypesFilter) > 0 && !slices.ContainsFunc(req.TypesFilter, func(t string) bool { return strings.EqualFold(t, classicGroupType) }) {
		r.respond(resp)
		return
	}
	parts := r.b.offsets.partitions
	listed := make([][]group.ListedGroup, len(parts))
	var firstErr error
	states := req.StatesFilter
	fo := r.fanOut(func() {
		resp.ErrorCode = errorCode(firstErr)
		var all []group.ListedGroup
		for _, l := range listed {
			all = append(all, l...)
		}
		slices.SortFunc(all, func(a, b group.ListedGroup) int { return strings.Compare(a.Group, b.Group) })
		for _, g := range all {
			kg := kmsg.NewListGroupsResponseGroup()
			kg.Group, kg.ProtocolType, kg.GroupState, kg.GroupType = g.Group, g.ProtocolType, g.State, classicGroupType
			resp.Groups = append(resp.Groups, kg)
		}
		r.respond(resp)
	})
	for i, p := range parts {
		fo.run(p, func() func() {
			gs, err := p.coord.c.List(states)
			return func() {
				listed[i] = gs
				if err != nil && firstErr == nil {
					firstErr = err
				}
			}
		})
	}
	fo.wait()
}
