// libFuzzer target: the ONNX importer on arbitrary bytes.
// The bytes are the serialized ModelProto; the first byte also picks one of a
// few ImportOptions variations (a valid ModelProto starts with 0x08, which
// picks the baseline). Any non-OK status is fine; crashes, leaks, UB and
// timeouts are findings.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "snnplan/importer.h"

namespace {

using snnplan::importer::ImportOptions;

ImportOptions Variation(unsigned v) {
  ImportOptions o;
  o.timesteps = 4;  // single-step exports need T
  switch (v % 16) {
    case 0: break;                                   // baseline
    case 1: o.timesteps.reset(); break;              // T from the graph only
    case 2: o.timesteps = 1; break;
    case 3: o.timesteps = 3; o.batch = 2; break;
    case 4: o.batch = 1; break;
    case 5: o.weight_bits = 1; o.input_bits = 1; o.feature_bits = 1; break;
    case 6: o.weight_bits = 64; o.state_bits = 64; o.accumulator_bits = 64;
            o.feature_bits = 64; o.input_bits = 64; break;
    case 7: o.stateless_blocks = {0, 1, 2}; break;
    case 8: o.sew_join_bits = 2; break;
    case 9: o.input_shapes["input"] = {1, 8, 8}; break;
    case 10: o.input_shapes["x"] = {2, 16, 16}; o.input_shapes["0"] = {3}; break;
    case 11: o.timesteps = int64_t{1} << 40; break;  // absurd T must be refused
    case 12: o.batch = int64_t{1} << 40; break;
    case 13: o.timesteps = 16; o.batch = 3; o.state_bits = 1; break;
    default: o.timesteps = v % 16; break;
  }
  return o;
}

}  // namespace

// tests/regression compiles this file with SNNPLAN_FUZZ_ENTRY set to a
// distinct name and replays tests/data/regression/ through it.
#ifndef SNNPLAN_FUZZ_ENTRY
#define SNNPLAN_FUZZ_ENTRY LLVMFuzzerTestOneInput
#endif
extern "C" int SNNPLAN_FUZZ_ENTRY(const uint8_t* data, size_t size) {
  std::string_view bytes(reinterpret_cast<const char*>(data), size);
  unsigned v = size > 0 ? static_cast<unsigned>(data[0] ^ 0x08) : 0;
  auto w = snnplan::importer::ImportBytes(bytes, "fuzz", Variation(v));
  if (!w.ok()) return 0;
  // Whatever imports must also serialize and describe without trouble.
  (void)snnplan::importer::ToJson(*w).dump();
  (void)snnplan::importer::DescribeTable(*w);
  // A second variation for inputs that import (size-derived, so the
  // mutator's insertions/erasures explore it).
  auto w2 = snnplan::importer::ImportBytes(bytes, "fuzz", Variation(1 + size % 15));
  if (w2.ok()) (void)snnplan::importer::ToJson(*w2).dump();
  return 0;
}
