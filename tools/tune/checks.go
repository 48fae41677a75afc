package tune

import (
	"fmt"
	"path"
	"strconv"
	"strings"
)

func cpuGovernor(h Host) Check {
	const name = "cpu governor"
	govs := h.glob("/sys/devices/system/cpu/cpu[0-9]*/cpufreq/scaling_governor")
	if len(govs) == 0 {
		return Check{Name: name, Status: OK, Found: "no cpufreq (a VM or a fixed-frequency CPU)",
			Recommend: "nothing to do", Why: "the hypervisor or firmware sets the frequency"}
	}
	c := Check{Name: name, Recommend: "performance on every CPU", Status: OK,
		Why: "powersave and schedutil lower the clock between bursts; the next request then runs slowly while the CPU ramps up, which shows in p99 latency"}
	count := map[string]int{}
	var order []string
	for _, p := range govs {
		g, err := h.read(p)
		if err != nil {
			return unreadable(name, p, err)
		}
		if count[g] == 0 {
			order = append(order, g)
		}
		count[g]++
		if g != "performance" {
			c.Status = Warn
			c.Fix = append(c.Fix, Write{Path: p, Value: "performance", Was: g})
		}
	}
	var found []string
	for _, g := range order {
		found = append(found, fmt.Sprintf("%s on %d CPUs", g, count[g]))
	}
	c.Found = strings.Join(found, ", ")
	if c.Status == Warn {
		avail, _ := h.read(path.Join(path.Dir(govs[0]), "scaling_available_governors"))
		c.Fixable = contains(strings.Fields(avail), "performance")
		if !c.Fixable {
			c.Fix = nil
			c.Recommend += " (the driver does not offer it: set it in the firmware)"
		}
	}
	return c
}

// irqAffinity reports, per NIC and NVMe device, how many queue interrupts
// /proc/interrupts lists and which CPUs their smp_affinity_list allows.
func irqAffinity(h Host) []Check {
	const name = "irq affinity"
	raw, err := h.read("/proc/interrupts")
	if err != nil {
		return []Check{unreadable(name, "/proc/interrupts", err)}
	}
	lines := strings.Split(raw, "\n")
	ncpu := len(strings.Fields(lines[0]))
	type dev struct {
		queues int
		cpus   map[string]bool
		irqs   []string
	}
	devs := map[string]*dev{}
	var order []string
	for _, l := range lines[1:] {
		f := strings.Fields(l)
		if len(f) < 2 || !strings.HasSuffix(f[0], ":") {
			continue
		}
		irq := strings.TrimSuffix(f[0], ":")
		if _, err := strconv.Atoi(irq); err != nil {
			continue // NMI, LOC and the other per-CPU counters
		}
		d := queueDevice(f[len(f)-1])
		if d == "" {
			continue
		}
		if devs[d] == nil {
			devs[d] = &dev{cpus: map[string]bool{}}
			order = append(order, d)
		}
		devs[d].queues++
		devs[d].irqs = append(devs[d].irqs, irq)
		aff, err := h.read("/proc/irq/" + irq + "/smp_affinity_list")
		if err != nil {
			aff = "?"
		}
		devs[d].cpus[aff] = true
	}
	if len(order) == 0 {
		return []Check{{Name: name, Status: Info, Found: "no NIC or NVMe queue interrupts in /proc/interrupts",
			Recommend: "nothing to do", Why: "virtio and emulated devices are steered by the hypervisor"}}
	}
	var checks []Check
	for _, d := range order {
		v := devs[d]
		var affs []string
		for _, irq := range v.irqs {
			a, err := h.read("/proc/irq/" + irq + "/smp_affinity_list")
			if err != nil {
				a = "?"
			}
			affs = append(affs, irq+"->"+a)
		}
		c := Check{Name: name + " " + d, Status: OK,
			Found:     fmt.Sprintf("%d queue interrupts on %d CPUs: %s", v.queues, ncpu, strings.Join(affs, " ")),
			Recommend: "queues spread one per core (irqbalance, or the driver's default managed affinity)",
			Why:       "interrupts of many queues on one core make it the bottleneck and add its softirq time to every request served there"}
		var only string
		for a := range v.cpus {
			only = a
		}
		if v.queues > 1 && len(v.cpus) == 1 && !strings.ContainsAny(only, ",-?") && ncpu > 1 {
			c.Status = Warn
			c.Recommend += "; set /proc/irq/N/smp_affinity_list by hand or run irqbalance (NVMe queues are kernel-managed and refuse writes)"
		}
		checks = append(checks, c)
	}
	return checks
}

// queueDevice names the device of a queue interrupt's action name, or ""
// for interrupts that are not NIC or NVMe queues: nvme0q3 -> nvme0,
// eth0-TxRx-3 -> eth0, virtio1-input.0 -> virtio1, mlx5_comp2@pci:... -> mlx5.
func queueDevice(action string) string {
	switch {
	case strings.HasPrefix(action, "nvme"):
		if i := strings.Index(action, "q"); i > 4 {
			return action[:i]
		}
	case strings.HasPrefix(action, "mlx5_comp"):
		return "mlx5"
	case strings.Contains(action, "-TxRx-"), strings.Contains(action, "-rx-"), strings.Contains(action, "-tx-"):
		return action[:strings.Index(action, "-")]
	case strings.HasPrefix(action, "virtio") && (strings.Contains(action, "-input") || strings.Contains(action, "-output")):
		return action[:strings.Index(action, "-")]
	}
	return ""
}

// blockQueues checks the I/O scheduler and nr_requests of every disk
// (loop, ram, zram and device-mapper devices are skipped).
func blockQueues(h Host) []Check {
	var checks []Check
	for _, dir := range h.glob("/sys/block/*") {
		d := path.Base(dir)
		if strings.HasPrefix(d, "loop") || strings.HasPrefix(d, "ram") || strings.HasPrefix(d, "zram") || strings.HasPrefix(d, "dm-") {
			continue
		}
		sched, err := h.read(dir + "/queue/scheduler")
		if err != nil {
			continue
		}
		rot, _ := h.read(dir + "/queue/rotational")
		cur, avail := bracketed(sched)
		want, why := "none", "an SSD reorders requests itself; a kernel scheduler adds a lock and latency per request and merges little"
		if rot == "1" {
			want, why = "mq-deadline", "a spinning disk needs requests sorted to limit seeks, with a deadline so reads are not starved"
		}
		c := Check{Name: "scheduler " + d, Status: OK, Found: sched + " (rotational=" + rot + ")", Recommend: want, Why: why}
		if cur != "" && cur != want {
			c.Status = Warn
			if contains(avail, want) {
				c.Fixable = true
				c.Fix = []Write{{Path: dir + "/queue/scheduler", Value: want, Was: cur}}
			}
		}
		checks = append(checks, c)
		if nr, err := h.read(dir + "/queue/nr_requests"); err == nil {
			n, _ := strconv.Atoi(nr)
			c := Check{Name: "nr_requests " + d, Status: OK, Found: nr, Recommend: "at least 64 (the default of most drivers)",
				Why: "nr_requests caps the requests in flight to the device; below the device's queue depth it starves an NVMe drive"}
			if n < 64 {
				c.Status = Warn
				c.Recommend = "64 (raise only if the device queue depth allows; the write fails otherwise)"
				c.Fixable = true
				c.Fix = []Write{{Path: dir + "/queue/nr_requests", Value: "64", Was: nr}}
			}
			checks = append(checks, c)
		}
	}
	if len(checks) == 0 {
		return []Check{{Name: "scheduler", Status: Info, Found: "no block devices in /sys/block",
			Recommend: "nothing to do", Why: "no disk to check"}}
	}
	return checks
}

func transparentHugePages(h Host) Check {
	const name, p = "transparent huge pages", "/sys/kernel/mm/transparent_hugepage/enabled"
	s, err := h.read(p)
	if err != nil {
		return unreadable(name, p, err)
	}
	cur, avail := bracketed(s)
	c := Check{Name: name, Status: OK, Found: s, Recommend: "madvise",
		Why: "with always, page faults can stall in direct compaction and khugepaged for milliseconds; the broker allocates its buffers once at start-up and gains little from huge pages on the rest"}
	if cur == "always" {
		c.Status = Warn
		c.Fixable = contains(avail, "madvise")
		if c.Fixable {
			c.Fix = []Write{{Path: p, Value: "madvise", Was: cur}}
		}
	}
	return c
}

func sysctlPath(key string) string { return "/proc/sys/" + strings.ReplaceAll(key, ".", "/") }

func sysctlInt(h Host, key string) (int64, string, error) {
	s, err := h.read(sysctlPath(key))
	if err != nil {
		return 0, "", err
	}
	n, err := strconv.ParseInt(s, 10, 64)
	return n, s, err
}

func sysctlAtMost(h Host, key string, max int64, why string) Check {
	n, s, err := sysctlInt(h, key)
	if err != nil {
		return unreadable(key, sysctlPath(key), err)
	}
	c := Check{Name: key, Status: OK, Found: s, Recommend: fmt.Sprintf("%d or less", max), Why: why}
	if n > max {
		c.Status, c.Fixable = Warn, true
		c.Fix = []Write{{Path: sysctlPath(key), Value: strconv.FormatInt(max, 10), Was: s}}
	}
	return c
}

func sysctlAtLeast(h Host, key string, min int64, why string) Check {
	n, s, err := sysctlInt(h, key)
	if err != nil {
		return unreadable(key, sysctlPath(key), err)
	}
	c := Check{Name: key, Status: OK, Found: s, Recommend: fmt.Sprintf("%d or more", min), Why: why}
	if n < min {
		c.Status, c.Fixable = Warn, true
		c.Fix = []Write{{Path: sysctlPath(key), Value: strconv.FormatInt(min, 10), Was: s}}
	}
	return c
}

// nofile checks this process's RLIMIT_NOFILE; --apply cannot raise another
// process's limit, so the fix is the unit's LimitNOFILE.
func nofile(h Host) Check {
	const name, want = "RLIMIT_NOFILE", 1048576
	soft, hard, err := h.nofile()
	if err != nil {
		return unreadable(name, "getrlimit", err)
	}
	c := Check{Name: name, Status: OK, Found: fmt.Sprintf("soft %d, hard %d", soft, hard),
		Recommend: fmt.Sprintf("soft and hard %d (LimitNOFILE= in deploy/sluice.service, or ulimit -n)", want),
		Why:       "every connection and every open segment and index file takes a descriptor; running out refuses clients and fails segment rolls"}
	if soft < 65536 || hard < want {
		c.Status = Warn
	}
	return c
}

func clocksource(h Host) Check {
	const name, p = "clocksource", "/sys/devices/system/clocksource/clocksource0/current_clocksource"
	cur, err := h.read(p)
	if err != nil {
		return unreadable(name, p, err)
	}
	availS, _ := h.read("/sys/devices/system/clocksource/clocksource0/available_clocksource")
	avail := strings.Fields(availS)
	c := Check{Name: name, Status: OK, Found: cur + " (available: " + availS + ")", Recommend: "tsc",
		Why: "tsc is read in user space by the vDSO in ~20 ns; hpet and acpi_pm make every clock read a system call or an I/O port read, and the broker reads the clock per request"}
	switch {
	case cur == "tsc" || cur == "arch_sys_counter":
		if cur == "arch_sys_counter" {
			c.Recommend = "arch_sys_counter (the arm64 equivalent of tsc)"
		}
	case contains(avail, "tsc"):
		c.Status, c.Fixable = Warn, true
		c.Fix = []Write{{Path: p, Value: "tsc", Was: cur}}
	case cur == "kvm-clock" || cur == "xen" || cur == "hyperv_clocksource_tsc_page":
		c.Recommend = cur + " (tsc is not offered; the paravirtual clock is also read in user space)"
	default:
		c.Status = Warn
		c.Recommend = "tsc (not offered here: the kernel marked it unstable; check the BIOS and dmesg)"
	}
	return c
}
