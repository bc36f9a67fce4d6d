# provision — see README.md. Every target works offline on a fresh clone
# with only Go installed.

GO      ?= go
BIN     := bin
PKGS    := ./...

# The Cloud Storage client's documented opt-out of the gRPC modules it
# links for its gRPC API, which provision does not use (it reads and writes
# over JSON): a binary of 35 MB rather than 55, and 9 MiB less resident
# memory in every run (BENCHMARKS.md). Every go command here, and those the
# benchmark runs, builds with it.
export GOFLAGS += -tags=disable_grpc_modules

.PHONY: all build test demo bench chaos fuzz vet clean

all: build

# Builds carry their VCS revision: from the build info where the go command
# stamps it, else (GOFLAGS=-buildvcs=false, an export) from git, here.
REVISION ?= $(shell git rev-parse HEAD 2>/dev/null)$(shell git diff --quiet HEAD 2>/dev/null || echo -modified)
LDFLAGS  := -X main.revision=$(REVISION)

build:
	$(GO) build -ldflags "$(LDFLAGS)" -o $(BIN)/provision ./cmd/provision
	$(GO) build -o $(BIN)/chatemu ./cmd/chatemu

# The whole suite, with the race detector; fuzz seed corpora run as tests.
test:
	$(GO) vet $(PKGS)
	$(GO) test -race -count=1 $(PKGS)

# The real job against the emulator on a free loopback port: no credentials.
demo: build
	./scripts/demo.sh

bench: build
	./scripts/bench.sh

chaos: build
	$(GO) test -race -count=1 -run 'TestChaos' ./cmd/provision -chaos.long

# The differential fuzzers (FuzzParseSplit, FuzzParseStream) and FuzzLoad
# run with the minimizer off: on this code it can spend the whole run on one
# input it found interesting, fuzzing nothing meanwhile. A failing input is
# still saved, unminimized.
FUZZTIME ?= 30s
fuzz:
	$(GO) test -run '^$$' -fuzz '^FuzzParse$$' -fuzztime $(FUZZTIME) ./internal/plan
	$(GO) test -run '^$$' -fuzz '^FuzzParseCSV$$' -fuzztime $(FUZZTIME) ./internal/plan
	$(GO) test -run '^$$' -fuzz '^FuzzParseSplit$$' -fuzztime $(FUZZTIME) -fuzzminimizetime 0 ./internal/plan
	$(GO) test -run '^$$' -fuzz '^FuzzLoad$$' -fuzztime $(FUZZTIME) -fuzzminimizetime 0 ./internal/results
	$(GO) test -run '^$$' -fuzz '^FuzzJournal$$' -fuzztime $(FUZZTIME) ./internal/results
	$(GO) test -run '^$$' -fuzz '^FuzzParseStream$$' -fuzztime $(FUZZTIME) -fuzzminimizetime 0 ./internal/results

vet:
	$(GO) vet $(PKGS)

clean:
	rm -rf $(BIN) .demo
