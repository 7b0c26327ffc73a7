// Conv2d and Linear against a direct reference written here (double
// accumulation), on hand-computed cases and on fixed and random geometries
// (stride, dilation, asymmetric padding, groups, depthwise, 1x1, 1-D,
// several position blocks); byte-identical results for 1, 2 and 7 threads;
// every geometry error.
//
// Tolerance: a float32 sum of m terms (products rounded once each, in any
// order) is within gamma(m) * sum |terms| of the exact sum, gamma(m) =
// m u / (1 - m u), u = 2^-24 (Higham, Accuracy and Stability, 3.1). We check
// |y - exact| <= gamma(K + 2) * (sum |w x| + |bias|), K = the reduction
// length: a rigorous bound, whatever summation order BLAS uses.
#include <bit>
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

using ::testing::HasSubstr;

constexpr float kNaN = std::numeric_limits<float>::quiet_NaN();

double Gamma(int64_t m) {
  const double u = 0x1p-24;
  return static_cast<double>(m) * u / (1.0 - static_cast<double>(m) * u);
}

std::vector<float> Random(int64_t count, std::mt19937& rng, bool spikes = false) {
  std::uniform_real_distribution<float> u(-1.0f, 1.0f);
  std::vector<float> v(static_cast<size_t>(count));
  for (float& f : v) f = spikes ? (u(rng) > 0.3f ? 1.0f : 0.0f) : u(rng);
  return v;
}

int64_t OutSize(int64_t in, int64_t pad0, int64_t pad1, int64_t f, int64_t dil, int64_t stride) {
  return (in + pad0 + pad1 - dil * (f - 1) - 1) / stride + 1;
}

ConvGeometry Geo(int64_t n, int64_t c, int64_t h, int64_t w, int64_t k, int64_t groups, int64_t fy,
                 int64_t fx, int64_t sy = 1, int64_t sx = 1, int64_t dy = 1, int64_t dx = 1,
                 int64_t pt = 0, int64_t pl = 0, int64_t pb = 0, int64_t pr = 0) {
  ConvGeometry g{n, c, h, w, k, groups, fy, fx, sy, sx, dy, dx, pt, pl, pb, pr, 0, 0};
  g.oy = OutSize(h, pt, pb, fy, dy, sy);
  g.ox = OutSize(w, pl, pr, fx, dx, sx);
  return g;
}

std::string Describe(const ConvGeometry& g) {
  return "n" + std::to_string(g.n) + " c" + std::to_string(g.c) + " " + std::to_string(g.h) + "x" +
         std::to_string(g.w) + " k" + std::to_string(g.k) + " groups" + std::to_string(g.groups) +
         " f" + std::to_string(g.fy) + "x" + std::to_string(g.fx) + " s" +
         std::to_string(g.stride_y) + "," + std::to_string(g.stride_x) + " d" +
         std::to_string(g.dil_y) + "," + std::to_string(g.dil_x) + " pads " +
         std::to_string(g.pad_top) + "," + std::to_string(g.pad_left) + "," +
         std::to_string(g.pad_bottom) + "," + std::to_string(g.pad_right) + " -> " +
         std::to_string(g.oy) + "x" + std::to_string(g.ox);
}

struct Reference {
  std::vector<double> y;      // exact (double) result
  std::vector<double> bound;  // allowed float32 error
};

Reference DirectConv(const ConvGeometry& g, const std::vector<float>& x,
                     const std::vector<float>& w, const float* bias) {
  const int64_t cg = g.c / g.groups, kg = g.k / g.groups;
  Reference r;
  for (int64_t n = 0; n < g.n; ++n) {
    for (int64_t k = 0; k < g.k; ++k) {
      const int64_t grp = k / kg;
      for (int64_t oy = 0; oy < g.oy; ++oy) {
        for (int64_t ox = 0; ox < g.ox; ++ox) {
          double acc = 0, mag = 0;
          for (int64_t ci = 0; ci < cg; ++ci) {
            for (int64_t ky = 0; ky < g.fy; ++ky) {
              for (int64_t kx = 0; kx < g.fx; ++kx) {
                const int64_t iy = oy * g.stride_y - g.pad_top + ky * g.dil_y;
                const int64_t ix = ox * g.stride_x - g.pad_left + kx * g.dil_x;
                if (iy < 0 || iy >= g.h || ix < 0 || ix >= g.w) continue;  // zero padding
                const double t =
                    static_cast<double>(
                        w[static_cast<size_t>(((k * cg + ci) * g.fy + ky) * g.fx + kx)]) *
                    x[static_cast<size_t>(((n * g.c + grp * cg + ci) * g.h + iy) * g.w + ix)];
                acc += t;
                mag += std::abs(t);
              }
            }
          }
          if (bias != nullptr) {
            acc += bias[k];
            mag += std::abs(bias[k]);
          }
          r.y.push_back(acc);
          r.bound.push_back(Gamma(cg * g.fy * g.fx + 2) * mag);
        }
      }
    }
  }
  return r;
}

// Runs Conv2d into a NaN-filled output (nothing may leak from it).
std::vector<float> RunConv(const ConvGeometry& g, const std::vector<float>& x,
                           const std::vector<float>& w, const float* bias, int threads) {
  std::vector<float> y(static_cast<size_t>(g.n * g.k * g.oy * g.ox), kNaN);
  absl::Status s = Conv2d(g, x.data(), w.data(), bias, y.data(), threads);
  EXPECT_TRUE(s.ok()) << Describe(g) << ": " << s;
  return y;
}

void CheckAgainstReference(const ConvGeometry& g, uint32_t seed, bool spikes) {
  std::mt19937 rng(seed);
  const std::vector<float> x = Random(g.n * g.c * g.h * g.w, rng, spikes);
  const std::vector<float> w = Random(g.k * (g.c / g.groups) * g.fy * g.fx, rng);
  const std::vector<float> b = Random(g.k, rng);
  for (const float* bias : {b.data(), static_cast<const float*>(nullptr)}) {
    const Reference ref = DirectConv(g, x, w, bias);
    const std::vector<float> y = RunConv(g, x, w, bias, 2);
    ASSERT_EQ(y.size(), ref.y.size());
    int bad = 0;
    for (size_t i = 0; i < y.size() && bad < 5; ++i) {
      if (!(std::abs(y[i] - ref.y[i]) <= ref.bound[i])) {
        ++bad;
        ADD_FAILURE() << Describe(g) << (bias ? " bias" : " no bias") << ": y[" << i
                      << "] = " << y[i] << ", reference " << ref.y[i] << ", bound " << ref.bound[i];
      }
    }
  }
}

// ------------------------------------------------------------ hand-computed

TEST(Conv2d, HandComputed3x3) {
  // x = 1..9 (3x3); an all-ones 3x3 kernel with padding 1 sums each
  // neighbourhood; bias 1.
  const std::vector<float> x = {1, 2, 3, 4, 5, 6, 7, 8, 9};
  const std::vector<float> ones(9, 1.0f);
  const float bias = 1.0f;
  EXPECT_THAT(RunConv(Geo(1, 1, 3, 3, 1, 1, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1), x, ones, &bias, 1),
              ::testing::ElementsAre(13, 22, 17, 28, 46, 34, 25, 40, 29));
  // Stride 2: the four corners' neighbourhoods.
  EXPECT_THAT(RunConv(Geo(1, 1, 3, 3, 1, 1, 3, 3, 2, 2, 1, 1, 1, 1, 1, 1), x, ones, nullptr, 1),
              ::testing::ElementsAre(12, 16, 24, 28));
  // A 2x2 kernel [[1, 0], [0, -1]], no padding: x[i][j] - x[i+1][j+1] = -4.
  const std::vector<float> diag = {1, 0, 0, -1};
  EXPECT_THAT(RunConv(Geo(1, 1, 3, 3, 1, 1, 2, 2), x, diag, nullptr, 1),
              ::testing::ElementsAre(-4, -4, -4, -4));
  // Dilation 2 with that kernel: x[0][0] - x[2][2] = -8, one output.
  EXPECT_THAT(RunConv(Geo(1, 1, 3, 3, 1, 1, 2, 2, 1, 1, 2, 2), x, diag, nullptr, 1),
              ::testing::ElementsAre(-8));
  // Asymmetric padding (top 1, left 0, bottom 0, right 1), 2x2 ones, stride 2:
  // windows rows {-1, 0} x cols {0, 1} and {2, 3}, rows {1, 2} x ...
  const std::vector<float> ones4(4, 1.0f);
  EXPECT_THAT(RunConv(Geo(1, 1, 3, 3, 1, 1, 2, 2, 2, 2, 1, 1, 1, 0, 0, 1), x, ones4, nullptr, 1),
              ::testing::ElementsAre(1 + 2, 3, 4 + 5 + 7 + 8, 6 + 9));
}

TEST(Conv2d, HandComputedChannelsAndGroups) {
  // Two input channels (x and 10x), two output channels, groups 1:
  // k0 = 1*c0 + 1*c1, k1 = c0 - c1 (1x1 kernels).
  const std::vector<float> x = {1, 2, 3, 4, 10, 20, 30, 40};
  const std::vector<float> w = {1, 1, 1, -1};
  EXPECT_THAT(RunConv(Geo(1, 2, 2, 2, 2, 1, 1, 1), x, w, nullptr, 1),
              ::testing::ElementsAre(11, 22, 33, 44, -9, -18, -27, -36));
  // groups 2 (depthwise): k0 = 2*c0, k1 = -1*c1.
  const std::vector<float> dw = {2, -1};
  EXPECT_THAT(RunConv(Geo(1, 2, 2, 2, 2, 2, 1, 1), x, dw, nullptr, 1),
              ::testing::ElementsAre(2, 4, 6, 8, -10, -20, -30, -40));
}

TEST(Conv2d, HandComputed1D) {
  // x = 1..5, kernel [1, 2, 3], padding 1 each side: a 1-D convolution.
  const std::vector<float> x = {1, 2, 3, 4, 5};
  const std::vector<float> w = {1, 2, 3};
  EXPECT_THAT(RunConv(Geo(1, 1, 1, 5, 1, 1, 1, 3, 1, 1, 1, 1, 0, 1, 0, 1), x, w, nullptr, 1),
              ::testing::ElementsAre(0 + 2 + 6, 1 + 4 + 9, 2 + 6 + 12, 3 + 8 + 15, 4 + 10 + 0));
}

// ------------------------------------------------------------ references

TEST(Conv2d, MatchesDirectReferenceOnFixedGeometries) {
  const ConvGeometry cases[] = {
      Geo(2, 3, 7, 6, 4, 1, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1),      // 3x3 pad 1
      Geo(1, 5, 9, 8, 3, 1, 3, 3, 2, 2, 1, 1, 1, 1, 1, 1),      // stride 2
      Geo(1, 4, 10, 10, 5, 1, 3, 3, 1, 1, 2, 2, 2, 2, 2, 2),    // dilation 2
      Geo(1, 3, 8, 9, 2, 1, 2, 3, 1, 2, 1, 1, 0, 1, 2, 0),      // asymmetric pads
      Geo(2, 6, 7, 7, 4, 2, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1),      // groups 2
      Geo(2, 8, 9, 9, 8, 8, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1),      // depthwise
      Geo(1, 8, 9, 9, 8, 8, 3, 3, 2, 2, 1, 1, 1, 1, 1, 1),      // depthwise stride 2
      Geo(1, 4, 9, 9, 8, 4, 3, 3, 1, 1, 2, 1, 2, 0, 1, 1),      // depthwise x2, dilated
      Geo(2, 16, 5, 7, 8, 1, 1, 1),                             // 1x1 direct
      Geo(1, 16, 5, 7, 8, 1, 1, 1, 2, 2),                       // 1x1 stride 2
      Geo(1, 16, 5, 7, 8, 1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 1),     // 1x1 padded
      Geo(1, 6, 1, 50, 4, 1, 1, 5, 1, 1, 1, 1, 0, 2, 0, 2),     // 1-D
      Geo(2, 6, 1, 50, 4, 2, 1, 3, 1, 3, 1, 2, 0, 1, 0, 0),     // 1-D stride 3 dil 2 groups 2
      Geo(1, 1, 8, 8, 6, 1, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1),      // one input channel
      Geo(1, 3, 2, 2, 2, 1, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1),      // kernel larger than input
      Geo(1, 3, 1, 1, 2, 1, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1),      // 1x1 input, padded 3x3
      Geo(2, 64, 20, 20, 8, 1, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1),   // 2 position blocks, split mid-row
      Geo(1, 600, 20, 20, 4, 1, 1, 1),                          // 1x1 direct, 2 blocks
      Geo(1, 128, 17, 19, 6, 2, 3, 3, 2, 1, 1, 1, 1, 1, 1, 1),  // groups 2, blocks
      Geo(1, 4, 12, 12, 3, 1, 1, 7, 1, 1, 1, 1, 0, 3, 0, 3),    // 1x7
      Geo(1, 4, 12, 12, 3, 1, 7, 1, 1, 1, 1, 1, 3, 0, 3, 0),    // 7x1
      Geo(1, 3, 20, 17, 5, 1, 5, 5, 3, 3, 3, 3, 2, 1, 0, 4),    // 5x5 stride 3 dilation 3
  };
  uint32_t seed = 1;
  for (const ConvGeometry& g : cases) {
    CheckAgainstReference(g, seed++, false);
    CheckAgainstReference(g, seed++, true);
  }
}

TEST(Conv2d, MatchesDirectReferenceOnRandomGeometries) {
  std::mt19937 rng(20241203);
  auto pick = [&](int64_t lo, int64_t hi) {
    return std::uniform_int_distribution<int64_t>(lo, hi)(rng);
  };
  int tested = 0;
  while (tested < 80) {
    const int64_t groups = pick(1, 3), cg = pick(1, 5), kg = pick(1, 4);
    ConvGeometry g = Geo(pick(1, 3), groups * cg, pick(1, 12), pick(1, 12), groups * kg, groups,
                         pick(1, 4), pick(1, 4), pick(1, 3), pick(1, 3), pick(1, 3), pick(1, 3),
                         pick(0, 2), pick(0, 2), pick(0, 2), pick(0, 2));
    if (pick(0, 4) == 0) {  // some 1-D convolutions
      g.h = g.fy = 1;
      g.pad_top = g.pad_bottom = 0;
      g.oy = 1;
    }
    if (g.h + g.pad_top + g.pad_bottom < g.dil_y * (g.fy - 1) + 1 ||
        g.w + g.pad_left + g.pad_right < g.dil_x * (g.fx - 1) + 1) {
      continue;  // the kernel does not fit
    }
    CheckAgainstReference(g, static_cast<uint32_t>(tested), tested % 2 == 0);
    ++tested;
  }
}

// ------------------------------------------------------------ determinism

TEST(Conv2d, ByteIdenticalForAnyThreadCount) {
  const ConvGeometry cases[] = {
      Geo(4, 64, 24, 24, 16, 1, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1),   // several blocks per sample
      Geo(3, 32, 19, 23, 32, 32, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1),  // depthwise
      Geo(3, 300, 20, 20, 24, 1, 1, 1),                          // 1x1 direct
      Geo(2, 96, 15, 15, 12, 3, 3, 3, 2, 2, 1, 1, 1, 1, 1, 1),   // groups
  };
  for (const ConvGeometry& g : cases) {
    std::mt19937 rng(7);
    const std::vector<float> x = Random(g.n * g.c * g.h * g.w, rng);
    const std::vector<float> w = Random(g.k * (g.c / g.groups) * g.fy * g.fx, rng);
    const std::vector<float> b = Random(g.k, rng);
    const std::vector<float> y1 = RunConv(g, x, w, b.data(), 1);
    for (int threads : {2, 7, 1, 64}) {
      const std::vector<float> yt = RunConv(g, x, w, b.data(), threads);
      ASSERT_EQ(yt.size(), y1.size());
      EXPECT_EQ(std::memcmp(yt.data(), y1.data(), y1.size() * sizeof(float)), 0)
          << Describe(g) << " threads " << threads;
    }
  }
}

// ------------------------------------------------------------ errors

TEST(Conv2d, RefusesInconsistentGeometryWithoutWriting) {
  const ConvGeometry good = Geo(1, 4, 5, 5, 4, 2, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1);
  struct Case {
    std::string error;
    ConvGeometry g;
  };
  std::vector<Case> cases;
  auto with = [&](std::string error, auto change) {
    ConvGeometry g = good;
    change(g);
    cases.push_back({std::move(error), g});
  };
  with("n = 0 is outside [1,", [](ConvGeometry& g) { g.n = 0; });
  with("c = -4 is outside", [](ConvGeometry& g) { g.c = -4; });
  with("groups = 0 is outside", [](ConvGeometry& g) { g.groups = 0; });
  with("stride_x = 0 is outside", [](ConvGeometry& g) { g.stride_x = 0; });
  with("dil_y = 0 is outside", [](ConvGeometry& g) { g.dil_y = 0; });
  with("pad_left = -1 is outside [0,", [](ConvGeometry& g) { g.pad_left = -1; });
  with("h = 4294967296 is outside", [](ConvGeometry& g) { g.h = int64_t{1} << 32; });
  with("groups = 3 does not divide c = 4 and k = 4", [](ConvGeometry& g) { g.groups = 3; });
  with("groups = 4 does not divide c = 4 and k = 6", [](ConvGeometry& g) {
    g.groups = 4;
    g.k = 6;
  });
  with("output size 4x5 does not match the geometry (5x5)", [](ConvGeometry& g) { g.oy = 4; });
  with("output size 5x6 does not match the geometry (5x5)", [](ConvGeometry& g) { g.ox = 6; });
  with("the dilated kernel (9x3) is larger than the padded input (7x7)",
       [](ConvGeometry& g) { g.dil_y = 4; });
  with("tensor sizes overflow", [](ConvGeometry& g) {
    g.n = g.c = g.h = g.k = int64_t{1} << 22;  // n*c*h*w = 5 * 2^66
    g.groups = 1;
    g.oy = OutSize(g.h, 1, 1, 3, 1, 1);
  });
  with("a per-group product exceeds BLAS's 32-bit sizes", [](ConvGeometry& g) {
    g.h = g.w = 50000;
    g.oy = g.ox = 50000;
  });
  const std::vector<float> data(1000, 1.0f);
  for (const Case& c : cases) {
    std::vector<float> y(4, 42.0f);
    absl::Status s = Conv2d(c.g, data.data(), data.data(), nullptr, y.data(), 2);
    EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument) << c.error;
    EXPECT_THAT(s.message(), HasSubstr("Conv2d: " + c.error));
    EXPECT_THAT(y, ::testing::Each(42.0f)) << c.error;
  }
}

// ------------------------------------------------------------ Linear

void CheckLinear(int64_t n, int64_t c, int64_t k, uint32_t seed) {
  std::mt19937 rng(seed);
  const std::vector<float> x = Random(n * c, rng), w = Random(k * c, rng), b = Random(k, rng);
  for (const float* bias : {b.data(), static_cast<const float*>(nullptr)}) {
    std::vector<float> y(static_cast<size_t>(n * k), kNaN);
    Linear(n, c, k, x.data(), w.data(), bias, y.data(), 3);
    for (int64_t i = 0; i < n; ++i) {
      for (int64_t j = 0; j < k; ++j) {
        double acc = bias ? bias[j] : 0.0, mag = bias ? std::abs(bias[j]) : 0.0;
        for (int64_t r = 0; r < c; ++r) {
          const double t = static_cast<double>(x[static_cast<size_t>(i * c + r)]) *
                           w[static_cast<size_t>(j * c + r)];
          acc += t;
          mag += std::abs(t);
        }
        const float got = y[static_cast<size_t>(i * k + j)];
        ASSERT_LE(std::abs(got - acc), Gamma(c + 2) * mag)
            << "n" << n << " c" << c << " k" << k << " y[" << i << "][" << j << "]";
      }
    }
  }
}

TEST(Linear, HandComputed) {
  const std::vector<float> x = {1, 2, -1, 0.5f};  // 2 x 2
  const std::vector<float> w = {3, 4, 5, 6};      // 2 x 2
  const std::vector<float> b = {0.5f, -1};
  std::vector<float> y(4);
  Linear(2, 2, 2, x.data(), w.data(), b.data(), y.data(), 1);
  EXPECT_THAT(y, ::testing::ElementsAre(11.5f, 16, -0.5f, -3));
  Linear(2, 2, 2, x.data(), w.data(), nullptr, y.data(), 1);
  EXPECT_THAT(y, ::testing::ElementsAre(11, 17, -1, -2));
}

TEST(Linear, MatchesDirectReference) {
  CheckLinear(1, 1, 1, 1);
  CheckLinear(3, 5, 2, 2);
  CheckLinear(16, 128, 10, 3);
  CheckLinear(300, 70, 520, 4);  // several row and column tiles
  CheckLinear(17, 1000, 3, 5);
}

TEST(Linear, ByteIdenticalForAnyThreadCount) {
  const int64_t n = 300, c = 96, k = 600;
  std::mt19937 rng(9);
  const std::vector<float> x = Random(n * c, rng), w = Random(k * c, rng), b = Random(k, rng);
  std::vector<float> y1(static_cast<size_t>(n * k)), yt(y1.size());
  Linear(n, c, k, x.data(), w.data(), b.data(), y1.data(), 1);
  for (int threads : {2, 7}) {
    Linear(n, c, k, x.data(), w.data(), b.data(), yt.data(), threads);
    EXPECT_EQ(std::memcmp(yt.data(), y1.data(), y1.size() * sizeof(float)), 0) << threads;
  }
}

TEST(Linear, EmptySizes) {
  std::vector<float> y = {42, 42};
  const float b[] = {1, 2};
  Linear(0, 3, 2, nullptr, nullptr, b, y.data(), 1);  // no rows: nothing written
  EXPECT_THAT(y, ::testing::ElementsAre(42, 42));
  Linear(1, 0, 2, nullptr, nullptr, b, y.data(), 1);  // empty sum: the bias
  EXPECT_THAT(y, ::testing::ElementsAre(1, 2));
}

}  // namespace
}  // namespace snnplan::runtime
