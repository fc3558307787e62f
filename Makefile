# dcrctl — see README.md. `make demo` and `make test` are the two set-up commands.
GO      ?= go
BIN     := bin/dcrctl
VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
COMMIT  ?= $(shell git rev-parse --short=12 HEAD 2>/dev/null || echo unknown)
DATE    ?= $(shell date -u +%Y-%m-%dT%H:%M:%SZ)
LDFLAGS := -s -w -X github.com/dcrctl/dcrctl/internal/cli.Version=$(VERSION) \
	-X github.com/dcrctl/dcrctl/internal/cli.Commit=$(COMMIT) -X github.com/dcrctl/dcrctl/internal/cli.BuildDate=$(DATE)

.PHONY: build test test-deps lint demo demo-deps golden fuzz bench man clean

# One static binary (CGO_ENABLED=0: no libc, runs in a distroless image).
build:
	CGO_ENABLED=0 $(GO) build -trimpath -ldflags '$(LDFLAGS)' -o $(BIN) ./cmd/dcrctl

# Everything the tests need on this machine: the test IdP's node packages
# (from the committed lock file), Debian's prometheus-pushgateway, tmux,
# sqlite3 and glewlwyd (its own service blocked), and Ory Hydra built from
# the Go module proxy (cached by version in ~/.cache/dcrctl-test).
test-deps:
	@command -v node >/dev/null && command -v npm >/dev/null || scripts/apt-install.sh nodejs npm
	@command -v prometheus-pushgateway >/dev/null || scripts/apt-install.sh prometheus-pushgateway
	@command -v tmux >/dev/null || scripts/apt-install.sh tmux
	@command -v glewlwyd >/dev/null && command -v sqlite3 >/dev/null || scripts/install-glewlwyd.sh
	@[ -d test/idp/node_modules/oidc-provider ] || (cd test/idp && npm ci --no-audit --no-fund)
	@scripts/build-hydra.sh >/dev/null
	@scripts/build-kube.sh >/dev/null

lint:
	@out=$$(gofmt -l cmd internal test); if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi
	$(GO) vet ./...

# Every test: unit, integration against the real IdP and pushgateway.
# The integration package runs the fleet waves ten times each (minutes):
# go test's default 10-minute limit per package is too short.
test: test-deps lint
	$(GO) test -count=1 -timeout 60m ./...

# Starts the real test IdP on loopback and runs `dcrctl bootstrap` then
# `dcrctl status` against it (the embedded default configuration), then, on
# a terminal, opens the TUI on that client. Installs only what the demo
# needs (node and the test IdP's packages); the heavy servers are for test.
demo: demo-deps build
	scripts/demo.sh

demo-deps:
	@command -v node >/dev/null && command -v npm >/dev/null || scripts/apt-install.sh nodejs npm
	@[ -d test/idp/node_modules/oidc-provider ] || (cd test/idp && npm ci --no-audit --no-fund)

# Each fuzz target for a bounded time; the seed corpus also runs in `make test`.
FUZZTIME ?= 10s
FUZZ_TARGETS := ./internal/state:FuzzParse ./internal/keys:FuzzParsePEM ./internal/keys:FuzzParseJWKS \
	./internal/config:FuzzSplitList ./internal/config:FuzzLoad ./internal/idp:FuzzDecodeRegistration
fuzz:
	@GO=$(GO) scripts/fuzz.sh $(FUZZTIME) $(FUZZ_TARGETS)

# Measures against the floor on the real test IdP and prints a table (no
# timed assertions anywhere); BENCHMARKS.md keeps the latest one.
bench: test-deps
	$(GO) test -tags bench -count=1 -run 'TestBenchTable|TestBenchKube' -v ./test/bench | grep -E '^\|'
	$(GO) test -run '^$$' -bench View -benchmem ./internal/ui

# Refresh the TUI golden screens after an intended change to the UI.
golden:
	$(GO) test ./internal/ui -run Golden -update

# Man pages, one per command, generated from the command tree (docs/man).
man:
	$(GO) run ./cmd/dcrctl-docs docs/man

clean:
	rm -rf bin
