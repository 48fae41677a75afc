package group

import (
	"strings"
	"testing"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// Commits are checked against the group's generation and members.
func TestCommitChecks(t *testing.T) {
	tests := []struct {
		name string
		req  func(a *client) OffsetCommitRequest
		// state: the group's state when the commit arrives.
		state State
		want  error
	}{
		{"current generation", func(a *client) OffsetCommitRequest {
			return OffsetCommitRequest{Group: "g", Generation: a.generation, MemberID: a.memberID}
		}, Stable, nil},
		{"stale generation", func(a *client) OffsetCommitRequest {
			return OffsetCommitRequest{Group: "g", Generation: a.generation - 1, MemberID: a.memberID}
		}, Stable, kerr.IllegalGeneration},
		{"unknown member", func(a *client) OffsetCommitRequest {
			return OffsetCommitRequest{Group: "g", Generation: a.generation, MemberID: "x"}
		}, Stable, kerr.UnknownMemberID},
		{"anonymous commit to a group with members", func(a *client) OffsetCommitRequest {
			return OffsetCommitRequest{Group: "g", Generation: -1}
		}, Stable, kerr.UnknownMemberID},
		{"during the join phase, current generation", func(a *client) OffsetCommitRequest {
			return OffsetCommitRequest{Group: "g", Generation: a.generation, MemberID: a.memberID}
		}, PreparingRebalance, nil},
		{"between join and sync", func(a *client) OffsetCommitRequest {
			return OffsetCommitRequest{Group: "g", Generation: a.generation, MemberID: a.memberID}
		}, CompletingRebalance, kerr.RebalanceInProgress},
		{"missing group, v8", func(a *client) OffsetCommitRequest {
			return OffsetCommitRequest{Version: 8, Group: "h", Generation: 3, MemberID: "x"}
		}, Stable, kerr.IllegalGeneration},
		{"missing group, v9", func(a *client) OffsetCommitRequest {
			return OffsetCommitRequest{Version: 9, Group: "h", Generation: 3, MemberID: "x"}
		}, Stable, kerr.GroupIDNotFound},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t, testConfig())
			a, b := h.client("a"), h.client("b")
			h.stabilize(a, b)
			switch tt.state {
			case PreparingRebalance:
				b.protocols = []Protocol{{Name: "range", Metadata: subscription("u")}}
				b.join()
			case CompletingRebalance:
				ja, jb := a.join(), b.join()
				h.wantNoErr(ja)
				h.wantNoErr(jb)
			}
			h.wantState("g", tt.state)
			req := tt.req(a)
			req.Topics = []CommitTopic{{Topic: "t", Partitions: []CommitPartition{{Partition: 0, Offset: 42, LeaderEpoch: -1}}}}
			n := len(h.records)
			hd := h.handle("commit")
			h.apply(h.c.OffsetCommit(h.now, hd, &req))
			h.wantErr(hd, tt.want)
			wantRecords := 0
			if tt.want == nil {
				wantRecords = 1
			}
			if len(h.records)-n != wantRecords {
				t.Fatalf("%d records, want %d", len(h.records)-n, wantRecords)
			}
			if _, ok := h.c.groups["h"]; ok {
				t.Fatal("refused commit created a group")
			}
		})
	}
}

// A commit counts as a heartbeat.
func TestCommitKeepsSessionAlive(t *testing.T) {
	h := newHarness(t, testConfig())
	a := h.client("a")
	h.stabilize(a)
	for i := range 5 {
		h.advance(8000)
		h.wantNoErr(a.commit("t", 0, int64(i)))
	}
	h.wantState("g", Stable)
}

// Kafka lets groups that do not use group management commit with
// generation -1 and no member id, but only while the group has no
// members.
func TestSimpleCommitsForEmptyGroups(t *testing.T) {
	h := newHarness(t, testConfig())
	h.wantNoErr(h.simpleCommit("s", "t", 3, 100))
	h.wantState("s", Empty)
	if got := h.fetch("s", "t", 3); got != 100 {
		t.Fatalf("fetched %d", got)
	}
	if h.fetch("s", "t", 4) != -1 || h.fetch("nope", "t", 3) != -1 {
		t.Fatal("missing offsets should be -1")
	}
	groups, _ := h.c.List(nil)
	if len(groups) != 1 || groups[0] != (ListedGroup{Group: "s", State: "Empty"}) {
		t.Fatalf("list: %+v", groups)
	}

	a := h.client("a")
	a.group = "s"
	h.stabilize(a)
	h.wantErr(h.simpleCommit("s", "t", 3, 200), kerr.UnknownMemberID)
	h.wantNoErr(a.leave())
	h.wantState("s", Empty)
	h.wantNoErr(h.simpleCommit("s", "t", 3, 300))
	if got := h.fetch("s", "t", 3); got != 300 {
		t.Fatalf("fetched %d", got)
	}
}

// Partitions the handler refused keep its error and are not committed;
// metadata over offset.metadata.max.bytes is refused per partition.
func TestCommitPartitionErrors(t *testing.T) {
	h := newHarness(t, testConfig())
	hd := h.handle("commit")
	h.apply(h.c.OffsetCommit(h.now, hd, &OffsetCommitRequest{Group: "s", Generation: -1, Topics: []CommitTopic{
		{Topic: "t", Partitions: []CommitPartition{
			{Partition: 0, Offset: 1},
			{Partition: 1, Offset: 1, Metadata: strings.Repeat("x", 4097)},
		}},
		{Topic: "gone", Partitions: []CommitPartition{{Partition: 0, Offset: 1, Err: kerr.UnknownTopicOrPartition}}},
	}}))
	r := h.reply(hd).(*OffsetCommitResponse)
	if r.Topics[0].Partitions[0].Err != nil || r.Topics[0].Partitions[1].Err != kerr.OffsetMetadataTooLarge || r.Topics[1].Partitions[0].Err != kerr.UnknownTopicOrPartition {
		t.Fatalf("response: %+v", r)
	}
	if len(h.records) != 1 || h.fetch("s", "gone", 0) != -1 || h.fetch("s", "t", 1) != -1 {
		t.Fatal("refused partitions were committed")
	}

	// All refused: no group is left behind.
	hd = h.handle("commit")
	h.apply(h.c.OffsetCommit(h.now, hd, &OffsetCommitRequest{Group: "z", Generation: -1, Topics: []CommitTopic{
		{Topic: "gone", Partitions: []CommitPartition{{Partition: 0, Offset: 1, Err: kerr.UnknownTopicOrPartition}}},
	}}))
	h.wantState("z", Dead)
}

// offsets.retention.minutes expires the offsets of groups without
// members: from when the group became Empty, or from the commit for a
// simple group. A Stable consumer group keeps the offsets of the topics
// it subscribes to (and, as in Kafka, loses those of topics it dropped).
func TestOffsetExpiry(t *testing.T) {
	cfg := testConfig()
	cfg.OffsetsRetentionMs = 100_000
	cfg.OffsetsRetentionCheckIntervalMs = 1000
	h := newHarness(t, cfg)

	a := h.client("a") // Stable, subscribed to t
	h.stabilize(a)
	h.wantNoErr(a.commit("t", 0, 10))
	h.wantNoErr(a.commit("old", 0, 10))

	e := h.client("e") // commits, then leaves: Empty
	e.group = "e"
	h.stabilize(e)
	h.wantNoErr(e.commit("t", 0, 20))
	h.idle(50_000, a, e)
	h.wantNoErr(e.leave())

	h.wantNoErr(h.simpleCommit("s", "t", 0, 30)) // simple, at 50 s

	h.idle(50_000, a)
	// 100 s: a's offset of "old" (committed at 0) expires; nothing else.
	if h.fetch("g", "old", 0) != -1 {
		t.Fatal("offset of an unsubscribed topic did not expire")
	}
	if h.fetch("g", "t", 0) != 10 || h.fetch("e", "t", 0) != 20 || h.fetch("s", "t", 0) != 30 {
		t.Fatal("offsets expired early")
	}
	h.idle(50_000, a)
	h.wantNoErr(a.heartbeat())
	// 150 s: e has been Empty and s committed 100 s ago.
	if h.fetch("e", "t", 0) != -1 || h.fetch("s", "t", 0) != -1 {
		t.Fatal("offsets of groups without members did not expire")
	}
	h.wantState("e", Dead)
	h.wantState("s", Dead)
	if h.fetch("g", "t", 0) != 10 {
		t.Fatal("offset of a Stable group's subscribed topic expired")
	}
	tombstones := map[string]bool{}
	for _, r := range h.records {
		if r.Value == nil {
			tombstones[describeKey(t, r.Key)] = true
		}
	}
	for _, want := range []string{"offset g/old/0", "offset e/t/0", "group e", "offset s/t/0", "group s"} {
		if !tombstones[want] {
			t.Errorf("no tombstone for %s (have %v)", want, tombstones)
		}
	}
}

func describeKey(t *testing.T, key []byte) string {
	t.Helper()
	if key[1] == groupKeyVersion {
		var k kmsg.GroupMetadataKey
		if err := k.ReadFrom(key); err != nil {
			t.Fatal(err)
		}
		return "group " + k.Group
	}
	var k kmsg.OffsetCommitKey
	if err := k.ReadFrom(key); err != nil {
		t.Fatal(err)
	}
	return "offset " + k.Group + "/" + k.Topic + "/" + string(rune('0'+k.Partition))
}

func TestOffsetDelete(t *testing.T) {
	h := newHarness(t, testConfig())
	a := h.client("a")
	h.stabilize(a) // subscribed to t
	h.wantNoErr(a.commit("t", 0, 1))
	h.wantNoErr(a.commit("u", 0, 1))
	h.wantNoErr(h.simpleCommit("s", "t", 0, 1))
	h.wantNoErr(h.simpleCommit("s", "t", 1, 1))

	del := func(group string, topics ...DeletePartitions) *OffsetDeleteResponse {
		hd := h.handle("delete")
		h.apply(h.c.OffsetDelete(h.now, hd, &OffsetDeleteRequest{Group: group, Topics: topics}))
		return h.reply(hd).(*OffsetDeleteResponse)
	}
	parts := func(topic string, ps ...int32) DeletePartitions {
		d := DeletePartitions{Topic: topic}
		for _, p := range ps {
			d.Partitions = append(d.Partitions, PartitionResult{Partition: p})
		}
		return d
	}

	r := del("g", parts("t", 0), parts("u", 0))
	if r.Err != nil || r.Topics[0].Partitions[0].Err != kerr.GroupSubscribedToTopic || r.Topics[1].Partitions[0].Err != nil {
		t.Fatalf("consumer group: %+v", r)
	}
	if h.fetch("g", "t", 0) != 1 || h.fetch("g", "u", 0) != -1 {
		t.Fatal("wrong offsets deleted")
	}
	if r := del("nope", parts("t", 0)); r.Err != kerr.GroupIDNotFound {
		t.Fatalf("unknown group: %+v", r)
	}
	if r := del("s", parts("t", 0)); r.Err != nil || h.fetch("s", "t", 0) != -1 {
		t.Fatalf("empty group: %+v", r)
	}
	h.wantState("s", Empty)
	n := len(h.records)
	del("s", parts("t", 1))
	h.wantState("s", Dead) // its last offset went: the group goes too
	if len(h.records) != n+2 || h.records[n].Value != nil || h.records[n+1].Value != nil {
		t.Fatal("want the offset's and the group's tombstones")
	}

	// A group of another protocol type refuses while it has members.
	c := h.client("c")
	c.group, c.ptype = "connect", "connect"
	h.stabilize(c)
	if r := del("connect", parts("t", 0)); r.Err != kerr.NonEmptyGroup {
		t.Fatalf("non-consumer group: %+v", r)
	}
}

func TestDeleteGroup(t *testing.T) {
	h := newHarness(t, testConfig())
	a := h.client("a")
	h.stabilize(a)
	h.wantNoErr(a.commit("t", 0, 1))
	h.wantNoErr(a.commit("t", 1, 1))
	del := func(group string) Handle {
		hd := h.handle("delete")
		h.apply(h.c.DeleteGroup(h.now, hd, group))
		return hd
	}
	h.wantErr(del("g"), kerr.NonEmptyGroup)
	h.wantErr(del("nope"), kerr.GroupIDNotFound)
	h.wantNoErr(a.leave())
	n := len(h.records)
	h.wantNoErr(del("g"))
	h.wantState("g", Dead)
	got := h.records[n:]
	if len(got) != 3 || describeKey(t, got[0].Key) != "offset g/t/0" || describeKey(t, got[1].Key) != "offset g/t/1" || describeKey(t, got[2].Key) != "group g" {
		t.Fatalf("records: %d", len(got))
	}
	for _, r := range got {
		if r.Value != nil {
			t.Fatal("not a tombstone")
		}
	}
	if h.fetch("g", "t", 0) != -1 {
		t.Fatal("offset survived its group")
	}
	h.wantErr(del("g"), kerr.GroupIDNotFound)
	// A deleted group's name can be used again, from generation 0.
	b := h.client("b")
	h.stabilize(b)
	if b.generation != 1 {
		t.Fatalf("generation %d", b.generation)
	}
}

func TestOffsetFetchAll(t *testing.T) {
	h := newHarness(t, testConfig())
	h.simpleCommit("s", "u", 1, 7)
	h.simpleCommit("s", "t", 2, 5)
	h.simpleCommit("s", "t", 0, 3)
	r := h.c.OffsetFetch(&OffsetFetchRequest{Group: "s"})
	if len(r.Topics) != 2 || r.Topics[0].Topic != "t" || len(r.Topics[0].Partitions) != 2 ||
		r.Topics[0].Partitions[0].Partition != 0 || r.Topics[0].Partitions[1].Offset != 5 || r.Topics[1].Partitions[0].Offset != 7 {
		t.Fatalf("fetch all: %+v", r)
	}
	if r := h.c.OffsetFetch(&OffsetFetchRequest{Group: "nope"}); r.Err != nil || len(r.Topics) != 0 {
		t.Fatalf("fetch all of unknown group: %+v", r)
	}
}

// Deleting a topic removes its offsets from every group, and groups left
// with nothing.
func TestTopicsDeleted(t *testing.T) {
	h := newHarness(t, testConfig())
	a := h.client("a")
	h.stabilize(a)
	h.wantNoErr(a.commit("t", 0, 1))
	h.wantNoErr(a.commit("u", 0, 1))
	h.wantNoErr(h.simpleCommit("s", "t", 0, 1))
	n := len(h.records)
	h.apply(h.c.TopicsDeleted(h.now, []string{"t"}))
	if h.fetch("g", "t", 0) != -1 || h.fetch("g", "u", 0) != 1 || h.fetch("s", "t", 0) != -1 {
		t.Fatal("wrong offsets removed")
	}
	h.wantState("g", Stable)
	h.wantState("s", Dead)
	if len(h.records) != n+3 {
		t.Fatalf("%d records, want 2 offset tombstones and 1 group tombstone", len(h.records)-n)
	}
}
