# Front door. `sudo make run` and `sudo make test` work on a fresh Debian 12.
BUILD_DIR ?= build
IFACE ?=
ARGS ?=
JOBS ?= $(shell nproc)

.PHONY: all deps build run test unit bench clean

all: build

deps:
	./scripts/install-deps.sh

build: deps
	cmake -S . -B $(BUILD_DIR) -DCMAKE_BUILD_TYPE=RelWithDebInfo
	cmake --build $(BUILD_DIR) -j $(JOBS)

# Counts on IFACE (default: the interface of the default route).
run: build
	./$(BUILD_DIR)/trafstat $(ARGS) $(IFACE)

# Every tier: unit, packet (BPF_PROG_TEST_RUN), end-to-end (netns/veth).
test: build
	cd $(BUILD_DIR) && ctest --output-on-failure -j 1

# Unit tier only; no privileges needed.
unit: build
	cd $(BUILD_DIR) && ctest --output-on-failure -L unit

# Benchmarks (not tests): prints a table, writes build/bench/*.json. Needs root.
bench: build
	./bench/run.sh $(BUILD_DIR)

clean:
	rm -rf $(BUILD_DIR)
