package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"sluice/core"
)

// startBroker runs a single-node broker in-process for one test.
func startBroker(t *testing.T) string {
	t.Helper()
	noDelay := time.Duration(0) // a group's first join need not wait for company
	b, err := core.Start(core.Config{Listen: "127.0.0.1:0", DataDir: t.TempDir(), Shards: 2,
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil)), GroupInitialRebalanceDelay: &noDelay})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := b.Shutdown(ctx); err != nil {
			t.Error(err)
		}
	})
	return b.Addr()
}

// run runs one command against addr in the given format and returns what
// it printed.
func run(t *testing.T, addr, format string, fn func(context.Context, *Session) error) (string, error) {
	t.Helper()
	var out bytes.Buffer
	s, err := Open(Options{Brokers: addr, Format: format, Timeout: 10 * time.Second}, &out)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	err = fn(context.Background(), s)
	return out.String(), err
}

func mustRun(t *testing.T, addr, format string, fn func(context.Context, *Session) error) string {
	t.Helper()
	out, err := run(t, addr, format, fn)
	if err != nil {
		t.Fatalf("%v\noutput:\n%s", err, out)
	}
	return out
}

func decode[T any](t *testing.T, s string) T {
	t.Helper()
	var v T
	if err := json.Unmarshal([]byte(s), &v); err != nil {
		t.Fatalf("%v in:\n%s", err, s)
	}
	return v
}

// matchLines checks that each pattern matches a line of out, in order,
// with columns separated by any run of spaces.
func matchLines(t *testing.T, out string, patterns ...string) {
	t.Helper()
	lines := strings.Split(out, "\n")
	i := 0
	for _, p := range patterns {
		re := regexp.MustCompile("^" + strings.ReplaceAll(p, " ", " +") + " *$")
		for i < len(lines) && !re.MatchString(lines[i]) {
			i++
		}
		if i == len(lines) {
			t.Fatalf("no line matching %q (in order) in:\n%s", p, out)
		}
		i++
	}
}

const idRE = `[A-Za-z0-9_-]{22}`

// TestTopicCommands creates, lists, describes, alters and deletes topics,
// in table and JSON, and checks the errors a user meets.
func TestTopicCommands(t *testing.T) {
	addr := startBroker(t)

	out := mustRun(t, addr, "table", func(ctx context.Context, s *Session) error {
		return s.TopicCreate(ctx, []string{"orders"}, 3, -1, KV{{"retention.ms", "3600000"}})
	})
	matchLines(t, out, "TOPIC ID PARTITIONS REPLICAS", "orders "+idRE+" 3 1")

	out = mustRun(t, addr, "json", func(ctx context.Context, s *Session) error {
		return s.TopicCreate(ctx, []string{"clicks", "views"}, -1, 1, nil)
	})
	created := decode[[]map[string]any](t, out)
	if len(created) != 2 || created[0]["topic"] != "clicks" || created[0]["partitions"] != 1.0 || created[1]["replicas"] != 1.0 {
		t.Errorf("create json: %s", out)
	}

	_, err := run(t, addr, "table", func(ctx context.Context, s *Session) error {
		return s.TopicCreate(ctx, []string{"orders", "fresh"}, 1, -1, nil)
	})
	if err == nil || err.Error() != `topic create: orders: TOPIC_ALREADY_EXISTS: topic "orders" already exists` {
		t.Errorf("creating an existing topic: %v", err)
	}
	_, err = run(t, addr, "table", func(ctx context.Context, s *Session) error {
		return s.TopicCreate(ctx, []string{"x"}, 0, -1, nil)
	})
	if err == nil || !strings.Contains(err.Error(), "--partitions must be positive") {
		t.Errorf("zero partitions: %v", err)
	}

	out = mustRun(t, addr, "table", func(ctx context.Context, s *Session) error { return s.TopicList(ctx, false) })
	matchLines(t, out, "TOPIC ID PARTITIONS REPLICAS", "clicks "+idRE+" 1 1", "fresh "+idRE+" 1 1", "orders "+idRE+" 3 1", "views "+idRE+" 1 1")
	out = mustRun(t, addr, "json", func(ctx context.Context, s *Session) error { return s.TopicList(ctx, false) })
	if l := decode[[]topicSummary](t, out); len(l) != 4 || l[2].Topic != "orders" || l[2].Partitions != 3 {
		t.Errorf("list json: %s", out)
	}

	out = mustRun(t, addr, "table", func(ctx context.Context, s *Session) error { return s.TopicDescribe(ctx, "orders") })
	matchLines(t, out, "topic: orders", "id: "+idRE, "partitions: 3", "replicas: 1",
		"PARTITION LEADER EPOCH REPLICAS ISR LOG-START HIGH-WATERMARK ERROR",
		"0 0 0 0 0 0 0", "1 0 0 0 0 0 0", "2 0 0 0 0 0 0",
		"CONFIG VALUE SOURCE", "cleanup.policy delete DEFAULT_CONFIG", "retention.ms 3600000 DYNAMIC_TOPIC_CONFIG")
	out = mustRun(t, addr, "json", func(ctx context.Context, s *Session) error { return s.TopicDescribe(ctx, "orders") })
	d := decode[struct {
		Topic      string         `json:"topic"`
		Partitions int            `json:"partitions"`
		Details    []partitionRow `json:"partition_details"`
		Configs    []configRow    `json:"configs"`
	}](t, out)
	if d.Topic != "orders" || d.Partitions != 3 || len(d.Details) != 3 || d.Details[2].Partition != 2 || len(d.Configs) == 0 {
		t.Errorf("describe json: %s", out)
	}
	_, err = run(t, addr, "table", func(ctx context.Context, s *Session) error { return s.TopicDescribe(ctx, "nope") })
	if err == nil || !strings.HasPrefix(err.Error(), "topic describe nope: UNKNOWN_TOPIC_OR_PARTITION") {
		t.Errorf("describe of a missing topic: %v", err)
	}

	out = mustRun(t, addr, "table", func(ctx context.Context, s *Session) error {
		return s.TopicAlterConfig(ctx, "orders", KV{{"segment.ms", "60000"}}, []string{"retention.ms"})
	})
	matchLines(t, out, "CONFIG VALUE SOURCE", "retention.ms 604800000 DEFAULT_CONFIG", "segment.ms 60000 DYNAMIC_TOPIC_CONFIG")
	out = mustRun(t, addr, "json", func(ctx context.Context, s *Session) error {
		return s.TopicAlterConfig(ctx, "orders", KV{{"retention.bytes", "1048576"}}, nil)
	})
	if rows := decode[[]configRow](t, out); len(rows) != 1 || *rows[0].Value != "1048576" || rows[0].Source != "DYNAMIC_TOPIC_CONFIG" {
		t.Errorf("alter-config json: %s", out)
	}
	_, err = run(t, addr, "table", func(ctx context.Context, s *Session) error {
		return s.TopicAlterConfig(ctx, "orders", KV{{"no.such.config", "1"}}, nil)
	})
	if err == nil || !strings.HasPrefix(err.Error(), "topic alter-config orders: INVALID_CONFIG") {
		t.Errorf("alter of an unknown config: %v", err)
	}

	out = mustRun(t, addr, "table", func(ctx context.Context, s *Session) error {
		return s.TopicDelete(ctx, []string{"clicks", "fresh"})
	})
	matchLines(t, out, "DELETED ID", "clicks "+idRE, "fresh "+idRE)
	out = mustRun(t, addr, "json", func(ctx context.Context, s *Session) error { return s.TopicDelete(ctx, []string{"views"}) })
	if l := decode[[]map[string]string](t, out); len(l) != 1 || l[0]["topic"] != "views" {
		t.Errorf("delete json: %s", out)
	}
	_, err = run(t, addr, "table", func(ctx context.Context, s *Session) error { return s.TopicDelete(ctx, []string{"views"}) })
	if err == nil || !strings.HasPrefix(err.Error(), "topic delete: views: UNKNOWN_TOPIC_OR_PARTITION") {
		t.Errorf("deleting a missing topic: %v", err)
	}
	out = mustRun(t, addr, "json", func(ctx context.Context, s *Session) error { return s.TopicList(ctx, false) })
	if l := decode[[]topicSummary](t, out); len(l) != 1 || l[0].Topic != "orders" {
		t.Errorf("after deletes: %s", out)
	}
}

// TestProduceConsume produces lines with keys and headers and reads them
// back in each format, from each kind of start, stopping by count and at
// the end.
func TestProduceConsume(t *testing.T) {
	addr := startBroker(t)
	mustRun(t, addr, "table", func(ctx context.Context, s *Session) error {
		return s.TopicCreate(ctx, []string{"events"}, 2, -1, nil)
	})
	produce := func(format string, a ProduceArgs, input string) (string, error) {
		a.Topic = "events"
		return run(t, addr, format, func(ctx context.Context, s *Session) error {
			return s.Produce(ctx, a, strings.NewReader(input))
		})
	}

	out, err := produce("table", ProduceArgs{KeySeparator: ":", Headers: KV{{"source", "test"}, {"v", "1"}}, Partition: 0, Acks: "all"},
		"k1:first\nk2:second:with:colons\n\nno key here\n")
	if err != nil {
		t.Fatal(err)
	}
	matchLines(t, out, "TOPIC PARTITION RECORDS FIRST-OFFSET LAST-OFFSET", "events 0 3 0 2")
	out, err = produce("json", ProduceArgs{Partition: 1, Acks: "1"}, "a\nb\n")
	if err != nil {
		t.Fatal(err)
	}
	if p := decode[struct {
		Records    int                 `json:"records"`
		Partitions []producedPartition `json:"partitions"`
	}](t, out); p.Records != 2 || len(p.Partitions) != 1 || p.Partitions[0] != (producedPartition{1, 2, 0, 1}) {
		t.Errorf("produce json: %s", out)
	}
	out, err = produce("table", ProduceArgs{Partition: 1, Acks: "0"}, "c\n")
	if err != nil {
		t.Fatal(err)
	}
	matchLines(t, out, "events 1 1 -1 -1")
	// acks=0 returns before the write; wait for it to land.
	deadline := time.Now().Add(10 * time.Second)
	for {
		out = mustRun(t, addr, "json", func(ctx context.Context, s *Session) error { return s.TopicDescribe(ctx, "events") })
		if strings.Count(out, `"high_watermark": 3`) == 2 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("acks=0 record never arrived:\n%s", out)
		}
		time.Sleep(10 * time.Millisecond)
	}

	consume := func(format string, a ConsumeArgs) string {
		t.Helper()
		a.Topic = "events"
		return mustRun(t, addr, format, func(ctx context.Context, s *Session) error { return s.Consume(ctx, a) })
	}
	ts := `\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z`
	out = consume("table", ConsumeArgs{Partition: 0, ExitAtEnd: true})
	matchLines(t, out, "PARTITION OFFSET TIMESTAMP KEY VALUE HEADERS",
		"0 0 "+ts+" k1 first source=test,v=1",
		"0 1 "+ts+" k2 second:with:colons source=test,v=1",
		"0 2 "+ts+" no key here source=test,v=1")

	out = consume("json", ConsumeArgs{Partition: 0, Offset: "2", ExitAtEnd: true})
	rec := decode[map[string]any](t, out)
	if rec["key"] != nil || rec["value"] != "no key here" || rec["offset"] != 2.0 ||
		rec["headers"].([]any)[1].(map[string]any)["value"] != "1" {
		t.Errorf("consume json: %s", out)
	}

	out = consume(`%p:%o %k=%v [%h]\n`, ConsumeArgs{Partition: -1, ExitAtEnd: true})
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if len(lines) != 6 || !strings.Contains(out, "0:1 k2=second:with:colons [source=test,v=1]\n") || !strings.Contains(out, "1:2 =c []\n") {
		t.Errorf("consume template over both partitions:\n%s", out)
	}

	out = consume(`%v\n`, ConsumeArgs{Partition: -1, Count: 2})
	if n := strings.Count(out, "\n"); n != 2 {
		t.Errorf("-n 2 printed %d records:\n%s", n, out)
	}
	if out = consume(`%v\n`, ConsumeArgs{Partition: 1, Offset: "end", ExitAtEnd: true}); out != "" {
		t.Errorf("from the end, -e should print nothing: %q", out)
	}
	if out = consume(`%o\n`, ConsumeArgs{Partition: 1, Offset: "99", ExitAtEnd: true}); out != "" {
		t.Errorf("an offset past the end is clamped to it: %q", out)
	}
	if out = consume(`%o\n`, ConsumeArgs{Partition: 1, Timestamp: "2000-01-01T00:00:00Z", ExitAtEnd: true}); out != "0\n1\n2\n" {
		t.Errorf("from a past time: %q", out)
	}
	if out = consume(`%o\n`, ConsumeArgs{Partition: 1, Timestamp: time.Now().Add(time.Hour).Format(time.RFC3339), ExitAtEnd: true}); out != "" {
		t.Errorf("from a future time: %q", out)
	}

	for _, tc := range []struct {
		a    ConsumeArgs
		want string
	}{
		{ConsumeArgs{Topic: "nope", Partition: -1}, "consume nope: topic does not exist"},
		{ConsumeArgs{Topic: "events", Partition: 5}, "consume events: no partition 5"},
		{ConsumeArgs{Topic: "events", Partition: -1, Offset: "x"}, `--offset: want start, end or an offset, got "x"`},
		{ConsumeArgs{Topic: "events", Partition: -1, Offset: "1", Timestamp: "1"}, "give --offset or --timestamp, not both"},
		{ConsumeArgs{Topic: "events", Partition: -1, Group: "g", ExitAtEnd: true}, "consume: a group assigns the partitions; -p and -e do not apply with --group"},
	} {
		if _, err := run(t, addr, "table", func(ctx context.Context, s *Session) error { return s.Consume(ctx, tc.a) }); err == nil || err.Error() != tc.want {
			t.Errorf("consume %+v: %v, want %s", tc.a, err, tc.want)
		}
	}
	for _, tc := range []struct {
		a     ProduceArgs
		input string
		want  string
	}{
		{ProduceArgs{Partition: -1, Acks: "2"}, "x\n", `--acks: want all, 1 or 0, got "2"`},
		{ProduceArgs{Partition: 7, Acks: "all"}, "x\n", "produce: line 1: invalid record partitioning choice of 7 from 2 available"},
		{ProduceArgs{Partition: -1, Acks: "all"}, "ok\n" + strings.Repeat("x", MaxLineBytes+1) + "\n", "produce: line 2 is longer than"},
	} {
		if _, err := produce("table", tc.a, tc.input); err == nil || !strings.HasPrefix(err.Error(), tc.want) {
			t.Errorf("produce %+v: %v, want %s", tc.a, err, tc.want)
		}
	}
}

// TestProduceAutoCreates produces to a topic that does not exist yet: the
// broker's auto.create.topics.enable makes it, as for the Java producer.
func TestProduceAutoCreates(t *testing.T) {
	addr := startBroker(t)
	out := mustRun(t, addr, "table", func(ctx context.Context, s *Session) error {
		return s.Produce(ctx, ProduceArgs{Topic: "new", Partition: -1, Acks: "all"}, strings.NewReader("hello\n"))
	})
	matchLines(t, out, "new 0 1 0 0")
}

// TestClusterInfo checks the cluster ID, controller and broker list.
func TestClusterInfo(t *testing.T) {
	addr := startBroker(t)
	host, port, _ := net.SplitHostPort(addr)
	out := mustRun(t, addr, "table", func(ctx context.Context, s *Session) error { return s.ClusterInfo(ctx) })
	matchLines(t, out, "cluster: "+idRE, "controller: 0", "ID HOST PORT RACK", "0 "+host+" "+port+" -")
	out = mustRun(t, addr, "json", func(ctx context.Context, s *Session) error { return s.ClusterInfo(ctx) })
	c := decode[struct {
		ClusterID string `json:"cluster_id"`
		Brokers   []struct {
			NodeID int32  `json:"node_id"`
			Host   string `json:"host"`
			Port   int    `json:"port"`
		} `json:"brokers"`
	}](t, out)
	if c.ClusterID == "" || len(c.Brokers) != 1 || c.Brokers[0].Host != host || strconv.Itoa(c.Brokers[0].Port) != port {
		t.Errorf("cluster info json: %s", out)
	}
}

// TestUnreachable checks that a cluster nobody answers for is one clear
// line, not a hang.
func TestUnreachable(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	_, err = run(t, addr, "table", func(ctx context.Context, s *Session) error { return s.ClusterInfo(ctx) })
	if err == nil || !strings.HasPrefix(err.Error(), "cluster info: ") || !strings.Contains(err.Error(), "connection refused") {
		t.Errorf("unreachable broker: %v", err)
	}
}
