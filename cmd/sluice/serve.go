package main

import (
	"context"
	"flag"
	"log/slog"
	"os"
	"os/signal"
	"runtime"
	"syscall"
	"time"

	"sluice/core"
)

func serve(args []string) error {
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	listen := fs.String("listen", "127.0.0.1:9092", "address to listen on for Kafka clients")
	advertised := fs.String("advertised-addr", "", "address clients are told to connect to (default: the listen address)")
	dataDir := fs.String("data-dir", "./data", "directory for partition logs and metadata")
	shards := fs.Int("shards", runtime.GOMAXPROCS(0), "event-loop shards (one per core by default)")
	nodeID := fs.Int("node-id", 0, "this broker's node id")
	partitions := fs.Int("num-partitions", 1, "partitions of an auto-created topic (num.partitions)")
	autoCreate := fs.Bool("auto-create-topics", true, "auto.create.topics.enable")
	maxFrame := fs.Int("socket-request-max-bytes", 100<<20, "largest request accepted (socket.request.max.bytes)")
	shutdownTimeout := fs.Duration("shutdown-timeout", 30*time.Second, "how long SIGTERM waits for in-flight requests")
	if err := fs.Parse(args); err != nil {
		return err
	}
	log := slog.New(slog.NewTextHandler(os.Stderr, nil))
	b, err := core.Start(core.Config{
		NodeID: int32(*nodeID), Listen: *listen, AdvertisedAddr: *advertised, DataDir: *dataDir,
		Shards: *shards, AutoCreateTopics: autoCreate, DefaultPartitions: int32(*partitions),
		MaxFrameBytes: *maxFrame, Logger: log,
	})
	if err != nil {
		return err
	}
	log.Info("sluice serving", "addr", b.Addr(), "dataDir", *dataDir)
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, syscall.SIGINT, syscall.SIGTERM)
	s := <-sig
	log.Info("shutting down", "signal", s.String())
	ctx, cancel := context.WithTimeout(context.Background(), *shutdownTimeout)
	defer cancel()
	return b.Shutdown(ctx)
}
