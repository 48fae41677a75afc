package core

// ApiVersions, versions 0-5. Reports exactly the table in apis.go (with
// Produce's one exception, see 00_produce.go). The response header is
// never flexible (KIP-511), and a version we do not know is answered with
// v0 and UNSUPPORTED_VERSION (see Broker.Request). v4 only lifts a check on
// supported features, of which there are none. v5 (KIP-1242): a client
// naming a cluster and node that are not this one is told
// REBOOTSTRAP_REQUIRED, as it reached the wrong broker.

import (
	"sort"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

func handleApiVersions(r *request, kreq kmsg.Request) {
	req := kreq.(*kmsg.ApiVersionsRequest)
	resp := apiVersionsResponse(r.b.apiKeys, r.version)
	if req.ClusterID != nil && req.NodeID >= 0 && (*req.ClusterID != r.b.clusterID || req.NodeID != r.b.cfg.NodeID) {
		resp.ErrorCode = kerr.RebootstrapRequired.Code
	}
	r.respond(resp)
}

func apiVersionsResponse(keys []kmsg.ApiVersionsResponseApiKey, version int16) *kmsg.ApiVersionsResponse {
	resp := kmsg.NewPtrApiVersionsResponse()
	resp.Version = version
	resp.ApiKeys = keys // read only: shared by every response
	return resp
}

// advertisedKeys is the ApiKeys list of every ApiVersions response, made
// once: every client asks on every connection.
func advertisedKeys(apis map[int16]*api) []kmsg.ApiVersionsResponseApiKey {
	var keys []kmsg.ApiVersionsResponseApiKey
	for _, a := range apis {
		k := kmsg.NewApiVersionsResponseApiKey()
		k.ApiKey, k.MinVersion, k.MaxVersion = a.key, a.minVersion, a.maxVersion
		if a.advertiseFromZero {
			k.MinVersion = 0
		}
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool { return keys[i].ApiKey < keys[j].ApiKey })
	return keys
}
