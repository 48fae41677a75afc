package core

import (
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"path/filepath"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"sluice/disk"
	"sluice/disk/vfs"
	"sluice/netio"
)

// topic is a topic as this broker sees it. Handlers load it once and read
// it without a lock, so its name, id and partitions never change once it is
// in Broker.topics: CreatePartitions puts a new topic in its place (so
// partition.topic may be an older copy: rely on its name and id only).
// configs is replaced whole under Broker.mu and read under it.
type topic struct {
	name       string
	id         [16]byte
	configs    map[string]string
	partitions []*partition
}

// partition is one partition and its log; its mutable state belongs to its
// loop.
type partition struct {
	b     *Broker
	topic *topic
	index int32
	loop  *netio.Loop
	log   *disk.Log
	dir   string
	// snapshotMu serialises producer-state snapshot writes and guards
	// removed, set once the topic's deletion removed the directory, so a
	// late snapshot cannot land in it (or in a new topic's of that name).
	snapshotMu sync.Mutex
	removed    bool
	// flushEvery is flush.messages: 1 makes every acked produce wait for
	// fdatasync. Runs on the owning shard.
	syncAcks bool

	// coord is the group coordinator of a __consumer_offsets partition
	// (nil for every other topic); set in Start. Its state runs on the
	// owning shard.
	coord *groupCoordinator

	// Run on the owning shard.
	producers      producerState
	durableWaiters []durableWaiter
	fetchWaiters   []*fetchState
	progressPosted atomic.Bool
}

type durableWaiter struct {
	offset int64
	done   func(err error)
}

// metaFile is the broker's own record of its topics (the single-node stand
// in for the replicated cluster metadata log).
const metaFile = "meta.json"

type metaJSON struct {
	ClusterID string      `json:"clusterId"`
	Topics    []topicJSON `json:"topics"`
}

type topicJSON struct {
	Name       string            `json:"name"`
	ID         [16]byte          `json:"id"`
	Partitions int32             `json:"partitions"`
	Configs    map[string]string `json:"configs,omitempty"`
}

func (b *Broker) loadMeta() error {
	raw, err := vfs.ReadFile(b.cfg.FS, filepath.Join(b.cfg.DataDir, metaFile), 64<<20)
	var m metaJSON
	switch {
	case errors.Is(err, fs.ErrNotExist):
		m.ClusterID = newClusterID()
	case err != nil:
		return err
	default:
		if err := json.Unmarshal(raw, &m); err != nil {
			return fmt.Errorf("%s: %w", metaFile, err)
		}
	}
	b.clusterID = m.ClusterID
	for _, tj := range m.Topics {
		t := &topic{name: tj.Name, id: tj.ID, configs: tj.Configs}
		if err := b.openPartitions(t, tj.Partitions); err != nil {
			return err
		}
		b.topics[t.name] = t
		b.topicIDs[t.id] = t
	}
	return b.saveMetaLocked()
}

// saveMetaLocked writes meta.json durably. REQUIRES: b.mu held (or no
// concurrency yet).
func (b *Broker) saveMetaLocked() error {
	m := metaJSON{ClusterID: b.clusterID}
	for _, t := range b.topics {
		m.Topics = append(m.Topics, topicJSON{Name: t.name, ID: t.id, Partitions: int32(len(t.partitions)), Configs: t.configs})
	}
	raw, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		return err
	}
	return vfs.WriteFileAtomic(b.cfg.FS, filepath.Join(b.cfg.DataDir, metaFile), raw)
}

// openPartitions opens (or creates) the logs of partitions [len, n).
func (b *Broker) openPartitions(t *topic, n int32) error {
	cfg, err := logConfig(t.configs)
	if err != nil {
		return err
	}
	for i := int32(len(t.partitions)); i < n; i++ {
		p := &partition{b: b, topic: t, index: i, loop: b.loopFor(t.name, i), syncAcks: t.configs["flush.messages"] == "1"}
		c := cfg
		c.Logger = b.log
		c.OnProgress = p.onProgress
		c.OnSync = b.syncs.observe
		if t.isInternal() {
			// Round robin rather than a hash, so that the coordinators
			// spread evenly over the shards; and small preallocation
			// steps for a topic of small writes (groups.go).
			loops := b.srv.Loops()
			p.loop = loops[int(i)%len(loops)]
			c.PreallocateBytes = offsetsPreallocateBytes
		}
		dir := filepath.Join(b.cfg.DataDir, fmt.Sprintf("%s-%d", t.name, i))
		l, err := disk.Open(b.cfg.FS, dir, c)
		if err != nil {
			return err
		}
		p.log, p.dir = l, dir
		if p.producers, err = loadProducerState(b.cfg.FS, dir, l); err != nil {
			l.Close()
			return err
		}
		t.partitions = append(t.partitions, p)
	}
	return nil
}

// topicConfigs are the topic-level settings the broker understands, with
// Apache Kafka's defaults as DescribeConfigs would report them.
var topicConfigs = map[string]string{
	"cleanup.policy":       "delete",
	"segment.bytes":        "1073741824",
	"segment.ms":           "604800000",
	"retention.ms":         "604800000",
	"retention.bytes":      "-1",
	"max.message.bytes":    "1048588",
	"index.interval.bytes": "4096",
	"flush.messages":       "9223372036854775807",
	"flush.ms":             "9223372036854775807",
}

// logConfig turns topic configs into the log's settings, rejecting unknown
// names and values that do not parse.
func logConfig(configs map[string]string) (disk.Config, error) {
	var c disk.Config
	for k, v := range configs {
		if _, ok := topicConfigs[k]; !ok {
			return c, fmt.Errorf("unknown topic config %q", k)
		}
		if k == "cleanup.policy" {
			if v != "delete" {
				return c, fmt.Errorf("cleanup.policy=%s is not supported yet", v)
			}
			continue
		}
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil {
			return c, fmt.Errorf("topic config %s=%q: %w", k, v, err)
		}
		ms := time.Duration(n) * time.Millisecond
		switch k {
		case "segment.bytes":
			c.SegmentBytes = n
		case "segment.ms":
			c.SegmentMs = ms
		case "retention.ms":
			c.RetentionMs = ms
			if n < 0 {
				c.RetentionMs = -1
			}
		case "retention.bytes":
			c.RetentionBytes = n
		case "max.message.bytes":
			c.MaxMessageBytes = int(n)
		case "index.interval.bytes":
			c.IndexIntervalBytes = n
		case "flush.messages":
			if n < 1<<62 {
				c.FlushMessages = n
			}
		case "flush.ms":
			if n < 1<<62 {
				c.FlushMs = ms
			}
		}
	}
	return c, nil
}

// createTopic creates a topic with n partitions. Runs on any loop; takes
// Broker.mu.
func (b *Broker) createTopic(name string, n int32, configs map[string]string, validateOnly bool) (*topic, int16, error) {
	if err := validTopicName(name); err != nil {
		return nil, errInvalidTopic, err
	}
	if n <= 0 || n > maxPartitions {
		return nil, errInvalidPartitions, fmt.Errorf("%d partitions; a topic has 1 to %d", n, maxPartitions)
	}
	if _, err := validTopicConfigs(configs); err != nil {
		return nil, errInvalidConfig, err
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if t := b.topics[name]; t != nil {
		return t, errTopicAlreadyExists, fmt.Errorf("topic %q already exists", name)
	}
	if b.deleting[name] {
		return nil, errTopicAlreadyExists, fmt.Errorf("topic %q is marked for deletion", name)
	}
	t := &topic{name: name, configs: configs}
	rand.Read(t.id[:])
	if validateOnly {
		return t, 0, nil
	}
	if err := b.removeLeftoverDirs(name, 0, n); err != nil {
		return nil, errorCode(err), err
	}
	if err := b.openPartitions(t, n); err != nil {
		closeUnpublished(t.partitions)
		return nil, errorCode(err), err
	}
	b.topics[name] = t
	b.topicIDs[t.id] = t
	if err := b.saveMetaLocked(); err != nil {
		return nil, errorCode(err), err
	}
	b.log.Info("created topic", "topic", name, "partitions", n)
	return t, 0, nil
}

// validTopicName applies Kafka's rules: 1-249 characters of [a-zA-Z0-9._-],
// not "." or "..".
func validTopicName(name string) error {
	if name == "" || name == "." || name == ".." || len(name) > 249 {
		return fmt.Errorf("invalid topic name %q", name)
	}
	for _, c := range name {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '.' || c == '_' || c == '-') {
			return fmt.Errorf("invalid character %q in topic name", c)
		}
	}
	return nil
}

func (b *Broker) topic(name string) *topic {
	b.mu.RLock()
	defer b.mu.RUnlock()
	return b.topics[name]
}

func (b *Broker) topicByID(id [16]byte) *topic {
	b.mu.RLock()
	defer b.mu.RUnlock()
	return b.topicIDs[id]
}

// partition returns partition index of t, or nil when t is nil or has no
// such partition.
func (t *topic) partition(index int32) *partition {
	if t == nil || index < 0 || int(index) >= len(t.partitions) {
		return nil
	}
	return t.partitions[index]
}
