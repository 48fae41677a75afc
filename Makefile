# The README's two commands are `make run` and `make test`; everything a
# fresh Debian machine needs for them is installed from here.
GO        ?= go
BENCH_DIR ?= $(CURDIR)/.bench

.PHONY: run test deps vet bench fuzz

# A single-node broker on 127.0.0.1:9092 with its data in ./data.
run:
	$(GO) run ./cmd/sluice serve --listen 127.0.0.1:9092 --data-dir ./data

test: deps vet
	$(GO) test -race -timeout 9m ./...

# Go modules, and the Kafka clients the compatibility tests drive.
deps:
	$(GO) mod download
	@command -v kcat >/dev/null || (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq kcat >/dev/null)
	@/usr/bin/python3 -c 'import confluent_kafka' 2>/dev/null || (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3-confluent-kafka >/dev/null)

vet:
	$(GO) vet ./...

# Hot-path benchmarks plus the disk's own fio figures measured in the same
# run, then the broker's on epoll and on the std-net baseline, then the load
# generator's suite against Sluice and kfake (which rewrites BENCHMARKS.md's
# generated tables and bench/results/*.svg); see BENCHMARKS.md for how to
# read them.
bench: deps
	@command -v fio >/dev/null || (apt-get update -qq && apt-get install -y -qq fio >/dev/null)
	BENCH_DIR=$(BENCH_DIR) ./tools/bench/disk.sh
	BENCH_DIR=$(BENCH_DIR) ./tools/bench/broker.sh
	BENCH_DIR=$(BENCH_DIR) ./tools/bench/groups.sh
	BENCH_DIR=$(BENCH_DIR) UPDATE_DOC=1 ./tools/bench/suite.sh

# Each fuzz target for FUZZTIME (default 30s).
FUZZTIME ?= 30s
fuzz:
	$(GO) test ./disk/batch -run '^$$' -fuzz FuzzValidate -fuzztime $(FUZZTIME)
	$(GO) test ./disk -run '^$$' -fuzz FuzzRecovery -fuzztime $(FUZZTIME)
	$(GO) test ./netio -run '^$$' -fuzz FuzzSplitFrame -fuzztime $(FUZZTIME)
	$(GO) test ./core -run '^$$' -fuzz FuzzDecode -fuzztime $(FUZZTIME)
	$(GO) test ./core -run '^$$' -fuzz FuzzDispatch -fuzztime $(FUZZTIME)

# A fault-injection campaign against one broker (kill -9, SIGSTOP/SIGCONT)
# for TORTURE_TIME (default 10m, at most 24h); TORTURE_SEED replays a
# schedule. See tools/torture; `make test` runs a 20s one.
TORTURE_TIME ?= 10m
.PHONY: torture
torture:
	$(GO) run ./tools/torture/cmd/torture -time $(TORTURE_TIME) $(if $(TORTURE_SEED),-seed $(TORTURE_SEED))
