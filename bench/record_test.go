package bench

import (
	"fmt"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
)

// TestMurmur2 checks Kafka's own test vectors (UtilsTest.testMurmur2) and
// that keys land where franz-go's default keyed partitioner puts them.
func TestMurmur2(t *testing.T) {
	for key, want := range map[string]int32{
		"21":                         -973932308,
		"foobar":                     -790332482,
		"a-little-bit-long-string":   -985981536,
		"a-little-bit-longer-string": -1486304829,
		"lkjh234lh9fiuh90y23oiuhsafujhadof229phr9h19h89h8": -58897971,
		"abc": 479470107,
	} {
		if got := int32(murmur2([]byte(key))); got != want {
			t.Errorf("murmur2(%q) = %d, want %d", key, got, want)
		}
	}
	franz := kgo.StickyKeyPartitioner(nil).ForTopic("t")
	for i := range 1000 {
		key := fmt.Appendf(nil, "key-%08d", i)
		if got, want := keyPartition(key, 24), franz.Partition(&kgo.Record{Key: key}, 24); int(got) != want {
			t.Fatalf("key %q: partition %d, franz-go's %d", key, got, want)
		}
	}
}

func TestHeaderRoundTrip(t *testing.T) {
	b := make([]byte, headerBytes+3)
	want := header{producer: 49, seq: 1<<40 + 7, intended: 90*time.Minute + 123}
	putHeader(b, want)
	if got, ok := parseHeader(b); !ok || got != want {
		t.Fatalf("got %+v %v, want %+v", got, ok, want)
	}
	for _, bad := range [][]byte{nil, b[:headerBytes-1], make([]byte, headerBytes)} {
		if _, ok := parseHeader(bad); ok {
			t.Errorf("parsed %x as a header", bad)
		}
	}
}

// TestRecordShape: sizes stay within their bounds and unkeyed records
// stick to a partition for about stickyBytes.
func TestRecordShape(t *testing.T) {
	w := DefaultWorkload()
	w.PartitionsPerTopic = 4
	for _, dist := range []string{"fixed", "uniform", "exponential"} {
		w.SizeDistribution = dist
		s := newRecordShape(&w, 0, nil)
		lo, hi := 1<<30, 0
		for range 10000 {
			n := s.size()
			lo, hi = min(lo, n), max(hi, n)
		}
		if lo < headerBytes || hi > w.maxValueBytes() || (dist != "fixed" && lo == hi) {
			t.Errorf("%s: sizes %d..%d, bounds %d..%d", dist, lo, hi, headerBytes, w.maxValueBytes())
		}
	}
	w.SizeDistribution = "fixed"
	s := newRecordShape(&w, 0, nil)
	switches, last := 0, int32(-1)
	for range 160 { // 160 KiB: 10 switches of 16 KiB
		_, p := s.next(1024)
		if p != last {
			switches++
			last = p
		}
	}
	if switches < 10 || switches > 11 {
		t.Errorf("%d partition switches over 160 KiB, want 10 or 11", switches)
	}
}
