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

	"sluice/netio"
)

func handleAlterConfigs(r *request, kreq kmsg.Request) {
	req := kreq.(*kmsg.AlterConfigsRequest)
	resp := req.ResponseKind().(*kmsg.AlterConfigsResponse)
	a := &configApply{home: r.c.Loop(), pending: 1, respond: func() { r.respond(resp) }}
	seen := map[configResourceKey]int{}
	for _, rr := range req.Resources {
		seen[configResourceKey{rr.ResourceType, rr.ResourceName}]++
	}
	for _, rr := range req.Resources {
		res := kmsg.NewAlterConfigsResponseResource()
		res.ResourceType, res.ResourceName = rr.ResourceType, rr.ResourceName
		names := make([]string, len(rr.Configs))
		for i, c := range rr.Configs {
			names[i] = c.Name
		}
		skip, code, err := r.b.checkAlterResource(seen, rr.ResourceType, rr.ResourceName, names)
		if skip {
			continue
		}
		if err == nil {
			switch rr.ResourceType {
			case kmsg.ConfigResourceTypeTopic:
				code, err = r.b.alterTopicConfigs(rr.ResourceName, req.ValidateOnly, func(map[string]string) (map[string]string, error) {
					next := map[string]string{}
					for _, c := range rr.Configs {
						if c.Value == nil {
							return nil, fmt.Errorf("Null value not supported for topic configs: %s", c.Name)
						}
						next[c.Name] = *c.Value
					}
					return next, nil
				}, a)
			case kmsg.ConfigResourceTypeBroker:
				code, err = alterBrokerConfigs(names)
			}
		}
		if err != nil {
			msg := err.Error()
			res.ErrorCode, res.ErrorMessage = code, &msg
		}
		resp.Resources = append(resp.Resources, res)
	}
	a.finish()
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

// configApply counts the partitions still applying an alter's new configs;
// the handler responds when none is left, so that the response means the
// change is live. Runs on the handler's loop.
type configApply struct {
	home    *netio.Loop
	pending int // one for the handler itself, released when it is done
	respond func()
}

func (a *configApply) finish() {
	if a.pending--; a.pending == 0 {
		a.respond()
	}
}

// alterTopicConfigs makes next(current configs) the configs of topic name,
// after validating them. Unless validateOnly, they are persisted and then
// applied on each partition's loop, counted by a. All of it happens under
// Broker.mu, so concurrent alters of a topic reach every loop in the order
// they took the lock. Runs on a.home.
func (b *Broker) alterTopicConfigs(name string, validateOnly bool, next func(map[string]string) (map[string]string, error), a *configApply) (int16, error) {
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
		a.pending++
		p.loop.Post(func() {
			p.log.SetConfig(cfg)
			p.syncAcks = syncAcks
			a.home.Post(a.finish)
		})
	}
	b.log.Info("altered topic configs", "topic", name, "configs", configs)
	return 0, nil
}
