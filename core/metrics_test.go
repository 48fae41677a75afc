package core

import (
	"testing"

	"github.com/twmb/franz-go/pkg/kmsg"
)

// TestResponseFailed: an error code anywhere in a response, at the top or
// in a nested topic or partition, counts the request as failed.
func TestResponseFailed(t *testing.T) {
	ok := kmsg.NewPtrApiVersionsResponse()
	ok.ApiKeys = make([]kmsg.ApiVersionsResponseApiKey, 3)
	topErr := kmsg.NewPtrApiVersionsResponse()
	topErr.ErrorCode = 35
	meta := func(code int16) *kmsg.MetadataResponse {
		m := kmsg.NewPtrMetadataResponse()
		mt := kmsg.NewMetadataResponseTopic()
		mp := kmsg.NewMetadataResponseTopicPartition()
		mp.ErrorCode = code
		mt.Partitions = []kmsg.MetadataResponseTopicPartition{kmsg.NewMetadataResponseTopicPartition(), mp}
		m.Topics = []kmsg.MetadataResponseTopic{mt}
		return m
	}
	created := kmsg.NewPtrCreateTopicsResponse()
	created.Topics = []kmsg.CreateTopicsResponseTopic{{ErrorCode: 36}}
	produce := kmsg.NewPtrProduceResponse()
	produce.Topics = []kmsg.ProduceResponseTopic{{Partitions: []kmsg.ProduceResponseTopicPartition{{}, {ErrorCode: 2}}}}
	for _, c := range []struct {
		name string
		resp kmsg.Response
		want bool
	}{
		{"ApiVersions ok", ok, false},
		{"ApiVersions error", topErr, true},
		{"Metadata ok", meta(0), false},
		{"Metadata partition error", meta(5), true},
		{"CreateTopics topic error", created, true},
		{"Produce partition error", produce, true},
		{"Produce empty", kmsg.NewPtrProduceResponse(), false},
	} {
		if got := responseFailed(c.resp); got != c.want {
			t.Errorf("%s: failed %v, want %v", c.name, got, c.want)
		}
	}
}
