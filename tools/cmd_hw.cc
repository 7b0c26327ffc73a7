// `snnplan hw show <file.json | preset> [--sram SIZE] [--json]`
#include <iostream>

#include "cli_common.h"
#include "commands.h"
#include "snnplan/hwdesc.h"

namespace snnplan::cli {
namespace {

struct HwShowFlags {
  std::string hardware;
  std::string sram;
  bool sram_given = false;  // `--sram ""` is an error, not "no resize"
  bool json = false;
};

int RunHwShow(const HwShowFlags& flags) {
  absl::StatusOr<hw::Hardware> hardware = hw::Resolve(flags.hardware);
  if (!hardware.ok()) return ReportError(hardware.status());
  if (flags.sram_given) {
    absl::StatusOr<int64_t> bytes = hw::ParseSizeBytes(flags.sram);
    if (!bytes.ok())
      return ReportError(
          absl::InvalidArgumentError(absl::StrCat("--sram ", bytes.status().message())));
    if (absl::Status s = hw::ResizeGlobalBuffer(*hardware, *bytes); !s.ok()) return ReportError(s);
  }
  if (flags.json)
    std::cout << hw::ToJson(*hardware).dump(2) << "\n";
  else
    std::cout << hw::Describe(*hardware);
  return kExitOk;
}

}  // namespace

void RegisterHwCommand(CLI::App& app, Runner* run) {
  CLI::App* hw_cmd = app.add_subcommand("hw", "Hardware descriptions");
  hw_cmd->require_subcommand(1);
  CLI::App* show =
      hw_cmd->add_subcommand("show", "Print the normalized description of a preset or JSON file");
  auto flags = std::make_shared<HwShowFlags>();
  show->add_option("hardware", flags->hardware,
                   "Preset name (meta-prototype) or hardware JSON file")
      ->required();
  CLI::Option* sram = show->add_option(
      "--sram", flags->sram, "Resize the global buffer (e.g. 128KiB, 1MiB; bare number = bytes)");
  show->add_flag("--json", flags->json, "Print the normalized JSON (loads back identically)");
  show->callback([run, flags, sram] {
    flags->sram_given = sram->count() > 0;
    *run = [flags] { return RunHwShow(*flags); };
  });
}

}  // namespace snnplan::cli
