package cli

import (
	"bytes"
	"errors"
	"flag"
	"fmt"
	"os"
	"strings"
	"time"
)

// DefaultBrokers is used when neither --brokers nor SLUICE_BROKERS is set:
// the address `make run` listens on.
const DefaultBrokers = "127.0.0.1:9092"

// Options are the flags every networked command takes.
type Options struct {
	Brokers string        // comma-separated host:port seed brokers
	Format  string        // "table" or "json"; consume also takes a template
	Timeout time.Duration // bounds each request round trip a command waits for
}

// Bind registers --brokers, --format and --timeout on fs. The brokers
// default comes from SLUICE_BROKERS, so that a shell can point every
// command at one cluster once.
func (o *Options) Bind(fs *flag.FlagSet) {
	def := os.Getenv("SLUICE_BROKERS")
	if def == "" {
		def = DefaultBrokers
	}
	fs.StringVar(&o.Brokers, "brokers", def, "seed brokers, HOST:PORT[,...] (env SLUICE_BROKERS)")
	fs.StringVar(&o.Format, "format", "table", "output: table or json")
	fs.DurationVar(&o.Timeout, "timeout", 10*time.Second, "give up on the cluster after this long")
}

func (o *Options) seeds() ([]string, error) {
	var out []string
	for _, s := range strings.Split(o.Brokers, ",") {
		if s = strings.TrimSpace(s); s != "" {
			out = append(out, s)
		}
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("--brokers: no broker address given")
	}
	return out, nil
}

// KV collects repeated k=v flags (-c retention.ms=1000 -c ...) in order.
type KV []KeyValue

// KeyValue is one k=v flag value.
type KeyValue struct{ Key, Value string }

func (kv *KV) String() string {
	parts := make([]string, len(*kv))
	for i, p := range *kv {
		parts[i] = p.Key + "=" + p.Value
	}
	return strings.Join(parts, ",")
}

func (kv *KV) Set(s string) error {
	k, v, ok := strings.Cut(s, "=")
	if !ok || k == "" {
		return fmt.Errorf("want key=value, got %q", s)
	}
	*kv = append(*kv, KeyValue{k, v})
	return nil
}

// Map returns the pairs as a map; a key given twice keeps its last value.
func (kv KV) Map() map[string]string {
	m := make(map[string]string, len(kv))
	for _, p := range kv {
		m[p.Key] = p.Value
	}
	return m
}

// List collects a repeated flag's values (--delete a --delete b).
type List []string

func (l *List) String() string     { return strings.Join(*l, ",") }
func (l *List) Set(s string) error { *l = append(*l, s); return nil }

// Parse parses args with flags and positional arguments in any order
// (`topic create demo --partitions 3`), which the flag package alone does
// not: it stops at the first positional. "--" ends the flags. A one-letter
// flag takes its value attached as kcat's do (-K: -n5 -Hk=v). A parse
// error comes back as one line; -h prints the usage and returns
// flag.ErrHelp.
func Parse(fs *flag.FlagSet, args []string) ([]string, error) {
	out := fs.Output()
	var buf bytes.Buffer
	fs.SetOutput(&buf)
	defer fs.SetOutput(out)
	args = splitAttached(fs, args)
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				out.Write(buf.Bytes())
				return nil, err
			}
			return nil, fmt.Errorf("%s: %w (sluice %s -h lists the flags)", fs.Name(), err, fs.Name())
		}
		rest := fs.Args()
		if len(rest) == 0 {
			return pos, nil
		}
		// The flag package consumed a "--" if it ended the flags; then
		// everything left is positional.
		if n := len(args) - len(rest); n > 0 && args[n-1] == "--" {
			return append(pos, rest...), nil
		}
		pos = append(pos, rest[0])
		args = rest[1:]
	}
}

// splitAttached turns -K: into -K : for one-letter flags that take a
// value, unless the whole word names a flag of its own.
func splitAttached(fs *flag.FlagSet, args []string) []string {
	out := make([]string, 0, len(args))
	for i, a := range args {
		if a == "--" {
			return append(out, args[i:]...)
		}
		if len(a) > 2 && a[0] == '-' && a[1] != '-' && a[2] != '=' && fs.Lookup(a[1:]) == nil {
			if f := fs.Lookup(a[1:2]); f != nil && !isBool(f) {
				out = append(out, a[:2], a[2:])
				continue
			}
		}
		out = append(out, a)
	}
	return out
}

func isBool(f *flag.Flag) bool {
	b, ok := f.Value.(interface{ IsBoolFlag() bool })
	return ok && b.IsBoolFlag()
}

// Positionals checks that exactly n positional arguments were given,
// naming them in the error.
func Positionals(pos []string, names ...string) error {
	if len(pos) < len(names) {
		return fmt.Errorf("missing %s", strings.Join(names[len(pos):], " "))
	}
	if len(pos) > len(names) {
		return fmt.Errorf("unexpected argument %q", pos[len(names)])
	}
	return nil
}
