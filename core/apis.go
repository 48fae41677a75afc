package core

import (
	"github.com/twmb/franz-go/pkg/kmsg"
)

// api is one Kafka API the broker serves: the versions it implements fully
// and its handler. The table is the only registry; ApiVersions reports it.
type api struct {
	key        int16
	minVersion int16
	maxVersion int16
	handle     func(r *request, req kmsg.Request)
	// advertiseFromZero reports a minimum version of 0 while requests
	// below minVersion are still refused: only Produce, for librdkafka
	// (KAFKA-18659).
	advertiseFromZero bool
}

// apiTable lists every API served, by key. An API missing here is answered
// by closing the connection, as Kafka does for keys it does not know, and is
// not advertised. (A function, not a variable, because ApiVersions reports
// the table it is in.)
func apiTable() map[int16]*api {
	m := map[int16]*api{}
	for _, a := range []*api{
		{key: 0, minVersion: 3, maxVersion: 13, handle: handleProduce, advertiseFromZero: true},
		{key: 1, minVersion: 4, maxVersion: 18, handle: handleFetch},
		{key: 2, minVersion: 1, maxVersion: 11, handle: handleListOffsets},
		{key: 3, minVersion: 0, maxVersion: 13, handle: handleMetadata},
		{key: 8, minVersion: 2, maxVersion: 10, handle: handleOffsetCommit},
		{key: 9, minVersion: 1, maxVersion: 10, handle: handleOffsetFetch},
		{key: 10, minVersion: 0, maxVersion: 6, handle: handleFindCoordinator},
		{key: 11, minVersion: 0, maxVersion: 9, handle: handleJoinGroup},
		{key: 12, minVersion: 0, maxVersion: 4, handle: handleHeartbeat},
		{key: 13, minVersion: 0, maxVersion: 5, handle: handleLeaveGroup},
		{key: 14, minVersion: 0, maxVersion: 5, handle: handleSyncGroup},
		{key: 15, minVersion: 0, maxVersion: 6, handle: handleDescribeGroups},
		{key: 16, minVersion: 0, maxVersion: 5, handle: handleListGroups},
		{key: 18, minVersion: 0, maxVersion: 5, handle: handleApiVersions},
		{key: 19, minVersion: 0, maxVersion: 7, handle: handleCreateTopics},
		{key: 20, minVersion: 0, maxVersion: 6, handle: handleDeleteTopics},
		{key: 21, minVersion: 0, maxVersion: 2, handle: handleDeleteRecords},
		{key: 22, minVersion: 0, maxVersion: 5, handle: handleInitProducerID},
		{key: 23, minVersion: 0, maxVersion: 4, handle: handleOffsetForLeaderEpoch},
		{key: 32, minVersion: 0, maxVersion: 4, handle: handleDescribeConfigs},
		{key: 33, minVersion: 0, maxVersion: 2, handle: handleAlterConfigs},
		{key: 37, minVersion: 0, maxVersion: 3, handle: handleCreatePartitions},
		{key: 42, minVersion: 0, maxVersion: 3, handle: handleDeleteGroups},
		{key: 44, minVersion: 0, maxVersion: 1, handle: handleIncrementalAlterConfigs},
		{key: 47, minVersion: 0, maxVersion: 0, handle: handleOffsetDelete},
		{key: 60, minVersion: 0, maxVersion: 2, handle: handleDescribeCluster},
	} {
		m[a.key] = a
	}
	return m
}
