// Package cli holds the everyday client commands of the sluice binary:
// topics, produce, consume, consumer groups and cluster info, the
// workflows of rpk and kafka-topics.sh. Each talks to any Kafka-compatible
// cluster through franz-go (kgo for records, kadm for administration) and
// writes a human table (text/tabwriter) or JSON for scripts.
//
// It owns the commands' behaviour and output, and the flag helpers the
// commands share (Options, KV, Parse); cmd/sluice only binds flags and
// calls in. It must not import the broker: everything goes over the wire,
// so the commands work against Apache Kafka or Redpanda too.
//
// Output shapes: a command that reports one thing prints one table (or a
// few "key: value" lines and a table) and, with --format json, one JSON
// document. Streams (consume) print one line per record and, with
// --format json, one JSON object per line.
package cli
