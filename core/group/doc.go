// Package group is the classic-protocol group coordinator (KIP-62, KIP-345,
// KIP-394) as a pure state machine: the groups of one __consumer_offsets
// partition, their members, rebalances and committed offsets.
//
// It owns the rules of Apache Kafka's GroupCoordinator: the states Empty,
// PreparingRebalance, CompletingRebalance, Stable and Dead; the join and
// sync phases; generation ids; member ids (MEMBER_ID_REQUIRED for JoinGroup
// v4+); static membership; session, rebalance, pending-member and
// pending-sync timeouts; the initial rebalance delay; protocol selection by
// vote; offset commit validation; and offset expiry
// (offsets.retention.minutes). Assignor data (member metadata and
// assignments) passes through as opaque bytes, so eager and cooperative
// clients work alike.
//
// It must not do I/O, start goroutines, read a clock or import other sluice
// packages. Time comes in as an argument (ms since the epoch); every call
// returns an Output: the records to append to the group's __consumer_offsets
// partition and the responses to release. The caller appends Records in
// order, and sends Replies only once that append is written: a committed
// offset, or an assignment, is never acknowledged before it is in the log.
// Responses to a request may come from a later call (a JoinGroup is
// answered when the join phase completes, a follower's SyncGroup when the
// leader's assignment arrives), so requests carry a Handle that comes back
// with their response.
//
// Runs on the owning shard: a Coordinator is not safe for concurrent use;
// the shard that owns its __consumer_offsets partition drives it, arming
// one timer for NextDeadline and calling Tick when it fires.
//
// After a restart, New, then Replay of every record of the partition in log
// order, then Loaded, rebuild what was persisted: groups Stable with the
// members of their last completed rebalance (with fresh session deadlines,
// so members that are alive carry on without a rebalance) or Empty, and
// their offsets.
//
// The records are Kafka's own (kmsg's types), so tools that read
// __consumer_offsets understand them. All integers are big-endian; a string
// is an int16 length and its bytes; bytes are an int32 length and the bytes;
// a nullable string has length -1 for null.
//
//	offset commit                         group metadata
//	key   (OffsetCommitKey v1)            key   (GroupMetadataKey v2)
//	+---------+-------+-------+------+    +---------+-------+
//	| version | group | topic | part |    | version | group |
//	| int16=1 | str   | str   | i32  |    | int16=2 | str   |
//	+---------+-------+-------+------+    +---------+-------+
//	value (OffsetCommitValue v3)          value (GroupMetadataValue v3)
//	+---------+--------+-------+          +---------+---------------+------------+
//	| version | offset | epoch |          | version | protocol type | generation |
//	| int16=3 | i64    | i32   |          | int16=3 | str           | i32        |
//	+---------+--------+-------+          +---------+---------------+------------+
//	| metadata | commit timestamp |       | protocol | leader   | state timestamp |
//	| str      | i64 (ms)         |       | nullable | nullable | i64 (ms)        |
//	+----------+------------------+       +----------+----------+-----------------+
//	                                      | members: i32 count, then each:        |
//	                                      |  member id str, instance id nullable, |
//	                                      |  client id str, client host str,      |
//	                                      |  rebalance timeout i32,               |
//	                                      |  session timeout i32,                 |
//	                                      |  subscription bytes, assignment bytes |
//	                                      +---------------------------------------+
//
// A record whose value is null (a tombstone) deletes its key: an offset
// removed by OffsetDelete or expiry, or a group removed by DeleteGroups or
// because it is Empty with no offsets left.
//
// Bounds: members per group are bounded by group.max.size; member ids
// handed out with MEMBER_ID_REQUIRED live one session timeout; offsets
// are one per partition committed; an Output is proportional to the
// request and the group it touches (a Tick's, to the timers due and the
// offsets expiring). Groups, as in Kafka, are as many as clients create;
// one with neither members nor offsets goes at the next retention check.
// The timers are one heap entry per group.
//
// Differences from Apache Kafka, each for a reason given where it is coded:
// a superseded JoinGroup or SyncGroup from the same member is answered with
// REBALANCE_IN_PROGRESS rather than dropped, and a member removed while its
// SyncGroup is parked is answered with UNKNOWN_MEMBER_ID, so that no
// request is ever left without an answer; offsets are visible to
// OffsetFetch as soon as they are committed, not once the append completes;
// commit retention times from OffsetCommit v2-v4 are ignored; ties in the
// protocol vote go to the earliest member's choice rather than hash order;
// a protocol a member names twice counts once.
package group
