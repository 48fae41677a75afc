package bench

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/HdrHistogram/hdrhistogram-go"
)

// Summary is the JSON summary of one run (summary.json).
type Summary struct {
	Name        string    `json:"name"`
	Label       string    `json:"label,omitempty"` // which broker, e.g. "sluice"
	Run         string    `json:"run,omitempty"`   // which repetition, e.g. "round-1"
	Command     []string  `json:"command,omitempty"`
	Started     time.Time `json:"started"`
	Interrupted bool      `json:"interrupted"`
	// Mode is fixed_rate (open loop) or max_throughput (closed loop).
	Mode            string   `json:"mode"`
	TargetRate      float64  `json:"target_rate"`
	WarmupSeconds   float64  `json:"warmup_seconds"`
	MeasuredSeconds float64  `json:"measured_seconds"`
	Brokers         []string `json:"brokers"`
	Topics          []string `json:"topics"`

	Produce  ProduceStats `json:"produce"`
	EndToEnd *ReadStats   `json:"end_to_end,omitempty"`
	// SendLag is the pacer's lateness (fixed rate only): a floor under
	// produce latency that is the load generator's, not the broker's.
	SendLag *Latency `json:"send_lag,omitempty"`
	Soak    *Soak    `json:"soak,omitempty"`
	Errors  Errors   `json:"errors"`

	Workload map[string]any    `json:"workload"`
	Broker   BrokerInfo        `json:"broker"`
	Host     HostFacts         `json:"host"`
	Files    map[string]string `json:"files"`

	dir string // where LoadRounds found it
}

// ProduceStats are over records due in the measured phase, except Failed,
// which counts failures in any phase: each is an error of the run.
type ProduceStats struct {
	Sent          int64   `json:"sent"`
	Acked         int64   `json:"acked"`
	Failed        int64   `json:"failed"`
	SentPerSec    float64 `json:"sent_per_sec"`
	RecordsPerSec float64 `json:"records_per_sec"` // acknowledged
	MBPerSec      float64 `json:"mb_per_sec"`      // acknowledged value bytes, 10^6
	Latency       Latency `json:"latency"`
}

// ReadStats are over records due in the measured phase.
type ReadStats struct {
	Read          int64   `json:"read"`
	RecordsPerSec float64 `json:"records_per_sec"`
	MBPerSec      float64 `json:"mb_per_sec"`
	Latency       Latency `json:"latency"`
}

// Latency is a histogram's summary, in microseconds.
type Latency struct {
	Count   int64   `json:"count"`
	MeanUs  float64 `json:"mean_us"`
	P50Us   int64   `json:"p50_us"`
	P90Us   int64   `json:"p90_us"`
	P99Us   int64   `json:"p99_us"`
	P999Us  int64   `json:"p99.9_us"`
	P9999Us int64   `json:"p99.99_us"`
	MaxUs   int64   `json:"max_us"`
	// Clamped counts latencies beyond the histogram's 60 s, recorded as 60 s.
	Clamped int64 `json:"clamped,omitempty"`
}

func latencyOf(h *hdrhistogram.Histogram, clamped int64) Latency {
	if h.TotalCount() == 0 {
		return Latency{}
	}
	v := h.ValueAtPercentiles([]float64{50, 90, 99, 99.9, 99.99})
	return Latency{Count: h.TotalCount(), MeanUs: h.Mean(), P50Us: v[50], P90Us: v[90], P99Us: v[99],
		P999Us: v[99.9], P9999Us: v[99.99], MaxUs: h.Max(), Clamped: clamped}
}

// Soak compares the first and the last window of a long run.
type Soak struct {
	WindowSeconds    float64 `json:"window_seconds"`
	LastSpanSeconds  float64 `json:"last_span_seconds"` // what the last window covers (9-10 tenths of a window)
	ProduceFirst     Latency `json:"produce_first"`
	ProduceLast      Latency `json:"produce_last"`
	EndToEndFirst    Latency `json:"end_to_end_first"`
	EndToEndLast     Latency `json:"end_to_end_last"`
	ProduceP99Drift  float64 `json:"produce_p99_drift"` // last / first
	EndToEndP99Drift float64 `json:"end_to_end_p99_drift"`
}

// Errors are everything that went wrong; any of them fails the run.
type Errors struct {
	Total    int64    `json:"total"`
	Produce  int64    `json:"produce"`
	Fetch    int64    `json:"fetch"`
	Trim     int64    `json:"trim"`
	Delivery delivery `json:"delivery"`
	// DrainIncomplete: producers or consumers had not finished when the
	// drain timeout ran out.
	DrainIncomplete bool     `json:"drain_incomplete,omitempty"`
	Samples         []string `json:"samples,omitempty"`
}

// hgrmScale writes .hgrm values in milliseconds, the unit HdrHistogram's
// plotters and most published .hgrm files use.
const hgrmScale = 1000.0

// writeOutputs writes the run's files into dir and records their names
// in s.Files.
func writeOutputs(dir string, s *Summary, hists map[string]*hdrhistogram.Histogram) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	s.Files = map[string]string{}
	var errs []error
	var plot []PlotSeries
	for _, name := range sortedKeys(hists) {
		h := hists[name]
		if h.TotalCount() == 0 {
			continue
		}
		file := name + ".hgrm"
		errs = append(errs, writeFile(filepath.Join(dir, file), func(f *os.File) error {
			_, err := h.PercentilesPrint(f, 5, hgrmScale)
			return err
		}))
		s.Files[name] = file
		if name != "send-lag" {
			plot = append(plot, PlotSeries{Label: name, Points: histPoints(h)})
		}
	}
	if len(plot) > 0 {
		title := fmt.Sprintf("%s %s: latency by percentile", s.Label, s.Name)
		errs = append(errs, writeFile(filepath.Join(dir, "latency.svg"), func(f *os.File) error {
			return WritePlot(f, strings.TrimSpace(title), plot)
		}))
		s.Files["plot"] = "latency.svg"
	}
	s.Files["row"] = "row.md"
	s.Files["summary"] = "summary.json"
	errs = append(errs, writeFile(filepath.Join(dir, "row.md"), func(f *os.File) error {
		_, err := fmt.Fprintf(f, "%s\n%s\n", MarkdownHeader(), MarkdownRow(s))
		return err
	}))
	errs = append(errs, writeFile(filepath.Join(dir, "summary.json"), func(f *os.File) error {
		enc := json.NewEncoder(f)
		enc.SetIndent("", "  ")
		return enc.Encode(s)
	}))
	return errors.Join(errs...)
}

// writeFile writes a file through a temporary one, so that an interrupted
// run never leaves a half-written result under the real name.
func writeFile(path string, fill func(*os.File) error) error {
	f, err := os.CreateTemp(filepath.Dir(path), filepath.Base(path)+".tmp*")
	if err != nil {
		return err
	}
	if err := fill(f); err != nil {
		f.Close()
		os.Remove(f.Name())
		return err
	}
	if err := f.Close(); err != nil {
		os.Remove(f.Name())
		return err
	}
	if err := os.Chmod(f.Name(), 0o644); err != nil {
		return err
	}
	return os.Rename(f.Name(), path)
}

// MarkdownHeader is the header of the table MarkdownRow makes rows for.
func MarkdownHeader() string {
	return "| run | broker | workload | mode | records/s | MB/s | send lag p99 | produce p50 | p99 | p99.9 | p99.99 | max | e2e p50 | p99 | p99.9 | p99.99 | max | errors |\n" +
		"|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|"
}

// MarkdownRow is one run as a row of BENCHMARKS.md's table; latencies in
// milliseconds.
func MarkdownRow(s *Summary) string {
	mode := "max"
	if s.Mode == "fixed_rate" {
		mode = fmt.Sprintf("%s/s", fmtNum(s.TargetRate))
	}
	cells := []string{s.Run, s.Label, s.Name, mode, fmtNum(s.Produce.RecordsPerSec), fmtNum(s.Produce.MBPerSec), ""}
	if s.SendLag != nil {
		cells[len(cells)-1] = ms(s.SendLag.P99Us)
	}
	p := s.Produce.Latency
	cells = append(cells, ms(p.P50Us), ms(p.P99Us), ms(p.P999Us), ms(p.P9999Us), ms(p.MaxUs))
	if e := s.EndToEnd; e != nil {
		l := e.Latency
		cells = append(cells, ms(l.P50Us), ms(l.P99Us), ms(l.P999Us), ms(l.P9999Us), ms(l.MaxUs))
	} else {
		cells = append(cells, "", "", "", "", "")
	}
	errs := fmt.Sprint(s.Errors.Total)
	if s.Interrupted {
		errs += " (interrupted)"
	}
	cells = append(cells, errs)
	return "| " + strings.Join(cells, " | ") + " |"
}

// ms formats microseconds as milliseconds with three significant digits.
func ms(us int64) string { return fmtNum(float64(us) / 1000) }

// fmtNum prints three significant digits, no exponent.
func fmtNum(x float64) string {
	switch {
	case x >= 100 || x == 0:
		return fmt.Sprintf("%.0f", x)
	case x >= 10:
		return fmt.Sprintf("%.1f", x)
	case x >= 1:
		return fmt.Sprintf("%.2f", x)
	}
	return fmt.Sprintf("%.3g", x)
}
