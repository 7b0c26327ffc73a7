// `snnplan validate manifest.json [--model MODEL.onnx] [--hw HW] [--sram SIZE]`:
// replays a manifest with the independent validator (docs/validator.md).
// Exit 0 clean, 1 violations found, 2 unreadable or malformed input.
#include <iostream>
#include <memory>
#include <optional>

#include "absl/strings/str_cat.h"
#include "cli_common.h"
#include "commands.h"
#include "snnplan/validator.h"

namespace snnplan::cli {
namespace {

struct ValidateFlags {
  std::string manifest;
  std::string model;
  std::string hardware;
  std::string sram;
  ImportFlags import;
};

// --hw (optionally resized by --sram), or the embedded hardware resized by
// --sram alone; nullopt when neither flag is given.
absl::StatusOr<std::optional<hw::Hardware>> GivenHardware(const ValidateFlags& f,
                                                          const nlohmann::json& doc) {
  if (!f.hardware.empty()) {
    absl::StatusOr<hw::Hardware> h = LoadHardware(f.hardware, f.sram);
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

int RunValidate(ValidateFlags& f) {
  absl::StatusOr<nlohmann::json> doc = ReadJsonFile(f.manifest);
  if (!doc.ok()) return ReportError(doc.status());
  absl::StatusOr<std::optional<hw::Hardware>> hardware = GivenHardware(f, *doc);
  if (!hardware.ok()) return ReportError(hardware.status());
  std::optional<ir::Workload> workload;
  if (!f.model.empty()) {
    absl::StatusOr<ir::Workload> w = LoadWorkload(f.model, &f.import);
    if (!w.ok()) return ReportError(w.status());
    workload = *std::move(w);
  }
  validate::ValidateOptions options;
  if (*hardware) options.hardware = &**hardware;
  if (workload) options.workload = &*workload;
  absl::StatusOr<std::vector<validate::Violation>> found = validate::Validate(*doc, options);
  if (!found.ok())
    return ReportError(absl::InvalidArgumentError(
        absl::StrCat(f.manifest, ": malformed manifest: ", found.status().message())));
  for (const validate::Violation& v : *found) std::cout << validate::FormatViolation(v) << "\n";
  if (!found->empty()) {
    std::cout << f.manifest << ": " << found->size() << " violation"
              << (found->size() == 1 ? "" : "s") << "\n";
    return kExitCheckFailed;
  }
  std::cout << f.manifest << ": valid\n";
  return kExitOk;
}

}  // namespace

void RegisterValidateCommand(CLI::App& app, Runner* run) {
  CLI::App* cmd = app.add_subcommand(
      "validate", "Check a schedule manifest independently of the planner (exit 1 on violations)");
  auto f = std::make_shared<ValidateFlags>();
  cmd->add_option("manifest", f->manifest, "Manifest JSON written by 'snnplan plan'")->required();
  cmd->add_option("--model", f->model,
                  "ONNX model the manifest was planned for: also check the dependencies "
                  "recomputed from it");
  cmd->add_option("--hw", f->hardware,
                  "Hardware preset or JSON file the manifest must target (default: the "
                  "manifest's embedded hardware)");
  cmd->add_option("--sram", f->sram,
                  "Global buffer size, e.g. 128KiB (resizes --hw, or the "
                  "embedded hardware)");
  AddImportOptions(cmd, &f->import);
  cmd->callback([run, f] { *run = [f] { return RunValidate(*f); }; });
}

}  // namespace snnplan::cli
