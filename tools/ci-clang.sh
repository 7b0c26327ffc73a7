# Sourced by tools/ci-sanitize.sh and tools/ci-fuzz.sh: makes sure clang-14
# and its sanitizer/libFuzzer runtimes (libclang-rt-14-dev) are installed.
# Installing needs root (as tools/install-deps.sh does).
if ! command -v clang++-14 >/dev/null 2>&1 ||
   ! ls /usr/lib/llvm-14/lib/clang/*/lib/linux/libclang_rt.fuzzer-x86_64.a >/dev/null 2>&1; then
  echo "ci: installing clang-14 and libclang-rt-14-dev" >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends clang-14 libclang-rt-14-dev >/dev/null
fi
