package group

import (
	"fmt"
)

// verify checks what must hold between calls; tests run it after every
// step, and builds with the invariants tag after every call.
func (c *Coordinator) verify() error {
	if c.phase != active {
		return nil
	}
	for i, g := range c.timers {
		if g.heapIndex != i || c.groups[g.id] != g {
			return fmt.Errorf("timer heap entry %d (group %q) is stale", i, g.id)
		}
	}
	for id, g := range c.groups {
		if err := c.verifyGroup(id, g); err != nil {
			return fmt.Errorf("group %q (%v, generation %d): %w", id, g.state, g.generation, err)
		}
	}
	return nil
}

func (c *Coordinator) verifyGroup(id string, g *group) error {
	if g.id != id || g.state == Dead || g.generation < 0 {
		return fmt.Errorf("bad identity or state")
	}
	if len(g.byID) != len(g.members) {
		return fmt.Errorf("%d members but %d by id", len(g.members), len(g.byID))
	}
	awaiting, statics := 0, 0
	supported := map[string]int{}
	next := min(g.joinDeadline, g.syncDeadline)
	for _, m := range g.members {
		if g.byID[m.id] != m {
			return fmt.Errorf("member %q not indexed", m.id)
		}
		if _, ok := g.pending[m.id]; ok {
			return fmt.Errorf("member %q is also pending", m.id)
		}
		if m.instanceID != "" {
			statics++
			if g.static[m.instanceID] != m.id {
				return fmt.Errorf("static member %q not mapped", m.id)
			}
		}
		if m.awaitingJoin {
			awaiting++
			if g.state != PreparingRebalance {
				return fmt.Errorf("member %q has a JoinGroup parked", m.id)
			}
		}
		if m.awaitingSync && g.state != CompletingRebalance {
			return fmt.Errorf("member %q has a SyncGroup parked", m.id)
		}
		// A member nobody answers for must be heartbeating, or it could
		// stay in the group forever.
		if m.deadline == never && !m.awaitingJoin && !m.awaitingSync {
			return fmt.Errorf("member %q has no session deadline", m.id)
		}
		if g.state == Stable && m.assignment == nil {
			return fmt.Errorf("member %q is Stable without an assignment", m.id)
		}
		if (g.state == Stable || g.state == CompletingRebalance) && !supports(m, g.protocol) {
			return fmt.Errorf("member %q does not support protocol %q", m.id, g.protocol)
		}
		for _, p := range m.protocols {
			supported[p.Name]++
		}
		next = min(next, m.deadline)
	}
	for _, d := range g.pending {
		next = min(next, d)
	}
	if statics != len(g.static) {
		return fmt.Errorf("%d static members but %d instance ids", statics, len(g.static))
	}
	if awaiting != g.numAwaiting {
		return fmt.Errorf("%d members awaiting join, counted %d", awaiting, g.numAwaiting)
	}
	if len(supported) != len(g.supported) {
		return fmt.Errorf("protocol support counts %v, want %v", g.supported, supported)
	}
	for name, n := range supported {
		if g.supported[name] != n {
			return fmt.Errorf("protocol support counts %v, want %v", g.supported, supported)
		}
	}
	if (g.leader == "") != (len(g.members) == 0) || (g.leader != "" && g.byID[g.leader] == nil) {
		return fmt.Errorf("leader %q among %d members", g.leader, len(g.members))
	}
	for mid := range g.pendingSync {
		if g.byID[mid] == nil {
			return fmt.Errorf("pending sync of non-member %q", mid)
		}
	}
	if len(g.pendingSync) > 0 && g.state != CompletingRebalance && g.state != Stable {
		return fmt.Errorf("members owe a SyncGroup outside the sync phase")
	}
	if (g.joinDeadline != never || g.joinWaiting) != (g.state == PreparingRebalance) {
		return fmt.Errorf("join deadline %d, waiting %v", g.joinDeadline, g.joinWaiting)
	}
	if g.joinWaiting && (g.joinDeadline != never || g.numAwaiting > 0) {
		return fmt.Errorf("waiting for a rejoin with %d rejoined", g.numAwaiting)
	}
	if g.syncDeadline != never && len(g.pendingSync) == 0 {
		return fmt.Errorf("sync deadline armed with nobody owing a SyncGroup")
	}
	switch g.state {
	case Empty:
		if len(g.members) > 0 || g.protocol != "" {
			return fmt.Errorf("empty with %d members, protocol %q", len(g.members), g.protocol)
		}
	case CompletingRebalance, Stable:
		if g.protocol == "" {
			return fmt.Errorf("no protocol selected")
		}
	}
	if g.next != next {
		return fmt.Errorf("next deadline %d, want %d", g.next, next)
	}
	if (next != never) != (g.heapIndex >= 0) {
		return fmt.Errorf("deadline %d but heap index %d", next, g.heapIndex)
	}
	return nil
}

func supports(m *member, protocol string) bool {
	for _, p := range m.protocols {
		if p.Name == protocol {
			return true
		}
	}
	return false
}
