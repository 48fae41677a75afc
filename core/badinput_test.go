package core

import (
	"context"
	"encoding/binary"
	"io"
	"log/slog"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
	"golang.org/x/time/rate"

	"sluice/disk/batch/batchtest"
)

// rawRequest frames a request with a v1 header (v2 when flexible).
func rawRequest(req kmsg.Request, corr int32) []byte {
	b := binary.BigEndian.AppendUint16(nil, uint16(req.Key()))
	b = binary.BigEndian.AppendUint16(b, uint16(req.GetVersion()))
	b = binary.BigEndian.AppendUint32(b, uint32(corr))
	b = binary.BigEndian.AppendUint16(b, 4)
	b = append(b, "test"...)
	if req.IsFlexible() {
		b = append(b, 0)
	}
	b = req.AppendTo(b)
	return append(binary.BigEndian.AppendUint32(nil, uint32(len(b))), b...)
}

func frameOf(body []byte) []byte {
	return append(binary.BigEndian.AppendUint32(nil, uint32(len(body))), body...)
}

// roundTrip sends raw bytes on a new connection and returns the response
// body (correlation id onward), or nil when the broker closed the
// connection instead.
func roundTrip(t *testing.T, b *Broker, raw []byte) []byte {
	t.Helper()
	c, err := net.DialTimeout("tcp", b.Addr(), 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(10 * time.Second))
	if _, err := c.Write(raw); err != nil {
		t.Fatal(err)
	}
	var size [4]byte
	if _, err := io.ReadFull(c, size[:]); err != nil {
		if err == io.EOF {
			return nil
		}
		t.Fatalf("reading response: %v", err)
	}
	resp := make([]byte, binary.BigEndian.Uint32(size[:]))
	if _, err := io.ReadFull(c, resp); err != nil {
		t.Fatal(err)
	}
	return resp
}

// TestBadInput sends each kind of malformed request on its own connection:
// each gets the error code Kafka gives or a closed connection, and the
// broker keeps serving.
func TestBadInput(t *testing.T) {
	b := startBroker(t, t.TempDir())
	defer stopBroker(t, b)

	apiv := kmsg.NewPtrApiVersionsRequest()
	apiv.Version = 3
	apiv.ClientSoftwareName, apiv.ClientSoftwareVersion = "t", "1"
	good := rawRequest(apiv, 1)

	meta := kmsg.NewPtrMetadataRequest()
	meta.Version = 12
	metaRaw := rawRequest(meta, 2)

	closes := map[string][]byte{
		"garbage after size":   frameOf([]byte("\xde\xad\xbe\xef garbage that is no header")),
		"header too short":     frameOf([]byte{0, 3}),
		"unknown api key":      frameOf([]byte{0x7f, 0x00, 0, 0, 0, 0, 0, 1, 0, 0}),
		"unsupported version":  frameOf([]byte{0, 3, 0, 99, 0, 0, 0, 1, 0, 0}),
		"client id too long":   frameOf([]byte{0, 3, 0, 1, 0, 0, 0, 1, 0x7f, 0xff}),
		"truncated body":       frameOf(metaRaw[4 : len(metaRaw)-1]),
		"huge array length":    frameOf(append(append([]byte(nil), metaRaw[4:4+10+4+1]...), 0x7f, 0xff, 0xff, 0xff)),
		"negative frame size":  {0x80, 0, 0, 0},
		"frame over the limit": {0x7f, 0xff, 0xff, 0xff},
	}
	for name, raw := range closes {
		t.Run(name, func(t *testing.T) {
			if resp := roundTrip(t, b, raw); resp != nil {
				t.Fatalf("got a response %x; want the connection closed", resp)
			}
		})
	}

	t.Run("ApiVersions v99 answered with v0", func(t *testing.T) {
		resp := roundTrip(t, b, frameOf([]byte{0, 18, 0, 99, 0, 0, 0, 7, 0, 0}))
		if resp == nil || binary.BigEndian.Uint32(resp) != 7 {
			t.Fatalf("response %x", resp)
		}
		v := kmsg.NewPtrApiVersionsResponse()
		v.Version = 0
		if err := v.ReadFrom(resp[4:]); err != nil || v.ErrorCode != errUnsupportedVersion || len(v.ApiKeys) == 0 {
			t.Fatalf("decoded %+v, %v", v, err)
		}
	})

	produce := func(t *testing.T, topic string, records []byte) int16 {
		t.Helper()
		req := kmsg.NewPtrProduceRequest()
		req.Version, req.Acks, req.TimeoutMillis = 9, -1, 5000
		rt := kmsg.NewProduceRequestTopic()
		rt.Topic = topic
		rp := kmsg.NewProduceRequestTopicPartition()
		rp.Records = records
		rt.Partitions = append(rt.Partitions, rp)
		req.Topics = append(req.Topics, rt)
		resp := roundTrip(t, b, rawRequest(req, 9))
		if resp == nil {
			t.Fatal("connection closed; want an error code")
		}
		pr := kmsg.NewPtrProduceResponse()
		pr.Version = 9
		if err := pr.ReadFrom(resp[5:]); err != nil {
			t.Fatal(err)
		}
		return pr.Topics[0].Partitions[0].ErrorCode
	}
	t.Run("bad CRC", func(t *testing.T) {
		bt := batchtest.Values(1, "x")
		bt[len(bt)-1] ^= 1
		if code := produce(t, "bad", bt); code != kerr.CorruptMessage.Code {
			t.Fatalf("code %d", code)
		}
	})
	t.Run("wrong batch length", func(t *testing.T) {
		bt := batchtest.Values(1, "x")
		if code := produce(t, "bad", bt[:len(bt)-2]); code != kerr.CorruptMessage.Code {
			t.Fatalf("code %d", code)
		}
	})
	t.Run("oversized batch", func(t *testing.T) {
		if code := produce(t, "bad", batchtest.Sized(1, 1, 2<<20, 1)); code != kerr.MessageTooLarge.Code {
			t.Fatalf("code %d", code)
		}
	})
	t.Run("invalid topic name", func(t *testing.T) {
		if code := produce(t, "no/slashes", batchtest.Values(1, "x")); code != errUnknownTopicOrPartition {
			t.Fatalf("code %d", code)
		}
	})

	if resp := roundTrip(t, b, good); resp == nil || binary.BigEndian.Uint32(resp) != 1 {
		t.Fatalf("broker stopped answering after bad input: %x", resp)
	}
}

// FuzzDecode feeds arbitrary frames to the request decoder. Invariants: it
// never panics; a request it accepts is of an API and version in the table.
func FuzzDecode(f *testing.F) {
	apis := apiTable()
	for _, req := range []kmsg.Request{kmsg.NewPtrApiVersionsRequest(), kmsg.NewPtrMetadataRequest(), kmsg.NewPtrProduceRequest(), kmsg.NewPtrFetchRequest(), kmsg.NewPtrCreateTopicsRequest(), kmsg.NewPtrListOffsetsRequest()} {
		a := apis[req.Key()]
		for v := a.minVersion; v <= a.maxVersion; v++ {
			req.SetVersion(v)
			f.Add(rawRequest(req, 1)[4:])
		}
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		h, req, err := decode(apis, body)
		if err != nil {
			return
		}
		a := apis[h.key]
		if a == nil || h.version < a.minVersion || h.version > a.maxVersion || req.Key() != h.key {
			t.Fatalf("accepted key %d v%d", h.key, h.version)
		}
	})
}

// TestInputLogIsBounded: a flood of bad requests is logged at the limiter's
// rate, and the next line that gets through counts what was left out.
func TestInputLogIsBounded(t *testing.T) {
	var buf strings.Builder
	l := newInputLog(slog.New(slog.NewTextHandler(&buf, nil)))
	for range 1000 {
		l.warn("bad")
	}
	lines := strings.Count(buf.String(), "\n")
	if lines < 1 || lines > inputLogBurst+inputLogRate {
		t.Fatalf("%d lines logged for 1000 bad requests in a burst", lines)
	}
	l.limit.SetBurst(inputLogBurst) // refill without waiting
	l.limit.SetLimit(rate.Inf)
	l.warn("bad")
	if !strings.Contains(buf.String(), "suppressedBefore=") {
		t.Fatalf("no count of suppressed lines in:\n%s", buf.String())
	}
}

// FuzzDispatch sends arbitrary requests through a running broker: each
// fuzz input is a request body that, when it decodes, reaches its handler
// with whatever field values the fuzzer chose. Invariants: the broker
// answers the request or closes the connection, never hangs, and keeps
// answering new connections. Three kinds of legitimate but heavy requests
// are tamed first, since they are not bugs: long polls (MaxWaitMillis is
// capped at 10 ms), topics of thousands of partitions (capped at 4), and
// JoinGroups that may wait out their rebalance timeout (capped at 1 s, as
// sessions are by the broker's group.max.session.timeout.ms).
func FuzzDispatch(f *testing.F) {
	apis := apiTable()
	for key, a := range apis {
		req := kmsg.RequestForKey(key)
		for v := a.minVersion; v <= a.maxVersion; v++ {
			req.SetVersion(v)
			f.Add(rawRequest(req, 1)[4:])
		}
	}
	noDelay := time.Duration(0)
	b, err := Start(Config{Listen: "127.0.0.1:0", DataDir: f.TempDir(), Shards: 2, Logger: quiet,
		GroupMinSessionTimeout: 10 * time.Millisecond, GroupMaxSessionTimeout: time.Second, GroupInitialRebalanceDelay: &noDelay})
	if err != nil {
		f.Fatal(err)
	}
	f.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		b.Shutdown(ctx)
	})
	probe := kmsg.NewPtrApiVersionsRequest()
	const probeCorr = 0x7eadbeef
	f.Fuzz(func(t *testing.T, body []byte) {
		body = tame(apis, body)
		c, err := net.DialTimeout("tcp", b.Addr(), 5*time.Second)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		c.SetDeadline(time.Now().Add(10 * time.Second))
		// The probe behind the input tells "answered" (or "no answer due",
		// acks=0) apart from "hung": its answer comes after the input's.
		if _, err := c.Write(append(frameOf(body), rawRequest(probe, probeCorr)...)); err != nil {
			return // closed while writing: an answer too
		}
		for {
			var size [4]byte
			if _, err := io.ReadFull(c, size[:]); err != nil {
				if ne, ok := err.(net.Error); ok && ne.Timeout() {
					t.Fatalf("no answer and no close after 10 s to %q", body[:min(len(body), 64)])
				}
				break // closed: fine, if the broker still serves others
			}
			resp := make([]byte, binary.BigEndian.Uint32(size[:]))
			if _, err := io.ReadFull(c, resp); err != nil {
				break
			}
			if len(resp) >= 4 && binary.BigEndian.Uint32(resp) == probeCorr {
				break
			}
		}
		if resp := roundTrip(t, b, rawRequest(probe, 2)); resp == nil {
			t.Fatalf("broker stopped answering after %q", body[:min(len(body), 64)])
		}
	})
}

// tame rewrites a decodable Fetch, CreateTopics, CreatePartitions or
// JoinGroup so it is cheap to serve (see FuzzDispatch); anything else is
// returned as is.
func tame(apis map[int16]*api, body []byte) []byte {
	h, req, err := decode(apis, body)
	if err != nil {
		return body
	}
	switch r := req.(type) {
	case *kmsg.FetchRequest:
		r.MaxWaitMillis = min(r.MaxWaitMillis, 10)
	case *kmsg.CreateTopicsRequest:
		for i := range r.Topics {
			r.Topics[i].NumPartitions = min(r.Topics[i].NumPartitions, 4)
		}
	case *kmsg.CreatePartitionsRequest:
		for i := range r.Topics {
			r.Topics[i].Count = min(r.Topics[i].Count, 4)
		}
	case *kmsg.JoinGroupRequest:
		r.RebalanceTimeoutMillis = min(r.RebalanceTimeoutMillis, 1000)
	default:
		return body
	}
	return rawRequest(req, h.corr)[4:]
}

// TestDecodeHugeTagCount: a flexible request whose tagged-field count is
// a huge varint is refused at once. The patched kmsg (see
// core/internal/kmsg/SLUICE-PATCH.md) stops at the end of the input; the
// original spins through the count, seconds per request. The bound below
// only catches that spin: decoding takes microseconds.
func TestDecodeHugeTagCount(t *testing.T) {
	body := []byte("\x00 \x00\x04\x00\x00\x00\x01\x00\x04test\x00\x01\xf0\xf0\xf0\xf0\xf0\xf0\x00\x00\x00")
	done := make(chan error, 1)
	go func() {
		_, _, err := decode(apiTable(), body)
		done <- err
	}()
	select {
	case err := <-done:
		if err == nil {
			t.Fatal("decoded a request with 2^32 tagged fields in 22 bytes")
		}
	case <-time.After(time.Second):
		t.Fatal("decoding 22 bytes took over a second: the tagged-field loop is unbounded again")
	}
}
