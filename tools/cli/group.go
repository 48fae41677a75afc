package cli

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strconv"
	"strings"

	"github.com/twmb/franz-go/pkg/kadm"
)

// GroupList lists the cluster's groups with their state and coordinator.
func (s *Session) GroupList(ctx context.Context) error {
	if err := s.tableOnly(); err != nil {
		return err
	}
	ctx, cancel := s.timeout(ctx)
	defer cancel()
	groups, err := s.adm.ListGroups(ctx)
	if err != nil {
		return s.wrap(ctx, "group list", err)
	}
	type row struct {
		Group        string `json:"group"`
		State        string `json:"state"`
		ProtocolType string `json:"protocol_type"`
		Coordinator  int32  `json:"coordinator"`
	}
	rows := []row{}
	for _, g := range groups.Sorted() {
		rows = append(rows, row{g.Group, g.State, g.ProtocolType, g.Coordinator})
	}
	if s.json() {
		return writeJSON(s.out, rows)
	}
	t := newTable(s.out, "GROUP", "STATE", "PROTOCOL-TYPE", "COORDINATOR")
	for _, r := range rows {
		t.row(r.Group, r.State, r.ProtocolType, r.Coordinator)
	}
	return t.flush()
}

type memberRow struct {
	MemberID   string   `json:"member_id"`
	InstanceID *string  `json:"instance_id"`
	ClientID   string   `json:"client_id"`
	Host       string   `json:"host"`
	Assigned   []string `json:"assigned"` // topic[partition,...]
}

type lagRow struct {
	Topic     string `json:"topic"`
	Partition int32  `json:"partition"`
	Committed int64  `json:"committed"` // -1: none
	LogEnd    int64  `json:"log_end"`
	Lag       int64  `json:"lag"` // -1: unknown
	MemberID  string `json:"member_id"`
	Error     string `json:"error,omitempty"`
}

// GroupDescribe prints a group's state, members and their assignments, and
// its committed offsets with the lag behind each partition's end.
func (s *Session) GroupDescribe(ctx context.Context, group string) error {
	if err := s.tableOnly(); err != nil {
		return err
	}
	ctx, cancel := s.timeout(ctx)
	defer cancel()
	lags, err := s.adm.Lag(ctx, group)
	if err != nil {
		return s.wrap(ctx, "group describe", err)
	}
	g, ok := lags[group]
	if !ok {
		return fmt.Errorf("group describe %s: no answer for this group", group)
	}
	if err := g.Error(); err != nil {
		return fmt.Errorf("group describe %s: %w", group, kafkaErr(err, ""))
	}
	members := []memberRow{}
	for _, m := range g.Members {
		r := memberRow{MemberID: m.MemberID, InstanceID: m.InstanceID, ClientID: m.ClientID, Host: m.ClientHost, Assigned: []string{}}
		if c, ok := m.Assigned.AsConsumer(); ok {
			for _, t := range c.Topics {
				ps := append([]int32(nil), t.Partitions...)
				sort.Slice(ps, func(i, j int) bool { return ps[i] < ps[j] })
				r.Assigned = append(r.Assigned, fmt.Sprintf("%s[%s]", t.Topic, int32List(ps)))
			}
		}
		members = append(members, r)
	}
	offsets := []lagRow{}
	for _, l := range g.Lag.Sorted() {
		r := lagRow{Topic: l.Topic, Partition: l.Partition, Committed: l.Commit.At, LogEnd: l.End.Offset, Lag: l.Lag}
		if l.Member != nil {
			r.MemberID = l.Member.MemberID
		}
		if l.Err != nil {
			r.Error = kafkaErr(l.Err, "").Error()
		}
		offsets = append(offsets, r)
	}
	if s.json() {
		return writeJSON(s.out, struct {
			Group        string      `json:"group"`
			State        string      `json:"state"`
			ProtocolType string      `json:"protocol_type"`
			Protocol     string      `json:"protocol"`
			Coordinator  int32       `json:"coordinator"`
			Members      []memberRow `json:"members"`
			Offsets      []lagRow    `json:"offsets"`
		}{g.Group, g.State, g.ProtocolType, g.Protocol, g.Coordinator.NodeID, members, offsets})
	}
	protocol := g.ProtocolType
	if g.Protocol != "" {
		protocol += " (" + g.Protocol + ")"
	}
	fmt.Fprintf(s.out, "group:        %s\nstate:        %s\nprotocol:     %s\ncoordinator:  %d\nmembers:      %d\n\n",
		g.Group, g.State, protocol, g.Coordinator.NodeID, len(members))
	if len(members) > 0 {
		t := newTable(s.out, "MEMBER", "CLIENT-ID", "HOST", "ASSIGNED")
		for _, m := range members {
			t.row(m.MemberID, m.ClientID, m.Host, strings.Join(m.Assigned, " "))
		}
		if err := t.flush(); err != nil {
			return err
		}
		fmt.Fprintln(s.out)
	}
	t := newTable(s.out, "TOPIC", "PARTITION", "COMMITTED", "LOG-END", "LAG", "MEMBER", "ERROR")
	for _, o := range offsets {
		t.row(o.Topic, o.Partition, o.Committed, o.LogEnd, o.Lag, o.MemberID, o.Error)
	}
	return t.flush()
}

// ResetTo says where reset-offsets moves a group: "earliest", "latest" or
// "offset" (Offset, clamped to each partition's range as
// kafka-consumer-groups.sh does).
type ResetTo struct {
	Kind   string
	Offset int64
}

// ParseResetTo reads the --to-earliest, --to-latest and --to-offset flags,
// of which exactly one must be given (offset "" is not given).
func ParseResetTo(earliest, latest bool, offset string) (ResetTo, error) {
	var to []ResetTo
	if earliest {
		to = append(to, ResetTo{Kind: "earliest"})
	}
	if latest {
		to = append(to, ResetTo{Kind: "latest"})
	}
	if offset != "" {
		n, err := strconv.ParseInt(offset, 10, 64)
		if err != nil || n < 0 {
			return ResetTo{}, fmt.Errorf("--to-offset: want an offset, got %q", offset)
		}
		to = append(to, ResetTo{Kind: "offset", Offset: n})
	}
	if len(to) != 1 {
		return ResetTo{}, errors.New("give one of --to-earliest, --to-latest or --to-offset N")
	}
	return to[0], nil
}

// GroupResetOffsets commits new offsets for every partition of topic in an
// inactive group. Like kafka-consumer-groups.sh it refuses while the group
// has members, whose next commit would undo the reset.
func (s *Session) GroupResetOffsets(ctx context.Context, group, topic string, to ResetTo) error {
	if err := s.tableOnly(); err != nil {
		return err
	}
	if topic == "" {
		return errors.New("group reset-offsets: missing --topic")
	}
	ctx, cancel := s.timeout(ctx)
	defer cancel()
	described, err := s.adm.DescribeGroups(ctx, group)
	if err != nil {
		return s.wrap(ctx, "group reset-offsets", err)
	}
	if d, ok := described[group]; ok {
		if d.Err != nil {
			return fmt.Errorf("group reset-offsets %s: %w", group, kafkaErr(d.Err, d.ErrMessage))
		}
		if d.State != "Empty" && d.State != "Dead" {
			return fmt.Errorf("group reset-offsets %s: the group is %s with %d members; stop its consumers first", group, d.State, len(d.Members))
		}
	}
	starts, err := s.adm.ListStartOffsets(ctx, topic)
	if err == nil {
		err = listedErr(starts)
	}
	if err != nil {
		return s.wrap(ctx, "group reset-offsets "+topic, err)
	}
	ends, err := s.adm.ListEndOffsets(ctx, topic)
	if err == nil {
		err = listedErr(ends)
	}
	if err != nil {
		return s.wrap(ctx, "group reset-offsets "+topic, err)
	}
	old, err := s.adm.FetchOffsetsForTopics(ctx, group, topic)
	if err != nil {
		return s.wrap(ctx, "group reset-offsets", err)
	}
	next := kadm.Offsets{}
	for p, end := range ends[topic] {
		o := kadm.Offset{Topic: topic, Partition: p, LeaderEpoch: -1}
		start, _ := starts.Lookup(topic, p)
		switch to.Kind {
		case "earliest":
			o.At = start.Offset
		case "latest":
			o.At = end.Offset
		case "offset":
			o.At = min(max(to.Offset, start.Offset), end.Offset)
		default:
			return fmt.Errorf("group reset-offsets: unknown target %q", to.Kind)
		}
		next.Add(o)
	}
	resps, err := s.adm.CommitOffsets(ctx, group, next)
	if err != nil {
		return s.wrap(ctx, "group reset-offsets", err)
	}
	if err := resps.Error(); err != nil {
		return fmt.Errorf("group reset-offsets %s: %w", group, kafkaErr(err, ""))
	}
	type row struct {
		Topic     string `json:"topic"`
		Partition int32  `json:"partition"`
		Old       int64  `json:"old"` // -1: none committed
		New       int64  `json:"new"`
	}
	rows := []row{}
	for _, o := range next.Sorted() {
		r := row{o.Topic, o.Partition, -1, o.At}
		if prev, ok := old.Lookup(o.Topic, o.Partition); ok && prev.Err == nil {
			r.Old = prev.At
		}
		rows = append(rows, r)
	}
	if s.json() {
		return writeJSON(s.out, rows)
	}
	t := newTable(s.out, "TOPIC", "PARTITION", "OLD", "NEW")
	for _, r := range rows {
		t.row(r.Topic, r.Partition, r.Old, r.New)
	}
	return t.flush()
}
