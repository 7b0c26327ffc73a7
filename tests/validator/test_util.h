// Shared helpers of the validator tests: tiny workloads, hardware, and
// manifests produced by the planner (the validator itself never uses it).
#pragma once

#include <sstream>
#include <string>
#include <vector>

#include "common/tiny_workloads.h"
#include "gtest/gtest.h"
#include "nlohmann/json.hpp"
#include "snnplan/planner.h"
#include "snnplan/validator.h"

namespace snnplan::validate::testing {

using snnplan::testing::Conv;
using snnplan::testing::MetaPrototype;

// input 2x4x4 (4 bit) -> conv1x1 2->4 (LIF) -> conv3x3 pad 1 4->4 (LIF) ->
// [conv3x3 pad 1 4->4 (LIF)] -> out; `blocks` 1 puts every layer in block 0,
// otherwise one block per layer.
inline ir::Workload TinyNet(int layers, int blocks) {
  ir::Workload w;
  w.model_file = "tiny.onnx";
  w.timesteps = 2;
  w.num_blocks = blocks;
  w.layers.push_back(Conv("c0", {ir::kNetworkInput}, 4, 2, 4, 1, 0, true, 4, 0));
  for (int l = 1; l < layers; ++l)
    w.layers.push_back(Conv("c" + std::to_string(l), {l - 1}, 4, 4, 4, 3, 1, true, 1,
                            blocks == 1 ? 0 : l));
  w.layers.back().network_output = true;
  return w;
}


inline nlohmann::json Plan(plan::Planner& planner, const std::string& spec) {
  const ir::Workload& w = planner.workload();
  absl::StatusOr<plan::Schedule> s = plan::ParseSchedule(spec, w.num_blocks, w.timesteps);
  EXPECT_TRUE(s.ok()) << s.status();
  if (!s.ok()) return nullptr;
  auto p = planner.Run(*s);
  EXPECT_TRUE(p.ok()) << p.status();
  if (!p.ok()) return nullptr;
  std::ostringstream out;
  plan::WriteManifest(**p, out);
  return nlohmann::json::parse(out.str());
}

inline std::vector<Violation> Check(const nlohmann::json& m, const ValidateOptions& o = {}) {
  absl::StatusOr<std::vector<Violation>> v = Validate(m, o);
  EXPECT_TRUE(v.ok()) << v.status();
  return v.ok() ? *v : std::vector<Violation>{};
}

inline std::string Join(const std::vector<Violation>& v, size_t limit = 10) {
  std::string s;
  for (size_t i = 0; i < v.size() && i < limit; ++i) s += FormatViolation(v[i]) + "\n";
  if (v.size() > limit) s += "... " + std::to_string(v.size() - limit) + " more\n";
  return s;
}

// A manifest as a planner before schema_version 4 wrote it: load and noc
// transfers carry their piece's own operand (a feature reload is O, not I),
// and the summary counts their bytes that way.
inline void DowngradeOperands(nlohmann::json& m) {
  nlohmann::json& d = m["summary"]["dram_bytes"];
  for (nlohmann::json& x : m["transfers"]) {
    if (x["direction"] == "stream" || x["direction"] == "store") continue;
    if (x["tensor"]["kind"] != "feature" || x["operand"] == "O") continue;
    x["operand"] = "O";
    if (x["direction"] != "load") continue;
    const int64_t b = x.value("link_bytes", x["bytes"].get<int64_t>());
    for (const char* key : {"by_operand", "read_by_operand"}) {
      d[key]["I"] = d[key]["I"].get<int64_t>() - b;
      d[key]["O"] = d[key]["O"].get<int64_t>() + b;
    }
  }
}

// The violations include one of `check` whose message contains `text`.
inline ::testing::AssertionResult HasViolation(const std::vector<Violation>& v,
                                               const std::string& check,
                                               const std::string& text) {
  for (const Violation& x : v)
    if (x.check == check && x.message.find(text) != std::string::npos)
      return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure() << "no [" << check << "] containing '" << text
                                       << "' in:\n" << Join(v, 30);
}

}  // namespace snnplan::validate::testing
