package bench

import (
	"context"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
)

// BenchmarkProducerSend is the load generator's own cost per record,
// client excluded: building the value from the pool, numbering it and, in
// the callback, timing it into the histogram. The pacer sends every
// record of a fixed-rate run on one thread, so this bounds the rate it
// can pace (with franz-go's Produce on top).
func BenchmarkProducerSend(b *testing.B) {
	w := DefaultWorkload()
	clk := &fakeClock{}
	p := &producer{
		topic: "t", clock: clk, ctx: context.Background(), shape: newRecordShape(&w, 0, nil),
		payload: makePayload(&w), log: newSentLog(w.PartitionsPerTopic), lat: newSeries(1, 0, time.Minute), errs: &samples{},
		produce: func(_ context.Context, r *kgo.Record, promise func(*kgo.Record, error)) { promise(r, nil) },
	}
	b.SetBytes(int64(w.MessageSize))
	b.ReportAllocs()
	for b.Loop() {
		clk.advance(time.Microsecond)
		p.send(clk.now())
	}
}
