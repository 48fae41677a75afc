// Package torture is Sluice's fault-injection harness, single-node part.
//
// It builds the sluice binary, runs `sluice serve` on 127.0.0.1 with a
// temporary data dir, drives it with franz-go producers (one idempotent,
// one not, both acks=all) and a consumer, and meanwhile applies a bounded,
// seeded schedule of faults to the broker process: kill -9 followed by a
// restart on the same port and data dir, and SIGSTOP/SIGCONT pauses. Every
// send, acknowledgement, failure, consumed record and fault goes into a
// History; at the end the whole topic is read back and Check compares it
// with the history:
//
//   - every acknowledged record is in the log: exactly once and at the
//     offset it was acknowledged with for an exactly-once (idempotent)
//     producer, at least once for the others;
//   - no record appears that was never sent, or in another partition;
//   - in each partition, each producer's records first appear in the
//     order they were sent;
//   - what the consumer read during the run is what the log holds at
//     those offsets at the end (nothing read was later lost or rewritten).
//
// Violations print the record, its offsets and the faults around it.
//
// What it must not do: leave a process behind (every broker is killed on
// the way out, also on failure), listen anywhere but 127.0.0.1, or run an
// unbounded loop (every loop has a count and a time bound).
//
// Not here yet: clusters, network partitions, full or slow disks.
package torture
