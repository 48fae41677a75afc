package core

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"net"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"

	"sluice/disk/batch"
	"sluice/disk/batch/batchtest"
)

// adminClient is a client that never asks the broker to create topics, so
// that a deleted topic stays deleted.
func adminClient(t *testing.T, b *Broker, opts ...kgo.Opt) *kgo.Client {
	t.Helper()
	c, err := kgo.NewClient(append([]kgo.Opt{kgo.SeedBrokers(b.Addr())}, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Close)
	return c
}

// exchange sends req at its version on c and decodes the response.
func exchangeRaw(c net.Conn, req kmsg.Request, corr int32) (kmsg.Response, error) {
	if _, err := c.Write(rawRequest(req, corr)); err != nil {
		return nil, err
	}
	var size [4]byte
	if _, err := io.ReadFull(c, size[:]); err != nil {
		return nil, err
	}
	raw := make([]byte, binary.BigEndian.Uint32(size[:]))
	if _, err := io.ReadFull(c, raw); err != nil {
		return nil, err
	}
	if len(raw) < 4 || int32(binary.BigEndian.Uint32(raw)) != corr {
		return nil, fmt.Errorf("response %x does not carry correlation id %d", raw[:min(len(raw), 8)], corr)
	}
	body := raw[4:]
	if req.IsFlexible() && req.Key() != kmsg.ApiVersions.Int16() {
		body = body[1:] // the response header's empty tagged fields
	}
	resp := req.ResponseKind()
	resp.SetVersion(req.GetVersion())
	if err := resp.ReadFrom(body); err != nil {
		return nil, fmt.Errorf("decoding %T v%d: %w", resp, req.GetVersion(), err)
	}
	return resp, nil
}

func dialBroker(t *testing.T, b *Broker) net.Conn {
	t.Helper()
	c, err := net.DialTimeout("tcp", b.Addr(), 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	c.SetDeadline(time.Now().Add(30 * time.Second))
	return c
}

// call sends one request at the version it carries, on a new connection.
func callRaw[R kmsg.Response](t *testing.T, b *Broker, req kmsg.Request) R {
	t.Helper()
	c := dialBroker(t, b)
	resp, err := exchangeRaw(c, req, 7)
	if err != nil {
		t.Fatalf("%T v%d: %v", req, req.GetVersion(), err)
	}
	return resp.(R)
}

func produceReq(topic string, partition int32, records []byte) *kmsg.ProduceRequest {
	req := kmsg.NewPtrProduceRequest()
	req.Version, req.Acks, req.TimeoutMillis = 9, 1, 5000
	rt := kmsg.NewProduceRequestTopic()
	rt.Topic = topic
	rp := kmsg.NewProduceRequestTopicPartition()
	rp.Partition, rp.Records = partition, records
	rt.Partitions = append(rt.Partitions, rp)
	req.Topics = append(req.Topics, rt)
	return req
}

func produceCodeRaw(t *testing.T, b *Broker, topic string, partition int32, records []byte) int16 {
	t.Helper()
	return callRaw[*kmsg.ProduceResponse](t, b, produceReq(topic, partition, records)).Topics[0].Partitions[0].ErrorCode
}

// fetchRaw asks for one partition at offset, by name (v12) or by ID (v13+).
func fetchReq(version int16, topic string, id [16]byte, partition int32, offset int64, maxWaitMs int32) *kmsg.FetchRequest {
	req := kmsg.NewPtrFetchRequest()
	req.Version, req.MaxWaitMillis, req.MinBytes, req.MaxBytes = version, maxWaitMs, 1, 1<<20
	rt := kmsg.NewFetchRequestTopic()
	rt.Topic, rt.TopicID = topic, id
	rp := kmsg.NewFetchRequestTopicPartition()
	rp.Partition, rp.FetchOffset, rp.PartitionMaxBytes = partition, offset, 1<<20
	rt.Partitions = append(rt.Partitions, rp)
	req.Topics = append(req.Topics, rt)
	return req
}

func kerrOf(code int16) error { return kerr.ErrorForCode(code) }

func wantErrCode(t *testing.T, what string, got, want int16) {
	t.Helper()
	if got != want {
		t.Fatalf("%s: %v, want %v", what, kerrOf(got), kerrOf(want))
	}
}

func endOffsetsOf(t *testing.T, ctx context.Context, adm *kadm.Client, topic string) map[int32]int64 {
	t.Helper()
	lo, err := adm.ListEndOffsets(ctx, topic)
	if err != nil {
		t.Fatal(err)
	}
	out := map[int32]int64{}
	lo.Each(func(o kadm.ListedOffset) {
		if o.Err != nil {
			t.Fatalf("end offset of %s/%d: %v", o.Topic, o.Partition, o.Err)
		}
		out[o.Partition] = o.Offset
	})
	return out
}

func produceNumbered(t *testing.T, ctx context.Context, b *Broker, topic string, partition int32, n int) {
	t.Helper()
	p := adminClient(t, b, kgo.DefaultProduceTopic(topic), kgo.RecordPartitioner(kgo.ManualPartitioner()))
	defer p.Close()
	for i := range n {
		r := &kgo.Record{Partition: partition, Value: []byte(fmt.Sprintf("%s-%d-%d", topic, partition, i))}
		if err := p.ProduceSync(ctx, r).FirstErr(); err != nil {
			t.Fatalf("produce to %s/%d: %v", topic, partition, err)
		}
	}
}

// TestDeleteTopicRecreateEmpty deletes a topic with data: its directories
// go, it is unknown afterwards, and a topic created with the same name
// starts empty with a new ID, also after a restart.
func TestDeleteTopicRecreateEmpty(t *testing.T) {
	dir := t.TempDir()
	b := startBroker(t, dir)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	adm := kadm.NewClient(adminClient(t, b))
	created, err := adm.CreateTopic(ctx, 3, 1, nil, "doomed")
	if err != nil {
		t.Fatal(err)
	}
	for p := range int32(3) {
		produceNumbered(t, ctx, b, "doomed", p, 10)
	}
	for p, end := range endOffsetsOf(t, ctx, adm, "doomed") {
		if end != 10 {
			t.Fatalf("partition %d ends at %d before the delete", p, end)
		}
	}
	for i, p := range b.topic("doomed").partitions {
		if p.dir != b.partitionDir("doomed", int32(i)) {
			t.Fatalf("partition %d lives in %s; partitionDir says %s", i, p.dir, b.partitionDir("doomed", int32(i)))
		}
	}

	d, err := adm.DeleteTopic(ctx, "doomed")
	if err != nil {
		t.Fatal(err)
	}
	if d.ID != created.ID {
		t.Fatalf("deleted topic id %v, created %v", d.ID, created.ID)
	}
	for i := range 3 {
		if _, err := os.Stat(filepath.Join(dir, fmt.Sprintf("doomed-%d", i))); !os.IsNotExist(err) {
			t.Fatalf("partition %d directory after the delete: %v", i, err)
		}
	}
	// Not through kadm: its metadata requests allow auto-creation, which
	// would create the topic again.
	meta := kmsg.NewPtrMetadataRequest()
	meta.Version, meta.AllowAutoTopicCreation = 12, false
	mt := kmsg.NewMetadataRequestTopic()
	mt.Topic = ptr("doomed")
	meta.Topics = append(meta.Topics, mt)
	if got := callRaw[*kmsg.MetadataResponse](t, b, meta).Topics[0]; got.ErrorCode != errUnknownTopicOrPartition {
		t.Fatalf("metadata after the delete: %+v", got)
	}
	if _, err := adm.DeleteTopic(ctx, "doomed"); !errors.Is(err, kerr.UnknownTopicOrPartition) {
		t.Fatalf("second delete: %v", err)
	}

	again, err := adm.CreateTopic(ctx, 3, 1, nil, "doomed")
	if err != nil {
		t.Fatal(err)
	}
	if again.ID == created.ID {
		t.Fatal("the new topic has the old topic's id")
	}
	check := func(b *Broker) {
		t.Helper()
		adm := kadm.NewClient(adminClient(t, b))
		for p, end := range endOffsetsOf(t, ctx, adm, "doomed") {
			if end != 0 {
				t.Fatalf("re-created partition %d ends at %d; want empty", p, end)
			}
		}
		c := adminClient(t, b, kgo.ConsumeTopics("doomed"), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()), kgo.FetchMaxWait(100*time.Millisecond))
		pctx, pcancel := context.WithTimeout(ctx, 500*time.Millisecond)
		defer pcancel()
		if fs := c.PollFetches(pctx); fs.NumRecords() != 0 {
			t.Fatalf("consumed %d records from the re-created topic", fs.NumRecords())
		}
	}
	check(b)
	stopBroker(t, b)
	b = startBroker(t, dir)
	defer stopBroker(t, b)
	check(b)
	if got := b.topic("doomed"); got == nil || got.id != [16]byte(again.ID) {
		t.Fatalf("after a restart the topic is %+v; want id %v", got, again.ID)
	}
}

// TestDeleteTopicsByID checks the v6 forms and the errors Kafka
// gives: an unknown name or ID, both or neither named, a name given twice.
func TestDeleteTopicsByID(t *testing.T) {
	b := startBroker(t, t.TempDir())
	defer stopBroker(t, b)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	adm := kadm.NewClient(adminClient(t, b))
	for _, name := range []string{"by-id", "by-name", "twice"} {
		if _, err := adm.CreateTopic(ctx, 1, 1, nil, name); err != nil {
			t.Fatal(err)
		}
	}
	byID := b.topic("by-id").id
	topic := func(name string, id [16]byte) kmsg.DeleteTopicsRequestTopic {
		rt := kmsg.NewDeleteTopicsRequestTopic()
		if name != "" {
			rt.Topic = &name
		}
		rt.TopicID = id
		return rt
	}
	req := kmsg.NewPtrDeleteTopicsRequest()
	req.Version = 6
	req.Topics = []kmsg.DeleteTopicsRequestTopic{
		topic("", byID), topic("by-name", [16]byte{}), topic("", [16]byte{9}),
		topic("by-name", byID), topic("", [16]byte{}), topic("twice", [16]byte{}), topic("twice", [16]byte{}),
		topic("never-was", [16]byte{}),
	}
	resp := callRaw[*kmsg.DeleteTopicsResponse](t, b, req)
	want := []struct {
		name string
		code int16
	}{
		{"by-id", 0}, {"by-name", 0}, {"", errUnknownTopicID}, {"by-name", kerr.InvalidRequest.Code},
		{"", kerr.InvalidRequest.Code}, {"twice", kerr.InvalidRequest.Code}, {"never-was", errUnknownTopicOrPartition},
	}
	if len(resp.Topics) != len(want) {
		t.Fatalf("%d results, want %d: %+v", len(resp.Topics), len(want), resp.Topics)
	}
	for i, w := range want {
		got := resp.Topics[i]
		name := ""
		if got.Topic != nil {
			name = *got.Topic
		}
		if name != w.name || got.ErrorCode != w.code {
			t.Errorf("result %d: %q %v, want %q %v", i, name, kerrOf(got.ErrorCode), w.name, kerrOf(w.code))
		}
	}
	if resp.Topics[0].TopicID != byID {
		t.Errorf("deleted by id, answered with id %x", resp.Topics[0].TopicID)
	}
	for name, want := range map[string]bool{"by-id": false, "by-name": false, "twice": true} {
		if got := b.topic(name) != nil; got != want {
			t.Errorf("topic %s exists: %v, want %v", name, got, want)
		}
	}
}

// TestDeleteTopicWhileLongPolling: a fetch parked at the end of a topic's
// partitions is answered with UNKNOWN_TOPIC_OR_PARTITION (UNKNOWN_TOPIC_ID
// when it names the topic by ID) as soon as the topic is deleted, long
// before its MaxWaitMillis.
func TestDeleteTopicWhileLongPolling(t *testing.T) {
	for _, version := range []int16{12, 16} {
		t.Run(fmt.Sprintf("fetch v%d", version), func(t *testing.T) {
			b := startBroker(t, t.TempDir())
			defer stopBroker(t, b)
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			adm := kadm.NewClient(adminClient(t, b))
			if _, err := adm.CreateTopic(ctx, 2, 1, nil, "polled"); err != nil {
				t.Fatal(err)
			}
			produceNumbered(t, ctx, b, "polled", 0, 1)
			id := b.topic("polled").id

			req := fetchReq(version, "polled", id, 0, 1, 120_000)
			rp := kmsg.NewFetchRequestTopicPartition()
			rp.Partition, rp.FetchOffset, rp.PartitionMaxBytes = 1, 0, 1<<20
			req.Topics[0].Partitions = append(req.Topics[0].Partitions, rp)
			c := dialBroker(t, b)
			type result struct {
				resp kmsg.Response
				err  error
			}
			got := make(chan result, 1)
			go func() {
				resp, err := exchangeRaw(c, req, 3)
				got <- result{resp, err}
			}()
			waitUntil(t, "the fetch to park", func() bool { return parkedFetchCount(b) > 0 })
			if _, err := adm.DeleteTopic(ctx, "polled"); err != nil {
				t.Fatal(err)
			}
			res := <-got
			if res.err != nil {
				t.Fatalf("long poll: %v", res.err)
			}
			want := errUnknownTopicOrPartition
			if version >= 13 {
				want = errUnknownTopicID
			}
			for _, p := range res.resp.(*kmsg.FetchResponse).Topics[0].Partitions {
				wantErrCode(t, fmt.Sprintf("partition %d", p.Partition), p.ErrorCode, want)
				if p.HighWatermark != -1 {
					t.Errorf("partition %d: high watermark %d of a deleted partition", p.Partition, p.HighWatermark)
				}
			}
			if n := parkedFetchCount(b); n != 0 {
				t.Fatalf("%d fetches still parked", n)
			}
		})
	}
}

// TestDeleteTopicRacingClients deletes and re-creates a topic over and over
// while clients produce to it (auto-creating it when it is gone) and fetch
// from it: every answer is a success or UNKNOWN_TOPIC_OR_PARTITION, never
// KAFKA_STORAGE_ERROR or a dropped connection, and once the clients stop a
// re-created topic starts empty.
func TestDeleteTopicRacingClients(t *testing.T) {
	b := startBroker(t, t.TempDir())
	defer stopBroker(t, b)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	adm := kadm.NewClient(adminClient(t, b))
	if _, err := adm.CreateTopic(ctx, 4, 1, nil, "race"); err != nil {
		t.Fatal(err)
	}
	stop := make(chan struct{})
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	var answers struct {
		sync.Mutex
		m map[int16]int
	}
	answers.m = map[int16]int{}
	for w := range 4 {
		c := dialBroker(t, b)
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := int32(0); ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				part := (int32(w) + i) % 4
				resp, err := exchangeRaw(c, produceReq("race", part, batchtest.Values(1, "x", "y")), i)
				if err != nil {
					errs <- fmt.Errorf("produce: %w", err)
					return
				}
				code := resp.(*kmsg.ProduceResponse).Topics[0].Partitions[0].ErrorCode
				if code != 0 && code != errUnknownTopicOrPartition {
					errs <- fmt.Errorf("produce to partition %d: %v", part, kerrOf(code))
					return
				}
				answers.Lock()
				answers.m[code]++
				answers.Unlock()
				resp, err = exchangeRaw(c, fetchReq(12, "race", [16]byte{}, part, 0, 20), i)
				if err != nil {
					errs <- fmt.Errorf("fetch: %w", err)
					return
				}
				if code := resp.(*kmsg.FetchResponse).Topics[0].Partitions[0].ErrorCode; code != 0 && code != errUnknownTopicOrPartition {
					errs <- fmt.Errorf("fetch from partition %d: %v", part, kerrOf(code))
					return
				}
			}
		}()
	}
	for range 15 {
		if _, err := adm.DeleteTopics(ctx, "race"); err != nil {
			t.Fatal(err)
		}
		// The producers may have auto-created it already.
		if _, err := adm.CreateTopic(ctx, 4, 1, nil, "race"); err != nil && !errors.Is(err, kerr.TopicAlreadyExists) {
			t.Fatal(err)
		}
	}
	close(stop)
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	t.Logf("produce answers by error code: %v", answers.m)
	if _, err := adm.DeleteTopic(ctx, "race"); err != nil {
		t.Fatal(err)
	}
	if _, err := adm.CreateTopic(ctx, 4, 1, nil, "race"); err != nil {
		t.Fatal(err)
	}
	for p, end := range endOffsetsOf(t, ctx, adm, "race") {
		if end != 0 {
			t.Fatalf("re-created partition %d ends at %d", p, end)
		}
	}
}

// TestCreatePartitions grows a topic while a client produces to it and
// reads its metadata, then produces to and consumes from the new
// partitions, which take the topic's configs; growth survives a restart.
// Shrinking, not growing, unknown topics, manual assignments and counts
// over the cap are refused.
func TestCreatePartitions(t *testing.T) {
	dir := t.TempDir()
	b := startBroker(t, dir)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	adm := kadm.NewClient(adminClient(t, b))
	if _, err := adm.CreateTopic(ctx, 1, 1, map[string]*string{"max.message.bytes": ptr("2000")}, "grow"); err != nil {
		t.Fatal(err)
	}
	partitions := func(b *Broker) int {
		t.Helper()
		td, err := kadm.NewClient(adminClient(t, b)).ListTopics(ctx, "grow")
		if err != nil || td["grow"].Err != nil {
			t.Fatal(err, td["grow"].Err)
		}
		return len(td["grow"].Partitions)
	}

	if rs, err := adm.ValidateUpdatePartitions(ctx, 4, "grow"); err != nil || rs["grow"].Err != nil {
		t.Fatalf("validate only: %v %v", err, rs["grow"].Err)
	}
	if n := partitions(b); n != 1 {
		t.Fatalf("validate only made %d partitions", n)
	}

	// A client hammers the topic while it grows, for the race detector.
	stop := make(chan struct{})
	done := make(chan error, 1)
	go func() {
		c, err := net.Dial("tcp", b.Addr())
		if err != nil {
			done <- err
			return
		}
		defer c.Close()
		c.SetDeadline(time.Now().Add(30 * time.Second))
		meta := kmsg.NewPtrMetadataRequest()
		meta.Version = 12
		name := "grow"
		mt := kmsg.NewMetadataRequestTopic()
		mt.Topic = &name
		meta.Topics = append(meta.Topics, mt)
		for i := int32(0); ; i++ {
			select {
			case <-stop:
				done <- nil
				return
			default:
			}
			if _, err := exchangeRaw(c, meta, i); err != nil {
				done <- err
				return
			}
			resp, err := exchangeRaw(c, produceReq("grow", i%3, batchtest.Values(1, "x")), i)
			if err != nil {
				done <- err
				return
			}
			if code := resp.(*kmsg.ProduceResponse).Topics[0].Partitions[0].ErrorCode; code != 0 && code != errUnknownTopicOrPartition {
				done <- fmt.Errorf("produce during growth: %v", kerrOf(code))
				return
			}
		}
	}()
	for _, n := range []int{2, 3} {
		if rs, err := adm.UpdatePartitions(ctx, n, "grow"); err != nil || rs["grow"].Err != nil {
			t.Fatalf("grow to %d: %v %v", n, err, rs["grow"].Err)
		}
	}
	close(stop)
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if n := partitions(b); n != 3 {
		t.Fatalf("%d partitions after growing to 3", n)
	}

	before := endOffsetsOf(t, ctx, adm, "grow")
	for _, p := range []int32{1, 2} {
		produceNumbered(t, ctx, b, "grow", p, 5)
		wantErrCode(t, fmt.Sprintf("a batch over max.message.bytes on new partition %d", p),
			produceCodeRaw(t, b, "grow", p, batchtest.Sized(1, 1, 5000, 1)), kerr.MessageTooLarge.Code)
	}
	c := adminClient(t, b, kgo.ConsumePartitions(map[string]map[int32]kgo.Offset{"grow": {
		1: kgo.NewOffset().At(before[1]), 2: kgo.NewOffset().At(before[2]),
	}}))
	got := map[int32]int{}
	for got[1]+got[2] < 10 {
		fs := c.PollFetches(ctx)
		if ctx.Err() != nil {
			t.Fatalf("consumed %v of 5 records per new partition", got)
		}
		fs.EachError(func(_ string, _ int32, err error) { t.Fatal(err) })
		fs.EachRecord(func(r *kgo.Record) {
			if want := fmt.Sprintf("grow-%d-%d", r.Partition, got[r.Partition]); string(r.Value) != want {
				t.Fatalf("record %q, want %q", r.Value, want)
			}
			got[r.Partition]++
		})
	}

	for _, tc := range []struct {
		name  string
		count int
		want  error
	}{
		{"shrink", 2, kerr.InvalidPartitions},
		{"same count", 3, kerr.InvalidPartitions},
		{"over the cap", maxPartitions + 1, kerr.InvalidPartitions},
	} {
		rs, err := adm.UpdatePartitions(ctx, tc.count, "grow")
		if err != nil || !errors.Is(rs["grow"].Err, tc.want) {
			t.Errorf("%s: %v %v, want %v", tc.name, err, rs["grow"].Err, tc.want)
		}
	}
	req := kmsg.NewPtrCreatePartitionsRequest()
	req.Version = 3
	for _, name := range []string{"grow", "missing", "dup", "dup"} {
		rt := kmsg.NewCreatePartitionsRequestTopic()
		rt.Topic, rt.Count = name, 5
		if name == "grow" {
			a := kmsg.NewCreatePartitionsRequestTopicAssignment()
			a.Replicas = []int32{0}
			rt.Assignment = []kmsg.CreatePartitionsRequestTopicAssignment{a, a}
		}
		req.Topics = append(req.Topics, rt)
	}
	resp := callRaw[*kmsg.CreatePartitionsResponse](t, b, req)
	if len(resp.Topics) != 3 {
		t.Fatalf("%d results: %+v", len(resp.Topics), resp.Topics)
	}
	wantErrCode(t, "manual assignment", resp.Topics[0].ErrorCode, kerr.InvalidRequest.Code)
	wantErrCode(t, "unknown topic", resp.Topics[1].ErrorCode, errUnknownTopicOrPartition)
	wantErrCode(t, "topic named twice", resp.Topics[2].ErrorCode, kerr.InvalidRequest.Code)

	after := endOffsetsOf(t, ctx, adm, "grow")
	stopBroker(t, b)
	b = startBroker(t, dir)
	defer stopBroker(t, b)
	if n := partitions(b); n != 3 {
		t.Fatalf("%d partitions after a restart", n)
	}
	if got := endOffsetsOf(t, ctx, kadm.NewClient(adminClient(t, b)), "grow"); fmt.Sprint(got) != fmt.Sprint(after) {
		t.Fatalf("end offsets %v after a restart, %v before", got, after)
	}
}

// TestDeleteRecords moves a partition's start forward: ListOffsets reports
// it, fetching below it is OFFSET_OUT_OF_RANGE, fetching at it returns the
// records from there, and it survives a restart.
func TestDeleteRecords(t *testing.T) {
	dir := t.TempDir()
	b := startBroker(t, dir)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	adm := kadm.NewClient(adminClient(t, b))
	if _, err := adm.CreateTopic(ctx, 1, 1, nil, "trim"); err != nil {
		t.Fatal(err)
	}
	produceNumbered(t, ctx, b, "trim", 0, 10)
	deleteBefore := func(offset int64) kadm.DeleteRecordsResponse {
		t.Helper()
		rs, err := adm.DeleteRecords(ctx, kadm.Offsets{"trim": {0: {Topic: "trim", Partition: 0, At: offset}}})
		if err != nil {
			t.Fatal(err)
		}
		r, _ := rs.Lookup("trim", 0)
		return r
	}
	startOffset := func(adm *kadm.Client) int64 {
		t.Helper()
		lo, err := adm.ListStartOffsets(ctx, "trim")
		if err != nil {
			t.Fatal(err)
		}
		o, _ := lo.Lookup("trim", 0)
		if o.Err != nil {
			t.Fatal(o.Err)
		}
		return o.Offset
	}

	if r := deleteBefore(4); r.Err != nil || r.LowWatermark != 4 {
		t.Fatalf("delete before 4: %+v", r)
	}
	if got := startOffset(adm); got != 4 {
		t.Fatalf("start offset %d, want 4", got)
	}
	fr := callRaw[*kmsg.FetchResponse](t, b, fetchReq(12, "trim", [16]byte{}, 0, 2, 0)).Topics[0].Partitions[0]
	wantErrCode(t, "fetch below the start", fr.ErrorCode, errOffsetOutOfRange)
	if fr.LogStartOffset != 4 {
		t.Errorf("fetch below the start reports log start %d", fr.LogStartOffset)
	}
	fr = callRaw[*kmsg.FetchResponse](t, b, fetchReq(12, "trim", [16]byte{}, 0, 4, 0)).Topics[0].Partitions[0]
	wantErrCode(t, "fetch at the start", fr.ErrorCode, 0)
	if h, err := batch.ParseHeader(fr.RecordBatches); err != nil || h.BaseOffset != 4 {
		t.Fatalf("first batch at the start: %+v %v", h, err)
	}

	if r := deleteBefore(2); r.Err != nil || r.LowWatermark != 4 {
		t.Fatalf("delete below the start: %+v", r)
	}
	if r := deleteBefore(11); !errors.Is(r.Err, kerr.OffsetOutOfRange) {
		t.Fatalf("delete past the high watermark: %+v", r)
	}
	req := kmsg.NewPtrDeleteRecordsRequest()
	req.Version = 2
	rt := kmsg.NewDeleteRecordsRequestTopic()
	rt.Topic = "trim"
	for _, p := range []struct {
		partition int32
		offset    int64
	}{{0, -5}, {7, 1}} {
		rp := kmsg.NewDeleteRecordsRequestTopicPartition()
		rp.Partition, rp.Offset = p.partition, p.offset
		rt.Partitions = append(rt.Partitions, rp)
	}
	req.Topics = append(req.Topics, rt)
	dr := callRaw[*kmsg.DeleteRecordsResponse](t, b, req).Topics[0].Partitions
	wantErrCode(t, "offset -5", dr[0].ErrorCode, errOffsetOutOfRange)
	wantErrCode(t, "unknown partition", dr[1].ErrorCode, errUnknownTopicOrPartition)
	if dr[0].LowWatermark != -1 || dr[1].LowWatermark != -1 {
		t.Errorf("low watermarks of failures: %d %d", dr[0].LowWatermark, dr[1].LowWatermark)
	}

	if r := deleteBefore(-1); r.Err != nil || r.LowWatermark != 10 {
		t.Fatalf("delete everything: %+v", r)
	}
	stopBroker(t, b)
	b = startBroker(t, dir)
	defer stopBroker(t, b)
	adm = kadm.NewClient(adminClient(t, b))
	if got := startOffset(adm); got != 10 {
		t.Fatalf("start offset %d after a restart, want 10", got)
	}
	produceNumbered(t, ctx, b, "trim", 0, 1)
	if end := endOffsetsOf(t, ctx, adm, "trim")[0]; end != 11 {
		t.Fatalf("end offset %d after one more record", end)
	}
}

// TestOffsetForLeaderEpoch checks the answers for the one epoch this node
// has, and that Produce, Metadata, OffsetForLeaderEpoch, Fetch and
// ListOffsets agree on it.
func TestOffsetForLeaderEpoch(t *testing.T) {
	b := startBroker(t, t.TempDir())
	defer stopBroker(t, b)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	adm := kadm.NewClient(adminClient(t, b))
	if _, err := adm.CreateTopic(ctx, 1, 1, nil, "epochs"); err != nil {
		t.Fatal(err)
	}
	produceNumbered(t, ctx, b, "epochs", 0, 5)

	md, err := adm.Metadata(ctx, "epochs")
	if err != nil {
		t.Fatal(err)
	}
	if e := md.Topics["epochs"].Partitions[0].LeaderEpoch; e != leaderEpoch {
		t.Fatalf("metadata leader epoch %d", e)
	}
	fr := callRaw[*kmsg.FetchResponse](t, b, fetchReq(12, "epochs", [16]byte{}, 0, 0, 0)).Topics[0].Partitions[0]
	if h, err := batch.ParseHeader(fr.RecordBatches); err != nil || h.PartitionLeaderEpoch != leaderEpoch {
		t.Fatalf("stored batch leader epoch: %+v %v", h, err)
	}
	if oe, err := adm.OffsetForLeaderEpoch(ctx, kadm.OffsetForLeaderEpochRequest{"epochs": {0: leaderEpoch}}); err != nil {
		t.Fatal(err)
	} else if r := oe["epochs"][0]; r.Err != nil || r.LeaderEpoch != leaderEpoch || r.EndOffset != 5 {
		t.Fatalf("kadm: %+v", r)
	}

	ask := func(version int16, partition, current, epoch int32) kmsg.OffsetForLeaderEpochResponseTopicPartition {
		t.Helper()
		req := kmsg.NewPtrOffsetForLeaderEpochRequest()
		req.Version, req.ReplicaID = version, -1
		rt := kmsg.NewOffsetForLeaderEpochRequestTopic()
		rt.Topic = "epochs"
		rp := kmsg.NewOffsetForLeaderEpochRequestTopicPartition()
		rp.Partition, rp.CurrentLeaderEpoch, rp.LeaderEpoch = partition, current, epoch
		rt.Partitions = append(rt.Partitions, rp)
		req.Topics = append(req.Topics, rt)
		return callRaw[*kmsg.OffsetForLeaderEpochResponse](t, b, req).Topics[0].Partitions[0]
	}
	for _, tc := range []struct {
		name                   string
		partition, current, ep int32
		code                   int16
		epoch                  int32
		end                    int64
	}{
		{"current epoch", 0, -1, 0, 0, 0, 5},
		{"current epoch, checked", 0, 0, 0, 0, 0, 5},
		{"newer epoch", 0, -1, 1, 0, -1, -1},
		{"undefined epoch", 0, -1, -1, 0, -1, -1},
		{"epoch before the first", 0, -1, -3, 0, -3, 0},
		{"client ahead", 0, 1, 0, kerr.UnknownLeaderEpoch.Code, -1, -1},
		{"client fenced", 0, -2, 0, kerr.FencedLeaderEpoch.Code, -1, -1},
		{"unknown partition", 3, -1, 0, errUnknownTopicOrPartition, -1, -1},
	} {
		r := ask(4, tc.partition, tc.current, tc.ep)
		if r.ErrorCode != tc.code || r.LeaderEpoch != tc.epoch || r.EndOffset != tc.end {
			t.Errorf("%s: %v epoch %d end %d; want %v %d %d", tc.name, kerrOf(r.ErrorCode), r.LeaderEpoch, r.EndOffset, kerrOf(tc.code), tc.epoch, tc.end)
		}
	}
	if r := ask(0, 0, 7, 0); r.ErrorCode != 0 || r.EndOffset != 5 {
		t.Errorf("v0 (no current epoch to check): %+v", r)
	}

	for _, tc := range []struct {
		current int32
		code    int16
	}{{-1, 0}, {0, 0}, {1, kerr.UnknownLeaderEpoch.Code}, {-2, kerr.FencedLeaderEpoch.Code}} {
		freq := fetchReq(12, "epochs", [16]byte{}, 0, 0, 0)
		freq.Topics[0].Partitions[0].CurrentLeaderEpoch = tc.current
		p := callRaw[*kmsg.FetchResponse](t, b, freq).Topics[0].Partitions[0]
		wantErrCode(t, fmt.Sprintf("fetch with current epoch %d", tc.current), p.ErrorCode, tc.code)
		if tc.code != 0 && (len(p.RecordBatches) != 0 || p.HighWatermark != -1) {
			t.Errorf("a fenced fetch returned data or a high watermark: %+v", p)
		}

		lreq := kmsg.NewPtrListOffsetsRequest()
		lreq.Version, lreq.ReplicaID = 6, -1
		lt := kmsg.NewListOffsetsRequestTopic()
		lt.Topic = "epochs"
		lp := kmsg.NewListOffsetsRequestTopicPartition()
		lp.Partition, lp.Timestamp, lp.CurrentLeaderEpoch = 0, -1, tc.current
		lt.Partitions = append(lt.Partitions, lp)
		lreq.Topics = append(lreq.Topics, lt)
		lr := callRaw[*kmsg.ListOffsetsResponse](t, b, lreq).Topics[0].Partitions[0]
		wantErrCode(t, fmt.Sprintf("list offsets with current epoch %d", tc.current), lr.ErrorCode, tc.code)
		if tc.code == 0 && lr.Offset != 5 {
			t.Errorf("list offsets: end %d", lr.Offset)
		}
	}
}

func describeConfigsRaw(t *testing.T, b *Broker, version int16, typ kmsg.ConfigResourceType, name string, names ...string) kmsg.DescribeConfigsResponseResource {
	t.Helper()
	req := kmsg.NewPtrDescribeConfigsRequest()
	req.Version, req.IncludeSynonyms, req.IncludeDocumentation = version, true, true
	rr := kmsg.NewDescribeConfigsRequestResource()
	rr.ResourceType, rr.ResourceName, rr.ConfigNames = typ, name, names
	req.Resources = append(req.Resources, rr)
	return callRaw[*kmsg.DescribeConfigsResponse](t, b, req).Resources[0]
}

func configNamed(t *testing.T, res kmsg.DescribeConfigsResponseResource, name string) kmsg.DescribeConfigsResponseResourceConfig {
	t.Helper()
	for _, c := range res.Configs {
		if c.Name == name {
			return c
		}
	}
	t.Fatalf("%s %q: no config %s among %d", res.ResourceType, res.ResourceName, name, len(res.Configs))
	return kmsg.DescribeConfigsResponseResourceConfig{}
}

// TestDescribeAlterConfigs describes a topic's configs, changes them with
// both alter APIs and checks the change is described, live on every
// partition (a batch over a lowered max.message.bytes is refused, a lowered
// segment.bytes rolls segments, flush.messages reaches each loop) and
// still there after a restart; then the errors of both APIs.
func TestDescribeAlterConfigs(t *testing.T) {
	dir := t.TempDir()
	b := startBroker(t, dir)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	adm := kadm.NewClient(adminClient(t, b))
	if _, err := adm.CreateTopic(ctx, 2, 1, map[string]*string{"retention.ms": ptr("3600000")}, "cfg"); err != nil {
		t.Fatal(err)
	}

	rcs, err := adm.DescribeTopicConfigs(ctx, "cfg")
	if err != nil {
		t.Fatal(err)
	}
	rc, err := rcs.On("cfg", nil)
	if err != nil || rc.Err != nil {
		t.Fatal(err, rc.Err)
	}
	if len(rc.Configs) != len(topicConfigs) {
		t.Fatalf("%d configs described, %d supported", len(rc.Configs), len(topicConfigs))
	}
	for _, c := range rc.Configs {
		def, ok := topicConfigs[c.Key]
		switch {
		case !ok:
			t.Errorf("described unsupported config %s", c.Key)
		case c.Key == "retention.ms":
			if c.MaybeValue() != "3600000" || c.Source != kmsg.ConfigSourceDynamicTopicConfig ||
				len(c.Synonyms) != 2 || c.Synonyms[0].Source != kmsg.ConfigSourceDynamicTopicConfig ||
				c.Synonyms[1].Key != "log.retention.ms" || *c.Synonyms[1].Value != def || c.Synonyms[1].Source != kmsg.ConfigSourceDefaultConfig {
				t.Errorf("retention.ms: %+v", c)
			}
		default:
			if c.MaybeValue() != def || c.Source != kmsg.ConfigSourceDefaultConfig || len(c.Synonyms) != 1 ||
				c.Synonyms[0].Key != topicConfigDefs[c.Key].synonym || *c.Synonyms[0].Value != def {
				t.Errorf("%s: %+v", c.Key, c)
			}
		}
	}
	res := describeConfigsRaw(t, b, 4, kmsg.ConfigResourceTypeTopic, "cfg")
	for name, typ := range map[string]kmsg.ConfigType{"segment.bytes": kmsg.ConfigTypeInt, "retention.ms": kmsg.ConfigTypeLong, "cleanup.policy": kmsg.ConfigTypeList} {
		if c := configNamed(t, res, name); c.ConfigType != typ || c.ReadOnly || c.Documentation == nil || *c.Documentation == "" {
			t.Errorf("%s at v4: type %v read-only %v documentation %v", name, c.ConfigType, c.ReadOnly, c.Documentation)
		}
	}
	res = describeConfigsRaw(t, b, 0, kmsg.ConfigResourceTypeTopic, "cfg")
	if !configNamed(t, res, "segment.bytes").IsDefault || configNamed(t, res, "retention.ms").IsDefault {
		t.Error("IsDefault at v0 does not follow the source")
	}
	if res = describeConfigsRaw(t, b, 4, kmsg.ConfigResourceTypeTopic, "cfg", "retention.ms", "no.such.config"); len(res.Configs) != 1 || res.Configs[0].Name != "retention.ms" {
		t.Errorf("described by name: %+v", res.Configs)
	}
	if res = describeConfigsRaw(t, b, 4, kmsg.ConfigResourceTypeTopic, "cfg", []string{}...); res.ErrorCode != 0 || len(res.Configs) != 0 {
		t.Errorf("an empty list of names described %d configs", len(res.Configs))
	}

	alter := func(op kadm.IncrementalOp, name string, value *string) error {
		t.Helper()
		rs, err := adm.AlterTopicConfigs(ctx, []kadm.AlterConfig{{Op: op, Name: name, Value: value}}, "cfg")
		if err != nil {
			t.Fatal(err)
		}
		return rs[0].Err
	}
	tooBig := batchtest.Sized(1, 1, 5000, 1)
	if code := produceCodeRaw(t, b, "cfg", 0, tooBig); code != 0 {
		t.Fatalf("a 5000-byte batch under the default limit: %v", kerrOf(code))
	}
	if err := alter(kadm.SetConfig, "max.message.bytes", ptr("2000")); err != nil {
		t.Fatal(err)
	}
	for p := range int32(2) {
		wantErrCode(t, "a batch over the lowered max.message.bytes", produceCodeRaw(t, b, "cfg", p, tooBig), kerr.MessageTooLarge.Code)
		wantErrCode(t, "a batch under it", produceCodeRaw(t, b, "cfg", p, batchtest.Values(1, "small")), 0)
	}
	res = describeConfigsRaw(t, b, 4, kmsg.ConfigResourceTypeTopic, "cfg")
	if c := configNamed(t, res, "max.message.bytes"); *c.Value != "2000" || c.Source != kmsg.ConfigSourceDynamicTopicConfig {
		t.Errorf("max.message.bytes after the alter: %+v", c)
	}
	if c := configNamed(t, res, "retention.ms"); *c.Value != "3600000" {
		t.Errorf("an incremental alter changed retention.ms: %+v", c)
	}
	if rs, err := adm.ValidateAlterTopicConfigs(ctx, []kadm.AlterConfig{{Name: "max.message.bytes", Value: ptr("10")}}, "cfg"); err != nil || rs[0].Err != nil {
		t.Fatal(err, rs[0].Err)
	}
	if c := configNamed(t, describeConfigsRaw(t, b, 4, kmsg.ConfigResourceTypeTopic, "cfg"), "max.message.bytes"); *c.Value != "2000" {
		t.Errorf("validate only changed max.message.bytes to %s", *c.Value)
	}
	if err := alter(kadm.DeleteConfig, "retention.ms", nil); err != nil {
		t.Fatal(err)
	}
	if c := configNamed(t, describeConfigsRaw(t, b, 4, kmsg.ConfigResourceTypeTopic, "cfg"), "retention.ms"); *c.Value != topicConfigs["retention.ms"] || c.Source != kmsg.ConfigSourceDefaultConfig {
		t.Errorf("retention.ms after DELETE: %+v", c)
	}
	if err := alter(kadm.SetConfig, "flush.messages", ptr("1")); err != nil {
		t.Fatal(err)
	}
	for _, p := range b.topic("cfg").partitions {
		got := make(chan bool, 1)
		p.loop.Post(func() { got <- p.syncAcks })
		if !<-got {
			t.Errorf("partition %d: flush.messages=1 did not reach its loop", p.index)
		}
	}

	// The legacy alter replaces the whole set.
	if rs, err := adm.AlterTopicConfigsState(ctx, []kadm.AlterConfig{{Name: "segment.bytes", Value: ptr("1048576")}}, "cfg"); err != nil || rs[0].Err != nil {
		t.Fatal(err, rs[0].Err)
	}
	res = describeConfigsRaw(t, b, 4, kmsg.ConfigResourceTypeTopic, "cfg")
	for _, c := range res.Configs {
		if want := c.Name == "segment.bytes"; (c.Source == kmsg.ConfigSourceDynamicTopicConfig) != want {
			t.Errorf("after the legacy alter %s has source %v", c.Name, c.Source)
		}
	}
	wantErrCode(t, "5000 bytes after max.message.bytes went back to its default", produceCodeRaw(t, b, "cfg", 0, tooBig), 0)
	for i := range 3 {
		wantErrCode(t, "a 600 KB batch", produceCodeRaw(t, b, "cfg", 1, batchtest.Sized(1, 1, 600<<10, byte(i))), 0)
	}
	// The writer creates segment files in the background.
	waitUntil(t, "a second segment after 1.8 MB with segment.bytes=1048576", func() bool {
		return countFilesWithSuffix(t, filepath.Join(dir, "cfg-1"), ".log") >= 2
	})

	if err := alter(kadm.SetConfig, "max.message.bytes", ptr("2000")); err != nil {
		t.Fatal(err)
	}
	stopBroker(t, b)
	b = startBroker(t, dir)
	defer stopBroker(t, b)
	adm = kadm.NewClient(adminClient(t, b))
	res = describeConfigsRaw(t, b, 4, kmsg.ConfigResourceTypeTopic, "cfg")
	for name, want := range map[string]string{"segment.bytes": "1048576", "max.message.bytes": "2000"} {
		if c := configNamed(t, res, name); *c.Value != want || c.Source != kmsg.ConfigSourceDynamicTopicConfig {
			t.Errorf("%s after a restart: %+v", name, c)
		}
	}
	wantErrCode(t, "a batch over max.message.bytes after a restart", produceCodeRaw(t, b, "cfg", 0, tooBig), kerr.MessageTooLarge.Code)

	for _, tc := range []struct {
		name  string
		op    kadm.IncrementalOp
		key   string
		value *string
		want  error
	}{
		{"unknown config", kadm.SetConfig, "no.such.config", ptr("1"), kerr.InvalidConfig},
		{"not a number", kadm.SetConfig, "segment.bytes", ptr("abc"), kerr.InvalidConfig},
		{"below the minimum", kadm.SetConfig, "segment.bytes", ptr("1000"), kerr.InvalidConfig},
		{"over an int", kadm.SetConfig, "max.message.bytes", ptr("3000000000"), kerr.InvalidConfig},
		{"append to a number", kadm.AppendConfig, "retention.ms", ptr("1"), kerr.InvalidConfig},
		{"unsupported policy", kadm.AppendConfig, "cleanup.policy", ptr("compact"), kerr.InvalidConfig},
	} {
		if err := alter(tc.op, tc.key, tc.value); !errors.Is(err, tc.want) {
			t.Errorf("%s: %v, want %v", tc.name, err, tc.want)
		}
	}
	if err := alter(kadm.DeleteConfig, "no.such.config", nil); err != nil {
		t.Errorf("deleting a config that is not set: %v", err)
	}
	if rs, err := adm.AlterTopicConfigs(ctx, []kadm.AlterConfig{{Name: "segment.ms", Value: ptr("1")}}, "missing"); err != nil || !errors.Is(rs[0].Err, kerr.UnknownTopicOrPartition) {
		t.Errorf("unknown topic: %v %v", err, rs)
	}

	inc := kmsg.NewPtrIncrementalAlterConfigsRequest()
	inc.Version = 1
	resource := func(name string, ops ...kmsg.IncrementalAlterConfigsRequestResourceConfig) kmsg.IncrementalAlterConfigsRequestResource {
		rr := kmsg.NewIncrementalAlterConfigsRequestResource()
		rr.ResourceType, rr.ResourceName, rr.Configs = kmsg.ConfigResourceTypeTopic, name, ops
		return rr
	}
	op := func(name string, o kmsg.IncrementalAlterConfigOp, value *string) kmsg.IncrementalAlterConfigsRequestResourceConfig {
		c := kmsg.NewIncrementalAlterConfigsRequestResourceConfig()
		c.Name, c.Op, c.Value = name, o, value
		return c
	}
	if _, err := adm.CreateTopic(ctx, 1, 1, nil, "cfg2"); err != nil {
		t.Fatal(err)
	}
	inc.Resources = []kmsg.IncrementalAlterConfigsRequestResource{
		resource("cfg", op("segment.ms", 0, ptr("1")), op("segment.ms", 0, ptr("2"))),
		resource("cfg", op("flush.ms", 7, ptr("1"))),
		resource("cfg2", op("flush.ms", 0, nil)),
		resource("cfg2", op("flush.ms", 9, ptr("1"))),
		resource("bad/name"),
	}
	ir := callRaw[*kmsg.IncrementalAlterConfigsResponse](t, b, inc).Resources
	if len(ir) != 3 {
		t.Fatalf("%d results: %+v", len(ir), ir)
	}
	wantErrCode(t, "resource named twice", ir[0].ErrorCode, kerr.InvalidRequest.Code)
	wantErrCode(t, "resource named twice", ir[1].ErrorCode, kerr.InvalidRequest.Code)
	wantErrCode(t, "invalid topic name", ir[2].ErrorCode, errInvalidTopic)
	inc.Resources = []kmsg.IncrementalAlterConfigsRequestResource{
		resource("cfg", op("segment.ms", 0, ptr("1")), op("segment.ms", 0, ptr("2"))),
		resource("cfg2", op("flush.ms", 0, nil)),
	}
	ir = callRaw[*kmsg.IncrementalAlterConfigsResponse](t, b, inc).Resources
	wantErrCode(t, "config named twice", ir[0].ErrorCode, kerr.InvalidRequest.Code)
	wantErrCode(t, "null value to SET", ir[1].ErrorCode, kerr.InvalidRequest.Code)
	inc.Resources = []kmsg.IncrementalAlterConfigsRequestResource{resource("cfg", op("segment.ms", 9, ptr("1")))}
	wantErrCode(t, "unknown operation", callRaw[*kmsg.IncrementalAlterConfigsResponse](t, b, inc).Resources[0].ErrorCode, kerr.InvalidRequest.Code)

	legacy := kmsg.NewPtrAlterConfigsRequest()
	legacy.Version = 2
	lr := kmsg.NewAlterConfigsRequestResource()
	lr.ResourceType, lr.ResourceName = kmsg.ConfigResourceTypeTopic, "cfg2"
	lc := kmsg.NewAlterConfigsRequestResourceConfig()
	lc.Name = "segment.ms"
	lr.Configs = append(lr.Configs, lc)
	legacy.Resources = append(legacy.Resources, lr)
	wantErrCode(t, "legacy alter with a null value", callRaw[*kmsg.AlterConfigsResponse](t, b, legacy).Resources[0].ErrorCode, errInvalidConfig)
}

func countFilesWithSuffix(t *testing.T, dir, suffix string) int {
	t.Helper()
	ents, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, e := range ents {
		if strings.HasSuffix(e.Name(), suffix) {
			n++
		}
	}
	return n
}

// TestBrokerConfigs: the broker describes its settings read-only under
// this node's id, nothing under "", refuses other ids, resource types it
// does not have and any change.
func TestBrokerConfigs(t *testing.T) {
	dir := t.TempDir()
	b := startBroker(t, dir)
	defer stopBroker(t, b)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	adm := kadm.NewClient(adminClient(t, b))

	rcs, err := adm.DescribeBrokerConfigs(ctx, 0)
	if err != nil {
		t.Fatal(err)
	}
	rc, err := rcs.On("0", nil)
	if err != nil || rc.Err != nil {
		t.Fatal(err, rc.Err)
	}
	got := map[string]string{}
	for _, c := range rc.Configs {
		got[c.Key] = c.MaybeValue()
	}
	for name, want := range map[string]string{
		"num.partitions": "1", "auto.create.topics.enable": "true", "log.dirs": dir,
		"socket.request.max.bytes": "104857600", "node.id": "0", "log.segment.bytes": topicConfigs["segment.bytes"],
		"advertised.listeners": "PLAINTEXT://" + b.Addr(),
	} {
		if got[name] != want {
			t.Errorf("%s = %q, want %q", name, got[name], want)
		}
	}
	for _, c := range describeConfigsRaw(t, b, 4, kmsg.ConfigResourceTypeBroker, "0").Configs {
		if !c.ReadOnly {
			t.Errorf("broker config %s is not read-only", c.Name)
		}
	}
	if res := describeConfigsRaw(t, b, 4, kmsg.ConfigResourceTypeBroker, ""); res.ErrorCode != 0 || len(res.Configs) != 0 {
		t.Errorf("cluster-wide defaults: %v %d configs", kerrOf(res.ErrorCode), len(res.Configs))
	}
	for _, tc := range []struct {
		typ  kmsg.ConfigResourceType
		name string
		want int16
	}{
		{kmsg.ConfigResourceTypeBroker, "7", kerr.InvalidRequest.Code},
		{kmsg.ConfigResourceTypeBroker, "zero", kerr.InvalidRequest.Code},
		{kmsg.ConfigResourceTypeBrokerLogger, "0", kerr.InvalidRequest.Code},
		{kmsg.ConfigResourceType(99), "x", kerr.InvalidRequest.Code},
		{kmsg.ConfigResourceTypeTopic, "", kerr.InvalidRequest.Code},
		{kmsg.ConfigResourceTypeTopic, "bad/name", errInvalidTopic},
		{kmsg.ConfigResourceTypeTopic, "missing", errUnknownTopicOrPartition},
	} {
		res := describeConfigsRaw(t, b, 4, tc.typ, tc.name)
		wantErrCode(t, fmt.Sprintf("describe %v %q", tc.typ, tc.name), res.ErrorCode, tc.want)
		if res.ErrorMessage == nil {
			t.Errorf("describe %v %q: no error message", tc.typ, tc.name)
		}
	}

	rs, err := adm.AlterBrokerConfigs(ctx, []kadm.AlterConfig{{Name: "num.partitions", Value: ptr("3")}}, 0)
	if err != nil {
		t.Fatal(err)
	}
	if !errors.Is(rs[0].Err, kerr.InvalidRequest) || !strings.Contains(rs[0].ErrMessage, "restart") {
		t.Errorf("altering a broker config: %v %q", rs[0].Err, rs[0].ErrMessage)
	}
	rs, err = adm.AlterBrokerConfigsState(ctx, []kadm.AlterConfig{{Name: "num.partitions", Value: ptr("3")}})
	if err != nil {
		t.Fatal(err)
	}
	if !errors.Is(rs[0].Err, kerr.InvalidRequest) {
		t.Errorf("altering the cluster-wide default: %v", rs[0].Err)
	}
	if got := configNamed(t, describeConfigsRaw(t, b, 4, kmsg.ConfigResourceTypeBroker, "0"), "num.partitions"); *got.Value != "1" {
		t.Errorf("num.partitions is %s after refused alters", *got.Value)
	}
}

// TestDescribeCluster: this node is the cluster, its broker and its
// controller, at every version and for both endpoint types.
func TestDescribeCluster(t *testing.T) {
	b := startBroker(t, t.TempDir())
	defer stopBroker(t, b)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	md, err := kadm.NewClient(adminClient(t, b)).BrokerMetadata(ctx)
	if err != nil {
		t.Fatal(err)
	}
	host, port, _ := net.SplitHostPort(b.Addr())
	for v := int16(0); v <= 2; v++ {
		for _, tc := range []struct {
			endpoint int8
			ops      bool
		}{{1, false}, {1, true}, {2, false}} {
			req := kmsg.NewPtrDescribeClusterRequest()
			req.Version, req.EndpointType, req.IncludeClusterAuthorizedOperations = v, tc.endpoint, tc.ops
			if v == 0 && tc.endpoint != 1 {
				continue
			}
			resp := callRaw[*kmsg.DescribeClusterResponse](t, b, req)
			wantOps := int32(math.MinInt32)
			if tc.ops {
				wantOps = clusterOperations
			}
			if resp.ErrorCode != 0 || resp.ClusterID != md.Cluster || resp.ControllerID != 0 || resp.ClusterAuthorizedOperations != wantOps ||
				len(resp.Brokers) != 1 || resp.Brokers[0].NodeID != 0 || resp.Brokers[0].Host != host || strconv.Itoa(int(resp.Brokers[0].Port)) != port {
				t.Errorf("v%d %+v: %+v", v, tc, resp)
			}
		}
	}
	req := kmsg.NewPtrDescribeClusterRequest()
	req.Version, req.EndpointType = 2, 3
	wantErrCode(t, "endpoint type 3", callRaw[*kmsg.DescribeClusterResponse](t, b, req).ErrorCode, kerr.UnsupportedEndpointType.Code)
}

// adminKeys are the APIs of this file's handlers.
var adminKeys = []int16{20, 21, 23, 32, 33, 37, 44, 60}

// TestAdminAPIsEveryVersion sends each admin API a default request at
// every version the broker advertises, and checks that ApiVersions
// advertises exactly the table.
func TestAdminAPIsEveryVersion(t *testing.T) {
	b := startBroker(t, t.TempDir())
	defer stopBroker(t, b)
	for _, key := range adminKeys {
		a := b.apis[key]
		if a == nil {
			t.Fatalf("api %d is not in the table", key)
		}
		for v := a.minVersion; v <= a.maxVersion; v++ {
			req := kmsg.RequestForKey(key)
			req.SetVersion(v)
			callRaw[kmsg.Response](t, b, req)
		}
	}
	av := kmsg.NewPtrApiVersionsRequest()
	av.Version, av.ClientSoftwareName, av.ClientSoftwareVersion = 3, "t", "1"
	resp := callRaw[*kmsg.ApiVersionsResponse](t, b, av)
	advertised := map[int16][2]int16{}
	for _, k := range resp.ApiKeys {
		advertised[k.ApiKey] = [2]int16{k.MinVersion, k.MaxVersion}
	}
	for _, key := range adminKeys {
		if a := b.apis[key]; advertised[key] != [2]int16{a.minVersion, a.maxVersion} {
			t.Errorf("api %d advertised as %v, table says %d-%d", key, advertised[key], a.minVersion, a.maxVersion)
		}
	}
}

// TestAPIFilesMatchTable: every NN_name.go handler file has its key in the
// table and every key in the table has its file.
func TestAPIFilesMatchTable(t *testing.T) {
	files, err := filepath.Glob("[0-9][0-9]_*.go")
	if err != nil {
		t.Fatal(err)
	}
	named := map[int16]string{}
	re := regexp.MustCompile(`^(\d\d)_[a-z]+\.go$`)
	for _, f := range files {
		if strings.HasSuffix(f, "_test.go") {
			continue
		}
		m := re.FindStringSubmatch(f)
		if m == nil {
			t.Errorf("handler file %s is not named NN_name.go", f)
			continue
		}
		key, _ := strconv.Atoi(m[1])
		named[int16(key)] = f
	}
	table := apiTable()
	for key, f := range named {
		if table[key] == nil {
			t.Errorf("%s: api %d is not in the table", f, key)
		}
	}
	for key := range table {
		if _, ok := named[key]; !ok {
			t.Errorf("api %d is in the table but has no NN_name.go file", key)
		}
	}
}

// TestTopicConfigDefs: every supported topic config has its description,
// and every default is within its own range.
func TestTopicConfigDefs(t *testing.T) {
	for name := range topicConfigs {
		if _, ok := topicConfigDefs[name]; !ok {
			t.Errorf("%s has no configDef", name)
		}
	}
	for name := range topicConfigDefs {
		if _, ok := topicConfigs[name]; !ok {
			t.Errorf("configDef %s is not a supported topic config", name)
		}
	}
	if _, err := validTopicConfigs(topicConfigs); err != nil {
		t.Fatalf("the defaults do not validate: %v", err)
	}
	names := sortedTopicConfigNames()
	if !slices.IsSorted(names) || len(names) != len(topicConfigs) {
		t.Fatalf("sorted names %v", names)
	}
}

// TestAdminBadInput sends malformed and hostile admin requests: each gets
// the code Kafka gives or a closed connection, and the broker keeps
// serving.
func TestAdminBadInput(t *testing.T) {
	b := startBroker(t, t.TempDir())
	defer stopBroker(t, b)

	del := kmsg.NewPtrDeleteTopicsRequest()
	del.Version = 6
	delRaw := rawRequest(del, 1)
	dc := kmsg.NewPtrDescribeConfigsRequest()
	dc.Version = 4
	rr := kmsg.NewDescribeConfigsRequestResource()
	rr.ResourceType, rr.ResourceName = kmsg.ConfigResourceTypeTopic, "t"
	dc.Resources = append(dc.Resources, rr)
	dcRaw := rawRequest(dc, 2)
	for name, raw := range map[string][]byte{
		// header (10 + 4 client id bytes + 1 tag byte), then a compact
		// array length far past the frame.
		"DeleteTopics huge array":    frameOf(append(append([]byte(nil), delRaw[4:4+15]...), 0xff, 0xff, 0xff, 0x7f)),
		"DescribeConfigs truncated":  frameOf(dcRaw[4 : len(dcRaw)-3]),
		"DeleteRecords v3 (unknown)": frameOf([]byte{0, 21, 0, 3, 0, 0, 0, 1, 0, 0, 0}),
	} {
		t.Run(name, func(t *testing.T) {
			if resp := roundTrip(t, b, raw); resp != nil {
				t.Fatalf("got a response %x; want the connection closed", resp)
			}
		})
	}

	t.Run("partition counts of MaxInt32", func(t *testing.T) {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if _, err := kadm.NewClient(adminClient(t, b)).CreateTopic(ctx, 1, 1, nil, "t"); err != nil {
			t.Fatal(err)
		}
		req := kmsg.NewPtrCreatePartitionsRequest()
		req.Version = 3
		rt := kmsg.NewCreatePartitionsRequestTopic()
		rt.Topic, rt.Count = "t", math.MaxInt32
		req.Topics = append(req.Topics, rt)
		wantErrCode(t, "count", callRaw[*kmsg.CreatePartitionsResponse](t, b, req).Topics[0].ErrorCode, errInvalidPartitions)
		if _, err := kadm.NewClient(adminClient(t, b)).CreateTopic(ctx, math.MaxInt32, 1, nil, "huge"); !errors.Is(err, kerr.InvalidPartitions) {
			t.Fatalf("CreateTopics with MaxInt32 partitions: %v", err)
		}
	})
	t.Run("DeleteRecords to MinInt64", func(t *testing.T) {
		req := kmsg.NewPtrDeleteRecordsRequest()
		req.Version = 2
		rt := kmsg.NewDeleteRecordsRequestTopic()
		rt.Topic = "t"
		rp := kmsg.NewDeleteRecordsRequestTopicPartition()
		rp.Offset = math.MinInt64
		rt.Partitions = append(rt.Partitions, rp)
		req.Topics = append(req.Topics, rt)
		wantErrCode(t, "offset", callRaw[*kmsg.DeleteRecordsResponse](t, b, req).Topics[0].Partitions[0].ErrorCode, errOffsetOutOfRange)
	})
	t.Run("IncrementalAlterConfigs with many names", func(t *testing.T) {
		req := kmsg.NewPtrIncrementalAlterConfigsRequest()
		req.Version = 1
		rr := kmsg.NewIncrementalAlterConfigsRequestResource()
		rr.ResourceType, rr.ResourceName = kmsg.ConfigResourceTypeBroker, "0"
		for i := range 20000 {
			c := kmsg.NewIncrementalAlterConfigsRequestResourceConfig()
			c.Name, c.Value = strconv.Itoa(i), ptr("1")
			rr.Configs = append(rr.Configs, c)
		}
		req.Resources = append(req.Resources, rr)
		res := callRaw[*kmsg.IncrementalAlterConfigsResponse](t, b, req).Resources[0]
		wantErrCode(t, "broker alter", res.ErrorCode, kerr.InvalidRequest.Code)
		if len(*res.ErrorMessage) > 300 {
			t.Errorf("an error message of %d bytes", len(*res.ErrorMessage))
		}
	})

	apiv := kmsg.NewPtrApiVersionsRequest()
	apiv.Version = 3
	apiv.ClientSoftwareName, apiv.ClientSoftwareVersion = "t", "1"
	if resp := roundTrip(t, b, rawRequest(apiv, 1)); resp == nil || binary.BigEndian.Uint32(resp) != 1 {
		t.Fatalf("broker stopped answering after bad input: %x", resp)
	}
}
