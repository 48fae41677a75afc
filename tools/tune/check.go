package tune

import (
	"fmt"
	"strings"
)

// Status is a check's verdict.
type Status string

const (
	OK   Status = "ok"   // as recommended
	Warn Status = "warn" // differs from the recommendation
	Info Status = "info" // nothing to check here, or advisory only
)

// Write is one sysfs/procfs change --apply makes: Value into Path; Was is
// what Path held, so writing it back undoes the change.
type Write struct {
	Path  string `json:"path"`
	Value string `json:"value"`
	Was   string `json:"was"`
}

// Check is what one check found, what it recommends and why.
type Check struct {
	Name      string `json:"name"`
	Status    Status `json:"status"`
	Found     string `json:"found"`
	Recommend string `json:"recommend"`
	Why       string `json:"why"`
	// Fixable says --apply can make the recommended change; Fix is what it
	// writes.
	Fixable bool    `json:"fixable"`
	Fix     []Write `json:"fix,omitempty"`
	// Applied is set once --apply made every write in Fix; Error says why
	// a write, or the check's own reads, failed.
	Applied bool   `json:"applied,omitempty"`
	Error   string `json:"error,omitempty"`
}

// Options select what Run checks and whether it changes anything.
type Options struct {
	// DataDir is the broker's log.dirs, absolute and with symlinks
	// resolved; empty skips the filesystem checks.
	DataDir string
	// Apply makes each fixable check's writes.
	Apply bool
}

// Run performs every check on h, in a fixed order, and with opts.Apply
// makes the fixes of those that are not OK.
func Run(h Host, opts Options) []Check {
	var checks []Check
	checks = append(checks, cpuGovernor(h))
	checks = append(checks, irqAffinity(h)...)
	checks = append(checks, blockQueues(h)...)
	checks = append(checks, transparentHugePages(h))
	checks = append(checks, sysctlAtMost(h, "vm.swappiness", 1,
		"swapping out the broker's buffers or indexes turns a microsecond memory access into a millisecond disk read; 1 swaps only to avoid the OOM killer"))
	checks = append(checks, nofile(h))
	checks = append(checks, sysctlAtLeast(h, "fs.aio-max-nr", 1048576,
		"Sluice writes with pwritev today and does not need AIO contexts; an io_uring/AIO disk path, and other brokers on the host (Redpanda, ScyllaDB), fail to start when this system-wide limit runs out, and raising it costs nothing until used"))
	checks = append(checks, clocksource(h))
	checks = append(checks, dataDirMount(h, opts.DataDir)...)
	if opts.Apply {
		for i := range checks {
			apply(h, &checks[i])
		}
	}
	return checks
}

func apply(h Host, c *Check) {
	if c.Status == OK || !c.Fixable || len(c.Fix) == 0 {
		return
	}
	for _, w := range c.Fix {
		if err := h.write(w.Path, w.Value); err != nil {
			c.Error = fmt.Sprintf("apply %s=%s: %v", w.Path, w.Value, err)
			return
		}
	}
	c.Applied = true
}

// unreadable is the check result when its source cannot be read: there is
// nothing to tune (a VM without cpufreq, a kernel without THP).
func unreadable(name, what string, err error) Check {
	return Check{Name: name, Status: Info, Found: what + " not available (" + shortErr(err) + ")",
		Recommend: "nothing to do", Why: "the kernel does not expose this setting here"}
}

func shortErr(err error) string {
	s := err.Error()
	if i := strings.LastIndex(s, ": "); i >= 0 {
		return s[i+2:]
	}
	return s
}
