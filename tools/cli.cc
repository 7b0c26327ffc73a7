#include <iostream>

#include "cli_common.h"
#include "commands.h"

#ifndef SNNPLAN_VERSION
#define SNNPLAN_VERSION "0.0.0"
#endif

namespace snnplan::cli {

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
  RegisterPlanCommand(app, &run);
  RegisterExploreCommand(app, &run);
  RegisterAllocateCommand(app, &run);
  RegisterValidateCommand(app, &run);
  RegisterCostCommand(app, &run);
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
  return run();
}

}  // namespace snnplan::cli
