// Package meta is the cluster metadata as a deterministic state machine: the
// registered brokers and their liveness, the topics with their configs and
// partition assignments, each partition's leader, leader epoch, ISR and
// partition epoch, the cluster-wide config defaults and the producer-id
// blocks handed out so far.
//
// State changes only through Apply, one typed Command at a time, in the order
// the controller's raft log commits them. Every voter applies the same
// commands to the same state, so Apply must be a pure function of the two:
// it must not read clocks, randomness, the network, the disk or anything but
// its arguments, and it must not depend on map iteration order. Whatever is
// random (topic ids, incarnation ids) or timed (a heartbeat that was missed)
// is decided by the proposer and carried in the command.
//
// A command is validated in full before anything changes, so a rejected
// command (a typed error, see errors.go) leaves the state as it was; the
// rejection itself is deterministic, so every voter rejects it alike. Some
// commands carry their consequences: fencing a broker takes it out of every
// ISR and elects new leaders where it led, in the same command, so no voter
// ever sees a half-done decision. Because the rules in Apply are part of the
// replicated protocol, changing how a command applies needs a new command
// version: voters of different releases must not apply the same entry
// differently.
//
// Commands may be applied twice (raft can duplicate a forwarded proposal):
// each is either idempotent (InitCluster, RegisterBroker of the same
// incarnation, FenceBroker, UnfenceBroker) or guarded by an epoch or an
// existence check that rejects the second copy (ChangeISR, CreateTopic...).
// AllocateProducerIDs applied twice hands out a block nobody uses, which is
// harmless.
//
// Broker heartbeats are not commands: as in KRaft, the active controller
// tracks them in memory and writes only its decisions (FenceBroker,
// UnfenceBroker) to the log, so an idle cluster does not grow its log.
//
// This package must not know about raft, the network, files or Kafka wire
// types. It owns the encodings of commands and snapshots, below.
//
// # Encodings
//
// Integers are varints (zig-zag for signed ones) as encoding/binary writes
// them; a string or a byte field is a uvarint length then the bytes; a list
// is a uvarint count then the elements; an id is 16 raw bytes; a bool is one
// byte. A hand-written binary form rather than JSON because it is compact
// (a snapshot of 100k partitions is a few MB, not tens), byte-for-byte
// deterministic (voters' snapshots can be compared), and its decoder checks
// every length against the bytes left before allocating. kmsg has no types
// for KRaft's metadata records, so there was nothing to reuse.
//
// A command:
//
//	+------+---------+-------------------------------------+
//	| type | version | fields of that type and version ... |
//	| u8   | u8      |                                     |
//	+------+---------+-------------------------------------+
//
// Trailing bytes after the fields are an error: they would mean the reader
// and the writer disagree on the layout.
//
// A snapshot:
//
//	+-------+---------+-----------+-----------------+----------------+
//	| "SLM" | version | clusterID | lastBrokerEpoch | nextProducerID |
//	| 3 B   | u8      | string    | varint          | varint         |
//	+-------+---------+-----------+-----------------+----------------+
//	| cluster configs (sorted by key) | brokers (by id) | topics (by name) |
//	+---------------------------------+-----------------+------------------+
//
// Restore decodes a snapshot and checks every invariant (State.Check), so a
// damaged snapshot is refused rather than half-believed. Snapshots carry no
// checksum of their own: the raft log's records and the transport check them.
package meta
