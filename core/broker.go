package core

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"hash/fnv"
	"log/slog"
	"net"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/twmb/franz-go/pkg/kmsg"

	"sluice/disk/vfs"
	"sluice/netio"
)

// Config is the broker's configuration.
type Config struct {
	NodeID         int32
	Listen         string // host:port the broker listens on
	AdvertisedAddr string // host:port clients are told to use (default: Listen, with the port it got)
	DataDir        string
	Shards         int
	// AutoCreateTopics is auto.create.topics.enable; default true, as in
	// Apache Kafka, so that a first produce or fetch to a new topic works.
	AutoCreateTopics  *bool
	DefaultPartitions int32 // num.partitions (default 1)
	MaxFrameBytes     int   // socket.request.max.bytes (default 100 MiB)
	// IdleTimeout is connections.max.idle.ms (default 10 min).
	IdleTimeout time.Duration
	// Steering says how connections are spread over shards (netio.Steering;
	// default auto: eBPF by receiving CPU where the kernel allows it).
	Steering netio.Steering
	Logger   *slog.Logger
	FS       vfs.FS // default vfs.OS

	// The group coordinator's settings, under Kafka's names; zero means
	// the default, which is Kafka's but for the partition count (see
	// groups.go).
	OffsetsTopicPartitions int32 // offsets.topic.num.partitions (default 16), used when the topic is created
	// GroupInitialRebalanceDelay is group.initial.rebalance.delay.ms
	// (default 3 s; nil means the default, so that 0 can be set).
	GroupInitialRebalanceDelay *time.Duration
	GroupMinSessionTimeout     time.Duration // group.min.session.timeout.ms (default 6 s)
	GroupMaxSessionTimeout     time.Duration // group.max.session.timeout.ms (default 30 min)
	GroupMaxSize               int           // group.max.size (default: no limit)
	OffsetsRetention           time.Duration // offsets.retention.minutes (default 7 days)

	// stdNet serves over netio.StdServer, the std-net baseline, instead of
	// the epoll loops. Only core's benchmarks set it, to measure what epoll
	// gains in the same run.
	stdNet bool
}

// transport is what the broker needs of its network edge: netio.Server,
// or netio.StdServer in benchmarks.
type transport interface {
	Loops() []*netio.Loop
	Addr() string
	Start()
	Shutdown(ctx context.Context) error
}

// Broker is a single-node Kafka broker.
type Broker struct {
	cfg       Config
	log       *slog.Logger
	srv       transport
	clusterID string
	host      string
	port      int32

	mu       sync.RWMutex // guards topics; changes are rare, reads are per request
	topics   map[string]*topic
	topicIDs map[[16]byte]*topic
	// deleting are the topics whose partitions are still being torn down
	// (see 20_deletetopics.go): until that ends, the old logs may still
	// write to the directories a new topic of the same name would open.
	deleting map[string]bool
	apis     map[int16]*api
	apiKeys  []kmsg.ApiVersionsResponseApiKey // what ApiVersions reports, from apis

	producerIDs *producerIDs
	badInput    *inputLog
	// offsets is __consumer_offsets, whose partitions hold the group
	// coordinators (groups.go); set in Start, never replaced.
	offsets *topic

	stopRetention context.CancelFunc
	parked        []parkedFetches // by loop ID; each touched only by its loop
	stats         []*shardStats   // by loop ID (metrics.go)
	syncs         syncStats
	draining      atomic.Bool // Shutdown began: fetches no longer wait
}

func (b *Broker) parkedOn(l *netio.Loop) parkedFetches { return b.parked[l.ID] }

// retentionCheckInterval is log.retention.check.interval.ms (Kafka: 5 min).
const retentionCheckInterval = 5 * time.Minute

// Start opens the data directory, recovers every partition and starts
// serving.
func Start(cfg Config) (*Broker, error) {
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.FS == nil {
		cfg.FS = vfs.OS{}
	}
	if cfg.DefaultPartitions <= 0 {
		cfg.DefaultPartitions = 1
	}
	if cfg.AutoCreateTopics == nil {
		t := true
		cfg.AutoCreateTopics = &t
	}
	if cfg.OffsetsTopicPartitions <= 0 {
		cfg.OffsetsTopicPartitions = defaultOffsetsPartitions
	}
	b := &Broker{cfg: cfg, log: cfg.Logger, topics: map[string]*topic{}, topicIDs: map[[16]byte]*topic{}, deleting: map[string]bool{}, apis: apiTable(), badInput: newInputLog(cfg.Logger)}
	b.apiKeys = advertisedKeys(b.apis)
	if err := cfg.FS.MkdirAll(cfg.DataDir); err != nil {
		return nil, err
	}
	ncfg := netio.Config{Listen: cfg.Listen, Shards: cfg.Shards, MaxFrameBytes: cfg.MaxFrameBytes, IdleTimeout: cfg.IdleTimeout, Steering: cfg.Steering, Logger: cfg.Logger}
	var err error
	if cfg.stdNet {
		b.srv, err = netio.ListenStd(ncfg, b)
	} else {
		b.srv, err = netio.Listen(ncfg, b)
	}
	if err != nil {
		return nil, err
	}
	srv := b.srv
	for range srv.Loops() {
		b.parked = append(b.parked, parkedFetches{})
		b.stats = append(b.stats, &shardStats{})
	}
	b.syncs.latency = newLatencyHistogram()
	adv := cfg.AdvertisedAddr
	if adv == "" {
		adv = srv.Addr()
	}
	host, port, err := net.SplitHostPort(adv)
	if err != nil {
		b.srv.Shutdown(context.Background())
		return nil, fmt.Errorf("advertised address %q: %w", adv, err)
	}
	p, _ := strconv.Atoi(port)
	b.host, b.port = host, int32(p)
	if b.producerIDs, err = openProducerIDs(cfg.FS, cfg.DataDir); err != nil {
		b.srv.Shutdown(context.Background())
		return nil, err
	}
	if err := b.loadMeta(); err != nil {
		b.srv.Shutdown(context.Background())
		b.closeLogs()
		return nil, err
	}
	// Before serving: a group's first request finds its state loaded.
	if err := b.openGroupCoordinators(); err != nil {
		b.srv.Shutdown(context.Background())
		b.stopGroupTimers()
		b.closeLogs()
		return nil, err
	}
	ctx, cancel := context.WithCancel(context.Background())
	b.stopRetention = cancel
	go b.retentionLoop(ctx, retentionCheckInterval)
	b.srv.Start()
	return b, nil
}

// Addr is the address the broker listens on.
func (b *Broker) Addr() string { return b.srv.Addr() }

// Shutdown stops accepting, finishes in-flight requests, then syncs and
// closes every log.
func (b *Broker) Shutdown(ctx context.Context) error {
	b.stopRetention()
	// Answer long polls now rather than after their MaxWaitMillis (and
	// park no new ones); netio then waits for every in-flight request.
	b.draining.Store(true)
	for _, l := range b.srv.Loops() {
		l.Post(b.parked[l.ID].expireAll)
	}
	// Parked JoinGroups and SyncGroups are in flight too; the
	// coordinators answer them now rather than after their timeouts.
	for _, p := range b.offsets.partitions {
		p.loop.Post(p.coord.unload)
	}
	err := b.srv.Shutdown(ctx)
	if cerr := b.closeLogs(); err == nil {
		err = cerr
	}
	return err
}

// stopGroupTimers stops the coordinators' timers when Start fails after
// creating them; the loops never ran.
func (b *Broker) stopGroupTimers() {
	if b.offsets == nil {
		return
	}
	for _, p := range b.offsets.partitions {
		if p.coord != nil {
			p.coord.timer.Stop()
		}
	}
}

// closeLogs syncs and closes every partition log; the loops have stopped.
func (b *Broker) closeLogs() error {
	b.mu.Lock()
	defer b.mu.Unlock()
	var err error
	for _, t := range b.topics {
		for _, p := range t.partitions {
			snap := p.producers.snapshot(p.log.LogEndOffset())
			if cerr := p.log.Close(); cerr != nil && err == nil {
				err = cerr
			}
			p.saveProducerState(snap)
		}
	}
	return err
}

// loopFor returns the shard that owns a partition.
func (b *Broker) loopFor(topic string, partition int32) *netio.Loop {
	h := fnv.New32a()
	h.Write([]byte(topic))
	h.Write([]byte{byte(partition >> 24), byte(partition >> 16), byte(partition >> 8), byte(partition)})
	loops := b.srv.Loops()
	return loops[int(h.Sum32()%uint32(len(loops)))]
}

func newClusterID() string {
	var id [16]byte
	rand.Read(id[:])
	return base64.RawURLEncoding.EncodeToString(id[:])
}

// retentionLoop runs retention on every partition's own loop.
func (b *Broker) retentionLoop(ctx context.Context, every time.Duration) {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			b.mu.RLock()
			for _, tp := range b.topics {
				for _, p := range tp.partitions {
					p.loop.Post(p.housekeeping)
				}
			}
			b.mu.RUnlock()
		}
	}
}
