# Front door. `sudo make run` and `sudo make test` work on a fresh Debian 12.
# Each target builds only what it needs: `run` the binary alone, `test` every
# test tier, `bench` the benchmark tools.
BUILD_DIR ?= build
IFACE ?=
ARGS ?=
JOBS ?= $(shell nproc)

.PHONY: all deps build-deps configure build trafstat run install deb test unit lint sanitize sanitize-build fuzz bench bench-vm clean

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

# The binary, the man page, the bash completion, the agent's systemd unit (installed, not enabled)
# and its defaults file, the example alerting rules: under PREFIX, in their FHS places
# (cmake/install.cmake). DESTDIR=... stages them elsewhere.
PREFIX ?= /usr/local
install: configure
	cmake --build $(BUILD_DIR) -j $(JOBS) --target trafstat manpage completion
	cmake --install $(BUILD_DIR) --prefix $(PREFIX)

# A Debian package of the same files under /usr (cmake/package.cmake, CPack):
# build/deb/trafstat_<version>-<revision>_<arch>.deb, its Depends computed by dpkg-shlibdeps.
deb: configure
	cmake --build $(BUILD_DIR) -j $(JOBS) --target trafstat manpage completion debian_files
	cd $(BUILD_DIR) && cpack -G DEB

# Every tier: unit, packet (BPF_PROG_TEST_RUN), end-to-end (netns/veth), replay, lint; then the
# sanitizer tier (below).
test: build sanitize-build
	cd $(BUILD_DIR) && ctest --output-on-failure -j 1
	$(SANITIZE_CTEST)

# Unit tier only; no privileges needed.
unit: build
	cd $(BUILD_DIR) && ctest --output-on-failure -L unit

# Layering and formatting checks only.
lint: deps configure
	cd $(BUILD_DIR) && ctest --output-on-failure -L lint

# The sanitizer tier: the unit, packet and bad-input tiers built with ASan and UBSan (clang++) in a
# build directory of their own, and the fuzz targets (20 s each). Any sanitizer report fails it
# (undefined behaviour and leaks included). Needs root, as the packet and bad-input tiers do.
SANITIZE_BUILD_DIR ?= $(BUILD_DIR)-sanitize
SANITIZER_ENV = ASAN_OPTIONS=halt_on_error=1:abort_on_error=1:detect_leaks=1 \
	UBSAN_OPTIONS=halt_on_error=1:abort_on_error=1:print_stacktrace=1
SANITIZE_CTEST = cd $(SANITIZE_BUILD_DIR) && $(SANITIZER_ENV) ctest --output-on-failure -j 1

sanitize-build: deps
	cmake -S . -B $(SANITIZE_BUILD_DIR) -DCMAKE_BUILD_TYPE=RelWithDebInfo -DTRAFSTAT_SANITIZE=ON \
		-DCMAKE_C_COMPILER=clang -DCMAKE_CXX_COMPILER=clang++
	cmake --build $(SANITIZE_BUILD_DIR) -j $(JOBS)

sanitize: sanitize-build
	$(SANITIZE_CTEST)

# Longer fuzzing, FUZZ_SECONDS (default ten minutes) each: the differential test (the program at
# XDP and TC against the reference classifier, frame by frame; SEED=... replays a run), then every
# libFuzzer target of the sanitizer build. Needs root.
FUZZ_SECONDS ?= 600
fuzz: configure sanitize-build
	cmake --build $(BUILD_DIR) -j $(JOBS) --target differential_tests
	./$(BUILD_DIR)/tests/differential_tests --gtest_filter='Differential.*' --frames 100000000000 \
		--seconds $(FUZZ_SECONDS) $(if $(SEED),--seed $(SEED))
	for fuzzer in $(SANITIZE_BUILD_DIR)/tests/fuzz/*_fuzz; do \
		$(SANITIZER_ENV) /usr/bin/python3 tests/fuzz/run_fuzz.py --fuzzer $$fuzzer --corpus $$(basename $$fuzzer _fuzz) \
			--seconds $(FUZZ_SECONDS) --artifacts $(SANITIZE_BUILD_DIR)/tests/fuzz/artifacts || exit 1; \
	done

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
	rm -rf $(BUILD_DIR) $(SANITIZE_BUILD_DIR)
