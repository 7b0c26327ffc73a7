// libFuzzer target: the schedule-spec parser.
// data[0] -> num_blocks (0..255), data[1] -> timesteps (a few small values
// and some extremes); the rest is the spec text for plan::ParseSchedule and,
// parsed as JSON without exceptions, the document for plan::ParseScheduleJson.
// A parsed spec must format back to itself: ParseSchedule(Format(s)) == s.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <limits>
#include <string>

#include "nlohmann/json.hpp"
#include "snnplan/planner.h"

namespace {

[[noreturn]] void Fail(const char* what) {
  std::fprintf(stderr, "fuzz_schedule: %s\n", what);
  std::abort();
}

int64_t Timesteps(uint8_t b) {
  switch (b % 8) {
    case 0: return 1;
    case 1: return 4;
    case 2: return 16;
    case 3: return 12;
    case 4: return std::numeric_limits<int64_t>::max();
    case 5: return int64_t{1} << 40;
    default: return 1 + b / 8;
  }
}

void CheckRoundTrip(const snnplan::plan::Schedule& s, int num_blocks, int64_t t) {
  if (s.blocks.empty()) return;
  std::string text = snnplan::plan::FormatSchedule(s);
  auto again = snnplan::plan::ParseSchedule(text, num_blocks, t);
  if (!again.ok()) Fail("FormatSchedule output does not parse");
  if (again->blocks != s.blocks) Fail("ParseSchedule(FormatSchedule(s)) != s");
}

}  // namespace

// tests/regression compiles this file with SNNPLAN_FUZZ_ENTRY set to a
// distinct name and replays tests/data/regression/ through it.
#ifndef SNNPLAN_FUZZ_ENTRY
#define SNNPLAN_FUZZ_ENTRY LLVMFuzzerTestOneInput
#endif
extern "C" int SNNPLAN_FUZZ_ENTRY(const uint8_t* data, size_t size) {
  if (size < 2) return 0;
  int num_blocks = data[0];
  int64_t timesteps = Timesteps(data[1]);
  std::string text(reinterpret_cast<const char*>(data + 2), size - 2);

  auto s = snnplan::plan::ParseSchedule(text, num_blocks, timesteps);
  if (s.ok()) {
    if (static_cast<int>(s->blocks.size()) != num_blocks) Fail("wrong block count");
    CheckRoundTrip(*s, num_blocks, timesteps);
  }

  nlohmann::json doc = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (doc.is_discarded()) return 0;
  auto sj = snnplan::plan::ParseScheduleJson(doc, num_blocks, timesteps);
  if (sj.ok()) {
    if (static_cast<int>(sj->blocks.size()) != num_blocks) Fail("wrong block count (json)");
    CheckRoundTrip(*sj, num_blocks, timesteps);
  }
  return 0;
}
