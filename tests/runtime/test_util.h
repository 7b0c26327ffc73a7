// Helpers shared by the runtime tests: scratch directories, raw files.
#pragma once

#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <iterator>
#include <sstream>
#include <string>

#include "gtest/gtest.h"

namespace snnplan::runtime::testing {

namespace fs = std::filesystem;

// tests/data/runtime/<name> (the numpy-written fixtures, make_fixtures.py).
inline std::string Fixture(const std::string& name) {
  return std::string(SNNPLAN_SOURCE_DIR) + "/tests/data/runtime/" + name;
}

// An empty directory of its own for the running test (ctest runs tests as
// separate processes in parallel).
inline fs::path FreshDir() {
  const ::testing::TestInfo* info = ::testing::UnitTest::GetInstance()->current_test_info();
  fs::path d =
      fs::temp_directory_path() / ("snnplan_runtime_" + std::string(info->test_suite_name()) + "_" +
                                   info->name() + "_" + std::to_string(::getpid()));
  fs::remove_all(d);
  fs::create_directories(d);
  return d;
}

inline std::string ReadBytes(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

inline void WriteBytes(const fs::path& p, const std::string& bytes) {
  std::ofstream out(p, std::ios::binary);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
}

}  // namespace snnplan::runtime::testing
