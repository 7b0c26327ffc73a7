// `snnplan validate manifest.json [--model MODEL.onnx] [--hw HW] [--sram SIZE]`:
// replays a manifest with the independent validator (docs/validator.md).
// Exit 0 clean, 1 violations found, 2 unreadable or malformed input.
#include <iostream>
#include <memory>

#include "cli_common.h"
#include "commands.h"
#include "snnplan/frontend.h"
#include "snnplan/validator.h"

namespace snnplan::cli {
namespace {

struct ValidateCommandFlags {
  std::string manifest;
  std::string json;
  frontend::ValidateFlags validate;
};

int RunValidate(ValidateCommandFlags& f) {
  OutputFiles outputs;
  if (absl::Status s = outputs.Expect("--json", f.json); !s.ok()) return ReportError(s);
  absl::StatusOr<std::vector<validate::Violation>> found =
      frontend::ValidateManifestFile(f.manifest, f.validate, frontend::ModelRef{});
  if (!found.ok()) return ReportError(found.status());
  std::ostream& out = outputs.report();
  for (const validate::Violation& v : *found) out << validate::FormatViolation(v) << "\n";
  if (!found->empty())
    out << f.manifest << ": " << found->size() << " violation" << (found->size() == 1 ? "" : "s")
        << "\n";
  else
    out << f.manifest << ": valid\n";
  if (!f.json.empty()) {
    outputs.Write(f.json, frontend::ValidationJson(f.manifest, *found).dump(2) + "\n");
    if (absl::Status s = outputs.CommitAll(); !s.ok()) return ReportError(s);
  }
  return found->empty() ? kExitOk : kExitCheckFailed;
}

}  // namespace

void RegisterValidateCommand(CLI::App& app, Runner* run) {
  CLI::App* cmd = app.add_subcommand(
      "validate", "Check a schedule manifest independently of the planner (exit 1 on violations)");
  auto f = std::make_shared<ValidateCommandFlags>();
  cmd->add_option("manifest", f->manifest, "Manifest JSON written by 'snnplan plan'")->required();
  frontend::AddValidateOptions(cmd, &f->validate);
  cmd->add_option("--json", f->json,
                  "Write {manifest, valid, violations: [{check, message}]} as JSON ('-' = stdout)");
  cmd->callback([run, f] { *run = [f] { return RunValidate(*f); }; });
}

}  // namespace snnplan::cli
