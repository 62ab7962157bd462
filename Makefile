# Ride choreography on Dapr. `make help` lists the targets.
#
# Every Go module is its own module (go.work ties them together), and
# `go test ./...` at the root does not reach into modules, so the targets
# loop over them.

SHELL := bash
.SHELLFLAGS := -euo pipefail -c
.DEFAULT_GOAL := help

# Go 1.27.3 for everything: Go 1.26.8's standard library has known
# vulnerabilities that every module reaches, and 1.27.3 is the one newer Go
# the Go module proxy serves (README, "Supply chain"). The go command takes
# it from the proxy once (about 76 MB, seconds) and runs it. Every go.mod
# says `toolchain go1.27.3`, but a Go whose environment says
# GOTOOLCHAIN=local (Debian's, this machine's) ignores that line, so the
# targets and the scripts export it.
export GOTOOLCHAIN := go1.27.3

SERVICES    := trip driver notification dispatch
# The services the dispatch service was added beside without changing a
# line of them (README, "Adding a service"): make lint keeps any mention of
# it out of them, and out of the event contracts.
UNAWARE_OF_DISPATCH := services/trip services/driver services/notification contracts/schemas contracts/asyncapi.yaml
# The modules make unit tests: the services, the backlog exporter
# (backlog/), which reads the broker from outside the services, and
# make trace's waterfall printer (trace/), and the development issuer of
# riders' tokens (devissuer/).
# The coordinators of the other styles (README, "Three styles"): they serve
# the trip service's Trip API and call the others' steps.
COORDINATORS := orchestrator workflow
SERVICE_MODULES := $(addprefix services/,$(SERVICES) $(COORDINATORS)) backlog trace devissuer
MODULES     := $(SERVICE_MODULES) test
# Modules outside go.work, built and tested with GOWORK=off: the checks of
# the deployment files, whose dependencies (BuildKit, HCL) stay away from
# the services.
DEPLOY_MODULES := deploy/images deploy/terraform
# staticcheck 2026.2 (v0.8.x) understands Go 1.26 and 1.27.
STATICCHECK := honnef.co/go/tools/cmd/staticcheck@v0.8.2
# The modules the vulnerability check reads in source mode (make vuln): every
# module the services' code and the end-to-end suite build from; the Dapr
# binaries it reads in binary mode are in scripts/govulncheck.sh.
VULN_MODULES := $(MODULES)
# Tool modules of our own code, linted like the deployment checks (GOWORK=off).
TOOL_MODULES := tools/vulncheck
# How long each fuzz target runs in make test / make fuzz.
FUZZTIME    ?= 10s
# Extra flags for the end-to-end run, e.g. make e2e E2E_FLAGS='-v -run TestIdempotency'
E2E_FLAGS   ?=
# The brokers for make test-brokers, comma-separated (default: all of them):
# redis, rabbitmq, rabbitmq-defaults, nats, kafka, mqtt, inmemory
BROKERS     ?=
# The pub/sub broker for make run: redis (default), rabbitmq, kafka, nats, mqtt, servicebus
BROKER      ?= redis
# Who coordinates a trip under make run, and in the systems of make e2e:
# choreography (default), orchestration or workflow
STYLE       ?= choreography
# The end-to-end tests that make e2e STYLE=<style> runs against another
# style: those that judge a trip by the public interface alone. Left out,
# everywhere: the tests of the choreography's own machinery (the broker's
# backlog, dead letters, duplicated and redelivered events, the trace of
# events, the metrics of event handlers, a publish cut off at shutdown),
# and the tests that read files or start every style themselves, which
# make e2e runs. Left out per style, what the style loses (README, "Three
# styles"): the naive orchestrator gives a step up after STEP_ATTEMPTS
# tries, so it loses trips when the driver service, the notification
# service, Redis or its own sidecar is down for longer, or every driver is
# busy (TestDriverDown30sWhileTripsAreOrdered asserts that loss); the
# workflow loses trips when Redis, its actor state store, restarts (a known
# limit of Dapr Workflow 1.17, TestBrokerRestartLosesNothing).
STYLE_SUITE := TestOrderedTripGetsJardaAndTheRiderIsTold|TestIdempotencyKeyMakesARetryTheSameTrip|TestUnknownTripIsAProblem|TestBadOrdersPublishNothing|TestOnlyTheRightAppPublishesEachTopic|TestBenchSmoke|TestOrderFarFromEveryDriverEndsAtOnceWithNoDriverNear|TestRidersAreAuthenticated|TestDevelopmentIssuerTokenOrdersATrip|TestOrdersPerRiderAreRateLimited|TestEveryServiceAnswersAsDocumented
STYLE_SUITE_orchestration := $(STYLE_SUITE)
STYLE_SUITE_workflow := $(STYLE_SUITE)|TestConsumerDownLosesNothing|TestNotificationKilledMidStreamNotifiesOnce|TestTripSidecarRestartKeepsEveryAcceptedOrder|TestNeverDoubleBooked
ifneq ($(STYLE),choreography)
E2E_RUN := -run '^($(STYLE_SUITE_$(STYLE)))$$'
endif
# make chaos: how long trips are ordered while faults are injected, the
# seed of the fault schedule (empty: a new one, printed, to replay a run
# with), trips ordered per second, and the fault kinds to draw from (all,
# covered: those README "Guarantees" claims, or a comma-separated list).
CHAOS_TIME  ?= 10m
CHAOS_SEED  ?=
CHAOS_RATE  ?= 10
CHAOS_FAULTS ?= all
# the services whose processes the faults hit (empty: all four), e.g.
# notification, and the drivers in the pool (fewer keep trips waiting)
CHAOS_TARGETS ?=
CHAOS_POOL  ?= 500
# The trip whose trace make trace prints, and the Jaeger query API it reads
TRIP        ?=
JAEGER_QUERY ?= http://127.0.0.1:16686

.PHONY: help run trace test test-brokers test-styles dispatch-screenshot bench chaos validate-deploy unit fuzz e2e lint vuln schemas build tidy daprd dapr-cli jaeger chromium redis clean

help: ## List the targets
	@awk 'BEGIN {FS = ":.*## "} /^[a-zA-Z0-9_-]+:.*## / {printf "  make %-9s %s\n", $$1, $$2}' $(MAKEFILE_LIST)

run: ## Run the four services (trip, driver, notification; dispatch in the choreography) with their Dapr sidecars, Jaeger (traces, :16686) and the backlog exporter on :9099 (Redis only), until Ctrl-C; BROKER=rabbitmq|kafka|nats|mqtt|servicebus (default redis); STYLE=orchestration|workflow puts the orchestrator or the Dapr Workflow app in the trip service's place
	@BROKER=$(BROKER) STYLE=$(STYLE) scripts/run.sh

trace: ## Print one trip's trace as a waterfall, from the Jaeger that make run started: make trace TRIP=<tripId>
	@if [[ -z "$(TRIP)" ]]; then echo "usage: make trace TRIP=<tripId>, the id POST /trips answered (JAEGER_QUERY=$(JAEGER_QUERY))"; exit 2; fi
	@cd trace && go run . -trip "$(TRIP)" -query "$(JAEGER_QUERY)"

test: unit fuzz e2e ## Unit tests of every module, a short fuzz run, then the end-to-end suite

unit: ## Unit tests of each service module and the backlog exporter, in the workspace and alone (GOWORK=off, as container builds); installs redis-server, which the exporter's tests start
	@scripts/redis.sh --installed
	@for m in $(SERVICE_MODULES); do \
		echo "== $$m"; \
		(cd $$m && go test ./... && echo "-- $$m with GOWORK=off" && GOWORK=off go test ./...); \
	done

fuzz: ## Run every fuzz target for FUZZTIME (default 10s); crashers land in testdata/fuzz
	@FUZZTIME=$(FUZZTIME) scripts/fuzz.sh

e2e: ## End-to-end suite: real Redis, daprd sidecars, Jaeger, Dapr's placement and scheduler, service binaries and headless Chromium (installs redis-server and chromium, finds or builds daprd 1.17.5, Jaeger 1.76.0, placement and scheduler 1.17.5); STYLE=orchestration|workflow runs the same scenarios against that style
	@scripts/redis.sh --installed
	@echo "== test (end to end, $(STYLE))"
	@chromium=$$(scripts/chromium.sh); daprd=$$(scripts/daprd.sh); jaeger=$$(scripts/jaeger.sh); controlplane=$$(scripts/dapr-control-plane.sh); \
		cd test && CHROMIUM="$$chromium" DAPRD="$$daprd" JAEGER="$$jaeger" DAPR_CONTROL_PLANE="$$controlplane" E2E_STYLE="$(STYLE)" go test -count=1 -timeout 15m $(E2E_RUN) $(E2E_FLAGS)

test-brokers: ## The end-to-end scenarios against every broker that runs here, and the README's broker table from what they measure; BROKERS=nats,kafka for some
	@scripts/brokers.sh
	@echo "== test (broker matrix)"
	@daprd=$$(scripts/daprd.sh); \
		cd test && DAPRD="$$daprd" BROKERS="$(BROKERS)" BROKER_TABLE="$(CURDIR)/README.md" \
		go test -tags brokers -count=1 -timeout 25m -run '^TestBrokers$$' $(E2E_FLAGS)

test-styles: ## The design's named problems as scenarios in each style (choreography, orchestration, workflow), and the README's style table from what they measure
	@scripts/redis.sh --installed
	@echo "== test (style scenarios)"
	@daprd=$$(scripts/daprd.sh); jaeger=$$(scripts/jaeger.sh); controlplane=$$(scripts/dapr-control-plane.sh); \
		cd test && DAPRD="$$daprd" JAEGER="$$jaeger" DAPR_CONTROL_PLANE="$$controlplane" STYLE_TABLE="$(CURDIR)/README.md" \
		go test -count=1 -timeout 20m -run '^(TestCoordinatorKilledWithTripsInFlight|TestDriverDown30sWhileTripsAreOrdered|TestEveryStyleTakesARetriedOrderOnce|TestTwoCoordinatorReplicas|TestAddingAStep)$$' $(E2E_FLAGS)

dispatch-screenshot: ## Drive the dispatchers' page in Chromium against the real system (TestDispatchPageInABrowser) and save its picture for the README: docs/dispatch/board.png
	@scripts/redis.sh --installed
	@chromium=$$(scripts/chromium.sh); daprd=$$(scripts/daprd.sh); jaeger=$$(scripts/jaeger.sh); controlplane=$$(scripts/dapr-control-plane.sh); \
		cd test && CHROMIUM="$$chromium" DAPRD="$$daprd" JAEGER="$$jaeger" DAPR_CONTROL_PLANE="$$controlplane" \
		DISPATCH_SCREENSHOT="$(CURDIR)/docs/dispatch/board.png" go test -count=1 -timeout 5m -run '^TestDispatchPageInABrowser$$' -v . | grep -E '^(---|ok|FAIL)|figures'

bench: ## Load the real system rate after rate and print trips/s, latency and CPU per trip; writes docs/bench/bench.{json,svg}. BENCH_RATES=50,100 BENCH_STEP=60s BENCH_POOL=10000 BENCH_STYLE=workflow ...
	@scripts/redis.sh --installed
	@echo "== bench"
	@daprd=$$(scripts/daprd.sh); jaeger=$$(scripts/jaeger.sh); controlplane=$$(scripts/dapr-control-plane.sh); \
		cd test && DAPRD="$$daprd" JAEGER="$$jaeger" DAPR_CONTROL_PLANE="$$controlplane" go test -tags bench -count=1 -timeout 90m -run '^TestBench$$' $(E2E_FLAGS)

# go test's -timeout is CHAOS_TIME with 30 minutes more for the start, the
# settling and the judging (Go reads "10m30m" as 40m).
chaos: ## Chaos soak (docs/chaos.md): trips ordered for CHAOS_TIME (10m) at CHAOS_RATE (10) trips/s while seeded faults (CHAOS_SEED= replays a run; CHAOS_FAULTS=all|covered|kind,...) kill, stop, pause and starve services, sidecars and Redis; then every trip judged: lost and duplicated must be 0
	@scripts/redis.sh --installed
	@echo "== chaos soak ($(CHAOS_TIME) at $(CHAOS_RATE) trips/s, faults: $(CHAOS_FAULTS))"
	@daprd=$$(scripts/daprd.sh); \
		cd test && DAPRD="$$daprd" CHAOS_TIME="$(CHAOS_TIME)" CHAOS_SEED="$(CHAOS_SEED)" CHAOS_RATE="$(CHAOS_RATE)" CHAOS_FAULTS="$(CHAOS_FAULTS)" CHAOS_TARGETS="$(CHAOS_TARGETS)" CHAOS_POOL="$(CHAOS_POOL)" \
		go test -tags chaos -count=1 -timeout $(CHAOS_TIME)30m -run '^TestChaos(ScheduleIsSeeded|GracefulSidecarStopAcknowledgesUndelivered)?$$' $(E2E_FLAGS)

validate-deploy: ## Check the deployment files offline: Dockerfiles (BuildKit's linter), docker-compose.yml (Compose CLI 5.6.0), deploy/terraform (OpenTofu 1.12.6 with the azurerm schema, and its Go test)
	@echo "== Dockerfiles"
	@scripts/validate-images.sh
	@echo "== docker-compose.yml"
	@scripts/validate-compose.sh
	@echo "== deploy/terraform"
	@scripts/validate-terraform.sh

lint: ## gofmt, go vet and staticcheck in every module; each service's embedded schemas are contracts/schemas; trip, driver, notification and the contracts never mention dispatch; then make vuln
	@if grep -rnIi dispatch $(UNAWARE_OF_DISPATCH); then \
		echo "the lines above mention dispatch: trip, driver, notification and the event contracts must not know the dispatch service (README, \"Adding a service\")"; exit 1; fi
	@for s in $(SERVICES) $(COORDINATORS); do \
		diff -r contracts/schemas services/$$s/internal/dapr/schemas >/dev/null || { \
			echo "services/$$s/internal/dapr/schemas differs from contracts/schemas; run make schemas:"; \
			diff -r contracts/schemas services/$$s/internal/dapr/schemas; exit 1; }; \
	done
	@unformatted=$$(gofmt -l $(MODULES) $(DEPLOY_MODULES) $(TOOL_MODULES)); \
	if [[ -n "$$unformatted" ]]; then echo "gofmt would change:"; echo "$$unformatted"; exit 1; fi
	@for m in $(MODULES); do \
		echo "== $$m"; \
		(cd $$m && go vet -tags brokers,bench,chaos ./... && go run $(STATICCHECK) -tags brokers,bench,chaos ./...); \
	done
	@for m in $(DEPLOY_MODULES) $(TOOL_MODULES); do \
		echo "== $$m (GOWORK=off)"; \
		(cd $$m && GOWORK=off go vet ./... && GOWORK=off go run $(STATICCHECK) ./...); \
	done
	@echo "== vulnerabilities (make vuln)"
	@scripts/govulncheck.sh $(VULN_MODULES)

vuln: ## govulncheck v1.9.0 over every module (source) and daprd, placement and scheduler (binary), with a local database from golang.org/x/vulndb; fails on anything reached that tools/vulncheck/allowlist does not name (README, "Supply chain")
	@scripts/govulncheck.sh $(VULN_MODULES)

schemas: ## Copy contracts/schemas into each service's embedded copy (internal/dapr/schemas), after a contract changes
	@for s in $(SERVICES) $(COORDINATORS); do \
		rm -rf services/$$s/internal/dapr/schemas && mkdir -p services/$$s/internal/dapr/schemas && \
		cp contracts/schemas/*.json services/$$s/internal/dapr/schemas/ && echo "copied to services/$$s/internal/dapr/schemas"; \
	done

build: ## Build the service binaries into .bin/ (GOWORK=off, as container builds do)
	@mkdir -p .bin
	@for s in $(SERVICES) $(COORDINATORS); do \
		(cd services/$$s && GOWORK=off go build -o ../../.bin/$$s .); \
		echo "built .bin/$$s"; \
	done

tidy: ## go mod tidy in every module (tools/ modules are pinned and tidied by hand)
	@for m in $(MODULES); do echo "== $$m"; (cd $$m && GOWORK=off go mod tidy); done

daprd: ## Print the path of daprd 1.17 (installed, or built from the Go module proxy once and cached)
	@scripts/daprd.sh

jaeger: ## Print the path of Jaeger 1.76.0 (built from the Go module proxy once and cached)
	@scripts/jaeger.sh

chromium: ## Print the path of a headless Chromium for the browser tests (Debian's chromium; installs it when root)
	@scripts/chromium.sh

dapr-cli: ## Print the path of the Dapr CLI 1.12 (installed, or built from the Go module proxy once and cached)
	@scripts/dapr-cli.sh

redis: ## Make sure Redis listens on 127.0.0.1:6379 (installs redis-server when root)
	@scripts/redis.sh

clean: ## Remove built binaries and the logs of dapr run
	rm -rf .bin services/*/.dapr
