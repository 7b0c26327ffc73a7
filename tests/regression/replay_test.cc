// Replays every input in tests/data/regression/<target>/ through the same
// harness the libFuzzer target runs (fuzz/fuzz_<target>.cc, compiled here
// under another entry-point name). A crash, sanitizer report or harness
// abort fails the test; any error status is fine. Inputs that crashed once
// are also checked below for the clean error they must now produce.
#include <algorithm>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "snnplan/importer.h"

extern "C" int SnnplanFuzzImporter(const uint8_t* data, size_t size);
extern "C" int SnnplanFuzzHwdesc(const uint8_t* data, size_t size);
extern "C" int SnnplanFuzzSchedule(const uint8_t* data, size_t size);

namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;

const fs::path kData = fs::path(SNNPLAN_SOURCE_DIR) / "tests/data/regression";

std::string ReadAll(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::vector<fs::path> Inputs(const std::string& target) {
  std::vector<fs::path> out;
  for (const auto& e : fs::directory_iterator(kData / target))
    if (e.is_regular_file()) out.push_back(e.path());
  std::sort(out.begin(), out.end());
  return out;
}

void Replay(const std::string& target, int (*entry)(const uint8_t*, size_t)) {
  std::vector<fs::path> inputs = Inputs(target);
  ASSERT_FALSE(inputs.empty()) << "no inputs in " << (kData / target);
  for (const fs::path& p : inputs) {
    SCOPED_TRACE(p.string());
    std::string bytes = ReadAll(p);
    EXPECT_EQ(entry(reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size()), 0);
  }
}

TEST(Replay, ImporterInputs) { Replay("importer", SnnplanFuzzImporter); }
TEST(Replay, HwdescInputs) { Replay("hwdesc", SnnplanFuzzHwdesc); }
TEST(Replay, ScheduleInputs) { Replay("schedule", SnnplanFuzzSchedule); }

// Found by fuzz_importer: a Slice whose axes/lengths do not fit its input
// read out of bounds (SEGV) during shape propagation.
TEST(Replay, SliceAxisOutOfRangeIsAnError) {
  std::string bytes = ReadAll(kData / "importer/fuzz_slice_axis_out_of_range.onnx");
  snnplan::importer::ImportOptions o;
  o.timesteps = 4;
  auto w = snnplan::importer::ImportBytes(bytes, "slice.onnx", o);
  ASSERT_FALSE(w.ok());
  EXPECT_THAT(std::string(w.status().message()), HasSubstr("slice.onnx: "));
}

// Found by fuzz_importer: Gather with an axis beyond the input rank made an
// iterator past the end of the shape (UBSan: offset applied to null pointer).
TEST(Replay, GatherAxisOutOfRangeIsAnError) {
  std::string bytes = ReadAll(kData / "importer/fuzz_gather_axis_out_of_range.onnx");
  snnplan::importer::ImportOptions o;
  o.timesteps = 4;
  auto w = snnplan::importer::ImportBytes(bytes, "gather.onnx", o);
  ASSERT_FALSE(w.ok());
  EXPECT_THAT(std::string(w.status().message()), HasSubstr("gather.onnx: "));
}

// Found by fuzz_importer: Unsqueeze with repeated / out-of-range axes read
// past the end of the input shape (UBSan: reference binding to null).
TEST(Replay, UnsqueezeAxesOutOfRangeIsAnError) {
  std::string bytes = ReadAll(kData / "importer/fuzz_unsqueeze_axes_out_of_range.onnx");
  snnplan::importer::ImportOptions o;
  o.timesteps = 4;
  auto w = snnplan::importer::ImportBytes(bytes, "unsqueeze.onnx", o);
  ASSERT_FALSE(w.ok());
  EXPECT_THAT(std::string(w.status().message()), HasSubstr("unsqueeze.onnx: "));
}

}  // namespace
