package main

import (
	"context"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"syscall"

	"sluice/core"
	"sluice/core/admin"
)

func serve(args []string) error {
	cfg, err := parseServeArgs(args)
	if err != nil {
		return err
	}
	level := new(slog.LevelVar) // INFO; /v1/loglevel changes it
	log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: level}))
	var adm *admin.Server
	if cfg.AdminListen != "" && cfg.AdminListen != "off" {
		// Before the broker starts, so that health answers during recovery.
		if adm, err = admin.Listen(admin.Config{Listen: cfg.AdminListen, Level: level, Logger: log}); err != nil {
			return fmt.Errorf("admin server: %w", err)
		}
		defer adm.Shutdown(context.Background())
		log.Info("admin server listening", "addr", adm.Addr())
	}
	b, err := core.Start(core.Config{
		NodeID: int32(cfg.NodeID), Listen: cfg.Listen, AdvertisedAddr: cfg.AdvertisedAddr, DataDir: cfg.DataDir,
		Shards: cfg.Shards, AutoCreateTopics: &cfg.AutoCreateTopics, DefaultPartitions: int32(cfg.NumPartitions),
		MaxFrameBytes: cfg.MaxFrameBytes, IdleTimeout: cfg.IdleTimeout, Steering: cfg.Steering, Logger: log,
		OffsetsTopicPartitions: int32(cfg.OffsetsTopicPartitions), GroupInitialRebalanceDelay: &cfg.GroupInitialRebalanceDelay,
		GroupMinSessionTimeout: cfg.GroupMinSessionTimeout, GroupMaxSessionTimeout: cfg.GroupMaxSessionTimeout,
		GroupMaxSize: cfg.GroupMaxSize, OffsetsRetention: cfg.OffsetsRetention,
	})
	if err != nil {
		return err
	}
	if adm != nil {
		adm.SetBroker(b)
	}
	log.Info("sluice serving", "addr", b.Addr(), "dataDir", cfg.DataDir)
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, syscall.SIGINT, syscall.SIGTERM)
	s := <-sig
	log.Info("shutting down", "signal", s.String())
	ctx, cancel := context.WithTimeout(context.Background(), cfg.ShutdownTimeout)
	defer cancel()
	return b.Shutdown(ctx)
}

// serveFlags binds the flags to c; their defaults, shown by -h, are c's
// values, so bind to defaultServeConfig() for the help to be right.
func serveFlags(c *serveConfig, path *string) *flag.FlagSet {
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	fs.StringVar(path, "config", "", "server.properties-style file (see deploy/sluice.properties); flags given override it")
	fs.StringVar(&c.Listen, "listen", c.Listen, "address to listen on for Kafka clients (listeners)")
	fs.StringVar(&c.AdvertisedAddr, "advertised-addr", c.AdvertisedAddr, "address clients are told to connect to (advertised.listeners; default: the listen address)")
	fs.StringVar(&c.DataDir, "data-dir", c.DataDir, "directory for partition logs and metadata (log.dirs)")
	fs.IntVar(&c.NodeID, "node-id", c.NodeID, "this broker's node id (node.id)")
	fs.IntVar(&c.NumPartitions, "num-partitions", c.NumPartitions, "partitions of an auto-created topic (num.partitions)")
	fs.BoolVar(&c.AutoCreateTopics, "auto-create-topics", c.AutoCreateTopics, "auto.create.topics.enable")
	fs.IntVar(&c.MaxFrameBytes, "socket-request-max-bytes", c.MaxFrameBytes, "largest request accepted (socket.request.max.bytes)")
	fs.DurationVar(&c.IdleTimeout, "connections-max-idle", c.IdleTimeout, "close connections idle this long (connections.max.idle.ms)")
	fs.IntVar(&c.Shards, "shards", c.Shards, "event-loop shards (sluice.shards; one per core by default)")
	fs.StringVar((*string)(&c.Steering), "steering", string(c.Steering), "eBPF connection steering to the receiving CPU's shard, auto or off (sluice.steering)")
	fs.StringVar(&c.AdminListen, "admin-listen", c.AdminListen, "address of the admin HTTP server: metrics, health, latency, log level; \"\" or off disables it (sluice.admin.listen)")
	fs.DurationVar(&c.ShutdownTimeout, "shutdown-timeout", c.ShutdownTimeout, "how long SIGTERM waits for in-flight requests (sluice.shutdown.timeout.ms)")
	fs.IntVar(&c.OffsetsTopicPartitions, "offsets-topic-partitions", c.OffsetsTopicPartitions, "partitions of __consumer_offsets when it is created (offsets.topic.num.partitions)")
	fs.DurationVar(&c.GroupInitialRebalanceDelay, "group-initial-rebalance-delay", c.GroupInitialRebalanceDelay, "how long a new group's first rebalance waits for more members (group.initial.rebalance.delay.ms)")
	fs.DurationVar(&c.GroupMinSessionTimeout, "group-min-session-timeout", c.GroupMinSessionTimeout, "shortest session timeout a group member may ask for (group.min.session.timeout.ms)")
	fs.DurationVar(&c.GroupMaxSessionTimeout, "group-max-session-timeout", c.GroupMaxSessionTimeout, "longest session timeout a group member may ask for (group.max.session.timeout.ms)")
	fs.IntVar(&c.GroupMaxSize, "group-max-size", c.GroupMaxSize, "most members a group may have (group.max.size)")
	fs.DurationVar(&c.OffsetsRetention, "offsets-retention", c.OffsetsRetention, "how long the offsets of a group without members are kept (offsets.retention.minutes)")
	return fs
}
