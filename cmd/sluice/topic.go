package main

import (
	"context"
	"fmt"
	"io"

	"sluice/tools/cli"
)

// topic runs `sluice topic create|list|describe|alter-config|delete`.
func topic(args []string, out io.Writer) error {
	verb, args, err := subcommand("topic", args, "create|list|describe|alter-config|delete")
	if err != nil {
		return err
	}
	var o cli.Options
	switch verb {
	case "create":
		fs := newFlags("topic create", "topic create NAME... [--partitions N] [--replicas R] [-c k=v ...]")
		o.Bind(fs)
		partitions := fs.Int("partitions", -1, "partitions (-1: the broker's num.partitions)")
		replicas := fs.Int("replicas", -1, "replication factor (-1: the broker's default)")
		var configs cli.KV
		fs.Var(&configs, "c", "topic config `k=v`, e.g. retention.ms=3600000 (repeatable)")
		names, err := cli.Parse(fs, args)
		if err != nil {
			return err
		}
		return withSession(o, out, func(ctx context.Context, s *cli.Session) error {
			return s.TopicCreate(ctx, names, *partitions, *replicas, configs)
		})
	case "list":
		fs := newFlags("topic list", "topic list [--internal]")
		o.Bind(fs)
		internal := fs.Bool("internal", false, "include internal topics")
		pos, err := cli.Parse(fs, args)
		if err == nil {
			err = cli.Positionals(pos)
		}
		if err != nil {
			return err
		}
		return withSession(o, out, func(ctx context.Context, s *cli.Session) error { return s.TopicList(ctx, *internal) })
	case "describe":
		fs := newFlags("topic describe", "topic describe NAME")
		o.Bind(fs)
		pos, err := cli.Parse(fs, args)
		if err == nil {
			err = cli.Positionals(pos, "NAME")
		}
		if err != nil {
			return err
		}
		return withSession(o, out, func(ctx context.Context, s *cli.Session) error { return s.TopicDescribe(ctx, pos[0]) })
	case "alter-config":
		fs := newFlags("topic alter-config", "topic alter-config NAME [-c k=v ...] [--delete k ...]")
		o.Bind(fs)
		var set cli.KV
		var del cli.List
		fs.Var(&set, "c", "set topic config `k=v` (repeatable)")
		fs.Var(&del, "delete", "revert topic config `k` to its default (repeatable)")
		pos, err := cli.Parse(fs, args)
		if err == nil {
			err = cli.Positionals(pos, "NAME")
		}
		if err != nil {
			return err
		}
		return withSession(o, out, func(ctx context.Context, s *cli.Session) error { return s.TopicAlterConfig(ctx, pos[0], set, del) })
	case "delete":
		fs := newFlags("topic delete", "topic delete NAME...")
		o.Bind(fs)
		names, err := cli.Parse(fs, args)
		if err != nil {
			return err
		}
		return withSession(o, out, func(ctx context.Context, s *cli.Session) error { return s.TopicDelete(ctx, names) })
	}
	return fmt.Errorf("topic: unknown verb %q (want create, list, describe, alter-config or delete)", verb)
}
