// A small typed view of a JSON object that remembers its path, so every
// validation error names the exact field ("cores[0].memories[2].size: ...").
#pragma once

#include <cstdint>
#include <initializer_list>
#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "nlohmann/json.hpp"

namespace snnplan::hw::internal {

class JsonField {
 public:
  JsonField(const nlohmann::json& value, std::string path)
      : value_(&value), path_(std::move(path)) {}

  const nlohmann::json& value() const { return *value_; }
  const std::string& path() const { return path_; }

  absl::Status Error(absl::string_view what) const;
  // Requires an object whose keys are all in `allowed`.
  absl::Status ExpectObject(std::initializer_list<absl::string_view> allowed) const;
  absl::Status ExpectArray() const;
  bool Has(absl::string_view key) const;
  // Child accessors; the child must exist (else "<path>.<key>: missing").
  absl::StatusOr<JsonField> Child(absl::string_view key) const;
  JsonField Element(size_t index) const;

  absl::StatusOr<std::string> String() const;
  absl::StatusOr<int64_t> Integer() const;
  absl::StatusOr<int64_t> PositiveInteger() const;
  absl::StatusOr<double> NonNegativeNumber() const;
  absl::StatusOr<bool> Boolean() const;

 private:
  const nlohmann::json* value_;
  std::string path_;
};

}  // namespace snnplan::hw::internal
