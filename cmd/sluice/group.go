package main

import (
	"context"
	"fmt"
	"io"

	"sluice/tools/cli"
)

// group runs `sluice group list|describe|reset-offsets`.
func group(args []string, out io.Writer) error {
	verb, args, err := subcommand("group", args, "list|describe|reset-offsets")
	if err != nil {
		return err
	}
	var o cli.Options
	switch verb {
	case "list":
		fs := newFlags("group list", "group list")
		o.Bind(fs)
		pos, err := cli.Parse(fs, args)
		if err == nil {
			err = cli.Positionals(pos)
		}
		if err != nil {
			return err
		}
		return withSession(o, out, func(ctx context.Context, s *cli.Session) error { return s.GroupList(ctx) })
	case "describe":
		fs := newFlags("group describe", "group describe GROUP")
		o.Bind(fs)
		pos, err := cli.Parse(fs, args)
		if err == nil {
			err = cli.Positionals(pos, "GROUP")
		}
		if err != nil {
			return err
		}
		return withSession(o, out, func(ctx context.Context, s *cli.Session) error { return s.GroupDescribe(ctx, pos[0]) })
	case "reset-offsets":
		fs := newFlags("group reset-offsets", "group reset-offsets GROUP --topic T --to-earliest|--to-latest|--to-offset N")
		o.Bind(fs)
		topic := fs.String("topic", "", "the topic whose offsets to reset")
		earliest := fs.Bool("to-earliest", false, "reset to each partition's log start")
		latest := fs.Bool("to-latest", false, "reset to each partition's end")
		offset := fs.String("to-offset", "", "reset to offset `N` (clamped to each partition's range)")
		pos, err := cli.Parse(fs, args)
		if err == nil {
			err = cli.Positionals(pos, "GROUP")
		}
		if err != nil {
			return err
		}
		to, err := cli.ParseResetTo(*earliest, *latest, *offset)
		if err != nil {
			return err
		}
		return withSession(o, out, func(ctx context.Context, s *cli.Session) error {
			return s.GroupResetOffsets(ctx, pos[0], *topic, to)
		})
	}
	return fmt.Errorf("group: unknown verb %q (want list, describe or reset-offsets)", verb)
}
