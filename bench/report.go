package bench

import (
	"encoding/json"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
)

// A report aggregates the runs of a suite: ROOT/<round>/... holds, for
// each round, the runs' summary.json files (at any depth), rtt.json from
// `sluice bench rtt`, and fio's JSON output as fio-seq-1m.json (sequential
// O_DIRECT write bandwidth) and fio-fdatasync-4k.json (write + fdatasync
// latency). Every cell is min / median / max over the rounds, and ratios
// are computed round by round before they are aggregated, as the other
// tables of BENCHMARKS.md are.

// Round is what one round directory holds.
type Round struct {
	name      string
	summaries []*Summary
	rtt       *RTTResult
	fioMBps   float64 // 0 if absent
	fioSyncUs float64 // fdatasync p99, 0 if absent
}

// LoadRounds reads every round directory under root.
func LoadRounds(root string) ([]*Round, error) {
	entries, err := os.ReadDir(root)
	if err != nil {
		return nil, err
	}
	var rounds []*Round
	for _, e := range entries {
		if !e.IsDir() {
			continue
		}
		rd := &Round{name: e.Name()}
		dir := filepath.Join(root, e.Name())
		err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
			if err != nil || d.IsDir() {
				return err
			}
			switch d.Name() {
			case "summary.json":
				var s Summary
				if err := readJSON(path, &s); err != nil {
					return err
				}
				s.Run, s.dir = rd.name, filepath.Dir(path)
				rd.summaries = append(rd.summaries, &s)
			case "rtt.json":
				var r RTTResult
				if err := readJSON(path, &r); err != nil {
					return err
				}
				rd.rtt = &r
			case "fio-seq-1m.json":
				var f fioOutput
				if err := readJSON(path, &f); err != nil {
					return err
				}
				if len(f.Jobs) > 0 {
					rd.fioMBps = f.Jobs[0].Write.BWBytes / 1e6
				}
			case "fio-fdatasync-4k.json":
				var f fioOutput
				if err := readJSON(path, &f); err != nil {
					return err
				}
				if len(f.Jobs) > 0 {
					rd.fioSyncUs = f.Jobs[0].Sync.LatNs.Percentile["99.000000"] / 1e3
				}
			}
			return nil
		})
		if err != nil {
			return nil, err
		}
		if len(rd.summaries) > 0 || rd.rtt != nil || rd.fioMBps > 0 {
			rounds = append(rounds, rd)
		}
	}
	return rounds, nil
}

// fioOutput is the part of fio's --output-format=json a report reads.
type fioOutput struct {
	Jobs []struct {
		Write struct {
			BWBytes float64 `json:"bw_bytes"`
		} `json:"write"`
		Sync struct {
			LatNs struct {
				Percentile map[string]float64 `json:"percentile"`
			} `json:"lat_ns"`
		} `json:"sync"`
	} `json:"jobs"`
}

func readJSON(path string, v any) error {
	b, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	if err := json.Unmarshal(b, v); err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	return nil
}

// metric is one column of the report.
type metric struct {
	title string
	get   func(*Summary) (float64, bool)
}

func latencyMetric(title string, e2e bool, pick func(Latency) int64) metric {
	return metric{title, func(s *Summary) (float64, bool) {
		l := s.Produce.Latency
		if e2e {
			if s.EndToEnd == nil {
				return 0, false
			}
			l = s.EndToEnd.Latency
		}
		return float64(pick(l)) / 1000, l.Count > 0
	}}
}

var (
	mRecords = metric{"records/s", func(s *Summary) (float64, bool) { return s.Produce.RecordsPerSec, true }}
	mMB      = metric{"MB/s", func(s *Summary) (float64, bool) { return s.Produce.MBPerSec, true }}
	// How late the pacer sent, a floor under the latencies: when it
	// approaches them, the client side could not keep the rate.
	mSendLag = metric{"send lag p99", func(s *Summary) (float64, bool) {
		if s.SendLag == nil || s.SendLag.Count == 0 {
			return 0, false
		}
		return float64(s.SendLag.P99Us) / 1000, true
	}}
	mP50     = latencyMetric("produce p50", false, func(l Latency) int64 { return l.P50Us })
	mP99     = latencyMetric("p99", false, func(l Latency) int64 { return l.P99Us })
	mP999    = latencyMetric("p99.9", false, func(l Latency) int64 { return l.P999Us })
	mP9999   = latencyMetric("p99.99", false, func(l Latency) int64 { return l.P9999Us })
	mMax     = latencyMetric("max", false, func(l Latency) int64 { return l.MaxUs })
	mE2EP50  = latencyMetric("e2e p50", true, func(l Latency) int64 { return l.P50Us })
	mE2EP99  = latencyMetric("p99", true, func(l Latency) int64 { return l.P99Us })
	mE2EP999 = latencyMetric("p99.9", true, func(l Latency) int64 { return l.P999Us })
	mE2E9999 = latencyMetric("p99.99", true, func(l Latency) int64 { return l.P9999Us })
	mE2EMax  = latencyMetric("max", true, func(l Latency) int64 { return l.MaxUs })

	reportMetrics = []metric{mRecords, mMB, mSendLag, mP50, mP99, mP999, mP9999, mMax, mE2EP50, mE2EP99, mE2EP999, mE2E9999, mE2EMax}
	// ratioMetrics are compared between brokers; the first is a
	// throughput (A / B), the others latencies (B / A).
	ratioMetrics = []metric{mRecords, mP50, mP99, mP999, mE2EP99, mE2EP999}
)

// WriteReport writes the Markdown tables of the rounds. ratioA and ratioB
// name the two labels compared (e.g. "sluice" and "kfake"); the ratio
// table is left out if either is missing.
func WriteReport(w io.Writer, rounds []*Round, ratioA, ratioB string) error {
	type key struct{ name, label string }
	byKey := map[key]map[string]*Summary{} // by round
	var keys []key
	for _, rd := range rounds {
		for _, s := range rd.summaries {
			k := key{s.Name, s.Label}
			if byKey[k] == nil {
				byKey[k] = map[string]*Summary{}
				keys = append(keys, k)
			}
			byKey[k][rd.name] = s
		}
	}
	slices.SortFunc(keys, func(a, b key) int { return strings.Compare(a.name+"\x00"+a.label, b.name+"\x00"+b.label) })
	b := &strings.Builder{}
	fmt.Fprintf(b, "%d round(s): %s. Cells are min / median / max over the rounds; latencies in ms.\n\n", len(rounds), roundNames(rounds))
	b.WriteString("| workload | broker | mode |")
	for _, m := range reportMetrics {
		b.WriteString(" " + m.title + " |")
	}
	b.WriteString(" errors |\n|---|---|---|" + strings.Repeat("---|", len(reportMetrics)+1) + "\n")
	for _, k := range keys {
		runs := byKey[k]
		// Fixed rates follow each round's max, so they differ a little
		// between rounds: the column gives their median.
		mode := "max"
		var errs int64
		var targets []float64
		for _, s := range runs {
			if s.Mode == "fixed_rate" {
				targets = append(targets, s.TargetRate)
			}
			errs += s.Errors.Total
		}
		if len(targets) > 0 {
			slices.Sort(targets)
			mode = fmtNum(targets[(len(targets)-1)/2]) + "/s"
		}
		fmt.Fprintf(b, "| %s | %s | %s |", k.name, k.label, mode)
		for _, m := range reportMetrics {
			var vals []float64
			for _, s := range runs {
				if v, ok := m.get(s); ok {
					vals = append(vals, v)
				}
			}
			b.WriteString(" " + minMedMax(vals) + " |")
		}
		fmt.Fprintf(b, " %d |\n", errs)
	}

	if ratioA != "" && ratioB != "" {
		var rows []string
		for _, k := range keys {
			if k.label != ratioA || byKey[key{k.name, ratioB}] == nil {
				continue
			}
			a, o := byKey[k], byKey[key{k.name, ratioB}]
			cells := []string{k.name}
			for i, m := range ratioMetrics {
				var vals []float64
				for r, sa := range a {
					sb := o[r]
					if sb == nil {
						continue
					}
					va, okA := m.get(sa)
					vb, okB := m.get(sb)
					if !okA || !okB || va == 0 || vb == 0 {
						continue
					}
					if i == 0 {
						vals = append(vals, va/vb) // throughput: A over B
					} else {
						vals = append(vals, vb/va) // latency: B over A
					}
				}
				cells = append(cells, minMedMax(vals))
			}
			rows = append(rows, "| "+strings.Join(cells, " | ")+" |")
		}
		if len(rows) > 0 {
			fmt.Fprintf(b, "\nRatios %[1]s against %[2]s, computed per round, oriented so that above 1 means %[1]s does better: "+
				"records/s %[1]s / %[2]s, latencies %[2]s / %[1]s.\n\n", ratioA, ratioB)
			b.WriteString("| workload | records/s | produce p50 | produce p99 | produce p99.9 | e2e p99 | e2e p99.9 |\n|---|---|---|---|---|---|---|\n")
			b.WriteString(strings.Join(rows, "\n") + "\n")
		}
	}

	var soak []string
	for _, k := range keys {
		for _, r := range sortedKeys(byKey[k]) {
			if s := byKey[k][r]; s.Soak != nil {
				sk := s.Soak
				soak = append(soak, fmt.Sprintf("| %s | %s | %s | %s / %s | %s / %s | %.2f | %.2f |", k.name, k.label, r,
					ms(sk.ProduceFirst.P99Us), ms(sk.ProduceLast.P99Us), ms(sk.EndToEndFirst.P99Us), ms(sk.EndToEndLast.P99Us),
					sk.ProduceP99Drift, sk.EndToEndP99Drift))
			}
		}
	}
	if len(soak) > 0 {
		b.WriteString("\nSoak: p99 of the first and the last window of the measured time, ms; drift is last / first.\n\n")
		b.WriteString("| workload | broker | round | produce p99 first / last | e2e p99 first / last | produce drift | e2e drift |\n|---|---|---|---|---|---|---|\n")
		b.WriteString(strings.Join(soak, "\n") + "\n")
	}

	refs := []struct {
		title string
		get   func(*Round) (float64, bool)
	}{
		{"fio sequential write, O_DIRECT, bs=1M, QD1, MB/s", func(r *Round) (float64, bool) { return r.fioMBps, r.fioMBps > 0 }},
		{"fio write + fdatasync, bs=4k: fdatasync p99, µs", func(r *Round) (float64, bool) { return r.fioSyncUs, r.fioSyncUs > 0 }},
		{"loopback TCP round trip, p50, µs", func(r *Round) (float64, bool) { return rttOf(r, func(x *RTTResult) float64 { return x.P50Us }) }},
		{"loopback TCP round trip, p99, µs", func(r *Round) (float64, bool) { return rttOf(r, func(x *RTTResult) float64 { return x.P99Us }) }},
		{"loopback TCP round trip, p99.9, µs", func(r *Round) (float64, bool) { return rttOf(r, func(x *RTTResult) float64 { return x.P999Us }) }},
	}
	var refRows []string
	for _, ref := range refs {
		var vals []float64
		for _, rd := range rounds {
			if v, ok := ref.get(rd); ok {
				vals = append(vals, v)
			}
		}
		if len(vals) > 0 {
			refRows = append(refRows, fmt.Sprintf("| %s | %s |", ref.title, minMedMax(vals)))
		}
	}
	// Max throughput against the disk's own bandwidth, per round.
	for _, k := range keys {
		var vals []float64
		for _, rd := range rounds {
			if s := byKey[k][rd.name]; s != nil && s.Mode == "max_throughput" && rd.fioMBps > 0 {
				vals = append(vals, s.Produce.MBPerSec/rd.fioMBps)
			}
		}
		if len(vals) > 0 {
			refRows = append(refRows, fmt.Sprintf("| %s %s: MB/s / fio MB/s | %s |", k.label, k.name, minMedMax(vals)))
		}
	}
	if len(refRows) > 0 {
		b.WriteString("\nReferences measured in the same rounds:\n\n| reference | min / median / max |\n|---|---|\n")
		b.WriteString(strings.Join(refRows, "\n") + "\n")
	}
	_, err := io.WriteString(w, b.String())
	return err
}

func rttOf(r *Round, f func(*RTTResult) float64) (float64, bool) {
	if r.rtt == nil {
		return 0, false
	}
	return f(r.rtt), true
}

func roundNames(rounds []*Round) string {
	var ns []string
	for _, r := range rounds {
		ns = append(ns, r.name)
	}
	return strings.Join(ns, ", ")
}

// minMedMax formats min / median / max (for an even count, the median is
// the mean of the middle two).
func minMedMax(vals []float64) string {
	if len(vals) == 0 {
		return "n/a"
	}
	v := slices.Clone(vals)
	slices.Sort(v)
	med := v[(len(v)-1)/2]
	if len(v)%2 == 0 {
		med = (v[len(v)/2-1] + v[len(v)/2]) / 2
	}
	return fmt.Sprintf("%s / %s / %s", fmtNum(v[0]), fmtNum(med), fmtNum(v[len(v)-1]))
}

// WriteReportPlots writes, for every workload of the rounds, one SVG per
// latency kind with a line for each broker and round: NAME-produce.svg and
// NAME-e2e.svg in dir. It returns the files written.
func WriteReportPlots(dir string, rounds []*Round) ([]string, error) {
	type line struct {
		label string
		path  string
	}
	byName := map[string]map[string][]line{} // name, kind
	for _, rd := range rounds {
		for _, s := range rd.summaries {
			for kind, file := range map[string]string{"produce": s.Files["produce"], "e2e": s.Files["end-to-end"]} {
				if file == "" {
					continue
				}
				if byName[s.Name] == nil {
					byName[s.Name] = map[string][]line{}
				}
				byName[s.Name][kind] = append(byName[s.Name][kind], line{strings.TrimSpace(s.Label + " " + rd.name), filepath.Join(s.dir, file)})
			}
		}
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	var written []string
	for _, name := range sortedKeys(byName) {
		for _, kind := range sortedKeys(byName[name]) {
			lines := byName[name][kind]
			slices.SortFunc(lines, func(a, b line) int { return strings.Compare(a.label, b.label) })
			var series []PlotSeries
			for _, l := range lines {
				f, err := os.Open(l.path)
				if err != nil {
					return written, err
				}
				pts, err := ReadHgrm(f)
				f.Close()
				if err != nil {
					return written, fmt.Errorf("%s: %w", l.path, err)
				}
				series = append(series, PlotSeries{Label: l.label, Points: pts})
			}
			file := filepath.Join(dir, name+"-"+kind+".svg")
			title := fmt.Sprintf("%s: %s latency", name, map[string]string{"produce": "produce", "e2e": "end-to-end"}[kind])
			if err := writeFile(file, func(f *os.File) error { return WritePlot(f, title, series) }); err != nil {
				return written, err
			}
			written = append(written, file)
		}
	}
	return written, nil
}
