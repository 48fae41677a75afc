package main

import (
	"fmt"
	"io"
	"path/filepath"

	"sluice/tools/cli"
	"sluice/tools/tune"
)

// tuneCmd runs `sluice tune [--apply]` and `sluice tune disk` on the host
// under root ("/" outside tests).
func tuneCmd(args []string, out io.Writer, root string) error {
	if len(args) > 0 && args[0] == "disk" {
		return tuneDisk(args[1:], out)
	}
	fs := newFlags("tune", "tune [--data-dir DIR] [--apply] [--format table|json]  |  sluice tune disk --data-dir DIR")
	dataDir := fs.String("data-dir", "", "the broker's data directory (log.dirs), for the filesystem checks")
	apply := fs.Bool("apply", false, "make the fixable changes (sysfs/procfs writes, undone by a reboot)")
	format := fs.String("format", "table", "output: table or json")
	pos, err := cli.Parse(fs, args)
	if err == nil {
		err = cli.Positionals(pos)
	}
	if err != nil {
		return err
	}
	dir, err := resolveDir(*dataDir, root)
	if err != nil {
		return err
	}
	checks := tune.Run(tune.Host{Root: root}, tune.Options{DataDir: dir, Apply: *apply})
	return tune.Print(out, checks, *format)
}

// resolveDir makes dir absolute with symlinks resolved on the real host, so
// it can be matched against mount points; under a fake root it is used as
// given.
func resolveDir(dir, root string) (string, error) {
	if dir == "" || root != "/" {
		return dir, nil
	}
	abs, err := filepath.Abs(dir)
	if err != nil {
		return "", err
	}
	real, err := filepath.EvalSymlinks(abs)
	if err != nil {
		return "", fmt.Errorf("tune: --data-dir: %w", err)
	}
	return real, nil
}

func tuneDisk(args []string, out io.Writer) error {
	fs := newFlags("tune disk", "tune disk --data-dir DIR [--format table|json]")
	dataDir := fs.String("data-dir", "", "the broker's data directory (log.dirs); the profile is stored there")
	b := tune.DefaultDiskBounds
	fs.DurationVar(&b.WriteDuration, "write-duration", b.WriteDuration, "bound of the sequential write phase")
	fs.Int64Var(&b.MaxWriteBytes, "max-write-bytes", b.MaxWriteBytes, "bound of the bytes written (and fallocated)")
	fs.DurationVar(&b.SyncDuration, "sync-duration", b.SyncDuration, "bound of the write+fdatasync phase")
	format := fs.String("format", "table", "output: table or json")
	pos, err := cli.Parse(fs, args)
	if err == nil {
		err = cli.Positionals(pos)
	}
	if err == nil && *dataDir == "" {
		err = fmt.Errorf("tune disk: --data-dir is required")
	}
	if err != nil {
		return err
	}
	p, err := tune.MeasureDisk(*dataDir, b)
	if err != nil {
		return err
	}
	return tune.PrintProfile(out, p, *format)
}
