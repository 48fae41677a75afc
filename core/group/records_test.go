package group

import (
	"bytes"
	"testing"

	"github.com/twmb/franz-go/pkg/kmsg"
)

// The records are Kafka's: kmsg, which tools use to read
// __consumer_offsets, decodes them to what was committed and assigned.
func TestRecordsAreKafkas(t *testing.T) {
	h := newHarness(t, testConfig())
	a, s := h.client("a"), h.static("s", "i1")
	h.stabilize(a, s)
	h.wantNoErr(a.commit("t", 4, 77))
	if len(h.records) != 2 {
		t.Fatalf("%d records", len(h.records))
	}

	var gk kmsg.GroupMetadataKey
	var gv kmsg.GroupMetadataValue
	if err := gk.ReadFrom(h.records[0].Key); err != nil || gk.Version != 2 || gk.Group != "g" {
		t.Fatalf("group key %+v: %v", gk, err)
	}
	if err := gv.ReadFrom(h.records[0].Value); err != nil {
		t.Fatal(err)
	}
	if gv.Version != 3 || gv.ProtocolType != "consumer" || gv.Generation != 1 || *gv.Protocol != "range" || *gv.Leader != a.memberID ||
		gv.CurrentStateTimestamp != h.now || len(gv.Members) != 2 {
		t.Fatalf("group value %+v", gv)
	}
	m := gv.Members[1]
	if m.MemberID != s.memberID || *m.InstanceID != "i1" || m.ClientID != "s" || m.ClientHost != "/10.0.0.s" ||
		m.SessionTimeoutMillis != 10000 || m.RebalanceTimeoutMillis != 30000 ||
		!bytes.Equal(m.Subscription, subscription("t")) || string(m.Assignment) != "a:"+s.memberID {
		t.Fatalf("member %+v", m)
	}
	if gv.Members[0].InstanceID != nil {
		t.Fatal("dynamic member with an instance id")
	}

	var ok kmsg.OffsetCommitKey
	var ov kmsg.OffsetCommitValue
	if err := ok.ReadFrom(h.records[1].Key); err != nil || ok != (kmsg.OffsetCommitKey{Version: 1, Group: "g", Topic: "t", Partition: 4}) {
		t.Fatalf("offset key %+v: %v", ok, err)
	}
	if err := ov.ReadFrom(h.records[1].Value); err != nil || ov.Version != 3 || ov.Offset != 77 || ov.LeaderEpoch != 1 || ov.Metadata != "m" || ov.CommitTimestamp != h.now {
		t.Fatalf("offset value %+v: %v", ov, err)
	}
}

func TestPartitionFor(t *testing.T) {
	// Java's String.hashCode of each, then abs and mod 50.
	tests := []struct {
		group string
		want  int32
	}{
		{"", 0},
		{"test", 48},                  // 3556498
		{"hello", 22},                 // 99162322
		{"Aa", 12},                    // 2112
		{"BB", 12},                    // 2112
		{"polygenelubricants", 0},     // MinInt32: Kafka's abs gives 0
		{"my-group", 12},              // -1906497762
		{"\U0001F600", 49},            // a surrogate pair: 1772899
		{"console-consumer-12345", 6}, // 158455506
	}
	for _, tt := range tests {
		if got := PartitionFor(tt.group, 50); got != tt.want {
			t.Errorf("PartitionFor(%q, 50) = %d, want %d", tt.group, got, tt.want)
		}
	}
}

func TestDescribeAndList(t *testing.T) {
	h := newHarness(t, testConfig())
	a, s := h.client("a"), h.static("s", "i1")
	h.stabilize(a, s)
	h.wantNoErr(h.simpleCommit("simple", "t", 0, 1))
	b := h.client("b")
	b.group = "joining"
	b.joinFully()

	d := h.c.Describe("g", 5)
	if d.Err != nil || d.State != "Stable" || d.ProtocolType != "consumer" || d.Protocol != "range" || len(d.Members) != 2 {
		t.Fatalf("describe: %+v", d)
	}
	if m := d.Members[1]; m.MemberID != s.memberID || *m.InstanceID != "i1" || m.ClientID != "s" ||
		!bytes.Equal(m.Metadata, subscription("t")) || string(m.Assignment) != "a:"+s.memberID {
		t.Fatalf("member: %+v", m)
	}
	d = h.c.Describe("joining", 5)
	if d.State != "PreparingRebalance" || d.Protocol != "" || len(d.Members) != 1 || d.Members[0].Metadata != nil {
		t.Fatalf("describe during a rebalance: %+v", d)
	}
	if d := h.c.Describe("nope", 5); d.Err != nil || d.State != "Dead" {
		t.Fatalf("describe unknown, v5: %+v", d)
	}
	if d := h.c.Describe("nope", 6); d.Err == nil || d.State != "Dead" {
		t.Fatalf("describe unknown, v6: %+v", d)
	}

	all, _ := h.c.List(nil)
	want := []ListedGroup{{"g", "consumer", "Stable"}, {"joining", "consumer", "PreparingRebalance"}, {"simple", "", "Empty"}}
	if len(all) != 3 || all[0] != want[0] || all[1] != want[1] || all[2] != want[2] {
		t.Fatalf("list: %+v", all)
	}
	some, _ := h.c.List([]string{"stable", "EMPTY"})
	if len(some) != 2 || some[0].Group != "g" || some[1].Group != "simple" {
		t.Fatalf("list by state: %+v", some)
	}
}
