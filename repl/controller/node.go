package controller

import (
	"encoding/binary"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"slices"

	"go.etcd.io/raft/v3"
	"go.etcd.io/raft/v3/raftpb"
	"google.golang.org/protobuf/proto"

	"sluice/repl/meta"
	"sluice/repl/raftlog"
)

// Transport carries raft messages to the other voters.
type Transport interface {
	// Send queues msgs for delivery and returns without waiting for the
	// network. Delivery is best effort: a message may be lost, delayed or
	// reordered, and raft retries, so a transport bounds its queue to each
	// peer and drops what does not fit (reporting the peer with
	// Node.ReportUnreachable). The messages and their entries are
	// read-only. For every MsgSnap it must later call Node.ReportSnapshot.
	Send(msgs []*raftpb.Message)
}

// Config configures a Node.
type Config struct {
	ID     uint64   // this voter's node id; raft reserves 0
	Voters []uint64 // every voter's id, this one's included, the same on each
	Log    *raftlog.Log
	// Transport receives every message raft sends, after what it depends
	// on is durable.
	Transport Transport

	// ElectionTicks without hearing from a leader start an election
	// (raft adds up to as many again at random); a leader sends heartbeats
	// every HeartbeatTicks. Defaults 10 and 1: with a 100 ms tick a dead
	// leader is replaced in 1 to 2 s.
	ElectionTicks  int
	HeartbeatTicks int
	// SnapshotEntries applied since the last snapshot trigger a new one,
	// which bounds the log file and what a restart replays. Default 10000.
	SnapshotEntries uint64
	// MaxPendingProposals bounds the proposals awaiting an outcome.
	// Default 1024.
	MaxPendingProposals int
	// ProposalTimeoutTicks after which a pending proposal is given up as
	// ErrOutcomeUnknown. Default 5 election timeouts.
	ProposalTimeoutTicks int

	// OnApply, if set, sees every command as it is applied, accepted or
	// rejected, in log order.
	OnApply func(Applied)
	Logger  *slog.Logger
}

// Applied describes one applied command.
type Applied struct {
	Index   uint64 // its raft log index
	Command meta.Command
	Result  meta.Result
	Err     error // meta's rejection, or nil
}

var (
	// ErrProposalDropped: a new leader replaced the proposal's entry; it
	// will never apply.
	ErrProposalDropped = errors.New("controller: proposal dropped by a leader change")
	// ErrOutcomeUnknown: the proposal may or may not apply.
	ErrOutcomeUnknown = errors.New("controller: proposal outcome unknown")
	// ErrTooManyPending: MaxPendingProposals are awaiting an outcome.
	ErrTooManyPending = errors.New("controller: too many pending proposals")
)

// raft tuning that callers have had no reason to change.
const (
	maxSizePerMsg             = 1 << 20  // bytes of entries in one append message
	maxInflightMsgs           = 256      // append messages in flight to one follower
	maxUncommittedEntriesSize = 16 << 20 // proposals beyond this are dropped by raft
	maxCommittedSizePerReady  = 4 << 20  // bytes of entries applied per Ready
	envelopeVersion           = 1
)

// Node is one voter. Runs on its owner's goroutine: no method may be
// called concurrently with another.
type Node struct {
	id        uint64
	rn        *raft.RawNode
	log       *raftlog.Log
	transport Transport
	cfg       Config
	logger    *slog.Logger

	state     *meta.State
	confState *raftpb.ConfState
	applied   uint64
	snapIndex uint64

	ticks   int64
	seq     uint64
	pending map[uint64]*pending // by sequence number
	byIndex map[uint64]uint64   // log index -> sequence, for proposals this node appended as leader

	err error // sticky: the Node stops at the first storage or apply failure
}

type pending struct {
	done     func(meta.Result, error)
	deadline int64  // in ticks
	local    bool   // appended by this node as leader: its index will show in a Ready
	index    uint64 // where it was appended, once seen
}

// New starts a voter on its log, bootstrapping the log if it is empty and
// restoring the metadata state from its snapshot. Entries committed after
// the snapshot are applied again by the first Process calls.
func New(cfg Config) (*Node, error) {
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	logger := cfg.Logger
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	logger = logger.With("node", cfg.ID)
	if cfg.Log.Empty() {
		if err := bootstrap(cfg.Log, cfg.Voters); err != nil {
			return nil, err
		}
	}
	snap, err := cfg.Log.Snapshot()
	if err != nil {
		return nil, err
	}
	cs := snap.GetMetadata().GetConfState()
	if !slices.Equal(slices.Sorted(slices.Values(cs.GetVoters())), slices.Sorted(slices.Values(cfg.Voters))) {
		return nil, fmt.Errorf("controller: the log's voters are %v, not %v (membership changes are not supported)", cs.GetVoters(), cfg.Voters)
	}
	state, err := meta.Restore(snap.GetData())
	if err != nil {
		return nil, fmt.Errorf("controller: snapshot at %d: %w", snap.GetMetadata().GetIndex(), err)
	}
	n := &Node{id: cfg.ID, log: cfg.Log, transport: cfg.Transport, cfg: cfg, logger: logger,
		state: state, confState: cs, applied: snap.GetMetadata().GetIndex(), snapIndex: snap.GetMetadata().GetIndex(),
		pending: map[uint64]*pending{}, byIndex: map[uint64]uint64{}}
	n.rn, err = raft.NewRawNode(&raft.Config{
		ID:                        cfg.ID,
		ElectionTick:              cfg.ElectionTicks,
		HeartbeatTick:             cfg.HeartbeatTicks,
		Storage:                   cfg.Log,
		Applied:                   n.applied,
		MaxSizePerMsg:             maxSizePerMsg,
		MaxInflightMsgs:           maxInflightMsgs,
		MaxUncommittedEntriesSize: maxUncommittedEntriesSize,
		MaxCommittedSizePerReady:  maxCommittedSizePerReady,
		// A leader cut off from a quorum steps down after an election
		// timeout, and a voter that was cut off cannot depose a healthy
		// leader when it returns: both matter for a controller, whose
		// leader makes the cluster's decisions.
		CheckQuorum: true,
		PreVote:     true,
		Logger:      raftLogger{logger},
	})
	if err != nil {
		return nil, err
	}
	return n, nil
}

func (c *Config) validate() error {
	if c.ID == 0 || !slices.Contains(c.Voters, c.ID) || slices.Contains(c.Voters, 0) {
		return fmt.Errorf("controller: node %d among voters %v", c.ID, c.Voters)
	}
	if len(slices.Compact(slices.Sorted(slices.Values(c.Voters)))) != len(c.Voters) {
		return fmt.Errorf("controller: a voter twice in %v", c.Voters)
	}
	if c.Log == nil || c.Transport == nil {
		return errors.New("controller: a Node needs a Log and a Transport")
	}
	if c.ElectionTicks == 0 {
		c.ElectionTicks = 10
	}
	if c.HeartbeatTicks == 0 {
		c.HeartbeatTicks = 1
	}
	if c.SnapshotEntries == 0 {
		c.SnapshotEntries = 10000
	}
	if c.MaxPendingProposals == 0 {
		c.MaxPendingProposals = 1024
	}
	if c.ProposalTimeoutTicks == 0 {
		c.ProposalTimeoutTicks = 5 * c.ElectionTicks
	}
	return nil
}

// bootstrap writes the initial snapshot every voter starts from.
func bootstrap(l *raftlog.Log, voters []uint64) error {
	snap := &raftpb.Snapshot{
		Data: meta.New().AppendSnapshot(nil),
		Metadata: &raftpb.SnapshotMetadata{
			ConfState: &raftpb.ConfState{Voters: slices.Sorted(slices.Values(voters))},
			Index:     new(uint64(1)),
			Term:      new(uint64(1)),
		},
	}
	hs := &raftpb.HardState{Term: new(uint64(1)), Vote: new(uint64(0)), Commit: new(uint64(1))}
	return l.Save(hs, nil, snap, true)
}

// Tick advances the logical clock by one tick.
func (n *Node) Tick() {
	if n.err != nil {
		return
	}
	n.rn.Tick()
	n.ticks++
	var expired []uint64
	for seq, p := range n.pending {
		if p.deadline <= n.ticks {
			expired = append(expired, seq)
		}
	}
	slices.Sort(expired)
	for _, seq := range expired {
		n.settle(seq, meta.Result{}, fmt.Errorf("%w: not applied within %d ticks", ErrOutcomeUnknown, n.cfg.ProposalTimeoutTicks))
	}
}

// Step hands the Node a message from a peer.
func (n *Node) Step(m *raftpb.Message) error {
	if n.err != nil {
		return n.err
	}
	return n.rn.Step(m)
}

// Propose proposes a command; done, if not nil, learns its outcome (see the
// package doc). An error means raft refused it at once (no leader known,
// too much uncommitted) and done will not be called.
func (n *Node) Propose(c meta.Command, done func(meta.Result, error)) error {
	if n.err != nil {
		return n.err
	}
	if len(n.pending) >= n.cfg.MaxPendingProposals {
		return ErrTooManyPending
	}
	n.seq++
	data := []byte{envelopeVersion}
	data = binary.AppendUvarint(data, n.id)
	data = binary.AppendUvarint(data, n.seq)
	data = meta.AppendCommand(data, c)
	if err := n.rn.Propose(data); err != nil {
		return err
	}
	if done != nil {
		// A leader appends its own proposals at once; a follower forwards
		// them, and the leader might append a duplicated copy twice.
		local := n.rn.BasicStatus().RaftState == raft.StateLeader
		n.pending[n.seq] = &pending{done: done, deadline: n.ticks + int64(n.cfg.ProposalTimeoutTicks), local: local}
	}
	return nil
}

// ReportUnreachable tells raft that a message to id could not be sent, so
// it stops streaming appends to it until it answers again.
func (n *Node) ReportUnreachable(id uint64) { n.rn.ReportUnreachable(id) }

// ReportSnapshot tells raft whether a snapshot message to id was delivered.
// The transport must call it for every MsgSnap it was given.
func (n *Node) ReportSnapshot(id uint64, delivered bool) {
	status := raft.SnapshotFinish
	if !delivered {
		status = raft.SnapshotFailure
	}
	n.rn.ReportSnapshot(id, status)
}

// Process does the work that inputs since the last call caused: saves what
// raft needs durable, then sends, then applies, then snapshots. It returns
// the error that stopped the Node, if any; a stopped Node must be closed and
// restarted from its log.
func (n *Node) Process() error {
	for n.err == nil && n.rn.HasReady() {
		rd := n.rn.Ready()
		if err := n.log.Save(rd.HardState, rd.Entries, rd.Snapshot, rd.MustSync); err != nil {
			return n.stop(err)
		}
		n.noteAppended(rd.Entries)
		if len(rd.Messages) > 0 {
			n.transport.Send(rd.Messages)
		}
		if !raft.IsEmptySnap(rd.Snapshot) {
			if err := n.restore(rd.Snapshot); err != nil {
				return n.stop(err)
			}
		}
		for _, e := range rd.CommittedEntries {
			if err := n.apply(e); err != nil {
				return n.stop(err)
			}
		}
		if n.applied-n.snapIndex >= n.cfg.SnapshotEntries {
			if err := n.log.CreateSnapshot(n.applied, n.confState, n.state.AppendSnapshot(nil)); err != nil {
				return n.stop(err)
			}
			n.snapIndex = n.applied
		}
		n.rn.Advance(rd)
	}
	return n.err
}

func (n *Node) stop(err error) error {
	n.err = fmt.Errorf("controller: node %d stopped: %w", n.id, err)
	n.logger.Error("controller stopped", "err", err)
	return n.err
}

// noteAppended learns where this node's own proposals landed and which of
// them a new leader's entries replaced. Entries that start at index k
// replace the log from k on, so a proposal this node appended at k or after
// is gone unless it is among them again.
func (n *Node) noteAppended(ents []*raftpb.Entry) {
	if len(ents) == 0 {
		return
	}
	first := ents[0].GetIndex()
	for _, idx := range slices.Sorted(maps.Keys(n.byIndex)) {
		seq := n.byIndex[idx]
		if idx < first {
			continue
		}
		if off := idx - first; off < uint64(len(ents)) {
			if proposer, s, _, err := decodeEnvelope(ents[off]); err == nil && proposer == n.id && s == seq {
				continue
			}
		}
		n.settle(seq, meta.Result{}, fmt.Errorf("%w: entry %d was replaced", ErrProposalDropped, idx))
	}
	for _, e := range ents {
		proposer, seq, _, err := decodeEnvelope(e)
		if err != nil || proposer != n.id {
			continue
		}
		if p := n.pending[seq]; p != nil && p.local && p.index == 0 {
			p.index = e.GetIndex()
			n.byIndex[p.index] = seq
		}
	}
}

// settle completes a pending proposal.
func (n *Node) settle(seq uint64, res meta.Result, err error) {
	p := n.pending[seq]
	if p == nil {
		return
	}
	delete(n.pending, seq)
	if p.index != 0 && n.byIndex[p.index] == seq {
		delete(n.byIndex, p.index)
	}
	p.done(res, err)
}

// restore replaces the state with a snapshot received from the leader.
func (n *Node) restore(snap *raftpb.Snapshot) error {
	state, err := meta.Restore(snap.GetData())
	if err != nil {
		return fmt.Errorf("snapshot at %d: %w", snap.GetMetadata().GetIndex(), err)
	}
	n.state, n.confState = state, snap.GetMetadata().GetConfState()
	n.applied, n.snapIndex = snap.GetMetadata().GetIndex(), snap.GetMetadata().GetIndex()
	// Whatever this node appended up to the snapshot is now inside it or
	// gone, and there is no telling which.
	for _, idx := range slices.Sorted(maps.Keys(n.byIndex)) {
		if idx <= n.applied {
			n.settle(n.byIndex[idx], meta.Result{}, fmt.Errorf("%w: covered by a snapshot", ErrOutcomeUnknown))
		}
	}
	return nil
}

var errNewerEnvelope = errors.New("controller: entry envelope from a newer release")

func decodeEnvelope(e *raftpb.Entry) (proposer, seq uint64, cmd []byte, err error) {
	b := e.GetData()
	if e.GetType() != raftpb.EntryNormal || len(b) == 0 {
		return 0, 0, nil, fmt.Errorf("%w: not a proposal", meta.ErrCorrupt)
	}
	if b[0] != envelopeVersion {
		return 0, 0, nil, fmt.Errorf("%w: version %d", errNewerEnvelope, b[0])
	}
	b = b[1:]
	proposer, k := binary.Uvarint(b)
	if k <= 0 {
		return 0, 0, nil, fmt.Errorf("%w: envelope", meta.ErrCorrupt)
	}
	b = b[k:]
	seq, k = binary.Uvarint(b)
	if k <= 0 {
		return 0, 0, nil, fmt.Errorf("%w: envelope", meta.ErrCorrupt)
	}
	return proposer, seq, b[k:], nil
}

func (n *Node) apply(e *raftpb.Entry) error {
	idx := e.GetIndex()
	switch e.GetType() {
	case raftpb.EntryConfChange, raftpb.EntryConfChangeV2:
		// Nothing here proposes membership changes; should a newer
		// release, this keeps raft's view right until this one stops
		// being used.
		var cc raftpb.ConfChangeI
		if e.GetType() == raftpb.EntryConfChange {
			cc = &raftpb.ConfChange{}
		} else {
			cc = &raftpb.ConfChangeV2{}
		}
		if err := proto.Unmarshal(e.GetData(), cc.(proto.Message)); err != nil {
			return fmt.Errorf("conf change at %d: %w", idx, err)
		}
		n.confState = n.rn.ApplyConfChange(cc)
		n.applied = idx
		return nil
	}
	if len(e.GetData()) == 0 {
		n.applied = idx // a new leader's empty entry
		return nil
	}
	proposer, seq, raw, err := decodeEnvelope(e)
	var c meta.Command
	if err == nil {
		c, err = meta.DecodeCommand(raw)
	}
	if errors.Is(err, errNewerEnvelope) || errors.Is(err, meta.ErrUnknownCommand) || errors.Is(err, meta.ErrUnsupportedVersion) {
		return fmt.Errorf("entry %d needs a newer release: %w", idx, err)
	}
	var res meta.Result
	if err == nil {
		res, err = n.state.Apply(c)
	}
	n.applied = idx
	if proposer == n.id {
		n.settle(seq, res, err)
	}
	if n.cfg.OnApply != nil {
		n.cfg.OnApply(Applied{Index: idx, Command: c, Result: res, Err: err})
	}
	return nil
}

// State is the metadata as of Applied. It must not be modified, and it
// changes under the caller at the next Process: hand other goroutines a
// Clone.
func (n *Node) State() *meta.State { return n.state }

// Applied is the index of the last entry applied to State.
func (n *Node) Applied() uint64 { return n.applied }

// Leader is the voter this one believes leads, or 0.
func (n *Node) Leader() uint64 { return n.rn.BasicStatus().Lead }

// IsLeader reports whether this voter leads: the active controller.
func (n *Node) IsLeader() bool { return n.rn.BasicStatus().RaftState == raft.StateLeader }

// Term is the current raft term.
func (n *Node) Term() uint64 { return n.rn.BasicStatus().GetTerm() }

// Err is the error that stopped the Node, or nil.
func (n *Node) Err() error { return n.err }

// raftLogger sends raft's logging to slog. raft's Fatal and Panic mean its
// invariants broke; both panic so the process (or test) stops there.
type raftLogger struct{ l *slog.Logger }

func (r raftLogger) Debug(v ...any)              { r.l.Debug(fmt.Sprint(v...)) }
func (r raftLogger) Debugf(f string, v ...any)   { r.l.Debug(fmt.Sprintf(f, v...)) }
func (r raftLogger) Info(v ...any)               { r.l.Info(fmt.Sprint(v...)) }
func (r raftLogger) Infof(f string, v ...any)    { r.l.Info(fmt.Sprintf(f, v...)) }
func (r raftLogger) Warning(v ...any)            { r.l.Warn(fmt.Sprint(v...)) }
func (r raftLogger) Warningf(f string, v ...any) { r.l.Warn(fmt.Sprintf(f, v...)) }
func (r raftLogger) Error(v ...any)              { r.l.Error(fmt.Sprint(v...)) }
func (r raftLogger) Errorf(f string, v ...any)   { r.l.Error(fmt.Sprintf(f, v...)) }
func (r raftLogger) Fatal(v ...any)              { r.Panic(v...) }
func (r raftLogger) Fatalf(f string, v ...any)   { r.Panicf(f, v...) }
func (r raftLogger) Panic(v ...any)              { s := fmt.Sprint(v...); r.l.Error(s); panic(s) }
func (r raftLogger) Panicf(f string, v ...any)   { r.Panic(fmt.Sprintf(f, v...)) }
