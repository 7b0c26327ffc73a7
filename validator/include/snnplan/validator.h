// Independent manifest validator (docs/validator.md): replays a schedule
// manifest (docs/manifest.md) with its own small simulator over tiles,
// allocations and transfers, without any planner or cost-model code, and
// reports every violated invariant with the ids involved.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "nlohmann/json.hpp"
#include "snnplan/hwdesc.h"
#include "snnplan/ir.h"

namespace snnplan::validate {

// One violated invariant. `check` is a stable dotted name (e.g.
// "allocation.overlap", see docs/validator.md); `message` names the ids.
struct Violation {
  std::string check;
  std::string message;
  friend bool operator==(const Violation&, const Violation&) = default;
};

struct ValidateOptions {
  // When set, the manifest must embed this hardware and is checked against
  // it (instead of trusting the embedded description).
  const hw::Hardware* hardware = nullptr;
  // When set, data and state dependencies are recomputed from this model
  // and the manifest's tiles are checked against them.
  const ir::Workload* workload = nullptr;
};

// Validates a parsed manifest. Errors (not violations) mean the document is
// malformed: not an object, a required key missing or of the wrong type, a
// number outside +-2^53, an embedded hardware description that does not load.
// Never throws.
absl::StatusOr<std::vector<Violation>> Validate(const nlohmann::json& manifest,
                                                const ValidateOptions& options = {});

// Parses `text` as JSON and validates it; invalid JSON is an error. Never
// throws, whatever the bytes (the fuzz entry point uses this).
absl::StatusOr<std::vector<Violation>> ValidateText(std::string_view text,
                                                    const ValidateOptions& options = {});

// "[check] message"
std::string FormatViolation(const Violation& v);

}  // namespace snnplan::validate
