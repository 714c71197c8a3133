# rgpu top-level entry points. `make run` and `make test` each install missing
# Debian packages, configure, build and then run the demo / the whole test suite.
BUILD ?= build
MAKEFLAGS += --no-print-directory
JOBS  ?= $(shell nproc)
CMAKE_FLAGS ?= -DCMAKE_BUILD_TYPE=RelWithDebInfo

.PHONY: all deps configure build run test test-quick bench format clean

all: build

deps:
	@bash scripts/deps.sh

configure: deps
	@cmake -S . -B $(BUILD) $(CMAKE_FLAGS) >/dev/null

build: configure
	@cmake --build $(BUILD) -j $(JOBS)

run: build
	@bash scripts/demo.sh $(BUILD)

# Every test once: a flaky test is a bug to fix, not to retry.
test: build
	@cd $(BUILD) && ctest --output-on-failure -j $(JOBS) --timeout 600

# Everything except suites labelled "slow" (nvcc-built programs, long kernels).
test-quick: build
	@cd $(BUILD) && ctest --output-on-failure -j $(JOBS) -LE slow

bench: build
	@$(BUILD)/bin/rgpu-bench --out $(BUILD)/rgpu-bench-results

format:
	@git ls-files '*.c' '*.h' | xargs clang-format -i

clean:
	@rm -rf $(BUILD)
