// Package logtool reads a partition's segment files offline, for
// `sluice log dump` and `sluice log verify`: it lists each record batch
// (offsets, size, timestamps, producer, codec, CRC) and checks that every
// batch is sound and that offsets continue from batch to batch and from
// segment to segment, naming the file and byte of the first problem.
//
// It owns only this reading. It frames and checks batches with disk/batch
// and walks a segment exactly as disk's recovery does: batches back to
// back from byte 0, ending at the end of the file or at an all-zero header
// (the preallocated tail of the active segment):
//
//	00000000000000000042.log
//	+---------+---------+-----+---------+-------------------------+
//	| batch   | batch   | ... | batch   | 0 0 0 0 ... (fallocate) |
//	| off 42  | off 45  |     | off 97  |                         |
//	+---------+---------+-----+---------+-------------------------+
//	^ byte 0, the first batch's offset is the file's name
//
// It must not write: the files may belong to a running broker (what it
// reads of the active segment's last page is then a snapshot) or be the
// evidence of a crash.
package logtool
