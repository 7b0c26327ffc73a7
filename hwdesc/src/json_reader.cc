#include "json_reader.h"

#include <cmath>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"

namespace snnplan::hw::internal {

namespace {
std::string TypeName(const nlohmann::json& v) { return v.type_name(); }
}  // namespace

absl::Status JsonField::Error(absl::string_view what) const {
  return absl::InvalidArgumentError(
      absl::StrCat(path_.empty() ? "(top level)" : path_, ": ", what));
}

absl::Status JsonField::ExpectObject(
    std::initializer_list<absl::string_view> allowed) const {
  if (!value().is_object())
    return Error(absl::StrCat("expected an object, got ", TypeName(value())));
  for (const auto& [key, unused] : value().items()) {
    bool known = false;
    for (absl::string_view a : allowed) known = known || absl::string_view(key) == a;
    if (!known)
      return absl::InvalidArgumentError(absl::StrCat(
          path_.empty() ? key : absl::StrCat(path_, ".", key),
          ": unknown key (allowed: ", absl::StrJoin(allowed, ", "), ")"));
  }
  return absl::OkStatus();
}

absl::Status JsonField::ExpectArray() const {
  if (!value().is_array())
    return Error(absl::StrCat("expected an array, got ", TypeName(value())));
  return absl::OkStatus();
}

bool JsonField::Has(absl::string_view key) const {
  return value().is_object() && value().contains(std::string(key));
}

absl::StatusOr<JsonField> JsonField::Child(absl::string_view key) const {
  std::string child_path =
      path_.empty() ? std::string(key) : absl::StrCat(path_, ".", key);
  if (!Has(key))
    return absl::InvalidArgumentError(
        absl::StrCat(child_path, ": missing required field"));
  return JsonField(value().at(std::string(key)), child_path);
}

JsonField JsonField::Element(size_t index) const {
  return JsonField(value().at(index), absl::StrCat(path_, "[", index, "]"));
}

absl::StatusOr<std::string> JsonField::String() const {
  if (!value().is_string())
    return Error(absl::StrCat("expected a string, got ", TypeName(value())));
  return value().get<std::string>();
}

absl::StatusOr<int64_t> JsonField::Integer() const {
  if (value().is_number_integer()) {
    if (value().is_number_unsigned() &&
        value().get<uint64_t>() > static_cast<uint64_t>(INT64_MAX))
      return Error("integer too large");
    return value().get<int64_t>();
  }
  if (value().is_number_float()) {
    double d = value().get<double>();
    if (std::isfinite(d) && d == std::floor(d) && std::fabs(d) < 9.0e18)
      return static_cast<int64_t>(d);
    return Error("expected an integer");
  }
  return Error(absl::StrCat("expected an integer, got ", TypeName(value())));
}

absl::StatusOr<int64_t> JsonField::PositiveInteger() const {
  absl::StatusOr<int64_t> v = Integer();
  if (!v.ok()) return v.status();
  if (*v <= 0) return Error("must be > 0");
  return *v;
}

absl::StatusOr<double> JsonField::NonNegativeNumber() const {
  if (!value().is_number())
    return Error(absl::StrCat("expected a number, got ", TypeName(value())));
  double d = value().get<double>();
  if (!std::isfinite(d)) return Error("must be finite");
  if (d < 0) return Error("must be >= 0");
  // Energies (fJ per op or bit) are multiplied by counts up to 2^62; beyond
  // 1e12 fJ (1 mJ) totals lose meaning or overflow to infinity.
  if (d > 1e12) return Error("too large (limit 1e12)");
  return d;
}

absl::StatusOr<bool> JsonField::Boolean() const {
  if (!value().is_boolean())
    return Error(absl::StrCat("expected true or false, got ", TypeName(value())));
  return value().get<bool>();
}

}  // namespace snnplan::hw::internal
