#include "commands.h"

int main(int argc, char** argv) { return snnplan::cli::RunCli(argc, argv); }
