// Package admin is the broker's admin HTTP server: Prometheus metrics,
// HdrHistogram latency snapshots, health, cluster state and the runtime log
// level.
//
//	GET /metrics             Prometheus text (sluice_*, go_*, process_*)
//	GET /v1/latency          per-API latency, JSON; ?format=hgrm&api=Produce for .hgrm text (ms)
//	GET /v1/health/live      200 while the process serves HTTP
//	GET /v1/health/ready     200 once the broker serves Kafka, 503 before and while draining
//	GET /v1/cluster          cluster id, node, listeners, topics and partitions, group count
//	GET|PUT /v1/loglevel     {"level":"INFO"}; PUT takes that or a bare level name
//
// It owns the HTTP handlers and the Prometheus collectors and reads the
// broker only through core.Broker's read-only methods; it must not touch
// shard-owned state itself (per-partition values come from
// core.Broker.Snapshot, which asks the owning shards, with a timeout).
package admin
