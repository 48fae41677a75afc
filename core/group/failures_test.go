package group

import (
	"testing"

	"github.com/twmb/franz-go/pkg/kerr"
)

// The failure schedules of issue 4, one test each.

// The leader dies after the join phase, before its SyncGroup: its session
// expires during CompletingRebalance, the follower's parked SyncGroup is
// sent back to rejoin, and the survivor becomes leader of the next
// generation.
func TestMemberDiesDuringCompletingRebalance(t *testing.T) {
	h := newHarness(t, testConfig())
	a, b := h.client("a"), h.client("b")
	ja, jb := a.joinFully(), b.joinFully()
	h.advance(0)
	h.wantNoErr(ja)
	h.wantNoErr(jb)
	if !a.isLeader() {
		t.Fatal("a should lead")
	}
	sb := b.sync()
	h.advance(9999)
	h.pending(sb)
	h.wantState("g", CompletingRebalance)
	h.advance(1) // a's session (10 s) expires
	h.wantErr(sb, kerr.RebalanceInProgress)
	h.wantState("g", PreparingRebalance)
	jb = b.join()
	h.wantNoErr(jb) // b is the only member left: the join phase ends at once
	if !b.isLeader() || b.generation != 2 {
		t.Fatalf("b: leader %q generation %d", b.leader, b.generation)
	}
	h.wantNoErr(b.sync())
	h.wantState("g", Stable)
	h.wantErr(a.heartbeat(), kerr.UnknownMemberID)
}

// A heartbeat names a generation: during the join phase the current one
// gets REBALANCE_IN_PROGRESS; once the next generation begins, the old one
// gets ILLEGAL_GENERATION.
func TestHeartbeatAfterGenerationChange(t *testing.T) {
	h := newHarness(t, testConfig())
	a, b, c := h.client("a"), h.client("b"), h.client("c")
	h.stabilize(a, b)
	h.wantNoErr(b.heartbeat())
	jc := c.joinFully()
	h.wantState("g", PreparingRebalance)
	h.wantErr(a.heartbeat(), kerr.RebalanceInProgress)
	h.wantErr(b.heartbeat(), kerr.RebalanceInProgress)
	ja, jb := a.join(), b.join()
	for _, hd := range []Handle{ja, jb, jc} {
		h.wantNoErr(hd)
	}
	h.wantState("g", CompletingRebalance)
	stale := h.handle("b/hb")
	h.apply(h.c.Heartbeat(h.now, stale, &HeartbeatRequest{Group: "g", Generation: 1, MemberID: b.memberID}))
	h.wantErr(stale, kerr.IllegalGeneration)
	h.wantNoErr(b.heartbeat()) // generation 2, during CompletingRebalance
	stale = h.handle("b/sync")
	h.apply(h.c.Sync(h.now, stale, &SyncRequest{Group: "g", Generation: 1, MemberID: b.memberID}))
	h.wantErr(stale, kerr.IllegalGeneration)
}

// The leader leaves while a follower waits for the assignment: the
// follower is sent back to rejoin and leads the next generation.
func TestLeaderLeavesDuringSync(t *testing.T) {
	h := newHarness(t, testConfig())
	a, b := h.client("a"), h.client("b")
	ja, jb := a.joinFully(), b.joinFully()
	h.advance(0)
	h.wantNoErr(ja)
	h.wantNoErr(jb)
	sb := b.sync()
	h.pending(sb)
	h.wantNoErr(a.leave())
	h.wantErr(sb, kerr.RebalanceInProgress)
	h.wantState("g", PreparingRebalance)
	h.wantNoErr(b.join())
	if !b.isLeader() || b.generation != 2 || len(b.members) != 1 {
		t.Fatalf("b: leader %q generation %d members %d", b.leader, b.generation, len(b.members))
	}
}

// A follower's SyncGroup that arrives before the leader's is parked and
// answered with the leader's; both answers go out with the group's
// metadata record, which the caller writes first.
func TestFollowerSyncBeforeLeader(t *testing.T) {
	h := newHarness(t, testConfig())
	a, b := h.client("a"), h.client("b")
	ja, jb := a.joinFully(), b.joinFully()
	h.advance(0)
	h.wantNoErr(ja)
	h.wantNoErr(jb)
	sb := h.handle("b/sync")
	out := h.c.Sync(h.now, sb, &SyncRequest{Group: "g", Generation: 1, MemberID: b.memberID})
	if len(out.Replies) != 0 || len(out.Records) != 0 {
		t.Fatalf("follower's SyncGroup answered before the leader's: %+v", out)
	}
	h.apply(out)
	sa := h.handle("a/sync")
	out = h.c.Sync(h.now, sa, &SyncRequest{Group: "g", Generation: 1, MemberID: a.memberID, Assignments: []SyncAssignment{
		{MemberID: a.memberID, Assignment: []byte("pa")},
		{MemberID: b.memberID, Assignment: []byte("pb")},
	}})
	if len(out.Records) != 1 || len(out.Replies) != 2 {
		t.Fatalf("leader's SyncGroup: %d records, %d replies", len(out.Records), len(out.Replies))
	}
	h.apply(out)
	if string(h.syncReply(sa).Assignment) != "pa" || string(h.syncReply(sb).Assignment) != "pb" {
		t.Fatal("assignments mixed up")
	}
	h.wantState("g", Stable)
	// A SyncGroup in Stable gets the member's assignment again.
	if r := h.syncReply(b.sync()); r.Err != nil || string(r.Assignment) != "pb" {
		t.Fatalf("sync in Stable: %+v", r)
	}
}

// A member joining a Stable group starts a rebalance; the others learn of
// it from their heartbeats and rejoin, and the join phase ends as soon as
// everyone has.
func TestJoinDuringStable(t *testing.T) {
	h := newHarness(t, testConfig())
	a, b, c := h.client("a"), h.client("b"), h.client("c")
	h.stabilize(a, b)
	h.wantErr(c.join(), kerr.MemberIDRequired)
	h.wantState("g", Stable) // a member id alone changes nothing
	jc := c.join()
	h.pending(jc)
	h.wantState("g", PreparingRebalance)
	h.wantErr(a.heartbeat(), kerr.RebalanceInProgress)
	h.wantErr(b.heartbeat(), kerr.RebalanceInProgress)
	ja := a.join()
	h.pending(ja)
	jb := b.join()
	for _, hd := range []Handle{ja, jb, jc} {
		if r := h.joinReply(hd); r.Err != nil || r.Generation != 2 || r.LeaderID != a.memberID {
			t.Fatalf("%v: %+v", hd, r)
		}
	}
	h.wantNoErr(a.sync())
	h.wantNoErr(b.sync())
	h.wantNoErr(c.sync())
	if string(c.assignment) != "a:"+c.memberID {
		t.Fatalf("c's assignment %q", c.assignment)
	}
}

// A member whose session expires in Stable is removed and the group
// rebalances without it.
func TestSessionTimeoutInStable(t *testing.T) {
	h := newHarness(t, testConfig())
	a, b := h.client("a"), h.client("b")
	h.stabilize(a, b)
	h.advance(6000)
	h.wantNoErr(a.heartbeat())
	h.advance(3999)
	h.wantState("g", Stable)
	h.advance(1) // b's session, 10 s since its SyncGroup
	h.wantState("g", PreparingRebalance)
	h.wantErr(a.heartbeat(), kerr.RebalanceInProgress)
	h.wantNoErr(a.join())
	if len(a.members) != 1 {
		t.Fatal("b still a member")
	}
}

// Members that get through the join phase but never send SyncGroup are
// removed after the rebalance timeout, and the rest rebalance.
func TestSyncPhaseTimeout(t *testing.T) {
	h := newHarness(t, testConfig())
	a, b := h.client("a"), h.client("b")
	ja, jb := a.joinFully(), b.joinFully()
	h.advance(0)
	h.wantNoErr(ja)
	h.wantNoErr(jb)
	h.wantNoErr(a.sync())
	h.wantState("g", Stable)
	for range 4 {
		h.advance(7000)
		h.wantNoErr(a.heartbeat())
		h.wantNoErr(b.heartbeat()) // alive, but never syncs
	}
	h.advance(2000) // 30 s after the join phase
	h.wantState("g", PreparingRebalance)
	h.wantErr(b.heartbeat(), kerr.UnknownMemberID)
}

func TestSyncRefused(t *testing.T) {
	h := newHarness(t, testConfig())
	a, b := h.client("a"), h.client("b")
	h.stabilize(a, b)
	tests := []struct {
		name string
		req  SyncRequest
		want error
	}{
		{"empty group id", SyncRequest{Generation: 1, MemberID: a.memberID}, kerr.InvalidGroupID},
		{"unknown group", SyncRequest{Group: "nope", Generation: 1, MemberID: a.memberID}, kerr.UnknownMemberID},
		{"unknown member", SyncRequest{Group: "g", Generation: 1, MemberID: "x"}, kerr.UnknownMemberID},
		{"old generation", SyncRequest{Group: "g", Generation: 0, MemberID: a.memberID}, kerr.IllegalGeneration},
		{"other protocol type", SyncRequest{Group: "g", Generation: 1, MemberID: a.memberID, ProtocolType: ptr("connect")}, kerr.InconsistentGroupProtocol},
		{"other protocol", SyncRequest{Group: "g", Generation: 1, MemberID: a.memberID, Protocol: ptr("sticky")}, kerr.InconsistentGroupProtocol},
		{"instance id of nobody", SyncRequest{Group: "g", Generation: 1, MemberID: a.memberID, InstanceID: ptr("i")}, kerr.UnknownMemberID},
	}
	for _, tt := range tests {
		hd := h.handle(tt.name)
		h.apply(h.c.Sync(h.now, hd, &tt.req))
		if err := h.syncReply(hd).Err; err != tt.want {
			t.Errorf("%s: %v, want %v", tt.name, err, tt.want)
		}
	}
	h.wantState("g", Stable)
	h.wantNoErr(b.heartbeat())
}

// LeaveGroup takes a batch of members, by member id or (administrators)
// by instance id alone; each gets its own outcome.
func TestLeaveBatch(t *testing.T) {
	h := newHarness(t, testConfig())
	a, s, c := h.client("a"), h.static("s", "i1"), h.client("c")
	h.stabilize(a, s, c)
	hd := h.handle("admin/leave")
	h.apply(h.c.Leave(h.now, hd, &LeaveRequest{Group: "g", Members: []LeaveMember{
		{InstanceID: ptr("i1")},
		{MemberID: c.memberID},
		{MemberID: "nobody"},
		{InstanceID: ptr("i9")},
		{MemberID: a.memberID, InstanceID: ptr("i1")}, // i1 is gone by now
	}}))
	r := h.reply(hd).(*LeaveResponse)
	want := []error{nil, nil, kerr.UnknownMemberID, kerr.UnknownMemberID, kerr.UnknownMemberID}
	for i, w := range want {
		if r.Members[i].Err != w {
			t.Errorf("member %d: %v, want %v", i, r.Members[i].Err, w)
		}
	}
	if g := h.c.groups["g"]; len(g.members) != 1 || g.members[0].id != a.memberID {
		t.Fatal("wrong members left")
	}
	h.wantState("g", PreparingRebalance)
	// a left alone: its rejoin ends the join phase at once.
	h.wantNoErr(a.join())

	hd = h.handle("x/leave")
	h.apply(h.c.Leave(h.now, hd, &LeaveRequest{Group: "nope", Members: []LeaveMember{{MemberID: "x"}}}))
	if r := h.reply(hd).(*LeaveResponse); r.Err != nil || r.Members[0].Err != kerr.UnknownMemberID {
		t.Fatalf("leave of unknown group: %+v", r)
	}
}

func ptr(s string) *string { return &s }
