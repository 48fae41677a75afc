// Package core is the broker: it owns the topics and their partitions,
// decodes Kafka requests (with franz-go's kmsg), routes each partition's
// work to the shard that owns it and answers in request order through
// netio.
//
// One file per Kafka API, named by its key (00_produce.go, 01_fetch.go...),
// each opening with the versions it serves and how it differs from Apache
// Kafka; apis.go lists them all in one table that ApiVersions reports.
//
// A partition belongs to one shard (hash of topic and partition). A request
// arrives on the shard of its connection; work for partitions of other
// shards is posted to their loops and the results posted back, so a
// partition's log is only ever touched from its own loop.
//
// Consumer groups live in __consumer_offsets (groups.go): each of its
// partitions has a group coordinator (core/group, a pure state machine)
// driven by the partition's shard, which writes the coordinator's records
// to the partition's log through the produce path and rebuilds it from
// that log at start-up. A group's requests go to the shard of its
// partition.
package core
