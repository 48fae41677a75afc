package admin

import (
	"bufio"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"os"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"sluice/core"
)

var quiet = slog.New(slog.NewTextHandler(io.Discard, nil))

func get(t *testing.T, url string) (int, string) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, string(body)
}

func put(t *testing.T, url, body string) (int, string) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPut, url, strings.NewReader(body))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// scrape returns every sample of /metrics by series ("name{labels}" as
// written) and the set of metric names.
func scrape(t *testing.T, base string) (map[string]float64, map[string]bool) {
	t.Helper()
	code, body := get(t, base+"/metrics")
	if code != http.StatusOK {
		t.Fatalf("/metrics: %d %s", code, body)
	}
	samples, names := map[string]float64{}, map[string]bool{}
	sc := bufio.NewScanner(strings.NewReader(body))
	for sc.Scan() {
		line := sc.Text()
		if line == "" || line[0] == '#' {
			continue
		}
		i := strings.LastIndexByte(line, ' ')
		v, err := strconv.ParseFloat(line[i+1:], 64)
		if err != nil {
			t.Fatalf("sample %q: %v", line, err)
		}
		series := line[:i]
		samples[series] = v
		names[strings.SplitN(series, "{", 2)[0]] = true
	}
	return samples, names
}

// eventually polls cond until it holds or a generous deadline passes.
func eventually(t *testing.T, what string, cond func() (bool, string)) {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for {
		ok, got := cond()
		if ok {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: never held; last %s", what, got)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

type harness struct {
	b     *core.Broker
	adm   *Server
	base  string
	level *slog.LevelVar
}

// start runs the admin server, then a broker, as `sluice serve` does.
func start(t *testing.T) *harness {
	t.Helper()
	h := &harness{level: new(slog.LevelVar)}
	var err error
	h.adm, err = Listen(Config{Listen: "127.0.0.1:0", Level: h.level, Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { h.adm.Shutdown(context.Background()) })
	h.base = "http://" + h.adm.Addr()
	if code, _ := get(t, h.base+"/v1/health/ready"); code != http.StatusServiceUnavailable {
		t.Fatalf("ready before the broker started: %d", code)
	}
	if code, _ := get(t, h.base+"/v1/health/live"); code != http.StatusOK {
		t.Fatalf("live before the broker started: %d", code)
	}
	zero := time.Duration(0)
	h.b, err = core.Start(core.Config{Listen: "127.0.0.1:0", DataDir: t.TempDir(), Shards: 2, Logger: quiet, GroupInitialRebalanceDelay: &zero})
	if err != nil {
		t.Fatal(err)
	}
	h.adm.SetBroker(h.b)
	return h
}

func (h *harness) stop(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := h.b.Shutdown(ctx); err != nil {
		t.Fatal(err)
	}
}

const topic = "metrics-topic"

// run produces 10 records, consumes and commits them in group g1, then
// produces 5 more, so g1's lag is 5; and makes one request fail.
func (h *harness) run(t *testing.T) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cl, err := kgo.NewClient(kgo.SeedBrokers(h.b.Addr()))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	adm := kadm.NewClient(cl)
	one := "1" // every produce waits for fdatasync: the fsync histogram moves
	if _, err := adm.CreateTopic(ctx, 1, 1, map[string]*string{"flush.messages": &one}, topic); err != nil {
		t.Fatal(err)
	}
	produce := func(n int) {
		for i := range n {
			if err := cl.ProduceSync(ctx, &kgo.Record{Topic: topic, Value: []byte("value-" + strconv.Itoa(i))}).FirstErr(); err != nil {
				t.Fatal(err)
			}
		}
	}
	produce(10)
	cons, err := kgo.NewClient(kgo.SeedBrokers(h.b.Addr()), kgo.ConsumerGroup("g1"), kgo.ConsumeTopics(topic), kgo.DisableAutoCommit())
	if err != nil {
		t.Fatal(err)
	}
	defer cons.Close()
	for got := 0; got < 10; {
		fs := cons.PollFetches(ctx)
		if err := ctx.Err(); err != nil {
			t.Fatal(err)
		}
		got += fs.NumRecords()
	}
	if err := cons.CommitUncommittedOffsets(ctx); err != nil {
		t.Fatal(err)
	}
	produce(5)
	// A failing request: deleting a topic that does not exist.
	resps, _ := adm.DeleteTopics(ctx, "no-such-topic")
	if resps["no-such-topic"].Err == nil {
		t.Fatal("deleting a missing topic succeeded")
	}
}

func TestMetricsAfterProduceConsume(t *testing.T) {
	h := start(t)
	defer h.stop(t)
	if code, _ := get(t, h.base+"/v1/health/ready"); code != http.StatusOK {
		t.Fatalf("ready after start: %d", code)
	}
	h.run(t)
	part := `{partition="0",topic="metrics-topic"}` // labels sorted, as the text format writes them
	want := map[string]func(float64) bool{
		`sluice_requests_total{api="Produce"}`:                             func(v float64) bool { return v >= 15 },
		`sluice_requests_total{api="Fetch"}`:                               func(v float64) bool { return v >= 1 },
		`sluice_request_duration_seconds_count{api="Produce"}`:             func(v float64) bool { return v >= 15 },
		`sluice_request_duration_seconds_bucket{api="Produce",le="+Inf"}`:  func(v float64) bool { return v >= 15 },
		`sluice_request_duration_seconds_sum{api="Produce"}`:               func(v float64) bool { return v > 0 },
		`sluice_request_errors_total{api="DeleteTopics"}`:                  func(v float64) bool { return v >= 1 },
		`sluice_request_errors_total{api="Produce"}`:                       func(v float64) bool { return v == 0 },
		`sluice_produce_bytes_total`:                                       func(v float64) bool { return v > 15*7 },
		`sluice_fetch_bytes_total`:                                         func(v float64) bool { return v > 10*7 },
		`sluice_partition_log_end_offset` + part:                           func(v float64) bool { return v == 15 },
		`sluice_partition_high_watermark` + part:                           func(v float64) bool { return v == 15 },
		`sluice_partition_log_start_offset` + part:                         func(v float64) bool { return v == 0 },
		`sluice_partition_size_bytes` + part:                               func(v float64) bool { return v > 0 },
		`sluice_partition_isr_size` + part:                                 func(v float64) bool { return v == 1 },
		`sluice_under_replicated_partitions`:                               func(v float64) bool { return v == 0 },
		`sluice_group_lag{group="g1",partition="0",topic="metrics-topic"}`: func(v float64) bool { return v == 5 },
		`sluice_fsync_duration_seconds_count`:                              func(v float64) bool { return v >= 15 },
		`sluice_shard_busy_ratio{shard="0"}`:                               func(v float64) bool { return v >= 0 && v <= 1 },
		`sluice_shard_busy_ratio{shard="1"}`:                               func(v float64) bool { return v >= 0 && v <= 1 },
		`go_gc_duration_seconds_count`:                                     func(v float64) bool { return v >= 0 },
		`process_resident_memory_bytes`:                                    func(v float64) bool { return v > 0 },
	}
	eventually(t, "metrics moved", func() (bool, string) {
		samples, _ := scrape(t, h.base)
		for series, ok := range want {
			v, found := samples[series]
			if !found || !ok(v) {
				return false, series + "=" + strconv.FormatFloat(v, 'g', -1, 64) + " found=" + strconv.FormatBool(found)
			}
		}
		return true, ""
	})
	// Buckets are cumulative and end at the count.
	samples, _ := scrape(t, h.base)
	prev := 0.0
	for _, le := range []string{"5e-05", "0.0001", "0.001", "0.01", "0.1", "1", "10", "+Inf"} {
		v, ok := samples[`sluice_request_duration_seconds_bucket{api="Produce",le="`+le+`"}`]
		if !ok || v < prev {
			t.Fatalf("bucket le=%s: %v (found %v), previous %v", le, v, ok, prev)
		}
		prev = v
	}
	if c := samples[`sluice_request_duration_seconds_count{api="Produce"}`]; prev != c {
		t.Fatalf("+Inf bucket %v, count %v", prev, c)
	}
}

// TestDashboardMetricsExist is issue 8's proof that the Grafana dashboard
// queries only metrics a broker exports: every metric name in its
// expressions appears in a scrape after a produce/consume run.
func TestDashboardMetricsExist(t *testing.T) {
	raw, err := os.ReadFile("../../deploy/grafana-dashboard.json")
	if err != nil {
		t.Fatal(err)
	}
	var dash struct {
		Panels []struct {
			Title   string
			Targets []struct{ Expr string }
		}
	}
	if err := json.Unmarshal(raw, &dash); err != nil {
		t.Fatal(err)
	}
	h := start(t)
	defer h.stop(t)
	h.run(t)
	nameRE := regexp.MustCompile(`\b(?:sluice|go|process)_[a-z0-9_]+\b`)
	queried := map[string]string{} // metric -> panel
	for _, p := range dash.Panels {
		if len(p.Targets) == 0 {
			t.Errorf("panel %q queries nothing", p.Title)
		}
		for _, tg := range p.Targets {
			for _, m := range nameRE.FindAllString(tg.Expr, -1) {
				queried[m] = p.Title
			}
		}
	}
	if len(queried) < 10 {
		t.Fatalf("found only %d metric names in the dashboard: %v", len(queried), queried)
	}
	eventually(t, "every dashboard metric exported", func() (bool, string) {
		_, names := scrape(t, h.base)
		for m, panel := range queried {
			if !names[m] {
				return false, m + " (panel " + panel + ")"
			}
		}
		return true, ""
	})
}

func TestHealthLatencyClusterLogLevel(t *testing.T) {
	h := start(t)
	h.run(t)

	// Latency: JSON for all APIs, .hgrm text for one.
	code, body := get(t, h.base+"/v1/latency")
	if code != http.StatusOK {
		t.Fatalf("/v1/latency: %d %s", code, body)
	}
	var lat struct {
		Unit string
		APIs []latencyJSON
	}
	if err := json.Unmarshal([]byte(body), &lat); err != nil {
		t.Fatal(err)
	}
	var produce *latencyJSON
	for i := range lat.APIs {
		if lat.APIs[i].API == "Produce" {
			produce = &lat.APIs[i]
		}
	}
	if produce == nil || produce.Requests < 15 || produce.Histogram == nil || produce.MaxUs < produce.P50Us || produce.P50Us < 1 {
		t.Fatalf("Produce latency: %+v", produce)
	}
	code, body = get(t, h.base+"/v1/latency?format=hgrm&api=Produce")
	if code != http.StatusOK || !strings.Contains(body, "Percentile") || !strings.Contains(body, "#[Mean") || !strings.Contains(body, "#[Max") {
		t.Fatalf("hgrm: %d\n%s", code, body)
	}
	if code, _ := get(t, h.base+"/v1/latency?format=hgrm"); code != http.StatusBadRequest {
		t.Fatalf("hgrm without api: %d", code)
	}
	if code, _ := get(t, h.base+"/v1/latency?api=NoSuchApi"); code != http.StatusNotFound {
		t.Fatalf("unknown api: %d", code)
	}

	// Cluster state.
	code, body = get(t, h.base+"/v1/cluster")
	var cl clusterJSON
	if err := json.Unmarshal([]byte(body), &cl); code != http.StatusOK || err != nil {
		t.Fatalf("/v1/cluster: %d %v %s", code, err, body)
	}
	found := false
	for _, tp := range cl.Topics {
		if tp.Name == topic {
			found = len(tp.Partitions) == 1 && tp.Partitions[0].HighWatermark == 15 && len(tp.Partitions[0].ISR) == 1
		}
	}
	if cl.ClusterID == "" || len(cl.Listeners) != 1 || cl.Listeners[0].Address != h.b.Addr() || cl.Groups != 1 || !found {
		t.Fatalf("/v1/cluster: %s", body)
	}

	// Log level, at runtime.
	if code, body := get(t, h.base+"/v1/loglevel"); code != http.StatusOK || !strings.Contains(body, `"INFO"`) {
		t.Fatalf("GET loglevel: %d %s", code, body)
	}
	if code, body := put(t, h.base+"/v1/loglevel", "debug"); code != http.StatusOK || h.level.Level() != slog.LevelDebug {
		t.Fatalf("PUT debug: %d %s, level %v", code, body, h.level.Level())
	}
	if code, body := put(t, h.base+"/v1/loglevel", `{"level":"WARN"}`); code != http.StatusOK || h.level.Level() != slog.LevelWarn {
		t.Fatalf("PUT json WARN: %d %s, level %v", code, body, h.level.Level())
	}
	if code, body := get(t, h.base+"/v1/loglevel"); code != http.StatusOK || !strings.Contains(body, `"WARN"`) {
		t.Fatalf("GET loglevel after PUT: %d %s", code, body)
	}
	if code, _ := put(t, h.base+"/v1/loglevel", "loud"); code != http.StatusBadRequest || h.level.Level() != slog.LevelWarn {
		t.Fatalf("PUT loud: %d, level %v", code, h.level.Level())
	}

	// Not ready once draining; live throughout.
	h.stop(t)
	if code, _ := get(t, h.base+"/v1/health/ready"); code != http.StatusServiceUnavailable {
		t.Fatalf("ready after shutdown: %d", code)
	}
	if code, _ := get(t, h.base+"/v1/health/live"); code != http.StatusOK {
		t.Fatalf("live after shutdown: %d", code)
	}
}
