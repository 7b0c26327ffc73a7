#!/usr/bin/env bash
# CI: builds the libFuzzer targets (clang-14, -DSNNPLAN_FUZZ=ON) in
# build-fuzz/ and runs each on a copy of its seed corpus in
# fuzz/corpus/<target>/ for a fixed number of inputs with a fixed seed
# (SNNPLAN_FUZZ_SEED, default 1), so a run repeats on the same machine.
# (Across machines libFuzzer may still diverge: directory order and sanitizer
# state differ; so a failing run prints its reproducer in base64.) Each
# run is also capped at SNNPLAN_FUZZ_SECONDS (default 120). Longer,
# randomly seeded campaigns are run by hand (docs/robustness.md). Any crash,
# leak, sanitizer report or timeout fails the run; the reproducer is kept in
# build-fuzz/artifacts/.
set -euo pipefail
cd "$(dirname "$0")/.."
source tools/ci-clang.sh

build=${SNNPLAN_FUZZ_BUILD_DIR:-build-fuzz}
seconds=${SNNPLAN_FUZZ_SECONDS:-120}
seed=${SNNPLAN_FUZZ_SEED:-1}
# Inputs per target: about a minute each on a CI core (the importer's minute
# split between byte-level and protobuf-aware mutation).
declare -A runs=([fuzz_importer]=7000 [fuzz_importer_proto]=4500 [fuzz_hwdesc]=1000000
                 [fuzz_schedule]=1000000 [fuzz_manifest]=150000)
# Both importer targets start from fuzz/corpus/importer/ plus every ONNX
# fixture of models/ and models/corpus/ up to this size (the 5-12 MB SEW and
# RedLIF exports run 50x slower per input; long campaigns add them with
# SNNPLAN_FUZZ_SEED_MAX_BYTES=20000000).
seed_max_bytes=${SNNPLAN_FUZZ_SEED_MAX_BYTES:-1000000}
start=$SECONDS
cmake -S . -B "$build" -G Ninja -DCMAKE_CXX_COMPILER=clang++-14 \
  -DCMAKE_BUILD_TYPE=RelWithDebInfo -DSNNPLAN_FUZZ=ON \
  -DSNNPLAN_BUILD_TESTS=OFF -DSNNPLAN_BUILD_BENCH=OFF
targets=(fuzz_importer fuzz_importer_proto fuzz_hwdesc fuzz_schedule)
# fuzz_manifest exists when validator/fuzz/manifest_fuzz.cc does.
if [[ -f validator/fuzz/manifest_fuzz.cc ]]; then
  targets+=(fuzz_manifest)
fi
cmake --build "$build" -j2 --target "${targets[@]}"
echo "ci-fuzz: build took $((SECONDS - start)) s"

export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_container_overflow=0}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
work="$build/fuzz-run"
artifacts="$build/artifacts"
rm -rf "$work"
mkdir -p "$work" "$artifacts"
failed=()
for t in "${targets[@]}"; do
  name=${t#fuzz_}
  seeds=${name%_proto}  # fuzz_importer_proto shares the importer's seeds and dictionary
  corpus="$work/$name"
  mkdir -p "$corpus"
  if [[ -d fuzz/corpus/$seeds ]]; then cp -r "fuzz/corpus/$seeds/." "$corpus/"; fi
  if [[ $seeds == importer ]]; then
    find models -maxdepth 2 -name '*.onnx' -size -"$((seed_max_bytes + 1))"c \
      -exec cp -t "$corpus/" {} +
  fi
  dict=()
  if [[ -f fuzz/dict/$seeds.dict ]]; then dict=(-dict="fuzz/dict/$seeds.dict"); fi
  echo "ci-fuzz: $t for ${runs[$t]} inputs (seed $seed, at most $seconds s)"
  start=$SECONDS
  if ! "$build/fuzz/$t" -seed="$seed" -runs="${runs[$t]}" -max_total_time="$seconds" -timeout=25 -rss_limit_mb=4096 \
       -print_final_stats=1 "${dict[@]}" -artifact_prefix="$artifacts/$name-" "$corpus" \
       >"$work/$name.log" 2>&1; then
    failed+=("$t")
    echo "ci-fuzz: $t FAILED; last lines of $work/$name.log:" >&2
    tail -n 60 "$work/$name.log" >&2
    # The log is all a remote CI run leaves: print each reproducer so that
    # `base64 -d` rebuilds it on any machine.
    for a in "$artifacts/$name"-*; do
      [[ -f $a && $(stat -c %s "$a") -le 65536 ]] || continue
      echo "ci-fuzz: reproducer $(basename "$a") (base64):" >&2
      base64 -w 100 "$a" >&2
    done
  fi
  grep -E '^stat::number_of_executed_units|^Done' "$work/$name.log" || true
  echo "ci-fuzz: $t took $((SECONDS - start)) s"
done
if ((${#failed[@]})); then
  echo "ci-fuzz: crashes in: ${failed[*]} (reproducers in $artifacts/)" >&2
  exit 1
fi
echo "ci-fuzz: all fuzzers ran clean"
