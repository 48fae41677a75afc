package meta

// CommandType is a command's first byte in its encoding. The values are on
// disk and on the wire: never reuse or renumber one.
type CommandType uint8

const (
	TypeInitCluster         CommandType = 1
	TypeRegisterBroker      CommandType = 2
	TypeFenceBroker         CommandType = 3
	TypeUnfenceBroker       CommandType = 4
	TypeCreateTopic         CommandType = 5
	TypeDeleteTopic         CommandType = 6
	TypeCreatePartitions    CommandType = 7
	TypeAlterConfigs        CommandType = 8
	TypeAllocateProducerIDs CommandType = 9
	TypeChangeISR           CommandType = 10
	TypeElectLeader         CommandType = 11
)

// Command is one change to the metadata. The set is closed: only this
// package's types implement it.
type Command interface {
	Type() CommandType
	appendBody(dst []byte) []byte
	apply(s *State) (Result, error)
}

// Result is what a command hands back to its proposer beyond success.
type Result struct {
	BrokerEpoch int64           // RegisterBroker: the registration's epoch
	ProducerIDs ProducerIDBlock // AllocateProducerIDs: the block handed out
}

// Apply validates c against s and, if it is accepted, changes s. A rejected
// command returns an error wrapping one of the Err values and leaves s
// exactly as it was.
func (s *State) Apply(c Command) (Result, error) {
	if c == nil {
		return Result{}, ErrUnknownCommand
	}
	return c.apply(s)
}

// InitCluster sets the cluster id, once. The first active controller
// proposes it (with the id of an existing single-node data dir, or a fresh
// one); proposing the same id again is accepted and changes nothing.
type InitCluster struct {
	ClusterID string
	// ProducerIDFloor raises the next producer id to at least this, on the
	// first InitCluster only: a single-node data dir moving to the
	// replicated metadata brings its producer-ids value so that no id is
	// handed out twice.
	ProducerIDFloor int64
}

// RegisterBroker registers a broker starting up, fenced, with a new epoch.
// A registration from a new incarnation (the broker restarted) replaces the
// old one and fences it; the same incarnation registering again with the
// same details is a retry and returns the epoch it already has.
type RegisterBroker struct {
	ID            int32
	IncarnationID [16]byte // random per process start; never zero
	Listeners     []Listener
	Rack          string
}

// FenceBroker fences a registration: the broker leaves every ISR (but as
// the last member of one) and every partition it led elects a new leader
// from what remains of its ISR, or has none. The active controller proposes
// it when the broker's heartbeats stop. Fencing a fenced broker is a no-op.
type FenceBroker struct {
	ID    int32
	Epoch int64 // the registration meant; an older one is rejected
}

// UnfenceBroker lets a registered broker lead and join ISRs again. Each
// leaderless partition whose last ISR member it is elects it. Unfencing an
// unfenced broker is a no-op.
type UnfenceBroker struct {
	ID    int32
	Epoch int64
}

// CreateTopic creates a topic with the given replica assignment (see
// AssignReplicas). Each partition starts with every unfenced replica in its
// ISR and the first of them as leader, at epoch 0.
type CreateTopic struct {
	ID         TopicID
	Name       string
	Configs    map[string]string
	Assignment [][]int32 // replicas of each partition, preferred leader first
}

// DeleteTopic removes a topic; its name is free again at once.
type DeleteTopic struct {
	ID TopicID
}

// CreatePartitions adds partitions to a topic, with the same replication
// factor as its others.
type CreatePartitions struct {
	ID         TopicID
	Assignment [][]int32 // replicas of each new partition only
}

// ConfigResource says which configs AlterConfigs changes: Kafka's resource
// types, TOPIC and BROKER (with no name: the cluster-wide defaults).
type ConfigResource int8

const (
	ResourceTopic   ConfigResource = 2
	ResourceCluster ConfigResource = 4
)

// ConfigOp sets Key to Value, or deletes Key (deleting a key that is not set
// is not an error).
type ConfigOp struct {
	Key    string
	Value  string
	Delete bool
}

// AlterConfigs changes topic configs of one topic or the cluster-wide
// defaults, in order. With Replace the configs not set by Ops are removed
// (AlterConfigs); without, the others stay (IncrementalAlterConfigs). The
// operations travel rather than the resulting map so that two concurrent
// incremental changes cannot undo each other.
type AlterConfigs struct {
	Resource ConfigResource
	TopicID  TopicID // ResourceTopic only
	Replace  bool
	Ops      []ConfigOp
}

// ProducerIDBlockSize is how many producer ids one AllocateProducerIDs
// hands out (Kafka's block size).
const ProducerIDBlockSize = 1000

// AllocateProducerIDs gives a broker the next block of producer ids; it
// then hands them to InitProducerId callers without asking again.
type AllocateProducerIDs struct {
	BrokerID    int32
	BrokerEpoch int64
}

// ISRMember names a broker for a new ISR. BrokerEpoch -1 skips the check
// that it is the broker's current registration (KIP-903: a replica that
// restarted must catch up again before it rejoins).
type ISRMember struct {
	BrokerID    int32
	BrokerEpoch int64
}

// ChangeISR is a partition leader's request to shrink or expand the ISR,
// checked as Kafka's AlterPartition is: the leader's registration, its
// leader epoch and the partition epoch it last saw must all be current, so a
// deposed leader or a decision made on stale state is refused. Asking for
// the ISR the partition already has is accepted and changes nothing.
type ChangeISR struct {
	BrokerID       int32 // the leader
	BrokerEpoch    int64
	TopicID        TopicID
	Partition      int32
	LeaderEpoch    int32
	PartitionEpoch int32
	ISR            []ISRMember // must include the leader
}

// ElectionType is Kafka's ElectLeaders election type.
type ElectionType int8

const (
	// ElectPreferred moves leadership to the first replica, if it is
	// unfenced and in the ISR (leadership balancing after a broker
	// returns).
	ElectPreferred ElectionType = 0
	// ElectUnclean gives a leaderless partition the first unfenced replica
	// as leader and sole ISR member, losing what only the fenced ISR had.
	// Only when the topic's (or cluster's) unclean.leader.election.enable is
	// true; unlike Kafka's admin API this does not override it: set the
	// config first. Clean elections need no command: fencing and unfencing
	// carry them out.
	ElectUnclean ElectionType = 1
)

// ElectLeader elects a partition's leader.
type ElectLeader struct {
	TopicID   TopicID
	Partition int32
	Election  ElectionType
}

func (InitCluster) Type() CommandType         { return TypeInitCluster }
func (RegisterBroker) Type() CommandType      { return TypeRegisterBroker }
func (FenceBroker) Type() CommandType         { return TypeFenceBroker }
func (UnfenceBroker) Type() CommandType       { return TypeUnfenceBroker }
func (CreateTopic) Type() CommandType         { return TypeCreateTopic }
func (DeleteTopic) Type() CommandType         { return TypeDeleteTopic }
func (CreatePartitions) Type() CommandType    { return TypeCreatePartitions }
func (AlterConfigs) Type() CommandType        { return TypeAlterConfigs }
func (AllocateProducerIDs) Type() CommandType { return TypeAllocateProducerIDs }
func (ChangeISR) Type() CommandType           { return TypeChangeISR }
func (ElectLeader) Type() CommandType         { return TypeElectLeader }
