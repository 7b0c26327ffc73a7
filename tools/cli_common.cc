#include "cli_common.h"

#include <iostream>

namespace snnplan::cli {

int ReportError(const absl::Status& status) {
  std::cerr << "snnplan: error: " << status.message() << "\n";
  return kExitBadInput;
}

}  // namespace snnplan::cli
