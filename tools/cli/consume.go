package cli

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
)

// ConsumeArgs say what consume reads and when it stops.
type ConsumeArgs struct {
	Topic     string
	Partition int    // -1: every partition
	Offset    string // "start" (default), "end" or an offset; clamped to the partition's range
	Timestamp string // instead of Offset: the first record at or after this time (RFC 3339 or Unix ms)
	Count     int    // stop after this many records; 0: no limit
	ExitAtEnd bool   // stop at the high watermarks seen when consume started
	Group     string // consume as a member of this group, committing what was printed
}

// maxPollRecords bounds the records taken from the client per poll, and so
// the records one table block holds.
const maxPollRecords = 500

// start is where consumption begins in each partition.
type start struct {
	kind string // "start", "end", "offset" or "time"
	n    int64  // the offset, or the time in Unix ms
}

func parseStart(offset, timestamp string) (start, error) {
	if timestamp != "" {
		if offset != "" {
			return start{}, errors.New("give --offset or --timestamp, not both")
		}
		if ms, err := strconv.ParseInt(timestamp, 10, 64); err == nil {
			return start{"time", ms}, nil
		}
		t, err := time.Parse(time.RFC3339Nano, timestamp)
		if err != nil {
			return start{}, fmt.Errorf("--timestamp: want RFC 3339 (2006-01-02T15:04:05Z) or Unix milliseconds, got %q", timestamp)
		}
		return start{"time", t.UnixMilli()}, nil
	}
	switch offset {
	case "", "start", "beginning", "earliest":
		return start{kind: "start"}, nil
	case "end", "latest":
		return start{kind: "end"}, nil
	}
	n, err := strconv.ParseInt(offset, 10, 64)
	if err != nil || n < 0 {
		return start{}, fmt.Errorf("--offset: want start, end or an offset, got %q", offset)
	}
	return start{"offset", n}, nil
}

// resetOffset is st as a kgo offset, for a group's partitions without a
// committed offset.
func (st start) resetOffset() kgo.Offset {
	switch st.kind {
	case "end":
		return kgo.NewOffset().AtEnd()
	case "offset":
		return kgo.NewOffset().At(st.n)
	case "time":
		return kgo.NewOffset().AfterMilli(st.n)
	}
	return kgo.NewOffset().AtStart()
}

// Consume prints a topic's records from the given start until Count
// records were printed, the high watermarks seen at the start were reached
// (ExitAtEnd), or ctx ends, which is a normal stop (Ctrl-C), not an error.
func (s *Session) Consume(ctx context.Context, a ConsumeArgs) (err error) {
	pr, err := newPrinter(s.out, s.opts.Format)
	if err != nil {
		return err
	}
	st, err := parseStart(a.Offset, a.Timestamp)
	if err != nil {
		return err
	}
	if a.Topic == "" {
		return errors.New("consume: missing topic")
	}
	if a.Group != "" && (a.Partition >= 0 || a.ExitAtEnd) {
		return errors.New("consume: a group assigns the partitions; -p and -e do not apply with --group")
	}
	if err := checkPartition(a.Partition); err != nil {
		return err
	}
	if a.Count < 0 {
		return errors.New("consume: -n must not be negative")
	}
	ends, starts, err := s.resolveStarts(ctx, a, st)
	if err != nil {
		return err
	}

	var opts []kgo.Opt
	if a.Group != "" {
		opts = append(opts, kgo.ConsumerGroup(a.Group), kgo.ConsumeTopics(a.Topic),
			kgo.ConsumeResetOffset(st.resetOffset()), kgo.AutoCommitMarks())
	} else {
		m := map[int32]kgo.Offset{}
		for p, o := range starts {
			m[p] = kgo.NewOffset().At(o)
		}
		opts = append(opts, kgo.ConsumePartitions(map[string]map[int32]kgo.Offset{a.Topic: m}))
	}
	cl, err := s.newClient(opts...)
	if err != nil {
		return err
	}
	defer cl.Close()
	if a.Group != "" {
		// Commit what was printed, whichever way the loop ends; the
		// session's own context may already be cancelled by then.
		defer func() {
			cctx, cancel := context.WithTimeout(context.Background(), s.opts.Timeout)
			defer cancel()
			if cerr := cl.CommitMarkedOffsets(cctx); cerr != nil && err == nil {
				err = s.wrap(cctx, "consume: commit", cerr)
			}
		}()
	}

	// pending are the partitions -e still waits on.
	pending := map[int32]bool{}
	if a.ExitAtEnd {
		for p, o := range starts {
			if o < ends[p] {
				pending[p] = true
			}
		}
	}
	printed := 0
	for (a.Count == 0 || printed < a.Count) && (!a.ExitAtEnd || len(pending) > 0) {
		n := maxPollRecords
		if a.Count > 0 {
			n = min(n, a.Count-printed)
		}
		fetches := cl.PollRecords(ctx, n)
		if ctx.Err() != nil || fetches.IsClientClosed() {
			break
		}
		var fetchErr error
		fetches.EachError(func(t string, p int32, err error) {
			if fetchErr == nil && !errors.Is(err, context.Canceled) {
				fetchErr = fmt.Errorf("consume %s[%d]: %w", t, p, kafkaErr(err, ""))
			}
		})
		if fetchErr != nil {
			return fetchErr
		}
		for _, r := range fetches.Records() {
			if a.ExitAtEnd {
				if !pending[r.Partition] || r.Offset >= ends[r.Partition] {
					continue // past the end -e stops at
				}
				if r.Offset+1 >= ends[r.Partition] {
					delete(pending, r.Partition)
				}
			}
			if err := pr.print(r); err != nil {
				return err
			}
			if a.Group != "" {
				cl.MarkCommitRecords(r)
			}
			printed++
			if a.Count > 0 && printed == a.Count {
				break
			}
		}
		if err := pr.flush(); err != nil {
			return err
		}
	}
	return pr.flush()
}

// resolveStarts checks the topic and partition exist and, outside a group,
// turns st into an offset per partition. ends are the high watermarks.
func (s *Session) resolveStarts(ctx context.Context, a ConsumeArgs, st start) (ends, starts map[int32]int64, err error) {
	ctx, cancel := s.timeout(ctx)
	defer cancel()
	listed, err := s.adm.ListEndOffsets(ctx, a.Topic)
	if err == nil {
		err = listedErr(listed)
	}
	if err != nil {
		return nil, nil, s.wrap(ctx, "consume "+a.Topic, err)
	}
	ends = map[int32]int64{}
	for p, o := range listed[a.Topic] {
		if a.Partition < 0 || int(p) == a.Partition {
			ends[p] = o.Offset
		}
	}
	if len(ends) == 0 {
		return nil, nil, fmt.Errorf("consume %s: no partition %d", a.Topic, a.Partition)
	}
	if a.Group != "" {
		return ends, nil, nil
	}
	var from kadm.ListedOffsets
	switch st.kind {
	case "start", "offset":
		from, err = s.adm.ListStartOffsets(ctx, a.Topic)
	case "time":
		from, err = s.adm.ListOffsetsAfterMilli(ctx, st.n, a.Topic)
	}
	if err == nil {
		err = listedErr(from)
	}
	if err != nil {
		return nil, nil, s.wrap(ctx, "consume "+a.Topic, err)
	}
	starts = map[int32]int64{}
	for p, end := range ends {
		o := end
		if f, ok := from.Lookup(a.Topic, p); ok {
			o = f.Offset
		}
		if st.kind == "offset" {
			o = min(max(st.n, o), end)
		}
		if o < 0 { // no record at or after the time
			o = end
		}
		starts[p] = o
	}
	return ends, starts, nil
}

// listedErr is the first per-partition error of a ListOffsets answer; a
// missing topic shows up as UNKNOWN_TOPIC_OR_PARTITION on partition -1.
func listedErr(l kadm.ListedOffsets) error {
	if err := l.Error(); err != nil {
		if errors.Is(err, kerr.UnknownTopicOrPartition) {
			return errors.New("topic does not exist")
		}
		return kafkaErr(err, "")
	}
	return nil
}
