package group

import (
	"maps"
	"slices"
	"strings"

	"github.com/twmb/franz-go/pkg/kerr"
)

type phase int8

const (
	loading  phase = iota // replaying the log: requests get COORDINATOR_LOAD_IN_PROGRESS
	active                // serving
	unloaded              // gave up the partition: requests get NOT_COORDINATOR
)

// Coordinator holds the groups of one __consumer_offsets partition.
// Runs on the owning shard.
type Coordinator struct {
	cfg     Config
	phase   phase
	groups  map[string]*group
	timers  timerHeap // groups with an armed deadline, earliest first
	sweepAt int64     // next look for expired offsets
	out     Output    // what the current call produces
}

// New returns a coordinator in the loading phase: Replay the partition's
// records into it, then call Loaded. A partition with an empty log needs
// only Loaded.
func New(cfg Config) (*Coordinator, error) {
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	if cfg.MemberIDSuffix == nil {
		cfg.MemberIDSuffix = randomUUID
	}
	return &Coordinator{cfg: cfg, groups: map[string]*group{}}, nil
}

// flush hands over what the current call produced.
func (c *Coordinator) flush() Output {
	out := c.out
	c.out = Output{}
	return out
}

func (c *Coordinator) reply(h Handle, resp any) {
	c.out.Replies = append(c.out.Replies, Reply{Handle: h, Response: resp})
}

func (c *Coordinator) record(key, value []byte) {
	c.out.Records = append(c.out.Records, Record{Key: key, Value: value})
}

// phaseErr is the error every request gets outside the active phase.
func (c *Coordinator) phaseErr() error {
	switch c.phase {
	case loading:
		return kerr.CoordinatorLoadInProgress
	case unloaded:
		return kerr.NotCoordinator
	}
	return nil
}

// newMemberID returns an id no member or pending member of g has: Kafka's
// "<client id or group.instance.id>-<uuid>".
func (c *Coordinator) newMemberID(g *group, prefix string) string {
	for range 8 {
		id := prefix + "-" + c.cfg.MemberIDSuffix()
		if _, pending := g.pending[id]; g.byID[id] == nil && !pending {
			return id
		}
	}
	panic("group: Config.MemberIDSuffix keeps repeating itself")
}

func (c *Coordinator) addGroup(id string) *group {
	g := newGroup(id)
	c.groups[id] = g
	return g
}

// dropGroup forgets a group that is Dead.
func (c *Coordinator) dropGroup(g *group) {
	g.state = Dead
	delete(c.groups, g.id)
	c.timers.remove(g)
}

// dropIfUnused forgets a group a failed request created: nothing of it was
// persisted and nothing refers to it.
func (c *Coordinator) dropIfUnused(g *group) {
	if g.state == Empty && len(g.members) == 0 && len(g.pending) == 0 && len(g.offsets) == 0 && g.generation == 0 {
		c.dropGroup(g)
	}
}

// Describe is one group of DescribeGroups. An unknown group is Dead, and
// from v6 on also GROUP_ID_NOT_FOUND, as in Kafka.
func (c *Coordinator) Describe(groupID string, version int16) DescribeResponse {
	r := DescribeResponse{Group: groupID}
	if r.Err = c.phaseErr(); r.Err != nil {
		return r
	}
	g := c.groups[groupID]
	if g == nil {
		r.State = Dead.String()
		if version >= 6 {
			r.Err = kerr.GroupIDNotFound
		}
		return r
	}
	r.State, r.ProtocolType = g.state.String(), g.protocolType
	stable := g.state == Stable
	if stable {
		r.Protocol = g.protocol
	}
	r.Members = make([]DescribedMember, 0, len(g.members))
	for _, m := range g.members {
		d := DescribedMember{MemberID: m.id, InstanceID: m.instance(), ClientID: m.clientID, ClientHost: m.clientHost}
		if stable {
			d.Metadata, d.Assignment = m.metadata(g.protocol), m.assignment
		}
		r.Members = append(r.Members, d)
	}
	return r
}

// List is this coordinator's part of ListGroups: its groups in one of
// states (case-insensitive; all if none), ordered by id.
func (c *Coordinator) List(states []string) ([]ListedGroup, error) {
	if err := c.phaseErr(); err != nil {
		return nil, err
	}
	var out []ListedGroup
	for _, id := range slices.Sorted(maps.Keys(c.groups)) {
		g := c.groups[id]
		state := g.state.String()
		if len(states) > 0 && !slices.ContainsFunc(states, func(s string) bool { return strings.EqualFold(s, state) }) {
			continue
		}
		out = append(out, ListedGroup{Group: id, ProtocolType: g.protocolType, State: state})
	}
	return out, nil
}

// Unload gives up the partition, as Kafka does on resignation: parked
// JoinGroups and SyncGroups are answered with NOT_COORDINATOR, so their
// clients look for the new coordinator, and every later request gets the
// same.
func (c *Coordinator) Unload() Output {
	for _, id := range slices.Sorted(maps.Keys(c.groups)) {
		for _, m := range c.groups[id].members {
			if m.awaitingJoin {
				c.reply(m.joinHandle, joinError(m.id, kerr.NotCoordinator))
			}
			if m.awaitingSync {
				c.reply(m.syncHandle, &SyncResponse{Err: kerr.NotCoordinator})
			}
		}
	}
	c.groups, c.timers, c.phase = map[string]*group{}, nil, unloaded
	return c.flush()
}

// FailedReplies turns the replies of an Output whose records could not be
// appended into answers carrying err (Kafka answers a failed write of the
// offsets partition with COORDINATOR_NOT_AVAILABLE or NOT_COORDINATOR).
// The caller then rebuilds the coordinator from the log, so the clients,
// told to retry, meet state that matches what was persisted.
func FailedReplies(out Output, err error) []Reply {
	failed := make([]Reply, len(out.Replies))
	for i, r := range out.Replies {
		var resp any
		switch v := r.Response.(type) {
		case *JoinResponse:
			resp = joinError("", err)
		case *SyncResponse:
			resp = &SyncResponse{Err: err}
		case *HeartbeatResponse:
			resp = &HeartbeatResponse{Err: err}
		case *LeaveResponse:
			resp = &LeaveResponse{Err: err}
		case *OffsetCommitResponse:
			resp = &OffsetCommitResponse{Topics: failTopics(v.Topics, err)}
		case *OffsetDeleteResponse:
			resp = &OffsetDeleteResponse{Err: err}
		case *DeleteGroupResponse:
			resp = &DeleteGroupResponse{Group: v.Group, Err: err}
		default:
			panic("group: unknown reply type")
		}
		failed[i] = Reply{Handle: r.Handle, Response: resp}
	}
	return failed
}

// failTopics sets err on every partition that had succeeded.
func failTopics(topics []TopicResult, err error) []TopicResult {
	out := make([]TopicResult, len(topics))
	for i, t := range topics {
		out[i] = TopicResult{Topic: t.Topic, Partitions: slices.Clone(t.Partitions)}
		for j := range out[i].Partitions {
			if out[i].Partitions[j].Err == nil {
				out[i].Partitions[j].Err = err
			}
		}
	}
	return out
}
