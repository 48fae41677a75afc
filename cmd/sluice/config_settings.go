package main

import (
	"fmt"
	"math"
	"time"

	"sluice/netio"
)

// The keys a --config file may set, with Kafka's names where Kafka has
// the setting; parseServeArgs and loadProperties apply them.

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
	{key: "sluice.admin.listen", flag: "--admin-listen",
		set: func(c *serveConfig, v string) error { c.AdminListen = v; return nil }},
	{key: "offsets.topic.num.partitions", flag: "--offsets-topic-partitions",
		set:   func(c *serveConfig, v string) (err error) { c.OffsetsTopicPartitions, err = atoi(v); return err },
		check: func(c *serveConfig) error { return inRange(c.OffsetsTopicPartitions, 1, 10000) }},
	{key: "group.initial.rebalance.delay.ms", flag: "--group-initial-rebalance-delay",
		set:   func(c *serveConfig, v string) (err error) { c.GroupInitialRebalanceDelay, err = parseMs(v); return err },
		check: func(c *serveConfig) error { return int32Ms(c.GroupInitialRebalanceDelay, 0) }},
	{key: "group.min.session.timeout.ms", flag: "--group-min-session-timeout",
		set:   func(c *serveConfig, v string) (err error) { c.GroupMinSessionTimeout, err = parseMs(v); return err },
		check: func(c *serveConfig) error { return int32Ms(c.GroupMinSessionTimeout, 0) }},
	{key: "group.max.session.timeout.ms", flag: "--group-max-session-timeout",
		set:   func(c *serveConfig, v string) (err error) { c.GroupMaxSessionTimeout, err = parseMs(v); return err },
		check: func(c *serveConfig) error { return int32Ms(c.GroupMaxSessionTimeout, 0) }},
	{key: "group.max.size", flag: "--group-max-size",
		set:   func(c *serveConfig, v string) (err error) { c.GroupMaxSize, err = atoi(v); return err },
		check: func(c *serveConfig) error { return inRange(c.GroupMaxSize, 1, math.MaxInt32) }},
	{key: "offsets.retention.minutes", flag: "--offsets-retention",
		set:   func(c *serveConfig, v string) (err error) { c.OffsetsRetention, err = parseMinutes(v); return err },
		check: func(c *serveConfig) error { return atLeast(c.OffsetsRetention, time.Minute) }},
}
