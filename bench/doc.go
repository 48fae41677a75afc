// Package bench is the load generator behind `sluice bench`: it drives any
// Kafka-compatible bootstrap through a real client (franz-go), measures what
// producers and consumers see, and writes the result as HdrHistograms.
//
// What it owns: workloads (workload.go, files in workloads/), the open-loop
// pacer (pacer.go), producers and consumers (producer.go, consumer.go), the
// exactly-once checker (checker.go), latency histograms (hist.go), and the
// outputs of a run: .hgrm percentile files, a JSON summary, an SVG
// percentile plot and a Markdown row (summary.go, plot.go), plus the
// tables that aggregate several runs (report.go) and a loopback TCP
// round-trip reference (rtt.go).
//
// What it must not do: import the broker. Everything goes through the
// Kafka protocol, so the same run measures Sluice or any other broker.
//
// # Latency
//
// Fixed-rate producers are open loop: record i is due at start + i/rate
// whatever happened to the records before it, and its produce latency runs
// from that intended time to its acknowledgement. A stall in the broker, the
// network or the client therefore shows up as latency for every record
// scheduled behind it instead of silently lowering the rate (coordinated
// omission corrected). The lateness of the pacer itself (intended to actual
// send) is reported on its own as send lag: a floor under produce latency
// that belongs to the load generator. Max-throughput producers are closed
// loop: each sends as fast as its client buffer takes records, and latency
// runs from the call to Produce.
//
// End-to-end latency runs from the intended send time written in the record
// to the consumer's receipt. Producer and consumers run in one process and
// read one monotonic clock, so no clock synchronisation is involved.
//
// # Record values
//
// Every record value starts with a 24-byte header, followed by payload bytes
// up to the record's size:
//
//	 0               4               8                              16                              24
//	+---------------+---------------+-------------------------------+-------------------------------+------------
//	| magic "SLB1"  | producer      | sequence                      | intended send time            | payload ...
//	| uint32 BE     | uint32 BE     | uint64 BE, per producer and   | int64 BE, ns since the run's  |
//	|               |               | partition, from 0             | epoch (monotonic)             |
//	+---------------+---------------+-------------------------------+-------------------------------+------------
//
// Each producer numbers its records per partition, so a consumer of one
// partition expects, for every producer, 0, 1, 2, ... with nothing missing,
// repeated or out of order. Producers pick partitions themselves (murmur2 of
// the key as Kafka's default partitioner, or sticky for unkeyed records) to
// know the partition before writing the sequence.
package bench
