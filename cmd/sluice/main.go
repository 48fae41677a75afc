// Command sluice is the broker and its tools, as subcommands.
package main

import (
	"errors"
	"flag"
	"fmt"
	"os"
)

const usage = `usage: sluice <command> [flags]

commands:
  serve    run a broker (sluice serve -h for its flags)
  bench    load generator: latency histograms of any Kafka-compatible broker (sluice bench -h)
  topic    create|list|describe|alter-config|delete topics
  produce  produce TOPIC: one record per stdin line
  consume  consume TOPIC: print records
  group    list|describe|reset-offsets consumer groups
  cluster  info: cluster ID, controller and brokers
  log      dump|verify a partition's segment files, offline
  tune     check (--apply: change) host settings; tune disk measures the data dir
`

func main() {
	if len(os.Args) < 2 {
		fmt.Fprint(os.Stderr, usage)
		os.Exit(2)
	}
	var err error
	switch os.Args[1] {
	case "serve":
		err = serve(os.Args[2:])
	case "bench":
		err = benchCmd(os.Args[2:])
	case "topic":
		err = topic(os.Args[2:], os.Stdout)
	case "produce":
		err = produce(os.Args[2:], os.Stdin, os.Stdout)
	case "consume":
		err = consume(os.Args[2:], os.Stdout)
	case "group":
		err = group(os.Args[2:], os.Stdout)
	case "cluster":
		err = cluster(os.Args[2:], os.Stdout)
	case "log":
		err = logTool(os.Args[2:], os.Stdout)
	case "tune":
		err = tuneCmd(os.Args[2:], os.Stdout, "/")
	case "-h", "--help", "help":
		fmt.Print(usage)
		return
	default:
		fmt.Fprintf(os.Stderr, "sluice: unknown command %q\n%s", os.Args[1], usage)
		os.Exit(2)
	}
	if errors.Is(err, flag.ErrHelp) {
		return // the flag package printed the usage
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "sluice:", err)
		os.Exit(1)
	}
}
