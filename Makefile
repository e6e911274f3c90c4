# chaosdrill: see README.md. `make demo` runs the east-region-outage scenario on
# the embedded simulator and writes its report; `make test` runs every test.
GO        ?= go
BIN       := bin/chaosdrill
SCENARIO  ?= scenarios/east-region-outage.yaml
SEED      ?= 1
PKGS      := ./...

.PHONY: all build demo test vet bench pgo live cleanup clean standins

all: build

build:
	$(GO) build -o $(BIN) ./cmd/chaosdrill

# The main job: one scenario on the simulator, with its report in out/.
# Exit code 1 would mean an expectation failed; the demo's expectations hold.
demo: build
	./$(BIN) run $(SCENARIO) --seed $(SEED)

vet:
	$(GO) vet $(PKGS)

# Every test; the `live` suite (real MongoDB/Elasticsearch/LocalStack images)
# runs only with `make live`, and otherwise skips itself saying why.
test: vet
	TESTCONTAINERS_RYUK_DISABLED=true $(GO) test -count=1 -timeout 20m $(PKGS)

# Throughput of whole scenarios, the simulator and the report builder;
# compare runs with benchstat (go run golang.org/x/perf/cmd/benchstat old.txt new.txt).
bench:
	$(GO) test -run '^$$' -bench . -benchmem -count 6 ./runner/ ./simulator/ ./reports/ | tee bench.txt

# Profile-guided optimisation: cmd/chaosdrill/default.pgo is a CPU profile
# of whole scenarios on the simulator (BenchmarkScenario); go build and go
# test use it (-pgo=auto), and a sweep runs about 14% faster for it
# (benchstat, BenchmarkScenario/east-region-outage, n=8). Regenerate it
# after large changes to the simulator's or the ledger's hot paths.
pgo:
	$(GO) test -run '^$$' -bench BenchmarkScenario -benchtime 6x -cpuprofile cmd/chaosdrill/default.pgo ./runner/
	rm -f runner.test

# The live suite, on a machine with the real images (docker pull them first;
# see .github/workflows/live.yml). Each scenario takes its duration in wall time.
live:
	TESTCONTAINERS_RYUK_DISABLED=true $(GO) test -count=1 -timeout 6h -v ./platform/containers/ -args -ginkgo.label-filter=live -ginkgo.v -ginkgo.no-color

# Stand-in images built from this module's own source, with no pull:
# chaosdrill/standin-s3:dev serves the S3 API (gofakes3) on LocalStack's port
# and health endpoint, for
#   bin/chaosdrill run scenarios/artifacts-region-outage.yaml --platform containers --image s3=chaosdrill/standin-s3:dev
standins:
	$(GO) run ./platform/containers/docker/buildstandins

cleanup: build
	./$(BIN) cleanup

clean:
	rm -rf bin out bench.txt
