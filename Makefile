# Rolecall: `make run` shows logins turning into role assignments on a sandbox tenant; `make test` runs every test.
# Both install the system packages they need first (as root), or print the exact command to run.

SWIFT ?= swift
# Two executables (README, "Two binaries"): `rules`, which runs check, eval, diff and fmt and starts in a few
# milliseconds, and `rules-full` beside it, which `rules` becomes for every other command. Both are always built.
BIN := .build/debug/rules
RELEASE_BIN := .build/release/rules
# The Swift sources `lint` and `format` cover, the fuzz package's included.
LINTED := Package.swift Sources Tests fuzz/Package.swift fuzz/Sources

.PHONY: all deps build release run test sdk-test grammar-test bench bench-deps floor release-bench bench-load bench-lsp bench-serve fuzz fuzz-build fuzz-replay lint format clean

all: build

# The end of a recipe that collects the Debian packages it lacks in the shell variable `missing`: installs them when
# run as root, else prints the exact command and fails. One copy, for deps and bench-deps.
INSTALL_MISSING = if [ -n "$$missing" ]; then \
	  if [ "$$(id -u)" = "0" ]; then \
	    echo "installing:$$missing"; \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing >/dev/null; \
	  else \
	    echo "missing system packages; run:  sudo apt-get install -y$$missing"; exit 1; \
	  fi; \
	fi

# Installs what the build needs (PCRE2, libcurl and SQLite with their headers). Checks the pkg-config modules and
# headers, not just the package names.
deps:
	@missing=""; \
	pkg-config --exists libpcre2-8 2>/dev/null && [ -f /usr/include/pcre2.h ] || missing="$$missing libpcre2-dev pkg-config"; \
	pkg-config --exists libcurl 2>/dev/null || missing="$$missing libcurl4-openssl-dev pkg-config"; \
	pkg-config --exists sqlite3 2>/dev/null || missing="$$missing libsqlite3-dev pkg-config"; \
	$(INSTALL_MISSING)
	@command -v $(SWIFT) >/dev/null 2>&1 || { echo "swift not found: install Swift 6 from swift.org and put it on PATH"; exit 1; }

build: deps
	$(SWIFT) build --product rules-full
	$(SWIFT) build --product rules

release: deps
	$(SWIFT) build -c release --product rules-full
	$(SWIFT) build -c release --product rules

# The main job end to end: checks the example rules and runs their suites, explains one decision, then starts a
# sandbox tenant and `rules serve`, posts the sample logins as the Auth0 Action would, waits for the outbox to
# drain and prints the roles the tenant ended up with (scripts/demo.py).
run: build
	$(BIN) check rules/
	$(BIN) test rules/
	@echo "== why: rules/events/acme-admin.json"
	$(BIN) eval rules/ --event rules/events/acme-admin.json --explain
	@command -v python3 >/dev/null 2>&1 || { if [ "$$(id -u)" = "0" ]; then apt-get install -y -qq python3 >/dev/null; else echo "run: sudo apt-get install -y python3"; exit 1; fi; }
	python3 scripts/demo.py $(BIN)

# The example rules must stay formatted and their suites green; then the Swift test suites; then Auth0's own
# Python SDK against the sandbox (in a virtual environment under .venv-sdk/); then the editor grammar over the
# example rules (onigurumacffi in .venv-textmate/); then lint. (`--build-tests` builds every target, both
# executables included.)
test: deps
	$(SWIFT) build --build-tests
	$(BIN) fmt --check rules/
	$(BIN) test rules/ --quiet
	$(SWIFT) test --skip-build
	scripts/sdk-test $(BIN)
	scripts/grammar-test
	$(SWIFT) format lint --strict --recursive $(LINTED)

# The sandbox tenant driven by Auth0's own Python SDK (auth0-python, pinned in the script), a client nobody here
# wrote; the script installs it into a virtual environment, .venv-sdk/, on first use.
sdk-test: build
	scripts/sdk-test $(BIN)

# The VS Code extension's TextMate grammar (editors/vscode/) over every rule file under rules/ and every example of
# grammar/rolecall.ebnf, tokenized as VS Code would, with onigurumacffi (pinned in the script) installed into a
# virtual environment, .venv-textmate/, on first use. Needs no Swift build.
grammar-test:
	scripts/grammar-test

# The C++ floor `make bench` runs beside Rolecall: bench/floor/floor.cpp against Debian's libsimdjson-dev, built
# into .build/floor/ (never committed). FLOOR_FLAGS=-march=native builds the On-Demand code for this CPU (see the
# comment at the top of floor.cpp for why the default does without).
FLOOR := .build/floor/floor
FLOOR_FLAGS ?=
# The binaries `bench` runs; point them at another tree's release build to skip the Swift build there, e.g.
# `make bench BENCH_RELEASE=/work/main/.build/release BENCH_BUILD=`.
BENCH_RELEASE ?= .build/release
BENCH_BUILD ?= release-bench

# Installs what the floor and the benchmark need (simdjson's headers and library, g++, python3, taskset), as root,
# or prints the exact command to run.
bench-deps:
	@missing=""; \
	pkg-config --exists simdjson 2>/dev/null && [ -f /usr/include/simdjson.h ] || missing="$$missing libsimdjson-dev pkg-config"; \
	command -v g++ >/dev/null 2>&1 || missing="$$missing g++"; \
	command -v python3 >/dev/null 2>&1 || missing="$$missing python3"; \
	command -v taskset >/dev/null 2>&1 || missing="$$missing util-linux"; \
	$(INSTALL_MISSING)

# Built every time (a second), so FLOOR_FLAGS always applies.
floor: bench-deps
	@mkdir -p $(dir $(FLOOR))
	g++ -std=c++17 -O3 $(FLOOR_FLAGS) -Wall -Wextra -o $(FLOOR) bench/floor/floor.cpp -lsimdjson

release-bench: deps
	$(SWIFT) build -c release --product rules-full
	$(SWIFT) build -c release --product rules
	$(SWIFT) build -c release --product rolecall-bench

# Generates the workloads and runs, on one pinned core and in the same run, the simdjson floor, Rolecall in process
# (rolecall-bench) and `rules eval --events`; checks every decision of each and prints, per workload, the three side
# by side with the ratios and the issue's goals (also on small events, with two quantified rules, and with 50 rules);
# then `rules diff`, then how long generated rule sets of 1k to 64k rules take to load.
bench: bench-deps $(BENCH_BUILD) floor
	python3 bench/run.py --rules bench/roles.rules --bin $(BENCH_RELEASE)/rules --inprocess $(BENCH_RELEASE)/rolecall-bench --floor $(FLOOR)
	python3 bench/load.py --bin $(BENCH_RELEASE)/rules

# Only the load-time scaling of `make bench`: check and eval on 1k to 64k generated rules, and the issue's goal.
bench-load: deps
	$(SWIFT) build -c release --product rules-full
	$(SWIFT) build -c release --product rules
	python3 bench/load.py --bin $(RELEASE_BIN)

# `rules lsp` over its standard input and output: the time from a one-keystroke didChange to the
# publishDiagnostics it causes, on a generated 1,000-rule file, against the goal of 20 ms (bench/lsp.py).
bench-lsp: deps
	$(SWIFT) build -c release --product rules
	python3 bench/lsp.py --bin $(RELEASE_BIN)

# Posts generated login events to `rules serve` (outbox on, then --no-effects) and to a node server computing the
# same rules in JavaScript, with wrk: a peak run and a run at half the peak, requests/s and latency percentiles.
bench-serve: deps
	$(SWIFT) build -c release --product rules-full
	$(SWIFT) build -c release --product rules
	@for tool in python3:python3 wrk:wrk node:nodejs taskset:util-linux; do \
	  command -v $${tool%%:*} >/dev/null 2>&1 && continue; \
	  if [ "$$(id -u)" = "0" ]; then apt-get update -qq && apt-get install -y -qq $${tool##*:} >/dev/null; \
	  else echo "run: sudo apt-get install -y $${tool##*:}"; exit 1; fi; \
	done
	python3 bench/serve.py --rules bench/roles.rules --bin $(RELEASE_BIN)

# libFuzzer targets, a package of their own under fuzz/ (built into .build-fuzz/, never by `build` or `test`).
# `make fuzz` runs each target for FUZZ_SECONDS (default 60) and fails, naming the reproducer, on a crash;
# `make fuzz FUZZ_TARGETS="events"` runs some; `make fuzz-replay` reruns the reproducers in fuzz/crashes-found/.
FUZZ_SECONDS ?= 60
FUZZ_TARGETS ?=

fuzz-build: deps
	SWIFT=$(SWIFT) fuzz/run build

fuzz: deps
	SWIFT=$(SWIFT) FUZZ_SECONDS=$(FUZZ_SECONDS) fuzz/run $(FUZZ_TARGETS)

fuzz-replay: deps
	SWIFT=$(SWIFT) fuzz/run replay $(FUZZ_TARGETS)

lint:
	$(SWIFT) format lint --strict --recursive $(LINTED)

format:
	$(SWIFT) format --in-place --recursive $(LINTED)

clean:
	rm -rf .build .build-fuzz bench/data
