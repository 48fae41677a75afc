package group

import (
	"fmt"
	"math"
	"math/rand/v2"
	"reflect"
	"testing"
)

// TestRandomSchedules drives two groups of six clients (dynamic and
// static, JoinGroup v3, v8 and v9, changing protocols) through random
// schedules of joins, syncs, heartbeats, leaves, commits, restarts of
// clients and of the coordinator, deletions and the passing of time. A
// failing seed replays exactly. After every step it checks:
//   - the coordinator's invariants (verify);
//   - no request is answered twice, and after Unload every request has
//     been answered;
//   - a group's generation never goes backwards within a coordinator's
//     lifetime;
//   - at most one current member of a generation was told it leads, and
//     it is the leader;
//   - a SyncGroup that succeeds carries an assignment;
//   - a coordinator rebuilt from the records equals the old one for every
//     group at rest (Stable or Empty), and no deleted group comes back.
func TestRandomSchedules(t *testing.T) {
	seeds, steps := 300, 400
	if testing.Short() {
		seeds = 30
	}
	for seed := range seeds {
		t.Run(fmt.Sprint(seed), func(t *testing.T) { runSchedule(t, uint64(seed), steps) })
	}
}

func runSchedule(t *testing.T, seed uint64, steps int) {
	rng := rand.New(rand.NewPCG(seed, 1))
	pick := func(n int) int { return rng.IntN(n) }
	cfg := testConfig()
	cfg.InitialRebalanceDelayMs = []int32{0, 0, 3000}[pick(3)]
	cfg.MaxSize = []int{math.MaxInt32, 2}[pick(2)]
	cfg.OffsetsRetentionMs = 120_000
	cfg.OffsetsRetentionCheckIntervalMs = 10_000
	h := newHarness(t, cfg)

	protocols := [][]Protocol{
		{{Name: "range", Metadata: subscription("t")}},
		{{Name: "range", Metadata: subscription("t", "u")}, {Name: "rr", Metadata: subscription("t")}},
		{{Name: "rr", Metadata: subscription("u")}, {Name: "range", Metadata: subscription("u")}},
		{{Name: "sticky"}, {Name: "range"}},
	}
	var cls []*client
	for i := range 6 {
		var cl *client
		if i%3 == 0 {
			cl = h.static(fmt.Sprint("c", i), fmt.Sprint("i", i))
		} else {
			cl = h.client(fmt.Sprint("c", i))
		}
		cl.group = fmt.Sprint("g", i%2)
		cl.version = []int16{3, 8, 9}[pick(3)]
		cl.session = []int32{6000, 10000}[pick(2)]
		cl.rebalance = []int32{0, 5000, 20000}[pick(3)]
		cls = append(cls, cl)
	}

	type genKey struct {
		group string
		gen   int32
	}
	told := map[genKey]map[string]bool{}
	lastGen := map[*group]int32{}
	h.onReply = func(hd Handle, resp any) {
		switch r := resp.(type) {
		case *JoinResponse:
			if cl := h.owners[hd]; cl != nil && r.Err == nil && r.LeaderID == r.MemberID {
				k := genKey{cl.group, r.Generation}
				if told[k] == nil {
					told[k] = map[string]bool{}
				}
				told[k][r.MemberID] = true
			}
		case *SyncResponse:
			if r.Err == nil && r.Assignment == nil {
				t.Fatalf("seed %d: %v: SyncGroup succeeded without an assignment", seed, hd)
			}
		}
	}

	for step := range steps {
		cl := cls[pick(len(cls))]
		switch pick(20) {
		case 0, 1, 2:
			cl.join()
		case 3:
			cl.joinFully()
		case 4, 5, 6:
			cl.sync()
		case 7, 8, 9:
			cl.heartbeat()
		case 10:
			cl.leave()
		case 11:
			cl.commit([]string{"t", "u"}[pick(2)], int32(pick(3)), int64(step))
		case 12:
			cl.restart()
		case 13:
			cl.protocols = protocols[pick(len(protocols))]
		case 14:
			h.advance(rng.Int64N(12000))
		case 15:
			h.advance(rng.Int64N(1000))
		case 16:
			h.simpleCommit(cl.group, "t", int32(pick(3)), int64(step))
		case 17:
			switch pick(4) {
			case 0:
				h.apply(h.c.DeleteGroup(h.now, h.handle("delete"), cl.group))
			case 1:
				h.apply(h.c.OffsetDelete(h.now, h.handle("offset delete"), &OffsetDeleteRequest{Group: cl.group, Topics: []DeletePartitions{{Topic: "u", Partitions: []PartitionResult{{Partition: 0}}}}}))
			case 2:
				h.c.Describe(cl.group, 5)
				h.c.List(nil)
				h.c.OffsetFetch(&OffsetFetchRequest{Group: cl.group})
			case 3:
				stale := *cl
				stale.generation--
				stale.heartbeat()
			}
		case 18, 19:
			if pick(8) == 0 {
				told = map[genKey]map[string]bool{}
				restartCoordinator(t, h, seed)
			} else {
				h.advance(rng.Int64N(300))
			}
		}

		for _, g := range h.c.groups {
			if prev, ok := lastGen[g]; ok && g.generation < prev {
				t.Fatalf("seed %d step %d: group %q generation %d after %d", seed, step, g.id, g.generation, prev)
			}
			lastGen[g] = g.generation
			if g.state != CompletingRebalance && g.state != Stable {
				continue
			}
			for id := range told[genKey{g.id, g.generation}] {
				if g.byID[id] != nil && id != g.leader {
					t.Fatalf("seed %d step %d: group %q generation %d: member %q was told it leads, leader is %q", seed, step, g.id, g.generation, id, g.leader)
				}
			}
		}
	}
	h.apply(h.c.Unload())
	for _, hd := range h.issued {
		if !h.answered(hd) {
			t.Fatalf("seed %d: %v never answered", seed, hd)
		}
	}
}

// restartCoordinator unloads the coordinator and rebuilds it from the
// records, checking that every group at rest comes back as it was.
func restartCoordinator(t *testing.T, h *harness, seed uint64) {
	t.Helper()
	live := durable(h.c)
	existed := map[string]bool{}
	for id, g := range h.c.groups {
		existed[id] = true
		atRest := g.state == Stable || g.state == Empty
		persisted := g.generation > 0 || len(g.offsets) > 0
		if !atRest || !persisted {
			delete(live, id)
		}
	}
	h.apply(h.c.Unload())
	c, out := replay(t, h.cfg, h.now, h.records)
	h.c = c
	h.apply(out)
	got := durable(c)
	for id, want := range live {
		if !reflect.DeepEqual(got[id], want) {
			t.Fatalf("seed %d: group %q after replay:\n got %+v\nwant %+v", seed, id, got[id], want)
		}
	}
	for id := range got {
		if !existed[id] {
			t.Fatalf("seed %d: deleted group %q came back", seed, id)
		}
	}
}
