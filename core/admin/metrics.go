package admin

import (
	"context"
	"strconv"
	"sync"
	"time"

	"github.com/HdrHistogram/hdrhistogram-go"
	"github.com/prometheus/client_golang/prometheus"

	"sluice/core"
)

// The metric names are an interface: deploy/grafana-dashboard.json queries
// them and a test checks it against a scrape. Rename them in both.
var (
	descRequests = prometheus.NewDesc("sluice_requests_total",
		"Kafka requests answered, by API.", []string{"api"}, nil)
	descRequestErrors = prometheus.NewDesc("sluice_request_errors_total",
		"Kafka requests answered with a non-zero top-level or partition error code, or by closing the connection, by API.", []string{"api"}, nil)
	descRequestDuration = prometheus.NewDesc("sluice_request_duration_seconds",
		"Time from decoding a request to queueing its response, by API.", []string{"api"}, nil)
	descProduceBytes = prometheus.NewDesc("sluice_produce_bytes_total",
		"Record batch bytes appended by Produce requests.", nil, nil)
	descFetchBytes = prometheus.NewDesc("sluice_fetch_bytes_total",
		"Record batch bytes returned by Fetch requests.", nil, nil)
	descLogEnd = prometheus.NewDesc("sluice_partition_log_end_offset",
		"Offset of the next record a partition's log will assign.", []string{"topic", "partition"}, nil)
	descHighWatermark = prometheus.NewDesc("sluice_partition_high_watermark",
		"Offset up to which consumers may read.", []string{"topic", "partition"}, nil)
	descLogStart = prometheus.NewDesc("sluice_partition_log_start_offset",
		"First offset still in a partition's log.", []string{"topic", "partition"}, nil)
	descSize = prometheus.NewDesc("sluice_partition_size_bytes",
		"Bytes of a partition's log segments.", []string{"topic", "partition"}, nil)
	descISR = prometheus.NewDesc("sluice_partition_isr_size",
		"Replicas in a partition's in-sync replica set.", []string{"topic", "partition"}, nil)
	descUnderReplicated = prometheus.NewDesc("sluice_under_replicated_partitions",
		"Partitions led here whose ISR is smaller than their replica set.", nil, nil)
	descGroupLag = prometheus.NewDesc("sluice_group_lag",
		"High watermark minus a consumer group's committed offset.", []string{"group", "topic", "partition"}, nil)
	descFsync = prometheus.NewDesc("sluice_fsync_duration_seconds",
		"Duration of each fdatasync of partition log data.", nil, nil)
	descShardBusy = prometheus.NewDesc("sluice_shard_busy_ratio",
		"Fraction of wall time an event loop spent outside epoll_wait since the previous scrape.", []string{"shard"}, nil)
)

// latencyBuckets are the Prometheus buckets, in seconds, that request and
// fsync latencies are folded into at scrape time.
var latencyBuckets = []float64{0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10}

// brokerCollector reads the broker at scrape time. It holds no state of
// its own but the previous busy readings, for the busy ratio.
type brokerCollector struct {
	s *Server

	mu                  sync.Mutex // guards the previous readings; scrapes may overlap
	lastBusy, lastTotal []time.Duration
}

func newBrokerCollector(s *Server) *brokerCollector { return &brokerCollector{s: s} }

func (c *brokerCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{descRequests, descRequestErrors, descRequestDuration, descProduceBytes, descFetchBytes,
		descLogEnd, descHighWatermark, descLogStart, descSize, descISR, descUnderReplicated, descGroupLag, descFsync, descShardBusy} {
		ch <- d
	}
}

func (c *brokerCollector) Collect(ch chan<- prometheus.Metric) {
	b := c.s.broker.Load()
	if b == nil {
		return
	}
	for _, a := range b.RequestStats() {
		ch <- prometheus.MustNewConstMetric(descRequests, prometheus.CounterValue, float64(a.Requests), a.Name)
		ch <- prometheus.MustNewConstMetric(descRequestErrors, prometheus.CounterValue, float64(a.Errors), a.Name)
		ch <- prometheus.MustNewConstHistogram(descRequestDuration, uint64(a.Latency.TotalCount()), a.Sum.Seconds(), buckets(a.Latency), a.Name)
	}
	produced, fetched := b.TrafficBytes()
	ch <- prometheus.MustNewConstMetric(descProduceBytes, prometheus.CounterValue, float64(produced))
	ch <- prometheus.MustNewConstMetric(descFetchBytes, prometheus.CounterValue, float64(fetched))
	syncs, syncSum := b.SyncStats()
	ch <- prometheus.MustNewConstHistogram(descFsync, uint64(syncs.TotalCount()), syncSum.Seconds(), buckets(syncs))
	ch <- prometheus.MustNewConstMetric(descUnderReplicated, prometheus.GaugeValue, 0)
	c.collectBusy(ch, b)

	ctx, cancel := context.WithTimeout(context.Background(), c.s.cfg.SnapshotTimeout)
	defer cancel()
	snap, err := b.Snapshot(ctx)
	if err != nil {
		c.s.log.Warn("metrics: partition state left out", "err", err)
		return
	}
	type tp struct {
		topic     string
		partition int32
	}
	hw := make(map[tp]int64, len(snap.Partitions))
	for _, p := range snap.Partitions {
		labels := []string{p.Topic, strconv.Itoa(int(p.Partition))}
		ch <- prometheus.MustNewConstMetric(descLogEnd, prometheus.GaugeValue, float64(p.LogEndOffset), labels...)
		ch <- prometheus.MustNewConstMetric(descHighWatermark, prometheus.GaugeValue, float64(p.HighWatermark), labels...)
		ch <- prometheus.MustNewConstMetric(descLogStart, prometheus.GaugeValue, float64(p.LogStartOffset), labels...)
		ch <- prometheus.MustNewConstMetric(descSize, prometheus.GaugeValue, float64(p.SizeBytes), labels...)
		ch <- prometheus.MustNewConstMetric(descISR, prometheus.GaugeValue, float64(p.ISRSize), labels...)
		hw[tp{p.Topic, p.Partition}] = p.HighWatermark
	}
	for _, g := range snap.Groups {
		for _, o := range g.Offsets {
			h, ok := hw[tp{o.Topic, o.Partition}]
			if !ok {
				continue // committed for a partition that no longer exists
			}
			ch <- prometheus.MustNewConstMetric(descGroupLag, prometheus.GaugeValue, float64(max(h-o.Offset, 0)),
				g.Group, o.Topic, strconv.Itoa(int(o.Partition)))
		}
	}
}

// collectBusy reports each shard's busy fraction since the previous
// scrape (since the loop started, on the first).
func (c *brokerCollector) collectBusy(ch chan<- prometheus.Metric, b *core.Broker) {
	busy, total := b.ShardBusy()
	c.mu.Lock()
	defer c.mu.Unlock()
	for i := range busy {
		db, dt := busy[i], total[i]
		if i < len(c.lastBusy) {
			db, dt = db-c.lastBusy[i], dt-c.lastTotal[i]
		}
		ratio := 0.0
		if dt > 0 {
			ratio = min(max(float64(db)/float64(dt), 0), 1)
		}
		ch <- prometheus.MustNewConstMetric(descShardBusy, prometheus.GaugeValue, ratio, strconv.Itoa(i))
	}
	c.lastBusy, c.lastTotal = busy, total
}

// buckets folds a histogram of microseconds into cumulative Prometheus
// buckets, counting each HdrHistogram bucket at its highest equivalent
// value (so within the histogram's 1% precision, never early).
func buckets(h *hdrhistogram.Histogram) map[float64]uint64 {
	out := make(map[float64]uint64, len(latencyBuckets))
	for _, ub := range latencyBuckets {
		out[ub] = 0
	}
	for _, bar := range h.Distribution() {
		if bar.Count == 0 {
			continue
		}
		v := float64(bar.To) / 1e6
		for _, ub := range latencyBuckets {
			if v <= ub {
				out[ub] += uint64(bar.Count)
			}
		}
	}
	return out
}
