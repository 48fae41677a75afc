package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"sort"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
)

// TopicCreate creates topics with the given partitions (-1: the broker's
// num.partitions) of rf replicas (-1: the broker's default) and configs.
// Every topic is attempted; the error names those that failed.
func (s *Session) TopicCreate(ctx context.Context, names []string, partitions, rf int, configs KV) error {
	if err := s.tableOnly(); err != nil {
		return err
	}
	if len(names) == 0 {
		return errors.New("topic create: missing topic name")
	}
	if partitions == 0 || partitions < -1 || partitions > math.MaxInt32 {
		return fmt.Errorf("topic create: --partitions must be positive (or -1 for the broker's default), got %d", partitions)
	}
	if rf == 0 || rf < -1 || rf > math.MaxInt16 {
		return fmt.Errorf("topic create: --replicas must be positive (or -1 for the broker's default), got %d", rf)
	}
	cfg := map[string]*string{}
	for k, v := range configs.Map() {
		cfg[k] = &v
	}
	ctx, cancel := s.timeout(ctx)
	defer cancel()
	resps, err := s.adm.CreateTopics(ctx, int32(partitions), int16(rf), cfg, names...)
	if err != nil {
		return s.wrap(ctx, "topic create", err)
	}
	type created struct {
		Topic      string `json:"topic"`
		ID         string `json:"id"`
		Partitions int32  `json:"partitions"`
		Replicas   int16  `json:"replicas"`
	}
	var ok []created
	var failed []error
	for _, name := range names {
		r, found := resps[name]
		switch {
		case !found:
			failed = append(failed, fmt.Errorf("%s: no answer for this topic", name))
		case r.Err != nil:
			failed = append(failed, fmt.Errorf("%s: %w", name, kafkaErr(r.Err, r.ErrMessage)))
		default:
			ok = append(ok, created{r.Topic, topicID(r.ID), r.NumPartitions, r.ReplicationFactor})
		}
	}
	if s.json() {
		if ok == nil {
			ok = []created{}
		}
		if err := writeJSON(s.out, ok); err != nil {
			return err
		}
	} else if len(ok) > 0 {
		t := newTable(s.out, "TOPIC", "ID", "PARTITIONS", "REPLICAS")
		for _, c := range ok {
			t.row(c.Topic, c.ID, c.Partitions, c.Replicas)
		}
		if err := t.flush(); err != nil {
			return err
		}
	}
	return joinFailures("topic create", failed)
}

// joinFailures makes one line of per-item failures.
func joinFailures(what string, failed []error) error {
	switch len(failed) {
	case 0:
		return nil
	case 1:
		return fmt.Errorf("%s: %w", what, failed[0])
	}
	msg := fmt.Sprintf("%s: %d failed: %v", what, len(failed), failed[0])
	for _, e := range failed[1:] {
		msg += "; " + e.Error()
	}
	return errors.New(msg)
}

type topicSummary struct {
	Topic      string `json:"topic"`
	ID         string `json:"id"`
	Partitions int    `json:"partitions"`
	Replicas   int    `json:"replicas"`
	Internal   bool   `json:"internal,omitempty"`
}

func summarize(d kadm.TopicDetail) topicSummary {
	rf := 0
	for _, p := range d.Partitions {
		rf = max(rf, len(p.Replicas))
	}
	return topicSummary{d.Topic, topicID(d.ID), len(d.Partitions), rf, d.IsInternal}
}

// TopicList lists the cluster's topics (internal ones too when internal).
func (s *Session) TopicList(ctx context.Context, internal bool) error {
	if err := s.tableOnly(); err != nil {
		return err
	}
	ctx, cancel := s.timeout(ctx)
	defer cancel()
	list := s.adm.ListTopics
	if internal {
		list = s.adm.ListTopicsWithInternal
	}
	tds, err := list(ctx)
	if err != nil {
		return s.wrap(ctx, "topic list", err)
	}
	out := []topicSummary{}
	for _, name := range tds.Names() {
		out = append(out, summarize(tds[name]))
	}
	if s.json() {
		return writeJSON(s.out, out)
	}
	t := newTable(s.out, "TOPIC", "ID", "PARTITIONS", "REPLICAS")
	for _, d := range out {
		t.row(d.Topic, d.ID, d.Partitions, d.Replicas)
	}
	return t.flush()
}

type configRow struct {
	Name      string  `json:"name"`
	Value     *string `json:"value"`
	Source    string  `json:"source"`
	Sensitive bool    `json:"sensitive,omitempty"`
}

type partitionRow struct {
	Partition      int32   `json:"partition"`
	Leader         int32   `json:"leader"`
	LeaderEpoch    int32   `json:"leader_epoch"`
	Replicas       []int32 `json:"replicas"`
	ISR            []int32 `json:"isr"`
	LogStartOffset int64   `json:"log_start_offset"`
	HighWatermark  int64   `json:"high_watermark"`
	Error          string  `json:"error,omitempty"`
}

// TopicDescribe prints a topic's partitions (leader, replicas, ISR, log
// start and high watermark) and every config with where its value comes
// from.
func (s *Session) TopicDescribe(ctx context.Context, name string) error {
	if err := s.tableOnly(); err != nil {
		return err
	}
	ctx, cancel := s.timeout(ctx)
	defer cancel()
	tds, err := s.adm.ListTopicsWithInternal(ctx, name)
	if err != nil {
		return s.wrap(ctx, "topic describe", err)
	}
	d, ok := tds[name]
	if !ok {
		return fmt.Errorf("topic describe %s: %w", name, kafkaErr(kerr.UnknownTopicOrPartition, ""))
	}
	if d.Err != nil {
		return fmt.Errorf("topic describe %s: %w", name, kafkaErr(d.Err, ""))
	}
	starts, err := s.adm.ListStartOffsets(ctx, name)
	if err != nil {
		return s.wrap(ctx, "topic describe", err)
	}
	ends, err := s.adm.ListEndOffsets(ctx, name)
	if err != nil {
		return s.wrap(ctx, "topic describe", err)
	}
	rcs, err := s.adm.DescribeTopicConfigs(ctx, name)
	if err != nil {
		return s.wrap(ctx, "topic describe", err)
	}
	rc, err := rcs.On(name, nil)
	if err == nil {
		err = kafkaErr(rc.Err, rc.ErrMessage)
	}
	if err != nil {
		return fmt.Errorf("topic describe %s: configs: %w", name, err)
	}

	parts := []partitionRow{}
	for _, p := range d.Partitions.Sorted() {
		row := partitionRow{Partition: p.Partition, Leader: p.Leader, LeaderEpoch: p.LeaderEpoch,
			Replicas: p.Replicas, ISR: p.ISR, LogStartOffset: -1, HighWatermark: -1}
		if o, ok := starts.Lookup(name, p.Partition); ok && o.Err == nil {
			row.LogStartOffset = o.Offset
		}
		if o, ok := ends.Lookup(name, p.Partition); ok && o.Err == nil {
			row.HighWatermark = o.Offset
		}
		if p.Err != nil {
			row.Error = kafkaErr(p.Err, "").Error()
		}
		parts = append(parts, row)
	}
	configs := configRows(rc.Configs)
	sum := summarize(d)
	if s.json() {
		return writeJSON(s.out, struct {
			topicSummary
			PartitionList []partitionRow `json:"partition_details"`
			Configs       []configRow    `json:"configs"`
		}{sum, parts, configs})
	}
	fmt.Fprintf(s.out, "topic:       %s\nid:          %s\npartitions:  %d\nreplicas:    %d\n\n",
		sum.Topic, sum.ID, sum.Partitions, sum.Replicas)
	t := newTable(s.out, "PARTITION", "LEADER", "EPOCH", "REPLICAS", "ISR", "LOG-START", "HIGH-WATERMARK", "ERROR")
	for _, p := range parts {
		t.row(p.Partition, p.Leader, p.LeaderEpoch, int32List(p.Replicas), int32List(p.ISR), p.LogStartOffset, p.HighWatermark, p.Error)
	}
	if err := t.flush(); err != nil {
		return err
	}
	fmt.Fprintln(s.out)
	return printConfigs(s.out, configs)
}

func configRows(cs []kadm.Config) []configRow {
	rows := make([]configRow, 0, len(cs))
	for _, c := range cs {
		rows = append(rows, configRow{c.Key, c.Value, c.Source.String(), c.Sensitive})
	}
	sort.Slice(rows, func(i, j int) bool { return rows[i].Name < rows[j].Name })
	return rows
}

func printConfigs(w io.Writer, rows []configRow) error {
	t := newTable(w, "CONFIG", "VALUE", "SOURCE")
	for _, c := range rows {
		v := "-"
		if c.Value != nil {
			v = *c.Value
		}
		t.row(c.Name, v, c.Source)
	}
	return t.flush()
}

// TopicAlterConfig sets and deletes (reverts to the default) a topic's
// configs with IncrementalAlterConfigs, then prints the altered configs as
// the broker now reports them.
func (s *Session) TopicAlterConfig(ctx context.Context, name string, set KV, del []string) error {
	if err := s.tableOnly(); err != nil {
		return err
	}
	if len(set) == 0 && len(del) == 0 {
		return errors.New("topic alter-config: nothing to change (give -c k=v or --delete k)")
	}
	var alters []kadm.AlterConfig
	touched := map[string]bool{}
	for k, v := range set.Map() {
		alters = append(alters, kadm.AlterConfig{Op: kadm.SetConfig, Name: k, Value: &v})
		touched[k] = true
	}
	for _, k := range del {
		if touched[k] {
			return fmt.Errorf("topic alter-config: %s is both set and deleted", k)
		}
		alters = append(alters, kadm.AlterConfig{Op: kadm.DeleteConfig, Name: k})
		touched[k] = true
	}
	ctx, cancel := s.timeout(ctx)
	defer cancel()
	resps, err := s.adm.AlterTopicConfigs(ctx, alters, name)
	if err != nil {
		return s.wrap(ctx, "topic alter-config", err)
	}
	r, err := resps.On(name, nil)
	if err == nil {
		err = kafkaErr(r.Err, r.ErrMessage)
	}
	if err != nil {
		return fmt.Errorf("topic alter-config %s: %w", name, err)
	}
	rcs, err := s.adm.DescribeTopicConfigs(ctx, name)
	if err != nil {
		return s.wrap(ctx, "topic alter-config: describe", err)
	}
	rc, err := rcs.On(name, nil)
	if err == nil {
		err = kafkaErr(rc.Err, rc.ErrMessage)
	}
	if err != nil {
		return fmt.Errorf("topic alter-config %s: describe: %w", name, err)
	}
	var rows []configRow
	for _, c := range configRows(rc.Configs) {
		if touched[c.Name] {
			rows = append(rows, c)
		}
	}
	if s.json() {
		if rows == nil {
			rows = []configRow{}
		}
		return writeJSON(s.out, rows)
	}
	return printConfigs(s.out, rows)
}

// TopicDelete deletes topics; every one is attempted and the error names
// those that failed.
func (s *Session) TopicDelete(ctx context.Context, names []string) error {
	if err := s.tableOnly(); err != nil {
		return err
	}
	if len(names) == 0 {
		return errors.New("topic delete: missing topic name")
	}
	ctx, cancel := s.timeout(ctx)
	defer cancel()
	resps, err := s.adm.DeleteTopics(ctx, names...)
	if err != nil {
		return s.wrap(ctx, "topic delete", err)
	}
	type deleted struct {
		Topic string `json:"topic"`
		ID    string `json:"id"`
	}
	ok := []deleted{}
	var failed []error
	for _, name := range names {
		r, found := resps[name]
		switch {
		case !found:
			failed = append(failed, fmt.Errorf("%s: no answer for this topic", name))
		case r.Err != nil:
			failed = append(failed, fmt.Errorf("%s: %w", name, kafkaErr(r.Err, r.ErrMessage)))
		default:
			ok = append(ok, deleted{name, topicID(r.ID)})
		}
	}
	if s.json() {
		if err := writeJSON(s.out, ok); err != nil {
			return err
		}
	} else if len(ok) > 0 {
		t := newTable(s.out, "DELETED", "ID")
		for _, d := range ok {
			t.row(d.Topic, d.ID)
		}
		if err := t.flush(); err != nil {
			return err
		}
	}
	return joinFailures("topic delete", failed)
}
