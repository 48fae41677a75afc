package core

import (
	"context"
	"errors"
	"fmt"
	"net"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"

	"sluice/core/group"
	"sluice/disk"
	"sluice/disk/batch/batchtest"
	"sluice/disk/vfs"
)

// groupKeys are the APIs of the group coordinator's handlers.
var groupKeys = []int16{8, 9, 10, 11, 12, 13, 14, 15, 16, 42, 47}

// TestGroupAPIsEveryVersion sends each group API a default request at
// every version the broker serves (each is answered: an empty group id is
// refused with an error code, not a closed connection), and checks that
// ApiVersions advertises exactly the table.
func TestGroupAPIsEveryVersion(t *testing.T) {
	b := startBroker(t, t.TempDir())
	defer stopBroker(t, b)
	c := dialBroker(t, b)
	for _, key := range groupKeys {
		a := b.apis[key]
		if a == nil {
			t.Fatalf("api %d is not in the table", key)
		}
		for v := a.minVersion; v <= a.maxVersion; v++ {
			req := kmsg.RequestForKey(key)
			req.SetVersion(v)
			if _, err := exchangeRaw(c, req, int32(key)<<8|int32(v)); err != nil {
				t.Fatalf("%s v%d: %v", kmsg.NameForKey(key), v, err)
			}
		}
	}
	av := kmsg.NewPtrApiVersionsRequest()
	av.Version, av.ClientSoftwareName, av.ClientSoftwareVersion = 3, "t", "1"
	resp := callRaw[*kmsg.ApiVersionsResponse](t, b, av)
	advertised := map[int16][2]int16{}
	for _, k := range resp.ApiKeys {
		advertised[k.ApiKey] = [2]int16{k.MinVersion, k.MaxVersion}
	}
	// librdkafka's feature map: it uses consumer groups only with a broker
	// whose ranges meet these (rdkafka_feature.c,
	// RD_KAFKA_FEATURE_BROKER_BALANCED_CONSUMER), and compresses with lz4
	// only with FindCoordinator v0 (RD_KAFKA_FEATURE_LZ4).
	for key, want := range map[int16][2]int16{10: {0, 0}, 8: {1, 2}, 9: {1, 1}, 11: {0, 0}, 14: {0, 0}, 12: {0, 0}, 13: {0, 0}} {
		if got := advertised[key]; got[0] > want[1] || got[1] < want[0] {
			t.Errorf("%s advertised as %v: librdkafka needs a version in %v", kmsg.NameForKey(key), got, want)
		}
	}
	for _, key := range groupKeys {
		if a := b.apis[key]; advertised[key] != [2]int16{a.minVersion, a.maxVersion} {
			t.Errorf("api %d advertised as %v, table says %d-%d", key, advertised[key], a.minVersion, a.maxVersion)
		}
		if max := kmsg.RequestForKey(key).MaxVersion(); b.apis[key].maxVersion != max {
			t.Errorf("api %d served up to v%d; kmsg has v%d", key, b.apis[key].maxVersion, max)
		}
	}
}

// TestOffsetsTopic: __consumer_offsets exists from the first start with
// offsets.topic.num.partitions partitions, is listed and marked internal,
// can be read, and refuses produce, deletion, growth and DeleteRecords
// with INVALID_TOPIC_EXCEPTION. Its partition count stays what it was
// created with when the setting changes.
func TestOffsetsTopic(t *testing.T) {
	dir := t.TempDir()
	cfg := groupBrokerConfig(dir, "127.0.0.1:0")
	cfg.OffsetsTopicPartitions = 4
	b, err := Start(cfg)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), groupTestTimeout)
	defer cancel()
	adm := kadm.NewClient(adminClient(t, b))
	check := func(b *Broker, want int) {
		t.Helper()
		md := kmsg.NewPtrMetadataRequest()
		md.Version = 12
		var found bool
		for _, mt := range callRaw[*kmsg.MetadataResponse](t, b, md).Topics {
			if *mt.Topic == offsetsTopic {
				found = true
				if !mt.IsInternal || len(mt.Partitions) != want {
					t.Errorf("%s: internal %v, %d partitions; want internal, %d", offsetsTopic, mt.IsInternal, len(mt.Partitions), want)
				}
			} else if mt.IsInternal {
				t.Errorf("%s is marked internal", *mt.Topic)
			}
		}
		if !found {
			t.Fatalf("%s is not listed", offsetsTopic)
		}
	}
	check(b, 4)

	wantErrCode(t, "produce", produceCodeRaw(t, b, offsetsTopic, 0, batchtest.Values(1, "x")), errInvalidTopic)
	dt, err := adm.DeleteTopics(ctx, offsetsTopic)
	if err != nil {
		t.Fatal(err)
	}
	if r := dt[offsetsTopic]; !errors.Is(r.Err, kerr.InvalidTopicException) || !strings.Contains(r.ErrMessage, "internal") {
		t.Errorf("deleting %s: %v %q", offsetsTopic, r.Err, r.ErrMessage)
	}
	cp, err := adm.CreatePartitions(ctx, 2, offsetsTopic)
	if err != nil {
		t.Fatal(err)
	}
	if r := cp[offsetsTopic]; !errors.Is(r.Err, kerr.InvalidTopicException) {
		t.Errorf("growing %s: %v", offsetsTopic, r.Err)
	}
	dr := kmsg.NewPtrDeleteRecordsRequest()
	drt := kmsg.NewDeleteRecordsRequestTopic()
	drt.Topic = offsetsTopic
	drp := kmsg.NewDeleteRecordsRequestTopicPartition()
	drp.Offset = -1
	drt.Partitions = append(drt.Partitions, drp)
	dr.Topics = append(dr.Topics, drt)
	wantErrCode(t, "DeleteRecords", callRaw[*kmsg.DeleteRecordsResponse](t, b, dr).Topics[0].Partitions[0].ErrorCode, errInvalidTopic)
	if _, err := adm.CreateTopic(ctx, 1, 1, nil, offsetsTopic); !errors.Is(err, kerr.TopicAlreadyExists) {
		t.Errorf("creating %s again: %v", offsetsTopic, err)
	}

	// A commit lands in the partition the group hashes to, where a plain
	// consumer can read it.
	if _, err := adm.CreateTopic(ctx, 1, 1, nil, "data"); err != nil {
		t.Fatal(err)
	}
	os := kadm.Offsets{}
	os.AddOffset("data", 0, 42, -1)
	if _, err := adm.CommitOffsets(ctx, "reader", os); err != nil {
		t.Fatal(err)
	}
	part := group.PartitionFor("reader", 4)
	ends := endOffsetsOf(t, ctx, adm, offsetsTopic)
	for p, end := range ends {
		if (p == part) != (end > 0) {
			t.Errorf("%s/%d ends at %d after one commit to partition %d", offsetsTopic, p, end, part)
		}
	}

	stopBroker(t, b)
	cfg.OffsetsTopicPartitions = 8
	if b, err = Start(cfg); err != nil {
		t.Fatal(err)
	}
	defer stopBroker(t, b)
	check(b, 4)
	adm = kadm.NewClient(adminClient(t, b))
	fo, err := adm.FetchOffsets(ctx, "reader")
	if err != nil {
		t.Fatal(err)
	}
	if o, _ := fo.Lookup("data", 0); o.At != 42 {
		t.Fatalf("committed offset after a restart: %+v", o)
	}
}

// rawMember drives the group protocol by hand on one connection, at the
// versions the oldest clients in the field send.
type rawMember struct {
	t    *testing.T
	c    net.Conn
	corr int32
}

func (m *rawMember) call(req kmsg.Request) kmsg.Response {
	m.t.Helper()
	m.corr++
	resp, err := exchangeRaw(m.c, req, m.corr)
	if err != nil {
		m.t.Fatalf("%s v%d: %v", kmsg.NameForKey(req.Key()), req.GetVersion(), err)
	}
	return resp
}

// TestGroupOldestVersions runs a member through its life at the versions
// kafka-python and segmentio/kafka-go send (JoinGroup v2, SyncGroup,
// Heartbeat and LeaveGroup v0, OffsetCommit v2, OffsetFetch v1) and then at
// the newest versions, where JoinGroup first answers MEMBER_ID_REQUIRED.
func TestGroupOldestVersions(t *testing.T) {
	b := startGroupBroker(t, t.TempDir(), "127.0.0.1:0")
	defer stopBroker(t, b)
	ctx, cancel := context.WithTimeout(context.Background(), groupTestTimeout)
	defer cancel()
	if _, err := kadm.NewClient(adminClient(t, b)).CreateTopic(ctx, 2, 1, nil, "old"); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name                                       string
		join, sync, hb, leave, commit, fetch, find int16
	}{
		{"oldest", 2, 0, 0, 0, 2, 1, 0},
		{"newest", 9, 5, 4, 5, 10, 10, 6},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m := &rawMember{t: t, c: dialBroker(t, b)}
			groupID := "g-" + tc.name
			fc := kmsg.NewPtrFindCoordinatorRequest()
			fc.Version, fc.CoordinatorKey, fc.CoordinatorKeys = tc.find, groupID, []string{groupID}
			fr := m.call(fc).(*kmsg.FindCoordinatorResponse)
			if tc.find >= 4 {
				if len(fr.Coordinators) != 1 || fr.Coordinators[0].ErrorCode != 0 || fr.Coordinators[0].Port != b.port {
					t.Fatalf("FindCoordinator: %+v", fr.Coordinators)
				}
			} else if fr.ErrorCode != 0 || fr.NodeID != b.cfg.NodeID || fr.Host != b.host || fr.Port != b.port {
				t.Fatalf("FindCoordinator: %+v", fr)
			}

			join := kmsg.NewPtrJoinGroupRequest()
			join.Version, join.Group, join.ProtocolType = tc.join, groupID, "consumer"
			join.SessionTimeoutMillis, join.RebalanceTimeoutMillis = 6000, 6000
			meta := kmsg.NewConsumerMemberMetadata()
			meta.Topics = []string{"old"}
			proto := kmsg.NewJoinGroupRequestProtocol()
			proto.Name, proto.Metadata = "range", meta.AppendTo(nil)
			join.Protocols = append(join.Protocols, proto)
			jr := m.call(join).(*kmsg.JoinGroupResponse)
			if tc.join >= 4 {
				wantErrCode(t, "first join", jr.ErrorCode, kerr.MemberIDRequired.Code)
				join.MemberID = jr.MemberID
				jr = m.call(join).(*kmsg.JoinGroupResponse)
			}
			if jr.ErrorCode != 0 || jr.Generation != 1 || jr.LeaderID != jr.MemberID || len(jr.Members) != 1 || (jr.Protocol != nil && *jr.Protocol != "range") {
				t.Fatalf("JoinGroup: %+v", jr)
			}
			memberID := jr.MemberID

			assign := kmsg.NewConsumerMemberAssignment()
			at := kmsg.NewConsumerMemberAssignmentTopic()
			at.Topic, at.Partitions = "old", []int32{0, 1}
			assign.Topics = append(assign.Topics, at)
			sync := kmsg.NewPtrSyncGroupRequest()
			sync.Version, sync.Group, sync.Generation, sync.MemberID = tc.sync, groupID, 1, memberID
			if tc.sync >= 5 {
				sync.ProtocolType, sync.Protocol = kmsg.StringPtr("consumer"), kmsg.StringPtr("range")
			}
			sa := kmsg.NewSyncGroupRequestGroupAssignment()
			sa.MemberID, sa.MemberAssignment = memberID, assign.AppendTo(nil)
			sync.GroupAssignment = append(sync.GroupAssignment, sa)
			sr := m.call(sync).(*kmsg.SyncGroupResponse)
			if sr.ErrorCode != 0 || string(sr.MemberAssignment) != string(sa.MemberAssignment) {
				t.Fatalf("SyncGroup: %+v", sr)
			}

			hb := kmsg.NewPtrHeartbeatRequest()
			hb.Version, hb.Group, hb.Generation, hb.MemberID = tc.hb, groupID, 1, memberID
			wantErrCode(t, "heartbeat", m.call(hb).(*kmsg.HeartbeatResponse).ErrorCode, 0)
			hb.Generation = 7
			wantErrCode(t, "heartbeat of another generation", m.call(hb).(*kmsg.HeartbeatResponse).ErrorCode, kerr.IllegalGeneration.Code)

			topicID := b.topic("old").id
			commit := kmsg.NewPtrOffsetCommitRequest()
			commit.Version, commit.Group, commit.Generation, commit.MemberID = tc.commit, groupID, 1, memberID
			ct := kmsg.NewOffsetCommitRequestTopic()
			ct.Topic, ct.TopicID = "old", topicID
			for p := range int32(3) { // partition 2 does not exist
				cp := kmsg.NewOffsetCommitRequestTopicPartition()
				cp.Partition, cp.Offset, cp.Metadata = p, int64(10+p), kmsg.StringPtr("m")
				ct.Partitions = append(ct.Partitions, cp)
			}
			commit.Topics = append(commit.Topics, ct)
			cr := m.call(commit).(*kmsg.OffsetCommitResponse)
			missing := errUnknownTopicOrPartition
			for _, p := range cr.Topics[0].Partitions {
				want := int16(0)
				if p.Partition == 2 {
					want = missing
				}
				wantErrCode(t, fmt.Sprintf("commit of partition %d", p.Partition), p.ErrorCode, want)
			}

			fetch := kmsg.NewPtrOffsetFetchRequest()
			fetch.Version, fetch.Group = tc.fetch, groupID
			fetched := map[int32]int64{}
			if tc.fetch >= 8 {
				fg := kmsg.NewOffsetFetchRequestGroup()
				fg.Group = groupID
				ft := kmsg.NewOffsetFetchRequestGroupTopic()
				ft.Topic, ft.TopicID, ft.Partitions = "old", topicID, []int32{0, 1}
				fg.Topics = append(fg.Topics, ft)
				fetch.Groups = append(fetch.Groups, fg)
				fetch.RequireStable = true
				resp := m.call(fetch).(*kmsg.OffsetFetchResponse)
				for _, p := range resp.Groups[0].Topics[0].Partitions {
					fetched[p.Partition] = p.Offset
				}
			} else {
				ft := kmsg.NewOffsetFetchRequestTopic()
				ft.Topic, ft.Partitions = "old", []int32{0, 1}
				fetch.Topics = append(fetch.Topics, ft)
				for _, p := range m.call(fetch).(*kmsg.OffsetFetchResponse).Topics[0].Partitions {
					fetched[p.Partition] = p.Offset
				}
			}
			if fetched[0] != 10 || fetched[1] != 11 {
				t.Fatalf("fetched offsets %v", fetched)
			}

			leave := kmsg.NewPtrLeaveGroupRequest()
			leave.Version, leave.Group, leave.MemberID = tc.leave, groupID, memberID
			lm := kmsg.NewLeaveGroupRequestMember()
			lm.MemberID = memberID
			leave.Members = append(leave.Members, lm)
			lr := m.call(leave).(*kmsg.LeaveGroupResponse)
			if lr.ErrorCode != 0 || (tc.leave >= 3 && (len(lr.Members) != 1 || lr.Members[0].ErrorCode != 0)) {
				t.Fatalf("LeaveGroup: %+v", lr)
			}
			wantErrCode(t, "leaving again", m.call(leave).(*kmsg.LeaveGroupResponse).ErrorCode, map[bool]int16{true: 0, false: kerr.UnknownMemberID.Code}[tc.leave >= 3])
			dg, err := kadm.NewClient(adminClient(t, b)).DescribeGroups(ctx, groupID)
			if err != nil || dg[groupID].State != "Empty" {
				t.Fatalf("after leaving: %v %+v", err, dg[groupID])
			}
		})
	}
}

// TestGroupAdminAPIs covers the admin side: FindCoordinator's key types,
// ListGroups and its filters, DescribeGroups of groups that do not exist,
// OffsetFetch of many groups at once, OffsetDelete, DeleteGroups, and the
// offsets of a deleted topic going with it.
func TestGroupAdminAPIs(t *testing.T) {
	b := startGroupBroker(t, t.TempDir(), "127.0.0.1:0")
	defer stopBroker(t, b)
	ctx, cancel := context.WithTimeout(context.Background(), groupTestTimeout)
	defer cancel()
	adm := kadm.NewClient(adminClient(t, b))
	for _, topic := range []string{"a", "b"} {
		if _, err := adm.CreateTopic(ctx, 2, 1, nil, topic); err != nil {
			t.Fatal(err)
		}
	}

	fc := kmsg.NewPtrFindCoordinatorRequest()
	fc.Version, fc.CoordinatorKeys = 6, []string{"x", "y"}
	for typ, want := range map[int8]int16{0: 0, 1: kerr.CoordinatorNotAvailable.Code, 2: kerr.InvalidRequest.Code} {
		fc.CoordinatorType = typ
		for _, c := range callRaw[*kmsg.FindCoordinatorResponse](t, b, fc).Coordinators {
			wantErrCode(t, fmt.Sprintf("FindCoordinator type %d key %s", typ, c.Key), c.ErrorCode, want)
			if (want == 0) != (c.NodeID == b.cfg.NodeID && c.Port == b.port) {
				t.Errorf("FindCoordinator type %d: %+v", typ, c)
			}
		}
	}

	// A simple group (offsets, no members) and a live consumer group.
	os := kadm.Offsets{}
	os.AddOffset("a", 0, 5, -1)
	os.AddOffset("a", 1, 6, -1)
	os.AddOffset("b", 1, 7, -1)
	if r, err := adm.CommitOffsets(ctx, "simple", os); err != nil || r.Error() != nil {
		t.Fatal(err, r.Error())
	}
	log := newConsumedLog()
	startMember(t, b, 0, log, kgo.ConsumerGroup("live"), kgo.ConsumeTopics("a"))
	waitStable(t, ctx, adm, "live", 1, "a", 2)

	lg, err := adm.ListGroups(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if s, l := lg["simple"], lg["live"]; s.State != "Empty" || s.ProtocolType != "" || l.State != "Stable" || l.ProtocolType != "consumer" {
		t.Fatalf("ListGroups: %+v", lg)
	}
	if lg, err := adm.ListGroups(ctx, "stable"); err != nil || len(lg) != 1 || lg["live"].Group != "live" {
		t.Fatalf("ListGroups of Stable groups: %v %+v", err, lg)
	}
	lreq := kmsg.NewPtrListGroupsRequest()
	lreq.Version = 5
	for filter, want := range map[string]int{"classic": 2, "Classic": 2, "consumer": 0, "": 2} {
		lreq.TypesFilter = nil
		if filter != "" {
			lreq.TypesFilter = []string{filter}
		}
		resp := callRaw[*kmsg.ListGroupsResponse](t, b, lreq)
		if resp.ErrorCode != 0 || len(resp.Groups) != want {
			t.Errorf("ListGroups of type %q: %+v", filter, resp)
		}
		for _, g := range resp.Groups {
			if g.GroupType != "classic" {
				t.Errorf("group %s of type %q", g.Group, g.GroupType)
			}
		}
	}

	dreq := kmsg.NewPtrDescribeGroupsRequest()
	dreq.Groups = []string{"nope", "", "live"}
	for _, v := range []int16{5, 6} {
		dreq.Version, dreq.IncludeAuthorizedOperations = v, true
		resp := callRaw[*kmsg.DescribeGroupsResponse](t, b, dreq)
		nope, empty, live := resp.Groups[0], resp.Groups[1], resp.Groups[2]
		wantNope := int16(0)
		if v >= 6 {
			wantNope = kerr.GroupIDNotFound.Code
		}
		wantErrCode(t, fmt.Sprintf("v%d describe of a group that does not exist", v), nope.ErrorCode, wantNope)
		wantErrCode(t, "describe of group \"\"", empty.ErrorCode, kerr.InvalidGroupID.Code)
		if nope.State != "Dead" || live.State != "Stable" || live.Protocol == "" || len(live.Members) != 1 || len(live.Members[0].MemberAssignment) == 0 || live.AuthorizedOperations != groupOperations {
			t.Fatalf("v%d DescribeGroups: %+v", v, resp.Groups)
		}
	}

	// Two groups in one OffsetFetch, each from its own coordinator.
	fetch := kmsg.NewPtrOffsetFetchRequest()
	fetch.Version, fetch.RequireStable = 9, true
	for _, g := range []string{"simple", "nobody"} {
		fg := kmsg.NewOffsetFetchRequestGroup()
		fg.Group = g
		fetch.Groups = append(fetch.Groups, fg)
	}
	fresp := callRaw[*kmsg.OffsetFetchResponse](t, b, fetch)
	if len(fresp.Groups) != 2 || fresp.Groups[0].ErrorCode != 0 || len(fresp.Groups[0].Topics) != 2 || len(fresp.Groups[1].Topics) != 0 {
		t.Fatalf("OffsetFetch of two groups: %+v", fresp.Groups)
	}

	// OffsetDelete: a live consumer group keeps the offsets of topics it
	// subscribes to; an Empty one loses them.
	os = kadm.Offsets{}
	os.AddOffset("b", 0, 1, -1)
	if r, err := adm.CommitOffsets(ctx, "live2", os); err != nil || r.Error() != nil {
		t.Fatal(err, r.Error())
	}
	od := kmsg.NewPtrOffsetDeleteRequest()
	od.Group = "live"
	odt := kmsg.NewOffsetDeleteRequestTopic()
	odt.Topic = "a"
	odt.Partitions = []kmsg.OffsetDeleteRequestTopicPartition{{Partition: 0}}
	od.Topics = append(od.Topics, odt)
	if resp := callRaw[*kmsg.OffsetDeleteResponse](t, b, od); resp.ErrorCode != 0 || resp.Topics[0].Partitions[0].ErrorCode != kerr.GroupSubscribedToTopic.Code {
		t.Fatalf("OffsetDelete on a subscribed topic: %+v", resp)
	}
	od.Group, od.Topics[0].Topic = "simple", "a"
	if resp := callRaw[*kmsg.OffsetDeleteResponse](t, b, od); resp.ErrorCode != 0 || resp.Topics[0].Partitions[0].ErrorCode != 0 {
		t.Fatalf("OffsetDelete: %+v", resp)
	}
	od.Topics[0].Topic = "missing"
	if resp := callRaw[*kmsg.OffsetDeleteResponse](t, b, od); resp.Topics[0].Partitions[0].ErrorCode != errUnknownTopicOrPartition {
		t.Fatalf("OffsetDelete of a missing topic: %+v", resp)
	}
	fo, err := adm.FetchOffsets(ctx, "simple")
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := fo.Lookup("a", 0); ok || len(fo["a"]) != 1 || len(fo["b"]) != 1 {
		t.Fatalf("offsets after OffsetDelete: %+v", fo)
	}

	// Deleting topic b removes its offsets from every group; live2, left
	// with none, goes too.
	if _, err := adm.DeleteTopics(ctx, "b"); err != nil {
		t.Fatal(err)
	}
	for g, want := range map[string]int{"simple": 1, "live2": 0} {
		fo, err := adm.FetchOffsets(ctx, g)
		if err != nil || len(fo) != want || len(fo["b"]) != 0 {
			t.Fatalf("offsets of %s after deleting topic b: %v %+v", g, err, fo)
		}
	}
	if lg, err := adm.ListGroups(ctx); err != nil || lg["live2"].Group != "" {
		t.Fatalf("live2, left without offsets, is still listed: %v %+v", err, lg)
	}

	dg, err := adm.DeleteGroups(ctx, "live", "simple", "nobody")
	if err != nil {
		t.Fatal(err)
	}
	for g, want := range map[string]error{"live": kerr.NonEmptyGroup, "simple": nil, "nobody": kerr.GroupIDNotFound} {
		if !errors.Is(dg[g].Err, want) && !(want == nil && dg[g].Err == nil) {
			t.Errorf("DeleteGroups %s: %v, want %v", g, dg[g].Err, want)
		}
	}
	lg, err = adm.ListGroups(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if got := slices.Sorted(func(yield func(string) bool) {
		for g := range lg {
			if !yield(g) {
				return
			}
		}
	}); fmt.Sprint(got) != "[live]" {
		t.Fatalf("groups after DeleteGroups: %v", got)
	}
}

// TestGroupOffsetsSurviveCrash: with flush.messages=1 on
// __consumer_offsets, a commit is acknowledged only once fdatasync'd, so
// it survives a crash that loses every unsynced write.
func TestGroupOffsetsSurviveCrash(t *testing.T) {
	mem := vfs.NewMem()
	cfg := groupBrokerConfig("/data", "127.0.0.1:0")
	cfg.FS, cfg.OffsetsTopicPartitions = mem, 2
	b, err := Start(cfg)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), groupTestTimeout)
	defer cancel()
	adm := kadm.NewClient(adminClient(t, b))
	if _, err := adm.CreateTopic(ctx, 1, 1, nil, "t"); err != nil {
		t.Fatal(err)
	}
	if r, err := adm.AlterTopicConfigs(ctx, []kadm.AlterConfig{{Name: "flush.messages", Value: ptr("1")}}, offsetsTopic); err != nil || r[0].Err != nil {
		t.Fatal(err, r)
	}
	for i := range 5 {
		os := kadm.Offsets{}
		os.AddOffset("t", 0, int64(100+i), -1)
		if r, err := adm.CommitOffsets(ctx, fmt.Sprint("g", i), os); err != nil || r.Error() != nil {
			t.Fatal(err, r.Error())
		}
	}
	crashed := mem.CrashClone()
	stopBroker(t, b)
	cfg.FS = crashed
	if b, err = Start(cfg); err != nil {
		t.Fatal(err)
	}
	defer stopBroker(t, b)
	adm = kadm.NewClient(adminClient(t, b))
	for i := range 5 {
		fo, err := adm.FetchOffsets(ctx, fmt.Sprint("g", i))
		if err != nil {
			t.Fatal(err)
		}
		if o, _ := fo.Lookup("t", 0); o.At != int64(100+i) {
			t.Errorf("group g%d after a crash: %+v", i, o)
		}
	}
}

// TestGroupWriteFailure: when the coordinator's records cannot be
// written, the request is answered as Kafka answers a failed write, and
// the coordinator is rebuilt from the log: a group record too large for
// the topic fails the SyncGroup and leaves no group behind, while the
// coordinator goes on serving; a partition whose disk fails stops
// coordinating its groups (NOT_COORDINATOR) and the others carry on.
func TestGroupWriteFailure(t *testing.T) {
	fs := vfs.NewFaulty(vfs.NewMem())
	cfg := groupBrokerConfig("/data", "127.0.0.1:0")
	cfg.FS = fs
	b, err := Start(cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer func() {
		// The failed partition's log is offline: closing it says so.
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := b.Shutdown(ctx); err != nil && !errors.Is(err, disk.ErrOffline) {
			t.Fatal(err)
		}
	}()
	ctx, cancel := context.WithTimeout(context.Background(), groupTestTimeout)
	defer cancel()
	adm := kadm.NewClient(adminClient(t, b))
	if _, err := adm.CreateTopic(ctx, 1, 1, nil, "t"); err != nil {
		t.Fatal(err)
	}
	if r, err := adm.AlterTopicConfigs(ctx, []kadm.AlterConfig{{Name: "max.message.bytes", Value: ptr("2000")}}, offsetsTopic); err != nil || r[0].Err != nil {
		t.Fatal(err, r)
	}
	m := &rawMember{t: t, c: dialBroker(t, b)}
	join := kmsg.NewPtrJoinGroupRequest()
	join.Version, join.Group, join.ProtocolType = 3, "big", "consumer"
	join.SessionTimeoutMillis, join.RebalanceTimeoutMillis = 6000, 6000
	join.Protocols = []kmsg.JoinGroupRequestProtocol{{Name: "range", Metadata: make([]byte, 3000)}}
	jr := m.call(join).(*kmsg.JoinGroupResponse)
	if jr.ErrorCode != 0 {
		t.Fatalf("JoinGroup: %+v", jr)
	}
	sync := kmsg.NewPtrSyncGroupRequest()
	sync.Version, sync.Group, sync.Generation, sync.MemberID = 3, "big", jr.Generation, jr.MemberID
	wantErrCode(t, "SyncGroup of a group too large to write", m.call(sync).(*kmsg.SyncGroupResponse).ErrorCode, kerr.UnknownServerError.Code)
	hb := kmsg.NewPtrHeartbeatRequest()
	hb.Version, hb.Group, hb.Generation, hb.MemberID = 3, "big", jr.Generation, jr.MemberID
	wantErrCode(t, "heartbeat after the rebuild", m.call(hb).(*kmsg.HeartbeatResponse).ErrorCode, kerr.UnknownMemberID.Code)
	// Raw commits: a client would retry NOT_COORDINATOR for a while.
	commit := func(groupID string) error {
		req := kmsg.NewPtrOffsetCommitRequest()
		req.Version, req.Group = 9, groupID
		ct := kmsg.NewOffsetCommitRequestTopic()
		ct.Topic = "t"
		cp := kmsg.NewOffsetCommitRequestTopicPartition()
		cp.Offset = 3
		ct.Partitions = append(ct.Partitions, cp)
		req.Topics = append(req.Topics, ct)
		return kerr.ErrorForCode(m.call(req).(*kmsg.OffsetCommitResponse).Topics[0].Partitions[0].ErrorCode)
	}
	if err := commit("big"); err != nil {
		t.Fatalf("commit after the rebuild: %v", err)
	}

	// Find a group on another partition, then fail every write of big's.
	other := "other"
	for i := 0; group.PartitionFor(other, int32(len(b.offsets.partitions))) == group.PartitionFor("big", int32(len(b.offsets.partitions))); i++ {
		other = fmt.Sprint("other", i)
	}
	dir := filepath.Base(b.partitionDir(offsetsTopic, group.PartitionFor("big", int32(len(b.offsets.partitions)))))
	fs.SetInjector(func(op vfs.Op, name string) error {
		if (op == vfs.OpWrite || op == vfs.OpSync) && strings.Contains(name, dir+"/") {
			return errors.New("injected EIO")
		}
		return nil
	})
	// The first commit after the fault is acknowledged once in the log
	// (flush.messages is not set); the failed write takes the partition
	// offline, and commits after that are refused.
	for {
		err := commit("big")
		if errors.Is(err, kerr.NotCoordinator) {
			break
		}
		if err != nil || ctx.Err() != nil {
			t.Fatalf("commit to a failing partition: %v (context: %v)", err, ctx.Err())
		}
		time.Sleep(10 * time.Millisecond)
	}
	fetch := kmsg.NewPtrOffsetFetchRequest()
	fetch.Version, fetch.Group = 7, "big"
	wantErrCode(t, "OffsetFetch of a group on the failed partition", m.call(fetch).(*kmsg.OffsetFetchResponse).ErrorCode, kerr.NotCoordinator.Code)
	if err := commit(other); err != nil {
		t.Fatalf("commit to a group on a healthy partition: %v", err)
	}
}
