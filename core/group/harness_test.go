package group

import (
	"bytes"
	"errors"
	"fmt"
	"strconv"
	"testing"

	"github.com/twmb/franz-go/pkg/kerr"
)

// harness drives a Coordinator the way a shard does: it keeps the time,
// fires timers in order as time advances, "persists" records, and checks
// after every step that the invariants hold and that no request is
// answered twice.
type harness struct {
	t       testing.TB
	c       *Coordinator
	cfg     Config
	now     int64
	seq     int
	replies map[Handle]any
	owners  map[Handle]*client
	records []Record
	clients []*client
	issued  []Handle
	onReply func(Handle, any)
}

// testConfig is Kafka's defaults with no initial rebalance delay and
// member ids from a counter.
func testConfig() Config {
	cfg := DefaultConfig()
	cfg.InitialRebalanceDelayMs = 0
	return cfg
}

func newHarness(t testing.TB, cfg Config) *harness {
	t.Helper()
	h := &harness{t: t, cfg: cfg, now: 1_000_000, replies: map[Handle]any{}, owners: map[Handle]*client{}}
	n := 0
	h.cfg.MemberIDSuffix = func() string { n++; return strconv.Itoa(n) }
	c, err := New(h.cfg)
	if err != nil {
		t.Fatal(err)
	}
	h.c = c
	h.apply(c.Loaded(h.now))
	return h
}

// apply takes an Output as a shard does: records first, then replies.
func (h *harness) apply(out Output) {
	h.t.Helper()
	h.records = append(h.records, out.Records...)
	for _, r := range out.Replies {
		if prev, ok := h.replies[r.Handle]; ok {
			h.t.Fatalf("request %v answered twice: %+v then %+v", r.Handle, prev, r.Response)
		}
		h.replies[r.Handle] = r.Response
		if h.onReply != nil {
			h.onReply(r.Handle, r.Response)
		}
		if cl := h.owners[r.Handle]; cl != nil {
			cl.learn(r.Response)
		}
	}
	if err := h.c.verify(); err != nil {
		h.t.Fatalf("at %d: %v", h.now, err)
	}
}

// advance moves time forward by ms, firing each timer when it is due.
func (h *harness) advance(ms int64) {
	h.t.Helper()
	end := h.now + ms
	for range 10000 {
		d, ok := h.c.NextDeadline()
		if !ok || d > end {
			h.now = end
			return
		}
		h.now = max(h.now, d)
		h.apply(h.c.Tick(h.now))
	}
	h.t.Fatal("timers keep firing")
}

// idle advances ms in steps of 5 s, the clients heartbeating after each.
func (h *harness) idle(ms int64, cls ...*client) {
	h.t.Helper()
	for ; ms > 0; ms -= 5000 {
		h.advance(min(ms, 5000))
		for _, cl := range cls {
			cl.heartbeat()
		}
	}
}

func (h *harness) handle(name string) Handle {
	h.seq++
	hd := fmt.Sprintf("%s#%d", name, h.seq)
	h.issued = append(h.issued, hd)
	return hd
}

func (h *harness) reply(hd Handle) any { return h.replies[hd] }

func (h *harness) answered(hd Handle) bool {
	_, ok := h.replies[hd]
	return ok
}

func (h *harness) joinReply(hd Handle) *JoinResponse {
	h.t.Helper()
	r, ok := h.replies[hd].(*JoinResponse)
	if !ok {
		h.t.Fatalf("JoinGroup %v not answered", hd)
	}
	return r
}

func (h *harness) syncReply(hd Handle) *SyncResponse {
	h.t.Helper()
	r, ok := h.replies[hd].(*SyncResponse)
	if !ok {
		h.t.Fatalf("SyncGroup %v not answered", hd)
	}
	return r
}

func (h *harness) wantErr(hd Handle, want error) {
	h.t.Helper()
	resp, ok := h.replies[hd]
	if !ok {
		h.t.Fatalf("%v not answered, want %v", hd, want)
	}
	var got error
	switch r := resp.(type) {
	case *JoinResponse:
		got = r.Err
	case *SyncResponse:
		got = r.Err
	case *HeartbeatResponse:
		got = r.Err
	case *LeaveResponse:
		got = r.Err
	case *OffsetDeleteResponse:
		got = r.Err
	case *DeleteGroupResponse:
		got = r.Err
	case *OffsetCommitResponse:
		for _, t := range r.Topics {
			for _, p := range t.Partitions {
				if !errors.Is(p.Err, want) {
					h.t.Fatalf("%v: partition %s/%d: %v, want %v", hd, t.Topic, p.Partition, p.Err, want)
				}
			}
		}
		return
	}
	if !errors.Is(got, want) {
		h.t.Fatalf("%v: %v, want %v", hd, got, want)
	}
}

func (h *harness) pending(hd Handle) {
	h.t.Helper()
	if r, ok := h.replies[hd]; ok {
		h.t.Fatalf("%v answered early: %+v", hd, r)
	}
}

func (h *harness) state(group string) State {
	if g := h.c.groups[group]; g != nil {
		return g.state
	}
	return Dead
}

func (h *harness) wantState(group string, want State) {
	h.t.Helper()
	if got := h.state(group); got != want {
		h.t.Fatalf("group %q is %v, want %v", group, got, want)
	}
}

// client is a consumer as the coordinator sees it: it remembers the
// member id and generation its responses give it.
type client struct {
	h          *harness
	name       string
	group      string
	instance   *string
	version    int16
	session    int32
	rebalance  int32
	ptype      string
	protocols  []Protocol
	memberID   string
	generation int32
	leader     string
	members    []JoinMember
	assignment []byte
}

func (h *harness) client(name string) *client {
	cl := &client{
		h: h, name: name, group: "g", version: 9, session: 10000, rebalance: 30000,
		ptype: "consumer", protocols: []Protocol{{Name: "range", Metadata: subscription("t")}},
		generation: -1,
	}
	h.clients = append(h.clients, cl)
	return cl
}

func (h *harness) static(name, instance string) *client {
	cl := h.client(name)
	cl.instance = &instance
	return cl
}

// subscription encodes a ConsumerMemberMetadata v0 for topics.
func subscription(topics ...string) []byte {
	var b bytes.Buffer
	b.Write([]byte{0, 0})
	b.Write([]byte{0, 0, 0, byte(len(topics))})
	for _, t := range topics {
		b.Write([]byte{0, byte(len(t))})
		b.WriteString(t)
	}
	return b.Bytes()
}

func (cl *client) learn(resp any) {
	if r, ok := resp.(*JoinResponse); ok {
		switch {
		case errors.Is(r.Err, kerr.UnknownMemberID), errors.Is(r.Err, kerr.FencedInstanceID):
			// As clients do: start over without a member id.
			cl.restart()
		case r.Err == nil:
			cl.memberID, cl.generation, cl.leader, cl.members = r.MemberID, r.Generation, r.LeaderID, r.Members
		case r.MemberID != "":
			cl.memberID = r.MemberID
		}
	}
	if r, ok := resp.(*SyncResponse); ok && r.Err == nil {
		cl.assignment = r.Assignment
	}
}

func (cl *client) isLeader() bool { return cl.memberID != "" && cl.leader == cl.memberID }

func (cl *client) joinRequest() *JoinRequest {
	return &JoinRequest{
		Version: cl.version, Group: cl.group, MemberID: cl.memberID, InstanceID: cl.instance,
		ClientID: cl.name, ClientHost: "/10.0.0." + cl.name,
		SessionTimeoutMs: cl.session, RebalanceTimeoutMs: cl.rebalance,
		ProtocolType: cl.ptype, Protocols: cl.protocols,
	}
}

func (cl *client) join() Handle {
	cl.h.t.Helper()
	hd := cl.h.handle(cl.name + "/join")
	cl.h.owners[hd] = cl
	cl.h.apply(cl.h.c.Join(cl.h.now, hd, cl.joinRequest()))
	return hd
}

// joinFully joins as a v4+ client does: again with the id
// MEMBER_ID_REQUIRED hands out.
func (cl *client) joinFully() Handle {
	cl.h.t.Helper()
	hd := cl.join()
	if r, ok := cl.h.reply(hd).(*JoinResponse); ok && errors.Is(r.Err, kerr.MemberIDRequired) {
		return cl.join()
	}
	return hd
}

// sync sends SyncGroup; a leader assigns each member its name's bytes.
func (cl *client) sync() Handle {
	cl.h.t.Helper()
	hd := cl.h.handle(cl.name + "/sync")
	cl.h.owners[hd] = cl
	req := &SyncRequest{Group: cl.group, Generation: cl.generation, MemberID: cl.memberID, InstanceID: cl.instance}
	if cl.isLeader() {
		for _, m := range cl.members {
			req.Assignments = append(req.Assignments, SyncAssignment{MemberID: m.MemberID, Assignment: []byte("a:" + m.MemberID)})
		}
	}
	cl.h.apply(cl.h.c.Sync(cl.h.now, hd, req))
	return hd
}

func (cl *client) heartbeat() Handle {
	cl.h.t.Helper()
	hd := cl.h.handle(cl.name + "/hb")
	cl.h.apply(cl.h.c.Heartbeat(cl.h.now, hd, &HeartbeatRequest{Group: cl.group, Generation: cl.generation, MemberID: cl.memberID, InstanceID: cl.instance}))
	return hd
}

func (cl *client) leave() Handle {
	cl.h.t.Helper()
	hd := cl.h.handle(cl.name + "/leave")
	cl.h.apply(cl.h.c.Leave(cl.h.now, hd, &LeaveRequest{Group: cl.group, Members: []LeaveMember{{MemberID: cl.memberID, InstanceID: cl.instance}}}))
	return hd
}

func (cl *client) commit(topic string, partition int32, off int64) Handle {
	cl.h.t.Helper()
	hd := cl.h.handle(cl.name + "/commit")
	cl.h.apply(cl.h.c.OffsetCommit(cl.h.now, hd, &OffsetCommitRequest{
		Version: 9, Group: cl.group, Generation: cl.generation, MemberID: cl.memberID, InstanceID: cl.instance,
		Topics: []CommitTopic{{Topic: topic, Partitions: []CommitPartition{{Partition: partition, Offset: off, LeaderEpoch: 1, Metadata: "m"}}}},
	}))
	return hd
}

// restart is a consumer process restarting: it forgets its member id and
// generation (a static member keeps its instance id).
func (cl *client) restart() {
	cl.memberID, cl.generation, cl.leader, cl.members, cl.assignment = "", -1, "", nil, nil
}

// stabilize takes clients through a whole rebalance: joins, the end of
// the join phase, the leader's SyncGroup and the followers'.
func (h *harness) stabilize(cls ...*client) {
	h.t.Helper()
	var joins []Handle
	for _, cl := range cls {
		joins = append(joins, cl.joinFully())
	}
	h.advance(0)
	for i, cl := range cls {
		if r := h.joinReply(joins[i]); r.Err != nil {
			h.t.Fatalf("%s: join: %v", cl.name, r.Err)
		}
	}
	for _, cl := range cls {
		if cl.isLeader() {
			h.wantNoErr(cl.sync())
		}
	}
	for _, cl := range cls {
		if !cl.isLeader() {
			h.wantNoErr(cl.sync())
		}
	}
	h.wantState(cls[0].group, Stable)
}

func (h *harness) wantNoErr(hd Handle) {
	h.t.Helper()
	h.wantErr(hd, nil)
}

// simpleCommit commits as the admin client or a manually assigned
// consumer does: generation -1, no member.
func (h *harness) simpleCommit(group, topic string, partition int32, off int64) Handle {
	h.t.Helper()
	hd := h.handle("admin/commit")
	h.apply(h.c.OffsetCommit(h.now, hd, &OffsetCommitRequest{
		Version: 9, Group: group, Generation: -1,
		Topics: []CommitTopic{{Topic: topic, Partitions: []CommitPartition{{Partition: partition, Offset: off, LeaderEpoch: -1}}}},
	}))
	return hd
}

func (h *harness) fetch(group, topic string, partition int32) int64 {
	h.t.Helper()
	r := h.c.OffsetFetch(&OffsetFetchRequest{Group: group, Topics: []FetchTopic{{Topic: topic, Partitions: []int32{partition}}}})
	if r.Err != nil {
		h.t.Fatalf("OffsetFetch: %v", r.Err)
	}
	return r.Topics[0].Partitions[0].Offset
}
