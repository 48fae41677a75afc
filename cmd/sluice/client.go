package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"

	"sluice/tools/cli"
)

// newFlags makes a subcommand's flag set whose -h shows its synopsis.
func newFlags(name, synopsis string) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), "usage: sluice %s\n\nflags:\n", synopsis)
		fs.PrintDefaults()
	}
	return fs
}

// withSession opens a client session for one command and runs fn with a
// context that Ctrl-C and SIGTERM cancel.
func withSession(o cli.Options, out io.Writer, fn func(context.Context, *cli.Session) error) error {
	s, err := cli.Open(o, out)
	if err != nil {
		return err
	}
	defer s.Close()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	return fn(ctx, s)
}

// subcommand splits "create demo ..." into its verb and the rest, or says
// which verbs there are.
func subcommand(group string, args []string, verbs string) (string, []string, error) {
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" {
		return "", nil, fmt.Errorf("usage: sluice %s %s (sluice %s <verb> -h for its flags)", group, verbs, group)
	}
	return args[0], args[1:], nil
}
