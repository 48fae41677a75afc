package core

// AlterConfigs, versions 0-2: the legacy alter, where a resource's configs
// become exactly those given and any left out return to their defaults.
//
// Topic configs are validated whole (an unknown name, a value that does not
// parse or is out of range, or a null value is INVALID_CONFIG), then
// persisted in meta.json and applied live on every partition's loop; the
// response goes out once every partition has them, so a produce sent after
// it sees the new max.message.bytes. ValidateOnly checks without changing
// anything. A resource named twice, or a config named twice in a resource,
// is INVALID_REQUEST. Broker settings are static: an alter that changes any
// is INVALID_REQUEST saying so (an empty one is a no-op, since there are no
// dynamic broker configs to reset). Other resource types are as in
// DescribeConfigs.

import (
	"errors"
	"fmt"
	"strings"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

func handleAlterConfigs(r *request, kreq kmsg.Request) {
	req := kreq.(*kmsg.AlterConfigsRequest)
	resp := req.ResponseKind().(*kmsg.AlterConfigsResponse)
	rs := make([]alterResource, len(req.Resources))
	for i, rr := range req.Resources {
		rs[i] = alterResource{typ: rr.ResourceType, name: rr.ResourceName, names: make([]string, len(rr.Configs))}
		for j, c := range rr.Configs {
			rs[i].names[j] = c.Name
		}
		rs[i].next = func(map[string]string) (map[string]string, error) {
			next := map[string]string{}
			for _, c := range rr.Configs {
				if c.Value == nil {
					return nil, fmt.Errorf("Null value not supported for topic configs: %s", c.Name)
				}
				next[c.Name] = *c.Value
			}
			return next, nil
		}
	}
	r.alterConfigs(req.ValidateOnly, rs, func(i int, code int16, err error) {
		res := kmsg.NewAlterConfigsResponseResource()
		res.ResourceType, res.ResourceName = rs[i].typ, rs[i].name
		res.ErrorCode, res.ErrorMessage = code, errString(err)
		resp.Resources = append(resp.Resources, res)
	}, func() { r.respond(resp) })
}

// alterResource is what the two alter APIs know of one resource.
type alterResource struct {
	typ   kmsg.ConfigResourceType
	name  string
	names []string // the configs named, in request order
	// check refuses what one API refuses before the resource's current
	// configs are read; nil when there is nothing to check.
	check func() (int16, error)
	// next makes a topic's new configs from its current ones.
	next func(cur map[string]string) (map[string]string, error)
}

// alterConfigs alters each resource and reports its outcome to result (a
// later occurrence of a duplicated resource is left out: the first carries
// the error); respond runs once every partition of every altered topic has
// its new configs, so that the answer means the change is live.
func (r *request) alterConfigs(validateOnly bool, rs []alterResource, result func(i int, code int16, err error), respond func()) {
	fo := r.fanOut(respond)
	seen := map[configResourceKey]int{}
	for _, rr := range rs {
		seen[configResourceKey{rr.typ, rr.name}]++
	}
	for i, rr := range rs {
		skip, code, err := r.b.checkAlterResource(seen, rr.typ, rr.name, rr.names)
		if skip {
			continue
		}
		if err == nil && rr.check != nil {
			code, err = rr.check()
		}
		if err == nil {
			switch rr.typ {
			case kmsg.ConfigResourceTypeTopic:
				code, err = r.b.alterTopicConfigs(rr.name, validateOnly, rr.next, fo)
			case kmsg.ConfigResourceTypeBroker:
				code, err = alterBrokerConfigs(rr.names)
			}
		}
		result(i, code, err)
	}
	fo.wait()
}

type configResourceKey struct {
	typ  kmsg.ConfigResourceType
	name string
}

// checkAlterResource applies the checks an alter of either kind makes
// before looking at the resource's current configs: the resource appears
// once in the request, its type and name are valid, and no config is named
// twice. skip: a later occurrence of a duplicate resource, left out of the
// response (the first carries the error).
func (b *Broker) checkAlterResource(seen map[configResourceKey]int, typ kmsg.ConfigResourceType, name string, configs []string) (skip bool, code int16, err error) {
	key := configResourceKey{typ, name}
	switch n := seen[key]; {
	case n < 0:
		return true, 0, nil
	case n > 1:
		seen[key] = -1
		return false, kerr.InvalidRequest.Code, errors.New("Each resource must appear at most once.")
	}
	if code, err := b.checkConfigResource(typ, name); err != nil {
		return false, code, err
	}
	named := make(map[string]bool, len(configs))
	for _, c := range configs {
		if named[c] {
			return false, kerr.InvalidRequest.Code, fmt.Errorf("Error due to duplicate config keys: %s", c)
		}
		named[c] = true
	}
	return false, 0, nil
}

// alterBrokerConfigs refuses to change broker settings, which come from the
// broker's configuration and change only with a restart.
func alterBrokerConfigs(names []string) (int16, error) {
	if len(names) == 0 {
		return 0, nil
	}
	if len(names) > 5 {
		names = append(names[:5:5], "...")
	}
	return kerr.InvalidRequest.Code, fmt.Errorf("broker configs cannot be changed while the broker runs: set %s in its configuration and restart it", strings.Join(names, ", "))
}

// alterTopicConfigs makes next(current configs) the configs of topic name,
// after validating them. Unless validateOnly, they are persisted and then
// applied on each partition's loop, as part of fo. All of it happens under
// Broker.mu, so concurrent alters of a topic reach every loop in the order
// they took the lock. Runs on a.home.
func (b *Broker) alterTopicConfigs(name string, validateOnly bool, next func(map[string]string) (map[string]string, error), fo *fanout) (int16, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	t := b.topics[name]
	if t == nil {
		return errUnknownTopicOrPartition, fmt.Errorf("topic %q does not exist", name)
	}
	configs, err := next(t.configs)
	if err != nil {
		return errInvalidConfig, err
	}
	cfg, err := validTopicConfigs(configs)
	if err != nil {
		return errInvalidConfig, err
	}
	if validateOnly {
		return 0, nil
	}
	if len(configs) == 0 {
		configs = nil
	}
	old := t.configs
	t.configs = configs
	if err := b.saveMetaLocked(); err != nil {
		t.configs = old
		return errorCode(err), err
	}
	syncAcks := configs["flush.messages"] == "1"
	for _, p := range t.partitions {
		fo.run(p, func() func() {
			p.log.SetConfig(cfg)
			p.syncAcks = syncAcks
			return func() {}
		})
	}
	b.log.Info("altered topic configs", "topic", name, "configs", configs)
	return 0, nil
}
