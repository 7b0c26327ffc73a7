// Validate(): reads the manifest, then runs every check in a fixed order so
// the list of violations is deterministic.
#include "snnplan/validator.h"

#include "model.h"

namespace snnplan::validate {
namespace {

// --hw: the manifest must embed the hardware it is checked against.
void CheckHardware(const Manifest& m, const hw::Hardware& given, Violations* out) {
  if (m.hardware == given) return;
  const hw::MemoryLevel& a = m.hardware.cores.front().global_buffer();
  std::string detail;
  if (!given.cores.empty() && !given.cores.front().memories.empty()) {
    const hw::MemoryLevel& b = given.cores.front().global_buffer();
    if (a.size_bits != b.size_bits)
      detail = absl::StrCat(": global buffer '", a.name, "' is ", a.size_bits / 8,
                            " bytes in the manifest, ", b.size_bits / 8, " bytes in --hw");
  }
  Add(out, "hardware.mismatch",
      absl::StrCat("the manifest's hardware '", m.hardware.name,
                   "' differs from the given hardware '", given.name, "'", detail));
}

}  // namespace

absl::StatusOr<std::vector<Violation>> Validate(const nlohmann::json& doc,
                                                const ValidateOptions& options) {
  try {
    absl::StatusOr<Manifest> read = ReadManifest(doc);
    if (!read.ok()) return read.status();
    Manifest& m = *read;
    Violations out;
    if (options.hardware != nullptr) {
      CheckHardware(m, *options.hardware, &out);
      if (!options.hardware->cores.empty() && !options.hardware->cores.front().memories.empty())
        m.hardware = *options.hardware;  // check against the given hardware
    }
    Index index;
    CheckIdentities(m, &index, &out);
    CheckModelFacts(m, &out);
    CheckGeometry(m, index, &out);
    CheckMemory(m, index, &out);
    CheckLink(m, index, &out);
    CheckDramLiveness(m, index, &out);
    CheckNoc(m, index, &out);
    CheckReplay(m, index, &out);
    CheckDependencies(m, index, &out);
    CheckExitPoints(m, &out);
    CheckComplete(m, &out);
    CheckNetworks(m, &out);
    CheckLayout(m, &out);
    if (options.workload != nullptr) CheckModelDependencies(m, *options.workload, &out);
    CheckSummary(m, index, &out);
    return out;
  } catch (const std::exception& e) {  // a safety net; the reader does not throw
    return absl::InternalError(absl::StrCat("validator: unexpected error: ", e.what()));
  }
}

absl::StatusOr<std::vector<Violation>> ValidateText(std::string_view text,
                                                    const ValidateOptions& options) {
  nlohmann::json doc = nlohmann::json::parse(text.begin(), text.end(), nullptr,
                                             /*allow_exceptions=*/false);
  if (doc.is_discarded()) return absl::InvalidArgumentError("not valid JSON");
  return Validate(doc, options);
}

std::string FormatViolation(const Violation& v) {
  return absl::StrCat("[", v.check, "] ", v.message);
}

}  // namespace snnplan::validate
