package bench

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"time"

	"github.com/HdrHistogram/hdrhistogram-go"
)

// RTTResult is the loopback TCP round trip measured by LoopbackRTT: the
// floor under any request-response latency over loopback on this host.
type RTTResult struct {
	Run    string  `json:"run,omitempty"`
	Count  int64   `json:"count"`
	Bytes  int     `json:"bytes"`
	P50Us  float64 `json:"p50_us"`
	P99Us  float64 `json:"p99_us"`
	P999Us float64 `json:"p99.9_us"`
	MaxUs  float64 `json:"max_us"`
}

// rttTimeout bounds a whole RTT measurement.
const rttTimeout = 2 * time.Minute

// LoopbackRTT bounces a message of size bytes between two TCP sockets on
// 127.0.0.1, count times, one in flight, and returns the round trips in a
// histogram of nanoseconds.
func LoopbackRTT(ctx context.Context, count, size int) (*hdrhistogram.Histogram, error) {
	if count < 1 || count > 100_000_000 || size < 1 || size > 1<<20 {
		return nil, fmt.Errorf("rtt: count must be 1..1e8 and size 1..1 MiB")
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	defer ln.Close()
	deadline := time.Now().Add(rttTimeout)
	if d, ok := ctx.Deadline(); ok && d.Before(deadline) {
		deadline = d
	}
	echoErr := make(chan error, 1)
	go func() {
		c, err := ln.Accept()
		if err != nil {
			echoErr <- err
			return
		}
		defer c.Close()
		c.SetDeadline(deadline)
		buf := make([]byte, size)
		for {
			if _, err := io.ReadFull(c, buf); err != nil {
				if errors.Is(err, io.EOF) {
					err = nil
				}
				echoErr <- err
				return
			}
			if _, err := c.Write(buf); err != nil {
				echoErr <- err
				return
			}
		}
	}()
	c, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		return nil, err
	}
	c.SetDeadline(deadline)
	h := hdrhistogram.New(1, int64(10*time.Second), 3)
	buf := make([]byte, size)
	for i := 0; i < count && ctx.Err() == nil; i++ {
		start := time.Now()
		if _, err := c.Write(buf); err != nil {
			c.Close()
			return nil, err
		}
		if _, err := io.ReadFull(c, buf); err != nil {
			c.Close()
			return nil, err
		}
		h.RecordValue(min(time.Since(start).Nanoseconds(), h.HighestTrackableValue()))
	}
	c.Close()
	if err := <-echoErr; err != nil {
		return h, err
	}
	return h, ctx.Err()
}

// WriteRTT writes rtt.hgrm (milliseconds) and rtt.json into dir.
func WriteRTT(dir, run string, size int, h *hdrhistogram.Histogram) (RTTResult, error) {
	us := func(ns int64) float64 { return float64(ns) / 1e3 }
	res := RTTResult{Run: run, Count: h.TotalCount(), Bytes: size, P50Us: us(h.ValueAtQuantile(50)),
		P99Us: us(h.ValueAtQuantile(99)), P999Us: us(h.ValueAtQuantile(99.9)), MaxUs: us(h.Max())}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return res, err
	}
	err := writeFile(filepath.Join(dir, "rtt.hgrm"), func(f *os.File) error {
		_, err := h.PercentilesPrint(f, 5, 1e6)
		return err
	})
	if err != nil {
		return res, err
	}
	return res, writeFile(filepath.Join(dir, "rtt.json"), func(f *os.File) error {
		enc := json.NewEncoder(f)
		enc.SetIndent("", "  ")
		return enc.Encode(res)
	})
}
