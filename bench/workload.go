package bench

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"reflect"
	"sort"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"
)

// Workload is what a run does, as read from a YAML file in
// bench/workloads/ (field names are the yaml tags; unknown names are an
// error so that a typo does not silently run the defaults). Every field can
// be overridden by a flag of the same name with dashes (Set).
type Workload struct {
	Name        string `yaml:"name" help:"name of the run, in outputs and tables"`
	Description string `yaml:"description" help:"one line on what the workload shows"`

	Topics             int               `yaml:"topics" help:"topics created for the run"`
	PartitionsPerTopic int               `yaml:"partitions_per_topic" help:"partitions of each topic"`
	ReplicationFactor  int               `yaml:"replication_factor" help:"replication factor of each topic"`
	TopicConfigs       map[string]string `yaml:"topic_configs" help:"topic configs at creation, Kafka names, as a YAML map: '{flush.messages: 1}'"`
	TopicPrefix        string            `yaml:"topic_prefix" help:"topic names are PREFIX-RUNID-N"`
	KeepTopics         bool              `yaml:"keep_topics" help:"keep the topics after the run instead of deleting them"`

	MessageSize      int    `yaml:"message_size" help:"record value bytes: the fixed size, or the mean (at least 24, the header)"`
	SizeDistribution string `yaml:"size_distribution" help:"fixed, uniform (symmetric around message_size up to message_size_max) or exponential (mean message_size, capped at message_size_max)"`
	MessageSizeMax   int    `yaml:"message_size_max" help:"largest value for uniform and exponential sizes (default 2 x message_size)"`
	Payload          string `yaml:"payload" help:"random (incompressible) or text (compresses about 3x)"`
	KeyDistribution  string `yaml:"key_distribution" help:"none (sticky partitioning), uniform or zipf over key_count keys (partition = murmur2(key), as Kafka clients)"`
	KeyCount         int    `yaml:"key_count" help:"distinct keys for keyed records"`
	Seed             uint64 `yaml:"seed" help:"seed of sizes, keys and payload, for repeatable runs"`

	Producers          int           `yaml:"producers" help:"producer clients (one connection each), spread over the topics"`
	ConsumersPerTopic  int           `yaml:"consumers_per_topic" help:"consumer clients per topic, partitions assigned directly; 0 measures produce only"`
	Acks               string        `yaml:"acks" help:"0, 1 or all"`
	Idempotent         bool          `yaml:"idempotent" help:"idempotent producer (acks=all only)"`
	Compression        string        `yaml:"compression" help:"none, gzip, snappy, lz4 or zstd"`
	Linger             time.Duration `yaml:"linger" help:"producer linger before a batch is sent"`
	BatchMaxBytes      int           `yaml:"batch_max_bytes" help:"largest record batch a producer builds"`
	MaxInFlight        int           `yaml:"max_in_flight" help:"produce requests in flight per connection (non-idempotent; idempotent producers use 5)"`
	MaxBufferedRecords int           `yaml:"max_buffered_records" help:"records a producer client buffers before Produce blocks"`
	DeliveryTimeout    time.Duration `yaml:"delivery_timeout" help:"a record not acknowledged in this time fails"`
	FetchMaxWait       time.Duration `yaml:"fetch_max_wait" help:"consumer fetch long-poll wait"`

	Rate         float64       `yaml:"rate" help:"records per second, all producers together; 0 runs closed loop at max throughput"`
	Warmup       time.Duration `yaml:"warmup" help:"time before measuring; excluded from histograms and rates"`
	Duration     time.Duration `yaml:"duration" help:"measured time after the warm-up"`
	DrainTimeout time.Duration `yaml:"drain_timeout" help:"after producing stops, how long to wait for acknowledgements and for consumers to catch up"`
	SoakWindow   time.Duration `yaml:"soak_window" help:"p99 of the first and the last window of the run are reported when duration >= 2 x window"`
	TrimInterval time.Duration `yaml:"trim_interval" help:"every interval, DeleteRecords up to what consumers have read, so old segments go while producing; 0 = off"`
}

// DefaultWorkload is what a workload file starts from: fields it leaves
// out keep these values.
func DefaultWorkload() Workload {
	return Workload{
		Name:               "default",
		Topics:             1,
		PartitionsPerTopic: 8,
		ReplicationFactor:  1,
		TopicPrefix:        "sluice-bench",
		MessageSize:        1024,
		SizeDistribution:   "fixed",
		Payload:            "random",
		KeyDistribution:    "none",
		KeyCount:           10000,
		Seed:               1,
		Producers:          4,
		ConsumersPerTopic:  1,
		Acks:               "all",
		Idempotent:         true,
		Compression:        "none",
		Linger:             time.Millisecond,
		BatchMaxBytes:      1 << 20,
		MaxInFlight:        5,
		MaxBufferedRecords: 10000,
		DeliveryTimeout:    30 * time.Second,
		FetchMaxWait:       500 * time.Millisecond,
		Rate:               10000,
		Warmup:             10 * time.Second,
		Duration:           60 * time.Second,
		DrainTimeout:       30 * time.Second,
		SoakWindow:         5 * time.Minute,
	}
}

// Bounds of a workload: each keeps one queue, table or loop of a run finite.
const (
	maxTopics          = 1000
	maxPartitions      = 100000 // all topics together
	maxProducers       = 1000
	maxMessageBytes    = 16 << 20
	maxKeys            = 10_000_000
	maxRate            = 10_000_000
	maxRunTime         = 7 * 24 * time.Hour
	maxBufferedRecords = 1_000_000
	// maxCheckedStreams bounds the exactly-once checker's table: one entry
	// per producer and partition of its topic.
	maxCheckedStreams = 10_000_000
)

// LoadWorkload reads a workload file over the defaults.
func LoadWorkload(path string) (Workload, error) {
	w := DefaultWorkload()
	data, err := os.ReadFile(path)
	if err != nil {
		return w, err
	}
	if err := decodeStrict(data, &w); err != nil {
		return w, fmt.Errorf("%s: %w", path, err)
	}
	return w, w.Validate()
}

func decodeStrict(data []byte, w *Workload) error {
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	// An empty document (io.EOF) leaves the defaults.
	if err := dec.Decode(w); err != nil && !errors.Is(err, io.EOF) {
		return err
	}
	return nil
}

// Field is one workload setting, for flags and help.
type Field struct {
	Name string // the yaml name: message_size
	Flag string // the flag name: message-size
	Help string
}

// Fields lists the workload's settings in declaration order.
func Fields() []Field {
	t := reflect.TypeOf(Workload{})
	fs := make([]Field, 0, t.NumField())
	for i := range t.NumField() {
		f := t.Field(i)
		name := f.Tag.Get("yaml")
		fs = append(fs, Field{Name: name, Flag: strings.ReplaceAll(name, "_", "-"), Help: f.Tag.Get("help")})
	}
	return fs
}

// Set overrides one field by its yaml name (or flag name), the value
// written as in a workload file: "30s", "all", "{flush.messages: 1}". The
// field is cleared first, so a map given replaces the file's map whole.
func (w *Workload) Set(name, value string) error {
	name = strings.ReplaceAll(name, "-", "_")
	v := reflect.ValueOf(w).Elem()
	t := v.Type()
	for i := range t.NumField() {
		if t.Field(i).Tag.Get("yaml") != name {
			continue
		}
		var node yaml.Node
		if err := yaml.Unmarshal([]byte(value), &node); err != nil {
			return fmt.Errorf("%s: %w", name, err)
		}
		val := &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!null", Value: ""}
		if len(node.Content) == 1 {
			val = node.Content[0]
		}
		doc := &yaml.Node{Kind: yaml.MappingNode, Content: []*yaml.Node{{Kind: yaml.ScalarNode, Value: name}, val}}
		out, err := yaml.Marshal(doc)
		if err != nil {
			return fmt.Errorf("%s: %w", name, err)
		}
		old := v.Field(i).Interface()
		v.Field(i).SetZero()
		if err := decodeStrict(out, w); err != nil {
			v.Field(i).Set(reflect.ValueOf(old))
			return fmt.Errorf("%s=%q: %w", name, value, err)
		}
		return nil
	}
	return fmt.Errorf("no workload field %q", name)
}

// Settings is the workload as a flat map for the JSON summary, durations
// written as Go durations ("10s") rather than nanoseconds.
func (w Workload) Settings() map[string]any {
	v := reflect.ValueOf(w)
	t := v.Type()
	m := make(map[string]any, t.NumField())
	for i := range t.NumField() {
		f := v.Field(i).Interface()
		if d, ok := f.(time.Duration); ok {
			f = d.String()
		}
		m[t.Field(i).Tag.Get("yaml")] = f
	}
	return m
}

// MaxThroughput says whether producers run closed loop.
func (w Workload) MaxThroughput() bool { return w.Rate == 0 }

// Partitions is the number of partitions over all topics.
func (w Workload) Partitions() int { return w.Topics * w.PartitionsPerTopic }

// Validate checks every field against its bounds.
func (w Workload) Validate() error {
	var errs []error
	check := func(ok bool, format string, args ...any) {
		if !ok {
			errs = append(errs, fmt.Errorf(format, args...))
		}
	}
	check(w.Name != "" && !strings.ContainsAny(w.Name, "/\\ \t\n|"), "name %q: must be non-empty, without spaces, slashes or |", w.Name)
	check(w.Topics >= 1 && w.Topics <= maxTopics, "topics %d: must be 1..%d", w.Topics, maxTopics)
	check(w.PartitionsPerTopic >= 1 && w.Partitions() <= maxPartitions, "partitions_per_topic %d: must be >= 1 and topics x partitions <= %d", w.PartitionsPerTopic, maxPartitions)
	check(w.ReplicationFactor >= 1 && w.ReplicationFactor <= 32767, "replication_factor %d: must be >= 1", w.ReplicationFactor)
	check(w.TopicPrefix != "" && !strings.ContainsAny(w.TopicPrefix, "/\\ "), "topic_prefix %q: must be non-empty, without spaces or slashes", w.TopicPrefix)
	check(w.MessageSize >= headerBytes && w.MessageSize <= maxMessageBytes, "message_size %d: must be %d..%d", w.MessageSize, headerBytes, maxMessageBytes)
	check(oneOf(w.SizeDistribution, "fixed", "uniform", "exponential"), "size_distribution %q: fixed, uniform or exponential", w.SizeDistribution)
	if w.SizeDistribution != "fixed" && w.MessageSizeMax != 0 {
		check(w.MessageSizeMax >= w.MessageSize && w.MessageSizeMax <= maxMessageBytes, "message_size_max %d: must be message_size..%d", w.MessageSizeMax, maxMessageBytes)
		check(w.SizeDistribution != "uniform" || 2*w.MessageSize-w.MessageSizeMax >= headerBytes, "message_size_max %d: uniform sizes go down to 2 x message_size - message_size_max, which must be >= %d", w.MessageSizeMax, headerBytes)
	}
	check(oneOf(w.Payload, "random", "text"), "payload %q: random or text", w.Payload)
	check(oneOf(w.KeyDistribution, "none", "uniform", "zipf"), "key_distribution %q: none, uniform or zipf", w.KeyDistribution)
	check(w.KeyCount >= 1 && w.KeyCount <= maxKeys, "key_count %d: must be 1..%d", w.KeyCount, maxKeys)
	check(w.Producers >= 1 && w.Producers <= maxProducers, "producers %d: must be 1..%d", w.Producers, maxProducers)
	check(w.ConsumersPerTopic >= 0 && w.ConsumersPerTopic <= w.PartitionsPerTopic, "consumers_per_topic %d: must be 0..partitions_per_topic", w.ConsumersPerTopic)
	check(int64(w.Producers/w.Topics+1)*int64(w.PartitionsPerTopic) <= maxCheckedStreams, "producers x partitions_per_topic: too many streams to check")
	check(oneOf(w.Acks, "0", "1", "all"), "acks %q: 0, 1 or all", w.Acks)
	check(!w.Idempotent || w.Acks == "all", "idempotent: needs acks=all (set idempotent: false, or --idempotent false)")
	check(oneOf(w.Compression, "none", "gzip", "snappy", "lz4", "zstd"), "compression %q: none, gzip, snappy, lz4 or zstd", w.Compression)
	check(w.Linger >= 0 && w.Linger <= time.Minute, "linger %v: must be 0..1m", w.Linger)
	check(w.BatchMaxBytes >= w.maxValueBytes()+100 && w.BatchMaxBytes <= 1<<30, "batch_max_bytes %d: must hold the largest record and be <= 1 GiB", w.BatchMaxBytes)
	check(w.MaxInFlight >= 1 && w.MaxInFlight <= 100, "max_in_flight %d: must be 1..100", w.MaxInFlight)
	check(w.MaxBufferedRecords >= 1 && w.MaxBufferedRecords <= maxBufferedRecords, "max_buffered_records %d: must be 1..%d", w.MaxBufferedRecords, maxBufferedRecords)
	check(w.DeliveryTimeout >= time.Second && w.DeliveryTimeout <= time.Hour, "delivery_timeout %v: must be 1s..1h", w.DeliveryTimeout)
	check(w.FetchMaxWait >= 10*time.Millisecond && w.FetchMaxWait <= time.Minute, "fetch_max_wait %v: must be 10ms..1m", w.FetchMaxWait)
	check(w.Rate >= 0 && w.Rate <= maxRate, "rate %v: must be 0 (max throughput)..%d", w.Rate, maxRate)
	check(w.Warmup >= 0 && w.Duration > 0 && w.Warmup+w.Duration <= maxRunTime, "warmup %v + duration %v: duration must be > 0 and the sum <= %v", w.Warmup, w.Duration, maxRunTime)
	check(w.DrainTimeout >= time.Second && w.DrainTimeout <= time.Hour, "drain_timeout %v: must be 1s..1h", w.DrainTimeout)
	// Histograms are collected once a second, and a window is ten slots.
	check(w.SoakWindow >= 10*time.Second, "soak_window %v: must be >= 10s", w.SoakWindow)
	check(w.TrimInterval == 0 || w.TrimInterval >= 100*time.Millisecond, "trim_interval %v: 0 or >= 100ms", w.TrimInterval)
	check(w.TrimInterval == 0 || w.ConsumersPerTopic > 0, "trim_interval: trims up to what consumers read, so needs consumers")
	return errors.Join(errs...)
}

// maxValueBytes is the largest record value the workload produces.
func (w Workload) maxValueBytes() int {
	switch {
	case w.SizeDistribution == "fixed":
		return w.MessageSize
	case w.MessageSizeMax == 0:
		return min(2*w.MessageSize, maxMessageBytes)
	}
	return w.MessageSizeMax
}

func oneOf(s string, set ...string) bool {
	for _, x := range set {
		if s == x {
			return true
		}
	}
	return false
}

// sortedKeys returns m's keys in order, for stable output.
func sortedKeys[V any](m map[string]V) []string {
	ks := make([]string, 0, len(m))
	for k := range m {
		ks = append(ks, k)
	}
	sort.Strings(ks)
	return ks
}
