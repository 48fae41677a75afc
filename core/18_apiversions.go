package core

// ApiVersions, versions 0-3. Reports exactly the table in apis.go. The
// response header is never flexible (KIP-511), and a version we do not
// know is answered with v0 and UNSUPPORTED_VERSION (see Broker.Request).

import (
	"sort"

	"github.com/twmb/franz-go/pkg/kmsg"
)

func handleApiVersions(r *request, kreq kmsg.Request) {
	r.respond(apiVersionsResponse(r.b.apis, r.version))
}

func apiVersionsResponse(apis map[int16]*api, version int16) *kmsg.ApiVersionsResponse {
	resp := kmsg.NewPtrApiVersionsResponse()
	resp.Version = version
	for _, a := range apis {
		k := kmsg.NewApiVersionsResponseApiKey()
		k.ApiKey, k.MinVersion, k.MaxVersion = a.key, a.minVersion, a.maxVersion
		resp.ApiKeys = append(resp.ApiKeys, k)
	}
	sort.Slice(resp.ApiKeys, func(i, j int) bool { return resp.ApiKeys[i].ApiKey < resp.ApiKeys[j].ApiKey })
	return resp
}
