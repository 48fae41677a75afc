package disk

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"math/rand/v2"
	"os"
	"os/exec"
	"path"
	"runtime/debug"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"sluice/disk/batch"
	"sluice/disk/batch/batchtest"
	"sluice/disk/vfs"
)

// testSeed returns the seed in the environment variable env, or a fresh one,
// and logs how to repeat the run.
func testSeed(t *testing.T, env string) uint64 {
	t.Helper()
	seed := uint64(time.Now().UnixNano())
	if s := os.Getenv(env); s != "" {
		v, err := strconv.ParseUint(s, 10, 64)
		if err != nil {
			t.Fatalf("%s=%q: %v", env, s, err)
		}
		seed = v
	}
	t.Logf("seed %d (repeat with %s=%d)", seed, env, seed)
	return seed
}

// TestCrashKill9 kills a process appending to a log on the real filesystem
// with SIGKILL at random moments (while it starts and recovers, while it
// appends, right after an acknowledgement) and checks after each kill that
// the recovered log holds every batch the process saw acknowledged as
// durable, byte for byte, at its offset; that offsets are contiguous from
// the log start; and that nothing torn is readable. Each round continues
// the same directory, so logs recovered once are crashed and recovered
// again. A process crash keeps the page cache, so this checks the order of
// writes, the recovery scan and the acknowledgement protocol, not fdatasync
// (TestPowerCut does that).
//
// SLUICE_CRASH_SEED repeats the kill schedule and batch sizes (not the
// timing); SLUICE_CRASH_ROUNDS sets the number of rounds (default 50, 10
// with -short).
func TestCrashKill9(t *testing.T) {
	if dir := os.Getenv(crashChildEnv); dir != "" {
		crashChild(dir)
	}
	rounds := 50
	if testing.Short() {
		rounds = 10
	}
	if s := os.Getenv("SLUICE_CRASH_ROUNDS"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 {
			t.Fatalf("SLUICE_CRASH_ROUNDS=%q: want a positive count", s)
		}
		rounds = n
	}
	seed := testSeed(t, crashSeedEnv)
	rng := rand.New(rand.NewPCG(seed, 0))
	dir := t.TempDir()
	start := time.Now()
	deadline := start.Add(45 * time.Second)

	// stored is the whole log as the parent last read it; every round must
	// keep it and add the round's acknowledged batches after it.
	var stored []crashAck
	kills := map[string]int{}
	var acks, beforeOpen, tornCuts int
	openLatency := 20 * time.Millisecond // exec to "open", as last seen
	round := 0
	for ; round < rounds && time.Now().Before(deadline); round++ {
		plan := newKillPlan(rng, openLatency)
		kills[plan.mode]++
		res := runCrashChild(t, dir, seed, round, plan)
		fail := func(format string, args ...any) {
			t.Helper()
			t.Fatalf("seed %d round %d (kill %s): %s\nchild stderr:\n%s", seed, round, plan, fmt.Sprintf(format, args...), res.stderr)
		}
		var logEnd int64
		if n := len(stored); n > 0 {
			logEnd = stored[n-1].base + int64(stored[n-1].records)
		}
		if res.opened {
			openLatency = res.openLatency
			if res.openStart != 0 || res.openEnd != logEnd {
				fail("child opened the log at [%d, %d), the parent closed it at [0, %d)", res.openStart, res.openEnd, logEnd)
			}
		}
		next := logEnd
		for i, a := range res.acks {
			if a.base != next {
				fail("child acknowledged batch %d at offset %d, expected %d", i, a.base, next)
			}
			next = a.base + int64(a.records)
		}
		want := append(slices.Clip(stored), res.acks...)

		var recovery bytes.Buffer
		l, err := Open(vfs.OS{}, dir, crashConfig(slog.New(slog.NewTextHandler(&recovery, nil))))
		if err != nil {
			fail("recovery failed: %v", err)
		}
		got, err := readBatches(l)
		if err != nil {
			l.Close()
			fail("%v\nrecovery log:\n%s", err, recovery.String())
		}
		if len(got) < len(want) {
			end := l.LogEndOffset()
			l.Close()
			fail("log holds %d batches (end %d), %d were acknowledged (end %d)\nrecovery log:\n%s",
				len(got), end, len(want), want[len(want)-1].base+int64(want[len(want)-1].records), recovery.String())
		}
		for i, w := range want {
			if got[i] != w {
				l.Close()
				fail("batch %d: acknowledged %+v, recovered %+v\nrecovery log:\n%s", i, w, got[i], recovery.String())
			}
		}
		if err := l.Close(); err != nil {
			fail("close: %v", err)
		}
		stored = got
		acks += len(res.acks)
		if !res.opened {
			beforeOpen++
		}
		tornCuts += strings.Count(recovery.String(), "cut torn")
	}
	t.Logf("%d rounds in %v: kills %v, %d before the log opened; %d acks; %d torn tails cut; log ends with %d batches",
		round, time.Since(start).Round(time.Millisecond), kills, beforeOpen, acks, tornCuts, len(stored))
	if round < min(rounds, 5) {
		t.Fatalf("only %d rounds ran before the deadline", round)
	}
}

// readBatches reads the whole log, checking every batch, and returns it as
// acknowledgements.
func readBatches(l *Log) ([]crashAck, error) {
	var out []crashAck
	start, end := l.LogStartOffset(), l.LogEndOffset()
	if start != 0 {
		return nil, fmt.Errorf("log starts at %d, nothing moved it", start)
	}
	var buf []byte
	for off := start; off < end; {
		var next int64
		var err error
		buf, next, err = l.Read(buf[:0], off, 1<<20, end)
		if err != nil {
			return nil, fmt.Errorf("read at %d: %w", off, err)
		}
		if next <= off {
			return nil, fmt.Errorf("read at %d (log end %d) made no progress", off, end)
		}
		for p := buf; len(p) > 0; {
			h, err := batch.ParseHeader(p)
			if err == nil && h.Size() > len(p) {
				err = fmt.Errorf("batch of %d bytes, %d returned", h.Size(), len(p))
			}
			if err == nil {
				_, err = batch.Validate(p[:h.Size()], 0)
			}
			if err != nil {
				return nil, fmt.Errorf("read at %d returned a bad batch: %w", off, err)
			}
			if h.BaseOffset != off {
				return nil, fmt.Errorf("batch at offset %d, expected %d: offsets not contiguous", h.BaseOffset, off)
			}
			out = append(out, crashAck{base: h.BaseOffset, records: int(h.NumRecords), sum: batchSum(p[:h.Size()])})
			off = h.LastOffset() + 1
			p = p[h.Size():]
		}
		if off != next {
			return nil, fmt.Errorf("read returned batches up to %d but said %d", off, next)
		}
	}
	return out, nil
}

// killPlan says when the parent kills a child.
type killPlan struct {
	mode  string        // "start": delay after exec; "run": delay after open; "acks": after n acks
	delay time.Duration // for start and run
	acks  int           // for acks
}

// newKillPlan draws a kill moment. openLatency, how long the last child took
// from exec to an open log, aims "start" kills at recovery, which grows
// slower as the log gains segments.
func newKillPlan(rng *rand.Rand, openLatency time.Duration) killPlan {
	switch r := rng.IntN(10); {
	case r < 2:
		d := openLatency/2 + time.Duration(rng.Int64N(int64(openLatency)+1))
		return killPlan{mode: "start", delay: max(d, time.Millisecond)}
	case r < 7:
		return killPlan{mode: "run", delay: time.Duration(5+rng.IntN(146)) * time.Millisecond}
	default:
		return killPlan{mode: "acks", acks: 1 + rng.IntN(300)}
	}
}

func (p killPlan) String() string {
	if p.mode == "acks" {
		return fmt.Sprintf("after %d acks", p.acks)
	}
	return fmt.Sprintf("%v after %s", p.delay, p.mode)
}

type childResult struct {
	opened             bool
	openLatency        time.Duration // from exec to the open line
	openStart, openEnd int64
	acks               []crashAck
	killed             bool // by our SIGKILL, rather than exiting by itself
	stderr             string
}

// runCrashChild runs one child against dir and kills it as plan says.
func runCrashChild(t *testing.T, dir string, seed uint64, round int, plan killPlan) childResult {
	t.Helper()
	var res childResult
	cmd := exec.Command(os.Args[0], "-test.run=^TestCrashKill9$", "-test.timeout=60s")
	cmd.Env = append(os.Environ(),
		crashChildEnv+"="+dir,
		crashSeedEnv+"="+strconv.FormatUint(seed, 10),
		crashRoundEnv+"="+strconv.Itoa(round))
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	started := time.Now()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	// The reader goroutine ends at EOF, which the child's death guarantees;
	// the channel holds at most a child's worth of lines in flight.
	lines := make(chan string, 256)
	go func() {
		defer close(lines)
		r := bufio.NewReader(stdout)
		for {
			s, err := r.ReadString('\n')
			if err != nil {
				return // EOF; a fragment without its newline was cut by the kill
			}
			lines <- strings.TrimSuffix(s, "\n")
		}
	}()

	kill := func() {
		if !res.killed {
			res.killed = true
			_ = cmd.Process.Signal(syscall.SIGKILL)
		}
	}
	timer := time.NewTimer(time.Hour)
	defer timer.Stop()
	if plan.mode == "start" {
		timer.Reset(plan.delay)
	}
	// The child bounds itself at crashChildLife; this catches a hang.
	hang := time.NewTimer(crashChildLife + 20*time.Second)
	defer hang.Stop()
	var protoErr error
	for lines != nil {
		select {
		case s, ok := <-lines:
			if !ok {
				lines = nil
				break
			}
			if err := res.parse(s); err != nil && protoErr == nil {
				protoErr = err
			}
			if strings.HasPrefix(s, "open ") {
				res.openLatency = time.Since(started)
			}
			switch {
			case plan.mode == "run" && strings.HasPrefix(s, "open "):
				timer.Reset(plan.delay)
			case plan.mode == "acks" && strings.HasPrefix(s, "open "):
				timer.Reset(time.Second) // in case the child runs dry first
			case plan.mode == "acks" && len(res.acks) >= plan.acks:
				kill()
			}
		case <-timer.C:
			kill()
		case <-hang.C:
			kill()
			t.Errorf("round %d: child still running after %v", round, crashChildLife+20*time.Second)
		}
	}
	err = cmd.Wait()
	res.stderr = stderr.String()
	if protoErr != nil {
		t.Fatalf("seed %d round %d: %v\nchild stderr:\n%s", seed, round, protoErr, res.stderr)
	}
	if strings.Contains(res.stderr, "DATA RACE") {
		t.Fatalf("seed %d round %d: race in the child:\n%s", seed, round, res.stderr)
	}
	var exit *exec.ExitError
	switch {
	case err == nil:
		// Ran out of budget and closed the log.
	case errors.As(err, &exit) && res.killed && exit.Sys().(syscall.WaitStatus).Signal() == syscall.SIGKILL:
	default:
		t.Fatalf("seed %d round %d: child failed: %v\nchild stderr:\n%s", seed, round, err, res.stderr)
	}
	return res
}

// parse takes one line of the child's protocol (see crashchild_test.go).
func (r *childResult) parse(s string) error {
	f := strings.Fields(s)
	bad := fmt.Errorf("unexpected line from the child: %q", s)
	switch {
	case len(f) == 3 && f[0] == "open":
		var err1, err2 error
		r.openStart, err1 = strconv.ParseInt(f[1], 10, 64)
		r.openEnd, err2 = strconv.ParseInt(f[2], 10, 64)
		if err1 != nil || err2 != nil || r.opened {
			return bad
		}
		r.opened = true
	case len(f) == 4 && f[0] == "ack":
		base, err1 := strconv.ParseInt(f[1], 10, 64)
		n, err2 := strconv.Atoi(f[2])
		if err1 != nil || err2 != nil || len(f[3]) != 64 || !r.opened {
			return bad
		}
		r.acks = append(r.acks, crashAck{base: base, records: n, sum: f[3]})
	case len(f) == 1 && f[0] == "done":
	case len(f) > 0 && f[0] == "error":
		return fmt.Errorf("child: %s", s)
	default:
		return bad
	}
	return nil
}

// TestPowerCut runs random workloads on vfs.Mem and cuts the power at
// random moments: between the owner's calls, and before a chosen filesystem
// operation of whichever goroutine reaches it (the writer mid-round, a roll,
// a checkpoint, a Truncate, the recovery of a log that was itself crashed).
// The crash clone keeps only synced bytes and synced names. After each cut
// the clone is opened and must hold everything below the DurableOffset seen
// before the cut, with contiguous offsets and every readable batch exactly
// one that was appended at that offset and not truncated since (so a
// truncated suffix never comes back), and must take new appends. Half the
// cuts are adopted: the workload goes on on the recovered log, so recovered
// logs are crashed again.
//
// SLUICE_POWERCUT_SEED repeats a run; SLUICE_POWERCUT_ITER runs one
// iteration of it. Timing between the owner and the writer is not
// reproducible, so a repeat explores the same workload, not the same cuts.
func TestPowerCut(t *testing.T) {
	seed := testSeed(t, "SLUICE_POWERCUT_SEED")
	iters, budget := 3000, 6*time.Second
	if testing.Short() {
		iters, budget = 500, 2*time.Second
	}
	only := -1
	if s := os.Getenv("SLUICE_POWERCUT_ITER"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 0 {
			t.Fatalf("SLUICE_POWERCUT_ITER=%q: want an iteration number", s)
		}
		only, iters, budget = n, n+1, time.Hour
	}
	start := time.Now()
	deadline := start.Add(budget)
	st := &powerCutStats{cutOps: map[string]int{}}
	ran := 0
	for i := 0; i < iters && time.Now().Before(deadline); i++ {
		if only >= 0 && i != only {
			continue
		}
		p := newPowerCut(t, seed, i, st)
		p.run()
		ran++
	}
	t.Logf("%d iterations in %v: %d steps, %d truncates, %d cuts checked (%d by the owner, %d before a filesystem operation: %v; %d during Truncate; %d during recovery), %d adopted",
		ran, time.Since(start).Round(time.Millisecond), st.steps, st.truncates, st.cuts, st.ownerCuts,
		st.opCuts, st.cutOps, st.truncateCuts, st.recoveryCuts, st.adopted)
}

type powerCutStats struct {
	steps, truncates                 int
	cuts, ownerCuts, opCuts, adopted int
	truncateCuts, recoveryCuts       int
	cutOps                           map[string]int
}

// powerCut is one iteration of TestPowerCut: a log on a vfs.Mem behind a
// vfs.Faulty whose injector takes the armed crash clone.
type powerCut struct {
	t     *testing.T
	seed  uint64
	iter  int
	step  int
	rng   *rand.Rand
	cfg   Config
	st    *powerCutStats
	trace []string // what each step did, for the failure report

	mem *vfs.Mem
	fs  *vfs.Faulty
	l   *Log

	// batches holds every batch appended and not truncated since, as
	// stored, by base offset; next is the log end.
	batches  map[int64][]byte
	next     int64
	maxStart int64 // the highest log start asked for

	// floor is at most the live log's DurableOffset from now on; the
	// injector records it before taking a clone.
	floor atomic.Int64
	// armed counts the filesystem operations until the injector takes a
	// clone; it fires when the count reaches 0 and then stays disarmed.
	armed atomic.Int64
	cutMu sync.Mutex
	cut   *powerCutClone // taken by the injector, not yet checked
}

// powerCutClone is a crash clone and what must survive in it.
type powerCutClone struct {
	mem   *vfs.Mem
	floor int64
	where string
}

func newPowerCut(t *testing.T, seed uint64, iter int, st *powerCutStats) *powerCut {
	rng := rand.New(rand.NewPCG(seed, uint64(iter)))
	pick := func(v ...int64) int64 { return v[rng.IntN(len(v))] }
	cfg := Config{
		SegmentBytes:            pick(12<<10, 32<<10, 64<<10, 1<<20),
		PreallocateBytes:        pick(4<<10, 8<<10, 16<<10, 64<<10),
		IndexIntervalBytes:      pick(256, 1024, 4096),
		TailCacheBytes:          pick(128<<10, 256<<10, 1<<20),
		HighWatermarkCheckpoint: time.Millisecond,
		Logger:                  quiet,
	}
	if rng.IntN(4) == 0 {
		cfg.FlushMessages = 1 + rng.Int64N(20)
	}
	return &powerCut{t: t, seed: seed, iter: iter, rng: rng, cfg: cfg, st: st, batches: map[int64][]byte{}}
}

func (p *powerCut) fatalf(format string, args ...any) {
	p.t.Helper()
	p.t.Fatalf("seed %d iteration %d (repeat with SLUICE_POWERCUT_SEED=%d SLUICE_POWERCUT_ITER=%d) step %d: %s\nconfig: segment %d, preallocate %d, index interval %d, tail cache %d, flush.messages %d\nsteps:\n  %s",
		p.seed, p.iter, p.seed, p.iter, p.step, fmt.Sprintf(format, args...),
		p.cfg.SegmentBytes, p.cfg.PreallocateBytes, p.cfg.IndexIntervalBytes, p.cfg.TailCacheBytes, p.cfg.FlushMessages,
		strings.Join(p.trace, "\n  "))
}

func (p *powerCut) logf(format string, args ...any) {
	p.trace = append(p.trace, fmt.Sprintf("%d: ", p.step)+fmt.Sprintf(format, args...))
}

const powerCutDir = "/p"

// injector returns the injector for a Faulty over mem: when the armed count
// runs out it records the floor and takes a crash clone of mem, before the
// operation runs. It may run on the writer goroutine or the owner's.
func (p *powerCut) injector(mem *vfs.Mem) vfs.Injector {
	return func(op vfs.Op, name string) error {
		if p.armed.Load() <= 0 || p.armed.Add(-1) != 0 {
			return nil
		}
		c := &powerCutClone{floor: p.floor.Load(), where: "before " + opName(op) + " " + path.Base(name)}
		c.mem = mem.CrashClone()
		p.cutMu.Lock()
		p.cut = c
		p.cutMu.Unlock()
		return nil
	}
}

func opName(op vfs.Op) string {
	names := []string{"open", "read", "write", "allocate", "truncate", "sync", "remove", "rename", "syncdir"}
	if int(op) < len(names) {
		return names[op]
	}
	return fmt.Sprintf("op%d", op)
}

func (p *powerCut) run() {
	defer func() {
		if r := recover(); r != nil {
			p.fatalf("panic: %v\n%s", r, debug.Stack())
		}
	}()
	p.mem = vfs.NewMem()
	p.fs = vfs.NewFaulty(p.mem)
	p.fs.SetInjector(p.injector(p.mem))
	l, err := Open(p.fs, powerCutDir, p.cfg)
	if err != nil {
		p.fatalf("open: %v", err)
	}
	p.l = l
	steps := 20 + p.rng.IntN(130)
	for p.step = 0; p.step < steps; p.step++ {
		p.st.steps++
		switch r := p.rng.IntN(100); {
		case r < 45:
			p.appendSome()
		case r < 55:
			p.wait()
		case r < 61:
			p.truncate()
		case r < 64:
			p.advanceLogStart()
		case r < 67:
			hw := p.rng.Int64N(p.next + 1)
			p.l.SetHighWatermark(hw)
			p.logf("set high watermark %d", hw)
		case r < 71:
			p.logf("check the live log")
			p.checkLog(p.l, p.batches, p.next, true)
		case r < 81:
			p.crashNow()
		default:
			n := 1 + p.rng.Int64N(40)
			p.armed.Store(n)
			p.logf("arm a cut before the %dth filesystem operation from now", n)
		}
		p.checkTakenCut(p.batches)
		p.floor.Store(p.l.DurableOffset())
		p.maxStart = max(p.maxStart, p.l.LogStartOffset())
	}
	p.step = steps
	p.armed.Store(0)
	p.checkTakenCut(p.batches)
	p.checkLog(p.l, p.batches, p.next, true)
	if err := p.l.Close(); err != nil {
		p.fatalf("close: %v", err)
	}
	p.checkTakenCut(p.batches)
	// Close syncs everything: a cut right after it loses nothing.
	p.logf("cut after Close")
	p.st.cuts++
	p.checkClone(&powerCutClone{mem: p.mem.CrashClone(), floor: p.next, where: "after Close"}, p.batches, false)
}

// appendSome appends a few batches, some asking for sync.
func (p *powerCut) appendSome() {
	k := 1 + p.rng.IntN(6)
	var syncs []int64
	first := p.next
	for range k {
		size := 40 + p.rng.IntN(6000)
		if p.rng.IntN(20) == 0 {
			size = 6000 + p.rng.IntN(20000)
		}
		b := batchtest.Sized(time.Now().UnixMilli(), 1+p.rng.IntN(8), size, byte(p.rng.Uint32()))
		sync := p.rng.IntN(10) < 3
		res, err := p.l.Append(b, int32(p.iter), sync)
		if err != nil {
			p.fatalf("append at %d: %v", p.next, err)
		}
		if res.BaseOffset != p.next {
			p.fatalf("append got base offset %d, want %d", res.BaseOffset, p.next)
		}
		p.batches[res.BaseOffset] = b
		p.next = res.LastOffset + 1
		if sync {
			syncs = append(syncs, res.BaseOffset)
		}
	}
	p.logf("append %d batches [%d, %d), sync at %v", k, first, p.next, syncs)
}

// wait waits for a random offset to be written or synced.
func (p *powerCut) wait() {
	durable := p.rng.IntN(10) < 7
	target := p.next
	if p.rng.IntN(2) == 0 {
		target = p.rng.Int64N(p.next + 1)
	}
	if err := p.l.Wait(target, durable); err != nil {
		p.fatalf("wait %d: %v", target, err)
	}
	if durable && p.l.DurableOffset() < target {
		p.fatalf("Wait(%d, durable) returned with DurableOffset %d", target, p.l.DurableOffset())
	}
	p.logf("wait %d durable=%v: durable offset %d", target, durable, p.l.DurableOffset())
}

// truncate cuts the log at a random offset, mostly near its end, sometimes
// below its start (which empties the log and restarts it there), sometimes
// at the log start when the batch holding it began before it.
func (p *powerCut) truncate() {
	start := p.l.LogStartOffset()
	var off int64
	switch r := p.rng.IntN(10); {
	case r == 0 && start > 0:
		off = p.rng.Int64N(start)
	case r == 1:
		off = start
	case r < 4:
		off = start + p.rng.Int64N(p.next-start+1)
	default:
		off = max(start, p.next-1-p.rng.Int64N(40))
	}
	// want is the base of the batch holding off: the whole batch goes.
	want := p.next
	switch {
	case off < start:
		want = off
	case off < p.next:
		for base, b := range p.batches {
			if h := batchtest.MustValid(b); base <= off && off <= h.LastOffset() {
				want = base
			}
		}
	}
	// Emptying the log keeps nothing a cut during Truncate must hold; a
	// cut after it returns must hold the new end (it is durable then).
	empties := want < start
	if empties {
		p.floor.Store(0)
	} else {
		p.floor.Store(min(p.floor.Load(), want))
	}
	p.st.truncates++
	pre := maps.Clone(p.batches)
	p.logf("truncate at %d (log start %d, end %d)", off, start, p.next)
	got, err := p.l.Truncate(off)
	if err != nil {
		p.fatalf("truncate %d: %v", off, err)
	}
	newStart := p.l.LogStartOffset()
	switch {
	case off < start && (got != off || newStart != off):
		p.fatalf("truncate %d below the log start %d: log [%d, %d), want it empty at %d", off, start, newStart, got, off)
	case !empties && got != want:
		p.fatalf("truncate %d: log end %d, want %d", off, got, want)
	case got < newStart:
		p.fatalf("truncate %d (log start %d): the batch holding it starts at %d; the log now ends at %d, before its start %d",
			off, start, want, got, newStart)
	case got > off:
		p.fatalf("truncate %d: log end %d is past it", off, got)
	}
	// A cut taken during Truncate may or may not have the suffix.
	if p.checkTakenCut(pre) {
		p.st.truncateCuts++
	}
	for base := range p.batches {
		if base >= got || off < start {
			delete(p.batches, base)
		}
	}
	p.next = got
}

func (p *powerCut) advanceLogStart() {
	start := p.l.LogStartOffset()
	off := start + p.rng.Int64N(p.next-start+1)
	p.maxStart = max(p.maxStart, off)
	if err := p.l.AdvanceLogStart(off); err != nil {
		p.fatalf("advance log start to %d: %v", off, err)
	}
	p.logf("advance log start from %d to %d (end %d)", start, off, p.next)
}

// crashNow cuts the power between the owner's calls, while the writer may
// be in the middle of a round.
func (p *powerCut) crashNow() {
	c := &powerCutClone{floor: p.l.DurableOffset(), where: "by the owner"}
	c.mem = p.mem.CrashClone()
	p.st.ownerCuts++
	adopt := p.rng.IntN(2) == 0
	p.logf("cut (durable offset %d, end %d), adopt=%v", c.floor, p.next, adopt)
	if !adopt {
		p.checkClone(c, p.batches, false)
		return
	}
	// Retire the old log; a cut its writer took before we disarmed is
	// checked against the model it was taken under.
	p.armed.Store(0)
	p.fs.SetInjector(nil)
	if err := p.l.Close(); err != nil {
		p.fatalf("close: %v", err)
	}
	p.checkTakenCut(p.batches)
	p.l = p.checkClone(c, p.batches, true)
}

// checkTakenCut checks the clone the injector took, if any, against the
// batches that may be in it; it reports whether there was one.
func (p *powerCut) checkTakenCut(batches map[int64][]byte) bool {
	p.cutMu.Lock()
	c := p.cut
	p.cut = nil
	p.cutMu.Unlock()
	if c == nil {
		return false
	}
	p.st.opCuts++
	p.st.cutOps[strings.Fields(c.where)[1]]++
	p.logf("check the cut taken %s (floor %d)", c.where, c.floor)
	p.checkClone(c, batches, false)
	return true
}

// checkClone opens a crash clone and checks it. Unless adopt, it also
// appends to it and closes it. With adopt, the workload moves to the
// recovered log, which is returned, after a cut during its own recovery has
// been checked.
func (p *powerCut) checkClone(c *powerCutClone, batches map[int64][]byte, adopt bool) *Log {
	p.t.Helper()
	p.st.cuts++
	fs := vfs.NewFaulty(c.mem)
	if adopt {
		p.floor.Store(c.floor)
		fs.SetInjector(p.injector(c.mem))
		if p.rng.IntN(3) == 0 {
			p.armed.Store(1 + p.rng.Int64N(12)) // cut the recovery itself
		}
	}
	cfg := p.cfg
	var recovery bytes.Buffer
	cfg.Logger = slog.New(slog.NewTextHandler(&recovery, nil))
	files := describeFiles(c.mem)
	defer func() {
		if p.t.Failed() {
			p.t.Logf("files in the cut %s: %s\nrecovery log:\n%s", c.where, files, recovery.String())
		}
	}()
	l, err := Open(fs, powerCutDir, cfg)
	if err != nil {
		p.fatalf("recovery of the cut %s failed: %v", c.where, err)
	}
	if adopt {
		p.armed.Store(0)
		if p.checkTakenCut(batches) {
			p.st.recoveryCuts++
		}
	}
	end := l.LogEndOffset()
	if end < c.floor {
		p.fatalf("cut %s: recovered log ends at %d, below the durable offset %d", c.where, end, c.floor)
	}
	if start := l.LogStartOffset(); start > p.maxStart {
		p.fatalf("cut %s: recovered log starts at %d, the log start never passed %d", c.where, start, p.maxStart)
	}
	p.checkLog(l, batches, end, false)
	if adopt {
		p.st.adopted++
		for base := range p.batches {
			if base >= end {
				delete(p.batches, base)
			}
		}
		p.next, p.mem, p.fs = end, c.mem, fs
		p.logf("adopted the recovered log [%d, %d)", l.LogStartOffset(), end)
		return l
	}
	// The recovered log takes appends, which become durable and readable.
	more := maps.Clone(batches)
	for range 1 + p.rng.IntN(3) {
		b := batchtest.Sized(time.Now().UnixMilli(), 1+p.rng.IntN(4), 40+p.rng.IntN(3000), byte(p.rng.Uint32()))
		res, err := l.Append(b, 1, true)
		if err != nil {
			p.fatalf("cut %s: append after recovery: %v", c.where, err)
		}
		if res.BaseOffset != end {
			p.fatalf("cut %s: append after recovery at %d, log end was %d", c.where, res.BaseOffset, end)
		}
		for base := range more {
			if base >= end {
				delete(more, base)
			}
		}
		more[res.BaseOffset] = b
		end = res.LastOffset + 1
	}
	if err := l.Wait(end, true); err != nil {
		p.fatalf("cut %s: wait after recovery: %v", c.where, err)
	}
	p.checkLog(l, more, end, true)
	if err := l.Close(); err != nil {
		p.fatalf("cut %s: close after recovery: %v", c.where, err)
	}
	return nil
}

// checkLog reads l from its start to end in random steps and checks that
// offsets are contiguous and that every batch is valid and exactly the one
// in batches at its offset. With exact, the log must end at end.
func (p *powerCut) checkLog(l *Log, batches map[int64][]byte, end int64, exact bool) {
	p.t.Helper()
	start, gotEnd := l.LogStartOffset(), l.LogEndOffset()
	if exact && gotEnd != end {
		p.fatalf("log ends at %d, want %d", gotEnd, end)
	}
	if start > gotEnd {
		p.fatalf("log starts at %d, after its end %d", start, gotEnd)
	}
	var buf []byte
	expect := int64(-1) // the base the next batch must have; -1: the first
	for off := start; off < gotEnd; {
		maxBytes := []int{1, 3000, 64 << 10, 1 << 20}[p.rng.IntN(4)]
		var next int64
		var err error
		buf, next, err = l.Read(buf[:0], off, maxBytes, gotEnd)
		if err != nil {
			p.fatalf("read at %d (log [%d, %d)): %v", off, start, gotEnd, err)
		}
		if next <= off || len(buf) == 0 {
			p.fatalf("read at %d (log [%d, %d)) made no progress", off, start, gotEnd)
		}
		for q := buf; len(q) > 0; {
			h, err := batch.ParseHeader(q)
			if err == nil && h.Size() > len(q) {
				err = fmt.Errorf("batch of %d bytes, %d returned", h.Size(), len(q))
			}
			if err == nil {
				_, err = batch.Validate(q[:h.Size()], 0)
			}
			if err != nil {
				p.fatalf("read at %d returned a bad batch: %v", off, err)
			}
			switch {
			case expect < 0 && (h.BaseOffset > start || h.LastOffset() < start):
				p.fatalf("first batch [%d, %d] does not hold the log start %d", h.BaseOffset, h.LastOffset(), start)
			case expect >= 0 && h.BaseOffset != expect:
				p.fatalf("batch at %d follows one ending at %d: offsets not contiguous", h.BaseOffset, expect)
			}
			want, ok := batches[h.BaseOffset]
			if !ok {
				p.fatalf("batch [%d, %d] was never appended or was truncated (log [%d, %d))", h.BaseOffset, h.LastOffset(), start, gotEnd)
			}
			if !bytes.Equal(q[:h.Size()], want) {
				p.fatalf("batch at %d differs from the one appended there (%d bytes, want %d; first difference at byte %d)",
					h.BaseOffset, h.Size(), len(want), firstDiff(q[:h.Size()], want))
			}
			expect = h.LastOffset() + 1
			q = q[h.Size():]
		}
		if expect != next {
			p.fatalf("read at %d returned batches up to %d but said %d", off, expect, next)
		}
		off = next
	}
	if expect >= 0 && expect != gotEnd {
		p.fatalf("batches end at %d, log end is %d", expect, gotEnd)
	}
}

// describeFiles lists the files of a Mem with their sizes.
func describeFiles(m *vfs.Mem) string {
	var out []string
	for _, n := range m.Names() {
		b, _ := m.ReadFile(n)
		out = append(out, fmt.Sprintf("%s (%d bytes)", path.Base(n), len(b)))
	}
	return strings.Join(out, ", ")
}
