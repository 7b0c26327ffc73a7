// Manifest validation with the flags of `snnplan validate`.
#include <optional>

#include "absl/strings/str_cat.h"
#include "snnplan/frontend.h"

namespace snnplan::frontend {
namespace {

// --hw (optionally resized by --sram), or the embedded hardware resized by
// --sram alone; nullopt when neither flag is given.
absl::StatusOr<std::optional<hw::Hardware>> GivenHardware(const ValidateFlags& f,
                                                          const nlohmann::json& doc) {
  if (!f.hardware.empty() || f.hardware_object) {
    absl::StatusOr<hw::Hardware> h = LoadHardware(f.hardware, f.sram, f.hardware_object.get());
    if (!h.ok()) return h.status();
    return std::optional<hw::Hardware>(*std::move(h));
  }
  if (f.sram.empty()) return std::optional<hw::Hardware>();
  if (!doc.is_object() || !doc.contains("hardware"))
    return absl::InvalidArgumentError("--sram: the manifest embeds no hardware to resize");
  absl::StatusOr<hw::Hardware> h = hw::FromJson(doc["hardware"], "manifest hardware");
  if (!h.ok()) return h.status();
  absl::StatusOr<int64_t> bytes = hw::ParseSizeBytes(f.sram);
  if (!bytes.ok())
    return absl::InvalidArgumentError(absl::StrCat("--sram ", bytes.status().message()));
  if (absl::Status s = hw::ResizeGlobalBuffer(*h, *bytes); !s.ok()) return s;
  return std::optional<hw::Hardware>(*std::move(h));
}

}  // namespace

absl::StatusOr<std::vector<validate::Violation>> ValidateManifestFile(const std::string& manifest,
                                                                      ValidateFlags& f,
                                                                      const ModelRef& model) {
  absl::StatusOr<nlohmann::json> doc = ReadJsonFile(manifest);
  if (!doc.ok()) return doc.status();
  absl::StatusOr<std::optional<hw::Hardware>> hardware = GivenHardware(f, *doc);
  if (!hardware.ok()) return hardware.status();
  std::optional<ir::Workload> workload;
  const ModelRef given =
      model.workload || !model.path.empty() || !model.paths.empty() ? model : ModelFiles(f.models);
  if (given.workload || !given.path.empty() || !given.paths.empty()) {
    // The model is imported with the precisions of the hardware the manifest
    // is checked against (--hw, else the embedded one, which records the
    // precisions its plan used); precision flags override them.
    if (*hardware) {
      UseHardwarePrecision(**hardware, &f.import);
    } else if (doc->is_object() && doc->contains("hardware")) {
      absl::StatusOr<hw::Hardware> embedded = hw::FromJson((*doc)["hardware"], "manifest hardware");
      if (embedded.ok()) UseHardwarePrecision(*embedded, &f.import);
    }
    absl::StatusOr<ir::Workload> w = LoadWorkload(given, &f.import);
    if (!w.ok()) return w.status();
    workload = *std::move(w);
  }
  validate::ValidateOptions options;
  if (*hardware) options.hardware = &**hardware;
  if (workload) options.workload = &*workload;
  absl::StatusOr<std::vector<validate::Violation>> found = validate::Validate(*doc, options);
  if (!found.ok())
    return absl::InvalidArgumentError(
        absl::StrCat(manifest, ": malformed manifest: ", found.status().message()));
  return found;
}

}  // namespace snnplan::frontend
