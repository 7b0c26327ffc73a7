// MaxPool2d, AvgPool2d and GlobalAvgPool against direct references written
// from the ONNX definitions (pads outside the input; MaxPool ignores them;
// AveragePool count_include_pad 0 divides by the input positions in the
// window, 1 by the window positions inside the padded input, so a ceil-mode
// window hanging past the padding counts only what lies inside it), on
// hand-computed and random geometries, in floor and ceil mode; determinism
// across thread counts; geometry errors.
//
// Tolerance: the average is summed in double and rounded once, so it is the
// correctly rounded mean up to double rounding (windows are small): we allow
// 1 ulp. Max pooling is exact.
#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <random>
#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "snnplan/runtime.h"

namespace snnplan::runtime {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

constexpr float kInf = std::numeric_limits<float>::infinity();
constexpr float kNaN = std::numeric_limits<float>::quiet_NaN();

int64_t FloorOut(int64_t in, int64_t p0, int64_t p1, int64_t f, int64_t d, int64_t s) {
  return (in + p0 + p1 - d * (f - 1) - 1) / s + 1;
}
int64_t CeilOut(int64_t in, int64_t p0, int64_t p1, int64_t f, int64_t d, int64_t s) {
  return (in + p0 + p1 - d * (f - 1) - 1 + s - 1) / s + 1;
}

PoolGeometry Geo(int64_t n, int64_t c, int64_t h, int64_t w, int64_t fy, int64_t fx, int64_t sy,
                 int64_t sx, int64_t dy = 1, int64_t dx = 1, int64_t pt = 0, int64_t pl = 0,
                 int64_t pb = 0, int64_t pr = 0, bool ceil = false) {
  PoolGeometry g{n, c, h, w, fy, fx, sy, sx, dy, dx, pt, pl, pb, pr, 0, 0, false};
  g.oy = ceil ? CeilOut(h, pt, pb, fy, dy, sy) : FloorOut(h, pt, pb, fy, dy, sy);
  g.ox = ceil ? CeilOut(w, pl, pr, fx, dx, sx) : FloorOut(w, pl, pr, fx, dx, sx);
  return g;
}

std::string Describe(const PoolGeometry& g) {
  return std::to_string(g.h) + "x" + std::to_string(g.w) + " f" + std::to_string(g.fy) + "x" +
         std::to_string(g.fx) + " s" + std::to_string(g.stride_y) + "," +
         std::to_string(g.stride_x) + " d" + std::to_string(g.dil_y) + "," +
         std::to_string(g.dil_x) + " pads " + std::to_string(g.pad_top) + "," +
         std::to_string(g.pad_left) + "," + std::to_string(g.pad_bottom) + "," +
         std::to_string(g.pad_right) + " -> " + std::to_string(g.oy) + "x" + std::to_string(g.ox) +
         (g.count_include_pad ? " include_pad" : "");
}

// Direct definitions, one output at a time.
std::vector<double> Reference(const PoolGeometry& g, const std::vector<float>& x, bool max) {
  std::vector<double> y;
  for (int64_t p = 0; p < g.n * g.c; ++p) {
    for (int64_t oy = 0; oy < g.oy; ++oy) {
      for (int64_t ox = 0; ox < g.ox; ++ox) {
        double m = -INFINITY, sum = 0;
        int64_t real = 0, padded = 0;
        for (int64_t ky = 0; ky < g.fy; ++ky) {
          for (int64_t kx = 0; kx < g.fx; ++kx) {
            const int64_t iy = oy * g.stride_y - g.pad_top + ky * g.dil_y;
            const int64_t ix = ox * g.stride_x - g.pad_left + kx * g.dil_x;
            if (iy >= -g.pad_top && iy < g.h + g.pad_bottom && ix >= -g.pad_left &&
                ix < g.w + g.pad_right) {
              ++padded;
            }
            if (iy < 0 || iy >= g.h || ix < 0 || ix >= g.w) continue;
            const float v = x[static_cast<size_t>((p * g.h + iy) * g.w + ix)];
            m = std::max<double>(m, v);
            sum += v;
            ++real;
          }
        }
        const int64_t count = g.count_include_pad ? padded : real;
        y.push_back(max ? m : (count > 0 ? sum / static_cast<double>(count) : 0.0));
      }
    }
  }
  return y;
}

std::vector<float> RunPool(const PoolGeometry& g, const std::vector<float>& x, bool max,
                           int threads) {
  std::vector<float> y(static_cast<size_t>(g.n * g.c * g.oy * g.ox), kNaN);
  absl::Status s =
      max ? MaxPool2d(g, x.data(), y.data(), threads) : AvgPool2d(g, x.data(), y.data(), threads);
  EXPECT_TRUE(s.ok()) << Describe(g) << ": " << s;
  return y;
}

void Check(const PoolGeometry& g, uint32_t seed) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> u(-2.0f, 1.0f);  // mostly negative: padding must not win
  std::vector<float> x(static_cast<size_t>(g.n * g.c * g.h * g.w));
  for (float& v : x) v = u(rng);
  for (bool max : {true, false}) {
    const std::vector<double> ref = Reference(g, x, max);
    const std::vector<float> y = RunPool(g, x, max, 2);
    ASSERT_EQ(y.size(), ref.size());
    for (size_t i = 0; i < y.size(); ++i) {
      if (max) {
        ASSERT_EQ(y[i], static_cast<float>(ref[i])) << Describe(g) << " max y[" << i << "]";
      } else {
        const float r = static_cast<float>(ref[i]);
        ASSERT_LE(std::abs(y[i] - r), std::abs(std::nextafter(r, kInf) - r))
            << Describe(g) << " avg y[" << i << "] = " << y[i] << ", reference " << ref[i];
      }
    }
  }
}

// ------------------------------------------------------------ hand-computed

const std::vector<float> kX = {1, 2, 3, 4, 5, 6, 7, 8, 9};  // 3x3

TEST(MaxPool2d, HandComputed) {
  EXPECT_THAT(RunPool(Geo(1, 1, 3, 3, 2, 2, 1, 1), kX, true, 1), ElementsAre(5, 6, 8, 9));
  // All-negative input, 3x3 window, pad 1, stride 2: a zero pad would win
  // every window; ONNX pads with -inf.
  std::vector<float> neg(kX);
  for (float& v : neg) v = -v;
  EXPECT_THAT(RunPool(Geo(1, 1, 3, 3, 3, 3, 2, 2, 1, 1, 1, 1, 1, 1), neg, true, 1),
              ElementsAre(-1, -2, -4, -5));
  // Dilation 2, window 2x2: x[0][0], x[0][2], x[2][0], x[2][2].
  EXPECT_THAT(RunPool(Geo(1, 1, 3, 3, 2, 2, 1, 1, 2, 2), neg, true, 1), ElementsAre(-1));
  // A NaN in the window gives NaN (as PyTorch); others are unaffected.
  std::vector<float> with_nan(kX);
  with_nan[0] = kNaN;
  std::vector<float> y = RunPool(Geo(1, 1, 3, 3, 2, 2, 1, 1), with_nan, true, 1);
  EXPECT_TRUE(std::isnan(y[0]));
  EXPECT_THAT(std::vector<float>(y.begin() + 1, y.end()), ElementsAre(6, 8, 9));
}

TEST(MaxPool2d, CeilModeWindowOutsideEverythingIsMinusInfinity) {
  // h = 3, 1x1 window, stride 2, bottom pad 1: floor mode 2 rows, ceil mode
  // 3; the third row's window starts at row 4, past the padded input.
  PoolGeometry g = Geo(1, 1, 3, 1, 1, 1, 2, 1, 1, 1, 0, 0, 1, 0, true);
  ASSERT_EQ(g.oy, 3);
  const std::vector<float> x = {1, 2, 3};
  EXPECT_THAT(RunPool(g, x, true, 1), ElementsAre(1, 3, -kInf));
  g.count_include_pad = true;
  EXPECT_THAT(RunPool(g, x, false, 1), ElementsAre(1, 3, 0));
}

TEST(AvgPool2d, HandComputedCountIncludePad) {
  // 3x3 window, stride 2, pads 1: four windows of 4 input values each.
  PoolGeometry g = Geo(1, 1, 3, 3, 3, 3, 2, 2, 1, 1, 1, 1, 1, 1);
  EXPECT_THAT(RunPool(g, kX, false, 1), ElementsAre(12.0f / 4, 16.0f / 4, 24.0f / 4, 28.0f / 4));
  g.count_include_pad = true;
  EXPECT_THAT(RunPool(g, kX, false, 1), ElementsAre(12.0f / 9, 16.0f / 9, 24.0f / 9, 28.0f / 9));
}

TEST(AvgPool2d, HandComputedCeilMode) {
  // 2x2 window, stride 2, no padding, ceil mode: the extra row/column
  // windows hang past the input and count only its elements, with or
  // without count_include_pad (nothing of them lies in padding).
  PoolGeometry g = Geo(1, 1, 3, 3, 2, 2, 2, 2, 1, 1, 0, 0, 0, 0, true);
  ASSERT_EQ(g.oy, 2);
  const std::vector<float> expected = {(1 + 2 + 4 + 5) / 4.0f, (3 + 6) / 2.0f, (7 + 8) / 2.0f, 9};
  EXPECT_THAT(RunPool(g, kX, false, 1),
              ElementsAre(expected[0], expected[1], expected[2], expected[3]));
  g.count_include_pad = true;
  EXPECT_THAT(RunPool(g, kX, false, 1),
              ElementsAre(expected[0], expected[1], expected[2], expected[3]));
  // With a pad of 1 at the bottom/right and ceil mode: 3x3 windows, stride
  // 2; the last window covers row/col 2 of the input and the padding at 3,
  // and hangs past the padding at 4.
  PoolGeometry p = Geo(1, 1, 3, 3, 3, 3, 2, 2, 1, 1, 0, 0, 1, 1, true);
  ASSERT_EQ(p.oy, 2);
  EXPECT_THAT(RunPool(p, kX, false, 1),
              ElementsAre(45.0f / 9, (3 + 6 + 9) / 3.0f, (7 + 8 + 9) / 3.0f, 9));
  p.count_include_pad = true;  // counts row/col 3 (padding), not 4 (outside)
  EXPECT_THAT(RunPool(p, kX, false, 1),
              ElementsAre(45.0f / 9, (3 + 6 + 9) / 6.0f, (7 + 8 + 9) / 6.0f, 9.0f / 4));
}

TEST(GlobalAvgPool, HandComputedAndReference) {
  std::vector<float> y(2);
  const std::vector<float> x = {1, 2, 3, 4, -1, -2, -3, 10};
  GlobalAvgPool(1, 2, 4, x.data(), y.data());
  EXPECT_THAT(y, ElementsAre(2.5f, 1.0f));
  // Long planes: the double sum rounds once.
  std::mt19937 rng(3);
  std::uniform_real_distribution<float> u(0.0f, 1.0f);
  std::vector<float> big(3 * 4 * 4096);
  for (float& v : big) v = u(rng);
  std::vector<float> out(12);
  GlobalAvgPool(3, 4, 4096, big.data(), out.data());
  for (int p = 0; p < 12; ++p) {
    double sum = 0;
    for (int i = 0; i < 4096; ++i) sum += big[static_cast<size_t>(p * 4096 + i)];
    EXPECT_EQ(out[static_cast<size_t>(p)], static_cast<float>(sum / 4096)) << p;
  }
}

// ------------------------------------------------------------ references

TEST(Pooling, MatchesDirectReference) {
  const PoolGeometry fixed[] = {
      Geo(2, 3, 8, 8, 2, 2, 2, 2),                           // SEW-ResNet's 2x2/2
      Geo(1, 2, 7, 7, 3, 3, 2, 2, 1, 1, 1, 1, 1, 1),         // ResNet stem pool
      Geo(1, 2, 7, 7, 3, 3, 2, 2, 1, 1, 1, 1, 1, 1, true),   // ... ceil mode
      Geo(1, 1, 9, 6, 2, 3, 1, 2, 2, 1, 1, 0, 2, 1),         // dilation, asymmetric pads
      Geo(1, 2, 1, 20, 1, 4, 1, 3, 1, 1, 0, 1, 0, 2, true),  // 1-D, ceil mode
      Geo(1, 1, 5, 5, 5, 5, 1, 1, 1, 1, 2, 2, 2, 2),         // window = input, big pads
  };
  uint32_t seed = 1;
  for (PoolGeometry g : fixed) {
    for (bool include : {false, true}) {
      g.count_include_pad = include;
      Check(g, seed++);
    }
  }
  std::mt19937 rng(77);
  auto pick = [&](int64_t lo, int64_t hi) {
    return std::uniform_int_distribution<int64_t>(lo, hi)(rng);
  };
  int tested = 0;
  while (tested < 150) {
    const int64_t fy = pick(1, 4), fx = pick(1, 4);
    PoolGeometry g = Geo(pick(1, 2), pick(1, 3), pick(1, 11), pick(1, 11), fy, fx, pick(1, 3),
                         pick(1, 3), pick(1, 2), pick(1, 2), pick(0, fy / 2), pick(0, fx / 2),
                         pick(0, fy / 2), pick(0, fx / 2), pick(0, 1) == 1);
    if (g.h + g.pad_top + g.pad_bottom < g.dil_y * (g.fy - 1) + 1 ||
        g.w + g.pad_left + g.pad_right < g.dil_x * (g.fx - 1) + 1) {
      continue;
    }
    g.count_include_pad = pick(0, 1) == 1;
    Check(g, static_cast<uint32_t>(100 + tested));
    ++tested;
  }
}

TEST(Pooling, ByteIdenticalForAnyThreadCount) {
  PoolGeometry g = Geo(3, 17, 20, 20, 3, 3, 2, 2, 1, 1, 1, 1, 1, 1, true);
  std::mt19937 rng(5);
  std::uniform_real_distribution<float> u(-1.0f, 1.0f);
  std::vector<float> x(static_cast<size_t>(g.n * g.c * g.h * g.w));
  for (float& v : x) v = u(rng);
  for (bool max : {true, false}) {
    const std::vector<float> y1 = RunPool(g, x, max, 1);
    for (int threads : {2, 7}) {
      const std::vector<float> yt = RunPool(g, x, max, threads);
      EXPECT_EQ(std::memcmp(yt.data(), y1.data(), y1.size() * sizeof(float)), 0) << threads;
    }
  }
}

TEST(Pooling, RefusesInconsistentGeometryWithoutWriting) {
  const PoolGeometry good = Geo(1, 1, 5, 5, 2, 2, 2, 2);  // floor 2, ceil 3
  struct Case {
    std::string error;
    PoolGeometry g;
  };
  std::vector<Case> cases;
  auto with = [&](std::string error, auto change) {
    PoolGeometry g = good;
    change(g);
    cases.push_back({std::move(error), g});
  };
  with("c = 0 is outside [1,", [](PoolGeometry& g) { g.c = 0; });
  with("stride_y = 0 is outside", [](PoolGeometry& g) { g.stride_y = 0; });
  with("pad_bottom = -1 is outside [0,", [](PoolGeometry& g) { g.pad_bottom = -1; });
  with("output size 1x2 does not match the geometry (floor mode 2x2, ceil mode 3x3)",
       [](PoolGeometry& g) { g.oy = 1; });
  with("output size 2x4 does not match", [](PoolGeometry& g) { g.ox = 4; });
  with("the dilated window (2x7) is larger than the padded input (5x5)",
       [](PoolGeometry& g) { g.dil_x = 6; });
  with("tensor sizes overflow", [](PoolGeometry& g) {
    g.n = g.c = g.h = int64_t{1} << 30;
    g.oy = FloorOut(g.h, 0, 0, 2, 1, 2);
  });
  const std::vector<float> x(100, 1.0f);
  for (const Case& c : cases) {
    for (bool max : {true, false}) {
      std::vector<float> y(4, 42.0f);
      absl::Status s =
          max ? MaxPool2d(c.g, x.data(), y.data(), 2) : AvgPool2d(c.g, x.data(), y.data(), 2);
      EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument) << c.error;
      EXPECT_THAT(s.message(), HasSubstr((max ? "MaxPool2d: " : "AvgPool2d: ") + c.error));
      EXPECT_THAT(y, ::testing::Each(42.0f));
    }
  }
}

}  // namespace
}  // namespace snnplan::runtime
