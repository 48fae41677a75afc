package disk

import (
	"log/slog"
	"math"
	"time"
)

// Config holds a partition log's settings. Fields named after a Kafka topic
// config take its meaning and default; zero means "the default".
type Config struct {
	SegmentBytes       int64         // segment.bytes: roll when a segment would grow past this (default 1 GiB)
	SegmentMs          time.Duration // segment.ms: roll a segment this old (default 7 days)
	RetentionMs        time.Duration // retention.ms: delete closed segments older than this; negative keeps forever (default 7 days)
	RetentionBytes     int64         // retention.bytes: delete oldest closed segments while the log is larger; 0 or negative: no limit
	MaxMessageBytes    int           // max.message.bytes: the largest batch accepted (default 1048588)
	IndexIntervalBytes int64         // index.interval.bytes: bytes between sparse index entries (default 4096)
	FlushMessages      int64         // flush.messages: fdatasync once this many messages are unsynced; 0: never by count
	FlushMs            time.Duration // flush.ms: fdatasync unsynced data this old; 0: never by time

	// PreallocateBytes is the fallocate step for segment files (default
	// 32 MiB, as Redpanda): the file is extended ahead of the writes so that
	// a data write never has to allocate blocks or log a size change.
	PreallocateBytes int64
	// TailCacheBytes bounds the written bytes kept in memory per partition
	// for reads near the head (default 4 MiB). Unwritten bytes are always
	// in memory and counted against MaxPendingBytes instead.
	TailCacheBytes int64
	// MaxPendingBytes bounds appended-but-unwritten bytes (default 64 MiB).
	// An append past it fails with ErrBackpressure; the broker should stop
	// reading producers long before (see Pending).
	MaxPendingBytes int64
	// HighWatermarkCheckpoint is how often a changed high watermark is
	// persisted (replica.high.watermark.checkpoint.interval.ms, default 5 s).
	HighWatermarkCheckpoint time.Duration

	// OnProgress, if set, is called on the log's writer goroutine after
	// every write round; the broker uses it to wake its event loop and then
	// reads WrittenOffset/DurableOffset. It must not block or call the log's
	// blocking methods.
	OnProgress func()
	// OnSync, if set, is called on the writer goroutine with how long each
	// fdatasync of segment data took (a pwritev2 with RWF_DSYNC counts its
	// write too). It must not block.
	OnSync func(time.Duration)
	Logger *slog.Logger
	Now    func() time.Time // clock seam for tests (default time.Now)
}

const (
	defaultSegmentBytes = 1 << 30
	// maxSegmentBytes keeps positions in a uint32 index entry, as Kafka's
	// int segment.bytes does.
	maxSegmentBytes = math.MaxInt32
	chunkBytes      = 128 << 10
)

func (c Config) withDefaults() Config {
	if c.SegmentBytes <= 0 {
		c.SegmentBytes = defaultSegmentBytes
	}
	c.SegmentBytes = min(c.SegmentBytes, maxSegmentBytes)
	if c.SegmentMs <= 0 {
		c.SegmentMs = 7 * 24 * time.Hour
	}
	if c.RetentionMs == 0 {
		c.RetentionMs = 7 * 24 * time.Hour
	}
	if c.MaxMessageBytes <= 0 {
		c.MaxMessageBytes = 1048588
	}
	if c.IndexIntervalBytes <= 0 {
		c.IndexIntervalBytes = 4096
	}
	if c.PreallocateBytes <= 0 {
		c.PreallocateBytes = 32 << 20
	}
	if c.TailCacheBytes <= 0 {
		c.TailCacheBytes = 4 << 20
	}
	if c.MaxPendingBytes <= 0 {
		c.MaxPendingBytes = 64 << 20
	}
	if c.HighWatermarkCheckpoint <= 0 {
		c.HighWatermarkCheckpoint = 5 * time.Second
	}
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	return c
}
