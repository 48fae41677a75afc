package group_test

import (
	"fmt"

	"sluice/core/group"
)

// shard stands in for the owning shard: it appends an Output's records to
// the log, then (once written) sends its replies.
type shard struct {
	log     []group.Record
	replies map[group.Handle]any
}

func (s *shard) run(out group.Output) {
	s.log = append(s.log, out.Records...) // in the broker: append, wait for the write
	for _, r := range out.Replies {
		s.replies[r.Handle] = r.Response
	}
}

// One consumer's way through a group, then a restart of the coordinator.
func Example() {
	cfg := group.DefaultConfig()
	cfg.InitialRebalanceDelayMs = 0
	c, _ := group.New(cfg)
	s := &shard{replies: map[group.Handle]any{}}
	now := int64(1_700_000_000_000)
	s.run(c.Loaded(now)) // an empty log: nothing to replay

	join := &group.JoinRequest{
		Version: 9, Group: "orders", ClientID: "app", ClientHost: "/10.0.0.1",
		SessionTimeoutMs: 45000, RebalanceTimeoutMs: 300000,
		ProtocolType: "consumer", Protocols: []group.Protocol{{Name: "cooperative-sticky", Metadata: []byte{0, 3}}},
	}
	s.run(c.Join(now, "join#1", join))
	r := s.replies["join#1"].(*group.JoinResponse)
	fmt.Println("join#1:", r.Err)

	join.MemberID = r.MemberID // KIP-394: join again with the id given
	s.run(c.Join(now, "join#2", join))
	fmt.Println("join#2 answered at once:", s.replies["join#2"] != nil)
	if d, ok := c.NextDeadline(); ok && d <= now { // the shard's timer fires
		s.run(c.Tick(now))
	}
	r = s.replies["join#2"].(*group.JoinResponse)
	fmt.Println("join#2:", r.Err, "generation", r.Generation, "leader", r.LeaderID == r.MemberID, "members", len(r.Members))

	s.run(c.Sync(now, "sync", &group.SyncRequest{
		Group: "orders", Generation: r.Generation, MemberID: r.MemberID,
		Assignments: []group.SyncAssignment{{MemberID: r.MemberID, Assignment: []byte("orders:0,1,2")}},
	}))
	fmt.Printf("sync: %v %q, log has %d record\n", s.replies["sync"].(*group.SyncResponse).Err, s.replies["sync"].(*group.SyncResponse).Assignment, len(s.log))

	now += 3000
	s.run(c.Heartbeat(now, "hb", &group.HeartbeatRequest{Group: "orders", Generation: r.Generation, MemberID: r.MemberID}))
	fmt.Println("heartbeat:", s.replies["hb"].(*group.HeartbeatResponse).Err)

	s.run(c.OffsetCommit(now, "commit", &group.OffsetCommitRequest{
		Version: 9, Group: "orders", Generation: r.Generation, MemberID: r.MemberID,
		Topics: []group.CommitTopic{{Topic: "orders", Partitions: []group.CommitPartition{{Partition: 0, Offset: 42, LeaderEpoch: 0}}}},
	}))
	fmt.Println("commit:", s.replies["commit"].(*group.OffsetCommitResponse).Topics[0].Partitions[0].Err, "log has", len(s.log), "records")

	// The broker restarts: replay the partition's records into a new
	// coordinator. The member carries on with its generation.
	c2, _ := group.New(cfg)
	for _, rec := range s.log {
		if err := c2.Replay(rec.Key, rec.Value); err != nil {
			fmt.Println("replay:", err)
		}
	}
	now += 1000
	s.run(c2.Loaded(now))
	s.run(c2.Heartbeat(now, "hb2", &group.HeartbeatRequest{Group: "orders", Generation: r.Generation, MemberID: r.MemberID}))
	fmt.Println("heartbeat after restart:", s.replies["hb2"].(*group.HeartbeatResponse).Err)
	f := c2.OffsetFetch(&group.OffsetFetchRequest{Group: "orders", Topics: []group.FetchTopic{{Topic: "orders", Partitions: []int32{0}}}})
	fmt.Println("committed offset:", f.Topics[0].Partitions[0].Offset)
	fmt.Println("partition of orders among 50:", group.PartitionFor("orders", 50))

	// Output:
	// join#1: MEMBER_ID_REQUIRED: The group member needs to have a valid member id before actually entering a consumer group
	// join#2 answered at once: false
	// join#2: <nil> generation 1 leader true members 1
	// sync: <nil> "orders:0,1,2", log has 1 record
	// heartbeat: <nil>
	// commit: <nil> log has 2 records
	// heartbeat after restart: <nil>
	// committed offset: 42
	// partition of orders among 50: 31
}
