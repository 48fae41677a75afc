package core

import (
	"bufio"
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// The librdkafka tests run Debian's python3-confluent-kafka under the
// Debian interpreter (a pyenv or venv python on PATH would not see it).
const (
	debianPython  = "/usr/bin/python3"
	rdkafkaScript = "testdata/rdkafka_roundtrip.py"
	// rdkafkaRunTimeout bounds one script run; the script's own deadlines
	// (flush, consume) are shorter, so a stuck broker yields its report.
	rdkafkaRunTimeout = 40 * time.Second
)

// rdkafkaResult is the JSON line rdkafka_roundtrip.py prints last.
type rdkafkaResult struct {
	Produced       int      `json:"produced"`
	Delivered      int      `json:"delivered"`
	DeliveryErrors int      `json:"delivery_errors"`
	Consumed       int      `json:"consumed"`
	Problems       []string `json:"problems"`
}

// needRdkafka skips (fails under CI) when confluent_kafka is missing;
// make deps installs it.
func needRdkafka(t *testing.T) {
	t.Helper()
	if out, err := exec.Command(debianPython, "-c", "import confluent_kafka").CombinedOutput(); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("python3-confluent-kafka is not installed (make deps installs it): %v\n%s", err, out)
		}
		t.Skip("python3-confluent-kafka not installed (make deps installs it)")
	}
}

// rdkafkaTopic creates a topic and returns its ID.
func rdkafkaTopic(t *testing.T, b *Broker, name string, partitions int32) [16]byte {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	resp, err := kadm.NewClient(client(t, b)).CreateTopic(ctx, partitions, 1, nil, name)
	if err == nil {
		err = resp.Err
	}
	if err != nil {
		t.Fatalf("create topic %s: %v", name, err)
	}
	return resp.ID
}

// rdkafkaCmd prepares one run of the script; the caller wires its pipes.
func rdkafkaCmd(ctx context.Context, args ...string) *exec.Cmd {
	cmd := exec.CommandContext(ctx, debianPython, append([]string{rdkafkaScript}, args...)...)
	cmd.WaitDelay = 2 * time.Second
	return cmd
}

// checkRdkafka decodes the script's last stdout line, logs what librdkafka
// reported on stderr (its log lines and every error_cb) and fails on any
// problem or count mismatch.
func checkRdkafka(t *testing.T, stdout []string, stderr string, waitErr error, want int) {
	t.Helper()
	if stderr != "" {
		t.Logf("librdkafka stderr:\n%s", stderr)
	}
	if waitErr != nil || len(stdout) == 0 {
		t.Fatalf("rdkafka_roundtrip.py: %v; stdout:\n%s", waitErr, strings.Join(stdout, "\n"))
	}
	var res rdkafkaResult
	if err := json.Unmarshal([]byte(stdout[len(stdout)-1]), &res); err != nil {
		t.Fatalf("result line %q: %v", stdout[len(stdout)-1], err)
	}
	for _, p := range res.Problems {
		t.Errorf("librdkafka: %s", p)
	}
	if res.Produced != want || res.Delivered != want || res.DeliveryErrors != 0 || res.Consumed != want {
		t.Errorf("produced %d, delivered %d (%d delivery errors), consumed %d; want %d of each and no errors",
			res.Produced, res.Delivered, res.DeliveryErrors, res.Consumed, want)
	}
}

// rdkafkaCodecs are the RecordBatch attribute codec bits (attributes & 7).
var rdkafkaCodecs = map[string]int16{"none": 0, "gzip": 1, "snappy": 2, "lz4": 3, "zstd": 4}

// checkStoredBatches reads every batch of the topic back raw, as the broker
// stores it, and checks librdkafka really compressed with codec and really
// produced idempotently (librdkafka silently falls back to no compression,
// and the round trip alone cannot tell). Within one producer ID and epoch
// a partition's sequences must run on without a gap, starting at 0.
func checkStoredBatches(t *testing.T, b *Broker, topic string, topicID [16]byte, partitions int32, codec string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	cl := client(t, b)
	type producer struct {
		id    int64
		epoch int16
	}
	seen := map[producer]int{} // batches per producer ID and epoch
	codecs := map[int16]int{}  // batches per codec
	for p := range partitions {
		var last kmsg.RecordBatch
		batches, seqErr := 0, false
		for offset, hwm := int64(0), int64(1); offset < hwm; {
			req := kmsg.NewPtrFetchRequest()
			req.MaxBytes = 64 << 20
			rt := kmsg.NewFetchRequestTopic()
			rt.Topic, rt.TopicID = topic, topicID // Fetch v13+ names topics by ID
			rp := kmsg.NewFetchRequestTopicPartition()
			rp.Partition, rp.FetchOffset, rp.PartitionMaxBytes = p, offset, 16<<20
			rt.Partitions = append(rt.Partitions, rp)
			req.Topics = append(req.Topics, rt)
			resp, err := req.RequestWith(ctx, cl)
			if err != nil {
				t.Fatalf("fetch %s/%d at %d: %v", topic, p, offset, err)
			}
			if len(resp.Topics) != 1 || len(resp.Topics[0].Partitions) != 1 {
				t.Fatalf("fetch %s/%d: unexpected response shape", topic, p)
			}
			fp := resp.Topics[0].Partitions[0]
			if fp.ErrorCode != 0 {
				t.Fatalf("fetch %s/%d at %d: error code %d", topic, p, offset, fp.ErrorCode)
			}
			hwm = fp.HighWatermark
			start := offset
			for raw := fp.RecordBatches; len(raw) >= 12; {
				n := 12 + int(int32(binary.BigEndian.Uint32(raw[8:12])))
				if n > len(raw) {
					break // a partial batch at the end of the response
				}
				var rb kmsg.RecordBatch
				if err := rb.ReadFrom(raw[:n]); err != nil {
					t.Fatalf("%s/%d at %d: batch: %v", topic, p, offset, err)
				}
				raw = raw[n:]
				batches++
				codecs[rb.Attributes&7]++
				pr := producer{rb.ProducerID, rb.ProducerEpoch}
				seen[pr]++
				want := int32(0)
				if batches > 1 && last.ProducerID == rb.ProducerID && last.ProducerEpoch == rb.ProducerEpoch {
					want = last.FirstSequence + last.LastOffsetDelta + 1
				}
				if (rb.ProducerID < 0 || rb.FirstSequence != want) && !seqErr {
					seqErr = true // one report per partition is enough
					t.Errorf("%s/%d: batch at offset %d has producer ID %d, epoch %d, sequence %d; want an ID and sequence %d",
						topic, p, rb.FirstOffset, pr.id, pr.epoch, rb.FirstSequence, want)
				}
				last = rb
				offset = rb.FirstOffset + int64(rb.LastOffsetDelta) + 1
			}
			if offset == start && offset < hwm {
				t.Fatalf("%s/%d: fetch at %d made no progress (high watermark %d)", topic, p, offset, hwm)
			}
		}
		if batches == 0 {
			t.Errorf("%s/%d: no batches stored", topic, p)
		}
	}
	if want := rdkafkaCodecs[codec]; len(codecs) != 1 || codecs[want] == 0 {
		// librdkafka picks the codec from ApiVersions: lz4 needs
		// FindCoordinator v0 listed, zstd Produce v7 and Fetch v10.
		t.Errorf("%s: stored batches by codec %v, want all %s (%d): librdkafka judged the broker unable to take %s",
			topic, codecs, codec, want, codec)
	}
	t.Logf("%s: batches by producer ID/epoch: %v", topic, seen)
}

// TestRdkafkaIdempotentCompression produces a few thousand keyed records
// with headers through librdkafka's idempotent producer (acks=all), once
// compressed with lz4 and once with zstd, into a four-partition topic, and
// consumes them back with assigned partitions (no group): every record
// exactly once, in per-partition order, unchanged.
func TestRdkafkaIdempotentCompression(t *testing.T) {
	needRdkafka(t)
	b := startBroker(t, t.TempDir())
	defer stopBroker(t, b)
	const count, partitions = 3000, 4
	for _, codec := range []string{"lz4", "zstd"} {
		t.Run("compression="+codec, func(t *testing.T) {
			topic := "rdkafka-" + codec
			topicID := rdkafkaTopic(t, b, topic, partitions)
			ctx, cancel := context.WithTimeout(context.Background(), rdkafkaRunTimeout)
			defer cancel()
			var stdout, stderr bytes.Buffer
			cmd := rdkafkaCmd(ctx, "roundtrip", "--bootstrap", b.Addr(), "--topic", topic,
				"--partitions", fmt.Sprint(partitions), "--count", fmt.Sprint(count),
				"--compression", codec, "--idempotence", "true")
			cmd.Stdout, cmd.Stderr = &stdout, &stderr
			err := cmd.Run()
			checkRdkafka(t, strings.Split(strings.TrimSpace(stdout.String()), "\n"), stderr.String(), err, count)
			checkStoredBatches(t, b, topic, topicID, partitions, codec)
		})
	}
}

// TestRdkafkaIdempotentRestart: one idempotent producer instance keeps
// working across a broker restart on the same address and data directory,
// and everything it produced before and after is there exactly once, in
// order.
func TestRdkafkaIdempotentRestart(t *testing.T) {
	needRdkafka(t)
	dir := t.TempDir()
	b := startBroker(t, dir)
	defer func() {
		if b != nil {
			stopBroker(t, b)
		}
	}()
	const count, partitions, topic = 1000, 3, "rdkafka-restart"
	topicID := rdkafkaTopic(t, b, topic, partitions)

	ctx, cancel := context.WithTimeout(context.Background(), rdkafkaRunTimeout)
	defer cancel()
	var stderr bytes.Buffer
	cmd := rdkafkaCmd(ctx, "restart", "--bootstrap", b.Addr(), "--topic", topic,
		"--partitions", fmt.Sprint(partitions), "--count", fmt.Sprint(count),
		"--compression", "zstd", "--idempotence", "true")
	cmd.Stderr = &stderr
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	pipe, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	lines := bufio.NewScanner(pipe)
	lines.Buffer(nil, 1<<20)
	var stdout []string
	paused := false
	for !paused && lines.Scan() {
		stdout = append(stdout, lines.Text())
		paused = lines.Text() == "PAUSED"
	}
	if paused {
		// Restart with the first broker's address: bootstrap.servers and
		// the advertised address the producer learnt both stay valid.
		addr, old := b.Addr(), b
		b = nil // stopped: the deferred stop must not shut it down again
		stopBroker(t, old)
		b, err = Start(Config{Listen: addr, DataDir: dir, Shards: 2, Logger: quiet})
		if err != nil {
			cmd.Process.Kill()
			cmd.Wait()
			t.Fatalf("restart on %s: %v", addr, err)
		}
		t.Logf("broker restarted on %s", addr)
		io.WriteString(stdin, "restarted\n")
	}
	stdin.Close()
	for lines.Scan() {
		stdout = append(stdout, lines.Text())
	}
	err = cmd.Wait()
	if !paused && err == nil {
		err = fmt.Errorf("exited without printing PAUSED")
	}
	checkRdkafka(t, stdout, stderr.String(), err, 2*count)
	checkStoredBatches(t, b, topic, topicID, partitions, "zstd")
}
