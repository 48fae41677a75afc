// Package raftlog is the durable storage of one raft voter: it implements
// go.etcd.io/raft/v3's Storage over files reached through disk/vfs, and
// persists what each Ready asks for (HardState, entries, a snapshot) before
// the caller sends that Ready's messages.
//
// It owns the file format and crash recovery. It must not interpret entry
// data, run the raft algorithm, send anything or decide when to snapshot:
// the controller calls Save for every Ready and CreateSnapshot when it has
// applied enough. A Log is not safe for concurrent use; the controller's
// goroutine makes every call (raft calls the Storage methods from inside
// RawNode, on that same goroutine).
//
// # Files
//
// One write-ahead file holds everything, named by a sequence number that
// grows each time the file is rewritten:
//
//	raft-00000000000000000007.wal       the log
//	raft-00000000000000000008.wal.tmp   a rewrite in progress (removed on open)
//
// The file is a run of records:
//
//	+------------+------------+------+-----------------+
//	| length u32 | CRC-32C    | kind | payload         |
//	| big endian | u32        | u8   | length-1 bytes  |
//	+------------+------------+------+-----------------+
//	  length counts kind and payload; the CRC covers them too
//
//	kind 1 snapshot    the raftpb.Snapshot, protobuf-encoded
//	kind 2 start       index u64, term u64: the entry just before the
//	                   first one kept (raft's "dummy" entry)
//	kind 3 hard state  term u64, vote u64, commit u64
//	kind 4 entry       term u64, index u64, type u8, data
//
// Replaying the records in order rebuilds the state: an entry at an index
// the log already has replaces it and everything after it (raft overwrote a
// conflicting suffix), so a conflict costs an append, never a rewrite in
// place. Within one Save the entries come before the hard state, so any
// prefix of a Save's records is consistent: a commit index never points
// past the entries that survived.
//
// # Durability
//
// Save appends and, when raft says the Ready must be synced (new entries,
// term or vote), fdatasyncs before it returns; a Ready that only moves the
// commit index is written without a sync, so a crash can take the commit
// index back to its last synced value, which raft allows. A Save carrying a
// snapshot, and CreateSnapshot, write a new file (snapshot, start, hard
// state, the entries kept), sync it, rename it over the sequence and sync
// the directory before the old file is removed: a crash leaves the old file
// or the new one, whole.
//
// # Recovery
//
// Open replays the newest file and cuts it after the last record whose
// length and CRC check out, as disk does for a segment's torn tail: what was
// synced is intact, and what is cut was never acknowledged to anyone.
// A record that checks out but contradicts the log (an entry after a gap)
// is not a torn write and fails Open. Any write or sync error is sticky: the
// Log refuses everything after it, and the voter must restart.
package raftlog
