package cli

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"sort"
	"strings"
	"sync"

	"github.com/twmb/franz-go/pkg/kgo"
)

// MaxLineBytes bounds one input line of produce: Kafka's default
// max.message.bytes (1048588) plus room for a key and separator. A longer
// line is an error rather than a silently split record.
const MaxLineBytes = 1<<20 + 64<<10

// ProduceArgs say how produce turns lines into records.
type ProduceArgs struct {
	Topic        string
	KeySeparator string // split each line at its first KeySeparator into key and value; "" for no keys
	Headers      KV     // added to every record
	Partition    int    // -1: the default partitioner (murmur2 of the key, sticky for no key)
	Acks         string // "all", "1" or "0"
}

func checkPartition(p int) error {
	if p < -1 || p > math.MaxInt32 {
		return fmt.Errorf("-p: want a partition number, got %d", p)
	}
	return nil
}

// acksOpts maps an acks flag to kgo options. Idempotence needs acks=all,
// so the weaker levels turn it off, as the Java producer refuses the mix.
func acksOpts(acks string) ([]kgo.Opt, error) {
	switch acks {
	case "all", "-1":
		return []kgo.Opt{kgo.RequiredAcks(kgo.AllISRAcks())}, nil
	case "1":
		return []kgo.Opt{kgo.RequiredAcks(kgo.LeaderAck()), kgo.DisableIdempotentWrite()}, nil
	case "0":
		return []kgo.Opt{kgo.RequiredAcks(kgo.NoAck()), kgo.DisableIdempotentWrite()}, nil
	}
	return nil, fmt.Errorf("--acks: want all, 1 or 0, got %q", acks)
}

// lineRecord makes the record for one input line.
func lineRecord(line []byte, a *ProduceArgs) *kgo.Record {
	r := &kgo.Record{Topic: a.Topic, Partition: int32(a.Partition)}
	value := line
	if a.KeySeparator != "" {
		// Like kcat -K: a line without the separator has no key.
		if i := strings.Index(string(line), a.KeySeparator); i >= 0 {
			r.Key = append([]byte(nil), line[:i]...)
			value = line[i+len(a.KeySeparator):]
		}
	}
	r.Value = append([]byte(nil), value...)
	for _, h := range a.Headers {
		r.Headers = append(r.Headers, kgo.RecordHeader{Key: h.Key, Value: []byte(h.Value)})
	}
	return r
}

type producedPartition struct {
	Partition   int32 `json:"partition"`
	Records     int   `json:"records"`
	FirstOffset int64 `json:"first_offset"`
	LastOffset  int64 `json:"last_offset"`
}

// Produce sends one record per line of in (empty lines are skipped, as
// kcat does) and, once all are acknowledged, prints how many went to each
// partition and at which offsets (-1 with acks=0, which learns none).
// It stops at the first record that fails and names its line. Memory is
// bounded by kgo's MaxBufferedRecords (10000): Produce blocks when that
// many are in flight.
func (s *Session) Produce(ctx context.Context, a ProduceArgs, in io.Reader) error {
	if err := s.tableOnly(); err != nil {
		return err
	}
	if a.Topic == "" {
		return errors.New("produce: missing topic")
	}
	if err := checkPartition(a.Partition); err != nil {
		return err
	}
	opts, err := acksOpts(a.Acks)
	if err != nil {
		return err
	}
	// A producer may create the topic, as the Java client's metadata
	// requests do; the broker's auto.create.topics.enable decides.
	// Every record gets --timeout from being read to being acknowledged,
	// so a dead cluster ends the command instead of buffering forever.
	opts = append(opts, kgo.AllowAutoTopicCreation(), kgo.ProducerLinger(0), kgo.RecordDeliveryTimeout(s.opts.Timeout))
	if a.Partition >= 0 {
		opts = append(opts, kgo.RecordPartitioner(kgo.ManualPartitioner()))
	}
	cl, err := s.newClient(opts...)
	if err != nil {
		return err
	}
	defer cl.Close()

	var (
		mu       sync.Mutex
		firstErr error
		parts    = map[int32]*producedPartition{}
	)
	failed := func() bool { mu.Lock(); defer mu.Unlock(); return firstErr != nil }
	sc := bufio.NewScanner(in)
	sc.Buffer(make([]byte, 64<<10), MaxLineBytes)
	lineNo := 0
	for sc.Scan() && !failed() {
		lineNo++
		line := sc.Bytes()
		if len(line) == 0 {
			continue
		}
		n := lineNo
		cl.Produce(ctx, lineRecord(line, &a), func(r *kgo.Record, err error) {
			mu.Lock()
			defer mu.Unlock()
			if err != nil {
				if firstErr == nil {
					firstErr = fmt.Errorf("line %d: %w", n, kafkaErr(err, ""))
				}
				return
			}
			p := parts[r.Partition]
			if p == nil {
				p = &producedPartition{Partition: r.Partition, FirstOffset: r.Offset}
				parts[r.Partition] = p
			}
			p.Records++
			p.FirstOffset = min(p.FirstOffset, r.Offset)
			p.LastOffset = max(p.LastOffset, r.Offset)
		})
	}
	scanErr := sc.Err()
	if err := cl.Flush(ctx); err != nil {
		return s.wrap(ctx, "produce", err)
	}
	if errors.Is(scanErr, bufio.ErrTooLong) {
		return fmt.Errorf("produce: line %d is longer than %d bytes", lineNo+1, MaxLineBytes)
	}
	if scanErr != nil {
		return fmt.Errorf("produce: reading input: %w", scanErr)
	}
	if firstErr != nil {
		return s.wrap(ctx, "produce", firstErr)
	}
	out := make([]producedPartition, 0, len(parts))
	total := 0
	for _, p := range parts {
		if a.Acks == "0" {
			p.FirstOffset, p.LastOffset = -1, -1
		}
		out = append(out, *p)
		total += p.Records
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Partition < out[j].Partition })
	if s.json() {
		return writeJSON(s.out, struct {
			Topic      string              `json:"topic"`
			Records    int                 `json:"records"`
			Partitions []producedPartition `json:"partitions"`
		}{a.Topic, total, out})
	}
	t := newTable(s.out, "TOPIC", "PARTITION", "RECORDS", "FIRST-OFFSET", "LAST-OFFSET")
	for _, p := range out {
		t.row(a.Topic, p.Partition, p.Records, p.FirstOffset, p.LastOffset)
	}
	return t.flush()
}
