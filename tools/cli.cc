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
  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForVersion& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    app.exit(e);
    return kExitBadInput;
  }
  if (!run) return kExitBadInput;
  return run();
}

}  // namespace snnplan::cli
