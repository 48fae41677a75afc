package group

import (
	"container/heap"
	"maps"
	"slices"
)

// timerHeap orders the groups that have an armed deadline by their
// earliest one (then id, so that ties fire in a fixed order). It holds at
// most one entry per group.
type timerHeap []*group

func (h timerHeap) Len() int { return len(h) }
func (h timerHeap) Less(i, j int) bool {
	if h[i].next != h[j].next {
		return h[i].next < h[j].next
	}
	return h[i].id < h[j].id
}
func (h timerHeap) Swap(i, j int) {
	h[i], h[j] = h[j], h[i]
	h[i].heapIndex, h[j].heapIndex = i, j
}
func (h *timerHeap) Push(x any) {
	g := x.(*group)
	g.heapIndex = len(*h)
	*h = append(*h, g)
}
func (h *timerHeap) Pop() any {
	old := *h
	g := old[len(old)-1]
	old[len(old)-1] = nil
	*h = old[:len(old)-1]
	g.heapIndex = -1
	return g
}

func (h *timerHeap) remove(g *group) {
	if g.heapIndex >= 0 {
		heap.Remove(h, g.heapIndex)
	}
}

// reschedule recomputes g's earliest deadline after a call changed it.
// It costs a pass over the members, which every call that touches a group
// makes anyway; keeping one deadline per group, not per member, bounds
// the heap by the number of groups.
func (c *Coordinator) reschedule(g *group) {
	next := min(g.joinDeadline, g.syncDeadline)
	for _, m := range g.members {
		next = min(next, m.deadline)
	}
	for _, d := range g.pending {
		next = min(next, d)
	}
	g.next = next
	switch {
	case c.groups[g.id] != g || next == never:
		c.timers.remove(g)
	case g.heapIndex < 0:
		heap.Push(&c.timers, g)
	default:
		heap.Fix(&c.timers, g.heapIndex)
	}
}

// NextDeadline is when Tick next has work to do; ok is false when nothing
// is armed. A deadline at or before now means at once.
func (c *Coordinator) NextDeadline() (ms int64, ok bool) {
	if c.phase != active {
		return 0, false
	}
	ms = c.sweepAt
	if len(c.timers) > 0 {
		ms = min(ms, c.timers[0].next)
	}
	return ms, true
}

// Tick fires every timer due at now: pending member ids, session
// timeouts, the end of join phases and sync phases, and the periodic
// expiry of offsets. Each due group is visited once: a timer armed for now
// or earlier while Tick runs fires at the next Tick, which NextDeadline
// asks for at once. Runs on the owning shard.
func (c *Coordinator) Tick(now int64) Output {
	if c.phase != active {
		return Output{}
	}
	if now >= c.sweepAt {
		c.expireOffsets(now)
		c.sweepAt = now + c.cfg.OffsetsRetentionCheckIntervalMs
	}
	var due []*group
	for len(c.timers) > 0 && c.timers[0].next <= now {
		due = append(due, heap.Pop(&c.timers).(*group))
	}
	for _, g := range due {
		c.fire(now, g)
		c.reschedule(g)
	}
	c.checkInvariants()
	return c.flush()
}

// fire runs g's due timers in a fixed order: pending member ids, then
// sessions in member order, then the join phase, then the sync phase.
func (c *Coordinator) fire(now int64, g *group) {
	for _, id := range slices.Sorted(maps.Keys(g.pending)) {
		if g.pending[id] <= now {
			c.removePending(now, g, id)
		}
	}
	for _, m := range slices.Clone(g.members) {
		if m.deadline <= now && g.byID[m.id] == m {
			c.expireSession(now, g, m)
		}
	}
	if g.joinDeadline <= now {
		c.joinPhaseExpired(now, g)
	}
	if g.syncDeadline <= now {
		c.syncPhaseExpired(now, g)
	}
	if g.state == Empty {
		c.dropIfUnused(g)
	}
}

// expireSession handles a member whose session deadline passed. A member
// with a parked JoinGroup or SyncGroup counts as heartbeating, as in
// Kafka, unless it is new in this join phase.
func (c *Coordinator) expireSession(now int64, g *group, m *member) {
	if !m.isNew && (m.awaitingJoin || m.awaitingSync) {
		m.deadline = never
		return
	}
	c.removeMember(now, g, m)
}

// heartbeat pushes a member's session deadline out.
func heartbeat(now int64, m *member) {
	m.deadline = now + int64(m.sessionTimeoutMs)
}
