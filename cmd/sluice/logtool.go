package main

import (
	"fmt"
	"io"

	"sluice/tools/cli"
	"sluice/tools/logtool"
)

// logTool runs `sluice log dump|verify PATH`, offline on segment files.
func logTool(args []string, out io.Writer) error {
	verb, args, err := subcommand("log", args, "dump|verify")
	if err != nil {
		return err
	}
	if verb != "dump" && verb != "verify" {
		return fmt.Errorf("log: unknown verb %q (want dump or verify)", verb)
	}
	fs := newFlags("log "+verb, "log "+verb+" PARTITION-DIR|SEGMENT.log [--format table|json]")
	format := fs.String("format", "table", "output: table or json")
	pos, err := cli.Parse(fs, args)
	if err == nil {
		err = cli.Positionals(pos, "PATH")
	}
	if err != nil {
		return err
	}
	if verb == "dump" {
		return logtool.Dump(pos[0], *format, out)
	}
	if err := logtool.Verify(pos[0], *format, out); err != nil {
		return fmt.Errorf("log verify: %w", err)
	}
	return nil
}
