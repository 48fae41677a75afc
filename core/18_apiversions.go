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
	resp := apiVersionsResponse(r.b.apis, r.version)
	if req.ClusterID != nil && req.NodeID >= 0 && (*req.ClusterID != r.b.clusterID || req.NodeID != r.b.cfg.NodeID) {
		resp.ErrorCode = kerr.RebootstrapRequired.Code
	}
	r.respond(resp)
}

func apiVersionsResponse(apis map[int16]*api, version int16) *kmsg.ApiVersionsResponse {
	resp := kmsg.NewPtrApiVersionsResponse()
	resp.Version = version
	for _, a := range apis {
		k := kmsg.NewApiVersionsResponseApiKey()
		k.ApiKey, k.MinVersion, k.MaxVersion = a.key, a.minVersion, a.maxVersion
		if a.advertiseFromZero {
			k.MinVersion = 0
		}
		resp.ApiKeys = append(resp.ApiKeys, k)
	}
	sort.Slice(resp.ApiKeys, func(i, j int) bool { return resp.ApiKeys[i].ApiKey < resp.ApiKeys[j].ApiKey })
	return resp
}
