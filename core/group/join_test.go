package group

import (
	"bytes"
	"testing"

	"github.com/twmb/franz-go/pkg/kerr"
)

// KIP-394: JoinGroup v4+ without a member id is told its id and must
// rejoin with it; older versions become members at once.
func TestJoinMemberIDRequired(t *testing.T) {
	h := newHarness(t, testConfig())
	a := h.client("a")
	first := a.join()
	h.wantErr(first, kerr.MemberIDRequired)
	if got := h.joinReply(first).MemberID; got != "a-1" {
		t.Fatalf("member id %q, want a-1", got)
	}
	h.wantState("g", Empty)
	if len(h.c.groups["g"].pending) != 1 {
		t.Fatal("member id not pending")
	}
	second := a.join()
	h.pending(second)
	h.wantState("g", PreparingRebalance)
	h.advance(0)
	r := h.joinReply(second)
	if r.Err != nil || r.MemberID != "a-1" || r.Generation != 1 || r.LeaderID != "a-1" || *r.Protocol != "range" || *r.ProtocolType != "consumer" {
		t.Fatalf("join: %+v", r)
	}
	if len(r.Members) != 1 || !bytes.Equal(r.Members[0].Metadata, subscription("t")) {
		t.Fatalf("leader's members: %+v", r.Members)
	}
	h.wantState("g", CompletingRebalance)

	old := h.client("old")
	old.version = 3
	hd := old.join()
	h.pending(hd)
	h.wantState("g", PreparingRebalance)
	if old.memberID != "" || h.c.groups["g"].byID["old-2"] == nil {
		t.Fatal("v3 join did not make a member at once")
	}
}

func TestJoinRefused(t *testing.T) {
	tests := []struct {
		name  string
		setup func(h *harness) // a group "g" with members, if needed
		req   func(cl *client)
		want  error
	}{
		{name: "empty group id", req: func(cl *client) { cl.group = "" }, want: kerr.InvalidGroupID},
		{name: "session timeout below minimum", req: func(cl *client) { cl.session = 5999 }, want: kerr.InvalidSessionTimeout},
		{name: "session timeout above maximum", req: func(cl *client) { cl.session = 1800001 }, want: kerr.InvalidSessionTimeout},
		{name: "member id of a group that does not exist", req: func(cl *client) { cl.memberID = "x-1" }, want: kerr.UnknownMemberID},
		{name: "no protocol type", req: func(cl *client) { cl.ptype = "" }, want: kerr.InconsistentGroupProtocol},
		{name: "no protocols", req: func(cl *client) { cl.protocols = nil }, want: kerr.InconsistentGroupProtocol},
		{
			name:  "other protocol type",
			setup: func(h *harness) { h.stabilize(h.client("a")) },
			req:   func(cl *client) { cl.ptype = "connect" },
			want:  kerr.InconsistentGroupProtocol,
		},
		{
			name:  "no protocol in common",
			setup: func(h *harness) { h.stabilize(h.client("a")) },
			req:   func(cl *client) { cl.protocols = []Protocol{{Name: "roundrobin"}} },
			want:  kerr.InconsistentGroupProtocol,
		},
		{
			name:  "unknown member id",
			setup: func(h *harness) { h.stabilize(h.client("a")) },
			req:   func(cl *client) { cl.memberID = "nobody" },
			want:  kerr.UnknownMemberID,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t, testConfig())
			if tt.setup != nil {
				tt.setup(h)
			}
			before := h.state("g")
			cl := h.client("z")
			tt.req(cl)
			h.wantErr(cl.join(), tt.want)
			if got := h.state("g"); got != before {
				t.Fatalf("group went from %v to %v", before, got)
			}
		})
	}
}

func TestGroupMaxSize(t *testing.T) {
	cfg := testConfig()
	cfg.MaxSize = 2
	h := newHarness(t, cfg)
	a, b, c := h.client("a"), h.client("b"), h.client("c")
	h.stabilize(a, b)
	h.wantErr(c.join(), kerr.GroupMaxSizeReached)
	if c.memberID != "" {
		t.Fatal("refused member got an id")
	}
	h.wantState("g", Stable)
	// Members already in are not shed.
	h.wantNoErr(a.heartbeat())
	h.wantNoErr(b.join())
}

// The protocol every member supports that most prefer wins; the leader
// gets each member's metadata for it, followers get no member list.
func TestProtocolSelection(t *testing.T) {
	h := newHarness(t, testConfig())
	a, b, c := h.client("a"), h.client("b"), h.client("c")
	a.protocols = []Protocol{{Name: "sticky", Metadata: []byte("a-sticky")}, {Name: "range", Metadata: []byte("a-range")}}
	b.protocols = []Protocol{{Name: "range", Metadata: []byte("b-range")}, {Name: "sticky", Metadata: []byte("b-sticky")}}
	c.protocols = []Protocol{{Name: "range", Metadata: []byte("c-range")}, {Name: "sticky", Metadata: []byte("c-sticky")}, {Name: "rr"}}
	ja, jb, jc := a.joinFully(), b.joinFully(), c.joinFully()
	h.advance(0)
	for _, hd := range []Handle{ja, jb, jc} {
		if r := h.joinReply(hd); r.Err != nil || *r.Protocol != "range" || r.Generation != 1 {
			t.Fatalf("%v: %+v", hd, r)
		}
	}
	if !a.isLeader() || len(a.members) != 3 || len(b.members) != 0 || len(c.members) != 0 {
		t.Fatalf("leader %q, member lists %d/%d/%d", a.leader, len(a.members), len(b.members), len(c.members))
	}
	for i, want := range []string{"a-range", "b-range", "c-range"} {
		if string(a.members[i].Metadata) != want {
			t.Fatalf("member %d metadata %q, want %q", i, a.members[i].Metadata, want)
		}
	}
}

// The first rebalance of an empty group waits group.initial.rebalance.
// delay.ms, again each time a member arrived during the wait, up to the
// rebalance timeout.
func TestInitialRebalanceDelay(t *testing.T) {
	cfg := testConfig()
	cfg.InitialRebalanceDelayMs = 3000
	h := newHarness(t, cfg)
	a, b := h.client("a"), h.client("b")
	start := h.now
	ja := a.joinFully()
	h.advance(2000)
	jb := b.joinFully()
	h.advance(999)
	h.pending(ja)
	h.advance(1) // 3000: b arrived during the delay, so wait another
	h.pending(ja)
	h.advance(2999)
	h.pending(jb)
	h.advance(1) // 6000
	if h.now-start != 6000 {
		t.Fatal("test arithmetic")
	}
	for _, hd := range []Handle{ja, jb} {
		if r := h.joinReply(hd); r.Err != nil || r.Generation != 1 {
			t.Fatalf("%v: %+v", hd, r)
		}
	}

	// Never beyond the rebalance timeout.
	h2 := newHarness(t, cfg)
	x := h2.client("x")
	x.rebalance = 4000
	jx := x.joinFully()
	for i := range 5 {
		h2.advance(1000)
		h2.client("y" + string(rune('0'+i))).joinFully()
	}
	// x at 0; deadlines 3000, then min(3000, 1000 left)=1000 -> 4000.
	if !h2.answered(jx) {
		t.Fatal("initial delay outlived the rebalance timeout")
	}
}

// KIP-394: a member id handed out but never used expires after the
// session timeout; until then the join phase waits for it.
func TestPendingMemberExpires(t *testing.T) {
	h := newHarness(t, testConfig())
	a, b := h.client("a"), h.client("b")
	h.stabilize(a)
	h.wantErr(b.join(), kerr.MemberIDRequired)
	ja := a.join() // the leader rejoining starts a rebalance
	h.wantState("g", PreparingRebalance)
	h.advance(9999)
	h.pending(ja)
	h.advance(1)
	r := h.joinReply(ja)
	if r.Err != nil || r.Generation != 2 || len(r.Members) != 1 {
		t.Fatalf("join: %+v", r)
	}
	h.wantErr(b.join(), kerr.UnknownMemberID)
}

// A member that does not rejoin within the rebalance timeout is dropped,
// even if it heartbeats.
func TestRebalanceTimeoutDropsMembersNotRejoined(t *testing.T) {
	h := newHarness(t, testConfig())
	a, b := h.client("a"), h.client("b")
	h.stabilize(a, b)
	ja := a.join()
	for range 5 {
		h.advance(5000)
		h.wantErr(b.heartbeat(), kerr.RebalanceInProgress)
	}
	h.pending(ja)
	h.advance(5000) // 30 s
	r := h.joinReply(ja)
	if r.Err != nil || r.Generation != 2 || len(r.Members) != 1 || r.Members[0].MemberID != a.memberID {
		t.Fatalf("join: %+v", r)
	}
	h.wantErr(b.heartbeat(), kerr.UnknownMemberID)
}

// In Stable a follower rejoining with the same metadata gets the current
// generation back; one with new metadata, or the leader, rebalances.
func TestRejoinDuringStable(t *testing.T) {
	h := newHarness(t, testConfig())
	a, b := h.client("a"), h.client("b")
	h.stabilize(a, b)
	r := h.joinReply(b.join())
	if r.Err != nil || r.Generation != 1 || len(r.Members) != 0 {
		t.Fatalf("follower rejoin: %+v", r)
	}
	h.wantState("g", Stable)

	b.protocols = []Protocol{{Name: "range", Metadata: subscription("t", "u")}}
	jb := b.join()
	h.pending(jb)
	h.wantState("g", PreparingRebalance)
	h.wantErr(a.heartbeat(), kerr.RebalanceInProgress)
	ja := a.join()
	h.wantNoErr(ja)
	h.wantNoErr(jb)
	if a.generation != 2 || b.generation != 2 {
		t.Fatal("generation did not move on")
	}
	h.wantNoErr(a.sync())
	h.wantNoErr(b.sync())

	h.pending(a.join()) // leader
	h.wantState("g", PreparingRebalance)
}

// A member that missed its JoinGroup response and asks again with the
// same metadata gets the same answer; with other metadata, a rebalance.
func TestRejoinDuringCompletingRebalance(t *testing.T) {
	h := newHarness(t, testConfig())
	a, b := h.client("a"), h.client("b")
	ja, jb := a.joinFully(), b.joinFully()
	h.advance(0)
	h.wantNoErr(ja)
	h.wantNoErr(jb)
	again := h.joinReply(a.join())
	if again.Err != nil || again.Generation != 1 || len(again.Members) != 2 {
		t.Fatalf("leader asking again: %+v", again)
	}
	h.wantState("g", CompletingRebalance)
	sb := b.sync()
	h.pending(sb)
	b.protocols = []Protocol{{Name: "range", Metadata: subscription("u")}}
	h.pending(b.join())
	h.wantState("g", PreparingRebalance)
	// b's SyncGroup is superseded by its JoinGroup.
	h.wantErr(sb, kerr.RebalanceInProgress)
}

// An empty group gets a new generation once its last member is gone, and
// that is persisted.
func TestLastMemberLeaves(t *testing.T) {
	h := newHarness(t, testConfig())
	a := h.client("a")
	h.stabilize(a)
	n := len(h.records)
	h.wantNoErr(a.leave())
	h.wantState("g", Empty)
	g := h.c.groups["g"]
	if g.generation != 2 || g.protocol != "" || g.leader != "" || g.protocolType != "consumer" {
		t.Fatalf("empty group: generation %d protocol %q leader %q type %q", g.generation, g.protocol, g.leader, g.protocolType)
	}
	if len(h.records) != n+1 {
		t.Fatalf("%d records written, want the empty group's", len(h.records)-n)
	}
	// The group lingers only while it has offsets: none, so the next
	// sweep removes it with a tombstone.
	h.advance(h.cfg.OffsetsRetentionCheckIntervalMs)
	h.wantState("g", Dead)
	if last := h.records[len(h.records)-1]; last.Value != nil {
		t.Fatal("no group tombstone")
	}
}

// A JoinGroup that never completes (the new member's) is dropped after
// five minutes if the join phase somehow lasts that long.
func TestNewMemberJoinTimeout(t *testing.T) {
	h := newHarness(t, testConfig())
	a, b := h.client("a"), h.client("b")
	a.rebalance = 10 * 60 * 1000
	b.rebalance = 10 * 60 * 1000
	a.session = 60000
	h.stabilize(a)
	jb := b.joinFully() // new member: the group waits up to 10 min for a
	for range 5 {
		h.advance(55000)
		h.wantErr(a.heartbeat(), kerr.RebalanceInProgress)
	}
	h.advance(300000 - 5*55000)
	h.wantErr(jb, kerr.UnknownMemberID)
	ja := a.join()
	h.wantNoErr(ja)
	if len(h.joinReply(ja).Members) != 1 {
		t.Fatal("expired new member still in the group")
	}
}

// A client naming a protocol twice, or one without a name, does not
// upset the counts protocol selection relies on: the first of each name
// counts, unnamed ones are dropped.
func TestJoinProtocolListNormalized(t *testing.T) {
	h := newHarness(t, testConfig())
	a, b := h.client("a"), h.client("b")
	b.protocols = []Protocol{{Name: "range", Metadata: []byte("1")}, {Name: "range", Metadata: []byte("2")}, {Name: ""}}
	h.stabilize(a, b)
	if p := h.c.groups["g"].protocol; p != "range" || string(a.members[1].Metadata) != "1" {
		t.Fatalf("protocol %q, b's metadata %q", p, a.members[1].Metadata)
	}
	// The same list again is the same metadata: no rebalance.
	h.wantNoErr(b.join())
	h.wantState("g", Stable)
	c := h.client("c")
	c.protocols = []Protocol{{Name: ""}}
	h.wantErr(c.join(), kerr.InconsistentGroupProtocol)
}
