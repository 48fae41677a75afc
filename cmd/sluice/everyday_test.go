package main

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"sluice/core"
)

// readmeCommand is one `./sluice ...` line of the README's "Everyday
// commands", split as a shell would, with what a printf before it pipes in.
type readmeCommand struct {
	line  string
	args  []string
	stdin string
}

func readmeCommands(t *testing.T) []readmeCommand {
	t.Helper()
	raw, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	_, section, ok := strings.Cut(string(raw), "\n## Everyday commands\n")
	if !ok {
		t.Fatal(`README.md has no "## Everyday commands" section`)
	}
	section, _, _ = strings.Cut(section, "\n## ")
	var cmds []readmeCommand
	for _, line := range strings.Split(section, "\n") {
		if !strings.HasPrefix(line, "    ") || !strings.Contains(line, "./sluice ") {
			continue
		}
		line = strings.TrimSpace(line)
		c := readmeCommand{line: line}
		cmd := line
		if pipe, rest, ok := strings.Cut(line, " | "); ok {
			words := shellWords(t, pipe)
			if len(words) != 2 || words[0] != "printf" {
				t.Fatalf("README line %q: only printf '...' | ./sluice is understood here", line)
			}
			c.stdin = strings.NewReplacer(`\n`, "\n", `\t`, "\t").Replace(words[1])
			cmd = rest
		}
		c.args = shellWords(t, cmd)
		if c.args[0] != "./sluice" {
			t.Fatalf("README line %q does not run ./sluice", line)
		}
		c.args = c.args[1:]
		cmds = append(cmds, c)
	}
	return cmds
}

// shellWords splits s at spaces outside single quotes, which is all the
// quoting the README uses.
func shellWords(t *testing.T, s string) []string {
	var words []string
	var w strings.Builder
	inWord, quoted := false, false
	for _, r := range s {
		switch {
		case r == '\'':
			quoted, inWord = !quoted, true
		case r == ' ' && !quoted:
			if inWord {
				words = append(words, w.String())
				w.Reset()
				inWord = false
			}
		default:
			w.WriteRune(r)
			inWord = true
		}
	}
	if quoted {
		t.Fatalf("unbalanced quote in %q", s)
	}
	if inWord {
		words = append(words, w.String())
	}
	return words
}

// TestEverydayCommands runs the README's everyday commands as written, in
// order, through the same functions main calls, against a broker started
// in-process, and checks what each prints; the log commands then read the
// broker's data directory once it has stopped. A README command without a
// check here fails the test, so the README cannot show one untested.
func TestEverydayCommands(t *testing.T) {
	dataDir := t.TempDir()
	noDelay := time.Duration(0)
	b, err := core.Start(core.Config{Listen: "127.0.0.1:0", DataDir: dataDir, Shards: 2,
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil)), GroupInitialRebalanceDelay: &noDelay})
	if err != nil {
		t.Fatal(err)
	}
	running := true
	stop := func() {
		if running {
			running = false
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			if err := b.Shutdown(ctx); err != nil {
				t.Error(err)
			}
		}
	}
	defer stop()

	ts := `\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z`
	// Each check is a list of regular expressions, each to match a line
	// of the output (spaces stand for any run of them), in order.
	checks := map[string][]string{
		"./sluice topic create orders clicks --partitions 3 -c retention.ms=86400000": {
			"TOPIC ID PARTITIONS REPLICAS", `orders \S+ 3 1`, `clicks \S+ 3 1`},
		"./sluice topic list": {"TOPIC ID PARTITIONS REPLICAS", `clicks \S+ 3 1`, `orders \S+ 3 1`},
		"./sluice topic describe orders": {"topic: orders", "partitions: 3", "PARTITION LEADER EPOCH REPLICAS ISR LOG-START HIGH-WATERMARK ERROR",
			"0 0 0 0 0 0 0", "CONFIG VALUE SOURCE", "retention.ms 86400000 DYNAMIC_TOPIC_CONFIG"},
		"./sluice topic alter-config orders -c retention.ms=3600000 --delete segment.ms": {
			"CONFIG VALUE SOURCE", "retention.ms 3600000 DYNAMIC_TOPIC_CONFIG", "segment.ms 604800000 DEFAULT_CONFIG"},
		"./sluice topic delete clicks": {"DELETED ID", `clicks \S+`},
		`printf 'k1:hello\nk2:world\n' | ./sluice produce orders -K: -H source=cli`: {
			"TOPIC PARTITION RECORDS FIRST-OFFSET LAST-OFFSET", `orders \d 1 0 0`, `orders \d 1 0 0`},
		`printf 'a\nb\nc\n' | ./sluice produce orders -p 0 --acks 1`: {
			"TOPIC PARTITION RECORDS FIRST-OFFSET LAST-OFFSET", `orders 0 3 \d \d`},
		"./sluice consume orders -e": {"PARTITION OFFSET TIMESTAMP KEY VALUE HEADERS", `0 \d ` + ts + ` a`,
			`0 \d ` + ts + ` b`, `0 \d ` + ts + ` c`},
		`./sluice consume orders -e --format '%p:%o %k=%v %h\n'`: {`\d:0 k[12]=(hello|world) source=cli`, `\d:\d k[12]=(hello|world) source=cli`},
		"./sluice consume orders -p 0 -o 1 -n 2 --format json": {`\{"topic":"orders","partition":0,"offset":1,"timestamp":\d+,"key":.*`,
			`\{"topic":"orders","partition":0,"offset":2,.*`},
		"./sluice consume orders --timestamp 2025-01-01T00:00:00Z -e": {"PARTITION OFFSET TIMESTAMP KEY VALUE HEADERS",
			`\d \d ` + ts + ` .*`, `\d \d .*`, `\d \d .*`, `\d \d .*`, `\d \d .*`},
		"./sluice consume orders --group billing -n 3": {"PARTITION OFFSET TIMESTAMP KEY VALUE HEADERS", `\d \d .*`, `\d \d .*`, `\d \d .*`},
		"./sluice group list":                          {"GROUP STATE PROTOCOL-TYPE COORDINATOR", "billing Empty consumer 0"},
		"./sluice group describe billing": {"group: billing", "state: Empty", "members: 0",
			"TOPIC PARTITION COMMITTED LOG-END LAG MEMBER ERROR", `orders 0 -?\d+ \d+ \d+`},
		"./sluice group reset-offsets billing --topic orders --to-earliest": {"TOPIC PARTITION OLD NEW",
			`orders 0 -?\d+ 0`, `orders 1 -?\d+ 0`, `orders 2 -?\d+ 0`},
		"./sluice cluster info --format json": {`  "cluster_id": "[\w-]{22}",`, `  "controller": 0,`},
		"./sluice log dump data/orders-0": {"00000000000000000000.log",
			"POSITION OFFSET COUNT SIZE EPOCH BASE-TIMESTAMP MAX-TIMESTAMP PRODUCER-ID PRODUCER-EPOCH SEQ CODEC CRC",
			`0 0 \d+ \d+ 0 ` + ts + ` ` + ts + ` .* none ok`},
		"./sluice log verify data/orders-0": {"SEGMENT BATCHES RECORDS OFFSETS BYTES", `00000000000000000000.log \d+ \d+ 0-\d+ \d+`, "ok: 1 segments, .*"},
	}

	cmds := readmeCommands(t)
	if len(cmds) == 0 {
		t.Fatal("no commands found in the README section")
	}
	seen := map[string]bool{}
	for _, c := range cmds {
		want, ok := checks[c.line]
		if !ok {
			t.Fatalf("README command %q has no check in this test", c.line)
		}
		seen[c.line] = true
		args := c.args
		if args[0] == "log" {
			stop() // the newest batches are on disk once the broker has closed its logs
			for i, a := range args {
				if rest, ok := strings.CutPrefix(a, "data/"); ok {
					args[i] = filepath.Join(dataDir, rest)
				}
			}
		} else {
			args = append(args, "--brokers", b.Addr())
		}
		var out bytes.Buffer
		if err := runCommand(args, strings.NewReader(c.stdin), &out); err != nil {
			t.Fatalf("%s: %v\n%s", c.line, err, out.String())
		}
		matchLines(t, c.line, out.String(), want)
	}
	for line := range checks {
		if !seen[line] {
			t.Errorf("check for %q, which the README no longer shows", line)
		}
	}
}

// runCommand dispatches as main does, for the commands the README shows.
func runCommand(args []string, in io.Reader, out io.Writer) error {
	rest := args[1:]
	switch args[0] {
	case "topic":
		return topic(rest, out)
	case "produce":
		return produce(rest, in, out)
	case "consume":
		return consume(rest, out)
	case "group":
		return group(rest, out)
	case "cluster":
		return cluster(rest, out)
	case "log":
		return logTool(rest, out)
	}
	panic("runCommand: no " + args[0])
}

func matchLines(t *testing.T, what, out string, patterns []string) {
	t.Helper()
	lines := strings.Split(out, "\n")
	i := 0
	for _, p := range patterns {
		re := regexp.MustCompile("^" + strings.ReplaceAll(p, " ", " +") + " *$")
		for i < len(lines) && !re.MatchString(lines[i]) {
			i++
		}
		if i == len(lines) {
			t.Errorf("%s: no line matching %q (in order) in:\n%s", what, p, out)
			return
		}
		i++
	}
}

// TestCommandErrors checks that misuse is one line naming the problem.
func TestCommandErrors(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"topic"}, "usage: sluice topic create|list|describe|alter-config|delete (sluice topic <verb> -h for its flags)"},
		{[]string{"topic", "rename"}, `topic: unknown verb "rename" (want create, list, describe, alter-config or delete)`},
		{[]string{"topic", "describe"}, "missing NAME"},
		{[]string{"topic", "describe", "a", "b"}, `unexpected argument "b"`},
		{[]string{"produce", "t", "--acks", "2"}, `--acks: want all, 1 or 0, got "2"`},
		{[]string{"consume", "t", "--nope"}, "consume: flag provided but not defined: -nope (sluice consume -h lists the flags)"},
		{[]string{"group", "reset-offsets", "g", "--topic", "t"}, "give one of --to-earliest, --to-latest or --to-offset N"},
		{[]string{"cluster", "status"}, `cluster: unknown verb "status" (want info)`},
		{[]string{"log", "verify", "/nonexistent"}, "log verify: stat /nonexistent: no such file or directory"},
		{[]string{"topic", "list", "--format", "yaml", "--brokers", "127.0.0.1:1"}, `--format: want table or json, got "yaml"`},
	} {
		err := runCommand(tc.args, strings.NewReader(""), io.Discard)
		if err == nil || err.Error() != tc.want || strings.Contains(err.Error(), "\n") {
			t.Errorf("%q: %v, want %s", tc.args, err, tc.want)
		}
	}
}
