# Front door. `sudo make run` and `sudo make test` work on a fresh Debian 12.
# Each target builds only what it needs: `run` the binary alone, `test` every
# test tier, `bench` the benchmark tools.
BUILD_DIR ?= build
IFACE ?=
ARGS ?=
JOBS ?= $(shell nproc)

.PHONY: all deps build-deps configure build trafstat run test unit lint fuzz bench bench-vm clean

all: build

# What the tests and benchmarks use too (tshark, scapy, tmux, ...).
deps:
	./scripts/install-deps.sh all

# What building and running trafstat takes, no more.
build-deps:
	./scripts/install-deps.sh build

configure: build-deps
	cmake -S . -B $(BUILD_DIR) -DCMAKE_BUILD_TYPE=RelWithDebInfo

# Everything: the binary, the tests and the benchmark tools.
build: deps configure
	cmake --build $(BUILD_DIR) -j $(JOBS)

# The binary alone (build/trafstat; the BPF objects are embedded).
trafstat: configure
	cmake --build $(BUILD_DIR) -j $(JOBS) --target trafstat

# Counts on IFACE (default: the interface of the default route).
run: trafstat
	./$(BUILD_DIR)/trafstat $(ARGS) $(IFACE)

# Every tier: unit, packet (BPF_PROG_TEST_RUN), end-to-end (netns/veth), replay, fuzz, lint.
test: build
	cd $(BUILD_DIR) && ctest --output-on-failure -j 1

# Unit tier only; no privileges needed.
unit: build
	cd $(BUILD_DIR) && ctest --output-on-failure -L unit

# Layering and formatting checks only.
lint: deps configure
	cd $(BUILD_DIR) && ctest --output-on-failure -L lint

# The differential test for ten minutes (FUZZ_SECONDS=...; SEED=... replays a run): the program
# at XDP and TC against the reference classifier, frame by frame. Needs root.
FUZZ_SECONDS ?= 600
fuzz: configure
	cmake --build $(BUILD_DIR) -j $(JOBS) --target differential_tests
	./$(BUILD_DIR)/tests/differential_tests --gtest_filter='Differential.*' --frames 100000000000 \
		--seconds $(FUZZ_SECONDS) $(if $(SEED),--seed $(SEED))

# Benchmarks (not tests): prints a table, writes build/bench/*.json. Needs root.
bench: deps configure
	cmake --build $(BUILD_DIR) -j $(JOBS) --target trafstat trafstat-bench
	./bench/run.sh $(BUILD_DIR)

# Many CPUs under software emulation (issue 14): boots a 6.1 guest with VCPUS vCPUs (default 32;
# VCPUS="8 32 64" boots each) and measures trafstat's kernel memory, exact counting and drain
# there; writes build/bench/vm.json. Needs root; downloads Debian's kernel package, installs none.
bench-vm: build-deps configure
	cmake --build $(BUILD_DIR) -j $(JOBS) --target trafstat trafstat-bench
	./bench/vm/run.sh $(BUILD_DIR)

clean:
	rm -rf $(BUILD_DIR)
