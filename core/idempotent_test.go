package core

import (
	"context"
	"encoding/binary"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"

	"sluice/disk/batch"
	"sluice/disk/batch/batchtest"
	"sluice/disk/vfs"
)

// idemBatch makes a batch of n records from producer pid at epoch and
// sequence seq.
func idemBatch(pid int64, epoch int16, seq int32, n int) []byte {
	vals := make([]string, n)
	for i := range vals {
		vals[i] = fmt.Sprintf("p%d-e%d-s%d", pid, epoch, int(seq)+i)
	}
	b := batchtest.Values(time.Now().UnixMilli(), vals...)
	binary.BigEndian.PutUint64(b[43:], uint64(pid))
	binary.BigEndian.PutUint16(b[51:], uint16(epoch))
	binary.BigEndian.PutUint32(b[53:], uint32(seq))
	batch.SetCRC(b)
	return b
}

// produceRaw sends one batch to partition 0 of topic with acks=all and
// returns the partition's answer.
func produceRaw(t *testing.T, cl *kgo.Client, topic string, records []byte) (int64, error) {
	t.Helper()
	req := kmsg.NewPtrProduceRequest()
	req.Acks, req.TimeoutMillis = -1, 5000
	rt := kmsg.NewProduceRequestTopic()
	rt.Topic = topic
	// The client sends the newest version, which names topics by ID.
	td, err := kadm.NewClient(cl).ListTopics(context.Background(), topic)
	if err != nil {
		t.Fatal(err)
	}
	rt.TopicID = td[topic].ID
	rp := kmsg.NewProduceRequestTopicPartition()
	rp.Records = records
	rt.Partitions = append(rt.Partitions, rp)
	req.Topics = append(req.Topics, rt)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	resp, err := req.RequestWith(ctx, cl)
	if err != nil {
		t.Fatalf("produce: %v", err)
	}
	p := resp.Topics[0].Partitions[0]
	return p.BaseOffset, kerr.ErrorForCode(p.ErrorCode)
}

func initProducerID(t *testing.T, cl *kgo.Client) int64 {
	t.Helper()
	req := kmsg.NewPtrInitProducerIDRequest()
	resp, err := req.RequestWith(context.Background(), cl)
	if err != nil || resp.ErrorCode != 0 || resp.ProducerEpoch != 0 {
		t.Fatalf("InitProducerId: %v %+v", err, resp)
	}
	return resp.ProducerID
}

// TestIdempotentProduce checks the broker's answers to an idempotent
// producer's batches: retries get the original offset and are not written
// twice, gaps and stale epochs are refused, and all of it holds after a
// clean restart (state from the snapshot) and after a crash (state replayed
// from the log).
func TestIdempotentProduce(t *testing.T) {
	mem := vfs.NewMem()
	dir := "/data"
	start := func(fs vfs.FS) (*Broker, *kgo.Client) {
		b, err := Start(Config{Listen: "127.0.0.1:0", DataDir: dir, Shards: 2, Logger: quiet, FS: fs})
		if err != nil {
			t.Fatal(err)
		}
		return b, client(t, b, kgo.DisableIdempotentWrite())
	}
	b, cl := start(mem)
	// flush.messages=1 so that what was acknowledged survives CrashClone.
	if _, err := kadm.NewClient(cl).CreateTopic(context.Background(), 1, 1, map[string]*string{"flush.messages": ptr("1")}, "idem"); err != nil {
		t.Fatal(err)
	}
	pid := initProducerID(t, cl)
	if other := initProducerID(t, cl); other == pid {
		t.Fatalf("two InitProducerId calls both got %d", pid)
	}
	type step struct {
		epoch    int16
		seq      int32
		n        int
		wantBase int64
		wantErr  error
	}
	run := func(what string, steps []step) {
		t.Helper()
		for i, s := range steps {
			base, err := produceRaw(t, cl, "idem", idemBatch(pid, s.epoch, s.seq, s.n))
			if err != s.wantErr || err == nil && base != s.wantBase {
				t.Fatalf("%s step %d (epoch %d seq %d): base %d err %v, want %d %v", what, i, s.epoch, s.seq, base, err, s.wantBase, s.wantErr)
			}
		}
	}
	run("first run", []step{
		{0, 0, 3, 0, nil},
		{0, 3, 2, 3, nil},
		{0, 0, 3, 0, nil}, // retry: original offset
		{0, 8, 1, 0, kerr.OutOfOrderSequenceNumber},
		{1, 4, 1, 0, kerr.OutOfOrderSequenceNumber},
		{1, 0, 2, 5, nil},
		{0, 5, 1, 0, kerr.InvalidProducerEpoch},
	})
	// Retries after a restart are still recognised: first from the
	// snapshot written at shutdown, then, after a crash that leaves no
	// fresh snapshot, by replaying the log.
	stopBroker(t, b)
	b, cl = start(mem)
	run("after restart", []step{
		{1, 0, 2, 5, nil},
		{1, 2, 1, 7, nil},
		{0, 5, 1, 0, kerr.InvalidProducerEpoch},
	})
	// Two crashes at the same point: one start finds the snapshot of the
	// clean stop and replays the log after it, the other has no snapshot
	// and replays the whole log.
	withSnap, noSnap := mem.CrashClone(), mem.CrashClone()
	stopBroker(t, b)
	if err := noSnap.Remove(filepath.Join(dir, "idem-0", producerSnapshotFile)); err != nil {
		t.Fatal(err)
	}
	for _, fs := range []*vfs.Mem{withSnap, noSnap} {
		b, cl = start(fs)
		run("after crash", []step{
			{1, 2, 1, 7, nil},
			{1, 0, 2, 5, nil},
			{1, 4, 1, 0, kerr.OutOfOrderSequenceNumber},
			{0, 5, 1, 0, kerr.InvalidProducerEpoch},
		})
		if fs == noSnap {
			break
		}
		stopBroker(t, b)
	}
	defer stopBroker(t, b)
	run("after crash", []step{{1, 3, 1, 8, nil}})
	if other := initProducerID(t, cl); other <= pid {
		t.Fatalf("producer id %d handed out again after a crash (first was %d)", other, pid)
	}
	// Nothing was written twice.
	lo, err := kadm.NewClient(cl).ListEndOffsets(context.Background(), "idem")
	if err != nil {
		t.Fatal(err)
	}
	if end, _ := lo.Lookup("idem", 0); end.Offset != 9 {
		t.Fatalf("log end %d, want 9", end.Offset)
	}
}

// TestIdempotentProducerAcrossRestart: franz-go's idempotent producer (its
// default) keeps its producer id and sequences across a broker restart on
// the same address, and every record it sent is in the log exactly once,
// in order.
func TestIdempotentProducerAcrossRestart(t *testing.T) {
	dir := t.TempDir()
	b := startBroker(t, dir)
	addr := b.Addr()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	p := client(t, b, kgo.DefaultProduceTopic("idem-restart"), kgo.RecordRetries(1000), kgo.RetryBackoffFn(func(int) time.Duration { return 20 * time.Millisecond }))
	if _, err := kadm.NewClient(p).CreateTopic(ctx, 3, 1, nil, "idem-restart"); err != nil {
		t.Fatal(err)
	}
	var sent []*kgo.Record
	send := func(from, to int) {
		for i := from; i < to; i++ {
			r := &kgo.Record{Key: []byte(fmt.Sprint(i % 11)), Value: []byte(fmt.Sprint(i))}
			sent = append(sent, r)
			p.Produce(ctx, r, func(r *kgo.Record, err error) {
				if err != nil {
					t.Errorf("record %s: %v", r.Value, err)
				}
			})
		}
	}
	send(0, 300)
	if err := p.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	stopBroker(t, b)
	// These wait in the client, and are retried, until the broker is back.
	send(300, 600)
	b, err := Start(Config{Listen: addr, DataDir: dir, Shards: 2, Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	defer stopBroker(t, b)
	if err := p.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	want := map[int32][]string{}
	pids := map[int64]bool{}
	for _, r := range sent {
		want[r.Partition] = append(want[r.Partition], string(r.Value))
		pids[r.ProducerID] = true
	}
	if len(pids) != 1 {
		t.Errorf("producer ids used: %v; the producer should have kept its id across the restart", pids)
	}
	c := client(t, b, kgo.ConsumeTopics("idem-restart"), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
	got := map[int32][]string{}
	for n := 0; n < len(sent); {
		fs := c.PollFetches(ctx)
		if ctx.Err() != nil {
			t.Fatalf("consumed %d of %d", n, len(sent))
		}
		fs.EachRecord(func(r *kgo.Record) {
			got[r.Partition] = append(got[r.Partition], string(r.Value))
			n++
		})
	}
	for part, vs := range want {
		if fmt.Sprint(got[part]) != fmt.Sprint(vs) {
			t.Fatalf("partition %d:\n got %v\nwant %v", part, got[part], vs)
		}
	}
}
