package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"sluice/bench"
)

const benchUsage = `usage:
  sluice bench --brokers HOST:PORT[,...] --workload FILE [--duration D] --out DIR [--FIELD VALUE ...]
  sluice bench report --in DIR [--plots DIR] [--ratio A/B]
  sluice bench plot --out FILE.svg [--title T] LABEL=FILE.hgrm ...
  sluice bench rtt --out DIR [--count N] [--size BYTES]

Workload files are in bench/workloads/; every workload field is also a flag
(--message-size 4096, --topic-configs '{flush.messages: 1}'). Ctrl-C stops a
run and writes what was measured so far.
`

// benchCmd is `sluice bench`; the logic is in package bench.
func benchCmd(args []string) error {
	if len(args) > 0 {
		switch args[0] {
		case "report":
			return benchReport(args[1:])
		case "plot":
			return benchPlot(args[1:])
		case "rtt":
			return benchRTT(args[1:])
		}
	}
	fs := flag.NewFlagSet("bench", flag.ContinueOnError)
	fs.Usage = func() { fmt.Fprint(fs.Output(), benchUsage, "\nflags:\n"); fs.PrintDefaults() }
	brokers := fs.String("brokers", "127.0.0.1:9092", "bootstrap brokers, comma separated")
	file := fs.String("workload", "", "workload file (default: the built-in defaults)")
	out := fs.String("out", "", "directory for the results (default bench-NAME-TIME)")
	label := fs.String("label", "", "which broker this measures, in outputs and tables (e.g. sluice, kfake)")
	run := fs.String("run", "", "which repetition this is, in outputs and tables (e.g. round-1)")
	quiet := fs.Bool("quiet", false, "no progress line")
	var overrides [][2]string
	for _, f := range bench.Fields() {
		fs.Func(f.Flag, "workload: "+f.Help, func(v string) error {
			overrides = append(overrides, [2]string{f.Name, v})
			return nil
		})
	}
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("bench: unexpected arguments %q", fs.Args())
	}
	w := bench.DefaultWorkload()
	if *file != "" {
		var err error
		if w, err = bench.LoadWorkload(*file); err != nil {
			return err
		}
	}
	for _, kv := range overrides {
		if err := w.Set(kv[0], kv[1]); err != nil {
			return err
		}
	}
	if *out == "" {
		*out = fmt.Sprintf("bench-%s-%s", w.Name, time.Now().UTC().Format("20060102T150405Z"))
	}
	o := bench.Options{Brokers: strings.Split(*brokers, ","), Out: *out, Label: *label, Run: *run, Command: os.Args}
	if !*quiet {
		o.Progress = os.Stderr
	}
	// The first Ctrl-C stops the run cleanly; a second one kills it.
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	go func() { <-ctx.Done(); stop() }()
	s, err := bench.Run(ctx, w, o)
	if s != nil {
		fmt.Printf("%s\n%s\n", bench.MarkdownHeader(), bench.MarkdownRow(s))
		fmt.Fprintf(os.Stderr, "results in %s\n", *out)
	}
	return err
}

func benchReport(args []string) error {
	fs := flag.NewFlagSet("bench report", flag.ContinueOnError)
	in := fs.String("in", "", "directory of round directories (ROUND/.../summary.json, rtt.json, fio-*.json)")
	plots := fs.String("plots", "", "also write SVG plots per workload into this directory")
	ratio := fs.String("ratio", "sluice/kfake", "labels A/B to compare; empty for none")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *in == "" {
		return errors.New("bench report: --in is required")
	}
	rounds, err := bench.LoadRounds(*in)
	if err != nil {
		return err
	}
	a, b, _ := strings.Cut(*ratio, "/")
	if err := bench.WriteReport(os.Stdout, rounds, a, b); err != nil {
		return err
	}
	if *plots != "" {
		files, err := bench.WriteReportPlots(*plots, rounds)
		for _, f := range files {
			fmt.Fprintln(os.Stderr, "wrote", f)
		}
		return err
	}
	return nil
}

func benchPlot(args []string) error {
	fs := flag.NewFlagSet("bench plot", flag.ContinueOnError)
	out := fs.String("out", "", "SVG file to write")
	title := fs.String("title", "latency by percentile", "plot title")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *out == "" || fs.NArg() == 0 {
		return errors.New("bench plot: --out and at least one LABEL=FILE.hgrm are required")
	}
	var series []bench.PlotSeries
	for _, arg := range fs.Args() {
		label, path, ok := strings.Cut(arg, "=")
		if !ok {
			label, path = strings.TrimSuffix(filepath.Base(arg), ".hgrm"), arg
		}
		f, err := os.Open(path)
		if err != nil {
			return err
		}
		pts, err := bench.ReadHgrm(f)
		f.Close()
		if err != nil {
			return fmt.Errorf("%s: %w", path, err)
		}
		series = append(series, bench.PlotSeries{Label: label, Points: pts})
	}
	f, err := os.Create(*out)
	if err != nil {
		return err
	}
	if err := bench.WritePlot(f, *title, series); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

func benchRTT(args []string) error {
	fs := flag.NewFlagSet("bench rtt", flag.ContinueOnError)
	out := fs.String("out", "", "directory for rtt.hgrm and rtt.json")
	count := fs.Int("count", 100000, "round trips")
	size := fs.Int("size", 64, "message bytes")
	run := fs.String("run", "", "which repetition this is (e.g. round-1)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *out == "" {
		return errors.New("bench rtt: --out is required")
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	h, err := bench.LoopbackRTT(ctx, *count, *size)
	if err != nil {
		return err
	}
	r, err := bench.WriteRTT(*out, *run, *size, h)
	fmt.Printf("loopback TCP round trip, %d B, %d times: p50 %.1f µs, p99 %.1f µs, p99.9 %.1f µs, max %.1f µs\n",
		r.Bytes, r.Count, r.P50Us, r.P99Us, r.P999Us, r.MaxUs)
	return err
}
