package group

import (
	"bytes"
	"testing"

	"github.com/twmb/franz-go/pkg/kerr"
)

// KIP-345: a static member that restarts within its session timeout
// rejoins with no member id and takes its old place without a rebalance:
// same generation, same assignment. Its new id is persisted; the old one
// is fenced.
func TestStaticMemberRestartWithoutRebalance(t *testing.T) {
	for _, tt := range []struct {
		version    int16
		wantLeader func(old, new string) string
		wantSkip   bool
	}{
		// Before v9 the restarted leader is told the old leader id,
		// so that it does not run the assignor.
		{version: 8, wantLeader: func(old, new string) string { return old }},
		// v9+: it is told it leads, with SkipAssignment (KIP-814).
		{version: 9, wantLeader: func(old, new string) string { return new }, wantSkip: true},
	} {
		h := newHarness(t, testConfig())
		s, b := h.static("s", "i1"), h.client("b")
		s.version = tt.version
		h.stabilize(s, b)
		if !s.isLeader() {
			t.Fatal("s should lead")
		}
		oldID, assignment := s.memberID, s.assignment
		n := len(h.records)

		s.restart()
		h.advance(5000)
		hd := s.join()
		r := h.joinReply(hd)
		if r.Err != nil || r.Generation != 1 || r.MemberID == oldID || r.LeaderID != tt.wantLeader(oldID, r.MemberID) || r.SkipAssignment != tt.wantSkip {
			t.Fatalf("v%d: rejoin: %+v", tt.version, r)
		}
		if tt.wantSkip && len(r.Members) != 2 {
			t.Fatalf("v%d: leader skipping assignment gets no members", tt.version)
		}
		h.wantState("g", Stable)
		if len(h.records) != n+1 {
			t.Fatalf("v%d: new member id not persisted", tt.version)
		}

		stale := h.handle("old/hb")
		h.apply(h.c.Heartbeat(h.now, stale, &HeartbeatRequest{Group: "g", Generation: 1, MemberID: oldID, InstanceID: ptr("i1")}))
		h.wantErr(stale, kerr.FencedInstanceID)

		sync := h.syncReply(s.sync())
		if sync.Err != nil || !bytes.Equal(sync.Assignment, assignment) {
			t.Fatalf("v%d: sync: %+v, want assignment %q", tt.version, sync, assignment)
		}
		h.wantNoErr(b.heartbeat())
		h.wantNoErr(s.heartbeat())
		h.wantState("g", Stable)
		if g := h.c.groups["g"]; g.generation != 1 || g.leader != s.memberID {
			t.Fatalf("v%d: generation %d leader %q", tt.version, g.generation, g.leader)
		}
	}
}

// A restarted static member whose protocols change the group's protocol
// forces a rebalance.
func TestStaticMemberChangedProtocolRebalances(t *testing.T) {
	h := newHarness(t, testConfig())
	both := []Protocol{{Name: "range", Metadata: subscription("t")}, {Name: "rr", Metadata: subscription("t")}}
	s1, s2, b := h.static("s1", "i1"), h.static("s2", "i2"), h.client("b")
	s1.protocols, s2.protocols = both, both
	b.protocols = []Protocol{both[1], both[0]}
	h.stabilize(s1, s2, b)
	if p := h.c.groups["g"].protocol; p != "range" {
		t.Fatalf("protocol %q", p)
	}
	s2.restart()
	s2.protocols = []Protocol{both[1], both[0]} // votes now 2:1 for rr
	jd := s2.join()
	h.pending(jd)
	h.wantState("g", PreparingRebalance)
	h.wantErr(s1.heartbeat(), kerr.RebalanceInProgress)
	j1 := s1.join()
	h.pending(j1)
	h.pending(jd)
	h.wantNoErr(b.join())
	h.wantNoErr(j1)
	h.wantNoErr(jd)
	if s2.generation != 2 || *h.joinReply(jd).Protocol != "rr" {
		t.Fatalf("after rebalance: %+v", h.joinReply(jd))
	}
}

// As in Kafka, new metadata for the same protocol does not rebalance: a
// restarted cooperative consumer's metadata (owned partitions) always
// differs, and static membership exists to avoid that rebalance. The new
// metadata is kept and persisted.
func TestStaticMemberChangedMetadataKeepsGeneration(t *testing.T) {
	h := newHarness(t, testConfig())
	s, b := h.static("s", "i1"), h.client("b")
	h.stabilize(s, b)
	s.restart()
	s.protocols = []Protocol{{Name: "range", Metadata: subscription("t", "u")}}
	h.wantNoErr(s.join())
	h.wantState("g", Stable)
	d := h.c.Describe("g", 5)
	if !bytes.Equal(d.Members[0].Metadata, subscription("t", "u")) {
		t.Fatalf("metadata %q", d.Members[0].Metadata)
	}
}

// A static member restarting during CompletingRebalance forces a new
// rebalance: the leader may be assigning to its old id. Whoever still
// waits under the old id is fenced.
func TestStaticMemberRestartDuringCompletingRebalance(t *testing.T) {
	h := newHarness(t, testConfig())
	a, s := h.client("a"), h.static("s", "i1")
	ja, js := a.joinFully(), s.join()
	h.advance(0)
	h.wantNoErr(ja)
	h.wantNoErr(js)
	ss := s.sync()
	h.pending(ss)
	oldID := s.memberID
	s.restart()
	js = s.join()
	h.wantErr(ss, kerr.FencedInstanceID)
	h.pending(js)
	h.wantState("g", PreparingRebalance)
	h.wantNoErr(a.join())
	h.wantNoErr(js)
	if s.memberID == oldID || s.generation != 2 {
		t.Fatalf("s: %q generation %d", s.memberID, s.generation)
	}
}

// A static member that does not rejoin keeps its place through a
// rebalance (the leader assigns to it); a dynamic one is dropped.
func TestStaticMemberKeptThroughRebalance(t *testing.T) {
	h := newHarness(t, testConfig())
	a, s, d := h.client("a"), h.static("s", "i1"), h.client("d")
	h.stabilize(a, s, d)
	ja := a.join()
	for range 5 {
		h.advance(5000)
		h.wantErr(s.heartbeat(), kerr.RebalanceInProgress)
		h.wantErr(d.heartbeat(), kerr.RebalanceInProgress)
	}
	h.advance(5000)
	r := h.joinReply(ja)
	if r.Err != nil || r.Generation != 2 || len(r.Members) != 2 || r.Members[1].MemberID != s.memberID || *r.Members[1].InstanceID != "i1" {
		t.Fatalf("join: %+v", r)
	}
	h.wantNoErr(a.sync())
	// s never joined generation 2; its heartbeat with the old one says so.
	h.wantErr(s.heartbeat(), kerr.IllegalGeneration)
	h.wantErr(d.heartbeat(), kerr.UnknownMemberID)
}

// A static member whose JoinGroup names an id that is not the instance's
// is fenced, and so are its other requests.
func TestStaticMemberFenced(t *testing.T) {
	h := newHarness(t, testConfig())
	s := h.static("s", "i1")
	h.stabilize(s)
	imposter := h.static("t", "i1")
	imposter.memberID, imposter.generation = "t-99", 1
	h.wantErr(imposter.heartbeat(), kerr.FencedInstanceID)
	h.wantErr(imposter.sync(), kerr.FencedInstanceID)
	h.wantErr(imposter.commit("t", 0, 5), kerr.FencedInstanceID)
	lr := h.reply(imposter.leave()).(*LeaveResponse)
	if lr.Err != nil || lr.Members[0].Err != kerr.FencedInstanceID {
		t.Fatalf("leave: %+v", lr)
	}
	h.wantErr(imposter.join(), kerr.FencedInstanceID)
	h.wantState("g", Stable)
}
