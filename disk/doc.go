// Package disk owns a partition's log on disk: segment files, their
// indexes, the tail cache, group commit, crash recovery, retention and
// truncation. It stores record batches as produced (see disk/batch) and
// reaches the filesystem only through disk/vfs.
//
// It must not know about the network, Kafka requests, replication or
// shards: the broker calls a Log from the shard that owns the partition and
// learns of write progress through Config.OnProgress.
//
// # Layout
//
// A partition directory holds, for each segment, a data file and (once the
// segment is closed) an index, named by the segment's base offset in 20
// digits as Kafka names them, plus two checkpoints:
//
//	00000000000000000000.log     batches back to back, as produced
//	00000000000000000000.index   offset + time index of a closed segment
//	00000000000000052113.log     the active segment, preallocated
//	log-start-offset.checkpoint  8-byte offset + CRC-32C
//	high-watermark.checkpoint    8-byte offset + CRC-32C
//
// # Writing
//
// Append validates a batch, patches its base offset and leader epoch, and
// copies it into the tail cache: 128 KiB aligned chunks that mirror the end
// of the active segment. Only the writer goroutine touches files. Each round
// it writes every unwritten byte of the oldest unfinished segment with one
// pwritev (O_DIRECT), starting at the page that holds the first of them, so
// the partial last page is rewritten until it fills; then at most one
// fdatasync if any append asked for durability or flush.messages/flush.ms
// says so. Files are preallocated with fallocate in PreallocateBytes steps,
// so fdatasync rarely has metadata to log.
//
//	file:  [#################|###....|........]   # written, . preallocated
//	                         ^ AlignDown(written): the next round starts here
//	cache:        [chunk    ][chunk    ][chunk  ]
//	              ^ cacheStart                ^ size: the next append goes here
//
// When a segment rolls, the writer finishes the old one first (write, sync,
// cut the file to size, write its index) and only then creates the new
// file, so a crash can never leave newer data after a hole.
//
// # Recovery
//
// Open scans the last segment batch by batch (length, CRC, offsets that
// continue the previous batch) and cuts the file after the last good batch;
// earlier segments are trusted when their index matches the data file and
// scanned otherwise. Segments that do not continue the log are dropped.
package disk
