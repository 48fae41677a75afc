package raftlog

import (
	"bytes"
	"errors"
	"fmt"
	"math/rand/v2"
	"path"
	"reflect"
	"testing"

	"go.etcd.io/raft/v3"
	"go.etcd.io/raft/v3/raftpb"

	"sluice/disk/vfs"
)

const dir = "/data/raft"

var voters = &raftpb.ConfState{Voters: []uint64{1, 2, 3}}

// view is everything raft can observe of a Storage, comparable with ==
// after fmt.Sprint.
type view struct {
	First, Last        uint64
	Terms              []uint64 // of [First-1, Last]
	Data               []string // of [First, Last]
	Types              []raftpb.EntryType
	SnapIndex, SnapTrm uint64
	SnapData           string
	SnapVoters         []uint64
	HS                 [3]uint64
}

func observe(t *testing.T, s raft.Storage) view {
	t.Helper()
	var v view
	v.First, _ = s.FirstIndex()
	v.Last, _ = s.LastIndex()
	for i := v.First - 1; i <= v.Last; i++ {
		term, err := s.Term(i)
		if err != nil {
			t.Fatalf("Term(%d) in [%d, %d]: %v", i, v.First-1, v.Last, err)
		}
		v.Terms = append(v.Terms, term)
	}
	if v.Last >= v.First {
		ents, err := s.Entries(v.First, v.Last+1, 1<<62)
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range ents {
			v.Data = append(v.Data, string(e.GetData()))
			v.Types = append(v.Types, e.GetType())
		}
	}
	snap, err := s.Snapshot()
	if err != nil {
		t.Fatal(err)
	}
	md := snap.GetMetadata()
	v.SnapIndex, v.SnapTrm, v.SnapData = md.GetIndex(), md.GetTerm(), string(snap.GetData())
	v.SnapVoters = md.GetConfState().GetVoters()
	hs, _, err := s.InitialState()
	if err != nil {
		t.Fatal(err)
	}
	v.HS = [3]uint64{hs.GetTerm(), hs.GetVote(), hs.GetCommit()}
	return v
}

func sameView(a, b view) bool { return fmt.Sprint(a) == fmt.Sprint(b) }

func mustOpen(t *testing.T, fsys vfs.FS, o Options) *Log {
	t.Helper()
	l, err := Open(fsys, dir, o)
	if err != nil {
		t.Fatal(err)
	}
	return l
}

func entry(index, term uint64, data string) *raftpb.Entry {
	return &raftpb.Entry{Index: new(index), Term: new(term), Type: raftpb.EntryNormal.Enum(), Data: []byte(data)}
}

func hs(term, vote, commit uint64) *raftpb.HardState {
	return &raftpb.HardState{Term: new(term), Vote: new(vote), Commit: new(commit)}
}

func snapshot(index, term uint64, data string) *raftpb.Snapshot {
	return &raftpb.Snapshot{Data: []byte(data), Metadata: &raftpb.SnapshotMetadata{ConfState: voters, Index: new(index), Term: new(term)}}
}

// TestAgainstMemoryStorage drives a Log and raft's MemoryStorage with the
// same random Ready-like sequence (appends that overwrite suffixes, synced
// or not, hard states, local snapshots with compaction, snapshots received
// from a leader) and checks after every step that raft would see the same
// from both, that a power cut at that instant (Mem.CrashClone) recovers
// exactly what was last synced, and, now and then, that the Log reopened
// after a clean restart carries on.
func TestAgainstMemoryStorage(t *testing.T) {
	for seed := range uint64(20) {
		r := rand.New(rand.NewPCG(seed, 7))
		opts := Options{CatchUpEntries: uint64(r.IntN(6))}
		mem := vfs.NewMem()
		l := mustOpen(t, mem, opts)
		ref := raft.NewMemoryStorage()
		var term, vote, commit uint64 = 1, 0, 0
		synced := observe(t, l)
		for step := range 300 {
			off, _ := ref.FirstIndex()
			off--
			last, _ := ref.LastIndex()
			snap, _ := ref.Snapshot()
			si := snap.GetMetadata().GetIndex()
			sync := true
			what := ""
			switch op := r.IntN(20); {
			case op < 13:
				start := last + 1
				if lo := max(commit, off) + 1; r.IntN(5) == 0 && lo <= last {
					start = lo + uint64(r.IntN(int(last-lo+1)))
				}
				if start <= last || r.IntN(6) == 0 {
					term++ // a new leader's entries
					vote = uint64(1 + r.IntN(3))
				}
				var ents []*raftpb.Entry
				for i := range uint64(1 + r.IntN(4)) {
					ents = append(ents, entry(start+i, term, fmt.Sprint(seed, "/", step, "/", i)))
				}
				newLast := start + uint64(len(ents)) - 1
				if r.IntN(2) == 0 {
					commit += uint64(r.IntN(int(newLast-commit) + 1))
				}
				sync = r.IntN(5) != 0
				what = fmt.Sprintf("append [%d, %d] term %d sync %v", start, newLast, term, sync)
				if err := l.Save(hs(term, vote, commit), ents, nil, sync); err != nil {
					t.Fatalf("seed %d step %d: %s: %v", seed, step, what, err)
				}
				ref.Append(ents)
			case op < 16:
				if commit < last {
					commit++
				}
				sync = false
				what = fmt.Sprintf("commit %d", commit)
				if err := l.Save(hs(term, vote, commit), nil, nil, false); err != nil {
					t.Fatal(err)
				}
			case op < 19:
				if commit <= si {
					continue
				}
				index := si + 1 + uint64(r.IntN(int(commit-si)))
				what = fmt.Sprintf("create snapshot %d", index)
				if err := l.CreateSnapshot(index, voters, []byte(what)); err != nil {
					t.Fatalf("seed %d step %d: %s: %v", seed, step, what, err)
				}
				ref.CreateSnapshot(index, voters, []byte(what))
				if index > opts.CatchUpEntries && index-opts.CatchUpEntries > off {
					ref.Compact(index - opts.CatchUpEntries)
				}
			default:
				term++
				index := max(si+1, commit+uint64(r.IntN(8)))
				ents := []*raftpb.Entry{entry(index+1, term, "after")}
				commit = index
				what = fmt.Sprintf("receive snapshot %d", index)
				if err := l.Save(hs(term, 0, commit), ents, snapshot(index, term, what), true); err != nil {
					t.Fatalf("seed %d step %d: %s: %v", seed, step, what, err)
				}
				vote = 0
				ref.ApplySnapshot(snapshot(index, term, what))
				ref.Append(ents)
			}
			ref.SetHardState(hs(term, vote, commit))

			got, want := observe(t, l), observe(t, ref)
			if !sameView(got, want) {
				t.Fatalf("seed %d step %d after %s:\n log %+v\n ref %+v", seed, step, what, got, want)
			}
			if sync {
				synced = got
			}
			crashed := mustOpen(t, mem.CrashClone(), opts)
			if v := observe(t, crashed); !sameView(v, synced) {
				t.Fatalf("seed %d step %d after %s, crashed:\n got  %+v\n want %+v", seed, step, what, v, synced)
			}
			crashed.Close()

			if sync && r.IntN(10) == 0 {
				l.Close()
				mem = mem.CrashClone()
				l = mustOpen(t, mem, opts)
				if v := observe(t, l); !sameView(v, synced) {
					t.Fatalf("seed %d step %d: restarted to %+v", seed, step, v)
				}
			}
		}
		names := mem.Names()
		if len(names) != 1 {
			t.Fatalf("seed %d: files %v", seed, names)
		}
	}
}

// TestStorageErrors checks the answers raft relies on outside the log's
// range, and the size limit, against MemoryStorage's.
func TestStorageErrors(t *testing.T) {
	l := mustOpen(t, vfs.NewMem(), Options{CatchUpEntries: 2})
	ref := raft.NewMemoryStorage()
	for _, s := range []raft.Storage{l, ref} {
		if _, err := s.Entries(1, 1, 100); !errors.Is(err, raft.ErrUnavailable) {
			t.Fatalf("%T: entries of an empty log: %v", s, err)
		}
	}
	var ents []*raftpb.Entry
	for i := uint64(1); i <= 10; i++ {
		ents = append(ents, entry(i, 1, "0123456789"))
	}
	if err := l.Save(hs(1, 1, 10), ents, nil, true); err != nil {
		t.Fatal(err)
	}
	if err := l.CreateSnapshot(6, voters, []byte("s")); err != nil {
		t.Fatal(err)
	}
	ref.Append(ents)
	ref.CreateSnapshot(6, voters, []byte("s"))
	ref.Compact(4)
	for _, s := range []raft.Storage{l, ref} {
		if _, err := s.Term(3); !errors.Is(err, raft.ErrCompacted) {
			t.Errorf("%T: Term(3): %v", s, err)
		}
		if term, err := s.Term(4); err != nil || term != 1 {
			t.Errorf("%T: Term(4): %d %v", s, term, err)
		}
		if _, err := s.Term(11); !errors.Is(err, raft.ErrUnavailable) {
			t.Errorf("%T: Term(11): %v", s, err)
		}
		if _, err := s.Entries(4, 6, 100); !errors.Is(err, raft.ErrCompacted) {
			t.Errorf("%T: Entries(4, 6): %v", s, err)
		}
		// One entry even when it alone is over the limit; then as many as fit.
		for limit, want := range map[uint64]int{0: 1, 30: 1, 40: 2, 1000: 6} {
			if got, err := s.Entries(5, 11, limit); err != nil || len(got) != want {
				t.Errorf("%T: Entries(5, 11, %d) = %d entries, %v; want %d", s, limit, len(got), err, want)
			}
		}
	}
	if err := l.CreateSnapshot(6, voters, nil); !errors.Is(err, raft.ErrSnapOutOfDate) {
		t.Errorf("same snapshot again: %v", err)
	}
	if err := l.CreateSnapshot(11, voters, nil); err == nil {
		t.Error("snapshot past the last index")
	}
	if err := l.Save(nil, []*raftpb.Entry{entry(13, 1, "")}, nil, true); err == nil {
		t.Error("entry after a gap accepted")
	}
	if err := l.Save(hs(1, 1, 10), nil, snapshot(5, 1, ""), true); !errors.Is(err, raft.ErrSnapOutOfDate) {
		t.Errorf("older snapshot received: %v", err)
	}
}

func fileOf(t *testing.T, mem *vfs.Mem) string {
	t.Helper()
	names := mem.Names()
	if len(names) != 1 {
		t.Fatalf("files %v", names)
	}
	return names[0]
}

// TestTornTail damages the end of the file the ways a power cut or a bad
// sector can, and checks that Open keeps every intact record before the
// damage, cuts the file there, and appends after it cleanly.
func TestTornTail(t *testing.T) {
	record := appendEntryRecord(nil, entry(6, 1, "torn"))
	for _, tc := range []struct {
		name   string
		damage func(b []byte) []byte
		last   uint64
	}{
		{"half a record", func(b []byte) []byte { return append(b, record[:len(record)/2]...) }, 5},
		{"header only", func(b []byte) []byte { return append(b, record[:headerLen]...) }, 5},
		{"zeros", func(b []byte) []byte { return append(b, make([]byte, 4096)...) }, 5},
		{"huge length", func(b []byte) []byte { return append(b, 0xff, 0xff, 0xff, 0xff, 0, 0, 0, 0, 4) }, 5},
		{"bad CRC in the last record", func(b []byte) []byte { b[len(b)-1] ^= 1; return b }, 4},
	} {
		t.Run(tc.name, func(t *testing.T) {
			mem := vfs.NewMem()
			l := mustOpen(t, mem, Options{})
			for i := uint64(1); i <= 5; i++ {
				if err := l.Save(nil, []*raftpb.Entry{entry(i, 1, fmt.Sprint(i))}, nil, true); err != nil {
					t.Fatal(err)
				}
			}
			l.Close()
			name := fileOf(t, mem)
			b, _ := mem.ReadFile(name)
			mem.WriteFile(name, tc.damage(b))

			l = mustOpen(t, mem, Options{})
			if last, _ := l.LastIndex(); last != tc.last {
				t.Fatalf("last index %d, want %d", last, tc.last)
			}
			cut, _ := mem.ReadFile(name)
			if want := b[:len(cut)]; len(cut) > len(b) || !bytes.Equal(cut, want) {
				t.Fatalf("file is %d bytes, not a prefix of the %d good ones", len(cut), len(b))
			}
			next := tc.last + 1
			if err := l.Save(hs(1, 0, next), []*raftpb.Entry{entry(next, 1, "new")}, nil, true); err != nil {
				t.Fatal(err)
			}
			before := observe(t, l)
			l.Close()
			l = mustOpen(t, mem.CrashClone(), Options{})
			if after := observe(t, l); !sameView(before, after) {
				t.Fatalf("after reopening: %+v, want %+v", after, before)
			}
		})
	}
}

// TestRecordThatContradicts checks that an intact record out of place (an
// entry after a gap) fails Open instead of being cut as a torn tail.
func TestRecordThatContradicts(t *testing.T) {
	mem := vfs.NewMem()
	l := mustOpen(t, mem, Options{})
	if err := l.Save(nil, []*raftpb.Entry{entry(1, 1, "a")}, nil, true); err != nil {
		t.Fatal(err)
	}
	l.Close()
	name := fileOf(t, mem)
	b, _ := mem.ReadFile(name)
	mem.WriteFile(name, appendEntryRecord(b, entry(3, 1, "gap")))
	if _, err := Open(mem, dir, Options{}); err == nil {
		t.Fatal("opened a log with a gap")
	}
}

// TestHardStateNeverGoesBackwards checks that a synced vote survives a
// crash that loses a later unsynced commit index, and that Save refuses a
// hard state raft would never produce.
func TestHardStateNeverGoesBackwards(t *testing.T) {
	mem := vfs.NewMem()
	l := mustOpen(t, mem, Options{})
	if err := l.Save(hs(5, 2, 0), []*raftpb.Entry{entry(1, 5, "")}, nil, true); err != nil {
		t.Fatal(err)
	}
	if err := l.Save(hs(5, 2, 1), nil, nil, false); err != nil {
		t.Fatal(err)
	}
	c := mustOpen(t, mem.CrashClone(), Options{})
	if got, _, _ := c.InitialState(); got.GetTerm() != 5 || got.GetVote() != 2 || got.GetCommit() != 0 {
		t.Fatalf("after a crash: %v", got)
	}
	for _, bad := range []*raftpb.HardState{hs(4, 0, 1), hs(5, 3, 1)} {
		if err := l.Save(bad, nil, nil, true); err == nil {
			t.Errorf("accepted %v after term 5 vote 2", bad)
		}
	}
	if err := l.Save(hs(6, 3, 1), nil, nil, true); err != nil {
		t.Fatal(err)
	}
	c = mustOpen(t, mem.CrashClone(), Options{})
	if got, _, _ := c.InitialState(); got.GetTerm() != 6 || got.GetVote() != 3 || got.GetCommit() != 1 {
		t.Fatalf("after a crash: %v", got)
	}
}

var errInjected = errors.New("injected")

// TestCrashDuringRewrite fails each filesystem operation of a snapshot
// rewrite in turn, then cuts the power: the log must come back as it was
// before the rewrite or as it is after, never in between, and a Log whose
// write failed must refuse further use.
func TestCrashDuringRewrite(t *testing.T) {
	setup := func(t *testing.T, fsys vfs.FS) *Log {
		l := mustOpen(t, fsys, Options{CatchUpEntries: 3})
		var ents []*raftpb.Entry
		for i := uint64(1); i <= 20; i++ {
			ents = append(ents, entry(i, 2, fmt.Sprint(i)))
		}
		if err := l.Save(hs(2, 1, 15), ents, nil, true); err != nil {
			t.Fatal(err)
		}
		return l
	}
	ops := map[string]func(l *Log) error{
		"create snapshot": func(l *Log) error { return l.CreateSnapshot(12, voters, []byte("local")) },
		"receive snapshot": func(l *Log) error {
			return l.Save(hs(3, 0, 30), []*raftpb.Entry{entry(31, 3, "x")}, snapshot(30, 3, "remote"), true)
		},
	}
	for name, op := range ops {
		t.Run(name, func(t *testing.T) {
			clean := setup(t, vfs.NewMem())
			before := observe(t, clean)
			if err := op(clean); err != nil {
				t.Fatal(err)
			}
			after := observe(t, clean)
			for k := 1; ; k++ {
				mem := vfs.NewMem()
				fa := vfs.NewFaulty(mem)
				l := setup(t, fa)
				n := 0
				fa.SetInjector(func(vfs.Op, string) error {
					if n++; n == k {
						return errInjected
					}
					return nil
				})
				err := op(l)
				fa.SetInjector(nil)
				if err != nil {
					if !errors.Is(err, errInjected) || !errors.Is(l.Save(nil, []*raftpb.Entry{entry(21, 2, "")}, nil, true), ErrFailed) {
						t.Fatalf("fault %d: %v, and the log carries on", k, err)
					}
				}
				got := observe(t, mustOpen(t, mem.CrashClone(), Options{}))
				switch {
				case err == nil && !sameView(got, after):
					t.Fatalf("fault %d: succeeded but recovered %+v", k, got)
				case !sameView(got, before) && !sameView(got, after):
					t.Fatalf("fault %d: recovered %+v", k, got)
				}
				if n < k {
					return // the whole rewrite ran without reaching fault k
				}
			}
		})
	}
}

func TestFailedSyncIsSticky(t *testing.T) {
	fa := vfs.NewFaulty(vfs.NewMem())
	l := mustOpen(t, fa, Options{})
	fa.SetInjector(func(op vfs.Op, _ string) error {
		if op == vfs.OpSync {
			return errInjected
		}
		return nil
	})
	if err := l.Save(hs(1, 1, 0), []*raftpb.Entry{entry(1, 1, "")}, nil, true); !errors.Is(err, errInjected) {
		t.Fatal(err)
	}
	fa.SetInjector(nil)
	if err := l.Save(hs(1, 1, 0), []*raftpb.Entry{entry(2, 1, "")}, nil, true); !errors.Is(err, ErrFailed) {
		t.Fatalf("after a failed sync: %v", err)
	}
	if err := l.CreateSnapshot(1, voters, nil); !errors.Is(err, ErrFailed) {
		t.Fatalf("after a failed sync: %v", err)
	}
}

// TestLeftovers checks that Open removes what an interrupted rewrite left:
// a temporary file, and an older log that was already replaced.
func TestLeftovers(t *testing.T) {
	mem := vfs.NewMem()
	l := mustOpen(t, mem, Options{})
	if err := l.Save(hs(1, 1, 1), []*raftpb.Entry{entry(1, 1, "a")}, nil, true); err != nil {
		t.Fatal(err)
	}
	if err := l.CreateSnapshot(1, voters, []byte("s")); err != nil {
		t.Fatal(err)
	}
	want := observe(t, l)
	l.Close()
	mem.WriteFile(path.Join(dir, fileName(1)), appendEntryRecord(nil, entry(1, 9, "stale")))
	mem.WriteFile(path.Join(dir, fileName(3)+tmpSuffix), []byte("partial"))
	mem.WriteFile(path.Join(dir, "unrelated"), nil)
	l = mustOpen(t, mem, Options{})
	if got := observe(t, l); !sameView(got, want) {
		t.Fatalf("%+v, want %+v", got, want)
	}
	if names := mem.Names(); !reflect.DeepEqual(names, []string{path.Join(dir, fileName(2)), path.Join(dir, "unrelated")}) {
		t.Fatal(names)
	}
}

// TestOS runs the log on the real filesystem: write, snapshot, reopen.
func TestOS(t *testing.T) {
	d := t.TempDir()
	l, err := Open(vfs.OS{}, d, Options{CatchUpEntries: 1})
	if err != nil {
		t.Fatal(err)
	}
	if !l.Empty() {
		t.Fatal("a new log is not empty")
	}
	var ents []*raftpb.Entry
	for i := uint64(1); i <= 5; i++ {
		ents = append(ents, entry(i, 1, fmt.Sprint(i)))
	}
	if err := l.Save(hs(1, 1, 4), ents, nil, true); err != nil {
		t.Fatal(err)
	}
	if err := l.CreateSnapshot(3, voters, []byte("state")); err != nil {
		t.Fatal(err)
	}
	if err := l.Save(hs(1, 1, 5), []*raftpb.Entry{entry(6, 1, "6")}, nil, true); err != nil {
		t.Fatal(err)
	}
	want := observe(t, l)
	l.Close()
	l, err = Open(vfs.OS{}, d, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	if got := observe(t, l); !sameView(got, want) || got.First != 3 || l.Empty() {
		t.Fatalf("%+v, want %+v", got, want)
	}
}

// TestTornSave cuts the file at every byte of one Save's records, as a disk
// that persisted only part of an unsynced write would: recovery must find
// the old hard state, or the new one with every entry it commits, and the
// log must never claim a commit index past its last entry.
func TestTornSave(t *testing.T) {
	mem := vfs.NewMem()
	l := mustOpen(t, mem, Options{})
	if err := l.Save(hs(1, 1, 1), []*raftpb.Entry{entry(1, 1, "a"), entry(2, 1, "b")}, nil, true); err != nil {
		t.Fatal(err)
	}
	name := fileOf(t, mem)
	good, _ := mem.ReadFile(name)
	if err := l.Save(hs(2, 1, 4), []*raftpb.Entry{entry(3, 2, "c"), entry(4, 2, "d")}, nil, true); err != nil {
		t.Fatal(err)
	}
	full, _ := mem.ReadFile(name)
	l.Close()
	for cut := len(good); cut <= len(full); cut++ {
		m := vfs.NewMem()
		m.MkdirAll(dir)
		m.WriteFile(name, full[:cut])
		r := mustOpen(t, m, Options{})
		v := observe(t, r)
		switch v.HS {
		case [3]uint64{1, 1, 1}:
		case [3]uint64{2, 1, 4}:
			if v.Last != 4 {
				t.Fatalf("cut at %d: new hard state with last index %d", cut, v.Last)
			}
		default:
			t.Fatalf("cut at %d: hard state %v", cut, v.HS)
		}
		if v.HS[2] > v.Last {
			t.Fatalf("cut at %d: commit %d past last index %d", cut, v.HS[2], v.Last)
		}
	}
}
