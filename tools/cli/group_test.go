package cli

import (
	"context"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
)

// TestGroups consumes as a group in two runs that together print every
// record once, then lists and describes the group (empty and with a live
// member), and resets its offsets, refused while the member is there.
func TestGroups(t *testing.T) {
	addr := startBroker(t)
	mustRun(t, addr, "table", func(ctx context.Context, s *Session) error {
		return s.TopicCreate(ctx, []string{"orders"}, 2, -1, nil)
	})
	for p, lines := range []string{"a\nb\n", "c\nd\n"} {
		mustRun(t, addr, "table", func(ctx context.Context, s *Session) error {
			return s.Produce(ctx, ProduceArgs{Topic: "orders", Partition: p, Acks: "all"}, strings.NewReader(lines))
		})
	}
	consume := func(n int) []string {
		t.Helper()
		out := mustRun(t, addr, `%v\n`, func(ctx context.Context, s *Session) error {
			return s.Consume(ctx, ConsumeArgs{Topic: "orders", Partition: -1, Group: "g1", Count: n})
		})
		return strings.Fields(out)
	}
	got := append(consume(3), consume(1)...)
	sort.Strings(got)
	if strings.Join(got, "") != "abcd" {
		t.Fatalf("two group runs of -n 3 and -n 1 printed %q, want each record once", got)
	}

	out := mustRun(t, addr, "table", func(ctx context.Context, s *Session) error { return s.GroupList(ctx) })
	matchLines(t, out, "GROUP STATE PROTOCOL-TYPE COORDINATOR", "g1 Empty consumer 0")
	out = mustRun(t, addr, "json", func(ctx context.Context, s *Session) error { return s.GroupList(ctx) })
	if l := decode[[]map[string]any](t, out); len(l) != 1 || l[0]["group"] != "g1" || l[0]["state"] != "Empty" {
		t.Errorf("group list json: %s", out)
	}
	out = mustRun(t, addr, "table", func(ctx context.Context, s *Session) error { return s.GroupDescribe(ctx, "g1") })
	matchLines(t, out, "group: g1", "state: Empty", "protocol: consumer", "coordinator: 0", "members: 0",
		"TOPIC PARTITION COMMITTED LOG-END LAG MEMBER ERROR", "orders 0 2 2 0", "orders 1 2 2 0")
	_, err := run(t, addr, "table", func(ctx context.Context, s *Session) error { return s.GroupDescribe(ctx, "nope") })
	if err == nil || !strings.HasPrefix(err.Error(), "group describe nope: GROUP_ID_NOT_FOUND") {
		t.Errorf("describe of a missing group: %v", err)
	}

	// A live member: describe shows it, reset-offsets refuses.
	member, err := kgo.NewClient(kgo.SeedBrokers(addr), kgo.ConsumerGroup("g1"), kgo.ConsumeTopics("orders"), kgo.ClientID("live"))
	if err != nil {
		t.Fatal(err)
	}
	defer member.Close()
	deadline := time.Now().Add(10 * time.Second)
	for {
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
		member.PollFetches(ctx)
		cancel()
		out = mustRun(t, addr, "json", func(ctx context.Context, s *Session) error { return s.GroupDescribe(ctx, "g1") })
		if strings.Contains(out, `"state": "Stable"`) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the member never joined:\n%s", out)
		}
	}
	out = mustRun(t, addr, "table", func(ctx context.Context, s *Session) error { return s.GroupDescribe(ctx, "g1") })
	matchLines(t, out, "state: Stable", `protocol: consumer \([\w-]+\)`, "members: 1", "MEMBER CLIENT-ID HOST ASSIGNED",
		`\S+ live \S+ orders\[0,1\]`, "TOPIC PARTITION COMMITTED LOG-END LAG MEMBER ERROR", `orders 0 2 2 0 \S+`)
	_, err = run(t, addr, "table", func(ctx context.Context, s *Session) error {
		return s.GroupResetOffsets(ctx, "g1", "orders", ResetTo{Kind: "earliest"})
	})
	if err == nil || err.Error() != "group reset-offsets g1: the group is Stable with 1 members; stop its consumers first" {
		t.Errorf("reset of an active group: %v", err)
	}
	member.Close()

	out = mustRun(t, addr, "table", func(ctx context.Context, s *Session) error {
		return s.GroupResetOffsets(ctx, "g1", "orders", ResetTo{Kind: "earliest"})
	})
	matchLines(t, out, "TOPIC PARTITION OLD NEW", "orders 0 2 0", "orders 1 2 0")
	out = mustRun(t, addr, "json", func(ctx context.Context, s *Session) error {
		return s.GroupResetOffsets(ctx, "g1", "orders", ResetTo{Kind: "offset", Offset: 1})
	})
	if rows := decode[[]map[string]any](t, out); len(rows) != 2 || rows[1]["old"] != 0.0 || rows[1]["new"] != 1.0 {
		t.Errorf("reset --to-offset json: %s", out)
	}
	if got := consume(2); strings.Join(got, "") != "bd" && strings.Join(got, "") != "db" {
		t.Errorf("after a reset to offset 1, the group read %q, want b and d", got)
	}
	out = mustRun(t, addr, "table", func(ctx context.Context, s *Session) error {
		return s.GroupResetOffsets(ctx, "g1", "orders", ResetTo{Kind: "latest"})
	})
	matchLines(t, out, "orders 0 2 2", "orders 1 2 2")
	_, err = run(t, addr, "table", func(ctx context.Context, s *Session) error {
		return s.GroupResetOffsets(ctx, "g1", "nope", ResetTo{Kind: "latest"})
	})
	if err == nil || err.Error() != "group reset-offsets nope: topic does not exist" {
		t.Errorf("reset of a missing topic: %v", err)
	}
}
