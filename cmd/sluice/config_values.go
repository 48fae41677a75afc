package main

import (
	"errors"
	"fmt"
	"math"
	"net"
	"net/netip"
	"strconv"
	"strings"
	"time"
)

// Parsers for the values of a --config file, in Kafka's formats.

// parseListener turns Kafka's "PLAINTEXT://host:port" into host:port. An
// empty host binds every interface, as in Kafka; an advertised address
// must name one.
func parseListener(v string, advertised bool) (string, error) {
	if strings.Contains(v, ",") {
		return "", errors.New("one listener only: sluice serves a single PLAINTEXT listener for now")
	}
	proto, hostport, ok := strings.Cut(v, "://")
	if !ok {
		return "", fmt.Errorf("%q: want PLAINTEXT://host:port", v)
	}
	if !strings.EqualFold(proto, "PLAINTEXT") {
		return "", fmt.Errorf("listener %s: only PLAINTEXT is supported (no SSL, SASL or named listeners yet)", proto)
	}
	host, port, err := net.SplitHostPort(hostport)
	if err != nil {
		return "", fmt.Errorf("%q: %w", v, err)
	}
	if _, err := strconv.ParseUint(port, 10, 16); err != nil {
		return "", fmt.Errorf("%q: port %q is not a number from 0 to 65535", v, port)
	}
	if a, err := netip.ParseAddr(host); advertised && (host == "" || (err == nil && a.IsUnspecified())) {
		return "", fmt.Errorf("%q: clients cannot connect to an unspecified address; name a host", v)
	}
	if host == "" {
		host = "0.0.0.0"
	}
	return net.JoinHostPort(host, port), nil
}

// setLogDirs takes Kafka's comma-separated list, of which sluice uses one
// directory for now.
func setLogDirs(c *serveConfig, v string) error {
	var dirs []string
	for d := range strings.SplitSeq(v, ",") {
		if d = strings.TrimSpace(d); d != "" {
			dirs = append(dirs, d)
		}
	}
	if len(dirs) != 1 {
		return fmt.Errorf("one directory only, got %d", len(dirs))
	}
	c.DataDir = dirs[0]
	return nil
}

// parseBool accepts what Kafka does: true or false, in any case.
func parseBool(v string) (bool, error) {
	switch {
	case strings.EqualFold(v, "true"):
		return true, nil
	case strings.EqualFold(v, "false"):
		return false, nil
	}
	return false, fmt.Errorf("%q: want true or false", v)
}

func parseMs(v string) (time.Duration, error) {
	ms, err := strconv.ParseInt(v, 10, 64)
	if err != nil {
		return 0, fmt.Errorf("%q is not a whole number of milliseconds", v)
	}
	if ms > math.MaxInt64/int64(time.Millisecond) || ms < math.MinInt64/int64(time.Millisecond) {
		return 0, fmt.Errorf("%d ms is too long", ms)
	}
	return time.Duration(ms) * time.Millisecond, nil
}

func atoi(v string) (int, error) {
	n, err := strconv.Atoi(v)
	if err != nil {
		return 0, fmt.Errorf("%q is not a whole number", v)
	}
	return n, nil
}

func inRange(v, lo, hi int) error {
	if v < lo || v > hi {
		return fmt.Errorf("%d is out of range [%d, %d]", v, lo, hi)
	}
	return nil
}

func positive(d time.Duration) error {
	if d <= 0 {
		return fmt.Errorf("%v: must be positive", d)
	}
	return nil
}

// parseMinutes reads a whole number of minutes (offsets.retention.minutes).
func parseMinutes(v string) (time.Duration, error) {
	m, err := strconv.ParseInt(v, 10, 64)
	if err != nil {
		return 0, fmt.Errorf("%q is not a whole number of minutes", v)
	}
	if m > math.MaxInt64/int64(time.Minute) || m < math.MinInt64/int64(time.Minute) {
		return 0, fmt.Errorf("%d minutes is too long", m)
	}
	return time.Duration(m) * time.Minute, nil
}

// int32Ms checks a duration Kafka keeps as an int of milliseconds: at
// least lo and at most 2^31-1 ms.
func int32Ms(d, lo time.Duration) error {
	if d < lo || d.Milliseconds() > math.MaxInt32 {
		return fmt.Errorf("%v is out of range [%v, %v]", d, lo, time.Duration(math.MaxInt32)*time.Millisecond)
	}
	return nil
}

func atLeast(d, lo time.Duration) error {
	if d < lo {
		return fmt.Errorf("%v: must be at least %v", d, lo)
	}
	return nil
}
