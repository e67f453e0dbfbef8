# rebound: the two commands a fresh Debian 12 machine needs are `make demo` and `make test`.
#
#   make deps    install the Debian packages the build and tests need (idempotent)
#   make build   configure and build (build/, or build-<sanitizers>/ with SANITIZE=...)
#   make test    deps + build + every test (ctest)
#   make bench   deps + release build + benchmarks
#   make demo    deps + build + the quickstart
#   make fuzz    clang + libFuzzer (ASan, UBSan) on the API's parsers for FUZZ_SECONDS (30)
#   make format  clang-format every source file
#
# SANITIZE=address,undefined or SANITIZE=thread builds into its own folder; TARGET=NAME builds
# only that target (e.g. TARGET=unit_tests, as .ci/run does for its sanitizer pass). UNITY=ON
# (the default here) compiles 16 sources at a time, which halves a clean build; UNITY=OFF for
# quicker rebuilds of one file while you work on it.

SANITIZE ?=
JOBS ?= 2
CTEST_ARGS ?=
TARGET ?=
UNITY ?= ON

comma := ,
ifeq ($(SANITIZE),)
BUILD_DIR := build
else
BUILD_DIR := build-$(subst $(comma),-,$(SANITIZE))
endif
BENCH_DIR := build-bench

# Build and library packages, then the real peers tests talk to.
DEB_PACKAGES := build-essential cmake ninja-build pkg-config \
  libsqlite3-dev libgit2-dev nlohmann-json3-dev libcpp-httplib-dev libtomlplusplus-dev \
  libcli11-dev libspdlog-dev libfmt-dev libxxhash-dev \
  googletest libgtest-dev libgmock-dev libbenchmark-dev \
  curl git sqlite3 clang-format redis-server systemd prometheus
# What only `make bench` needs: the baselines it runs side by side.
BENCH_PACKAGES := supervisor python3 wrk

FUZZ_SECONDS ?= 30
FUZZ_DIR := build-fuzz

SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

.PHONY: deps install-packages build test bench demo fuzz format clean

deps:
	@$(MAKE) --no-print-directory install-packages PACKAGES="$(DEB_PACKAGES)"

install-packages:
	@missing=$$(for p in $(PACKAGES); do \
	  dpkg-query -W -f='$${Status}\n' $$p 2>/dev/null | grep -q "install ok installed" || echo $$p; \
	done); \
	if [ -n "$$missing" ]; then \
	  echo "installing:" $$missing; \
	  $(SUDO) apt-get update -qq && \
	  DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq --no-install-recommends $$missing; \
	else echo "deps: all Debian packages present"; fi

build: deps
	cmake -S . -B $(BUILD_DIR) -G Ninja -DREBOUND_SANITIZE=$(SANITIZE) -DCMAKE_UNITY_BUILD=$(UNITY)
	cmake --build $(BUILD_DIR) -j $(JOBS) $(if $(TARGET),--target $(TARGET))

# LSAN_OPTIONS only matters to sanitizer builds: third-party leaks listed in tests/lsan.supp.
test: build
	cd $(BUILD_DIR) && LSAN_OPTIONS=suppressions=$(CURDIR)/tests/lsan.supp \
	  ctest --output-on-failure -j $(JOBS) $(CTEST_ARGS)

bench: deps
	@$(MAKE) --no-print-directory install-packages PACKAGES="$(BENCH_PACKAGES)"
	cmake -S . -B $(BENCH_DIR) -G Ninja -DCMAKE_BUILD_TYPE=Release
	cmake --build $(BENCH_DIR) -j $(JOBS) --target resilience_bench store_bench jobs_bench snapshot_bench sse_bench sync_bench rebound rebound-shim rebound-runner
	$(BENCH_DIR)/bench/resilience_bench --benchmark_min_time=0.5
	$(BENCH_DIR)/bench/store_bench
	$(BENCH_DIR)/bench/snapshot_bench --dir $(BENCH_DIR)/snapshot-bench.tmp
	$(BENCH_DIR)/bench/sync_bench --dir $(BENCH_DIR)/sync-bench.tmp --modules 100 --rounds 20
	python3 bench/supervise_bench.py --rebound $(BENCH_DIR)/src/rebound
	python3 bench/health_bench.py --rebound $(BENCH_DIR)/src/rebound
	bench/api_bench.sh $(BENCH_DIR)/src/rebound 10 16
	$(BENCH_DIR)/bench/sse_bench --subscribers 50 --rate 10000 --seconds 5
	$(BENCH_DIR)/bench/jobs_bench $(BENCH_DIR)/src/rebound --clients 64 --seconds 3 --jobs 2000 --concurrency 8

# The quickstart, in the foreground (Ctrl-C stops it gracefully). See README.md's tour.
demo: build
	@$(BUILD_DIR)/src/rebound --version
	@$(BUILD_DIR)/src/rebound check-config examples/quickstart/quickstart.toml
	@echo "API on http://127.0.0.1:7300; in another terminal: build/src/rebound status -c examples/quickstart/quickstart.toml"
	$(BUILD_DIR)/src/rebound serve --config examples/quickstart/quickstart.toml

fuzz: deps
	@$(MAKE) --no-print-directory install-packages PACKAGES="clang"
	CC=clang CXX=clang++ cmake -S . -B $(FUZZ_DIR) -G Ninja -DREBOUND_FUZZ=ON
	cmake --build $(FUZZ_DIR) -j $(JOBS)
	mkdir -p $(FUZZ_DIR)/corpus
	$(FUZZ_DIR)/fuzz/api_parsers_fuzz -max_total_time=$(FUZZ_SECONDS) $(FUZZ_DIR)/corpus fuzz/corpus

format:
	find src tests bench examples -name '*.h' -o -name '*.cc' | xargs clang-format -i

clean:
	rm -rf build build-* $(BENCH_DIR)
