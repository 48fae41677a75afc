package core

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
)

// TestFranzGoFetchFrom consumes with franz-go from the earliest offset,
// from the latest (only what is produced afterwards), and from a timestamp
// (ListOffsets by time): each starts where Kafka would.
func TestFranzGoFetchFrom(t *testing.T) {
	b := startBroker(t, t.TempDir())
	defer stopBroker(t, b)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	p := client(t, b, kgo.DefaultProduceTopic("from"), kgo.RecordPartitioner(kgo.ManualPartitioner()))
	base := time.UnixMilli(1_700_000_000_000)
	produce := func(from, to int) {
		t.Helper()
		for i := from; i < to; i++ {
			r := &kgo.Record{Value: []byte(fmt.Sprint(i)), Timestamp: base.Add(time.Duration(i) * time.Second)}
			if err := p.ProduceSync(ctx, r).FirstErr(); err != nil {
				t.Fatal(err)
			}
		}
	}
	consume := func(offset kgo.Offset, n int) []string {
		t.Helper()
		c := client(t, b, kgo.ConsumeTopics("from"), kgo.ConsumeResetOffset(offset))
		var got []string
		for len(got) < n {
			fs := c.PollFetches(ctx)
			if ctx.Err() != nil {
				t.Fatalf("consumed %v, want %d records", got, n)
			}
			fs.EachError(func(_ string, _ int32, err error) { t.Fatalf("fetch: %v", err) })
			fs.EachRecord(func(r *kgo.Record) { got = append(got, string(r.Value)) })
		}
		return got
	}
	produce(0, 10)
	if got := fmt.Sprint(consume(kgo.NewOffset().AtStart(), 10)); got != "[0 1 2 3 4 5 6 7 8 9]" {
		t.Fatalf("from the start: %s", got)
	}
	if got := fmt.Sprint(consume(kgo.NewOffset().AfterMilli(base.Add(6500*time.Millisecond).UnixMilli()), 3)); got != "[7 8 9]" {
		t.Fatalf("from a timestamp: %s", got)
	}
	// From the end: the consumer never sees the ten records before it;
	// records produced while it looks for the end may or may not be
	// before it, so produce until it gets something and check that
	// nothing old came.
	latest := client(t, b, kgo.ConsumeTopics("from"), kgo.ConsumeResetOffset(kgo.NewOffset().AtEnd()), kgo.FetchMaxWait(100*time.Millisecond))
	var got []string
	for i := 10; len(got) == 0; i++ {
		if ctx.Err() != nil {
			t.Fatal("the consumer at the end got nothing")
		}
		produce(i, i+1)
		pctx, pcancel := context.WithTimeout(ctx, 200*time.Millisecond)
		latest.PollFetches(pctx).EachRecord(func(r *kgo.Record) { got = append(got, string(r.Value)) })
		pcancel()
	}
	for _, v := range got {
		var n int
		fmt.Sscan(v, &n)
		if n < 10 {
			t.Fatalf("consumer started at the end got old record %s (all: %v)", v, got)
		}
	}
}
