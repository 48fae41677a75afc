package raftlog

import (
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"path"
	"strconv"
	"strings"

	"go.etcd.io/raft/v3"
	"go.etcd.io/raft/v3/raftpb"
	"google.golang.org/protobuf/proto"

	"sluice/disk/vfs"
)

// Options tune a Log. The zero value is usable.
type Options struct {
	// CatchUpEntries is how many entries before a snapshot's index
	// CreateSnapshot keeps, so that a follower a little behind catches up
	// from the log instead of receiving the whole snapshot.
	CatchUpEntries uint64
	// MaxFileBytes bounds the file Open reads into memory; the controller's
	// snapshot cadence keeps the file far below it. Default 1 GiB.
	MaxFileBytes int64
	Logger       *slog.Logger
}

// Log is a raft.Storage whose every change is in a write-ahead file. All
// retained entries are also held in memory: the metadata log is small and
// compacted by snapshots.
type Log struct {
	fs   vfs.FS
	dir  string
	opts Options
	log  *slog.Logger

	f    vfs.File
	seq  uint64 // the file's sequence number
	size int64  // where the next record goes

	hs   hardState
	snap *raftpb.Snapshot // never nil; index 0 when there is none
	// ents[0] is the entry before the first kept one (index and term only);
	// ents[i] has index ents[0].Index+i. Entries are immutable: raft may
	// hold the ones Entries returned.
	ents []*raftpb.Entry

	err error // sticky: the first write or sync that failed
	buf []byte
}

type hardState struct{ term, vote, commit uint64 }

func (h hardState) proto() *raftpb.HardState {
	return &raftpb.HardState{Term: new(h.term), Vote: new(h.vote), Commit: new(h.commit)}
}

var _ raft.Storage = (*Log)(nil)

// ErrFailed wraps the error that broke a Log; every later call returns it.
var ErrFailed = errors.New("raftlog: an earlier write failed")

const (
	filePrefix = "raft-"
	fileSuffix = ".wal"
	tmpSuffix  = ".tmp"
)

func fileName(seq uint64) string { return fmt.Sprintf("%s%020d%s", filePrefix, seq, fileSuffix) }

func parseFileName(name string) (uint64, bool) {
	s, ok := strings.CutPrefix(name, filePrefix)
	if !ok {
		return 0, false
	}
	if s, ok = strings.CutSuffix(s, fileSuffix); !ok || len(s) != 20 {
		return 0, false
	}
	seq, err := strconv.ParseUint(s, 10, 64)
	return seq, err == nil
}

// Open recovers the log in dir, creating an empty one if there is none.
func Open(fsys vfs.FS, dir string, o Options) (*Log, error) {
	if o.MaxFileBytes <= 0 {
		o.MaxFileBytes = 1 << 30
	}
	l := &Log{fs: fsys, dir: dir, opts: o, log: o.Logger,
		snap: emptySnapshot(), ents: []*raftpb.Entry{dummy(0, 0)}}
	if l.log == nil {
		l.log = slog.New(slog.DiscardHandler)
	}
	if err := fsys.MkdirAll(dir); err != nil {
		return nil, err
	}
	names, err := fsys.List(dir)
	if err != nil {
		return nil, err
	}
	var seqs []uint64
	for _, n := range names {
		if seq, ok := parseFileName(n); ok {
			seqs = append(seqs, seq)
		} else if strings.HasPrefix(n, filePrefix) && strings.HasSuffix(n, tmpSuffix) {
			// A rewrite that never reached its rename: the file it was to
			// replace is intact.
			if err := fsys.Remove(path.Join(dir, n)); err != nil {
				return nil, err
			}
		}
	}
	if len(seqs) == 0 {
		return l, l.create()
	}
	l.seq = seqs[len(seqs)-1] // List sorts, and the names are fixed-width
	for _, seq := range seqs[:len(seqs)-1] {
		// A rewrite renamed its file into place but crashed before
		// removing the one it replaced.
		if err := fsys.Remove(path.Join(dir, fileName(seq))); err != nil {
			return nil, err
		}
	}
	if err := fsys.SyncDir(dir); err != nil {
		return nil, err
	}
	if err := l.recover(); err != nil {
		return nil, err
	}
	return l, nil
}

func emptySnapshot() *raftpb.Snapshot {
	return &raftpb.Snapshot{Metadata: &raftpb.SnapshotMetadata{ConfState: &raftpb.ConfState{}, Index: new(uint64(0)), Term: new(uint64(0))}}
}

func dummy(index, term uint64) *raftpb.Entry {
	return &raftpb.Entry{Index: new(index), Term: new(term)}
}

// create starts an empty log file and makes its name durable, so that what
// is later synced into it cannot be lost with its directory entry.
func (l *Log) create() error {
	l.seq = 1
	f, err := l.fs.OpenFile(l.path(l.seq), vfs.Options{Create: true})
	if err != nil {
		return err
	}
	if err := l.fs.SyncDir(l.dir); err != nil {
		f.Close()
		return err
	}
	l.f = f
	return nil
}

func (l *Log) path(seq uint64) string { return path.Join(l.dir, fileName(seq)) }

// recover replays the current file and cuts its torn tail.
func (l *Log) recover() error {
	name := l.path(l.seq)
	raw, err := vfs.ReadFile(l.fs, name, l.opts.MaxFileBytes)
	if err != nil {
		return err
	}
	good := 0
	for good < len(raw) {
		kind, payload, n, ok := readRecord(raw[good:])
		if !ok {
			break
		}
		if err := l.replay(kind, payload); err != nil {
			return fmt.Errorf("raftlog: %s at byte %d: %w", name, good, err)
		}
		good += n
	}
	f, err := l.fs.OpenFile(name, vfs.Options{})
	if err != nil {
		return err
	}
	l.f, l.size = f, int64(good)
	if good < len(raw) {
		l.log.Warn("raft log: cutting a torn tail", "file", name, "keep", good, "drop", len(raw)-good)
		if err := f.Truncate(int64(good)); err != nil {
			return err
		}
		if err := f.Sync(); err != nil {
			return err
		}
	}
	// The snapshot is committed, and its index can be ahead of a commit
	// index that was not synced; a commit index can also not be ahead of
	// the entries that survived (the clamp only matters if a file was
	// damaged: Save writes entries before the hard state that commits them).
	si := l.snap.GetMetadata().GetIndex()
	if si < l.ents[0].GetIndex() || si > l.lastIndex() {
		return fmt.Errorf("raftlog: %s: snapshot at %d outside log [%d, %d]", name, si, l.ents[0].GetIndex(), l.lastIndex())
	}
	l.hs.commit = min(max(l.hs.commit, si), l.lastIndex())
	return nil
}

// replay applies one record to the in-memory state.
func (l *Log) replay(kind byte, p []byte) error {
	switch kind {
	case kindSnapshot:
		snap := &raftpb.Snapshot{}
		if err := proto.Unmarshal(p, snap); err != nil {
			return err
		}
		l.snap = raftpb.EnsureSnapshot(snap)
	case kindStart:
		if len(p) != 16 {
			return fmt.Errorf("start record of %d bytes", len(p))
		}
		l.ents = []*raftpb.Entry{dummy(be.Uint64(p), be.Uint64(p[8:]))}
	case kindHardState:
		if len(p) != 24 {
			return fmt.Errorf("hard state of %d bytes", len(p))
		}
		l.hs = hardState{be.Uint64(p), be.Uint64(p[8:]), be.Uint64(p[16:])}
	case kindEntry:
		e, err := decodeEntry(p)
		if err != nil {
			return err
		}
		return l.appendEntries([]*raftpb.Entry{e})
	default:
		return fmt.Errorf("unknown record kind %d", kind)
	}
	return nil
}

// appendEntries puts ents (consecutive, starting after the first kept
// entry and at most one past the last) in memory, replacing any entries at
// their indexes and after.
func (l *Log) appendEntries(ents []*raftpb.Entry) error {
	if len(ents) == 0 {
		return nil
	}
	off, first := l.ents[0].GetIndex(), ents[0].GetIndex()
	if first <= off || first > l.lastIndex()+1 {
		return fmt.Errorf("entry %d does not follow the log [%d, %d]", first, off+1, l.lastIndex())
	}
	for i, e := range ents {
		if e.GetIndex() != first+uint64(i) {
			return fmt.Errorf("entries not consecutive at %d", e.GetIndex())
		}
	}
	// A full slice expression: the entries after the cut may still be held
	// by raft from an earlier Entries call and must not be overwritten.
	keep := first - off
	l.ents = append(l.ents[:keep:keep], ents...)
	return nil
}

func (l *Log) lastIndex() uint64 { return l.ents[0].GetIndex() + uint64(len(l.ents)) - 1 }

// InitialState implements raft.Storage.
func (l *Log) InitialState() (*raftpb.HardState, *raftpb.ConfState, error) {
	cs := proto.Clone(raftpb.EnsureConfState(l.snap.GetMetadata().GetConfState())).(*raftpb.ConfState)
	return l.hs.proto(), cs, nil
}

// Entries implements raft.Storage.
func (l *Log) Entries(lo, hi, maxSize uint64) ([]*raftpb.Entry, error) {
	off := l.ents[0].GetIndex()
	if lo <= off {
		return nil, raft.ErrCompacted
	}
	if hi > l.lastIndex()+1 || lo > hi {
		return nil, fmt.Errorf("raftlog: entries [%d, %d) asked of log [%d, %d]", lo, hi, off+1, l.lastIndex())
	}
	if len(l.ents) == 1 {
		return nil, raft.ErrUnavailable
	}
	ents := l.ents[lo-off : hi-off]
	size, n := uint64(0), 0
	for n < len(ents) {
		size += uint64(proto.Size(ents[n]))
		if n > 0 && size > maxSize {
			break
		}
		n++
	}
	return ents[:n:n], nil
}

// Term implements raft.Storage.
func (l *Log) Term(i uint64) (uint64, error) {
	off := l.ents[0].GetIndex()
	if i < off {
		return 0, raft.ErrCompacted
	}
	if i-off >= uint64(len(l.ents)) {
		return 0, raft.ErrUnavailable
	}
	return l.ents[i-off].GetTerm(), nil
}

// LastIndex implements raft.Storage.
func (l *Log) LastIndex() (uint64, error) { return l.lastIndex(), nil }

// FirstIndex implements raft.Storage.
func (l *Log) FirstIndex() (uint64, error) { return l.ents[0].GetIndex() + 1, nil }

// Snapshot implements raft.Storage. It returns a copy.
func (l *Log) Snapshot() (*raftpb.Snapshot, error) {
	return proto.Clone(l.snap).(*raftpb.Snapshot), nil
}

// Empty reports whether nothing was ever saved: a new voter's log, which
// the controller bootstraps.
func (l *Log) Empty() bool {
	return raft.IsEmptySnap(l.snap) && l.lastIndex() == 0 && l.hs == hardState{}
}

// Save persists a Ready's snapshot, entries and hard state (any may be
// empty), in that order, synced when sync is true (raft's Ready.MustSync)
// or when there is a snapshot. The caller sends the Ready's messages only
// after Save returns.
func (l *Log) Save(hs *raftpb.HardState, ents []*raftpb.Entry, snap *raftpb.Snapshot, sync bool) error {
	if l.err != nil {
		return l.err
	}
	next := l.hs
	if !raft.IsEmptyHardState(hs) {
		next = hardState{hs.GetTerm(), hs.GetVote(), hs.GetCommit()}
		// Cheap assertions of what raft promises: a vote, once cast, is
		// never taken back within its term, and terms only grow.
		if next.term < l.hs.term || next.term == l.hs.term && l.hs.vote != 0 && next.vote != l.hs.vote {
			return fmt.Errorf("raftlog: hard state %+v would replace %+v", next, l.hs)
		}
	}
	if !raft.IsEmptySnap(snap) {
		return l.saveSnapshot(next, ents, snap)
	}
	// raft may hand back entries a snapshot already covers.
	for len(ents) > 0 && ents[0].GetIndex() <= l.ents[0].GetIndex() {
		ents = ents[1:]
	}
	b := l.buf[:0]
	for _, e := range ents {
		b = appendEntryRecord(b, e)
	}
	if next != l.hs {
		b = appendHardStateRecord(b, next)
	}
	if len(b) == 0 {
		return nil
	}
	// Check before writing, so the file never holds what memory refuses.
	old := l.ents
	if err := l.appendEntries(ents); err != nil {
		return fmt.Errorf("raftlog: %w", err)
	}
	if err := l.write(b, sync); err != nil {
		l.ents = old
		return err
	}
	l.buf = b[:0]
	l.hs = next
	return nil
}

func (l *Log) write(b []byte, sync bool) error {
	if _, err := l.f.WriteAt(b, l.size); err != nil {
		return l.fail(err)
	}
	l.size += int64(len(b))
	if sync {
		if err := l.f.Sync(); err != nil {
			return l.fail(err)
		}
	}
	return nil
}

func (l *Log) fail(err error) error {
	l.err = fmt.Errorf("%w: %w", ErrFailed, err)
	return l.err
}

// saveSnapshot installs a snapshot received from the leader: the log is
// replaced by the snapshot and the entries that follow it.
func (l *Log) saveSnapshot(hs hardState, ents []*raftpb.Entry, snap *raftpb.Snapshot) error {
	md := snap.GetMetadata()
	if md.GetIndex() <= l.snap.GetMetadata().GetIndex() {
		return raft.ErrSnapOutOfDate
	}
	kept := []*raftpb.Entry{dummy(md.GetIndex(), md.GetTerm())}
	for _, e := range ents {
		if e.GetIndex() <= md.GetIndex() {
			continue
		}
		if e.GetIndex() != md.GetIndex()+uint64(len(kept)) {
			return fmt.Errorf("raftlog: entry %d does not follow snapshot %d", e.GetIndex(), md.GetIndex())
		}
		kept = append(kept, e)
	}
	hs.commit = max(hs.commit, md.GetIndex())
	return l.rewrite(proto.Clone(snap).(*raftpb.Snapshot), hs, kept)
}

// CreateSnapshot records data as the state machine at index (applied, so
// committed), with conf state cs, and drops the entries before index minus
// CatchUpEntries.
func (l *Log) CreateSnapshot(index uint64, cs *raftpb.ConfState, data []byte) error {
	if l.err != nil {
		return l.err
	}
	if index <= l.snap.GetMetadata().GetIndex() {
		return raft.ErrSnapOutOfDate
	}
	if index > l.hs.commit || index > l.lastIndex() {
		return fmt.Errorf("raftlog: snapshot at %d past commit %d or last index %d", index, l.hs.commit, l.lastIndex())
	}
	off := l.ents[0].GetIndex()
	term := l.ents[index-off].GetTerm()
	compact := off
	if index > l.opts.CatchUpEntries {
		compact = max(off, index-l.opts.CatchUpEntries)
	}
	kept := append([]*raftpb.Entry{dummy(compact, l.ents[compact-off].GetTerm())}, l.ents[compact-off+1:]...)
	snap := &raftpb.Snapshot{Data: data, Metadata: &raftpb.SnapshotMetadata{
		ConfState: proto.Clone(raftpb.EnsureConfState(cs)).(*raftpb.ConfState), Index: new(index), Term: new(term)}}
	return l.rewrite(snap, l.hs, kept)
}

// rewrite replaces the file with one holding exactly this state, durably,
// then makes it the in-memory state.
func (l *Log) rewrite(snap *raftpb.Snapshot, hs hardState, ents []*raftpb.Entry) error {
	raw, err := proto.Marshal(snap)
	if err != nil {
		return fmt.Errorf("raftlog: %w", err)
	}
	b := appendRecord(nil, kindSnapshot, raw)
	b = appendRecord(b, kindStart, be.AppendUint64(be.AppendUint64(nil, ents[0].GetIndex()), ents[0].GetTerm()))
	b = appendHardStateRecord(b, hs)
	for _, e := range ents[1:] {
		b = appendEntryRecord(b, e)
	}
	seq := l.seq + 1
	name := l.path(seq)
	tmp := name + tmpSuffix
	f, err := l.fs.OpenFile(tmp, vfs.Options{Create: true})
	if err != nil {
		return l.fail(err)
	}
	err = f.Truncate(0)
	if err == nil {
		_, err = f.WriteAt(b, 0)
	}
	if err == nil {
		err = f.Sync()
	}
	if err == nil {
		err = l.fs.Rename(tmp, name)
	}
	if err == nil {
		err = l.fs.SyncDir(l.dir)
	}
	if err != nil {
		f.Close()
		return l.fail(err)
	}
	old, oldName := l.f, l.path(l.seq)
	l.f, l.seq, l.size = f, seq, int64(len(b))
	l.snap, l.hs, l.ents = snap, hs, ents
	old.Close()
	// Open removes a leftover old file too, so failing here loses nothing.
	if err := l.fs.Remove(oldName); err != nil && !errors.Is(err, fs.ErrNotExist) {
		l.log.Warn("raft log: cannot remove the replaced file", "file", oldName, "err", err)
	} else if err := l.fs.SyncDir(l.dir); err != nil {
		l.log.Warn("raft log: cannot sync the directory", "dir", l.dir, "err", err)
	}
	return nil
}

// Close closes the file. It does not sync: everything Save was asked to
// sync already is.
func (l *Log) Close() error {
	if l.f == nil {
		return nil
	}
	err := l.f.Close()
	l.f = nil
	if l.err == nil {
		l.err = fmt.Errorf("%w: closed", ErrFailed)
	}
	return err
}
