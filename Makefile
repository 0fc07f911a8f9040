# The front door: `make run`, `make test`. Everything installs what it needs first.
BUILD       ?= build
ASAN_BUILD  ?= build-asan
BENCH_BUILD ?= build-bench
JOBS        ?= $(shell nproc)
CMAKE_GEN   := -G Ninja

FUZZ_BUILD  ?= build-fuzz
FUZZ_SECONDS ?= 60

.PHONY: deps build build-server run test asan bench fuzz clean check-layers format

deps:
	@scripts/install-deps

$(BUILD)/build.ninja: | deps
	cmake -S . -B $(BUILD) $(CMAKE_GEN) -DCMAKE_BUILD_TYPE=Release

# Everything: the server, every test binary (what `make test` needs).
build: deps $(BUILD)/build.ninja
	cmake --build $(BUILD) -j $(JOBS)

# Only the server and the libraries it links: `make run` on a fresh machine need not compile ~100 test targets.
build-server: deps $(BUILD)/build.ninja
	cmake --build $(BUILD) -j $(JOBS) --target slipway

run: build-server
	$(BUILD)/slipway serve --mode dev --config examples/blog/slipway.yaml --data ./data

# The tests' npm packages (tests/interop: jose, the independent JWT implementation) are installed here, not in
# `deps`, so `make run` and `make build` never reach for the npm registry.
test: build
	@scripts/install-test-deps
	@scripts/check-layers
	cd $(BUILD) && ctest --output-on-failure -j $(JOBS)

$(ASAN_BUILD)/build.ninja: | deps
	cmake -S . -B $(ASAN_BUILD) $(CMAKE_GEN) -DCMAKE_BUILD_TYPE=Debug -DSLIPWAY_SANITIZE=ON -DSLIPWAY_TEST_PG_PORT=55441

asan: deps $(ASAN_BUILD)/build.ninja
	cmake --build $(ASAN_BUILD) -j $(JOBS)
	@scripts/install-test-deps
	cd $(ASAN_BUILD) && ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
	  ctest --output-on-failure -j $(JOBS)

$(BENCH_BUILD)/build.ninja: | deps
	cmake -S . -B $(BENCH_BUILD) $(CMAKE_GEN) -DCMAKE_BUILD_TYPE=Release -DSLIPWAY_BENCH=ON

bench: deps $(BENCH_BUILD)/build.ninja
	cmake --build $(BENCH_BUILD) -j $(JOBS)
	$(BENCH_BUILD)/bench/micro_bench --benchmark_min_time=0.2
	python3 bench/http/run.py --build $(BENCH_BUILD) --out $(BUILD)/bench/results.json

# libFuzzer targets (clang; not part of `make test`): each runs FUZZ_SECONDS on its corpus in $(FUZZ_BUILD)/corpus.
$(FUZZ_BUILD)/build.ninja: | deps
	CC=clang CXX=clang++ cmake -S . -B $(FUZZ_BUILD) $(CMAKE_GEN) -DCMAKE_BUILD_TYPE=Debug -DSLIPWAY_FUZZ=ON

fuzz: deps $(FUZZ_BUILD)/build.ninja
	cmake --build $(FUZZ_BUILD) -j $(JOBS) --target filter_fuzz concept_fuzz body_fuzz
	for t in filter concept body; do \
	  mkdir -p $(FUZZ_BUILD)/corpus/$$t && \
	  $(FUZZ_BUILD)/tests/fuzz/$${t}_fuzz -max_total_time=$(FUZZ_SECONDS) -max_len=4096 -rss_limit_mb=2048 \
	    $(FUZZ_BUILD)/corpus/$$t tests/fuzz/seeds/$$t || exit 1; \
	done

check-layers:
	@scripts/check-layers

format:
	clang-format -i $$(git ls-files 'src/*.cpp' 'src/*.h' 'tests/*.cpp' 'bench/*.cpp')

clean:
	rm -rf $(BUILD) $(ASAN_BUILD) $(BENCH_BUILD) $(FUZZ_BUILD)
