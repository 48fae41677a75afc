// Package controller drives one voter of the cluster-metadata raft group:
// it owns a go.etcd.io/raft/v3 RawNode, persists what raft asks through
// repl/raftlog before anything is sent, hands outgoing messages to a
// Transport, and applies committed entries to the repl/meta state machine.
//
// A Node is a state machine with I/O at its edges, in the shape the style
// guide asks for: no goroutines, locks, channels or clocks inside. Inputs
// are Tick (one unit of the logical clock), Step (a message from a peer) and
// Propose; Process then does the work they caused, in raft's required
// order: save (with fsync when raft says so), send, apply, snapshot. The
// caller, one goroutine, owns the Node: it calls Tick on a timer, Step for
// each message the transport receives, and Process after a batch of inputs
// (so one fsync covers all of them). Tests call the same methods by hand,
// with a fake clock and an in-memory network.
//
// It must not decide anything about the metadata: what to propose (fencing
// a broker whose heartbeats stopped, electing leaders, assigning replicas)
// is the active controller's business, a layer above; what a command does
// is repl/meta's. It must not know how messages travel either.
//
// # Membership and bootstrap
//
// The voters are fixed by configuration (--controller-voters), the same on
// every voter, and a single node is a one-voter group on the same path. A
// voter whose log is empty writes an initial snapshot at index 1, term 1,
// holding the voters as its ConfState and an empty metadata state; every
// voter writes the same one, so their logs agree at index 1 and raft takes
// over from index 2 (the bootstrap etcd's raft recommends over ConfChange
// entries). A voter that lost its disk must not rejoin this way, since it
// forgets the votes it cast; it needs a new id (not supported yet).
//
// # Entries
//
// A proposal's entry data is a small envelope around the meta command:
//
//	+---------+-------------------+--------------+----------------------+
//	| version | proposer (node id)| sequence     | meta command         |
//	| u8 = 1  | uvarint           | uvarint      | see repl/meta        |
//	+---------+-------------------+--------------+----------------------+
//
// The proposer and sequence let the proposing node tell its caller what
// became of the proposal. An entry whose envelope or command version is
// newer than this release stops the Node (applying it would diverge from
// voters that understand it); one that is merely malformed is rejected by
// every voter alike and skipped.
//
// # Proposals
//
// Propose returns at once; done is called from a later Process or Tick with
// the command's result (or its rejection by meta), with ErrProposalDropped
// when this node, as leader, appended the proposal and then saw another
// entry take its index (a new leader overwrote it: it will never apply), or
// with ErrOutcomeUnknown when it neither applied nor was seen to be dropped
// within ProposalTimeoutTicks (it may still apply later). Commands are safe
// to apply twice (see repl/meta), so a caller may retry after either.
package controller
