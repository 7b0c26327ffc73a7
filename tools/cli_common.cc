#include "cli_common.h"

#include <signal.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <iostream>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"

namespace snnplan::cli {

int ReportError(const absl::Status& status) {
  std::cerr << "snnplan: error: " << status.message() << "\n";
  return kExitBadInput;
}

CliProgress::CliProgress(std::string unit)
    : unit_(std::move(unit)), tty_(::isatty(STDERR_FILENO) != 0), lines_(&std::cerr) {
  const char* k = std::getenv("SNNPLAN_TEST_INTERRUPT_AFTER");
  if (k != nullptr && !absl::SimpleAtoi(k, &interrupt_after_)) interrupt_after_ = -1;
}

void CliProgress::Start(const std::string& what) {
  finished_phases_ += last_done_;
  last_done_ = last_total_ = 0;
  lines_.Start(what, unit_);
}

void CliProgress::Update(size_t done, size_t total) {
  last_done_ = done;
  last_total_ = total;
  if (tty_) {
    const int width = 40;
    const int filled = static_cast<int>(width * done / std::max<size_t>(1, total));
    std::fprintf(stderr, "\r[%s%s] %zu/%zu", std::string(filled, '#').c_str(),
                 std::string(width - filled, '.').c_str(), done, total);
    if (done == total) std::fprintf(stderr, "\n");
  } else {
    lines_.Update(done, total);
  }
  if (interrupt_after_ >= 0 && static_cast<int64_t>(finished_phases_ + done) >= interrupt_after_) {
    interrupt_after_ = -1;  // once
    ::raise(SIGINT);
  }
}

std::string PerSize(const std::string& path, const std::string& size, bool several) {
  if (!several || path.empty() || path == "-") return path;
  const size_t dot = path.rfind('.');
  const size_t slash = path.rfind('/');
  if (dot == std::string::npos || (slash != std::string::npos && dot < slash))
    return absl::StrCat(path, "-", size);
  return absl::StrCat(path.substr(0, dot), "-", size, path.substr(dot));
}

}  // namespace snnplan::cli
