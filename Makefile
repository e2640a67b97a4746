# spot — make targets. `make test` is what CI runs (through .ci/run).
GO       ?= go
VERSION  ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
COMMIT   ?= $(shell git rev-parse --short HEAD 2>/dev/null)
LDFLAGS  := -s -w -X github.com/spot-hunt/spot/internal/cli.version=$(VERSION) -X github.com/spot-hunt/spot/internal/cli.commit=$(COMMIT)
BIN      := bin/spot
FUZZTIME ?= 30s
export SPOT_CORPUS ?= $(abspath ../shared/corpus)

.PHONY: all build test unit bench bench-live demo docs check-docs fmt vet fuzz eval eval-data mutate chaos clean

all: build

build:
	CGO_ENABLED=0 $(GO) build -trimpath -ldflags '$(LDFLAGS)' -o $(BIN) ./cmd/spot

# The whole suite: formatting, vet, docs up to date, then every test
# (unit, oracle, end-to-end testscript, interop, fuzz seed corpora).
test: fmt-check vet check-docs
	$(GO) test -count=1 -timeout 60m ./...

unit:
	$(GO) test -short ./...

fmt:
	gofmt -w $$(git ls-files '*.go')

fmt-check:
	@out=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi

vet:
	$(GO) vet ./...

docs:
	$(GO) run ./scripts/gendocs

check-docs: docs
	@git diff --exit-code -- man completions || { echo "man/ or completions/ are stale: run 'make docs' and commit"; exit 1; }
	@test -z "$$(git status --porcelain -- man completions)" || { echo "untracked files in man/ or completions/: run 'make docs' and commit"; git status --porcelain -- man completions; exit 1; }

# Process-level benchmarks against peers, run side by side; prints a table.
bench: build
	$(GO) run ./scripts/bench $(BENCHFLAGS)

# Live capture (root): DNS queries flooded at ~110k packets/s over a veth pair
# between network namespaces, captured by spot --interface and tcpdump side by
# side; LIVEFLAGS="RATE SECONDS RUNS".
bench-live:
	scripts/live/bench.sh $(LIVEFLAGS)

# The hunt on the embedded sample: the longest pipeline that exists so far.
demo: build
	@bash scripts/demo.sh $(BIN)

# Detection quality on the labelled corpus: decode -> train -> score, ROC AUC,
# precision@100 and recall@k per dataset and score (scripts/eval).
eval: build eval-data
	$(GO) run ./scripts/eval -spot $(BIN)

# The labelled datasets of testdata/eval (made by scripts/eval/gen; what each
# holds: testdata/eval/README.md). They are committed, so this makes only the
# missing ones: the DNS and flow labs need root and about 35 minutes each, the
# mixes need the corpus ($(SPOT_CORPUS)).
EVAL_MIXES := cc1-gnutella cc2-alexa ssh-alexa malware7-gnutella icmpscan-1kxun synscan-1kxun webrce-alexa cc1-flowslab
EVAL_DATA  := testdata/eval/dns-resolver.pcap.gz testdata/eval/flows-lab.pcap.gz $(EVAL_MIXES:%=testdata/eval/mix-%.pcap.gz)

eval-data: $(EVAL_DATA)

testdata/eval/dns-resolver.pcap.gz:
	bash scripts/eval/gen/dns-resolver.sh testdata/eval

testdata/eval/flows-lab.pcap.gz:
	bash scripts/eval/gen/flows-lab.sh testdata/eval

testdata/eval/mix-%.pcap.gz: | testdata/eval/flows-lab.pcap.gz
	/usr/bin/python3 scripts/eval/gen/mix.py $(SPOT_CORPUS) testdata/eval mix-$*

# Mutation testing (go-gremlins/gremlins) over the packages that decide what
# spot finds, one package and one mutant at a time: prints each survivor and
# a table, fails above 10% survivors. Long (CPU-heavy): not part of test.
# MUTATE_PKGS narrows it, e.g. make mutate MUTATE_PKGS=internal/filter
mutate:
	$(GO) run ./scripts/mutate $(MUTATEFLAGS) $(MUTATE_PKGS)

# The hostile-input campaign (scripts/chaos): mutants through every stage,
# random interrupts, second signals, a full disk, a collector flood; prints
# its counts, fails on any fault. About 5 minutes on 2 cores (2100 runs);
# needs root for the full disk. CHAOSFLAGS="-seed 2" makes other mutants.
chaos: build
	$(GO) run ./scripts/chaos -spot $(BIN) -testdata testdata $(CHAOSFLAGS)

# Run each fuzz target for FUZZTIME.
fuzz:
	@bash scripts/fuzz.sh $(FUZZTIME)

clean:
	rm -rf bin
