package bench

import (
	"bufio"
	"context"
	"fmt"
	"maps"
	"os"
	"runtime"
	"slices"
	"strings"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kmsg"
	"golang.org/x/sys/unix"
)

// BrokerInfo is what a run could read of the broker's own settings, so
// that a result says what it measured. A broker that does not answer one
// of these requests still gets measured; the failure is listed in Errors.
type BrokerInfo struct {
	ClusterID     string                 `json:"cluster_id"`
	Controller    int32                  `json:"controller"`
	Brokers       []string               `json:"brokers"`
	APIVersions   []APIVersion           `json:"api_versions"`
	TopicConfigs  map[string]ConfigValue `json:"topic_configs"`
	BrokerConfigs map[string]ConfigValue `json:"broker_configs,omitempty"`
	Errors        []string               `json:"errors,omitempty"`
}

// APIVersion is one line of the broker's ApiVersions response.
type APIVersion struct {
	Key  int16  `json:"key"`
	Name string `json:"name"`
	Min  int16  `json:"min"`
	Max  int16  `json:"max"`
}

// ConfigValue is a config as DescribeConfigs reports it.
type ConfigValue struct {
	Value  string `json:"value"`
	Source string `json:"source"`
}

// readClusterInfo fills the cluster-wide part: metadata, ApiVersions of
// one broker, and the broker configs of that broker.
func readClusterInfo(ctx context.Context, adm *kadm.Client) BrokerInfo {
	var info BrokerInfo
	fail := func(what string, err error) { info.Errors = append(info.Errors, fmt.Sprintf("%s: %v", what, err)) }
	md, err := adm.BrokerMetadata(ctx)
	if err != nil {
		fail("Metadata", err)
	} else {
		info.ClusterID, info.Controller = md.Cluster, md.Controller
		for _, b := range md.Brokers {
			info.Brokers = append(info.Brokers, fmt.Sprintf("%d %s:%d", b.NodeID, b.Host, b.Port))
		}
	}
	vs, err := adm.ApiVersions(ctx)
	if err != nil {
		fail("ApiVersions", err)
	}
	var node int32 = -1
	for _, id := range slices.Sorted(maps.Keys(vs)) {
		v := vs[id]
		if v.Err != nil {
			fail(fmt.Sprintf("ApiVersions of node %d", id), v.Err)
			continue
		}
		for _, k := range v.Raw().ApiKeys {
			info.APIVersions = append(info.APIVersions, APIVersion{Key: k.ApiKey, Name: kmsg.NameForKey(k.ApiKey), Min: k.MinVersion, Max: k.MaxVersion})
		}
		node = id
		break // one broker's list; the brokers of one cluster normally agree
	}
	if node >= 0 {
		rcs, err := adm.DescribeBrokerConfigs(ctx, node)
		if err == nil && len(rcs) > 0 && rcs[0].Err != nil {
			err = rcs[0].Err
		}
		if err != nil {
			fail("DescribeConfigs of the broker", err)
		} else {
			info.BrokerConfigs = configValues(rcs[0].Configs)
		}
	}
	return info
}

// readTopicConfigs reads the configs of one of the run's topics.
func readTopicConfigs(ctx context.Context, adm *kadm.Client, info *BrokerInfo, topic string) {
	rcs, err := adm.DescribeTopicConfigs(ctx, topic)
	if err == nil && len(rcs) > 0 && rcs[0].Err != nil {
		err = rcs[0].Err
	}
	if err != nil || len(rcs) == 0 {
		info.Errors = append(info.Errors, fmt.Sprintf("DescribeConfigs of topic %s: %v", topic, err))
		return
	}
	info.TopicConfigs = configValues(rcs[0].Configs)
}

func configValues(cs []kadm.Config) map[string]ConfigValue {
	m := make(map[string]ConfigValue, len(cs))
	for _, c := range cs {
		m[c.Key] = ConfigValue{Value: c.MaybeValue(), Source: strings.TrimSuffix(strings.ToLower(c.Source.String()), "_config")}
	}
	return m
}

// HostFacts describe the machine the load generator ran on (and, on
// loopback, the broker too).
type HostFacts struct {
	Hostname   string `json:"hostname"`
	Kernel     string `json:"kernel"`
	CPU        string `json:"cpu"`
	CPUs       int    `json:"cpus"`
	GOMAXPROCS int    `json:"gomaxprocs"`
	MemoryGiB  string `json:"memory_gib"`
	Go         string `json:"go"`
	LoadStart  string `json:"load_average_start"`
	LoadEnd    string `json:"load_average_end"`
}

func readHostFacts() HostFacts {
	h := HostFacts{CPUs: runtime.NumCPU(), GOMAXPROCS: runtime.GOMAXPROCS(0), Go: runtime.Version()}
	h.Hostname, _ = os.Hostname()
	var u unix.Utsname
	if unix.Uname(&u) == nil {
		h.Kernel = unix.ByteSliceToString(u.Sysname[:]) + " " + unix.ByteSliceToString(u.Release[:])
	}
	h.CPU = procField("/proc/cpuinfo", "model name")
	if kb := procField("/proc/meminfo", "MemTotal"); kb != "" {
		var n float64
		fmt.Sscanf(kb, "%f", &n)
		h.MemoryGiB = fmt.Sprintf("%.1f", n/(1<<20))
	}
	h.LoadStart = loadAverage()
	return h
}

// procField returns the value of the first "name: value" line of a /proc
// file, or "" when there is none.
func procField(path, name string) string {
	f, err := os.Open(path)
	if err != nil {
		return ""
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		k, v, ok := strings.Cut(sc.Text(), ":")
		if ok && strings.TrimSpace(k) == name {
			return strings.TrimSpace(v)
		}
	}
	return ""
}

func loadAverage() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return ""
	}
	f := strings.Fields(string(b))
	return strings.Join(f[:min(3, len(f))], " ")
}
