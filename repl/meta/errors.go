package meta

import "errors"

// Rejections. Apply wraps them with details; compare with errors.Is. The
// comment on each names the Kafka error code a handler should answer with.
var (
	ErrClusterInitialized  = errors.New("meta: cluster already has another id")          // INVALID_REQUEST
	ErrInvalidClusterID    = errors.New("meta: invalid cluster id or producer id floor") // INVALID_REQUEST
	ErrInvalidRegistration = errors.New("meta: invalid broker registration")             // INVALID_REQUEST
	ErrDuplicateBroker     = errors.New("meta: broker already registered differently")   // DUPLICATE_BROKER_REGISTRATION
	ErrUnknownBroker       = errors.New("meta: broker not registered")                   // BROKER_ID_NOT_REGISTERED
	ErrStaleBrokerEpoch    = errors.New("meta: stale broker epoch")                      // STALE_BROKER_EPOCH

	ErrInvalidTopic             = errors.New("meta: invalid topic")                                // INVALID_TOPIC_EXCEPTION
	ErrTopicExists              = errors.New("meta: topic already exists")                         // TOPIC_ALREADY_EXISTS
	ErrUnknownTopic             = errors.New("meta: unknown topic")                                // UNKNOWN_TOPIC_ID
	ErrUnknownPartition         = errors.New("meta: unknown partition")                            // UNKNOWN_TOPIC_OR_PARTITION
	ErrInvalidPartitions        = errors.New("meta: invalid partition count")                      // INVALID_PARTITIONS
	ErrInvalidReplicaAssignment = errors.New("meta: invalid replica assignment")                   // INVALID_REPLICA_ASSIGNMENT
	ErrInvalidReplicationFactor = errors.New("meta: not enough unfenced brokers for the replicas") // INVALID_REPLICATION_FACTOR
	ErrInvalidConfig            = errors.New("meta: invalid config")                               // INVALID_CONFIG

	// ChangeISR, as Kafka's AlterPartition checks it.
	ErrNotLeader            = errors.New("meta: not the partition's leader")     // NOT_LEADER_OR_FOLLOWER
	ErrFencedLeaderEpoch    = errors.New("meta: leader epoch does not match")    // FENCED_LEADER_EPOCH
	ErrInvalidUpdateVersion = errors.New("meta: partition epoch does not match") // INVALID_UPDATE_VERSION
	ErrInvalidISR           = errors.New("meta: invalid ISR")                    // INVALID_REQUEST
	ErrIneligibleReplica    = errors.New("meta: replica cannot join the ISR")    // INELIGIBLE_REPLICA

	// ElectLeader.
	ErrElectionNotNeeded           = errors.New("meta: election not needed")            // ELECTION_NOT_NEEDED
	ErrPreferredLeaderNotAvailable = errors.New("meta: preferred leader not available") // PREFERRED_LEADER_NOT_AVAILABLE
	ErrEligibleLeadersNotAvailable = errors.New("meta: no eligible leader")             // ELIGIBLE_LEADERS_NOT_AVAILABLE

	ErrProducerIDsExhausted = errors.New("meta: producer ids exhausted") // UNKNOWN_SERVER_ERROR

	// Decoding. ErrUnknownCommand and ErrUnsupportedVersion mean a newer
	// release wrote the bytes: a voter must stop rather than skip them, or
	// it would diverge from voters that understand them.
	ErrUnknownCommand     = errors.New("meta: unknown command type")
	ErrUnsupportedVersion = errors.New("meta: unsupported version")
	ErrCorrupt            = errors.New("meta: malformed encoding")
)
