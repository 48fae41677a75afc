package main

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"sluice/netio"
)

func TestLoadProperties(t *testing.T) {
	for _, tc := range []struct {
		name, file string
		want       func(c *serveConfig) // edits the defaults into what is expected
		err        string               // substring of the error, with its line
	}{
		{name: "empty", file: "", want: func(*serveConfig) {}},
		{name: "comments and blanks", file: "# a comment\n\n! also a comment\n   \n", want: func(*serveConfig) {}},
		{name: "spaces around =", file: "  num.partitions =  3  \n", want: func(c *serveConfig) { c.NumPartitions = 3 }},
		{name: "listener", file: "listeners=PLAINTEXT://0.0.0.0:9093", want: func(c *serveConfig) { c.Listen = "0.0.0.0:9093" }},
		{name: "listener empty host binds all", file: "listeners=PLAINTEXT://:9092", want: func(c *serveConfig) { c.Listen = "0.0.0.0:9092" }},
		{name: "listener IPv6, lower case", file: "listeners=plaintext://[::1]:9092", want: func(c *serveConfig) { c.Listen = "[::1]:9092" }},
		{name: "listener SSL", file: "listeners=SSL://:9093", err: "test.properties:1: listeners: listener SSL: only PLAINTEXT"},
		{name: "listener SASL", file: "\nlisteners=SASL_PLAINTEXT://:9093", err: "test.properties:2: listeners: listener SASL_PLAINTEXT: only PLAINTEXT"},
		{name: "two listeners", file: "listeners=PLAINTEXT://:9092,SSL://:9093", err: ":1: listeners: one listener only"},
		{name: "listener without protocol", file: "listeners=localhost:9092", err: ":1: listeners: \"localhost:9092\": want PLAINTEXT://host:port"},
		{name: "listener bad port", file: "listeners=PLAINTEXT://:99999", err: ":1: listeners: \"PLAINTEXT://:99999\": port"},
		{name: "advertised", file: "advertised.listeners=PLAINTEXT://kafka1.example:9092", want: func(c *serveConfig) { c.AdvertisedAddr = "kafka1.example:9092" }},
		{name: "advertised unspecified", file: "advertised.listeners=PLAINTEXT://0.0.0.0:9092", err: ":1: advertised.listeners: \"PLAINTEXT://0.0.0.0:9092\": clients cannot connect"},
		{name: "advertised empty host", file: "advertised.listeners=PLAINTEXT://:9092", err: ":1: advertised.listeners:"},
		{name: "log.dirs", file: "log.dirs=/var/lib/sluice", want: func(c *serveConfig) { c.DataDir = "/var/lib/sluice" }},
		{name: "log.dir synonym", file: "log.dir=/srv/sluice", want: func(c *serveConfig) { c.DataDir = "/srv/sluice" }},
		{name: "two log.dirs", file: "log.dirs=/a,/b", err: ":1: log.dirs: one directory only, got 2"},
		{name: "node.id", file: "node.id=3", want: func(c *serveConfig) { c.NodeID = 3 }},
		{name: "broker.id synonym", file: "broker.id=4", want: func(c *serveConfig) { c.NodeID = 4 }},
		{name: "node.id and broker.id agree", file: "node.id=5\nbroker.id=5", want: func(c *serveConfig) { c.NodeID = 5 }},
		{name: "node.id and broker.id disagree", file: "node.id=5\nbroker.id=6", err: ":2: broker.id=6 disagrees with node.id=5 on line 1"},
		{name: "key twice", file: "node.id=5\n# again\nnode.id=5", err: ":3: node.id set again (first on line 1)"},
		{name: "node.id negative", file: "node.id=-1", err: ":1: node.id: -1 is out of range"},
		{name: "node.id not a number", file: "node.id=one", err: ":1: node.id: \"one\" is not a whole number"},
		{name: "num.partitions zero", file: "num.partitions=0", err: ":1: num.partitions: 0 is out of range"},
		{name: "auto create off, any case", file: "auto.create.topics.enable=FALSE", want: func(c *serveConfig) { c.AutoCreateTopics = false }},
		{name: "auto create not a bool", file: "auto.create.topics.enable=no", err: ":1: auto.create.topics.enable: \"no\": want true or false"},
		{name: "socket.request.max.bytes", file: "socket.request.max.bytes=1048576", want: func(c *serveConfig) { c.MaxFrameBytes = 1 << 20 }},
		{name: "idle", file: "connections.max.idle.ms=60000", want: func(c *serveConfig) { c.IdleTimeout = time.Minute }},
		{name: "idle zero", file: "connections.max.idle.ms=0", err: ":1: connections.max.idle.ms: 0s: must be positive"},
		{name: "idle overflows", file: "connections.max.idle.ms=-9223372036854775", err: ":1: connections.max.idle.ms: -9223372036854775 ms is too long"},
		{name: "shards", file: "sluice.shards=4", want: func(c *serveConfig) { c.Shards = 4 }},
		{name: "shards zero", file: "sluice.shards=0", err: ":1: sluice.shards: 0 is out of range"},
		{name: "steering off", file: "sluice.steering=off", want: func(c *serveConfig) { c.Steering = netio.SteeringOff }},
		{name: "steering unknown", file: "sluice.steering=on", err: ":1: sluice.steering: \"on\": want auto or off"},
		{name: "shutdown timeout", file: "sluice.shutdown.timeout.ms=5000", want: func(c *serveConfig) { c.ShutdownTimeout = 5 * time.Second }},
		{name: "admin listen", file: "sluice.admin.listen=0.0.0.0:9645", want: func(c *serveConfig) { c.AdminListen = "0.0.0.0:9645" }},
		{name: "admin off", file: "sluice.admin.listen=off", want: func(c *serveConfig) { c.AdminListen = "off" }},
		{name: "offsets partitions", file: "offsets.topic.num.partitions=4", want: func(c *serveConfig) { c.OffsetsTopicPartitions = 4 }},
		{name: "offsets partitions zero", file: "offsets.topic.num.partitions=0", err: ":1: offsets.topic.num.partitions: 0 is out of range"},
		{name: "initial rebalance delay zero", file: "group.initial.rebalance.delay.ms=0", want: func(c *serveConfig) { c.GroupInitialRebalanceDelay = 0 }},
		{name: "initial rebalance delay negative", file: "group.initial.rebalance.delay.ms=-1", err: ":1: group.initial.rebalance.delay.ms: -1ms is out of range"},
		{name: "session timeouts", file: "group.min.session.timeout.ms=1000\ngroup.max.session.timeout.ms=60000",
			want: func(c *serveConfig) { c.GroupMinSessionTimeout, c.GroupMaxSessionTimeout = time.Second, time.Minute }},
		{name: "max session timeout first", file: "group.max.session.timeout.ms=5000\ngroup.min.session.timeout.ms=1000",
			want: func(c *serveConfig) { c.GroupMinSessionTimeout, c.GroupMaxSessionTimeout = time.Second, 5*time.Second }},
		{name: "session timeout past int32", file: "group.max.session.timeout.ms=2147483648", err: ":1: group.max.session.timeout.ms: 596h31m23.648s is out of range"},
		{name: "group max size", file: "group.max.size=10", want: func(c *serveConfig) { c.GroupMaxSize = 10 }},
		{name: "group max size zero", file: "group.max.size=0", err: ":1: group.max.size: 0 is out of range"},
		{name: "offsets retention", file: "offsets.retention.minutes=60", want: func(c *serveConfig) { c.OffsetsRetention = time.Hour }},
		{name: "offsets retention zero", file: "offsets.retention.minutes=0", err: ":1: offsets.retention.minutes: 0s: must be at least 1m0s"},
		{name: "offsets retention overflows", file: "offsets.retention.minutes=999999999999", err: ":1: offsets.retention.minutes: 999999999999 minutes is too long"},
		{name: "unknown key", file: "node.id=1\nlog.retention.hours=168", err: "test.properties:2: unknown key \"log.retention.hours\""},
		{name: "colon separator", file: "num.partitions: 3", err: ":1: want key=value"},
		{name: "no value", file: "num.partitions=", err: ":1: num.partitions: empty value"},
		{name: "no key", file: "=3", err: ":1: want key=value"},
		{name: "continuation", file: "log.dirs=/a,\\\n  /b", err: ":1: backslash"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := defaultServeConfig()
			err := loadProperties(strings.NewReader(tc.file), "test.properties", &c)
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("error %v, want one containing %q", err, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			want := defaultServeConfig()
			tc.want(&want)
			if c != want {
				t.Fatalf("got  %+v\nwant %+v", c, want)
			}
		})
	}
}

func TestFlagsOverrideFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "server.properties")
	file := "listeners=PLAINTEXT://127.0.0.1:9001\nnum.partitions=3\nsluice.shards=1\nauto.create.topics.enable=false\n"
	if err := os.WriteFile(path, []byte(file), 0o644); err != nil {
		t.Fatal(err)
	}
	// Flags before and after --config both win over the file.
	c, err := parseServeArgs([]string{"--num-partitions", "5", "--config", path, "--auto-create-topics"})
	if err != nil {
		t.Fatal(err)
	}
	want := defaultServeConfig()
	want.Listen, want.NumPartitions, want.Shards, want.AutoCreateTopics = "127.0.0.1:9001", 5, 1, true
	if c != want {
		t.Fatalf("got  %+v\nwant %+v", c, want)
	}
}

func TestServeArgsErrors(t *testing.T) {
	for _, tc := range []struct {
		args []string
		err  string
	}{
		{[]string{"--num-partitions", "0"}, "num.partitions (--num-partitions): 0 is out of range"},
		{[]string{"--steering", "on"}, "sluice.steering (--steering): \"on\": want auto or off"},
		{[]string{"--group-min-session-timeout", "1m", "--group-max-session-timeout", "30s"}, "group.max.session.timeout.ms (30s) is below group.min.session.timeout.ms (1m0s)"},
		{[]string{"--config", "/nonexistent/sluice.properties"}, "no such file"},
		{[]string{"--no-such-flag"}, "flag provided but not defined"},
	} {
		if _, err := parseServeArgs(tc.args); err == nil || !strings.Contains(err.Error(), tc.err) {
			t.Errorf("%q: error %v, want one containing %q", tc.args, err, tc.err)
		}
	}
}

// TestExampleFile keeps deploy/sluice.properties in step with the code:
// its active lines are the defaults, and it mentions every key.
func TestExampleFile(t *testing.T) {
	const path = "../../deploy/sluice.properties"
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	c := defaultServeConfig()
	if err := loadProperties(strings.NewReader(string(b)), path, &c); err != nil {
		t.Fatal(err)
	}
	if c != defaultServeConfig() {
		t.Errorf("the example's settings are not the defaults:\ngot  %+v\nwant %+v", c, defaultServeConfig())
	}
	for _, s := range settings {
		for _, k := range []string{s.key, s.synonym} {
			if k != "" && !regexp.MustCompile(`(?m)^#?`+regexp.QuoteMeta(k)+`=`).Match(b) {
				t.Errorf("%s does not document %s", path, k)
			}
		}
	}
}
