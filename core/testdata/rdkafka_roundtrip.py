#!/usr/bin/python3
"""Round trips through librdkafka, via Debian's python3-confluent-kafka.

Driven by core/rdkafka_test.go against a running Sluice broker; the topic
already exists with --partitions partitions and no records.

  roundtrip  produce --count keyed records with headers, flush, then consume
             every partition from the beginning and check each record came
             back exactly once, in per-partition produce order, unchanged.
  restart    produce --count records and flush, print "PAUSED" and wait for
             a line on stdin (the test restarts the broker meanwhile), then
             produce --count more with the same producer instance, flush,
             and check all of them as above.

The last stdout line is one JSON object: counts, "problems" (a failed
check each; empty means pass) and "errors" (everything librdkafka reported
through error_cb, kept for the test log). librdkafka's own log lines go to
stderr; SLUICE_RDKAFKA_DEBUG=1 adds its protocol,msg,eos debug logs.

Every wait is bounded: delivery by message.timeout.ms, flush and consume by
--deadline seconds, so a stuck broker gives a report, not a hang.
"""

import argparse
import functools
import json
import os
import random
import sys
import time

from confluent_kafka import (
    OFFSET_BEGINNING,
    Consumer,
    KafkaError,
    Producer,
    TopicPartition,
)

# Bounds the lists in the report so a broken broker cannot flood the log.
MAX_REPORTED = 20


class Report:
    def __init__(self):
        self.problems = []
        self.errors = []

    def problem(self, msg):
        if len(self.problems) < MAX_REPORTED:
            self.problems.append(msg)
        elif len(self.problems) == MAX_REPORTED:
            self.problems.append("... more problems not listed")

    def on_error(self, err):
        # Runs from poll/flush. Transport errors are expected around a
        # restart; a fatal error never is.
        line = "%s: %s%s" % (err.name(), err.str(), " (FATAL)" if err.fatal() else "")
        print("error_cb: " + line, file=sys.stderr, flush=True)
        if len(self.errors) < 4 * MAX_REPORTED:
            self.errors.append(line)
        if err.fatal():
            self.problem("fatal librdkafka error: " + line)


def base_config(args, report):
    conf = {
        "bootstrap.servers": args.bootstrap,
        "error_cb": report.on_error,
        # The broker is down for milliseconds during a restart; do not let
        # the exponential backoff grow past a second.
        "reconnect.backoff.max.ms": 1000,
    }
    if os.environ.get("SLUICE_RDKAFKA_DEBUG"):
        conf["debug"] = "protocol,msg,eos"
    return conf


def make_record(rng, phase, i):
    """Returns (key, value, headers); values compress well but not fully."""
    key = b"key-%d" % rng.randrange(53)
    value = b"%s-%d:" % (phase.encode(), i)
    value += bytes(rng.randrange(256) for _ in range(rng.randrange(48)))
    value += b"sluice-" * rng.randrange(60)
    headers = [
        ("seq", b"%d" % i),
        ("phase", phase.encode()),
        ("dup", b"first"),
        ("dup", b"second"),
        ("empty", b""),
        # No None-valued header: python3-confluent-kafka 1.7 (Debian 12)
        # under-counts None in Message.headers() and the interpreter aborts
        # on exit (confluent-kafka-python#1191, fixed in 1.8.2).
    ]
    return key, value, headers


class Produced:
    """What the producer sent, and where delivery reports put it."""

    def __init__(self, report):
        self.report = report
        self.records = []  # (key, value, headers) by produce index
        self.placed = {}  # produce index -> (partition, offset)
        self.delivery_errors = 0

    def on_delivery(self, index, err, msg):
        if err is not None:
            self.delivery_errors += 1
            self.report.problem("delivery of record %d failed: %s" % (index, err))
            return
        if index in self.placed:
            self.report.problem("record %d: second delivery report" % index)
        self.placed[index] = (msg.partition(), msg.offset())

    def produce(self, producer, args, rng, phase, count):
        for _ in range(count):
            index = len(self.records)
            key, value, headers = make_record(rng, phase, index)
            self.records.append((key, value, headers))
            cb = functools.partial(self.on_delivery, index)
            while True:
                try:
                    producer.produce(args.topic, value=value, key=key, headers=headers, on_delivery=cb)
                    break
                except BufferError:
                    # The local queue is full (queue.buffering.max.messages);
                    # serving delivery reports drains it.
                    producer.poll(0.05)
            producer.poll(0)
        left = producer.flush(args.deadline)
        if left:
            self.report.problem("%s: %d records still queued after flush(%ss)" % (phase, left, args.deadline))

    def by_partition(self):
        """Partition -> [(offset, index)] in produce order."""
        out = {}
        for index in range(len(self.records)):
            if index in self.placed:
                p, off = self.placed[index]
                out.setdefault(p, []).append((off, index))
        return out


def normalize_headers(headers):
    # confluent_kafka gives names back as str and values as bytes, the
    # shapes produce was given; no headers at all is None.
    return [(k, v) for k, v in (headers or [])]


def consume_all(args, report, produced):
    """Consumes every partition from the start until EOF and checks it."""
    conf = base_config(args, report)
    conf.update({
        # Consumer insists on a group.id; no group is joined (assign only)
        # and nothing is committed.
        "group.id": "sluice-rdkafka-test",
        "enable.auto.commit": False,
        "enable.auto.offset.store": False,
        "enable.partition.eof": True,
        # Reach the end of each partition sooner than the 500 ms default.
        "fetch.wait.max.ms": 100,
    })
    c = Consumer(conf)
    try:
        c.assign([TopicPartition(args.topic, p, OFFSET_BEGINNING) for p in range(args.partitions)])
        got = {p: [] for p in range(args.partitions)}
        eof = set()
        deadline = time.monotonic() + args.deadline
        while len(eof) < args.partitions and time.monotonic() < deadline:
            for msg in c.consume(500, 0.5):
                err = msg.error()
                if err is not None:
                    if err.code() == KafkaError._PARTITION_EOF:
                        eof.add(msg.partition())
                    else:
                        report.problem("consume error: %s" % err)
                    continue
                got[msg.partition()].append(msg)
        if len(eof) < args.partitions:
            report.problem("no end of partition after %ss for partitions %s" % (
                args.deadline, sorted(set(range(args.partitions)) - eof)))
        watermarks = {}
        for p in range(args.partitions):
            low, high = c.get_watermark_offsets(TopicPartition(args.topic, p), timeout=5)
            watermarks[p] = (low, high)
    finally:
        c.close()

    want = produced.by_partition()
    consumed = 0
    for p in range(args.partitions):
        msgs, exp = got[p], want.get(p, [])
        consumed += len(msgs)
        offsets = [off for off, _ in exp]
        if offsets != sorted(offsets) or len(set(offsets)) != len(offsets):
            report.problem("partition %d: delivery offsets not increasing in produce order: %s" % (p, offsets[:10]))
        if len(msgs) != len(exp):
            report.problem("partition %d: consumed %d records, delivered %d" % (p, len(msgs), len(exp)))
        if watermarks[p] != (0, len(exp)):
            report.problem("partition %d: watermarks %s, want (0, %d)" % (p, watermarks[p], len(exp)))
        for n, (msg, (off, index)) in enumerate(zip(msgs, exp)):
            key, value, headers = produced.records[index]
            if msg.offset() != off:
                report.problem("partition %d: record %d at offset %d, delivery report said %d (seq header %s)" % (
                    p, n, msg.offset(), off, dict(normalize_headers(msg.headers())).get("seq")))
                break
            if msg.key() != key or msg.value() != value:
                report.problem("partition %d offset %d: key/value differ: got %r/%r want %r/%r" % (
                    p, off, msg.key(), msg.value()[:40], key, value[:40]))
            if normalize_headers(msg.headers()) != headers:
                report.problem("partition %d offset %d: headers %r, want %r" % (p, off, msg.headers(), headers))
    return consumed


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("scenario", choices=["roundtrip", "restart"])
    ap.add_argument("--bootstrap", required=True)
    ap.add_argument("--topic", required=True)
    ap.add_argument("--partitions", type=int, required=True)
    ap.add_argument("--count", type=int, default=3000, help="records per produce phase")
    ap.add_argument("--compression", default="lz4")
    ap.add_argument("--idempotence", choices=["true", "false"], default="true")
    ap.add_argument("--deadline", type=float, default=10.0, help="seconds for each flush and for consuming")
    args = ap.parse_args()

    report = Report()
    conf = base_config(args, report)
    conf.update({
        "enable.idempotence": args.idempotence == "true",
        "acks": "all",
        "compression.type": args.compression,
        "linger.ms": 5,
        # A delivery that cannot succeed fails within the flush deadline.
        "message.timeout.ms": int(args.deadline * 1000 * 0.8),
    })
    producer = Producer(conf)
    produced = Produced(report)
    rng = random.Random(args.topic)

    produced.produce(producer, args, rng, "first", args.count)
    if args.scenario == "restart":
        print("PAUSED", flush=True)
        if not sys.stdin.readline():
            report.problem("stdin closed before the broker restarted")
        produced.produce(producer, args, rng, "second", args.count)
    producer.poll(0)  # serve any error_cb from the flush
    consumed = consume_all(args, report, produced) if not report.problems else 0

    print(json.dumps({
        "produced": len(produced.records),
        "delivered": len(produced.placed),
        "delivery_errors": produced.delivery_errors,
        "consumed": consumed,
        "problems": report.problems,
        "errors": report.errors,
    }), flush=True)


if __name__ == "__main__":
    main()
