package core

// IncrementalAlterConfigs, versions 0-1. Each config of a resource is SET,
// DELETEd (back to its default; deleting a name that is not set, even an
// unknown one, changes nothing, as in Kafka), or for a list config
// (cleanup.policy) has values APPENDed or SUBTRACTed. The result is
// validated, persisted and applied live as in AlterConfigs (see
// 33_alterconfigs.go), with the same errors, plus: an unknown operation or
// a null value for anything but DELETE is INVALID_REQUEST, and APPEND or
// SUBTRACT on a config that is not a list is INVALID_CONFIG.

import (
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

func handleIncrementalAlterConfigs(r *request, kreq kmsg.Request) {
	req := kreq.(*kmsg.IncrementalAlterConfigsRequest)
	resp := req.ResponseKind().(*kmsg.IncrementalAlterConfigsResponse)
	rs := make([]alterResource, len(req.Resources))
	for i, rr := range req.Resources {
		rs[i] = alterResource{typ: rr.ResourceType, name: rr.ResourceName, names: make([]string, len(rr.Configs))}
		for j, c := range rr.Configs {
			rs[i].names[j] = c.Name
		}
		rs[i].check = func() (int16, error) { return checkIncrementalOps(rr.Configs) }
		rs[i].next = func(cur map[string]string) (map[string]string, error) { return applyIncrementalOps(cur, rr.Configs) }
	}
	r.alterConfigs(req.ValidateOnly, rs, func(i int, code int16, err error) {
		res := kmsg.NewIncrementalAlterConfigsResponseResource()
		res.ResourceType, res.ResourceName = rs[i].typ, rs[i].name
		res.ErrorCode, res.ErrorMessage = code, errString(err)
		resp.Resources = append(resp.Resources, res)
	}, func() { r.respond(resp) })
}

// checkIncrementalOps refuses what Kafka refuses before looking at the
// resource: unknown operations and null values to set, append or subtract.
func checkIncrementalOps(ops []kmsg.IncrementalAlterConfigsRequestResourceConfig) (int16, error) {
	for _, c := range ops {
		switch c.Op {
		case kmsg.IncrementalAlterConfigOpSet, kmsg.IncrementalAlterConfigOpAppend, kmsg.IncrementalAlterConfigOpSubtract:
			if c.Value == nil {
				return kerr.InvalidRequest.Code, fmt.Errorf("Null value not supported for : %s", c.Name)
			}
		case kmsg.IncrementalAlterConfigOpDelete:
		default:
			return kerr.InvalidRequest.Code, fmt.Errorf("unknown operation %d for config %s", c.Op, c.Name)
		}
	}
	return 0, nil
}

// applyIncrementalOps returns cur with ops applied, as Kafka's
// ConfigurationControlManager does; cur is not modified.
func applyIncrementalOps(cur map[string]string, ops []kmsg.IncrementalAlterConfigsRequestResourceConfig) (map[string]string, error) {
	next := maps.Clone(cur)
	if next == nil {
		next = map[string]string{}
	}
	for _, c := range ops {
		switch c.Op {
		case kmsg.IncrementalAlterConfigOpSet:
			next[c.Name] = *c.Value
		case kmsg.IncrementalAlterConfigOpDelete:
			delete(next, c.Name)
		default:
			if d, ok := topicConfigDefs[c.Name]; !ok || d.typ != kmsg.ConfigTypeList {
				return nil, fmt.Errorf("Can't %s to key %s because its type is not LIST.", c.Op, c.Name)
			}
			v, ok := next[c.Name]
			if !ok {
				v = topicConfigs[c.Name]
			}
			var values []string
			for _, s := range strings.Split(v, ",") {
				if s != "" {
					values = append(values, s)
				}
			}
			for _, s := range strings.Split(*c.Value, ",") {
				i := slices.Index(values, s)
				switch {
				case c.Op == kmsg.IncrementalAlterConfigOpAppend && i < 0:
					values = append(values, s)
				case c.Op == kmsg.IncrementalAlterConfigOpSubtract && i >= 0:
					values = slices.Delete(values, i, i+1)
				}
			}
			next[c.Name] = strings.Join(values, ",")
		}
	}
	return next, nil
}
