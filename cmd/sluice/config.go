package main

import (
	"bufio"
	"fmt"
	"io"
	"math"
	"os"
	"runtime"
	"strings"
	"time"

	"sluice/netio"
)

// serveConfig is what `sluice serve` runs with: the defaults, overridden
// by a --config file, overridden by the flags given.
type serveConfig struct {
	Listen           string // host:port
	AdvertisedAddr   string // host:port; empty: the listen address
	DataDir          string
	NodeID           int
	NumPartitions    int
	AutoCreateTopics bool
	MaxFrameBytes    int
	IdleTimeout      time.Duration
	Shards           int
	Steering         netio.Steering
	ShutdownTimeout  time.Duration
}

// The defaults are Apache Kafka's where a key is Kafka's (except listeners:
// loopback, so that a first run is not reachable from the network).
// deploy/sluice.properties documents them; keep the two in step.
func defaultServeConfig() serveConfig {
	return serveConfig{
		Listen:           "127.0.0.1:9092",
		DataDir:          "./data",
		NumPartitions:    1,
		AutoCreateTopics: true,
		MaxFrameBytes:    100 << 20,
		IdleTimeout:      10 * time.Minute,
		Shards:           runtime.GOMAXPROCS(0),
		Steering:         netio.SteeringAuto,
		ShutdownTimeout:  30 * time.Second,
	}
}

// parseServeArgs reads the flags and the --config file they name. Flags
// are parsed twice: once to find the file, and once more over the file's
// values, so that a flag given wins whatever its position.
func parseServeArgs(args []string) (serveConfig, error) {
	var path string
	c := defaultServeConfig()
	if err := serveFlags(&c, &path).Parse(args); err != nil {
		return c, err
	}
	if path != "" {
		c = defaultServeConfig()
		f, err := os.Open(path)
		if err != nil {
			return c, err
		}
		err = loadProperties(f, path, &c)
		f.Close()
		if err != nil {
			return c, err
		}
		if err := serveFlags(&c, &path).Parse(args); err != nil {
			return c, err
		}
	}
	for _, s := range settings {
		if s.check == nil {
			continue
		}
		if err := s.check(&c); err != nil {
			return c, fmt.Errorf("%s (%s): %w", s.key, s.flag, err)
		}
	}
	return c, nil
}

// setting is one key a --config file may set.
type setting struct {
	key     string
	synonym string // another Kafka name for the same setting
	flag    string // the flag that sets it, for error messages
	// set parses a value from the file.
	set func(c *serveConfig, v string) error
	// check validates the value however it was set; nil: any parsed value
	// will do.
	check func(c *serveConfig) error
}

var settings = []setting{
	{key: "listeners", flag: "--listen",
		set: func(c *serveConfig, v string) (err error) { c.Listen, err = parseListener(v, false); return err }},
	{key: "advertised.listeners", flag: "--advertised-addr",
		set: func(c *serveConfig, v string) (err error) { c.AdvertisedAddr, err = parseListener(v, true); return err }},
	{key: "log.dirs", synonym: "log.dir", flag: "--data-dir", set: setLogDirs},
	{key: "node.id", synonym: "broker.id", flag: "--node-id",
		set:   func(c *serveConfig, v string) (err error) { c.NodeID, err = atoi(v); return err },
		check: func(c *serveConfig) error { return inRange(c.NodeID, 0, math.MaxInt32) }},
	{key: "num.partitions", flag: "--num-partitions",
		set:   func(c *serveConfig, v string) (err error) { c.NumPartitions, err = atoi(v); return err },
		check: func(c *serveConfig) error { return inRange(c.NumPartitions, 1, math.MaxInt32) }},
	{key: "auto.create.topics.enable", flag: "--auto-create-topics",
		set: func(c *serveConfig, v string) (err error) { c.AutoCreateTopics, err = parseBool(v); return err }},
	{key: "socket.request.max.bytes", flag: "--socket-request-max-bytes",
		set:   func(c *serveConfig, v string) (err error) { c.MaxFrameBytes, err = atoi(v); return err },
		check: func(c *serveConfig) error { return inRange(c.MaxFrameBytes, 1, math.MaxInt32) }},
	{key: "connections.max.idle.ms", flag: "--connections-max-idle",
		set:   func(c *serveConfig, v string) (err error) { c.IdleTimeout, err = parseMs(v); return err },
		check: func(c *serveConfig) error { return positive(c.IdleTimeout) }},
	{key: "sluice.shards", flag: "--shards",
		set:   func(c *serveConfig, v string) (err error) { c.Shards, err = atoi(v); return err },
		check: func(c *serveConfig) error { return inRange(c.Shards, 1, math.MaxInt32) }},
	{key: "sluice.steering", flag: "--steering",
		set: func(c *serveConfig, v string) error { c.Steering = netio.Steering(v); return nil },
		check: func(c *serveConfig) error {
			if c.Steering != netio.SteeringAuto && c.Steering != netio.SteeringOff {
				return fmt.Errorf("%q: want %s or %s", c.Steering, netio.SteeringAuto, netio.SteeringOff)
			}
			return nil
		}},
	{key: "sluice.shutdown.timeout.ms", flag: "--shutdown-timeout",
		set:   func(c *serveConfig, v string) (err error) { c.ShutdownTimeout, err = parseMs(v); return err },
		check: func(c *serveConfig) error { return positive(c.ShutdownTimeout) }},
}

// loadProperties applies a server.properties-style file to c: key=value
// lines, blank lines, and comments starting with # or !. Unlike Java's
// Properties it rejects backslashes (escapes, continuation lines) and
// ":" or space as the separator, rather than read them differently from
// Kafka; a key set twice, a key unknown here, and an empty value are
// errors too. name is used in messages.
func loadProperties(r io.Reader, name string, c *serveConfig) error {
	type seenAt struct {
		key, value string
		line       int
	}
	seen := map[string]seenAt{} // by setting key
	sc := bufio.NewScanner(r)
	line := 0
	for sc.Scan() {
		line++
		text := strings.TrimSpace(sc.Text())
		if text == "" || text[0] == '#' || text[0] == '!' {
			continue
		}
		fail := func(format string, args ...any) error {
			return fmt.Errorf("%s:%d: %s", name, line, fmt.Sprintf(format, args...))
		}
		if strings.ContainsRune(text, '\\') {
			return fail("backslash escapes and continuation lines are not supported")
		}
		k, v, ok := strings.Cut(text, "=")
		k, v = strings.TrimSpace(k), strings.TrimSpace(v)
		if !ok || k == "" {
			return fail("want key=value, got %q", text)
		}
		s := lookupSetting(k)
		if s == nil {
			return fail("unknown key %q", k)
		}
		if v == "" {
			return fail("%s: empty value", k)
		}
		if prev, dup := seen[s.key]; dup {
			if prev.key == k {
				return fail("%s set again (first on line %d)", k, prev.line)
			}
			if prev.value != v {
				return fail("%s=%s disagrees with %s=%s on line %d", k, v, prev.key, prev.value, prev.line)
			}
		}
		seen[s.key] = seenAt{k, v, line}
		if err := s.set(c, v); err != nil {
			return fail("%s: %v", k, err)
		}
		if s.check != nil {
			if err := s.check(c); err != nil {
				return fail("%s: %v", k, err)
			}
		}
	}
	if err := sc.Err(); err != nil {
		return fmt.Errorf("%s: after line %d: %w", name, line, err)
	}
	return nil
}

func lookupSetting(k string) *setting {
	for i, s := range settings {
		if k == s.key || k == s.synonym {
			return &settings[i]
		}
	}
	return nil
}
