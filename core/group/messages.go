package group

// The requests and responses of the group APIs, one group at a time: a
// handler splits a batched request (DeleteGroups, OffsetFetch v8+) by
// group, and each group goes to the coordinator that owns it. Field names
// follow kmsg's so that handlers copy them across. Errors are kerr values
// (typed, compared with errors.Is); nil means NONE.
//
// Requests are not kept: the coordinator copies the bytes it keeps
// (metadata, assignments), since kmsg's decoded byte fields alias the read
// buffer. Responses may share bytes with the coordinator's state and must
// be treated as read-only; encode them before the next call.

// Handle identifies a request the caller is waiting to answer; it comes
// back unchanged with the request's response. Any value will do: a
// pointer to the caller's pending-request record, a sequence number.
type Handle any

// Output is what a call asks of the caller. Append Records, in order, to
// the __consumer_offsets partition the coordinator belongs to; once the
// append is written, send Replies. If the append fails, send
// FailedReplies instead, discard this Coordinator and rebuild it from the
// log: its memory is ahead of what was written.
type Output struct {
	Records []Record
	Replies []Reply
}

// Record is one __consumer_offsets record; a nil Value is a tombstone.
type Record struct {
	Key   []byte
	Value []byte
}

// Reply is the response to the request that carried Handle: one of
// *JoinResponse, *SyncResponse, *HeartbeatResponse, *LeaveResponse,
// *OffsetCommitResponse, *OffsetDeleteResponse or *DeleteGroupResponse.
type Reply struct {
	Handle   Handle
	Response any
}

// Protocol is one assignment protocol a member supports, with its
// metadata (for consumers, the subscription).
type Protocol struct {
	Name     string
	Metadata []byte
}

// JoinRequest is a JoinGroup request (kmsg.JoinGroupRequest).
type JoinRequest struct {
	Version    int16 // the request's version: v4+ needs a known member id, v9+ may skip assignment
	Group      string
	MemberID   string  // empty on a first join
	InstanceID *string // group.instance.id of a static member (v5+)
	ClientID   string
	ClientHost string
	// SessionTimeoutMs must lie within the configured bounds.
	SessionTimeoutMs int32
	// RebalanceTimeoutMs (v1+) bounds how long the group waits for members
	// to rejoin; v0 requests have none and use the session timeout.
	RebalanceTimeoutMs int32
	ProtocolType       string
	Protocols          []Protocol
}

// JoinMember is one member as the leader sees it in a JoinGroup response.
type JoinMember struct {
	MemberID   string
	InstanceID *string
	Metadata   []byte
}

// JoinResponse answers a JoinRequest. Generation is -1 and ProtocolType
// and Protocol are nil on error.
type JoinResponse struct {
	Err            error
	Generation     int32
	ProtocolType   *string
	Protocol       *string
	LeaderID       string
	SkipAssignment bool
	MemberID       string
	Members        []JoinMember // the leader's only; empty for followers
}

// SyncAssignment is the leader's assignment for one member.
type SyncAssignment struct {
	MemberID   string
	Assignment []byte
}

// SyncRequest is a SyncGroup request (kmsg.SyncGroupRequest).
type SyncRequest struct {
	Group        string
	Generation   int32
	MemberID     string
	InstanceID   *string
	ProtocolType *string // v5+; checked when set
	Protocol     *string // v5+; checked when set
	Assignments  []SyncAssignment
}

// SyncResponse answers a SyncRequest.
type SyncResponse struct {
	Err          error
	ProtocolType *string
	Protocol     *string
	Assignment   []byte
}

// HeartbeatRequest is a Heartbeat request.
type HeartbeatRequest struct {
	Group      string
	Generation int32
	MemberID   string
	InstanceID *string
}

// HeartbeatResponse answers a HeartbeatRequest.
type HeartbeatResponse struct {
	Err error
}

// LeaveMember names one member leaving: by MemberID, or by InstanceID alone
// (an administrator removing a static member, MemberID empty). LeaveGroup
// v0-v2 carry one member id; the handler makes it a one-member list.
type LeaveMember struct {
	MemberID   string
	InstanceID *string
}

// LeaveRequest is a LeaveGroup request.
type LeaveRequest struct {
	Group   string
	Members []LeaveMember
}

// LeaveMemberResult is the outcome for one LeaveMember.
type LeaveMemberResult struct {
	MemberID   string
	InstanceID *string
	Err        error
}

// LeaveResponse answers a LeaveRequest; Members follows the request's order.
type LeaveResponse struct {
	Err     error
	Members []LeaveMemberResult
}

// CommitPartition is one partition of an OffsetCommit. A handler that
// refuses a partition itself (UNKNOWN_TOPIC_OR_PARTITION for a partition
// that does not exist, an authorization error) sets Err: the partition is
// answered with it and not committed, as Kafka's KafkaApis filters such
// partitions before its coordinator sees them.
type CommitPartition struct {
	Partition   int32
	Offset      int64
	LeaderEpoch int32 // -1 if unknown
	Metadata    string
	Err         error
}

// CommitTopic groups a commit's partitions by topic.
type CommitTopic struct {
	Topic      string
	Partitions []CommitPartition
}

// OffsetCommitRequest is an OffsetCommit request. A commit from outside
// group management (the admin client, a consumer assigning partitions
// itself) has Generation -1 and no member id; Kafka accepts it only while
// the group has no members.
type OffsetCommitRequest struct {
	Version    int16 // v9+ answers GROUP_ID_NOT_FOUND rather than ILLEGAL_GENERATION for a missing group
	Group      string
	Generation int32
	MemberID   string
	InstanceID *string
	Topics     []CommitTopic
}

// PartitionResult is a per-partition outcome.
type PartitionResult struct {
	Partition int32
	Err       error
}

// TopicResult groups per-partition outcomes by topic, in request order.
type TopicResult struct {
	Topic      string
	Partitions []PartitionResult
}

// OffsetCommitResponse answers an OffsetCommitRequest.
type OffsetCommitResponse struct {
	Topics []TopicResult
}

// FetchTopic names the partitions of a topic whose offsets are wanted.
type FetchTopic struct {
	Topic      string
	Partitions []int32
}

// OffsetFetchRequest is one group of an OffsetFetch request. Nil Topics
// asks for every committed offset of the group.
type OffsetFetchRequest struct {
	Group  string
	Topics []FetchTopic
}

// FetchedPartition is one partition's committed offset: -1 (and leader
// epoch -1) if none.
type FetchedPartition struct {
	Partition   int32
	Offset      int64
	LeaderEpoch int32
	Metadata    string
	Err         error
}

// FetchedTopic groups fetched partitions by topic.
type FetchedTopic struct {
	Topic      string
	Partitions []FetchedPartition
}

// OffsetFetchResponse answers an OffsetFetchRequest.
type OffsetFetchResponse struct {
	Err    error
	Topics []FetchedTopic
}

// DeletePartitions names partitions whose offsets OffsetDelete removes.
// As with CommitPartition, a handler sets Err for a partition it refuses
// itself; that partition is answered with it and left alone.
type DeletePartitions struct {
	Topic      string
	Partitions []PartitionResult
}

// OffsetDeleteRequest is an OffsetDelete request.
type OffsetDeleteRequest struct {
	Group  string
	Topics []DeletePartitions
}

// OffsetDeleteResponse answers an OffsetDeleteRequest; Topics is empty when
// Err is set.
type OffsetDeleteResponse struct {
	Err    error
	Topics []TopicResult
}

// DeleteGroupResponse answers the deletion of one group of a DeleteGroups
// request.
type DeleteGroupResponse struct {
	Group string
	Err   error
}

// DescribedMember is a member as DescribeGroups shows it. Metadata and
// Assignment are only filled in for a Stable group, as in Kafka.
type DescribedMember struct {
	MemberID   string
	InstanceID *string
	ClientID   string
	ClientHost string
	Metadata   []byte
	Assignment []byte
}

// DescribeResponse is one group of a DescribeGroups response.
type DescribeResponse struct {
	Err          error
	Group        string
	State        string
	ProtocolType string
	Protocol     string
	Members      []DescribedMember
}

// ListedGroup is one group of a ListGroups response.
type ListedGroup struct {
	Group        string
	ProtocolType string
	State        string
}
