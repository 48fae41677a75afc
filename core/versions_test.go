package core

import (
	"testing"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"sluice/disk/batch/batchtest"
)

// decodeResp decodes a response body returned by roundTrip (correlation
// id onward) for req's version.
func decodeResp(t *testing.T, req kmsg.Request, raw []byte) kmsg.Response {
	t.Helper()
	if raw == nil {
		t.Fatal("connection closed; want a response")
	}
	resp := req.ResponseKind()
	resp.SetVersion(req.GetVersion())
	body := raw[4:]
	if resp.IsFlexible() && req.Key() != kmsg.ApiVersions.Int16() {
		body = body[1:] // empty header tag section
	}
	if err := resp.ReadFrom(body); err != nil {
		t.Fatal(err)
	}
	return resp
}

// TestVersionEdges covers the version rules that are not plain ranges:
// Produce advertised from 0 but served from 3 (KAFKA-18659), ApiVersions
// v5 cluster and node checks, and topic IDs in Produce and Fetch v13+.
func TestVersionEdges(t *testing.T) {
	b := startBroker(t, t.TempDir())
	defer stopBroker(t, b)

	av := kmsg.NewPtrApiVersionsRequest()
	av.Version = 5
	resp := decodeResp(t, av, roundTrip(t, b, rawRequest(av, 1))).(*kmsg.ApiVersionsResponse)
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
	if resp := decodeResp(t, av, roundTrip(t, b, rawRequest(av, 2))).(*kmsg.ApiVersionsResponse); resp.ErrorCode != kerr.RebootstrapRequired.Code {
		t.Fatalf("wrong cluster id: error %d", resp.ErrorCode)
	}
	av.ClusterID = &b.clusterID
	if resp := decodeResp(t, av, roundTrip(t, b, rawRequest(av, 3))).(*kmsg.ApiVersionsResponse); resp.ErrorCode != 0 {
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
	if resp := decodeResp(t, pr, roundTrip(t, b, rawRequest(pr, 5))).(*kmsg.ProduceResponse); resp.Topics[0].Partitions[0].ErrorCode != kerr.UnknownTopicID.Code || resp.Topics[0].TopicID != pr.Topics[0].TopicID {
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
	if resp := decodeResp(t, fr, roundTrip(t, b, rawRequest(fr, 6))).(*kmsg.FetchResponse); resp.Topics[0].Partitions[0].ErrorCode != kerr.UnknownTopicID.Code || resp.Topics[0].TopicID != ft.TopicID {
		t.Fatalf("Fetch v18 of an unknown topic id: %+v", resp.Topics)
	}
}
