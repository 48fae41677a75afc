package bench

import (
	"strings"
	"testing"
)

// checkRun feeds one partition's consumer the sequences of producer 0 in
// the order given, after the producer sent `sent` records of which failed
// were reported failed, and returns the verdict.
func checkRun(t *testing.T, sent uint64, failed []uint64, read []uint64, complete bool) (delivery, *samples) {
	t.Helper()
	c := newPartitionCheck("t", 0, 1)
	for _, seq := range read {
		c.observe(header{producer: 0, seq: seq}, true)
	}
	log := newSentLog(1)
	log.sent[0] = sent
	for _, f := range failed {
		log.fail(0, f)
	}
	errs := &samples{}
	return verify([][]*partitionCheck{{c}}, []*sentLog{log}, []int{0}, complete, errs), errs
}

func TestCheckerCatchesLossAndDuplication(t *testing.T) {
	for _, tc := range []struct {
		name       string
		sent       uint64
		failed     []uint64
		read       []uint64
		incomplete bool
		want       delivery
		sample     string // in the first error sample
	}{
		{name: "all once in order", sent: 5, read: []uint64{0, 1, 2, 3, 4}},
		{name: "dropped", sent: 5, read: []uint64{0, 1, 3, 4}, want: delivery{Lost: 1}, sample: "1 record(s) lost, sequences [2]"},
		{name: "dropped at the end", sent: 5, read: []uint64{0, 1, 2}, want: delivery{Lost: 2}, sample: "sequences [3-4]"},
		{name: "duplicated", sent: 5, read: []uint64{0, 1, 2, 2, 3, 4}, want: delivery{Duplicated: 1}},
		{name: "duplicated long after", sent: 5, read: []uint64{0, 1, 2, 3, 4, 1}, want: delivery{Duplicated: 1}},
		{name: "reordered", sent: 5, read: []uint64{0, 2, 1, 3, 4}, want: delivery{OutOfOrder: 1}},
		{name: "dropped and duplicated", sent: 6, read: []uint64{0, 1, 1, 3, 4, 5}, want: delivery{Lost: 1, Duplicated: 1}},
		{name: "failed send missing is no loss", sent: 5, failed: []uint64{2}, read: []uint64{0, 1, 3, 4}},
		{name: "failed send written anyway is fine", sent: 5, failed: []uint64{2}, read: []uint64{0, 1, 2, 3, 4}},
		{name: "failed send excuses only itself", sent: 5, failed: []uint64{2}, read: []uint64{0, 4}, want: delivery{Lost: 2}},
		{name: "interrupted: unread tail unverified", sent: 5, read: []uint64{0, 1}, incomplete: true, want: delivery{Unverified: 3}},
		{name: "interrupted: holes still lost", sent: 5, read: []uint64{0, 2}, incomplete: true, want: delivery{Lost: 1, Unverified: 2}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, errs := checkRun(t, tc.sent, tc.failed, tc.read, !tc.incomplete)
			got.Notes = nil
			if got.Lost != tc.want.Lost || got.Duplicated != tc.want.Duplicated || got.OutOfOrder != tc.want.OutOfOrder ||
				got.Corrupt != tc.want.Corrupt || got.Unverified != tc.want.Unverified {
				t.Fatalf("got %+v, want %+v", got, tc.want)
			}
			if (got.errors() > 0) != (tc.want.errors() > 0) {
				t.Fatalf("errors() = %d", got.errors())
			}
			if tc.sample != "" && (len(errs.list) == 0 || !strings.Contains(errs.list[0], tc.sample)) {
				t.Fatalf("samples %q, want one containing %q", errs.list, tc.sample)
			}
		})
	}
}

// TestCheckerStreamsAreIndependent: producers and partitions are checked
// apart, and a record of no producer of the run is an error.
func TestCheckerStreamsAreIndependent(t *testing.T) {
	p0, p1 := newPartitionCheck("t", 0, 2), newPartitionCheck("t", 1, 2)
	for seq := range uint64(3) {
		p0.observe(header{producer: 0, seq: seq}, true)
		p0.observe(header{producer: 1, seq: seq}, true)
		p1.observe(header{producer: 1, seq: seq}, true)
	}
	p1.observe(header{producer: 7, seq: 0}, true)
	p1.observe(header{}, false)
	a, b := newSentLog(2), newSentLog(2)
	a.sent[0] = 3
	b.sent[0], b.sent[1] = 3, 4 // one more than partition 1 got
	d := verify([][]*partitionCheck{{p0, p1}}, []*sentLog{a, b}, []int{0, 0}, true, &samples{})
	if d.Lost != 1 || d.Corrupt != 2 || d.Duplicated != 0 || d.OutOfOrder != 0 {
		t.Fatalf("got %+v, want 1 lost (producer 1, partition 1, sequence 3) and 2 corrupt", d)
	}
}

// TestCheckerGapOverflow: past maxGapsPerStream holes the count of lost
// records stays right.
func TestCheckerGapOverflow(t *testing.T) {
	var read []uint64
	for seq := uint64(0); seq < 4*maxGapsPerStream; seq += 2 {
		read = append(read, seq) // every odd sequence missing
	}
	got, _ := checkRun(t, 4*maxGapsPerStream, nil, read, true)
	if got.Lost != 2*maxGapsPerStream {
		t.Fatalf("lost %d, want %d", got.Lost, 2*maxGapsPerStream)
	}
}
