#include <cctype>
#include <iostream>
#include <new>
#include <string_view>

#include "absl/strings/str_cat.h"
#include "cli_common.h"
#include "commands.h"

#ifndef SNNPLAN_VERSION
#define SNNPLAN_VERSION "0.0.0"
#endif

namespace snnplan::cli {

namespace {

// Whether `app` or one of its subcommands has the long option `--name`.
bool HasLongOption(const CLI::App& app, const std::string& name) {
  for (const CLI::Option* o : app.get_options())
    if (o->check_lname(name)) return true;
  for (const CLI::App* sub : app.get_subcommands({}))
    if (HasLongOption(*sub, name)) return true;
  return false;
}

// CLI11 reads "-hw" as "-h -w" (help), so a single dash followed by two
// letters is refused; "-o", "-j2" and negative numbers stay valid.
absl::Status CheckSingleDashTokens(int argc, const char* const* argv, const CLI::App& app) {
  auto letter = [](char c) { return std::isalpha(static_cast<unsigned char>(c)) != 0; };
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (a == "--") break;
    if (a.size() < 3 || a[0] != '-' || !letter(a[1]) || !letter(a[2])) continue;
    const std::string name(a.substr(1));
    return absl::InvalidArgumentError(
        HasLongOption(app, name)
            ? absl::StrCat("'", a, "': options with one dash are one letter; did you mean '--",
                           name, "'?")
            : absl::StrCat("'", a, "': options with one dash are one letter (write '-",
                           a.substr(1, 1), " ", a.substr(2),
                           "' for a value, or a long option with two dashes)"));
  }
  return absl::OkStatus();
}

int RunCommand(const Runner& run) {
  try {
    return run();
  } catch (const std::bad_alloc&) {
    std::cerr << "snnplan: error: out of memory; use larger tiles (tb, lbl), fewer threads (-j) "
                 "or a smaller problem (--max-memory estimates a plan before building it)\n";
    return kExitBadInput;
  }
}

}  // namespace

int RunCli(int argc, const char* const* argv) {
  CLI::App app{
      "snnplan: ONNX importer and deployment planner for spiking neural "
      "networks.\nExit codes: 0 success, 1 a check failed, 2 bad input or "
      "usage."};
  app.set_version_flag("--version", std::string("snnplan ") + SNNPLAN_VERSION);
  app.require_subcommand(1);
  Runner run;
  RegisterHwCommand(app, &run);
  RegisterImportCommand(app, &run);
  RegisterRunCommand(app, &run);
  RegisterPlanCommand(app, &run);
  RegisterExploreCommand(app, &run);
  RegisterAllocateCommand(app, &run);
  RegisterValidateCommand(app, &run);
  RegisterCostCommand(app, &run);
  RegisterMergeCommand(app, &run);
  RegisterStudyCommand(app, &run);
  if (absl::Status s = CheckSingleDashTokens(argc, argv, app); !s.ok()) {
    std::cerr << "snnplan: error: " << s.message() << "\nRun 'snnplan --help' for usage.\n";
    return kExitBadInput;
  }
  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForVersion& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    std::string what = e.what();
    // Name an unknown subcommand instead of CLI11's "A subcommand is required".
    if (argc > 1 && argv[1][0] != '-') {
      bool known = false;
      for (const CLI::App* sub : app.get_subcommands({})) known = known || sub->check_name(argv[1]);
      if (!known) what = std::string("unknown command '") + argv[1] + "'";
    }
    std::cerr << "snnplan: error: " << what << "\nRun 'snnplan --help' for usage.\n";
    return kExitBadInput;
  }
  if (!run) return kExitBadInput;
  return RunCommand(run);
}

}  // namespace snnplan::cli
