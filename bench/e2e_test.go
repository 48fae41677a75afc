package bench

import (
	"bytes"
	"context"
	"encoding/json"
	"encoding/xml"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kfake"

	"sluice/core"
)

// tinyWorkload is a run of about two seconds at a low rate.
func tinyWorkload(t *testing.T) Workload {
	t.Helper()
	w, err := LoadWorkload("workloads/smoke.yaml")
	if err != nil {
		t.Fatal(err)
	}
	w.Name = "tiny"
	w.Rate, w.Warmup, w.Duration, w.DrainTimeout = 300, 500*time.Millisecond, 1500*time.Millisecond, 20*time.Second
	w.FetchMaxWait = 100 * time.Millisecond
	return w
}

// TestRunAgainstBrokers runs a tiny workload against a Sluice broker and
// against kfake, both in-process on loopback, checks every output exists
// and parses, and then aggregates the two as a suite report would.
func TestRunAgainstBrokers(t *testing.T) {
	if testing.Short() {
		t.Skip("starts brokers")
	}
	root := t.TempDir()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()

	b, err := core.Start(core.Config{Listen: "127.0.0.1:0", DataDir: t.TempDir(), Shards: 2,
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	defer func() {
		sctx, scancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer scancel()
		if err := b.Shutdown(sctx); err != nil {
			t.Error(err)
		}
	}()
	fake, err := kfake.NewCluster(kfake.NumBrokers(1))
	if err != nil {
		t.Fatal(err)
	}
	defer fake.Close()

	for _, target := range []struct{ label, addr string }{{"sluice", b.Addr()}, {"kfake", fake.ListenAddrs()[0]}} {
		t.Run(target.label, func(t *testing.T) {
			w := tinyWorkload(t)
			if target.label == "kfake" {
				w.TopicConfigs = nil // kfake refuses flush.messages; smoke sets none, but the suite's would
			}
			out := filepath.Join(root, "round-1", target.label, w.Name)
			var progress bytes.Buffer
			s, err := Run(ctx, w, Options{Brokers: []string{target.addr}, Out: out, Label: target.label, Run: "round-1", Progress: &progress})
			if err != nil {
				t.Fatalf("run: %v\nprogress:\n%s", err, progress.String())
			}
			checkOutputs(t, out, s)
			if !strings.Contains(progress.String(), "measure") {
				t.Errorf("progress lines:\n%s", progress.String())
			}
		})
	}

	rounds, err := LoadRounds(root)
	if err != nil || len(rounds) != 1 || len(rounds[0].summaries) != 2 {
		t.Fatalf("LoadRounds: %v, %d rounds", err, len(rounds))
	}
	var report bytes.Buffer
	if err := WriteReport(&report, rounds, "sluice", "kfake"); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"| tiny | sluice | 300/s |", "| tiny | kfake | 300/s |", "Ratios sluice against kfake"} {
		if !strings.Contains(report.String(), want) {
			t.Errorf("report lacks %q:\n%s", want, report.String())
		}
	}
	plots, err := WriteReportPlots(filepath.Join(root, "plots"), rounds)
	if err != nil || len(plots) != 2 {
		t.Fatalf("report plots: %v, %v", err, plots)
	}
	for _, p := range plots {
		checkSVG(t, p)
	}
}

func checkOutputs(t *testing.T, dir string, s *Summary) {
	t.Helper()
	var got Summary
	data, err := os.ReadFile(filepath.Join(dir, "summary.json"))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(data, &got); err != nil {
		t.Fatalf("summary.json: %v", err)
	}
	if got.Errors.Total != 0 || got.Interrupted || got.Mode != "fixed_rate" {
		t.Errorf("summary: errors %+v, interrupted %v, mode %s", got.Errors, got.Interrupted, got.Mode)
	}
	// 300/s for 1.5 s: 450 records due in the measured phase, each read
	// back once; the checker found nothing missing (errors above).
	if got.Produce.Acked != 450 || got.EndToEnd == nil || got.EndToEnd.Read != 450 {
		t.Errorf("acked %d, read %+v; want 450 each", got.Produce.Acked, got.EndToEnd)
	}
	if got.Produce.Latency.Count != 450 || got.Produce.Latency.P99Us <= 0 || got.EndToEnd.Latency.P99Us < got.EndToEnd.Latency.P50Us {
		t.Errorf("latencies: produce %+v, end to end %+v", got.Produce.Latency, got.EndToEnd.Latency)
	}
	if len(got.Broker.APIVersions) == 0 || len(got.Broker.TopicConfigs) == 0 || got.Host.CPUs == 0 {
		t.Errorf("broker info %+v, host %+v", got.Broker, got.Host)
	}
	for _, name := range []string{"produce", "end-to-end", "send-lag"} {
		f, err := os.Open(filepath.Join(dir, got.Files[name]))
		if err != nil {
			t.Errorf("%s: %v", name, err)
			continue
		}
		pts, err := ReadHgrm(f)
		f.Close()
		if err != nil || len(pts) < 5 {
			t.Errorf("%s.hgrm: %v, %d points", name, err, len(pts))
		}
	}
	checkSVG(t, filepath.Join(dir, got.Files["plot"]))
	row, err := os.ReadFile(filepath.Join(dir, "row.md"))
	if err != nil || !strings.Contains(string(row), MarkdownRow(s)) || strings.Count(MarkdownRow(s), "|") != strings.Count(MarkdownHeader(), "|")/2 {
		t.Errorf("row.md: %v\n%s", err, row)
	}
}

func checkSVG(t *testing.T, path string) {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	dec := xml.NewDecoder(bytes.NewReader(data))
	for {
		if _, err := dec.Token(); err == io.EOF {
			break
		} else if err != nil {
			t.Fatalf("%s: %v", path, err)
		}
	}
	if !bytes.Contains(data, []byte("<polyline")) {
		t.Errorf("%s: no lines", path)
	}
}
