#include "cli_common.h"
#include "commands.h"

int main(int argc, char** argv) {
  // Uncommitted output files are removed when a signal ends the process.
  snnplan::cli::InstallTempFileCleanup();
  return snnplan::cli::RunCli(argc, argv);
}
