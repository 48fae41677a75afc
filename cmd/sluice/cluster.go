package main

import (
	"context"
	"fmt"
	"io"

	"sluice/tools/cli"
)

// cluster runs `sluice cluster info`.
func cluster(args []string, out io.Writer) error {
	verb, args, err := subcommand("cluster", args, "info")
	if err != nil {
		return err
	}
	if verb != "info" {
		return fmt.Errorf("cluster: unknown verb %q (want info)", verb)
	}
	fs := newFlags("cluster info", "cluster info")
	var o cli.Options
	o.Bind(fs)
	pos, err := cli.Parse(fs, args)
	if err == nil {
		err = cli.Positionals(pos)
	}
	if err != nil {
		return err
	}
	return withSession(o, out, func(ctx context.Context, s *cli.Session) error { return s.ClusterInfo(ctx) })
}
