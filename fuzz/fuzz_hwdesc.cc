// libFuzzer target: the hardware-description loader.
// Bytes -> nlohmann::json (no exceptions) -> hw::FromJson; whatever loads
// must round-trip: FromJson(ToJson(h)) == h and ToJson is a fixed point.
// Also exercises Describe and ResizeGlobalBuffer with a size taken from the
// input, since `--sram` feeds user numbers into the loaded description.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>

#include "nlohmann/json.hpp"
#include "snnplan/hwdesc.h"

namespace {
[[noreturn]] void Fail(const char* what) {
  std::fprintf(stderr, "fuzz_hwdesc: %s\n", what);
  std::abort();
}
}  // namespace

// tests/regression compiles this file with SNNPLAN_FUZZ_ENTRY set to a
// distinct name and replays tests/data/regression/ through it.
#ifndef SNNPLAN_FUZZ_ENTRY
#define SNNPLAN_FUZZ_ENTRY LLVMFuzzerTestOneInput
#endif
extern "C" int SNNPLAN_FUZZ_ENTRY(const uint8_t* data, size_t size) {
  nlohmann::json doc = nlohmann::json::parse(data, data + size, nullptr,
                                             /*allow_exceptions=*/false);
  if (doc.is_discarded()) return 0;
  auto hw = snnplan::hw::FromJson(doc, "fuzz");
  if (!hw.ok()) return 0;
  nlohmann::json out = snnplan::hw::ToJson(*hw);
  auto again = snnplan::hw::FromJson(out, "fuzz-roundtrip");
  if (!again.ok()) Fail("ToJson output does not load again");
  if (!(*again == *hw)) Fail("FromJson(ToJson(h)) != h");
  if (snnplan::hw::ToJson(*again) != out) Fail("ToJson is not a fixed point");
  (void)snnplan::hw::Describe(*hw);
  // Resize to a size derived from the input: tiny, ordinary and absurd.
  int64_t bytes = static_cast<int64_t>(size) * 1024;
  if (size > 0 && (data[size - 1] & 1)) bytes = int64_t{1} << (data[size - 1] % 63);
  snnplan::hw::Hardware resized = *hw;
  if (snnplan::hw::ResizeGlobalBuffer(resized, bytes).ok()) {
    (void)snnplan::hw::ToJson(resized);
    (void)snnplan::hw::Describe(resized);
  }
  return 0;
}
