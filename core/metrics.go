package core

// Observability: what the admin server (core/admin) reads. Requests are
// counted per shard, under a mutex that only the shard's own requests and
// a scrape take, so the hot path shares no cache line with other shards.
// Per-partition and per-group values belong to their shards and are read
// by posting to them (Snapshot).

import (
	"cmp"
	"context"
	"fmt"
	"reflect"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/HdrHistogram/hdrhistogram-go"
	"github.com/twmb/franz-go/pkg/kmsg"

	"sluice/core/group"
	"sluice/netio"
)

// Latency histograms count microseconds from 1 µs to 60 s with two
// significant digits (1% error), about 20 KiB each, made on an API's first
// request on a shard.
const (
	latencyMinUs  = 1
	latencyMaxUs  = 60_000_000
	latencyDigits = 2
)

// maxAPIKey bounds the per-shard table; keys above it, and requests that
// could not be decoded, count under unknownAPI.
const (
	maxAPIKey  = 127
	unknownAPI = maxAPIKey + 1
)

func newLatencyHistogram() *hdrhistogram.Histogram {
	return hdrhistogram.New(latencyMinUs, latencyMaxUs, latencyDigits)
}

type apiStats struct {
	requests, errors uint64
	sum              time.Duration
	latency          *hdrhistogram.Histogram // nil until the first request
}

// shardStats are one shard's request counters.
type shardStats struct {
	mu           sync.Mutex // taken by this shard's requests and by scrapes
	apis         [unknownAPI + 1]apiStats
	produceBytes atomic.Uint64
	fetchBytes   atomic.Uint64
	_            [64]byte // keep shards off each other's cache lines
}

// syncStats is the fdatasync latency of every partition log, reported by
// the logs' writer goroutines (one sync at a time each, at most a few
// thousand a second in all).
type syncStats struct {
	mu      sync.Mutex
	sum     time.Duration
	latency *hdrhistogram.Histogram
}

func (s *syncStats) observe(d time.Duration) {
	s.mu.Lock()
	s.sum += d
	s.latency.RecordValue(max(d.Microseconds(), latencyMinUs))
	s.mu.Unlock()
}

func (b *Broker) shardStats(l *netio.Loop) *shardStats { return b.stats[l.ID] }

// observe counts a request answered now (or answered with no response, or
// by closing the connection). Safe from any goroutine; normally the
// connection's loop.
func (r *request) observe(failed bool) {
	d := time.Since(r.start)
	key := int(r.key)
	if key < 0 || key > maxAPIKey || r.b.apis[r.key] == nil {
		key = unknownAPI
	}
	s := r.b.shardStats(r.c.Loop())
	s.mu.Lock()
	a := &s.apis[key]
	a.requests++
	if failed {
		a.errors++
	}
	a.sum += d
	if a.latency == nil {
		a.latency = newLatencyHistogram()
	}
	a.latency.RecordValue(max(d.Microseconds(), latencyMinUs))
	s.mu.Unlock()
}

// responseFailed reports whether a response carries a non-zero error code
// at the top level or for any topic or partition. Produce and Fetch, the
// hot ones, are walked directly; the rest by reflection over their
// ErrorCode fields (control requests, a few a second).
func responseFailed(resp kmsg.Response) bool {
	switch resp := resp.(type) {
	case *kmsg.ProduceResponse:
		for i := range resp.Topics {
			for j := range resp.Topics[i].Partitions {
				if resp.Topics[i].Partitions[j].ErrorCode != 0 {
					return true
				}
			}
		}
		return false
	case *kmsg.FetchResponse:
		if resp.ErrorCode != 0 {
			return true
		}
		for i := range resp.Topics {
			for j := range resp.Topics[i].Partitions {
				if resp.Topics[i].Partitions[j].ErrorCode != 0 {
					return true
				}
			}
		}
		return false
	}
	return hasErrorCode(reflect.ValueOf(resp))
}

func hasErrorCode(v reflect.Value) bool {
	switch v.Kind() {
	case reflect.Pointer, reflect.Interface:
		return !v.IsNil() && hasErrorCode(v.Elem())
	case reflect.Struct:
		p := errPlanFor(v.Type())
		if p == nil {
			return false
		}
		if p.code >= 0 && v.Field(p.code).Int() != 0 {
			return true
		}
		for _, i := range p.nested {
			if hasErrorCode(v.Field(i)) {
				return true
			}
		}
	case reflect.Slice, reflect.Array:
		if !holdsErrorCode(v.Type().Elem()) {
			return false
		}
		for i := range v.Len() {
			if hasErrorCode(v.Index(i)) {
				return true
			}
		}
	}
	return false
}

// errPlan is where a response struct type keeps error codes: its own
// ErrorCode field and the fields whose types hold more. Worked out once
// per type, so that a response walks only the parts that can carry a code
// (ApiVersions' sixty keys have none) without looking fields up by name.
type errPlan struct {
	code   int   // index of an int16 ErrorCode field, or -1
	nested []int // fields whose types hold an ErrorCode
}

// errPlans caches errPlanFor: reflect.Type -> *errPlan, nil when the type
// holds no error code at all.
var errPlans sync.Map

func errPlanFor(t reflect.Type) *errPlan {
	if p, ok := errPlans.Load(t); ok {
		return p.(*errPlan)
	}
	p := &errPlan{code: -1}
	for i := range t.NumField() {
		f := t.Field(i)
		switch {
		case f.Name == "ErrorCode" && f.Type.Kind() == reflect.Int16:
			p.code = i
		case holdsErrorCode(f.Type):
			p.nested = append(p.nested, i)
		}
	}
	if p.code < 0 && len(p.nested) == 0 {
		p = nil
	}
	errPlans.Store(t, p)
	return p
}

// holdsErrorCode reports whether values of t can contain an ErrorCode
// field. kmsg's response types are trees, so the recursion ends.
func holdsErrorCode(t reflect.Type) bool {
	switch t.Kind() {
	case reflect.Pointer, reflect.Slice, reflect.Array:
		return holdsErrorCode(t.Elem())
	case reflect.Struct:
		return errPlanFor(t) != nil
	}
	return false
}

// APIStats are one API's request counters, summed over the shards.
type APIStats struct {
	Key      int16 // -1 for requests that could not be decoded or have an unknown key
	Name     string
	Requests uint64
	Errors   uint64 // answered with an error code, or by closing the connection
	Sum      time.Duration
	// Latency counts microseconds from decode to response queued; a copy
	// the caller owns.
	Latency *hdrhistogram.Histogram
}

// RequestStats returns the counters of every API that has seen a request,
// by key. Safe from any goroutine.
func (b *Broker) RequestStats() []APIStats {
	var out []APIStats
	for key := range unknownAPI + 1 {
		var a APIStats
		for _, s := range b.stats {
			s.mu.Lock()
			sa := &s.apis[key]
			if sa.requests > 0 {
				a.Requests += sa.requests
				a.Errors += sa.errors
				a.Sum += sa.sum
				if a.Latency == nil {
					a.Latency = newLatencyHistogram()
				}
				a.Latency.Merge(sa.latency)
			}
			s.mu.Unlock()
		}
		if a.Requests == 0 {
			continue
		}
		a.Key, a.Name = int16(key), kmsg.NameForKey(int16(key))
		if key == unknownAPI {
			a.Key, a.Name = -1, "Unknown"
		}
		out = append(out, a)
	}
	return out
}

// TrafficBytes returns the record bytes produced (accepted into logs) and
// fetched (sent to consumers) since start.
func (b *Broker) TrafficBytes() (produced, fetched uint64) {
	for _, s := range b.stats {
		produced += s.produceBytes.Load()
		fetched += s.fetchBytes.Load()
	}
	return produced, fetched
}

// SyncStats returns the fdatasync latencies of the partition logs, in
// microseconds (a copy), and their sum.
func (b *Broker) SyncStats() (*hdrhistogram.Histogram, time.Duration) {
	h := newLatencyHistogram()
	b.syncs.mu.Lock()
	defer b.syncs.mu.Unlock()
	h.Merge(b.syncs.latency)
	return h, b.syncs.sum
}

// ShardBusy returns, by shard, how long each event loop has run and how
// much of it was spent outside epoll_wait.
func (b *Broker) ShardBusy() (busy, total []time.Duration) {
	for _, l := range b.srv.Loops() {
		bz, t := l.Busy()
		busy, total = append(busy, bz), append(total, t)
	}
	return busy, total
}

// Ready reports whether the broker serves requests: true from the end of
// Start (logs recovered, listeners up) until Shutdown begins.
func (b *Broker) Ready() bool { return !b.draining.Load() }

// ClusterInfo is the broker's identity.
type ClusterInfo struct {
	ClusterID  string
	NodeID     int32
	Listen     string // the address bound
	Advertised string // host:port given to clients
}

func (b *Broker) ClusterInfo() ClusterInfo {
	return ClusterInfo{ClusterID: b.clusterID, NodeID: b.cfg.NodeID, Listen: b.srv.Addr(),
		Advertised: fmt.Sprintf("%s:%d", b.host, b.port)}
}

// PartitionState is a partition's offsets and size as its shard saw them.
type PartitionState struct {
	Topic          string
	Partition      int32
	LogStartOffset int64
	LogEndOffset   int64
	HighWatermark  int64
	SizeBytes      int64
	ISRSize        int // 1: a single node is its own ISR
}

// CommittedOffset is a group's committed offset for one partition.
type CommittedOffset struct {
	Topic     string
	Partition int32
	Offset    int64
}

// GroupState is a group and its committed offsets.
type GroupState struct {
	Group        string
	State        string
	ProtocolType string
	Offsets      []CommittedOffset
}

// Snapshot is the per-partition and per-group state, gathered from the
// owning shards. Each shard's part is consistent in itself; different
// shards' parts are taken at slightly different times.
type Snapshot struct {
	Partitions []PartitionState // sorted by topic, partition
	Groups     []GroupState     // sorted by group
}

// Snapshot asks every shard for the state of its partitions and groups and
// waits for all of them or ctx. Safe from any goroutine.
func (b *Broker) Snapshot(ctx context.Context) (Snapshot, error) {
	byLoop := map[*netio.Loop][]*partition{}
	b.mu.RLock()
	for _, t := range b.topics {
		for _, p := range t.partitions {
			byLoop[p.loop] = append(byLoop[p.loop], p)
		}
	}
	b.mu.RUnlock()
	type part struct {
		parts  []PartitionState
		groups []GroupState
	}
	results := make(chan part, len(byLoop)) // one per loop: a late one never blocks
	for l, ps := range byLoop {
		l.Post(func() {
			var out part
			for _, p := range ps {
				out.parts = append(out.parts, p.state())
				if p.coord != nil {
					out.groups = append(out.groups, p.coord.groupStates()...)
				}
			}
			results <- out
		})
	}
	var snap Snapshot
	for range byLoop {
		select {
		case r := <-results:
			snap.Partitions = append(snap.Partitions, r.parts...)
			snap.Groups = append(snap.Groups, r.groups...)
		case <-ctx.Done():
			return Snapshot{}, fmt.Errorf("gathering partition state: %w", ctx.Err())
		}
	}
	slices.SortFunc(snap.Partitions, func(a, b PartitionState) int {
		return cmp.Or(cmp.Compare(a.Topic, b.Topic), cmp.Compare(a.Partition, b.Partition))
	})
	slices.SortFunc(snap.Groups, func(a, b GroupState) int { return cmp.Compare(a.Group, b.Group) })
	return snap, nil
}

// state reads the partition's offsets. Runs on the owning shard.
func (p *partition) state() PartitionState {
	return PartitionState{Topic: p.topic.name, Partition: p.index, LogStartOffset: p.log.LogStartOffset(),
		LogEndOffset: p.log.LogEndOffset(), HighWatermark: p.highWatermark(), SizeBytes: p.log.Size(), ISRSize: 1}
}

// groupStates lists the coordinator's groups and their committed offsets;
// none while it loads or after it unloaded. Runs on the owning shard.
func (gc *groupCoordinator) groupStates() []GroupState {
	if gc.unloaded || gc.c == nil {
		return nil
	}
	listed, err := gc.c.List(nil)
	if err != nil {
		return nil
	}
	out := make([]GroupState, 0, len(listed))
	for _, g := range listed {
		gs := GroupState{Group: g.Group, State: g.State, ProtocolType: g.ProtocolType}
		resp := gc.c.OffsetFetch(&group.OffsetFetchRequest{Group: g.Group})
		for _, t := range resp.Topics {
			for _, p := range t.Partitions {
				if p.Offset >= 0 {
					gs.Offsets = append(gs.Offsets, CommittedOffset{Topic: t.Topic, Partition: p.Partition, Offset: p.Offset})
				}
			}
		}
		out = append(out, gs)
	}
	return out
}
