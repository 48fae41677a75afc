#!/usr/bin/python3
"""A librdkafka group consumer, via Debian's python3-confluent-kafka.

Driven by core/rdkafka_test.go against a running Sluice broker: it joins
--group (as the static member --instance, if given), consumes exactly
--count records of --topic from the group's committed offsets (the start
of each partition when there are none), commits them synchronously and
closes (a static member's close does not leave the group).

The last stdout line is one JSON object: "records" ([partition, offset,
value] in consumption order), "problems" (a failed check each; empty
means pass) and "errors" (what librdkafka reported through error_cb).
librdkafka's log lines go to stderr; SLUICE_RDKAFKA_DEBUG=1 adds its
cgrp,protocol debug logs. Every wait is bounded by --deadline seconds.
"""

import argparse
import json
import os
import sys
import time

from confluent_kafka import Consumer, KafkaException

MAX_REPORTED = 20


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bootstrap", required=True)
    ap.add_argument("--topic", required=True)
    ap.add_argument("--group", required=True)
    ap.add_argument("--count", type=int, required=True)
    ap.add_argument("--instance", default=None, help="group.instance.id (static membership)")
    ap.add_argument("--session-timeout-ms", type=int, default=6000)
    ap.add_argument("--deadline", type=float, default=20.0)
    args = ap.parse_args()

    problems, errors = [], []

    def problem(msg):
        if len(problems) < MAX_REPORTED:
            problems.append(msg)

    def on_error(err):
        line = "%s: %s%s" % (err.name(), err.str(), " (FATAL)" if err.fatal() else "")
        print("error_cb: " + line, file=sys.stderr, flush=True)
        if len(errors) < 4 * MAX_REPORTED:
            errors.append(line)
        if err.fatal():
            problem("fatal librdkafka error: " + line)

    conf = {
        "bootstrap.servers": args.bootstrap,
        "group.id": args.group,
        "error_cb": on_error,
        "auto.offset.reset": "earliest",
        "enable.auto.commit": False,
        "session.timeout.ms": args.session_timeout_ms,
        "heartbeat.interval.ms": 200,
        "fetch.wait.max.ms": 100,
    }
    if args.instance:
        conf["group.instance.id"] = args.instance
    if os.environ.get("SLUICE_RDKAFKA_DEBUG"):
        conf["debug"] = "cgrp,protocol"

    c = Consumer(conf)
    records = []
    try:
        c.subscribe([args.topic])
        deadline = time.monotonic() + args.deadline
        while len(records) < args.count and time.monotonic() < deadline:
            msg = c.poll(0.2)
            if msg is None:
                continue
            if msg.error() is not None:
                problem("consume error: %s" % msg.error())
                continue
            records.append([msg.partition(), msg.offset(), msg.value().decode()])
        if len(records) < args.count:
            problem("consumed %d records of %d in %ss" % (len(records), args.count, args.deadline))
        elif args.count > 0:
            try:
                c.commit(asynchronous=False)
            except KafkaException as e:
                problem("commit: %s" % e)
    finally:
        c.close()

    print(json.dumps({"records": records, "problems": problems, "errors": errors}), flush=True)


if __name__ == "__main__":
    main()
