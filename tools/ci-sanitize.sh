#!/usr/bin/env bash
# CI: builds everything with AddressSanitizer + UndefinedBehaviorSanitizer
# (clang-14, -DSNNPLAN_SANITIZE=ON) in build-asan/ and runs the whole test
# suite; any sanitizer report fails the run. See docs/robustness.md.
set -euo pipefail
cd "$(dirname "$0")/.."
source tools/ci-clang.sh

build=${SNNPLAN_ASAN_BUILD_DIR:-build-asan}
start=$SECONDS
cmake -S . -B "$build" -G Ninja -DCMAKE_CXX_COMPILER=clang++-14 \
  -DCMAKE_BUILD_TYPE=RelWithDebInfo -DSNNPLAN_SANITIZE=ON -DSNNPLAN_BUILD_BENCH=OFF
cmake --build "$build" -j2
echo "ci-sanitize: build took $((SECONDS - start)) s"

# The ONNX/protobuf/abseil libraries are Debian's uninstrumented builds:
# container-overflow checks would see half-instrumented std::vector/string
# use across that boundary and report false positives, so they are off.
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_container_overflow=0:detect_leaks=1:abort_on_error=0}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
start=$SECONDS
ctest --test-dir "$build" --output-on-failure -j2
echo "ci-sanitize: tests took $((SECONDS - start)) s"
