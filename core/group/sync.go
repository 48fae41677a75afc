package group

import (
	"github.com/twmb/franz-go/pkg/kerr"
)

// Sync handles a SyncGroup. A follower's is parked until the leader's
// arrives; the leader's assigns every member, persists the group and
// answers every parked SyncGroup. Runs on the owning shard.
func (c *Coordinator) Sync(now int64, h Handle, req *SyncRequest) Output {
	switch err := c.phaseErr(); {
	case err == kerr.CoordinatorLoadInProgress:
		// The rebalance in progress was lost with the old state;
		// REBALANCE_IN_PROGRESS sends the member back to JoinGroup
		// without looking for the coordinator again (older clients
		// do not expect the loading error here).
		c.reply(h, &SyncResponse{Err: kerr.RebalanceInProgress})
		return c.flush()
	case err != nil:
		c.reply(h, &SyncResponse{Err: err})
		return c.flush()
	}
	if g := c.sync(now, h, req); g != nil {
		c.reschedule(g)
	}
	c.checkInvariants()
	return c.flush()
}

func (c *Coordinator) sync(now int64, h Handle, req *SyncRequest) *group {
	if req.Group == "" {
		c.reply(h, &SyncResponse{Err: kerr.InvalidGroupID})
		return nil
	}
	g := c.groups[req.Group]
	if g == nil {
		c.reply(h, &SyncResponse{Err: kerr.UnknownMemberID})
		return nil
	}
	if err := c.validateSync(g, req); err != nil {
		c.reply(h, &SyncResponse{Err: err})
		return g
	}
	m := g.byID[req.MemberID]
	switch g.state {
	case Empty:
		c.reply(h, &SyncResponse{Err: kerr.UnknownMemberID})
	case PreparingRebalance:
		c.reply(h, &SyncResponse{Err: kerr.RebalanceInProgress})
	case CompletingRebalance:
		if m.awaitingSync {
			// Answered rather than dropped, as for JoinGroup.
			c.reply(m.syncHandle, &SyncResponse{Err: kerr.RebalanceInProgress})
		}
		m.awaitingSync, m.syncHandle = true, h
		c.synced(g, m)
		if g.isLeader(m.id) {
			c.assign(now, g, req.Assignments)
		}
	case Stable:
		c.synced(g, m)
		c.reply(h, c.syncResult(g, m))
		heartbeat(now, m)
	}
	return g
}

func (c *Coordinator) validateSync(g *group, req *SyncRequest) error {
	if err := g.validateMember(req.MemberID, req.InstanceID); err != nil {
		return err
	}
	switch {
	case req.Generation != g.generation:
		return kerr.IllegalGeneration
	case req.ProtocolType != nil && (g.protocolType == "" || *req.ProtocolType != g.protocolType):
		return kerr.InconsistentGroupProtocol
	case req.Protocol != nil && (g.protocol == "" || *req.Protocol != g.protocol):
		return kerr.InconsistentGroupProtocol
	}
	return nil
}

// synced notes that m sent its SyncGroup for the generation.
func (c *Coordinator) synced(g *group, m *member) {
	delete(g.pendingSync, m.id)
	if len(g.pendingSync) == 0 {
		g.syncDeadline = never
	}
}

func (c *Coordinator) syncResult(g *group, m *member) *SyncResponse {
	return &SyncResponse{ProtocolType: strPtr(g.protocolType), Protocol: strPtr(g.protocol), Assignment: m.assignment}
}

// assign applies the leader's assignment: members it left out get an
// empty one, as in Kafka. The group becomes Stable and is persisted, and
// every parked SyncGroup is answered.
func (c *Coordinator) assign(now int64, g *group, assignments []SyncAssignment) {
	byMember := make(map[string][]byte, len(assignments))
	for _, a := range assignments {
		byMember[a.MemberID] = a.Assignment
	}
	for _, m := range g.members {
		m.assignment = append([]byte{}, byMember[m.id]...)
	}
	g.transition(Stable, now)
	c.storeGroup(g)
	for _, m := range g.members {
		if m.awaitingSync {
			c.reply(m.syncHandle, c.syncResult(g, m))
			m.awaitingSync, m.syncHandle = false, nil
			heartbeat(now, m)
		}
	}
}

// resetAndPropagateAssignmentError ends a sync phase that will not
// complete: parked SyncGroups get err and their members a fresh session.
func (c *Coordinator) resetAndPropagateAssignmentError(now int64, g *group, err error) {
	for _, m := range g.members {
		m.assignment = nil
		if m.awaitingSync {
			c.reply(m.syncHandle, &SyncResponse{Err: err})
			m.awaitingSync, m.syncHandle = false, nil
			heartbeat(now, m)
		}
	}
}

// syncPhaseExpired removes the members that did not send SyncGroup within
// the rebalance timeout after the join phase, and rebalances without them
// (Kafka's DelayedSync, KAFKA-13766): otherwise a member that vanished
// between JoinGroup and SyncGroup would hold its partitions unassigned
// until its session expired.
func (c *Coordinator) syncPhaseExpired(now int64, g *group) {
	g.syncDeadline = never
	if len(g.pendingSync) == 0 || (g.state != CompletingRebalance && g.state != Stable) {
		return
	}
	for _, m := range append([]*member(nil), g.members...) {
		if g.pendingSync[m.id] {
			c.removeMemberQuietly(g, m)
		}
	}
	clear(g.pendingSync)
	c.prepareRebalance(now, g)
}

// Heartbeat handles a Heartbeat: it keeps a member's session alive and
// tells it whether to rejoin. Runs on the owning shard.
func (c *Coordinator) Heartbeat(now int64, h Handle, req *HeartbeatRequest) Output {
	switch err := c.phaseErr(); {
	case err == kerr.CoordinatorLoadInProgress:
		// Kafka answers blindly while loading: the member's session
		// starts afresh once the group is loaded anyway.
		c.reply(h, &HeartbeatResponse{})
		return c.flush()
	case err != nil:
		c.reply(h, &HeartbeatResponse{Err: err})
		return c.flush()
	}
	resp := &HeartbeatResponse{}
	g := c.groups[req.Group]
	switch {
	case req.Group == "":
		resp.Err = kerr.InvalidGroupID
	case g == nil:
		resp.Err = kerr.UnknownMemberID
	default:
		resp.Err = g.validateMember(req.MemberID, req.InstanceID)
		if resp.Err == nil && req.Generation != g.generation {
			resp.Err = kerr.IllegalGeneration
		}
		if resp.Err != nil {
			break
		}
		switch g.state {
		case Empty:
			resp.Err = kerr.UnknownMemberID
		case PreparingRebalance:
			heartbeat(now, g.byID[req.MemberID])
			resp.Err = kerr.RebalanceInProgress
		case CompletingRebalance, Stable:
			heartbeat(now, g.byID[req.MemberID])
		}
		c.reschedule(g)
	}
	c.reply(h, resp)
	c.checkInvariants()
	return c.flush()
}

// Leave handles a LeaveGroup of one or more members. Runs on the owning
// shard.
func (c *Coordinator) Leave(now int64, h Handle, req *LeaveRequest) Output {
	if err := c.phaseErr(); err != nil {
		c.reply(h, &LeaveResponse{Err: err})
		return c.flush()
	}
	if req.Group == "" {
		c.reply(h, &LeaveResponse{Err: kerr.InvalidGroupID})
		return c.flush()
	}
	resp := &LeaveResponse{Members: make([]LeaveMemberResult, len(req.Members))}
	g := c.groups[req.Group]
	for i, lm := range req.Members {
		resp.Members[i] = LeaveMemberResult{MemberID: lm.MemberID, InstanceID: lm.InstanceID}
		if g == nil {
			resp.Members[i].Err = kerr.UnknownMemberID
			continue
		}
		resp.Members[i].Err = c.leave(now, g, lm)
	}
	if g != nil {
		if c.groups[g.id] == g && g.state == Empty {
			c.dropIfUnused(g)
		}
		c.reschedule(g)
	}
	c.reply(h, resp)
	c.checkInvariants()
	return c.flush()
}

func (c *Coordinator) leave(now int64, g *group, lm LeaveMember) error {
	if lm.MemberID == "" {
		// An administrator removing a static member by instance id.
		if lm.InstanceID == nil {
			return kerr.UnknownMemberID
		}
		id, ok := g.static[*lm.InstanceID]
		if !ok {
			return kerr.UnknownMemberID
		}
		c.removeMember(now, g, g.byID[id])
		return nil
	}
	if _, pending := g.pending[lm.MemberID]; pending {
		c.removePending(now, g, lm.MemberID)
		return nil
	}
	if err := g.validateMember(lm.MemberID, lm.InstanceID); err != nil {
		return err
	}
	c.removeMember(now, g, g.byID[lm.MemberID])
	return nil
}

// removeMember removes a member that left or whose session expired, and
// lets the group react: a rebalance, or the end of the join phase if the
// member was the last one awaited.
func (c *Coordinator) removeMember(now int64, g *group, m *member) {
	// A member of this join phase may still have its first JoinGroup
	// parked; UNKNOWN_MEMBER_ID makes the client start over if alive.
	c.answerJoin(g, m, joinError("", kerr.UnknownMemberID))
	c.removeMemberQuietly(g, m)
	switch g.state {
	case Stable, CompletingRebalance:
		c.maybePrepareRebalance(now, g)
	case PreparingRebalance:
		c.tryCompleteJoin(now, g)
	}
}

// removeMemberQuietly drops a member; the caller deals with the group's
// state. A parked SyncGroup is answered (Kafka leaves it unanswered).
func (c *Coordinator) removeMemberQuietly(g *group, m *member) {
	c.answerJoin(g, m, joinError("", kerr.UnknownMemberID))
	if m.awaitingSync {
		c.reply(m.syncHandle, &SyncResponse{Err: kerr.UnknownMemberID})
		m.awaitingSync, m.syncHandle = false, nil
	}
	g.remove(m.id)
}

// dropMember sheds a member refused by group.max.size.
func (c *Coordinator) dropMember(g *group, id string) {
	if m := g.byID[id]; m != nil {
		c.removeMemberQuietly(g, m)
	} else {
		delete(g.pending, id)
	}
}

// removePending forgets a member id handed out with MEMBER_ID_REQUIRED.
func (c *Coordinator) removePending(now int64, g *group, id string) {
	delete(g.pending, id)
	c.tryCompleteJoin(now, g)
}
