package cli

import (
	"errors"
	"flag"
	"io"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
)

// TestParse covers flags before, between and after positionals, kcat-style
// attached values, "--", and the one-line errors.
func TestParse(t *testing.T) {
	tests := []struct {
		args    []string
		pos     []string
		k, h, o string
		n       int
		e       bool
		err     string
	}{
		{args: []string{"t", "-K:", "-n5"}, pos: []string{"t"}, k: ":", n: 5},
		{args: []string{"-K", "::", "t", "-e", "-Hk=v"}, pos: []string{"t"}, k: "::", h: "k=v", e: true},
		{args: []string{"--offset", "3", "a", "b"}, pos: []string{"a", "b"}, o: "3"},
		{args: []string{"-offset=end", "a", "--", "-n", "x"}, pos: []string{"a", "-n", "x"}, o: "end"},
		{args: []string{"-n", "-1", "a"}, pos: []string{"a"}, n: -1},
		{args: []string{"a", "-x"}, err: "consume: flag provided but not defined: -x (sluice consume -h lists the flags)"},
		{args: []string{"-n", "many"}, err: `consume: invalid value "many" for flag -n: parse error (sluice consume -h lists the flags)`},
	}
	for _, tt := range tests {
		fs := flag.NewFlagSet("consume", flag.ContinueOnError)
		fs.SetOutput(io.Discard)
		var k, o string
		var h KV
		var n int
		var e bool
		fs.StringVar(&k, "K", "", "")
		fs.Var(&h, "H", "")
		fs.StringVar(&o, "offset", "", "")
		fs.IntVar(&n, "n", 0, "")
		fs.BoolVar(&e, "e", false, "")
		pos, err := Parse(fs, tt.args)
		if tt.err != "" {
			if err == nil || err.Error() != tt.err {
				t.Errorf("%q: error %v, want %s", tt.args, err, tt.err)
			}
			continue
		}
		if err != nil {
			t.Errorf("%q: %v", tt.args, err)
			continue
		}
		if !reflect.DeepEqual(pos, tt.pos) || k != tt.k || h.String() != tt.h || o != tt.o || n != tt.n || e != tt.e {
			t.Errorf("%q: pos %q K %q H %q offset %q n %d e %v", tt.args, pos, k, h.String(), o, n, e)
		}
	}

	fs := flag.NewFlagSet("topic list", flag.ContinueOnError)
	var help strings.Builder
	fs.SetOutput(&help)
	if _, err := Parse(fs, []string{"-h"}); !errors.Is(err, flag.ErrHelp) || !strings.Contains(help.String(), "Usage of topic list") {
		t.Errorf("-h: %v, printed %q", err, help.String())
	}
	if err := Positionals([]string{"a"}, "NAME", "GROUP"); err == nil || err.Error() != "missing GROUP" {
		t.Errorf("Positionals: %v", err)
	}
	if err := Positionals([]string{"a", "b"}, "NAME"); err == nil || err.Error() != `unexpected argument "b"` {
		t.Errorf("Positionals: %v", err)
	}
	var kv KV
	if err := kv.Set("novalue"); err == nil {
		t.Error("KV accepted a flag without =")
	}
}

// TestBrokersDefault checks --brokers falls back to SLUICE_BROKERS, then
// to the address `make run` listens on.
func TestBrokersDefault(t *testing.T) {
	for _, env := range []string{"", "10.0.0.1:9092,10.0.0.2:9092"} {
		t.Setenv("SLUICE_BROKERS", env)
		var o Options
		fs := flag.NewFlagSet("x", flag.ContinueOnError)
		o.Bind(fs)
		if _, err := Parse(fs, nil); err != nil {
			t.Fatal(err)
		}
		want := env
		if want == "" {
			want = DefaultBrokers
		}
		if o.Brokers != want || o.Format != "table" || o.Timeout != 10*time.Second {
			t.Errorf("SLUICE_BROKERS=%q: %+v", env, o)
		}
	}
	if _, err := Open(Options{Brokers: " , ", Format: "table", Timeout: time.Second}, io.Discard); err == nil {
		t.Error("Open accepted no brokers")
	}
	if _, err := Open(Options{Brokers: "x:1", Format: "yaml", Timeout: time.Second}, io.Discard); err == nil {
		t.Error("Open accepted --format yaml")
	}
}

// TestTemplate checks consume's kcat-style templates and the escapes.
func TestTemplate(t *testing.T) {
	r := &kgo.Record{Topic: "t", Partition: 2, Offset: 41, Key: []byte("k"), Value: []byte("v"),
		Timestamp: time.UnixMilli(1700000000123), Headers: []kgo.RecordHeader{{Key: "a", Value: []byte("1")}, {Key: "b", Value: []byte("2")}}}
	tests := []struct{ format, want, err string }{
		{`%t/%p/%o %k=%v (%s) %h @%T 100%%\n`, "t/2/41 k=v (v) a=1,b=2 @1700000000123 100%\n", ""},
		{`\t%v\\n\x`, "\tv\\n\\x", ""},
		{`%q`, "", "--format: unknown verb %q (want %t %p %o %k %v %h %T)"},
		{`50%`, "", "--format: template ends in %"},
	}
	for _, tt := range tests {
		var b strings.Builder
		p, err := newPrinter(&b, tt.format)
		if tt.err != "" {
			if err == nil || err.Error() != tt.err {
				t.Errorf("%q: %v, want %s", tt.format, err, tt.err)
			}
			continue
		}
		if err != nil {
			t.Fatal(err)
		}
		p.print(r)
		if b.String() != tt.want {
			t.Errorf("%q printed %q, want %q", tt.format, b.String(), tt.want)
		}
	}
}

// TestPrintable checks table cells stay on one line and binary shows as
// escapes, and JSON keeps text as strings and binary as base64.
func TestPrintable(t *testing.T) {
	for in, want := range map[string]string{"plain text": "plain text", "two\nlines": `"two\nlines"`, "\xff\x00": `"\xff\x00"`, "": ""} {
		if got := printable([]byte(in)); got != want {
			t.Errorf("printable(%q) = %s, want %s", in, got, want)
		}
	}
	for _, tc := range []struct {
		in   jsonBytes
		want string
	}{{nil, "null"}, {jsonBytes("héllo"), `"héllo"`}, {jsonBytes{0xff, 0}, `{"base64":"/wA="}`}} {
		if got, _ := tc.in.MarshalJSON(); string(got) != tc.want {
			t.Errorf("%q as JSON: %s, want %s", tc.in, got, tc.want)
		}
	}
}

// TestParseResetTo checks exactly one target is required.
func TestParseResetTo(t *testing.T) {
	if to, err := ParseResetTo(false, false, "42"); err != nil || to != (ResetTo{"offset", 42}) {
		t.Errorf("--to-offset 42: %+v %v", to, err)
	}
	if to, err := ParseResetTo(true, false, ""); err != nil || to.Kind != "earliest" {
		t.Errorf("--to-earliest: %+v %v", to, err)
	}
	for _, bad := range []struct {
		e, l bool
		o    string
	}{{false, false, ""}, {true, true, ""}, {false, true, "3"}, {false, false, "-3"}} {
		if _, err := ParseResetTo(bad.e, bad.l, bad.o); err == nil {
			t.Errorf("ParseResetTo%+v accepted", bad)
		}
	}
}
