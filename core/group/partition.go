package group

import "unicode/utf16"

// PartitionFor is the __consumer_offsets partition that holds a group, out
// of partitions: Kafka's abs(groupId.hashCode()) % partitions, with Java's
// String.hashCode over UTF-16 code units, so that a group lands where
// Kafka would put it. FindCoordinator answers with the owner of this
// partition. REQUIRES: partitions > 0.
func PartitionFor(groupID string, partitions int32) int32 {
	var h int32
	for _, r := range groupID {
		if r1, r2 := utf16.EncodeRune(r); r1 != '\uFFFD' || r2 != '\uFFFD' {
			h = 31*h + r1
			h = 31*h + r2
			continue
		}
		h = 31*h + r
	}
	// Kafka's Utils.abs maps MinInt32 to 0 rather than overflowing.
	if h == -1<<31 {
		h = 0
	} else if h < 0 {
		h = -h
	}
	return h % partitions
}
