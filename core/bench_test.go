package core

import (
	"bufio"
	"context"
	"encoding/binary"
	"flag"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/HdrHistogram/hdrhistogram-go"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"
	"golang.org/x/sys/unix"
)

// Benchmarks of the whole broker over loopback. Each runs once per network
// transport, as sub-benchmarks transport=epoll (netio's event loops, what
// the broker serves with) and transport=stdnet (netio.StdServer: the same
// handlers and loops, with connections served by goroutines over Go's net
// package), so that one run gives the ratio between them.
// tools/bench/broker.sh runs them in rounds and summarises; BENCHMARKS.md
// says how to read them.
//
// Every run starts a fresh broker (default shards: one per GOMAXPROCS) in
// b.TempDir() and stops it and removes its data when it ends. The clients
// run in the same process and share the CPUs with the broker, as they
// share the machine in any loopback test.
//
// Where a client fans work out over many connections or goroutines, b.N is
// split between them, which b.Loop cannot express; setup happens before
// b.ResetTimer.

var benchTransports = []struct {
	name string
	std  bool
}{{"epoll", false}, {"stdnet", true}}

func eachTransport(b *testing.B, fn func(b *testing.B, std bool)) {
	for _, tr := range benchTransports {
		b.Run("transport="+tr.name, func(b *testing.B) { fn(b, tr.std) })
	}
}

const (
	benchTopic      = "bench"
	benchRecordSize = 1 << 10
	// benchStallTimeout bounds every wait of a benchmark on the broker: a
	// request-rate connection that makes no progress for this long is
	// closed, and a record not acknowledged in this time fails.
	benchStallTimeout = 30 * time.Second
	// benchRunTimeout bounds one run of a produce benchmark as a whole.
	benchRunTimeout = 10 * time.Minute
	// Latency histograms: 1 ns to 10 s, 3 significant digits.
	benchMaxLatencyNs = int64(10 * time.Second)
)

// startBenchBroker starts a broker on the given transport with a topic of
// the given partitions, stopped when the run ends.
func startBenchBroker(b *testing.B, std bool, partitions int32) *Broker {
	b.Helper()
	br, err := Start(Config{Listen: "127.0.0.1:0", DataDir: b.TempDir(), Logger: quiet, stdNet: std})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), benchStallTimeout)
		defer cancel()
		if err := br.Shutdown(ctx); err != nil {
			b.Error(err)
		}
	})
	cl, err := kgo.NewClient(kgo.SeedBrokers(br.Addr()))
	if err != nil {
		b.Fatal(err)
	}
	defer cl.Close()
	ctx, cancel := context.WithTimeout(context.Background(), benchStallTimeout)
	defer cancel()
	if _, err := kadm.NewClient(cl).CreateTopic(ctx, partitions, 1, nil, benchTopic); err != nil {
		b.Fatal(err)
	}
	return br
}

// Request rate: many connections, each keeping a few requests in flight.
const (
	rateConns = 64
	rateDepth = 4 // requests per connection in flight; clients pipeline up to 5
)

// BenchmarkRequestRate measures how many small requests per second the
// broker answers: ApiVersions (v3, no state touched) and Metadata (v12 for
// one topic of 2 partitions) from rateConns connections, each writing
// rateDepth requests with one write and then reading their responses. The
// client is raw frames over net.Conn, encoded once by kmsg and only
// counted on the way back, so that it costs far less than the broker.
// req/s is the figure; ns/op is its inverse.
func BenchmarkRequestRate(b *testing.B) {
	apiVersions := kmsg.NewPtrApiVersionsRequest()
	apiVersions.Version = 3
	apiVersions.ClientSoftwareName, apiVersions.ClientSoftwareVersion = "sluice-bench", "0"
	metadata := kmsg.NewPtrMetadataRequest()
	metadata.Version = 12
	mt := kmsg.NewMetadataRequestTopic()
	mt.Topic = kmsg.StringPtr(benchTopic)
	metadata.Topics = []kmsg.MetadataRequestTopic{mt}
	for _, req := range []kmsg.Request{apiVersions, metadata} {
		b.Run("api="+kmsg.NameForKey(req.Key()), func(b *testing.B) {
			eachTransport(b, func(b *testing.B, std bool) { benchmarkRequestRate(b, std, req) })
		})
	}
}

func benchmarkRequestRate(b *testing.B, std bool, req kmsg.Request) {
	br := startBenchBroker(b, std, 2)
	frame := kmsg.NewRequestFormatter(kmsg.FormatterClientID("sluice-bench")).AppendRequest(nil, req, 1)
	var window []byte
	for range rateDepth {
		window = append(window, frame...)
	}
	conns := make([]net.Conn, rateConns)
	readers := make([]*bufio.Reader, rateConns)
	for i := range conns {
		c, err := net.Dial("tcp", br.Addr())
		if err != nil {
			b.Fatal(err)
		}
		defer c.Close()
		conns[i], readers[i] = c, bufio.NewReaderSize(c, 64<<10)
		// One exchange, decoded, so that a request the broker rejects
		// fails here rather than measuring closed connections.
		if _, err := c.Write(frame); err != nil {
			b.Fatal(err)
		}
		if err := checkResponse(readers[i], req); err != nil {
			b.Fatal(err)
		}
	}
	var tickets atomic.Int64
	tickets.Store(int64(b.N))
	var firstErr atomic.Pointer[error]
	stop := closeOnStall(conns, tickets.Load)
	defer stop()
	b.ReportAllocs()
	b.ResetTimer()
	var wg sync.WaitGroup
	for i, c := range conns {
		r := readers[i]
		wg.Go(func() {
			var size [4]byte
			for {
				n := takeTickets(&tickets, rateDepth)
				if n == 0 {
					return
				}
				_, err := c.Write(window[:n*len(frame)])
				for ; err == nil && n > 0; n-- {
					if _, err = io.ReadFull(r, size[:]); err == nil {
						_, err = r.Discard(int(binary.BigEndian.Uint32(size[:])))
					}
				}
				if err != nil {
					firstErr.CompareAndSwap(nil, &err)
					return
				}
			}
		})
	}
	wg.Wait()
	b.StopTimer()
	if err := firstErr.Load(); err != nil {
		b.Fatal(*err)
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "req/s")
}

// takeTickets takes up to k of what is left; 0 means nothing is.
func takeTickets(t *atomic.Int64, k int) int {
	left := t.Add(-int64(k))
	if left >= 0 {
		return k
	}
	return int(max(0, left+int64(k)))
}

// closeOnStall closes the connections if progress() does not change for
// benchStallTimeout, which fails their readers instead of hanging the
// benchmark. The returned func stops watching.
func closeOnStall(conns []net.Conn, progress func() int64) (stop func()) {
	done := make(chan struct{})
	go func() {
		t := time.NewTicker(time.Second)
		defer t.Stop()
		last, since := progress(), time.Now()
		for {
			select {
			case <-done:
				return
			case now := <-t.C:
				if p := progress(); p != last {
					last, since = p, now
				} else if now.Sub(since) > benchStallTimeout {
					for _, c := range conns {
						c.Close()
					}
					return
				}
			}
		}
	}()
	return func() { close(done) }
}

// checkResponse reads one response to req and checks it decodes without
// an error code.
func checkResponse(r *bufio.Reader, req kmsg.Request) error {
	var size [4]byte
	if _, err := io.ReadFull(r, size[:]); err != nil {
		return err
	}
	body := make([]byte, binary.BigEndian.Uint32(size[:]))
	if _, err := io.ReadFull(r, body); err != nil {
		return err
	}
	resp := req.ResponseKind()
	resp.SetVersion(req.GetVersion())
	body = body[4:] // correlation id
	if resp.IsFlexible() && req.Key() != kmsg.ApiVersions.Int16() {
		body = body[1:] // no tagged fields in our header
	}
	if err := resp.ReadFrom(body); err != nil {
		return fmt.Errorf("%s response: %w", kmsg.NameForKey(req.Key()), err)
	}
	switch resp := resp.(type) {
	case *kmsg.ApiVersionsResponse:
		if resp.ErrorCode != 0 {
			return fmt.Errorf("ApiVersions: error %d", resp.ErrorCode)
		}
	case *kmsg.MetadataResponse:
		if len(resp.Topics) != 1 || resp.Topics[0].ErrorCode != 0 {
			return fmt.Errorf("Metadata: %+v", resp.Topics)
		}
	}
	return nil
}

// Produce throughput: a few clients producing as fast as the broker takes.
const (
	throughputProducers  = 4
	throughputPartitions = 8
)

// BenchmarkProduceThroughput measures produce throughput of 1 KiB records
// from throughputProducers franz-go clients (one connection each) to a
// topic of throughputPartitions partitions, with acks=1 and acks=all. The
// clients batch as franz-go does by default (10 ms linger, batches up to
// ~1 MB, 5 produce requests in flight per connection), without
// compression; acks=all is also franz-go's default idempotent producer.
// The time runs until every record is acknowledged, so MB/s (record values)
// and records/s are what the broker acknowledged. Records are written,
// not fdatasync'd (flush.messages unset), so on one node acks=1 and
// acks=all take the same path.
func BenchmarkProduceThroughput(b *testing.B) {
	for _, acks := range []string{"1", "all"} {
		b.Run("acks="+acks, func(b *testing.B) {
			eachTransport(b, func(b *testing.B, std bool) { benchmarkProduceThroughput(b, std, acks) })
		})
	}
}

func benchmarkProduceThroughput(b *testing.B, std bool, acks string) {
	br := startBenchBroker(b, std, throughputPartitions)
	opts := []kgo.Opt{kgo.ProducerLinger(10 * time.Millisecond)}
	if acks == "1" {
		opts = append(opts, kgo.RequiredAcks(kgo.LeaderAck()), kgo.DisableIdempotentWrite(),
			kgo.MaxProduceRequestsInflightPerBroker(5))
	}
	clients := benchProducers(b, br, throughputProducers, opts...)
	value := benchValue()
	ctx, cancel := context.WithTimeout(context.Background(), benchRunTimeout)
	defer cancel()
	var firstErr atomic.Pointer[error]
	promise := func(_ *kgo.Record, err error) {
		if err != nil {
			firstErr.CompareAndSwap(nil, &err)
		}
	}
	b.SetBytes(benchRecordSize)
	b.ReportAllocs()
	b.ResetTimer()
	var wg sync.WaitGroup
	for i, cl := range clients {
		n := b.N / len(clients)
		if i < b.N%len(clients) {
			n++
		}
		wg.Go(func() {
			for range n {
				cl.Produce(ctx, &kgo.Record{Value: value}, promise)
			}
			if err := cl.Flush(ctx); err != nil {
				firstErr.CompareAndSwap(nil, &err)
			}
		})
	}
	wg.Wait()
	b.StopTimer()
	if err := firstErr.Load(); err != nil {
		b.Fatal(*err)
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "records/s")
}

// benchProducers returns n franz-go producers to the bench topic, each
// with its connection open and the topic's metadata loaded.
func benchProducers(b *testing.B, br *Broker, n int, opts ...kgo.Opt) []*kgo.Client {
	b.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), benchStallTimeout)
	defer cancel()
	var clients []*kgo.Client
	for range n {
		cl, err := kgo.NewClient(append([]kgo.Opt{
			kgo.SeedBrokers(br.Addr()),
			kgo.DefaultProduceTopic(benchTopic),
			kgo.ProducerBatchCompression(kgo.NoCompression()),
			kgo.RecordDeliveryTimeout(benchStallTimeout),
		}, opts...)...)
		if err != nil {
			b.Fatal(err)
		}
		b.Cleanup(cl.Close)
		if err := cl.ProduceSync(ctx, &kgo.Record{Value: benchValue()}).FirstErr(); err != nil {
			b.Fatal(err)
		}
		clients = append(clients, cl)
	}
	return clients
}

// benchValue is one record value of benchRecordSize random (incompressible)
// bytes.
func benchValue() []byte {
	v := make([]byte, benchRecordSize)
	for i := range v {
		v[i] = byte(rand.Uint32())
	}
	return v
}

// Produce latency: many clients at a fixed total rate.
const (
	latencyProducers  = 32
	latencyPartitions = 8
)

// latencyRate is a flag so that the rate can be checked against what both
// transports sustain without a rebuild (tools/bench/broker.sh passes
// PRODUCE_RATE); the rate is in the benchmark's name.
var latencyRate = flag.Int("produce-rate", 5000, "records per second of BenchmarkProduceLatency, all producers together")

// BenchmarkProduceLatency measures produce latency at a fixed rate that
// both transports sustain: latencyProducers franz-go clients (one
// connection each, no linger, acks=all) produce 1 KiB records to a topic
// of latencyPartitions partitions, -produce-rate records per second in
// total, b.N records in all (-benchtime=30000x is 6 s at 5000/s). The load
// is open loop: one pacer sends record i at start + i/rate, round robin
// over the clients, whatever happened to earlier records, and a record's
// latency runs from that intended time to its acknowledgement, so a stall
// counts for every record it delays (no coordinated omission). p50-us,
// p99-us, p99.9-us and max-us are over all b.N records.
//
// The pacer sleeps on its own OS thread with 1 µs timer slack, since Go
// timers oversleep sub-millisecond waits by up to a millisecond here
// (HOST-FACTS.md); spinning instead would take one of the two CPUs from
// the broker. What lateness is left counts as latency, as it must, and is
// reported on its own as sendlag-p99-us and sendlag-p99.9-us (intended to
// actual send time): a floor under the latency figures that is the
// client's, not the broker's.
func BenchmarkProduceLatency(b *testing.B) {
	b.Run(fmt.Sprintf("acks=all/rate=%d", *latencyRate), func(b *testing.B) {
		eachTransport(b, func(b *testing.B, std bool) {
			benchmarkProduceLatency(b, std, latencyProducers, *latencyRate, nil)
		})
	})
}

// benchmarkProduceLatency runs the open-loop produce benchmark; abuse,
// when not nil, starts abusive clients against the broker first
// (BenchmarkProduceLatencyUnderAbuse) and the live heap is reported too.
func benchmarkProduceLatency(b *testing.B, std bool, nProducers, rate int, abuse func(b *testing.B, addr string) (stop func())) {
	br := startBenchBroker(b, std, latencyPartitions)
	clients := benchProducers(b, br, nProducers, kgo.ProducerLinger(0))
	if abuse != nil {
		defer abuse(b, br.Addr())()
	}
	// One histogram per client, merged at the end; franz-go may run one
	// client's promises on more than one goroutine.
	type producer struct {
		cl   *kgo.Client
		mu   sync.Mutex
		hist *hdrhistogram.Histogram
	}
	producers := make([]*producer, len(clients))
	for i, cl := range clients {
		producers[i] = &producer{cl: cl, hist: hdrhistogram.New(1, benchMaxLatencyNs, 3)}
	}
	value := benchValue()
	ctx, cancel := context.WithTimeout(context.Background(), benchRunTimeout)
	defer cancel()
	var firstErr atomic.Pointer[error]
	var acked sync.WaitGroup
	acked.Add(b.N)
	interval := time.Second / time.Duration(rate)
	lag := hdrhistogram.New(1, benchMaxLatencyNs, 3) // the pacer's
	paced := make(chan struct{})
	b.ResetTimer()
	go func() {
		defer close(paced)
		// Never unlocked: the thread ends with the goroutine, and its
		// timer slack with it.
		runtime.LockOSThread()
		unix.Prctl(unix.PR_SET_TIMERSLACK, 1000, 0, 0, 0)
		start := time.Now()
		for i := range b.N {
			intended := start.Add(time.Duration(i) * interval)
			if d := time.Until(intended); d > 0 {
				ts := unix.NsecToTimespec(int64(d))
				for unix.Nanosleep(&ts, &ts) == unix.EINTR {
				}
			}
			lag.RecordValue(min(time.Since(intended).Nanoseconds(), benchMaxLatencyNs))
			p := producers[i%len(producers)]
			p.cl.Produce(ctx, &kgo.Record{Value: value}, func(_ *kgo.Record, err error) {
				if err != nil {
					firstErr.CompareAndSwap(nil, &err)
				}
				ns := min(time.Since(intended).Nanoseconds(), benchMaxLatencyNs)
				p.mu.Lock()
				p.hist.RecordValue(ns)
				p.mu.Unlock()
				acked.Done()
			})
		}
	}()
	// Every promise runs, with an error at worst after
	// RecordDeliveryTimeout, so this wait is bounded.
	acked.Wait()
	b.StopTimer()
	<-paced
	if err := firstErr.Load(); err != nil {
		b.Fatal(*err)
	}
	hist := hdrhistogram.New(1, benchMaxLatencyNs, 3)
	for _, p := range producers {
		hist.Merge(p.hist)
	}
	us := func(q float64) float64 { return float64(hist.ValueAtQuantile(q)) / 1e3 }
	b.ReportMetric(0, "ns/op") // the pacing interval, not a cost
	b.ReportMetric(us(50), "p50-us")
	b.ReportMetric(us(99), "p99-us")
	b.ReportMetric(us(99.9), "p99.9-us")
	b.ReportMetric(float64(hist.Max())/1e3, "max-us")
	b.ReportMetric(float64(lag.ValueAtQuantile(99))/1e3, "sendlag-p99-us")
	b.ReportMetric(float64(lag.ValueAtQuantile(99.9))/1e3, "sendlag-p99.9-us")
	if abuse != nil {
		runtime.GC()
		var m runtime.MemStats
		runtime.ReadMemStats(&m)
		b.ReportMetric(float64(m.HeapInuse)/(1<<20), "heap-MiB")
	}
}
