// Hostile .npy/.npz bytes: every truncation and thousands of seeded byte
// mutations of the numpy fixtures are either read or refused with an error,
// never crash, hang or allocate beyond the header's bound (run under
// ASan/UBSan in CI, tools/ci-sanitize.sh).
#include <cstdint>
#include <random>
#include <string>

#include "gtest/gtest.h"
#include "runtime/test_util.h"
#include "snnplan/runtime.h"

namespace snnplan::runtime {
namespace {

using testing::Fixture;
using testing::ReadBytes;

// Reads `bytes` as .npy or .npz; an accepted array must be self-consistent.
void Exercise(const std::string& bytes, bool npz) {
  auto check = [](const Array& a) {
    int64_t elements = 1;
    for (int64_t d : a.shape) {
      ASSERT_GE(d, 0);
      elements *= d;
    }
    ASSERT_EQ(static_cast<uint64_t>(elements), a.values.size());
  };
  if (npz) {
    absl::StatusOr<std::map<std::string, Array>> m = ParseNpz(bytes, "mutant.npz");
    if (m.ok()) {
      for (const auto& [k, a] : *m) check(a);
    } else {
      EXPECT_EQ(m.status().message().substr(0, 10), "mutant.npz");
    }
  } else {
    absl::StatusOr<Array> a = ParseNpy(bytes, "mutant.npy");
    if (a.ok()) {
      check(*a);
    } else {
      EXPECT_EQ(a.status().message().substr(0, 10), "mutant.npy");
    }
  }
}

TEST(HostileBytes, EveryTruncation) {
  for (const char* f : {"f32.npy", "f16.npy", "i64.npy", "f32_v3.npy"}) {
    const std::string bytes = ReadBytes(Fixture(f));
    for (size_t n = 0; n < bytes.size(); ++n) {
      EXPECT_FALSE(ParseNpy(bytes.substr(0, n), f).ok()) << f << " cut at " << n;
    }
  }
  for (const char* f : {"stored.npz", "compressed.npz"}) {
    const std::string bytes = ReadBytes(Fixture(f));
    for (size_t n = 0; n < bytes.size(); ++n) {
      EXPECT_FALSE(ParseNpz(bytes.substr(0, n), f).ok()) << f << " cut at " << n;
    }
  }
}

TEST(HostileBytes, SeededMutations) {
  std::mt19937 rng(14);
  for (const char* f :
       {"f32.npy", "f64.npy", "bool.npy", "spikes.npy", "stored.npz", "compressed.npz"}) {
    const std::string original = ReadBytes(Fixture(f));
    const bool npz = std::string(f).ends_with(".npz");
    for (int round = 0; round < 1500; ++round) {
      std::string bytes = original;
      const int edits = 1 + static_cast<int>(rng() % 4);
      for (int e = 0; e < edits; ++e) {
        const size_t at = rng() % bytes.size();
        switch (rng() % 4) {
          case 0:  // flip bits
            bytes[at] = static_cast<char>(bytes[at] ^ static_cast<char>(1 + rng() % 255));
            break;
          case 1:  // a digit (shapes, sizes in headers)
            bytes[at] = static_cast<char>('0' + rng() % 10);
            break;
          case 2:  // an extreme byte
            bytes[at] = rng() % 2 == 0 ? '\0' : '\xff';
            break;
          default:  // drop a byte
            bytes.erase(at, 1);
            break;
        }
        if (bytes.empty()) bytes = "x";
      }
      Exercise(bytes, npz);
      if (::testing::Test::HasFatalFailure()) return;
    }
  }
}

}  // namespace
}  // namespace snnplan::runtime
