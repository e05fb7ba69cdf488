# The two commands that matter: `make dev` (set up and run the system locally)
# and `make test` (set up and run every test). Both install what they need.
SHELL := /bin/bash
GO ?= go
LOCAL := $(CURDIR)/.local
# Build flags for every Lambda bootstrap (one place).
LAMBDA_GOFLAGS := -tags lambda.norpc -trimpath -ldflags="-s -w"
FUNCTIONS := $(notdir $(wildcard functions/*))
# "BookAppointmentFunction" -> "book-appointment" (same rule as infra/samtemplate.FunctionName).
kebab = $(shell echo '$(1)' | sed -E 's/Function$$//; s/([a-z0-9])([A-Z])/\1-\2/g' | tr '[:upper:]' '[:lower:]')

.PHONY: dev test test-short lint tools build bench invoke redrive clean soak

tools: ## install DynamoDB Local, the SQS emulator (npm local-aws-sqs), aws-lambda-rie (and Java/Node if missing) into .local/
	@infra/scripts/install-tools.sh

dev: tools ## build every function and run the local platform on 127.0.0.1:3000
	$(GO) run ./infra/cmd/localdev up

test: tools lint ## lint, then unit, integration (DynamoDB Local) and end-to-end tests
	$(GO) test -count=1 -timeout 30m ./...

test-short: ## unit tests only (no emulators)
	$(GO) test -short ./...

# staticcheck is run from the Go module proxy at a pinned version, so it adds
# nothing to the module's own dependencies.
STATICCHECK ?= $(GO) run honnef.co/go/tools/cmd/staticcheck@v0.8.2

lint: ## gofmt, go vet and staticcheck (default checks; //lint:ignore with a reason for the rare exception)
	@unformatted=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go' -not -path './.local/*')); \
	  if [ -n "$$unformatted" ]; then echo "gofmt would change: $$unformatted"; exit 1; fi
	$(GO) vet ./...
	$(STATICCHECK) ./...

# Every benchmark runs its figure and a same-run baseline A B A B after a warm-up
# (infra/benchab). The raw `go test` output goes to build/bench.txt; stdout gets
# one table (infra/cmd/benchtable). Iterations are A/B pairs, fixed per package.
BENCH_OUT := build/bench.txt
bench_run = $(GO) test -run '^$$' -bench . -count=1 -timeout 15m -benchtime=$(1) $(2) >> $(BENCH_OUT) 2>&1 || st=1;
bench: tools ## benchmarks: one table of every figure with its same-run baseline and the median ratio of A/B pairs (raw output: build/bench.txt)
	@mkdir -p build && : > $(BENCH_OUT); st=0; \
	$(call bench_run,200x,./shared/dynamo ./shared/app) \
	$(call bench_run,30x,./infra/coldstart) \
	$(call bench_run,20x,./infra/localdev) \
	$(call bench_run,1x,./infra/devbench) \
	$(GO) run ./infra/cmd/benchtable < $(BENCH_OUT) || st=1; \
	if [ $$st -ne 0 ]; then echo "make bench: failed, see $(BENCH_OUT)" >&2; fi; exit $$st

invoke: tools ## run one function under the runtime emulator: make invoke FN=health EVENT=testdata/events/health.json
	$(GO) run ./infra/cmd/localdev invoke -fn $(FN) -event $(EVENT)

SOAK_DURATION ?= 10m
soak: tools ## bounded soak of the local platform (mixed load, then errors, DLQ depths, memory); not part of `make test`: make soak SOAK_DURATION=3m
	$(GO) run ./infra/cmd/soak -duration $(SOAK_DURATION)

redrive: ## move a queue's DLQ messages back to it (local platform running): make redrive QUEUE=NotificationsQueue
	$(GO) run ./infra/cmd/redrive -queue $(QUEUE)

build: ## build every function for the host into build/<name>/bootstrap
	@for f in $(FUNCTIONS); do \
	  CGO_ENABLED=0 $(GO) build $(LAMBDA_GOFLAGS) -o build/$$f/bootstrap ./functions/$$f || exit 1; \
	done

# AWS SAM's makefile build method runs `make build-<LogicalId>` with ARTIFACTS_DIR set.
# collector.yaml configures the ADOT collector layer (/var/task/collector.yaml, TracingEnabled).
build-%:
	GOOS=linux GOARCH=arm64 CGO_ENABLED=0 $(GO) build $(LAMBDA_GOFLAGS) -o $(ARTIFACTS_DIR)/bootstrap ./functions/$(call kebab,$*)
	cp infra/adot/collector.yaml $(ARTIFACTS_DIR)/collector.yaml

clean:
	rm -rf build .aws-sam
