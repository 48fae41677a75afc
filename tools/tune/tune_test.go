package tune

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// fakeHost builds a /proc and /sys tree from path -> contents.
func fakeHost(t *testing.T, files map[string]string) Host {
	t.Helper()
	root := t.TempDir()
	for p, s := range files {
		full := filepath.Join(root, p)
		if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(full, []byte(s+"\n"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return Host{Root: root, Rlimit: func() (uint64, uint64, error) { return 1048576, 1048576, nil }}
}

func find(t *testing.T, checks []Check, name string) Check {
	t.Helper()
	for _, c := range checks {
		if c.Name == name {
			return c
		}
	}
	var names []string
	for _, c := range checks {
		names = append(names, c.Name)
	}
	t.Fatalf("no check %q in %q", name, names)
	return Check{}
}

const mountinfo = `22 1 252:0 / / rw,relatime shared:1 - ext4 /dev/vda rw,discard
30 22 259:1 / /var/lib/sluice rw,noatime shared:2 - xfs /dev/nvme0n1p1 rw,attr2,inode64
31 22 0:40 / /srv/my\040data rw,relatime shared:3 - tmpfs tmpfs rw,size=1024k`

// TestChecks runs each check against a fake tree and checks its verdict,
// what it found and recommends, and the files --apply writes.
func TestChecks(t *testing.T) {
	cpu := "/sys/devices/system/cpu/"
	blk := "/sys/block/"
	cs := "/sys/devices/system/clocksource/clocksource0/"
	tests := []struct {
		name    string
		files   map[string]string
		dataDir string
		check   string
		status  Status
		found   string // substring
		rec     string // substring
		fixable bool
		writes  map[string]string // path -> contents after --apply
	}{
		{name: "governor powersave", check: "cpu governor", status: Warn, found: "powersave on 2 CPUs", rec: "performance", fixable: true,
			files: map[string]string{cpu + "cpu0/cpufreq/scaling_governor": "powersave", cpu + "cpu1/cpufreq/scaling_governor": "powersave",
				cpu + "cpu0/cpufreq/scaling_available_governors": "performance powersave"},
			writes: map[string]string{cpu + "cpu0/cpufreq/scaling_governor": "performance", cpu + "cpu1/cpufreq/scaling_governor": "performance"}},
		{name: "governor without performance", check: "cpu governor", status: Warn, found: "schedutil on 1 CPUs", rec: "firmware",
			files: map[string]string{cpu + "cpu0/cpufreq/scaling_governor": "schedutil", cpu + "cpu0/cpufreq/scaling_available_governors": "schedutil"}},
		{name: "governor performance", check: "cpu governor", status: OK, found: "performance on 1 CPUs",
			files: map[string]string{cpu + "cpu0/cpufreq/scaling_governor": "performance"}},
		{name: "no cpufreq", check: "cpu governor", status: OK, found: "no cpufreq"},
		{name: "nvme queues on one cpu", check: "irq affinity nvme0", status: Warn, found: "2 queue interrupts on 4 CPUs: 40->0 41->0", rec: "irqbalance",
			files: map[string]string{"/proc/interrupts": "  CPU0 CPU1 CPU2 CPU3\n 40: 1 0 0 0 PCI-MSIX nvme0q0\n 41: 5 0 0 0 PCI-MSIX nvme0q1\n NMI: 0 0 0 0 Non-maskable interrupts",
				"/proc/irq/40/smp_affinity_list": "0", "/proc/irq/41/smp_affinity_list": "0"}},
		{name: "nic queues spread", check: "irq affinity eth0", status: OK, found: "50->0 51->1",
			files: map[string]string{"/proc/interrupts": "  CPU0 CPU1\n 50: 1 0 PCI-MSIX eth0-TxRx-0\n 51: 0 1 PCI-MSIX eth0-TxRx-1",
				"/proc/irq/50/smp_affinity_list": "0", "/proc/irq/51/smp_affinity_list": "1"}},
		{name: "virtio only", check: "irq affinity", status: Info, found: "no NIC or NVMe",
			files: map[string]string{"/proc/interrupts": "  CPU0 CPU1\n 24: 1 0 IO-APIC 5-edge ACPI:Ged"}},
		{name: "nvme with mq-deadline", check: "scheduler nvme0n1", status: Warn, found: "[mq-deadline]", rec: "none", fixable: true,
			files:  map[string]string{blk + "nvme0n1/queue/scheduler": "[mq-deadline] none", blk + "nvme0n1/queue/rotational": "0"},
			writes: map[string]string{blk + "nvme0n1/queue/scheduler": "none"}},
		{name: "hdd with none", check: "scheduler sda", status: Warn, rec: "mq-deadline", fixable: true,
			files:  map[string]string{blk + "sda/queue/scheduler": "mq-deadline [none]", blk + "sda/queue/rotational": "1"},
			writes: map[string]string{blk + "sda/queue/scheduler": "mq-deadline"}},
		{name: "nvme none", check: "scheduler nvme0n1", status: OK,
			files: map[string]string{blk + "nvme0n1/queue/scheduler": "[none] mq-deadline", blk + "nvme0n1/queue/rotational": "0"}},
		{name: "nr_requests low", check: "nr_requests vda", status: Warn, found: "16", fixable: true,
			files:  map[string]string{blk + "vda/queue/scheduler": "[none]", blk + "vda/queue/nr_requests": "16"},
			writes: map[string]string{blk + "vda/queue/nr_requests": "64"}},
		{name: "nr_requests fine", check: "nr_requests vda", status: OK, found: "256",
			files: map[string]string{blk + "vda/queue/scheduler": "[none]", blk + "vda/queue/nr_requests": "256", blk + "loop0/queue/scheduler": "[none]"}},
		{name: "thp always", check: "transparent huge pages", status: Warn, rec: "madvise", fixable: true,
			files:  map[string]string{"/sys/kernel/mm/transparent_hugepage/enabled": "[always] madvise never"},
			writes: map[string]string{"/sys/kernel/mm/transparent_hugepage/enabled": "madvise"}},
		{name: "thp madvise", check: "transparent huge pages", status: OK,
			files: map[string]string{"/sys/kernel/mm/transparent_hugepage/enabled": "always [madvise] never"}},
		{name: "thp missing", check: "transparent huge pages", status: Info, found: "not available"},
		{name: "swappiness 60", check: "vm.swappiness", status: Warn, found: "60", fixable: true,
			files: map[string]string{"/proc/sys/vm/swappiness": "60"}, writes: map[string]string{"/proc/sys/vm/swappiness": "1"}},
		{name: "swappiness 1", check: "vm.swappiness", status: OK, files: map[string]string{"/proc/sys/vm/swappiness": "1"}},
		{name: "aio low", check: "fs.aio-max-nr", status: Warn, found: "65536", fixable: true,
			files: map[string]string{"/proc/sys/fs/aio-max-nr": "65536"}, writes: map[string]string{"/proc/sys/fs/aio-max-nr": "1048576"}},
		{name: "nofile", check: "RLIMIT_NOFILE", status: OK, found: "soft 1048576, hard 1048576"},
		{name: "clocksource hpet", check: "clocksource", status: Warn, found: "hpet", fixable: true,
			files:  map[string]string{cs + "current_clocksource": "hpet", cs + "available_clocksource": "tsc hpet acpi_pm"},
			writes: map[string]string{cs + "current_clocksource": "tsc"}},
		{name: "clocksource kvm", check: "clocksource", status: OK, rec: "kvm-clock",
			files: map[string]string{cs + "current_clocksource": "kvm-clock", cs + "available_clocksource": "kvm-clock"}},
		{name: "clocksource tsc unstable", check: "clocksource", status: Warn, rec: "unstable",
			files: map[string]string{cs + "current_clocksource": "hpet", cs + "available_clocksource": "hpet acpi_pm"}},
		{name: "xfs noatime", check: "data dir filesystem", dataDir: "/var/lib/sluice/data", status: OK, found: "/var/lib/sluice (/dev/nvme0n1p1): xfs",
			files: map[string]string{"/proc/self/mountinfo": mountinfo}},
		{name: "xfs noatime has it", check: "data dir noatime", dataDir: "/var/lib/sluice", status: OK,
			files: map[string]string{"/proc/self/mountinfo": mountinfo}},
		{name: "xfs no discard", check: "data dir discard", dataDir: "/var/lib/sluice", status: OK,
			files: map[string]string{"/proc/self/mountinfo": mountinfo}},
		{name: "root ext4 discard", check: "data dir discard", dataDir: "/var/lib/sluicex", status: Warn, found: "on / (/dev/vda)", rec: "fstrim",
			files: map[string]string{"/proc/self/mountinfo": mountinfo}},
		{name: "root relatime", check: "data dir noatime", dataDir: "/home/x", status: Warn, rec: "noatime",
			files: map[string]string{"/proc/self/mountinfo": mountinfo}},
		{name: "tmpfs with escaped space", check: "data dir filesystem", dataDir: "/srv/my data/sluice", status: Warn, found: "tmpfs",
			files: map[string]string{"/proc/self/mountinfo": mountinfo}},
		{name: "no data dir", check: "data dir filesystem", status: Info, rec: "--data-dir"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := fakeHost(t, tt.files)
			c := find(t, Run(h, Options{DataDir: tt.dataDir}), tt.check)
			if c.Status != tt.status || !strings.Contains(c.Found, tt.found) || !strings.Contains(c.Recommend, tt.rec) || c.Fixable != tt.fixable {
				t.Fatalf("got %+v\nwant status %s, found ~%q, recommend ~%q, fixable %v", c, tt.status, tt.found, tt.rec, tt.fixable)
			}
			if c.Why == "" {
				t.Error("no why")
			}
			if len(tt.writes) != len(c.Fix) {
				t.Fatalf("fix %+v, want writes %v", c.Fix, tt.writes)
			}
			// --apply writes the right files and nothing else.
			before := snapshot(t, h.Root)
			c = find(t, Run(h, Options{DataDir: tt.dataDir, Apply: true}), tt.check)
			if len(tt.writes) > 0 && (!c.Applied || c.Error != "") {
				t.Fatalf("not applied: %+v", c)
			}
			after := snapshot(t, h.Root)
			for p, s := range after {
				want, ok := tt.writes[p]
				if !ok {
					want = before[p]
				}
				if s != want && s != want+"\n" {
					t.Errorf("after --apply %s = %q, want %q", p, s, want)
				}
			}
		})
	}
}

func snapshot(t *testing.T, root string) map[string]string {
	m := map[string]string{}
	err := filepath.WalkDir(root, func(p string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := os.ReadFile(p)
		rel, _ := filepath.Rel(root, p)
		m["/"+rel] = string(b)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// TestApplyReportsFailure: a write the kernel refuses (here: the path is a
// directory, which fails for root too) is reported on the check and the
// check is not marked applied; no file is created for a missing path.
func TestApplyReportsFailure(t *testing.T) {
	h := fakeHost(t, map[string]string{"/proc/sys/vm/swappiness": "60"})
	c := Check{Name: "x", Status: Warn, Fixable: true, Fix: []Write{{Path: "/proc/sys/vm", Value: "1"}}}
	apply(h, &c)
	if c.Applied || !strings.Contains(c.Error, "/proc/sys/vm=1") {
		t.Errorf("directory: %+v", c)
	}
	c = Check{Name: "y", Status: Warn, Fixable: true, Fix: []Write{{Path: "/proc/sys/vm/nosuch", Value: "1"}}}
	apply(h, &c)
	if c.Applied || c.Error == "" {
		t.Errorf("missing file: %+v", c)
	}
	if _, err := os.Stat(filepath.Join(h.Root, "proc/sys/vm/nosuch")); err == nil {
		t.Error("apply created a file")
	}
}

func TestPrint(t *testing.T) {
	h := fakeHost(t, map[string]string{"/proc/sys/vm/swappiness": "60"})
	checks := Run(h, Options{})
	var b strings.Builder
	if err := Print(&b, checks, "table"); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"warn  vm.swappiness [--apply fixes]", "      found:     60", "      recommend: 1 or less", "      why:       swapping"} {
		if !strings.Contains(b.String(), want) {
			t.Errorf("table lacks %q:\n%s", want, b.String())
		}
	}
	b.Reset()
	if err := Print(&b, checks, "json"); err != nil {
		t.Fatal(err)
	}
	var back []Check
	if err := json.Unmarshal([]byte(b.String()), &back); err != nil || len(back) != len(checks) {
		t.Fatalf("json: %v, %d checks", err, len(back))
	}
	if err := Print(&b, checks, "yaml"); err == nil {
		t.Error("yaml accepted")
	}
}

// TestRealHost runs every check read-only on this machine; with -v it shows
// the output.
func TestRealHost(t *testing.T) {
	checks := Run(Real(), Options{DataDir: t.TempDir()})
	var b strings.Builder
	if err := Print(&b, checks, "table"); err != nil {
		t.Fatal(err)
	}
	t.Log("\n" + b.String())
	for _, c := range checks {
		if c.Applied || c.Name == "" || c.Status == "" {
			t.Errorf("check %+v", c)
		}
	}
}
