package group

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"math"
)

// Config holds the coordinator's settings, named after Kafka's.
type Config struct {
	// MinSessionTimeoutMs and MaxSessionTimeoutMs bound the session
	// timeout a member may ask for: group.min.session.timeout.ms and
	// group.max.session.timeout.ms (6 s and 30 min).
	MinSessionTimeoutMs int32
	MaxSessionTimeoutMs int32
	// MaxSize is group.max.size: members per group (Kafka: unbounded,
	// i.e. MaxInt32).
	MaxSize int
	// InitialRebalanceDelayMs is group.initial.rebalance.delay.ms (3 s):
	// how long the first rebalance of an empty group waits for more
	// members before completing. Zero completes at the next Tick.
	InitialRebalanceDelayMs int32
	// OffsetsRetentionMs is offsets.retention.minutes in ms (7 days).
	OffsetsRetentionMs int64
	// OffsetsRetentionCheckIntervalMs is
	// offsets.retention.check.interval.ms (10 min): how often expired
	// offsets are looked for.
	OffsetsRetentionCheckIntervalMs int64
	// MaxMetadataBytes is offset.metadata.max.bytes (4 KiB): longer
	// commit metadata is refused with OFFSET_METADATA_TOO_LARGE.
	MaxMetadataBytes int
	// MemberIDSuffix returns the part of a new member id after the
	// client id (or group.instance.id) and a dash. It must not repeat
	// within a group. Nil means a random UUID, as Kafka does; tests
	// inject a counter so that runs are reproducible.
	MemberIDSuffix func() string
}

// DefaultConfig returns Kafka's defaults.
func DefaultConfig() Config {
	return Config{
		MinSessionTimeoutMs:             6000,
		MaxSessionTimeoutMs:             1800000,
		MaxSize:                         math.MaxInt32,
		InitialRebalanceDelayMs:         3000,
		OffsetsRetentionMs:              7 * 24 * 60 * 60 * 1000,
		OffsetsRetentionCheckIntervalMs: 600000,
		MaxMetadataBytes:                4096,
	}
}

var errConfig = errors.New("invalid group coordinator config")

func (c *Config) validate() error {
	switch {
	case c.MinSessionTimeoutMs < 0 || c.MaxSessionTimeoutMs < c.MinSessionTimeoutMs:
		return fmt.Errorf("%w: session timeouts [%d, %d] ms", errConfig, c.MinSessionTimeoutMs, c.MaxSessionTimeoutMs)
	case c.MaxSize < 1:
		return fmt.Errorf("%w: group.max.size %d", errConfig, c.MaxSize)
	case c.InitialRebalanceDelayMs < 0:
		return fmt.Errorf("%w: group.initial.rebalance.delay.ms %d", errConfig, c.InitialRebalanceDelayMs)
	case c.OffsetsRetentionMs < 1:
		return fmt.Errorf("%w: offsets retention %d ms", errConfig, c.OffsetsRetentionMs)
	case c.OffsetsRetentionCheckIntervalMs < 1:
		return fmt.Errorf("%w: offsets.retention.check.interval.ms %d", errConfig, c.OffsetsRetentionCheckIntervalMs)
	case c.MaxMetadataBytes < 0:
		return fmt.Errorf("%w: offset.metadata.max.bytes %d", errConfig, c.MaxMetadataBytes)
	}
	return nil
}

// randomUUID formats 16 random bytes as a version 4 UUID, the suffix
// Kafka gives member ids.
func randomUUID() string {
	var b [16]byte
	rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	var s [36]byte
	hex.Encode(s[0:8], b[0:4])
	s[8] = '-'
	hex.Encode(s[9:13], b[4:6])
	s[13] = '-'
	hex.Encode(s[14:18], b[6:8])
	s[18] = '-'
	hex.Encode(s[19:23], b[8:10])
	s[23] = '-'
	hex.Encode(s[24:], b[10:])
	return string(s[:])
}
