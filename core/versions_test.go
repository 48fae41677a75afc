package core

import (
	"testing"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"sluice/disk/batch/batchtest"
)

// TestVersionEdges covers the version rules that are not plain ranges:
// Produce advertised from 0 but served from 3 (KAFKA-18659), ApiVersions
// v5 cluster and node checks, and topic IDs in Produce and Fetch v13+.
func TestVersionEdges(t *testing.T) {
	b := startBroker(t, t.TempDir())
	defer stopBroker(t, b)

	av := kmsg.NewPtrApiVersionsRequest()
	av.Version = 5
	resp := callRaw[*kmsg.ApiVersionsResponse](t, b, av)
	for _, k := range resp.ApiKeys {
		if k.ApiKey == 0 && (k.MinVersion != 0 || k.MaxVersion != 13) {
			t.Fatalf("Produce advertised as %d-%d, want 0-13", k.MinVersion, k.MaxVersion)
		}
	}
	if resp.ErrorCode != 0 {
		t.Fatalf("ApiVersions v5 without cluster id: %d", resp.ErrorCode)
	}
	wrong := "not-this-cluster"
	av.ClusterID, av.NodeID = &wrong, b.cfg.NodeID
	if resp := callRaw[*kmsg.ApiVersionsResponse](t, b, av); resp.ErrorCode != kerr.RebootstrapRequired.Code {
		t.Fatalf("wrong cluster id: error %d", resp.ErrorCode)
	}
	av.ClusterID = &b.clusterID
	if resp := callRaw[*kmsg.ApiVersionsResponse](t, b, av); resp.ErrorCode != 0 {
		t.Fatalf("right cluster id: error %d", resp.ErrorCode)
	}

	produce := func(version int16) *kmsg.ProduceRequest {
		req := kmsg.NewPtrProduceRequest()
		req.Version, req.Acks, req.TimeoutMillis = version, 1, 5000
		rt := kmsg.NewProduceRequestTopic()
		rt.Topic, rt.TopicID = "v", [16]byte{1, 2, 3}
		rp := kmsg.NewProduceRequestTopicPartition()
		rp.Records = batchtest.Values(1, "x")
		rt.Partitions = append(rt.Partitions, rp)
		req.Topics = append(req.Topics, rt)
		return req
	}
	if raw := roundTrip(t, b, rawRequest(produce(2), 4)); raw != nil {
		t.Fatalf("Produce v2 answered (%x); want the connection closed", raw)
	}
	pr := produce(13)
	if resp := callRaw[*kmsg.ProduceResponse](t, b, pr); resp.Topics[0].Partitions[0].ErrorCode != kerr.UnknownTopicID.Code || resp.Topics[0].TopicID != pr.Topics[0].TopicID {
		t.Fatalf("Produce v13 to an unknown topic id: %+v", resp.Topics)
	}

	fr := kmsg.NewPtrFetchRequest()
	fr.Version, fr.MaxBytes = 18, 1<<20
	ft := kmsg.NewFetchRequestTopic()
	ft.TopicID = [16]byte{9}
	fp := kmsg.NewFetchRequestTopicPartition()
	fp.PartitionMaxBytes = 1 << 20
	ft.Partitions = append(ft.Partitions, fp)
	fr.Topics = append(fr.Topics, ft)
	if resp := callRaw[*kmsg.FetchResponse](t, b, fr); resp.Topics[0].Partitions[0].ErrorCode != kerr.UnknownTopicID.Code || resp.Topics[0].TopicID != ft.TopicID {
		t.Fatalf("Fetch v18 of an unknown topic id: %+v", resp.Topics)
	}
}

// TestListOffsetsSpecs covers each special timestamp of ListOffsets v11:
// earliest, latest, max timestamp (a later record with an older timestamp
// does not move it), earliest local, the tiered-storage ones, and a plain
// timestamp.
func TestListOffsetsSpecs(t *testing.T) {
	b := startBroker(t, t.TempDir())
	defer stopBroker(t, b)
	for _, ts := range []int64{1000, 5000, 3000} {
		if code := produceCodeRaw(t, b, "lo", 0, batchtest.Values(ts, "a", "b")); code != 0 {
			t.Fatalf("produce: %d", code)
		}
	}
	for _, c := range []struct {
		ts, offset, stamp int64
	}{
		{-2, 0, -1}, {-1, 6, -1}, {-3, 2, 5000}, {-4, 0, -1}, {-5, -1, -1}, {-6, -1, -1},
		{2000, 2, 2000}, {6000, -1, -1},
	} {
		req := kmsg.NewPtrListOffsetsRequest()
		req.Version = 11
		rt := kmsg.NewListOffsetsRequestTopic()
		rt.Topic = "lo"
		rp := kmsg.NewListOffsetsRequestTopicPartition()
		rp.Timestamp = c.ts
		rt.Partitions = append(rt.Partitions, rp)
		req.Topics = append(req.Topics, rt)
		got := callRaw[*kmsg.ListOffsetsResponse](t, b, req).Topics[0].Partitions[0]
		if got.ErrorCode != 0 || got.Offset != c.offset || got.Timestamp != c.stamp {
			t.Errorf("timestamp %d: offset %d timestamp %d error %d; want %d %d", c.ts, got.Offset, got.Timestamp, got.ErrorCode, c.offset, c.stamp)
		}
	}
}
