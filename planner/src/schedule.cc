// Schedule specs: "st-lbl", "tb-lf,tb4-lf2,st-lbl", and their JSON form.
#include <string>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "snnplan/planner.h"

namespace snnplan::plan {
namespace {

// Parses the number after a prefix ("tb4" -> 4); an empty suffix gives `dflt`.
absl::StatusOr<int64_t> SuffixNumber(absl::string_view s, size_t prefix, int64_t dflt) {
  absl::string_view rest = s.substr(prefix);
  if (rest.empty()) return dflt;
  int64_t n = 0;
  if (!absl::SimpleAtoi(rest, &n) || n <= 0)
    return absl::InvalidArgumentError(
        absl::StrCat("'", std::string(rest), "' is not a positive count"));
  return n;
}

absl::StatusOr<BlockSchedule> ParseEntry(absl::string_view entry, int64_t timesteps) {
  std::vector<absl::string_view> parts = absl::StrSplit(entry, '-');
  auto bad = [&](const std::string& why) {
    return absl::InvalidArgumentError(absl::StrCat(
        "schedule entry '", std::string(entry), "': ", why,
        " (expected TIME-SPACE with TIME st|tb|tbN and SPACE lbl|lf|lfR, e.g. tb4-lf)"));
  };
  if (parts.size() != 2) return bad("needs exactly one '-'");
  BlockSchedule b;
  absl::string_view time = parts[0], space = parts[1];
  if (time == "st") {
    b.timesteps_per_tile = 1;
  } else if (absl::StartsWith(time, "tb")) {
    absl::StatusOr<int64_t> n = SuffixNumber(time, 2, 0);
    if (!n.ok()) return bad(std::string(n.status().message()));
    if (*n > 0 && timesteps % *n != 0)
      return bad(absl::StrCat(*n, " timesteps per tile do not divide T = ", timesteps));
    b.timesteps_per_tile = (*n == timesteps) ? 0 : *n;
  } else {
    return bad("unknown time choice");
  }
  if (space == "lbl") {
    b.fused = false;
  } else if (absl::StartsWith(space, "lf")) {
    absl::StatusOr<int64_t> r = SuffixNumber(space, 2, 1);
    if (!r.ok()) return bad(std::string(r.status().message()));
    b.fused = true;
    b.rows_per_tile = *r;
  } else {
    return bad("unknown space choice");
  }
  return b;
}

absl::StatusOr<Schedule> FromEntries(const std::vector<std::string>& entries, int num_blocks,
                                     int64_t timesteps) {
  if (entries.size() != 1 && static_cast<int>(entries.size()) != num_blocks)
    return absl::InvalidArgumentError(
        absl::StrCat("schedule has ", entries.size(), " entries but the model has ", num_blocks,
                     " blocks (give one entry per block, or one for all)"));
  Schedule s;
  for (const std::string& e : entries) {
    absl::StatusOr<BlockSchedule> b = ParseEntry(e, timesteps);
    if (!b.ok()) return b.status();
    s.blocks.push_back(*b);
  }
  if (s.blocks.size() == 1) s.blocks.assign(num_blocks, s.blocks[0]);
  return s;
}

}  // namespace

absl::StatusOr<Schedule> ParseSchedule(const std::string& spec, int num_blocks, int64_t timesteps) {
  std::vector<std::string> entries = absl::StrSplit(spec, ',');
  for (std::string& e : entries) e = std::string(absl::StripAsciiWhitespace(e));
  return FromEntries(entries, num_blocks, timesteps);
}

absl::StatusOr<Schedule> ParseScheduleJson(const nlohmann::json& doc, int num_blocks,
                                           int64_t timesteps) {
  if (!doc.is_object()) return absl::InvalidArgumentError("schedule file: expected a JSON object");
  for (const auto& [key, unused] : doc.items())
    if (key != "schedule" && key != "layer_rows_per_tile")
      return absl::InvalidArgumentError(absl::StrCat(
          "schedule file: ", key, ": unknown key (allowed: schedule, layer_rows_per_tile)"));
  if (!doc.contains("schedule"))
    return absl::InvalidArgumentError("schedule file: schedule: missing required field");
  const nlohmann::json& spec = doc.at("schedule");
  absl::StatusOr<Schedule> s;
  if (spec.is_string()) {
    s = ParseSchedule(spec.get<std::string>(), num_blocks, timesteps);
  } else if (spec.is_array()) {
    std::vector<std::string> entries;
    for (size_t i = 0; i < spec.size(); ++i) {
      if (!spec[i].is_string())
        return absl::InvalidArgumentError(
            absl::StrCat("schedule file: schedule[", i, "]: expected a string"));
      entries.push_back(spec[i].get<std::string>());
    }
    s = FromEntries(entries, num_blocks, timesteps);
  } else {
    return absl::InvalidArgumentError(
        "schedule file: schedule: expected a string or an array of strings");
  }
  if (!s.ok())
    return absl::InvalidArgumentError(absl::StrCat("schedule file: ", s.status().message()));
  if (doc.contains("layer_rows_per_tile")) {
    const nlohmann::json& rows = doc.at("layer_rows_per_tile");
    if (!rows.is_object())
      return absl::InvalidArgumentError(
          "schedule file: layer_rows_per_tile: expected an object (layer name -> rows)");
    for (const auto& [layer, r] : rows.items()) {
      if (!r.is_number_integer() || r.get<int64_t>() < 0)
        return absl::InvalidArgumentError(absl::StrCat("schedule file: layer_rows_per_tile.", layer,
                                                       ": expected an integer >= 0"));
      s->layer_rows_per_tile[layer] = r.get<int64_t>();
    }
  }
  return s;
}

std::string FormatBlock(const BlockSchedule& b) {
  std::string time = b.timesteps_per_tile == 1   ? "st"
                     : b.timesteps_per_tile == 0 ? "tb"
                                                 : absl::StrCat("tb", b.timesteps_per_tile);
  std::string space = !b.fused               ? "lbl"
                      : b.rows_per_tile == 1 ? "lf"
                                             : absl::StrCat("lf", b.rows_per_tile);
  return absl::StrCat(time, "-", space);
}

std::string FormatSchedule(const Schedule& schedule) {
  std::vector<std::string> parts;
  for (const BlockSchedule& b : schedule.blocks) parts.push_back(FormatBlock(b));
  return absl::StrJoin(parts, ",");
}

}  // namespace snnplan::plan
