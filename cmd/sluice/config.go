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
	AdminListen      string // host:port of the admin HTTP server; "" or "off": none

	// The group coordinator's.
	OffsetsTopicPartitions     int
	GroupInitialRebalanceDelay time.Duration
	GroupMinSessionTimeout     time.Duration
	GroupMaxSessionTimeout     time.Duration
	GroupMaxSize               int
	OffsetsRetention           time.Duration
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
		AdminListen:      "127.0.0.1:9644",

		OffsetsTopicPartitions:     16, // not Kafka's 50: see core/groups.go
		GroupInitialRebalanceDelay: 3 * time.Second,
		GroupMinSessionTimeout:     6 * time.Second,
		GroupMaxSessionTimeout:     30 * time.Minute,
		GroupMaxSize:               math.MaxInt32,
		OffsetsRetention:           7 * 24 * time.Hour,
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
	// Checked once everything is read, since either may come first.
	if c.GroupMaxSessionTimeout < c.GroupMinSessionTimeout {
		return c, fmt.Errorf("group.max.session.timeout.ms (%v) is below group.min.session.timeout.ms (%v)", c.GroupMaxSessionTimeout, c.GroupMinSessionTimeout)
	}
	return c, nil
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
