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

# The driver-API suite through rgpud (label tcp) has intermittent failures under
# load that are being investigated (the closing notes of stop 9):
# a failing tcp test gets one more run; a test that fails twice fails the build.
test: build
	@cd $(BUILD) && ctest --output-on-failure -j $(JOBS) --timeout 600 -LE tcp
	@cd $(BUILD) && ctest --output-on-failure -j $(JOBS) --timeout 600 -L tcp --repeat until-pass:2

# Everything except suites labelled "slow" (nvcc-built programs, long kernels).
test-quick: build
	@cd $(BUILD) && ctest --output-on-failure -j $(JOBS) -LE slow

bench: build
	@$(BUILD)/bin/rgpu-bench

format:
	@git ls-files '*.c' '*.h' | xargs clang-format -i

clean:
	@rm -rf $(BUILD)
