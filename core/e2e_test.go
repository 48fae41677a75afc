package core

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"
)

var quiet = slog.New(slog.NewTextHandler(io.Discard, nil))

func startBroker(t *testing.T, dir string) *Broker {
	t.Helper()
	b, err := Start(Config{Listen: "127.0.0.1:0", DataDir: dir, Shards: 2, Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func stopBroker(t *testing.T, b *Broker) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := b.Shutdown(ctx); err != nil {
		t.Fatal(err)
	}
}

func client(t *testing.T, b *Broker, opts ...kgo.Opt) *kgo.Client {
	t.Helper()
	c, err := kgo.NewClient(append([]kgo.Opt{kgo.SeedBrokers(b.Addr()), kgo.AllowAutoTopicCreation()}, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Close)
	return c
}

// TestFranzGoRoundTrip creates a topic, produces with each acks level from
// franz-go, consumes everything back from the start in order, and again
// after a broker restart.
func TestFranzGoRoundTrip(t *testing.T) {
	dir := t.TempDir()
	b := startBroker(t, dir)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()

	adm := kadm.NewClient(client(t, b))
	if _, err := adm.CreateTopic(ctx, 3, 1, map[string]*string{"flush.messages": ptr("1")}, "orders"); err != nil {
		t.Fatal(err)
	}
	want := map[int32][]string{}
	for _, acks := range []kgo.Acks{kgo.AllISRAcks(), kgo.LeaderAck(), kgo.NoAck()} {
		opts := []kgo.Opt{kgo.RequiredAcks(acks), kgo.DefaultProduceTopic("orders")}
		if acks != kgo.AllISRAcks() {
			opts = append(opts, kgo.DisableIdempotentWrite())
		}
		p := client(t, b, opts...)
		for i := range 200 {
			r := &kgo.Record{Key: []byte(fmt.Sprint(i % 7)), Value: []byte(fmt.Sprintf("%v-%d", acks, i))}
			res := p.ProduceSync(ctx, r)
			if err := res.FirstErr(); err != nil {
				t.Fatalf("produce: %v", err)
			}
			want[r.Partition] = append(want[r.Partition], string(r.Value))
		}
		p.Flush(ctx)
	}
	check := func(b *Broker) {
		t.Helper()
		c := client(t, b, kgo.ConsumeTopics("orders"), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
		got := map[int32][]string{}
		n := 0
		for n < 600 {
			fs := c.PollFetches(ctx)
			if err := ctx.Err(); err != nil {
				for p, vs := range want {
					t.Logf("partition %d: want %d got %d; last want %v last got %v", p, len(vs), len(got[p]), vs[len(vs)-3:], got[p][max(0, len(got[p])-3):])
				}
				t.Fatalf("consumed %d of 600: %v", n, err)
			}
			fs.EachError(func(_ string, _ int32, err error) { t.Fatalf("fetch: %v", err) })
			fs.EachRecord(func(r *kgo.Record) {
				got[r.Partition] = append(got[r.Partition], string(r.Value))
				n++
			})
		}
		for p, vs := range want {
			if fmt.Sprint(got[p]) != fmt.Sprint(vs) {
				for i := range vs {
					if i >= len(got[p]) || got[p][i] != vs[i] {
						t.Fatalf("partition %d: record %d is %q, want %q (consumed %d, produced %d)", p, i, got[p][i:min(i+3, len(got[p]))], vs[i:min(i+3, len(vs))], len(got[p]), len(vs))
					}
				}
			}
		}
	}
	check(b)
	stopBroker(t, b)
	b = startBroker(t, dir)
	defer stopBroker(t, b)
	check(b)
}

// TestLongPollWakesOnAppend: a consumer waiting at the end of a partition
// gets a new record promptly, long before its fetch max wait.
func TestLongPollWakesOnAppend(t *testing.T) {
	b := startBroker(t, t.TempDir())
	defer stopBroker(t, b)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	p := client(t, b, kgo.DefaultProduceTopic("poll"))
	if err := p.ProduceSync(ctx, &kgo.Record{Value: []byte("first")}).FirstErr(); err != nil {
		t.Fatal(err)
	}
	c := client(t, b, kgo.ConsumeTopics("poll"), kgo.FetchMaxWait(20*time.Second))
	if fs := c.PollFetches(ctx); fs.NumRecords() != 1 {
		t.Fatalf("first poll: %d records", fs.NumRecords())
	}
	got := make(chan time.Time, 1)
	go func() {
		fs := c.PollFetches(ctx)
		if fs.NumRecords() > 0 {
			got <- time.Now()
		}
		close(got)
	}()
	// Wait until the consumer's fetch is parked at the end of the log (the
	// check below holds either way: a fetch not parked yet finds the record).
	for deadline := time.Now().Add(5 * time.Second); parkedFetchCount(b) == 0 && time.Now().Before(deadline); {
		time.Sleep(time.Millisecond)
	}
	sent := time.Now()
	if err := p.ProduceSync(ctx, &kgo.Record{Value: []byte("second")}).FirstErr(); err != nil {
		t.Fatal(err)
	}
	at, ok := <-got
	if !ok {
		t.Fatal("poll returned no record")
	}
	if d := at.Sub(sent); d > 5*time.Second {
		t.Fatalf("long poll answered %v after the append; it waited for its timeout", d)
	}
}

func ptr(s string) *string { return &s }

// waitUntil polls cond until it holds, failing the test after 10 s.
func waitUntil(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); !cond(); {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(time.Millisecond)
	}
}

// parkedFetchCount counts long polls waiting on the broker's loops.
func parkedFetchCount(b *Broker) int {
	n := 0
	for _, l := range b.srv.Loops() {
		got := make(chan int, 1)
		l.Post(func() { got <- len(b.parked[l.ID]) })
		n += <-got
	}
	return n
}
