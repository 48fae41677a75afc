package main

import (
	"context"
	"io"

	"sluice/tools/cli"
)

// consume runs `sluice consume TOPIC`.
func consume(args []string, out io.Writer) error {
	fs := newFlags("consume", "consume TOPIC [-o start|end|N | --timestamp T] [-n COUNT] [-e] [-p N] [--group G] [--format table|json|TEMPLATE]")
	var o cli.Options
	o.Bind(fs)
	var a cli.ConsumeArgs
	fs.StringVar(&a.Offset, "o", "", "start at: start, end or an offset (default start)")
	fs.StringVar(&a.Offset, "offset", "", "same as -o")
	fs.StringVar(&a.Timestamp, "timestamp", "", "start at the first record at or after this time (RFC 3339 or Unix ms)")
	fs.IntVar(&a.Count, "n", 0, "exit after this many records (0: no limit)")
	fs.BoolVar(&a.ExitAtEnd, "e", false, "exit at the end of the log as it was at the start")
	fs.IntVar(&a.Partition, "p", -1, "only this partition (-1: all)")
	fs.StringVar(&a.Group, "group", "", "consume as a member of this consumer group, committing what is printed")
	fs.Lookup("format").Usage = "output: table, json (a line per record) or a template: %t topic, %p partition, %o offset, %k key, %v value, %h headers, %T timestamp ms, \\n"
	pos, err := cli.Parse(fs, args)
	if err == nil {
		err = cli.Positionals(pos, "TOPIC")
	}
	if err != nil {
		return err
	}
	a.Topic = pos[0]
	return withSession(o, out, func(ctx context.Context, s *cli.Session) error { return s.Consume(ctx, a) })
}
