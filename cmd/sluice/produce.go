package main

import (
	"context"
	"io"

	"sluice/tools/cli"
)

// produce runs `sluice produce TOPIC`: one record per line of in.
func produce(args []string, in io.Reader, out io.Writer) error {
	fs := newFlags("produce", "produce TOPIC [-K SEP] [-H k=v ...] [-p N] [--acks all|1|0] < lines")
	var o cli.Options
	o.Bind(fs)
	a := cli.ProduceArgs{}
	fs.StringVar(&a.KeySeparator, "K", "", "key separator: each line is KEY SEP VALUE (as kcat -K)")
	fs.Var(&a.Headers, "H", "header `k=v` on every record (repeatable)")
	fs.IntVar(&a.Partition, "p", -1, "partition (-1: by key, as Kafka's default partitioner)")
	fs.StringVar(&a.Acks, "acks", "all", "acks: all, 1 or 0")
	pos, err := cli.Parse(fs, args)
	if err == nil {
		err = cli.Positionals(pos, "TOPIC")
	}
	if err != nil {
		return err
	}
	a.Topic = pos[0]
	return withSession(o, out, func(ctx context.Context, s *cli.Session) error { return s.Produce(ctx, a, in) })
}
