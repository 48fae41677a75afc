package core

import (
	"bufio"
	"context"
	"encoding/binary"
	"fmt"
	"io"
	"net"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/HdrHistogram/hdrhistogram-go"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// Benchmarks of the group coordinator through the broker, over loopback
// (issue 4's BENCHMARKS.md items); tools/bench/groups.sh runs them in
// rounds. Each run starts a fresh broker in b.TempDir(), on the epoll
// transport, with the clients in the same process.

// BenchmarkOffsetCommit measures offset commits: conns connections, each
// with one OffsetCommit (v9) outstanding at a time for its own simple
// group (generation -1, as a consumer outside group management or an admin
// tool commits), of parts partitions each. Every commit is a batch written
// to __consumer_offsets through the produce path and answered once
// written: with flush=1, __consumer_offsets has flush.messages=1 and every
// answer waits for fdatasync (group-committed across the connections).
// Reported: commits/s (requests; offsets/s is that times parts) and the
// latency of each request from write to response, p50/p99/p99.9/max in
// µs, from an HdrHistogram of every request.
func BenchmarkOffsetCommit(b *testing.B) {
	for _, bc := range []struct{ conns, parts, flush int }{
		{1, 1, 0}, {16, 10, 0}, {1, 1, 1}, {16, 10, 1},
	} {
		b.Run(fmt.Sprintf("conns=%d/parts=%d/flush=%d", bc.conns, bc.parts, bc.flush), func(b *testing.B) {
			benchmarkOffsetCommit(b, bc.conns, bc.parts, bc.flush == 1)
		})
	}
}

func benchmarkOffsetCommit(b *testing.B, nConns, parts int, flush bool) {
	br := startBenchBroker(b, false, int32(parts))
	if flush {
		cl, err := kgo.NewClient(kgo.SeedBrokers(br.Addr()))
		if err != nil {
			b.Fatal(err)
		}
		ctx, cancel := context.WithTimeout(context.Background(), benchStallTimeout)
		r, err := kadm.NewClient(cl).AlterTopicConfigs(ctx, []kadm.AlterConfig{{Name: "flush.messages", Value: ptr("1")}}, offsetsTopic)
		cancel()
		cl.Close()
		if err == nil {
			err = r[0].Err
		}
		if err != nil {
			b.Fatal(err)
		}
	}
	formatter := kmsg.NewRequestFormatter(kmsg.FormatterClientID("sluice-bench"))
	conns := make([]net.Conn, nConns)
	readers := make([]*bufio.Reader, nConns)
	frames := make([][]byte, nConns)
	for i := range conns {
		req := kmsg.NewPtrOffsetCommitRequest()
		req.Version, req.Group = 9, fmt.Sprintf("bench-commit-%d", i)
		t := kmsg.NewOffsetCommitRequestTopic()
		t.Topic = benchTopic
		for p := range parts {
			cp := kmsg.NewOffsetCommitRequestTopicPartition()
			cp.Partition, cp.Offset = int32(p), 1000
			t.Partitions = append(t.Partitions, cp)
		}
		req.Topics = append(req.Topics, t)
		frames[i] = formatter.AppendRequest(nil, req, 1)
		c, err := net.Dial("tcp", br.Addr())
		if err != nil {
			b.Fatal(err)
		}
		defer c.Close()
		conns[i], readers[i] = c, bufio.NewReaderSize(c, 64<<10)
		// One commit decoded and checked, so that a refused commit fails
		// here rather than being measured.
		if _, err := c.Write(frames[i]); err != nil {
			b.Fatal(err)
		}
		if err := checkCommit(readers[i], req); err != nil {
			b.Fatal(err)
		}
	}
	var tickets atomic.Int64
	tickets.Store(int64(b.N))
	var firstErr atomic.Pointer[error]
	stop := closeOnStall(conns, tickets.Load)
	defer stop()
	hists := make([]*hdrhistogram.Histogram, nConns)
	b.ReportAllocs()
	b.ResetTimer()
	var wg sync.WaitGroup
	for i, c := range conns {
		r, frame := readers[i], frames[i]
		hist := hdrhistogram.New(1, benchMaxLatencyNs, 3)
		hists[i] = hist
		wg.Go(func() {
			var size [4]byte
			for takeTickets(&tickets, 1) == 1 {
				start := time.Now()
				_, err := c.Write(frame)
				if err == nil {
					if _, err = io.ReadFull(r, size[:]); err == nil {
						_, err = r.Discard(int(binary.BigEndian.Uint32(size[:])))
					}
				}
				if err != nil {
					firstErr.CompareAndSwap(nil, &err)
					return
				}
				hist.RecordValue(min(time.Since(start).Nanoseconds(), benchMaxLatencyNs))
			}
		})
	}
	wg.Wait()
	b.StopTimer()
	if err := firstErr.Load(); err != nil {
		b.Fatal(*err)
	}
	hist := hdrhistogram.New(1, benchMaxLatencyNs, 3)
	for _, h := range hists {
		hist.Merge(h)
	}
	us := func(q float64) float64 { return float64(hist.ValueAtQuantile(q)) / 1e3 }
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "commits/s")
	b.ReportMetric(us(50), "p50-us")
	b.ReportMetric(us(99), "p99-us")
	b.ReportMetric(us(99.9), "p99.9-us")
	b.ReportMetric(float64(hist.Max())/1e3, "max-us")
}

// checkCommit reads one OffsetCommit response and checks every partition
// was committed.
func checkCommit(r *bufio.Reader, req *kmsg.OffsetCommitRequest) error {
	var size [4]byte
	if _, err := io.ReadFull(r, size[:]); err != nil {
		return err
	}
	body := make([]byte, binary.BigEndian.Uint32(size[:]))
	if _, err := io.ReadFull(r, body); err != nil {
		return err
	}
	resp := req.ResponseKind().(*kmsg.OffsetCommitResponse)
	if err := resp.ReadFrom(body[5:]); err != nil { // correlation id, header tags
		return err
	}
	for _, t := range resp.Topics {
		for _, p := range t.Partitions {
			if p.ErrorCode != 0 {
				return fmt.Errorf("commit of %s/%d: error %d", t.Topic, p.Partition, p.ErrorCode)
			}
		}
	}
	return nil
}

// stabiliseMembers is the size of the group BenchmarkGroupStabilise
// grows to, and stabilisePartitions the partitions its members split.
const (
	stabiliseMembers    = 10
	stabilisePartitions = 20
	// stabilisePoll is how often the benchmark asks whether the group is
	// stable: the figures are this coarse.
	stabilisePoll = 2 * time.Millisecond
)

// BenchmarkGroupStabilise measures how long a group of nine franz-go
// consumers takes to stabilise after a tenth joins: from the new client's
// start until DescribeGroups shows the group Stable with ten members whose
// assignments cover the topic's twenty partitions once each. The members
// heartbeat every hb (existing members learn of the rebalance from a
// heartbeat, so it bounds the figure from below on average by about hb/2);
// cooperative-sticky needs two rebalances. Between iterations, untimed, the
// tenth member leaves and the group settles at nine again. ns/op is the
// time to stabilise; max-ms the slowest iteration.
func BenchmarkGroupStabilise(b *testing.B) {
	for _, bal := range []struct {
		name string
		b    kgo.GroupBalancer
	}{{"range", kgo.RangeBalancer()}, {"cooperative-sticky", kgo.CooperativeStickyBalancer()}} {
		for _, hb := range []time.Duration{100 * time.Millisecond} {
			b.Run(fmt.Sprintf("balancer=%s/hb=%v", bal.name, hb), func(b *testing.B) {
				benchmarkGroupStabilise(b, bal.b, hb)
			})
		}
	}
}

func benchmarkGroupStabilise(b *testing.B, balancer kgo.GroupBalancer, hb time.Duration) {
	noDelay := time.Duration(0)
	br, err := Start(Config{Listen: "127.0.0.1:0", DataDir: b.TempDir(), Logger: quiet,
		GroupMinSessionTimeout: 100 * time.Millisecond, GroupInitialRebalanceDelay: &noDelay})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), benchStallTimeout)
		defer cancel()
		br.Shutdown(ctx)
	})
	const topic, groupID = "stabilise", "bench-stabilise"
	admCl, err := kgo.NewClient(kgo.SeedBrokers(br.Addr()))
	if err != nil {
		b.Fatal(err)
	}
	defer admCl.Close()
	adm := kadm.NewClient(admCl)
	ctx, cancel := context.WithTimeout(context.Background(), benchRunTimeout)
	defer cancel()
	if _, err := adm.CreateTopic(ctx, stabilisePartitions, 1, nil, topic); err != nil {
		b.Fatal(err)
	}
	member := func() *kgo.Client {
		cl, err := kgo.NewClient(kgo.SeedBrokers(br.Addr()), kgo.ConsumerGroup(groupID), kgo.ConsumeTopics(topic),
			kgo.Balancers(balancer), kgo.HeartbeatInterval(hb), kgo.SessionTimeout(10*time.Second),
			kgo.RebalanceTimeout(benchStallTimeout))
		if err != nil {
			b.Fatal(err)
		}
		// The group is managed in the background; polling only keeps
		// fetches from piling up.
		go func() {
			for {
				if fs := cl.PollFetches(ctx); fs.IsClientClosed() || ctx.Err() != nil {
					return
				}
			}
		}()
		return cl
	}
	stable := func(n int) {
		deadline := time.Now().Add(benchStallTimeout)
		for !groupStable(ctx, adm, groupID, n, topic, stabilisePartitions) {
			if time.Now().After(deadline) {
				b.Fatalf("group not stable with %d members after %v", n, benchStallTimeout)
			}
			time.Sleep(stabilisePoll)
		}
	}
	var members []*kgo.Client
	defer func() {
		for _, m := range members {
			m.Close()
		}
	}()
	for range stabiliseMembers - 1 {
		members = append(members, member())
	}
	stable(stabiliseMembers - 1)
	var slowest time.Duration
	b.ResetTimer()
	for range b.N {
		start := time.Now()
		joiner := member()
		stable(stabiliseMembers)
		slowest = max(slowest, time.Since(start))
		b.StopTimer()
		joiner.Close() // leaves
		stable(stabiliseMembers - 1)
		b.StartTimer()
	}
	b.StopTimer()
	b.ReportMetric(float64(slowest.Microseconds())/1e3, "max-ms")
}

// groupStable is waitStable's test, once.
func groupStable(ctx context.Context, adm *kadm.Client, groupID string, n int, topic string, partitions int32) bool {
	dg, err := adm.DescribeGroups(ctx, groupID)
	if err != nil {
		return false
	}
	g := dg[groupID]
	if g.Err != nil || g.State != "Stable" || len(g.Members) != n {
		return false
	}
	owners := map[int32]int{}
	for _, m := range g.Members {
		c, ok := m.Assigned.AsConsumer()
		if !ok {
			return false
		}
		for _, t := range c.Topics {
			if t.Topic == topic {
				for _, p := range t.Partitions {
					owners[p]++
				}
			}
		}
	}
	for _, c := range owners {
		if c != 1 {
			return false
		}
	}
	return len(owners) == int(partitions)
}
