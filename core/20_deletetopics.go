package core

// DeleteTopics, versions 0-6. v6 names each topic by name or by ID: an
// unknown ID is UNKNOWN_TOPIC_ID, naming both or neither is INVALID_REQUEST,
// and so is naming the same topic twice in one request (as in Kafka).
//
// A deleted topic leaves the metadata at once, and meta.json is rewritten
// before anything else, so every request that looks it up afterwards gets
// UNKNOWN_TOPIC_OR_PARTITION (UNKNOWN_TOPIC_ID by ID). Its partitions are
// then torn down: requests that found the topic just before finish first,
// long polls on it are answered with that error, each log is closed on its
// own loop, and the partition directories are removed. The response goes
// out once that is done, so a topic created afterwards with the same name
// starts empty; until then creating it is TOPIC_ALREADY_EXISTS ("marked
// for deletion", as ZooKeeper-mode Kafka says) and it is not auto-created.
// Every group's committed offsets of a deleted topic are removed too
// (core/group's TopicsDeleted), before the response. __consumer_offsets
// cannot be deleted, which would lose every group: INVALID_TOPIC_EXCEPTION
// (Kafka's tools refuse to delete internal topics; Redpanda's broker
// refuses by default, kafka_nodelete_topics).
// Differences from Apache Kafka: TimeoutMillis is not enforced (the
// teardown is local and short), and directories are removed before the
// response rather than renamed and removed later; delete.topic.enable is
// always on.

import (
	"fmt"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"sluice/disk/vfs"
	"sluice/netio"
)

func handleDeleteTopics(r *request, kreq kmsg.Request) {
	req := kreq.(*kmsg.DeleteTopicsRequest)
	resp := req.ResponseKind().(*kmsg.DeleteTopicsResponse)
	refs := req.Topics
	if req.Version < 6 {
		refs = make([]kmsg.DeleteTopicsRequestTopic, len(req.TopicNames))
		for i := range req.TopicNames {
			refs[i].Topic = &req.TopicNames[i]
		}
	}
	names, ids := map[string]int{}, map[[16]byte]int{}
	for _, ref := range refs {
		switch {
		case ref.Topic != nil && ref.TopicID == [16]byte{}:
			names[*ref.Topic]++
		case ref.Topic == nil && ref.TopicID != [16]byte{}:
			ids[ref.TopicID]++
		}
	}

	b := r.b
	var doomed []*topic
	b.mu.Lock()
	for _, ref := range refs {
		rt := kmsg.NewDeleteTopicsResponseTopic()
		rt.Topic, rt.TopicID = ref.Topic, ref.TopicID
		var t *topic
		var msg string
		switch {
		case ref.Topic != nil && ref.TopicID != [16]byte{}:
			rt.ErrorCode, msg = kerr.InvalidRequest.Code, "You may not specify both topic name and topic id."
		case ref.Topic == nil && ref.TopicID == [16]byte{}:
			rt.ErrorCode, msg = kerr.InvalidRequest.Code, "Neither topic name nor id were specified."
		case ref.Topic != nil && names[*ref.Topic] != 1: // named more than once
			if names[*ref.Topic] < 0 {
				continue // answered once already
			}
			names[*ref.Topic] = -1
			rt.ErrorCode, msg = kerr.InvalidRequest.Code, "Duplicate topic name."
		case ref.Topic == nil && ids[ref.TopicID] != 1:
			if ids[ref.TopicID] < 0 {
				continue
			}
			ids[ref.TopicID] = -1
			rt.ErrorCode, msg = kerr.InvalidRequest.Code, "Duplicate topic id."
		case ref.Topic != nil:
			if t = b.topics[*ref.Topic]; t == nil {
				rt.ErrorCode, msg = errUnknownTopicOrPartition, fmt.Sprintf("topic %q does not exist", *ref.Topic)
			}
		default:
			if t = b.topicIDs[ref.TopicID]; t == nil {
				rt.ErrorCode, msg = errUnknownTopicID, "no topic has this id"
			}
		}
		if t.isInternal() {
			rt.ErrorCode, msg = errInvalidTopic, fmt.Sprintf("Topic %s is an internal topic and is not allowed to be deleted.", t.name)
			t = nil
		}
		if rt.ErrorCode != 0 {
			rt.ErrorMessage = &msg
		}
		resp.Topics = append(resp.Topics, rt)
		if t != nil {
			name := t.name
			rt := &resp.Topics[len(resp.Topics)-1]
			rt.Topic, rt.TopicID = &name, t.id
			delete(b.topics, t.name)
			delete(b.topicIDs, t.id)
			doomed = append(doomed, t)
		}
	}
	if len(doomed) > 0 {
		if err := b.saveMetaLocked(); err != nil {
			// Nothing else saw the topics go: put them back and say why.
			for _, t := range doomed {
				b.topics[t.name], b.topicIDs[t.id] = t, t
			}
			msg := err.Error()
			for i := range resp.Topics {
				if rt := &resp.Topics[i]; rt.ErrorCode == 0 {
					rt.ErrorCode, rt.ErrorMessage = errorCode(err), &msg
				}
			}
			doomed = nil
		}
	}
	for _, t := range doomed {
		b.deleting[t.name] = true
		b.log.Info("deleted topic", "topic", t.name, "partitions", len(t.partitions))
	}
	b.mu.Unlock()
	if len(doomed) == 0 {
		r.respond(resp)
		return
	}
	go b.tearDown(doomed, func() { r.respondFrom(resp) })
}

// tearDown closes and removes the partitions of topics already gone from
// the metadata, then calls done. It runs on its own goroutine because it
// waits for the loops; each step is one pass over the loops, and the fetch
// step repeats only while a fetch's round of reads is out.
func (b *Broker) tearDown(topics []*topic, done func()) {
	doomed := map[*partition]bool{}
	for _, t := range topics {
		for _, p := range t.partitions {
			doomed[p] = true
		}
	}
	loops := b.srv.Loops()
	// The first pass is also a barrier: a handler looks a topic up and
	// posts its partition work in one turn of its loop, so once every loop
	// has run a task posted after the topics left the metadata, all work
	// on them is queued ahead of the closes posted below.
	for {
		var busy atomic.Int32
		onLoops(loops, func(l *netio.Loop) { busy.Add(int32(b.releaseFetches(l, doomed))) })
		if busy.Load() == 0 {
			break
		}
		time.Sleep(time.Millisecond) // a round of reads is out; it ends when they return
	}
	// Past the barrier, every commit that found one of these topics is
	// queued on its coordinator's loop ahead of this.
	b.groupTopicsDeleted(topics)
	var wg sync.WaitGroup
	for p := range doomed {
		wg.Add(1)
		p.loop.Post(func() {
			defer wg.Done()
			if err := p.log.Close(); err != nil {
				b.log.Warn("closing the log of a deleted partition", "dir", p.dir, "err", err)
			}
		})
	}
	wg.Wait()
	for p := range doomed {
		// A producer-state snapshot being written there finishes first.
		p.snapshotMu.Lock()
		p.removed = true
		err := vfs.RemoveDir(b.cfg.FS, p.dir)
		p.snapshotMu.Unlock()
		if err != nil {
			// Creating the topic again removes what is left (see
			// removeLeftoverDirs).
			b.log.Warn("removing a deleted partition", "dir", p.dir, "err", err)
		}
	}
	if err := b.cfg.FS.SyncDir(b.cfg.DataDir); err != nil {
		b.log.Warn("syncing the data directory after a topic deletion", "err", err)
	}
	for _, t := range topics {
		b.mu.Lock()
		delete(b.deleting, t.name)
		b.mu.Unlock()
	}
	done()
}

// releaseFetches answers every fetch on loop l that holds a doomed
// partition and is between rounds: the partition's part becomes
// UNKNOWN_TOPIC_OR_PARTITION (UNKNOWN_TOPIC_ID by ID), which answers the
// fetch after one more round over its other partitions. It returns how
// many such fetches are mid-round: their reads capture fetchPart.p on the
// owning loops (see fetchState.round), so it must not change until they
// are back. Runs on l.
func (b *Broker) releaseFetches(l *netio.Loop, doomed map[*partition]bool) (busy int) {
	for f := range b.parkedOn(l) {
		holds := false
		for i := range f.parts {
			holds = holds || doomed[f.parts[i].p]
		}
		switch {
		case !holds:
			continue
		case f.running:
			busy++
			continue
		}
		missing := errUnknownTopicOrPartition
		if f.req.Version >= 13 {
			missing = errUnknownTopicID
		}
		for i := range f.parts {
			if fp := &f.parts[i]; doomed[fp.p] {
				fp.p, fp.data, fp.err = nil, nil, missing
			}
		}
		f.wake()
	}
	return busy
}

// onLoops runs fn on every loop and waits until all have.
func onLoops(loops []*netio.Loop, fn func(l *netio.Loop)) {
	var wg sync.WaitGroup
	for _, l := range loops {
		wg.Add(1)
		l.Post(func() {
			defer wg.Done()
			fn(l)
		})
	}
	wg.Wait()
}

// partitionDir is where a partition's log lives (as openPartitions names
// it).
func (b *Broker) partitionDir(topic string, index int32) string {
	return filepath.Join(b.cfg.DataDir, fmt.Sprintf("%s-%d", topic, index))
}

// removeLeftoverDirs removes the directories of partitions [from, to) of
// topic name before they are created. They exist only when a teardown was
// cut short (meta.json had already forgotten the topic) or a create failed
// half way, and a new partition must start empty. REQUIRES: b.mu held, name
// not in the metadata and not being deleted.
func (b *Broker) removeLeftoverDirs(name string, from, to int32) error {
	for i := from; i < to; i++ {
		if err := vfs.RemoveDir(b.cfg.FS, b.partitionDir(name, i)); err != nil {
			return fmt.Errorf("removing a leftover partition directory: %w", err)
		}
	}
	return nil
}
