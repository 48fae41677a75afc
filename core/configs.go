package core

// What DescribeConfigs reports about each config, and the ranges the alter
// APIs and CreateTopics check values against (validTopicConfigs). Names, types and ranges are
// Apache Kafka 4's (LogConfig), except where the log would read Kafka's
// smallest value as "the default" instead (max.message.bytes and
// index.interval.bytes of 0): those start at 1.

import (
	"fmt"
	"math"
	"slices"
	"strconv"

	"github.com/twmb/franz-go/pkg/kmsg"

	"sluice/disk"
)

// configDef describes one config.
type configDef struct {
	typ kmsg.ConfigType
	// synonym is the broker setting a topic config falls back to, as
	// Kafka names it (the millisecond form where Kafka also has hours).
	synonym  string
	min, max int64 // inclusive bounds of a numeric value
	doc      string
}

// topicConfigDefs has an entry for every name in topicConfigs (a test
// checks that they agree).
var topicConfigDefs = map[string]configDef{
	"cleanup.policy": {typ: kmsg.ConfigTypeList, synonym: "log.cleanup.policy",
		doc: "The retention policy for old log segments: delete discards segments past the retention time or size. (compact is not supported yet.)"},
	"segment.bytes": {typ: kmsg.ConfigTypeInt, synonym: "log.segment.bytes", min: 1 << 20, max: math.MaxInt32,
		doc: "The size of a log segment file; retention deletes whole segments."},
	"segment.ms": {typ: kmsg.ConfigTypeLong, synonym: "log.roll.ms", min: 1, max: math.MaxInt64,
		doc: "The time after which a segment is rolled even if it is not full, so that retention can delete old data."},
	"retention.ms": {typ: kmsg.ConfigTypeLong, synonym: "log.retention.ms", min: -1, max: math.MaxInt64,
		doc: "How long a closed segment is kept, judged by its newest record; -1 keeps data forever."},
	"retention.bytes": {typ: kmsg.ConfigTypeLong, synonym: "log.retention.bytes", min: math.MinInt64, max: math.MaxInt64,
		doc: "The size a partition may grow to before its oldest closed segments are deleted; -1 means no limit."},
	"max.message.bytes": {typ: kmsg.ConfigTypeInt, synonym: "message.max.bytes", min: 1, max: math.MaxInt32,
		doc: "The largest record batch the topic accepts; a larger one is refused with MESSAGE_TOO_LARGE."},
	"index.interval.bytes": {typ: kmsg.ConfigTypeInt, synonym: "log.index.interval.bytes", min: 1, max: math.MaxInt32,
		doc: "How many bytes of batches lie between two entries of the sparse offset index."},
	"flush.messages": {typ: kmsg.ConfigTypeLong, synonym: "log.flush.interval.messages", min: 1, max: math.MaxInt64,
		doc: "fdatasync once this many messages are unsynced; 1 also makes acks=1 and acks=all wait for the sync."},
	"flush.ms": {typ: kmsg.ConfigTypeLong, synonym: "log.flush.interval.ms", min: 0, max: math.MaxInt64,
		doc: "fdatasync data that has been unsynced for this long."},
}

// validTopicConfigs is logConfig plus the ranges of Kafka's LogConfig, for
// configs a client sets. Configs read back from meta.json go through
// logConfig alone, so that a topic stored by an older, more lenient build
// still opens.
func validTopicConfigs(configs map[string]string) (disk.Config, error) {
	c, err := logConfig(configs)
	if err != nil {
		return c, err
	}
	for name, v := range configs {
		if topicConfigDefs[name].typ == kmsg.ConfigTypeList {
			continue
		}
		n, _ := strconv.ParseInt(v, 10, 64) // logConfig parsed it
		if err := checkConfigRange(name, n); err != nil {
			return c, err
		}
	}
	return c, nil
}

// checkConfigRange checks a parsed numeric topic config against its bounds.
func checkConfigRange(name string, n int64) error {
	d, ok := topicConfigDefs[name]
	if !ok || (n >= d.min && n <= d.max) {
		return nil
	}
	if d.max == math.MaxInt64 || (d.typ == kmsg.ConfigTypeInt && d.max == math.MaxInt32) {
		return fmt.Errorf("invalid value %d for configuration %s: value must be at least %d", n, name, d.min)
	}
	return fmt.Errorf("invalid value %d for configuration %s: value must be between %d and %d", n, name, d.min, d.max)
}

// brokerConfig is one broker setting as DescribeConfigs reports it. The
// broker's settings are static: they come from its configuration (flags or
// file) and change only with a restart.
type brokerConfig struct {
	name, value string
	source      kmsg.ConfigSource
	typ         kmsg.ConfigType
	doc         string
}

// brokerConfigs lists the settings this broker has, under Kafka's names:
// those its configuration sets, the fixed ones of a single node, and the
// broker-level defaults that topic configs fall back to.
func (b *Broker) brokerConfigs() []brokerConfig {
	static := kmsg.ConfigSourceStaticBrokerConfig
	maxFrame := b.cfg.MaxFrameBytes
	if maxFrame <= 0 {
		maxFrame = 100 << 20 // netio's default
	}
	cs := []brokerConfig{
		{"node.id", strconv.Itoa(int(b.cfg.NodeID)), static, kmsg.ConfigTypeInt, "This node's id in the cluster."},
		{"broker.id", strconv.Itoa(int(b.cfg.NodeID)), static, kmsg.ConfigTypeInt, "The older name of node.id."},
		{"listeners", "PLAINTEXT://" + b.cfg.Listen, static, kmsg.ConfigTypeString, "The address the broker listens on."},
		{"advertised.listeners", fmt.Sprintf("PLAINTEXT://%s:%d", b.host, b.port), static, kmsg.ConfigTypeString, "The address clients are told to connect to."},
		{"log.dirs", b.cfg.DataDir, static, kmsg.ConfigTypeList, "The directory holding the partition logs and the broker's metadata."},
		{"num.partitions", strconv.Itoa(int(b.cfg.DefaultPartitions)), static, kmsg.ConfigTypeInt, "The partition count of an auto-created topic."},
		{"auto.create.topics.enable", strconv.FormatBool(*b.cfg.AutoCreateTopics), static, kmsg.ConfigTypeBoolean, "Whether a produce, fetch or metadata request for an unknown topic creates it."},
		{"socket.request.max.bytes", strconv.Itoa(maxFrame), static, kmsg.ConfigTypeInt, "The largest request the broker reads."},
		{"sluice.shards", strconv.Itoa(len(b.srv.Loops())), static, kmsg.ConfigTypeInt, "The number of event-loop shards."},
		{"default.replication.factor", "1", kmsg.ConfigSourceDefaultConfig, kmsg.ConfigTypeInt, "A single node keeps one replica of each partition."},
		{"delete.topic.enable", "true", kmsg.ConfigSourceDefaultConfig, kmsg.ConfigTypeBoolean, "Topics can be deleted."},
		{"log.retention.check.interval.ms", strconv.FormatInt(retentionCheckInterval.Milliseconds(), 10), kmsg.ConfigSourceDefaultConfig, kmsg.ConfigTypeLong, "How often retention runs."},
	}
	cs = append(cs, b.groupBrokerConfigs()...)
	for _, name := range sortedTopicConfigNames() {
		d := topicConfigDefs[name]
		cs = append(cs, brokerConfig{d.synonym, topicConfigs[name], kmsg.ConfigSourceDefaultConfig, d.typ, "The default of the topic config " + name + "."})
	}
	return cs
}

// sortedTopicConfigNames returns the supported topic config names in
// order, so that descriptions come out the same every time.
func sortedTopicConfigNames() []string {
	names := make([]string, 0, len(topicConfigs))
	for name := range topicConfigs {
		names = append(names, name)
	}
	slices.Sort(names)
	return names
}
