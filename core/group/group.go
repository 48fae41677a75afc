package group

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"math"
	"slices"

	"github.com/twmb/franz-go/pkg/kerr"
)

// State is a group's state, as Kafka names it.
type State int8

const (
	// Empty: no members; the group lingers for its offsets.
	Empty State = iota
	// PreparingRebalance: join phase; JoinGroups are parked until every
	// member has rejoined or the rebalance timeout passes.
	PreparingRebalance
	// CompletingRebalance: sync phase; waiting for the leader's assignment.
	CompletingRebalance
	// Stable: every member has its assignment.
	Stable
	// Dead: the group is gone (deleted, expired, or its coordinator
	// unloaded).
	Dead
)

var stateNames = [...]string{"Empty", "PreparingRebalance", "CompletingRebalance", "Stable", "Dead"}

func (s State) String() string {
	if int(s) < len(stateNames) {
		return stateNames[s]
	}
	return fmt.Sprintf("State(%d)", int8(s))
}

// validPrevious lists, per state, the states it may be entered from:
// Kafka's GroupMetadata.validPreviousStates.
var validPrevious = [...][]State{
	Empty:               {PreparingRebalance},
	PreparingRebalance:  {Stable, CompletingRebalance, Empty},
	CompletingRebalance: {PreparingRebalance},
	Stable:              {CompletingRebalance},
	Dead:                {Empty, PreparingRebalance, CompletingRebalance, Stable, Dead},
}

// never is the deadline of a timer that is not armed.
const never = math.MaxInt64

// newMemberJoinTimeoutMs bounds how long a member that joined during this
// rebalance waits in the join phase: Kafka's NewMemberJoinTimeoutMs. Its
// JoinGroup is parked, so it cannot heartbeat, and a client that gave up
// and retried would otherwise leave a defunct member behind.
const newMemberJoinTimeoutMs = 5 * 60 * 1000

// consumerProtocolType is the protocol type of Kafka consumers, whose
// subscriptions the coordinator reads for OffsetDelete and offset expiry.
const consumerProtocolType = "consumer"

type member struct {
	id         string
	instanceID string // group.instance.id; empty for a dynamic member
	clientID   string
	clientHost string
	protocols  []Protocol
	// assignment is nil until the leader's SyncGroup of the generation
	// assigns it (an empty slice if the leader left the member out).
	assignment         []byte
	sessionTimeoutMs   int32
	rebalanceTimeoutMs int32

	// awaitingJoin: a JoinGroup of the member is parked (joinHandle).
	awaitingJoin bool
	joinHandle   Handle
	// awaitingSync: a SyncGroup of the member is parked (syncHandle).
	awaitingSync bool
	syncHandle   Handle
	// isNew: the member joined during the current join phase; it has no
	// generation yet and expires by newMemberJoinTimeoutMs.
	isNew bool
	// deadline is when the member is removed unless it heartbeats; never
	// while a parked JoinGroup or SyncGroup stands for its heartbeats.
	deadline int64
}

func (m *member) instance() *string {
	if m.instanceID == "" {
		return nil
	}
	s := m.instanceID
	return &s
}

// metadata is the member's metadata for protocol.
func (m *member) metadata(protocol string) []byte {
	for _, p := range m.protocols {
		if p.Name == protocol {
			return p.Metadata
		}
	}
	return nil
}

// matches reports whether protocols are the member's, in the same order
// with the same metadata.
func (m *member) matches(protocols []Protocol) bool {
	return slices.EqualFunc(m.protocols, protocols, func(a, b Protocol) bool {
		return a.Name == b.Name && bytes.Equal(a.Metadata, b.Metadata)
	})
}

// vote is the member's preferred protocol among candidates.
func (m *member) vote(candidates map[string]bool) string {
	for _, p := range m.protocols {
		if candidates[p.Name] {
			return p.Name
		}
	}
	return ""
}

type topicPartition struct {
	topic     string
	partition int32
}

// offset is a committed offset.
type offset struct {
	offset          int64
	leaderEpoch     int32
	metadata        string
	commitTimestamp int64
	// expireTimestamp is set only by old records (OffsetCommitValue v1)
	// that carried their own expiry; -1 otherwise.
	expireTimestamp int64
}

type group struct {
	id    string
	state State
	// stateTimestamp is when the group entered its state (ms); -1 if
	// unknown. It is the base of offset expiry for an Empty group.
	stateTimestamp int64
	protocolType   string // "" until a member joins: a simple group
	protocol       string // selected; "" when none
	generation     int32
	leader         string // "" iff there are no members

	members []*member // in join order, which makes every choice deterministic
	byID    map[string]*member
	static  map[string]string // group.instance.id -> member id
	// pending holds the member ids handed out with MEMBER_ID_REQUIRED,
	// until they rejoin or their session timeout passes.
	pending map[string]int64
	// pendingSync holds the members that have not sent SyncGroup in the
	// current generation.
	pendingSync  map[string]bool
	numAwaiting  int            // members with awaitingJoin
	supported    map[string]int // protocol name -> members supporting it
	subscribed   map[string]bool
	subscribedOK bool // subscribed is known (a consumer group whose subscriptions parse)

	// The join phase ends at joinDeadline, earlier if every member rejoins,
	// except while joinInitial (group.initial.rebalance.delay.ms), which
	// waits out its delay and extends it while new members arrive and
	// joinRemainingMs of the rebalance timeout is left.
	joinDeadline    int64
	joinInitial     bool
	joinDelayMs     int64
	joinRemainingMs int64
	newMemberAdded  bool
	// joinWaiting: the join phase ended with only static members that
	// had not rejoined; it ends at the next multiple of joinWaitPeriodMs
	// after joinWaitSince once one of them rejoins.
	joinWaiting      bool
	joinWaitSince    int64
	joinWaitPeriodMs int64
	// syncDeadline ends the sync phase: members still in pendingSync are
	// removed and the group rebalances again.
	syncDeadline int64

	offsets map[topicPartition]offset

	// metadataLoaded: Replay saw a metadata record for the group.
	metadataLoaded bool

	next      int64 // earliest armed deadline
	heapIndex int   // in Coordinator.timers; -1 if not there
}

func newGroup(id string) *group {
	return &group{
		id:             id,
		state:          Empty,
		stateTimestamp: -1,
		byID:           map[string]*member{},
		static:         map[string]string{},
		pending:        map[string]int64{},
		pendingSync:    map[string]bool{},
		supported:      map[string]int{},
		offsets:        map[topicPartition]offset{},
		joinDeadline:   never,
		syncDeadline:   never,
		next:           never,
		heapIndex:      -1,
	}
}

func (g *group) transition(s State, now int64) {
	if !slices.Contains(validPrevious[s], g.state) {
		panic(fmt.Sprintf("group %q: transition %v -> %v", g.id, g.state, s))
	}
	g.state = s
	g.stateTimestamp = now
}

func (g *group) isLeader(id string) bool { return id != "" && g.leader == id }

// add makes m a member; a parked JoinGroup comes with it when awaiting.
// The first member sets the group's protocol type.
func (g *group) add(m *member, protocolType string) {
	if len(g.members) == 0 {
		g.protocolType = protocolType
	}
	if m.instanceID != "" {
		g.static[m.instanceID] = m.id
	}
	if g.leader == "" {
		g.leader = m.id
	}
	g.members = append(g.members, m)
	g.byID[m.id] = m
	for _, p := range m.protocols {
		g.supported[p.Name]++
	}
	if m.awaitingJoin {
		g.numAwaiting++
	}
	delete(g.pending, m.id)
}

// remove drops a member (or a pending member id) without answering its
// parked requests; callers answer them first.
func (g *group) remove(id string) {
	delete(g.pending, id)
	delete(g.pendingSync, id)
	m := g.byID[id]
	if m == nil {
		return
	}
	delete(g.byID, id)
	g.members = slices.DeleteFunc(g.members, func(x *member) bool { return x == m })
	for _, p := range m.protocols {
		if g.supported[p.Name]--; g.supported[p.Name] == 0 {
			delete(g.supported, p.Name)
		}
	}
	if m.awaitingJoin {
		g.numAwaiting--
	}
	if m.instanceID != "" {
		delete(g.static, m.instanceID)
	}
	if g.leader == id {
		g.leader = ""
		if len(g.members) > 0 {
			g.leader = g.members[0].id
		}
	}
}

// setProtocols replaces a member's protocols, keeping the counts of
// supporting members right.
func (g *group) setProtocols(m *member, protocols []Protocol) {
	for _, p := range m.protocols {
		if g.supported[p.Name]--; g.supported[p.Name] == 0 {
			delete(g.supported, p.Name)
		}
	}
	m.protocols = protocols
	for _, p := range protocols {
		g.supported[p.Name]++
	}
}

// supportsProtocols reports whether a member with these protocols may join:
// into an Empty group any non-empty type and list, otherwise the group's
// type and a protocol every member supports.
func (g *group) supportsProtocols(protocolType string, protocols []Protocol) bool {
	if g.state == Empty {
		return protocolType != "" && len(protocols) > 0
	}
	if protocolType != g.protocolType {
		return false
	}
	for _, p := range protocols {
		if g.supported[p.Name] == len(g.members) {
			return true
		}
	}
	return false
}

// selectProtocol picks, among the protocols every member supports, the one
// most members prefer. Kafka leaves ties to hash order; here the protocol
// that got its first vote from the earliest member wins, so that a replay
// picks the same one.
func (g *group) selectProtocol() string {
	candidates := map[string]bool{}
	for name, n := range g.supported {
		if n == len(g.members) {
			candidates[name] = true
		}
	}
	votes := map[string]int{}
	var order []string
	for _, m := range g.members {
		v := m.vote(candidates)
		if votes[v] == 0 {
			order = append(order, v)
		}
		votes[v]++
	}
	best := ""
	for _, name := range order {
		if best == "" || votes[name] > votes[best] {
			best = name
		}
	}
	return best
}

func (g *group) rebalanceTimeoutMs() int64 {
	var t int32
	for _, m := range g.members {
		t = max(t, m.rebalanceTimeoutMs)
	}
	return int64(t)
}

func (g *group) hasAllMembersJoined() bool {
	return len(g.members) == g.numAwaiting && len(g.pending) == 0
}

// validateMember checks that memberID is a member and, for a static
// member, that instanceID maps to it: a stale member id of a static
// instance is fenced.
func (g *group) validateMember(memberID string, instanceID *string) error {
	if instanceID != nil && *instanceID != "" {
		current, ok := g.static[*instanceID]
		switch {
		case !ok:
			return kerr.UnknownMemberID
		case current != memberID:
			return kerr.FencedInstanceID
		}
		return nil
	}
	if g.byID[memberID] == nil {
		return kerr.UnknownMemberID
	}
	return nil
}

// computeSubscribed gathers the topics of a consumer group's members, as
// Kafka does for OffsetDelete and offset expiry.
func (g *group) computeSubscribed() {
	g.subscribed, g.subscribedOK = nil, false
	if g.protocolType != consumerProtocolType {
		return
	}
	if len(g.members) == 0 {
		g.subscribed, g.subscribedOK = map[string]bool{}, true
		return
	}
	if g.protocol == "" {
		return
	}
	topics := map[string]bool{}
	for _, m := range g.members {
		if !subscriptionTopics(m.metadata(g.protocol), topics) {
			return
		}
	}
	g.subscribed, g.subscribedOK = topics, true
}

// isSubscribedTo is true when unknown, so that OffsetDelete refuses
// rather than deletes what a member may be consuming.
func (g *group) isSubscribedTo(topic string) bool {
	return !g.subscribedOK || g.subscribed[topic]
}

// subscriptionTopics adds the topics of a consumer subscription to topics.
// It reads only the version-0 prefix (version, topic array) that every
// version of ConsumerMemberMetadata begins with, as Kafka does, so that
// versions newer than kmsg knows, or trailing bytes, still parse.
func subscriptionTopics(b []byte, topics map[string]bool) bool {
	if len(b) < 6 {
		return false
	}
	n := int32(binary.BigEndian.Uint32(b[2:]))
	b = b[6:]
	if n < 0 || int(n) > len(b)/2 {
		return false
	}
	for range n {
		if len(b) < 2 {
			return false
		}
		l := int16(binary.BigEndian.Uint16(b))
		b = b[2:]
		if l < 0 || int(l) > len(b) {
			return false
		}
		topics[string(b[:l])] = true
		b = b[l:]
	}
	return true
}

// copyProtocols copies protocols into memory of the coordinator's own,
// one allocation for all the metadata. It keeps the first of protocols
// named alike and drops unnamed ones: the counts of supporting members,
// and so protocol selection, assume each member names a protocol once.
func copyProtocols(ps []Protocol) []Protocol {
	n := 0
	for _, p := range ps {
		n += len(p.Metadata)
	}
	buf := make([]byte, 0, n)
	out := make([]Protocol, 0, len(ps))
	seen := make(map[string]bool, len(ps))
	for _, p := range ps {
		if p.Name == "" || seen[p.Name] {
			continue
		}
		seen[p.Name] = true
		start := len(buf)
		buf = append(buf, p.Metadata...)
		out = append(out, Protocol{Name: p.Name, Metadata: buf[start:len(buf):len(buf)]})
	}
	return out
}

func strPtr(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}
