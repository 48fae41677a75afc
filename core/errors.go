package core

import (
	"errors"

	"github.com/twmb/franz-go/pkg/kerr"

	"sluice/disk"
	"sluice/disk/batch"
)

// Kafka error codes used by name; everything else goes through errorCode.
var (
	errUnsupportedVersion       = kerr.UnsupportedVersion.Code
	errUnknownTopicOrPartition  = kerr.UnknownTopicOrPartition.Code
	errUnknownTopicID           = kerr.UnknownTopicID.Code
	errInvalidTopic             = kerr.InvalidTopicException.Code
	errTopicAlreadyExists       = kerr.TopicAlreadyExists.Code
	errInvalidPartitions        = kerr.InvalidPartitions.Code
	errInvalidReplicationFactor = kerr.InvalidReplicationFactor.Code
	errInvalidRequiredAcks      = kerr.InvalidRequiredAcks.Code
	errOffsetOutOfRange         = kerr.OffsetOutOfRange.Code
	errInvalidConfig            = kerr.InvalidConfig.Code
)

// errorCode maps the typed errors of the layers below to Kafka's codes:
// the one place where that happens.
func errorCode(err error) int16 {
	switch {
	case err == nil:
		return 0
	case errors.Is(err, errOutOfOrderSequence):
		return kerr.OutOfOrderSequenceNumber.Code
	case errors.Is(err, errInvalidProducerEpoch):
		return kerr.InvalidProducerEpoch.Code
	case errors.Is(err, errTransactional):
		return kerr.InvalidTxnState.Code
	case errors.Is(err, batch.ErrTooLarge):
		return kerr.MessageTooLarge.Code
	case errors.Is(err, batch.ErrCorrupt):
		return kerr.CorruptMessage.Code
	case errors.Is(err, disk.ErrOffsetOutOfRange):
		return kerr.OffsetOutOfRange.Code
	case errors.Is(err, disk.ErrBackpressure):
		// Retriable: the client backs off and sends again.
		return kerr.RequestTimedOut.Code
	case errors.Is(err, disk.ErrOffline), errors.Is(err, disk.ErrClosed):
		return kerr.KafkaStorageError.Code
	}
	// The group coordinator answers with kerr's errors themselves.
	var ke *kerr.Error
	if errors.As(err, &ke) {
		return ke.Code
	}
	return kerr.UnknownServerError.Code
}

// groupWriteError is what a client is told when the coordinator's records
// could not be appended, as Kafka's GroupMetadataManager maps append
// errors: a storage error means this node cannot coordinate the group
// (NOT_COORDINATOR, so the client looks again), a batch too large fails
// an offset commit with INVALID_COMMIT_OFFSET_SIZE (anything else with
// UNKNOWN_SERVER_ERROR), and the rest is retriable as
// COORDINATOR_NOT_AVAILABLE.
func groupWriteError(err error, commit bool) error {
	switch {
	case errors.Is(err, disk.ErrOffline), errors.Is(err, disk.ErrClosed):
		return kerr.NotCoordinator
	case errors.Is(err, batch.ErrTooLarge) && commit:
		return kerr.InvalidCommitOffsetSize
	case errors.Is(err, batch.ErrTooLarge), errors.Is(err, batch.ErrCorrupt):
		return kerr.UnknownServerError
	default:
		return kerr.CoordinatorNotAvailable
	}
}
