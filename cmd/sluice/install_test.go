package main

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"regexp"
	"strings"
	"testing"
	"time"

	"sluice/core"
)

// installCommands returns the lines of deploy/INSTALL.md's sh blocks.
func installCommands(t *testing.T) []string {
	t.Helper()
	raw, err := os.ReadFile("../../deploy/INSTALL.md")
	if err != nil {
		t.Fatal(err)
	}
	var cmds []string
	in := false
	for _, l := range strings.Split(string(raw), "\n") {
		switch {
		case l == "```sh":
			in = true
		case l == "```":
			in = false
		case in && strings.TrimSpace(l) != "":
			cmds = append(cmds, l)
		}
	}
	return cmds
}

// unitFile parses a systemd unit into section -> key -> values.
func unitFile(t *testing.T, path string) map[string]map[string][]string {
	t.Helper()
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	u := map[string]map[string][]string{}
	sec := ""
	for i, l := range strings.Split(string(raw), "\n") {
		l = strings.TrimSpace(l)
		switch {
		case l == "" || strings.HasPrefix(l, "#"):
		case strings.HasPrefix(l, "[") && strings.HasSuffix(l, "]"):
			sec = l[1 : len(l)-1]
			u[sec] = map[string][]string{}
		default:
			k, v, ok := strings.Cut(l, "=")
			if !ok || sec == "" {
				t.Fatalf("%s:%d: not key=value in a section: %q", path, i+1, l)
			}
			u[sec][k] = append(u[sec][k], v)
		}
	}
	return u
}

// TestSystemdUnit checks deploy/sluice.service's keys, and has
// systemd-analyze verify it where installed.
func TestSystemdUnit(t *testing.T) {
	u := unitFile(t, "../../deploy/sluice.service")
	want := map[string]string{"Service/Type": "exec", "Service/Restart": "on-failure", "Service/LimitNOFILE": "1048576",
		"Service/LimitMEMLOCK": "infinity", "Service/AmbientCapabilities": "CAP_BPF CAP_NET_ADMIN", "Service/User": "sluice",
		"Service/ExecStart":      "/usr/local/bin/sluice serve --config /etc/sluice/sluice.properties",
		"Service/ReadWritePaths": "/var/lib/sluice", "Install/WantedBy": "multi-user.target"}
	for k, v := range want {
		sec, key, _ := strings.Cut(k, "/")
		if got := u[sec][key]; len(got) != 1 || got[0] != v {
			t.Errorf("[%s] %s = %q, want %q", sec, key, got, v)
		}
	}
	if _, err := exec.LookPath("systemd-analyze"); err != nil {
		t.Log("systemd-analyze not installed; keys checked only")
		return
	}
	out, _ := exec.Command("systemd-analyze", "verify", "../../deploy/sluice.service").CombinedOutput()
	for _, l := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		// The binary is not installed where the unit expects it on a test host.
		if l != "" && !strings.Contains(l, "/usr/local/bin/sluice is not executable") {
			t.Errorf("systemd-analyze verify: %s", l)
		}
	}
}

// TestSysctlDropIn checks each key of deploy/99-sluice.conf names a sysctl
// this kernel has, with a numeric value.
func TestSysctlDropIn(t *testing.T) {
	raw, err := os.ReadFile("../../deploy/99-sluice.conf")
	if err != nil {
		t.Fatal(err)
	}
	num := regexp.MustCompile(`^\d+( \d+)*$`)
	n := 0
	for i, l := range strings.Split(string(raw), "\n") {
		if l = strings.TrimSpace(l); l == "" || strings.HasPrefix(l, "#") {
			continue
		}
		k, v, ok := strings.Cut(l, "=")
		k, v = strings.TrimSpace(k), strings.TrimSpace(v)
		if !ok || !num.MatchString(v) {
			t.Errorf("99-sluice.conf:%d: %q", i+1, l)
			continue
		}
		n++
		if _, err := os.Stat("/proc/sys/" + strings.ReplaceAll(k, ".", "/")); err != nil {
			t.Errorf("99-sluice.conf:%d: %s: %v", i+1, k, err)
		}
	}
	if n == 0 {
		t.Fatal("no settings")
	}
}

// TestInstallCommands walks deploy/INSTALL.md's commands in order. The
// ones that need root are checked against the files they install (the unit
// and the sysctl drop-in have their own tests above); the others run,
// against a broker started in-process for the verify and upgrade steps. A
// command without a check here fails the test.
func TestInstallCommands(t *testing.T) {
	props, err := os.ReadFile("../../deploy/sluice.properties")
	if err != nil {
		t.Fatal(err)
	}
	unit := unitFile(t, "../../deploy/sluice.service")
	exec0 := unit["Service"]["ExecStart"][0]

	dataDir := t.TempDir()
	start := func() *core.Broker {
		noDelay := time.Duration(0)
		b, err := core.Start(core.Config{Listen: "127.0.0.1:0", DataDir: dataDir, Shards: 1,
			Logger: slog.New(slog.NewTextHandler(io.Discard, nil)), GroupInitialRebalanceDelay: &noDelay})
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	stop := func(b *core.Broker) {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := b.Shutdown(ctx); err != nil {
			t.Error(err)
		}
	}
	b := start()
	defer func() { stop(b) }()
	run := func(line string, stdin string, args []string, want ...string) {
		var out bytes.Buffer
		if err := runCommand(append(args, "--brokers", b.Addr()), strings.NewReader(stdin), &out); err != nil {
			t.Fatalf("%s: %v\n%s", line, err, out.String())
		}
		matchLines(t, line, out.String(), want)
	}
	fileOnly := func(name string) func(string) {
		return func(string) {
			if _, err := os.Stat("../../deploy/" + name); err != nil {
				t.Error(err)
			}
		}
	}
	checks := map[string]func(line string){
		// Built by `go test` itself; the install path is the unit's ExecStart.
		"go build -o sluice ./cmd/sluice": func(string) {},
		"sudo install -m 0755 sluice /usr/local/bin/sluice": func(string) {
			if !strings.HasPrefix(exec0, "/usr/local/bin/sluice ") {
				t.Errorf("ExecStart %q", exec0)
			}
		},
		"sudo useradd --system --home-dir /var/lib/sluice --shell /usr/sbin/nologin sluice": func(string) {
			if unit["Service"]["User"][0] != "sluice" || unit["Service"]["Group"][0] != "sluice" {
				t.Error("unit does not run as sluice")
			}
		},
		"sudo install -d -o sluice -g sluice -m 0750 /var/lib/sluice": func(string) {
			if unit["Service"]["ReadWritePaths"][0] != "/var/lib/sluice" {
				t.Error("unit cannot write /var/lib/sluice")
			}
		},
		"sudo install -D -m 0644 deploy/sluice.properties /etc/sluice/sluice.properties": func(string) {
			if !strings.HasSuffix(exec0, " --config /etc/sluice/sluice.properties") {
				t.Errorf("ExecStart %q reads another config", exec0)
			}
		},
		// The same edit on the shipped file: one line changes and the
		// result loads with the data dir set.
		"sudo sed -i 's|^log.dirs=.*|log.dirs=/var/lib/sluice|' /etc/sluice/sluice.properties": func(string) {
			re := regexp.MustCompile(`(?m)^log.dirs=.*$`)
			if n := len(re.FindAllIndex(props, -1)); n != 1 {
				t.Fatalf("sluice.properties has %d log.dirs lines, want 1", n)
			}
			edited := re.ReplaceAll(props, []byte("log.dirs=/var/lib/sluice"))
			c := defaultServeConfig()
			if err := loadProperties(bytes.NewReader(edited), "sluice.properties", &c); err != nil || c.DataDir != "/var/lib/sluice" {
				t.Errorf("edited config: %v, data dir %q", err, c.DataDir)
			}
		},
		"sudo install -m 0644 deploy/99-sluice.conf /etc/sysctl.d/99-sluice.conf": fileOnly("99-sluice.conf"), // TestSysctlDropIn
		"sudo sysctl --system": fileOnly("99-sluice.conf"),
		// Read-only on this host, with a temporary data dir.
		"sudo sluice tune --data-dir /var/lib/sluice": func(line string) {
			var out bytes.Buffer
			if err := tuneCmd([]string{"--data-dir", t.TempDir()}, &out, "/"); err != nil {
				t.Fatalf("%s: %v", line, err)
			}
			if !regexp.MustCompile(`(?m)^\d+ checks, \d+ to change`).MatchString(out.String()) {
				t.Errorf("%s printed:\n%s", line, out.String())
			}
		},
		"sudo install -m 0644 deploy/sluice.service /etc/systemd/system/sluice.service": fileOnly("sluice.service"), // TestSystemdUnit
		"sudo systemctl daemon-reload":       fileOnly("sluice.service"),
		"sudo systemctl enable --now sluice": fileOnly("sluice.service"),
		"sluice cluster info": func(line string) {
			run(line, "", []string{"cluster", "info"}, "cluster: .*")
		},
		"sluice topic create smoke-test --partitions 1": func(line string) {
			run(line, "", []string{"topic", "create", "smoke-test", "--partitions", "1"}, "TOPIC ID PARTITIONS REPLICAS", `smoke-test \S+ 1 1`)
		},
		`printf 'hello\n' | sluice produce smoke-test`: func(line string) {
			run(line, "hello\n", []string{"produce", "smoke-test"}, "TOPIC PARTITION RECORDS FIRST-OFFSET LAST-OFFSET", "smoke-test 0 1 0 0")
		},
		"sluice consume smoke-test -e": func(line string) {
			run(line, "", []string{"consume", "smoke-test", "-e"}, "PARTITION OFFSET TIMESTAMP KEY VALUE HEADERS", `0 0 \S+ hello`)
		},
		// The restart: the broker stops and starts on the same data dir.
		"sudo systemctl restart sluice": func(string) {
			stop(b)
			b = start()
		},
	}
	cmds := installCommands(t)
	if len(cmds) == 0 {
		t.Fatal("no commands in deploy/INSTALL.md")
	}
	seen := map[string]bool{}
	for _, line := range cmds {
		check, ok := checks[line]
		if !ok {
			t.Fatalf("INSTALL.md command %q has no check in this test", line)
		}
		check(line)
		seen[line] = true
	}
	for line := range checks {
		if !seen[line] {
			t.Errorf("check for %q, which INSTALL.md no longer shows", line)
		}
	}
	// After the restart the topic and its record are still there.
	run("consume after restart", "", []string{"consume", "smoke-test", "-e"}, "PARTITION OFFSET TIMESTAMP KEY VALUE HEADERS", `0 0 \S+ hello`)
}
