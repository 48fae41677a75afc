package group

import (
	"github.com/twmb/franz-go/pkg/kerr"
)

// Join handles a JoinGroup. Its answer may come at once (an error,
// MEMBER_ID_REQUIRED, a rejoin that changes nothing) or from a later call
// that ends the join phase. Runs on the owning shard.
func (c *Coordinator) Join(now int64, h Handle, req *JoinRequest) Output {
	if err := c.phaseErr(); err != nil {
		c.reply(h, joinError(req.MemberID, err))
		return c.flush()
	}
	// The request is the caller's; keep a copy whose protocols the
	// members can own.
	r := *req
	r.Protocols = copyProtocols(req.Protocols)
	g := c.join(now, h, &r)
	if g != nil {
		if c.groups[g.id] == g && g.state == PreparingRebalance {
			c.tryCompleteJoin(now, g)
		}
		if c.groups[g.id] == g {
			c.dropIfUnused(g)
		}
		c.reschedule(g)
	}
	c.checkInvariants()
	return c.flush()
}

func joinError(memberID string, err error) *JoinResponse {
	return &JoinResponse{Err: err, MemberID: memberID, Generation: -1}
}

// join returns the group it touched, if any.
func (c *Coordinator) join(now int64, h Handle, req *JoinRequest) *group {
	switch {
	case req.Group == "":
		c.reply(h, joinError(req.MemberID, kerr.InvalidGroupID))
		return nil
	case req.SessionTimeoutMs < c.cfg.MinSessionTimeoutMs || req.SessionTimeoutMs > c.cfg.MaxSessionTimeoutMs:
		c.reply(h, joinError(req.MemberID, kerr.InvalidSessionTimeout))
		return nil
	}
	g := c.groups[req.Group]
	if g == nil {
		// Only a first join creates a group: a member id for a group
		// that does not exist is stale.
		if req.MemberID != "" {
			c.reply(h, joinError(req.MemberID, kerr.UnknownMemberID))
			return nil
		}
		g = c.addGroup(req.Group)
	}
	switch {
	case !c.acceptJoiningMember(g, req.MemberID):
		// The member is shed, not just refused, so that a group over
		// its size (after group.max.size was lowered) shrinks.
		c.dropMember(g, req.MemberID)
		c.reply(h, joinError("", kerr.GroupMaxSizeReached))
	case req.MemberID == "":
		c.joinNewMember(now, h, g, req)
	default:
		c.joinCurrentMember(now, h, g, req)
	}
	return g
}

// acceptJoiningMember applies group.max.size: an Empty group takes
// anyone; during the join phase members already rejoined are kept and
// others admitted while fewer than the maximum have rejoined (so the last
// to rejoin are the ones shed); otherwise existing members are kept and
// new ones admitted while there is room.
func (c *Coordinator) acceptJoiningMember(g *group, memberID string) bool {
	m := g.byID[memberID]
	switch g.state {
	case PreparingRebalance:
		return (m != nil && m.awaitingJoin) || g.numAwaiting < c.cfg.MaxSize
	case CompletingRebalance, Stable:
		return m != nil || len(g.members) < c.cfg.MaxSize
	}
	return true
}

func (c *Coordinator) joinNewMember(now int64, h Handle, g *group, req *JoinRequest) {
	if !g.supportsProtocols(req.ProtocolType, req.Protocols) {
		c.reply(h, joinError("", kerr.InconsistentGroupProtocol))
		return
	}
	instance := ""
	if req.InstanceID != nil {
		instance = *req.InstanceID
	}
	prefix := req.ClientID
	if instance != "" {
		prefix = instance
	}
	id := c.newMemberID(g, prefix)
	switch {
	case instance != "":
		if old, ok := g.static[instance]; ok {
			c.replaceStaticMember(now, h, g, old, id, req)
		} else {
			c.addMemberAndRebalance(now, h, g, id, req)
		}
	case req.Version >= 4:
		// KIP-394: the member must come back with this id, so that a
		// client whose join timed out does not leave members behind
		// that nobody will ever heartbeat for.
		g.pending[id] = now + int64(req.SessionTimeoutMs)
		c.reply(h, joinError(id, kerr.MemberIDRequired))
	default:
		c.addMemberAndRebalance(now, h, g, id, req)
	}
}

func (c *Coordinator) joinCurrentMember(now int64, h Handle, g *group, req *JoinRequest) {
	if !g.supportsProtocols(req.ProtocolType, req.Protocols) {
		c.reply(h, joinError(req.MemberID, kerr.InconsistentGroupProtocol))
		return
	}
	// Pending ids are only handed to dynamic members; a static member
	// claiming one falls through to validateMember and is refused there.
	if _, pending := g.pending[req.MemberID]; pending && (req.InstanceID == nil || *req.InstanceID == "") {
		c.addMemberAndRebalance(now, h, g, req.MemberID, req)
		return
	}
	if err := g.validateMember(req.MemberID, req.InstanceID); err != nil {
		c.reply(h, joinError(req.MemberID, err))
		return
	}
	m := g.byID[req.MemberID]
	switch g.state {
	case PreparingRebalance:
		c.updateMemberAndRebalance(now, h, g, m, req)
	case CompletingRebalance:
		// The same metadata again means the member missed its JoinGroup
		// response: send it the current generation again.
		if m.matches(req.Protocols) {
			c.reply(h, c.joinResult(g, m, g.isLeader(m.id)))
		} else {
			c.updateMemberAndRebalance(now, h, g, m, req)
		}
	case Stable:
		// A rejoining leader asks for a new assignment (e.g. the topics
		// it is subscribed to changed partitions), so it rebalances even
		// with unchanged metadata.
		if g.isLeader(m.id) || !m.matches(req.Protocols) {
			c.updateMemberAndRebalance(now, h, g, m, req)
		} else {
			c.reply(h, c.joinResult(g, m, false))
		}
	default:
		c.reply(h, joinError(req.MemberID, kerr.UnknownMemberID))
	}
}

// joinResult is the successful JoinGroup response for m in the current
// generation; the leader's carries every member's metadata.
func (c *Coordinator) joinResult(g *group, m *member, withMembers bool) *JoinResponse {
	r := &JoinResponse{
		Generation:   g.generation,
		ProtocolType: strPtr(g.protocolType),
		Protocol:     strPtr(g.protocol),
		LeaderID:     g.leader,
		MemberID:     m.id,
	}
	if withMembers {
		r.Members = make([]JoinMember, 0, len(g.members))
		for _, x := range g.members {
			r.Members = append(r.Members, JoinMember{MemberID: x.id, InstanceID: x.instance(), Metadata: x.metadata(g.protocol)})
		}
	}
	return r
}

func newMember(now int64, id string, req *JoinRequest) *member {
	m := &member{
		id:                 id,
		clientID:           req.ClientID,
		clientHost:         req.ClientHost,
		protocols:          req.Protocols,
		sessionTimeoutMs:   req.SessionTimeoutMs,
		rebalanceTimeoutMs: rebalanceTimeout(req),
		isNew:              true,
		deadline:           now + newMemberJoinTimeoutMs,
	}
	if req.InstanceID != nil {
		m.instanceID = *req.InstanceID
	}
	return m
}

// rebalanceTimeout: JoinGroup v0 has none and Kafka uses the session
// timeout in its place.
func rebalanceTimeout(req *JoinRequest) int32 {
	if req.Version == 0 {
		return req.SessionTimeoutMs
	}
	return req.RebalanceTimeoutMs
}

// parkJoin makes h the member's parked JoinGroup. A JoinGroup it
// replaces is answered with REBALANCE_IN_PROGRESS so that it is not left
// without an answer (Kafka drops it); the client has moved on to the new
// request and simply retries on that error.
func (c *Coordinator) parkJoin(g *group, m *member, h Handle) {
	if m.awaitingJoin {
		c.reply(m.joinHandle, joinError(m.id, kerr.RebalanceInProgress))
	} else {
		g.numAwaiting++
	}
	m.awaitingJoin, m.joinHandle = true, h
}

// answerJoin releases m's parked JoinGroup with r.
func (c *Coordinator) answerJoin(g *group, m *member, r *JoinResponse) {
	if !m.awaitingJoin {
		return
	}
	c.reply(m.joinHandle, r)
	m.awaitingJoin, m.joinHandle = false, nil
	g.numAwaiting--
}

func (c *Coordinator) addMemberAndRebalance(now int64, h Handle, g *group, id string, req *JoinRequest) {
	m := newMember(now, id, req)
	m.awaitingJoin, m.joinHandle = true, h
	// Only the first rebalance of a group waits for more newcomers.
	if g.state == PreparingRebalance && g.generation == 0 {
		g.newMemberAdded = true
	}
	g.add(m, req.ProtocolType)
	c.maybePrepareRebalance(now, g)
}

func (c *Coordinator) updateMemberAndRebalance(now int64, h Handle, g *group, m *member, req *JoinRequest) {
	c.updateMember(g, m, h, req)
	c.maybePrepareRebalance(now, g)
}

func (c *Coordinator) updateMember(g *group, m *member, h Handle, req *JoinRequest) {
	g.setProtocols(m, req.Protocols)
	m.rebalanceTimeoutMs = rebalanceTimeout(req)
	m.sessionTimeoutMs = req.SessionTimeoutMs
	c.parkJoin(g, m, h)
}

// replaceStaticMember handles a known group.instance.id joining with no
// member id: a restarted static member. It takes over the old member id's
// place (the old id is fenced); the group rebalances only if it must.
func (c *Coordinator) replaceStaticMember(now int64, h Handle, g *group, oldID, newID string, req *JoinRequest) {
	oldLeader := g.leader
	m := g.byID[oldID]
	// Fence whoever still uses the old id at once.
	if m.awaitingJoin {
		c.answerJoin(g, m, joinError(oldID, kerr.FencedInstanceID))
	}
	if m.awaitingSync {
		c.reply(m.syncHandle, &SyncResponse{Err: kerr.FencedInstanceID})
		m.awaitingSync, m.syncHandle = false, nil
	}
	delete(g.byID, oldID)
	m.id = newID
	g.byID[newID] = m
	g.static[m.instanceID] = newID
	if g.leader == oldID {
		g.leader = newID
	}
	// The new id owes the SyncGroup the old one owed; left under the old
	// id it could only expire and force a needless rebalance.
	if g.pendingSync[oldID] {
		delete(g.pendingSync, oldID)
		g.pendingSync[newID] = true
	}
	m.clientID, m.clientHost = req.ClientID, req.ClientHost
	heartbeat(now, m)
	c.updateMember(g, m, h, req)

	switch g.state {
	case Stable:
		// Without a change of the group's protocol the member keeps its
		// assignment and nobody rebalances: that is what static
		// membership is for. The new id is persisted first.
		if g.selectProtocol() != g.protocol {
			c.prepareRebalance(now, g)
			return
		}
		g.computeSubscribed() // the member's subscription may have changed
		c.storeGroup(g)
		var r *JoinResponse
		if req.Version >= 9 && g.isLeader(newID) {
			// KIP-814: the leader learns it leads, but must not run
			// the assignor: a Stable group would ignore the result.
			r = c.joinResult(g, m, true)
			r.SkipAssignment = true
		} else {
			// Before v9, name the old leader id, so that a restarted
			// leader does not take itself for the leader and assign.
			r = c.joinResult(g, m, false)
			r.LeaderID = oldLeader
		}
		c.answerJoin(g, m, r)
	case CompletingRebalance:
		// The leader may be assigning to the old id right now; only a
		// new rebalance gives the new id an assignment.
		c.prepareRebalance(now, g)
	}
}

func (c *Coordinator) maybePrepareRebalance(now int64, g *group) {
	switch g.state {
	case Stable, CompletingRebalance, Empty:
		c.prepareRebalance(now, g)
	}
}

// prepareRebalance starts a join phase.
func (c *Coordinator) prepareRebalance(now int64, g *group) {
	if g.state == CompletingRebalance {
		c.resetAndPropagateAssignmentError(now, g, kerr.RebalanceInProgress)
	}
	clear(g.pendingSync)
	g.syncDeadline = never
	if g.state == Empty {
		delay := int64(c.cfg.InitialRebalanceDelayMs)
		g.joinInitial = true
		g.joinDelayMs = delay
		g.joinRemainingMs = max(g.rebalanceTimeoutMs()-delay, 0)
		g.joinDeadline = now + delay
	} else {
		g.joinInitial = false
		g.joinDeadline = now + g.rebalanceTimeoutMs()
	}
	g.joinWaiting = false
	g.transition(PreparingRebalance, now)
	c.tryCompleteJoin(now, g)
}

// tryCompleteJoin ends the join phase early once every member has
// rejoined and no member id handed out is still expected back.
func (c *Coordinator) tryCompleteJoin(now int64, g *group) {
	if g.state != PreparingRebalance {
		return
	}
	if !g.joinInitial && g.hasAllMembersJoined() {
		c.completeJoin(now, g)
		return
	}
	if g.joinWaiting && g.numAwaiting > 0 {
		g.joinWaiting = false
		g.joinDeadline = now
		if p := g.joinWaitPeriodMs; p > 0 {
			g.joinDeadline = g.joinWaitSince + (now-g.joinWaitSince+p-1)/p*p
		}
	}
}

// joinPhaseExpired runs when joinDeadline passes.
func (c *Coordinator) joinPhaseExpired(now int64, g *group) {
	if g.joinInitial && g.newMemberAdded && g.joinRemainingMs != 0 {
		g.newMemberAdded = false
		delay := min(int64(c.cfg.InitialRebalanceDelayMs), g.joinRemainingMs)
		g.joinRemainingMs = max(g.joinRemainingMs-g.joinDelayMs, 0)
		g.joinDelayMs = delay
		g.joinDeadline = now + delay
		return
	}
	c.completeJoin(now, g)
}

// completeJoin ends the join phase: dynamic members that did not rejoin
// are dropped (static ones keep their place), a new generation begins,
// and every parked JoinGroup is answered.
func (c *Coordinator) completeJoin(now int64, g *group) {
	g.joinDeadline, g.joinInitial, g.joinWaiting = never, false, false
	for _, m := range append([]*member(nil), g.members...) {
		if !m.awaitingJoin && m.instanceID == "" {
			c.removeMemberQuietly(g, m)
		}
	}
	if !c.electJoinedLeader(g) && len(g.members) > 0 {
		// Only static members that have not rejoined are left. Kafka
		// checks again every rebalance timeout until one has; nothing
		// but a rejoin can change the answer, so the timer is armed
		// only then, for the end of the period it falls in
		// (tryCompleteJoin). Members leaving or expiring end the join
		// phase through tryCompleteJoin as well.
		g.joinDeadline = never
		g.joinWaitSince, g.joinWaitPeriodMs = now, g.rebalanceTimeoutMs()
		g.joinWaiting = true
		return
	}
	g.generation++
	g.newMemberAdded = false
	if len(g.members) == 0 {
		g.protocol = ""
		g.transition(Empty, now)
		g.computeSubscribed()
		c.storeGroup(g)
		return
	}
	g.protocol = g.selectProtocol()
	g.transition(CompletingRebalance, now)
	g.computeSubscribed()
	for _, m := range g.members {
		m.assignment = nil
		c.answerJoin(g, m, c.joinResult(g, m, g.isLeader(m.id)))
		heartbeat(now, m)
		m.isNew = false
		g.pendingSync[m.id] = true
	}
	g.syncDeadline = now + g.rebalanceTimeoutMs()
}

// electJoinedLeader keeps the leader if it rejoined, or else makes the
// first member that did rejoin the leader.
func (c *Coordinator) electJoinedLeader(g *group) bool {
	l := g.byID[g.leader]
	if l == nil {
		return false
	}
	if l.awaitingJoin {
		return true
	}
	for _, m := range g.members {
		if m.awaitingJoin {
			g.leader = m.id
			return true
		}
	}
	return false
}
