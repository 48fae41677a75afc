// Command torture runs a fault-injection campaign against a single sluice
// broker (see package sluice/tools/torture) and exits 1 on any violation.
//
//	go run ./tools/torture/cmd/torture -time 10m -seed 42
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"syscall"
	"time"

	"sluice/tools/torture"
)

func main() {
	seed := flag.Uint64("seed", uint64(time.Now().UnixNano()), "schedule seed; the same seed gives the same faults")
	d := flag.Duration("time", 10*time.Minute, "length of the fault phase (at most 24h)")
	parts := flag.Int("partitions", 3, "partitions of the topic")
	rate := flag.Int("rate", 1000, "records a second per producer")
	dir := flag.String("dir", "", "work dir (kept); default a temp dir removed at the end")
	flag.Parse()

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	ctx, cancel := context.WithTimeout(ctx, *d+10*time.Minute) // the fault phase plus start-up and drain
	defer cancel()
	fmt.Printf("torture: seed %d, %v\n", *seed, *d)
	res, err := torture.Run(ctx, torture.Config{Seed: *seed, Duration: *d, Partitions: int32(*parts), Rate: *rate,
		Dir: *dir, Keep: *dir != "", Log: os.Stdout})
	if res != nil {
		res.Summary(os.Stdout)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "torture:", err)
		os.Exit(2)
	}
	if len(res.Violations) > 0 {
		fmt.Printf("FAIL: rerun with -seed %d\n", res.Seed)
		os.Exit(1)
	}
	fmt.Println("PASS")
}
