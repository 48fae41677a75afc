package core

// DescribeConfigs, versions 0-4, for topics and this broker.
//
// A topic reports every config Sluice supports (topicConfigs) with its
// value and ConfigSource: DYNAMIC_TOPIC_CONFIG when set on the topic,
// DEFAULT_CONFIG otherwise (IsDefault at v0); none is read-only. Synonyms
// (v1+, when asked) are the topic's own value, if set, then the broker
// default it falls back to, under the broker setting's name; config types
// and, when asked, documentation come at v3+. ConfigNames filters, and
// names Sluice does not know are left out rather than refused, as Kafka
// does.
//
// The broker resource, named by this node's id, reports the settings the
// broker has (configs.go): all read-only, since they change only with a
// restart. Named "" it means the cluster-wide dynamic defaults, of which
// there are none, so the list is empty, as on a Kafka without them.
// Another id, a topic named "", broker loggers and other resource types
// are INVALID_REQUEST; an invalid topic name is INVALID_TOPIC_EXCEPTION and
// an unknown topic UNKNOWN_TOPIC_OR_PARTITION.

import (
	"errors"
	"fmt"
	"slices"
	"strconv"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

func handleDescribeConfigs(r *request, kreq kmsg.Request) {
	req := kreq.(*kmsg.DescribeConfigsRequest)
	resp := req.ResponseKind().(*kmsg.DescribeConfigsResponse)
	for _, rr := range req.Resources {
		res := kmsg.NewDescribeConfigsResponseResource()
		res.ResourceType, res.ResourceName = rr.ResourceType, rr.ResourceName
		code, err := r.b.checkConfigResource(rr.ResourceType, rr.ResourceName)
		if err == nil {
			switch rr.ResourceType {
			case kmsg.ConfigResourceTypeTopic:
				res.Configs, code, err = r.b.describeTopicConfigs(req, &rr)
			case kmsg.ConfigResourceTypeBroker:
				res.Configs = r.b.describeBrokerConfigs(req, &rr)
			}
		}
		if err != nil {
			msg := err.Error()
			res.ErrorCode, res.ErrorMessage = code, &msg
		}
		resp.Resources = append(resp.Resources, res)
	}
	r.respond(resp)
}

// checkConfigResource checks the type and name of a config resource, as
// Kafka does before describing or altering it. A topic's existence is
// checked later, under Broker.mu.
func (b *Broker) checkConfigResource(typ kmsg.ConfigResourceType, name string) (int16, error) {
	switch typ {
	case kmsg.ConfigResourceTypeTopic:
		if name == "" {
			return kerr.InvalidRequest.Code, errors.New("Default topic resources are not allowed.")
		}
		if err := validTopicName(name); err != nil {
			return errInvalidTopic, err
		}
		return 0, nil
	case kmsg.ConfigResourceTypeBroker:
		if name == "" {
			return 0, nil
		}
		if id, err := strconv.ParseInt(name, 10, 32); err != nil || int32(id) != b.cfg.NodeID {
			return kerr.InvalidRequest.Code, fmt.Errorf("Unexpected broker id, expected %d or empty string, but received %s", b.cfg.NodeID, name)
		}
		return 0, nil
	case kmsg.ConfigResourceTypeBrokerLogger:
		return kerr.InvalidRequest.Code, errors.New("broker loggers are not configurable on this broker")
	default:
		return kerr.InvalidRequest.Code, fmt.Errorf("Unsupported resource type: %d", typ)
	}
}

func (b *Broker) describeTopicConfigs(req *kmsg.DescribeConfigsRequest, rr *kmsg.DescribeConfigsRequestResource) ([]kmsg.DescribeConfigsResponseResourceConfig, int16, error) {
	// A topic's configs map is never modified once installed (alters
	// install a new one), so it can be read after the lock is dropped.
	b.mu.RLock()
	t := b.topics[rr.ResourceName]
	var set map[string]string
	if t != nil {
		set = t.configs
	}
	b.mu.RUnlock()
	if t == nil {
		return nil, errUnknownTopicOrPartition, fmt.Errorf("topic %q does not exist", rr.ResourceName)
	}
	var out []kmsg.DescribeConfigsResponseResourceConfig
	for _, name := range sortedTopicConfigNames() {
		if rr.ConfigNames != nil && !slices.Contains(rr.ConfigNames, name) {
			continue
		}
		d, def := topicConfigDefs[name], topicConfigs[name]
		fallback := configSynonym(d.synonym, def, kmsg.ConfigSourceDefaultConfig)
		if v, ok := set[name]; ok {
			syns := []kmsg.DescribeConfigsResponseResourceConfigConfigSynonym{configSynonym(name, v, kmsg.ConfigSourceDynamicTopicConfig), fallback}
			out = append(out, configEntry(req, name, v, kmsg.ConfigSourceDynamicTopicConfig, false, d.typ, d.doc, syns))
			continue
		}
		syns := []kmsg.DescribeConfigsResponseResourceConfigConfigSynonym{fallback}
		out = append(out, configEntry(req, name, def, kmsg.ConfigSourceDefaultConfig, false, d.typ, d.doc, syns))
	}
	return out, 0, nil
}

func (b *Broker) describeBrokerConfigs(req *kmsg.DescribeConfigsRequest, rr *kmsg.DescribeConfigsRequestResource) []kmsg.DescribeConfigsResponseResourceConfig {
	out := []kmsg.DescribeConfigsResponseResourceConfig{}
	if rr.ResourceName == "" {
		return out // no cluster-wide dynamic defaults
	}
	for _, c := range b.brokerConfigs() {
		if rr.ConfigNames != nil && !slices.Contains(rr.ConfigNames, c.name) {
			continue
		}
		syns := []kmsg.DescribeConfigsResponseResourceConfigConfigSynonym{configSynonym(c.name, c.value, c.source)}
		out = append(out, configEntry(req, c.name, c.value, c.source, true, c.typ, c.doc, syns))
	}
	return out
}

func configEntry(req *kmsg.DescribeConfigsRequest, name, value string, source kmsg.ConfigSource, readOnly bool, typ kmsg.ConfigType, doc string, syns []kmsg.DescribeConfigsResponseResourceConfigConfigSynonym) kmsg.DescribeConfigsResponseResourceConfig {
	c := kmsg.NewDescribeConfigsResponseResourceConfig()
	c.Name, c.Value, c.ReadOnly = name, &value, readOnly
	c.Source, c.IsDefault = source, source == kmsg.ConfigSourceDefaultConfig
	c.ConfigType = typ
	if req.IncludeSynonyms {
		c.ConfigSynonyms = syns
	}
	if req.IncludeDocumentation {
		c.Documentation = &doc
	}
	return c
}

func configSynonym(name, value string, source kmsg.ConfigSource) kmsg.DescribeConfigsResponseResourceConfigConfigSynonym {
	s := kmsg.NewDescribeConfigsResponseResourceConfigConfigSynonym()
	s.Name, s.Value, s.Source = name, &value, source
	return s
}
