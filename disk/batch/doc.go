// Package batch is the view of a Kafka RecordBatch (magic v2) that the broker
// stores: it reads and checks a batch header, verifies the CRC-32C, and patches
// the two fields the broker owns (baseOffset and partitionLeaderEpoch) in place.
//
// It owns no memory and never decodes records on the append path: a batch is
// validated from its header and checksum and stored as produced, compressed
// or not. Off that path it builds the uncompressed batches the broker writes
// itself (Builder: the group coordinator's records) and reads their records
// back (Records: replaying them at start-up). It must not import anything
// of ours; core, disk and repl all use it.
//
// The v2 header, 61 bytes, big-endian (Kafka's DefaultRecordBatch):
//
//	 0        8        12        16    17    21     23            27
//	+--------+--------+---------+-----+-----+------+-------------+---------------+
//	|baseOff |batchLen|leaderEp |magic| crc |attrs |lastOffDelta |baseTimestamp  |
//	| int64  | int32  | int32   |int8 |u32  |int16 |   int32     |    int64      |
//	+--------+--------+---------+-----+-----+------+-------------+---------------+
//	 35            43          51      53       57        61
//	+-------------+-----------+-------+--------+---------+----------------------+
//	|maxTimestamp |producerID |prodEp |baseSeq |numRecs  | records ...          |
//	|   int64     |  int64    | int16 | int32  | int32   |                      |
//	+-------------+-----------+-------+--------+---------+----------------------+
//
// batchLen counts the bytes after itself, so a batch is 12+batchLen bytes.
// The CRC covers attrs to the end of the batch; baseOffset and
// partitionLeaderEpoch lie before it, which is why the broker can assign them
// without recomputing the checksum.
package batch
