# The README's two commands are `make run` and `make test`; everything a
# fresh Debian machine needs for them is installed from here.
GO        ?= go
BENCH_DIR ?= $(CURDIR)/.bench

.PHONY: test deps vet bench fuzz

test: deps vet
	$(GO) test -race -timeout 9m ./...

deps:
	$(GO) mod download

vet:
	$(GO) vet ./...

# Hot-path benchmarks plus the disk's own fio figures measured in the same
# run; see BENCHMARKS.md for how to read them.
bench: deps
	@command -v fio >/dev/null || (apt-get update -qq && apt-get install -y -qq fio >/dev/null)
	BENCH_DIR=$(BENCH_DIR) ./tools/bench/disk.sh

# Each fuzz target for FUZZTIME (default 30s).
FUZZTIME ?= 30s
fuzz:
	$(GO) test ./disk/batch -run '^$$' -fuzz FuzzValidate -fuzztime $(FUZZTIME)
