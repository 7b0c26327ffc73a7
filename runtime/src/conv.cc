// Convolution (im2col + OpenBLAS sgemm, or a direct loop for depthwise) and
// the fully connected layer.
//
// Summation order. Every output element is a float32 sum, like PyTorch's, but
// not in PyTorch's order: here y = (sum over the reduction index r = (c, ky,
// kx), in OpenBLAS's blocking of r; depthwise: taps in (ky, kx) order) + bias,
// whereas PyTorch (oneDNN / its own im2col + GEMM) blocks and vectorises the
// reduction its own way and may add the bias first. The two agree to about
// 1e-6 relative of the sum of |terms| (float32 rounding of a few hundred to a
// few thousand terms), not bit for bit.
//
// Determinism. The work is cut into items (sample, group, block of output
// positions) whose sizes depend only on the geometry; each item is one sgemm
// call of the same shape wherever it runs, and OpenBLAS is single-threaded,
// so each element's summation order, and thus every output bit, is the same
// for any `threads`.
#include <algorithm>
#include <cstdint>
#include <cstring>
#include <limits>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "blas.h"
#include "parallel.h"
#include "snnplan/runtime.h"

namespace snnplan::runtime {
namespace {

using internal::ParallelFor;
using internal::ParallelWorkers;

// Each im2col block holds about this many floats (K rows x P positions): the
// block stays in the L2 cache between im2col and the product that reads it.
// Measured on SEW-ResNet's 64->64 3x3 layers (bench/runtime_bench.cc).
constexpr int64_t kColBlockFloats = int64_t{1} << 17;  // 512 KiB
// Smallest block of output positions (narrower products run badly in BLAS).
constexpr int64_t kMinBlockPositions = 256;

constexpr int64_t kMaxDim = std::numeric_limits<int32_t>::max();

int64_t CeilDiv(int64_t a, int64_t b) { return (a + b - 1) / b; }  // a >= 0, b > 0

// a * b * ... when it fits in int64, else -1 (all operands >= 0).
int64_t Product(std::initializer_list<int64_t> factors) {
  int64_t p = 1;
  for (int64_t f : factors) {
    if (__builtin_mul_overflow(p, f, &p)) return -1;
  }
  return p;
}

absl::Status ConvError(const std::string& what) {
  return absl::InvalidArgumentError(absl::StrCat("Conv2d: ", what));
}

absl::Status CheckConv(const ConvGeometry& g) {
  const struct {
    const char* name;
    int64_t value;
    int64_t min;
  } fields[] = {
      {"n", g.n, 1},
      {"c", g.c, 1},
      {"h", g.h, 1},
      {"w", g.w, 1},
      {"k", g.k, 1},
      {"groups", g.groups, 1},
      {"fy", g.fy, 1},
      {"fx", g.fx, 1},
      {"stride_y", g.stride_y, 1},
      {"stride_x", g.stride_x, 1},
      {"dil_y", g.dil_y, 1},
      {"dil_x", g.dil_x, 1},
      {"pad_top", g.pad_top, 0},
      {"pad_left", g.pad_left, 0},
      {"pad_bottom", g.pad_bottom, 0},
      {"pad_right", g.pad_right, 0},
      {"oy", g.oy, 1},
      {"ox", g.ox, 1},
  };
  for (const auto& f : fields) {
    if (f.value < f.min || f.value > kMaxDim) {
      return ConvError(
          absl::StrCat(f.name, " = ", f.value, " is outside [", f.min, ", ", kMaxDim, "]"));
    }
  }
  if (g.c % g.groups != 0 || g.k % g.groups != 0) {
    return ConvError(
        absl::StrCat("groups = ", g.groups, " does not divide c = ", g.c, " and k = ", g.k));
  }
  // All fields are < 2^31, so these sums and products fit in int64.
  const int64_t span_y = g.dil_y * (g.fy - 1) + 1, span_x = g.dil_x * (g.fx - 1) + 1;
  const int64_t in_y = g.h + g.pad_top + g.pad_bottom, in_x = g.w + g.pad_left + g.pad_right;
  if (in_y < span_y || in_x < span_x) {
    return ConvError(absl::StrCat("the dilated kernel (", span_y, "x", span_x,
                                  ") is larger than the padded input (", in_y, "x", in_x, ")"));
  }
  const int64_t oy = (in_y - span_y) / g.stride_y + 1, ox = (in_x - span_x) / g.stride_x + 1;
  if (g.oy != oy || g.ox != ox) {
    return ConvError(absl::StrCat("output size ", g.oy, "x", g.ox, " does not match the geometry (",
                                  oy, "x", ox, ")"));
  }
  const int64_t cg = g.c / g.groups;
  if (Product({g.n, g.c, g.h, g.w}) < 0 || Product({g.n, g.k, g.oy, g.ox}) < 0 ||
      Product({g.k, cg, g.fy, g.fx}) < 0) {
    return ConvError("tensor sizes overflow");
  }
  if (Product({cg, g.fy, g.fx}) > kMaxDim || g.oy * g.ox > kMaxDim || g.h * g.w > kMaxDim) {
    return ConvError("a per-group product exceeds BLAS's 32-bit sizes");
  }
  return absl::OkStatus();
}

// Writes the im2col rows of output positions [p0, p1) of one (sample, group):
// col[r][p - p0] for r = (ci, ky, kx), zero where the tap falls in padding.
void Im2col(const ConvGeometry& g, const float* xg /* first channel of the group */, int64_t cg,
            int64_t p0, int64_t p1, float* col) {
  const int64_t np = p1 - p0;
  const int64_t hw = g.h * g.w;
  for (int64_t ci = 0; ci < cg; ++ci) {
    const float* xc = xg + ci * hw;
    for (int64_t ky = 0; ky < g.fy; ++ky) {
      const int64_t offy = ky * g.dil_y - g.pad_top;
      for (int64_t kx = 0; kx < g.fx; ++kx) {
        float* dst = col + ((ci * g.fy + ky) * g.fx + kx) * np;
        // Output columns whose tap kx is inside the input: ix = o*sx + off in [0, w).
        const int64_t off = kx * g.dil_x - g.pad_left;
        const int64_t lo = off >= 0 ? 0 : std::min(g.ox, CeilDiv(-off, g.stride_x));
        const int64_t hi = g.w - 1 - off < 0 ? 0 : std::min(g.ox, (g.w - 1 - off) / g.stride_x + 1);
        int64_t p = p0;
        while (p < p1) {
          const int64_t row = p / g.ox;
          const int64_t o0 = p - row * g.ox;
          const int64_t o1 = std::min(g.ox, o0 + (p1 - p));
          const int64_t iy = row * g.stride_y + offy;
          if (iy < 0 || iy >= g.h || lo >= hi) {
            std::fill(dst, dst + (o1 - o0), 0.0f);
          } else {
            // Columns [a, b) read x[iy][o * sx + off], all inside the row.
            const int64_t a = std::clamp(lo, o0, o1), b = std::clamp(hi, o0, o1);
            std::fill(dst, dst + (a - o0), 0.0f);
            if (a < b) {
              const float* src = xc + iy * g.w + (a * g.stride_x + off);
              float* d = dst + (a - o0);
              if (g.stride_x == 1) {
                std::memcpy(d, src, static_cast<size_t>(b - a) * sizeof(float));
              } else {
                for (int64_t o = 0; o < b - a; ++o) d[o] = src[o * g.stride_x];
              }
            }
            std::fill(dst + (b - o0), dst + (o1 - o0), 0.0f);
          }
          dst += o1 - o0;
          p += o1 - o0;
        }
      }
    }
  }
}

// Depthwise (one input channel per group): direct accumulation, taps in
// (ky, kx) order, then the bias. One item = one (sample, output channel).
void DepthwiseConv(const ConvGeometry& g, const float* x, const float* w, const float* bias,
                   float* y, int threads) {
  const int64_t kg = g.k / g.groups;  // channel multiplier
  const int64_t items = g.n * g.k;
  const int workers = ParallelWorkers(items, threads);
  // Scratch is allocated here, so running out of memory throws in the caller.
  std::vector<std::vector<float>> acc(static_cast<size_t>(workers),
                                      std::vector<float>(static_cast<size_t>(g.ox)));
  ParallelFor(items, threads, [&](int64_t item, int worker) {
    const int64_t n = item / g.k, kk = item % g.k;
    const int64_t ci = kk / kg;
    const float* xc = x + (n * g.c + ci) * g.h * g.w;
    const float* wk = w + kk * g.fy * g.fx;
    float* yk = y + (n * g.k + kk) * g.oy * g.ox;
    std::vector<float>& row = acc[static_cast<size_t>(worker)];
    const float b = bias != nullptr ? bias[kk] : 0.0f;
    for (int64_t oy = 0; oy < g.oy; ++oy) {
      std::fill(row.begin(), row.end(), 0.0f);
      for (int64_t ky = 0; ky < g.fy; ++ky) {
        const int64_t iy = oy * g.stride_y + ky * g.dil_y - g.pad_top;
        if (iy < 0 || iy >= g.h) continue;
        const float* xrow = xc + iy * g.w;
        for (int64_t kx = 0; kx < g.fx; ++kx) {
          const float wv = wk[ky * g.fx + kx];
          const int64_t off = kx * g.dil_x - g.pad_left;
          const int64_t lo = off >= 0 ? 0 : std::min(g.ox, CeilDiv(-off, g.stride_x));
          const int64_t hi =
              g.w - 1 - off < 0 ? 0 : std::min(g.ox, (g.w - 1 - off) / g.stride_x + 1);
          if (lo >= hi) continue;
          // Columns [lo, hi) read xrow[o * sx + off], all inside the row.
          float* r = row.data() + lo;
          const float* xs = xrow + (lo * g.stride_x + off);
          const int64_t count = hi - lo;
          if (g.stride_x == 1) {
            for (int64_t o = 0; o < count; ++o) r[o] += wv * xs[o];
          } else {
            for (int64_t o = 0; o < count; ++o) r[o] += wv * xs[o * g.stride_x];
          }
        }
      }
      float* yrow = yk + oy * g.ox;
      for (int64_t o = 0; o < g.ox; ++o) yrow[o] = row[static_cast<size_t>(o)] + b;
    }
  });
}

}  // namespace

absl::Status Conv2d(const ConvGeometry& g, const float* x, const float* w, const float* bias,
                    float* y, int threads) {
  if (absl::Status s = CheckConv(g); !s.ok()) return s;
  const int64_t cg = g.c / g.groups, kg = g.k / g.groups;
  if (cg == 1) {
    DepthwiseConv(g, x, w, bias, y, threads);
    return absl::OkStatus();
  }
  internal::UseSingleThreadedBlas();
  const int64_t kdim = cg * g.fy * g.fx;  // reduction length
  const int64_t positions = g.oy * g.ox;
  // Output positions per item: a fixed function of the geometry.
  const int64_t block = std::min(positions, std::max(kMinBlockPositions, kColBlockFloats / kdim));
  const int64_t blocks = CeilDiv(positions, block);
  // 1x1, stride 1, no padding: the input planes are the im2col matrix.
  const bool direct = g.fy == 1 && g.fx == 1 && g.stride_y == 1 && g.stride_x == 1 &&
                      g.pad_top == 0 && g.pad_left == 0 && g.pad_bottom == 0 && g.pad_right == 0;
  const int64_t items = g.n * g.groups * blocks;
  const int workers = ParallelWorkers(items, threads);
  // Scratch is allocated here, so running out of memory throws in the caller.
  std::vector<std::vector<float>> cols(static_cast<size_t>(direct ? 0 : workers),
                                       std::vector<float>(static_cast<size_t>(kdim * block)));
  ParallelFor(items, threads, [&](int64_t item, int worker) {
    const int64_t b = item % blocks;
    const int64_t ng = item / blocks;
    const int64_t n = ng / g.groups, grp = ng % g.groups;
    const int64_t p0 = b * block, p1 = std::min(positions, p0 + block);
    const float* xg = x + (n * g.c + grp * cg) * g.h * g.w;
    const float* wg = w + grp * kg * kdim;
    float* yg = y + (n * g.k + grp * kg) * positions;
    const float* bmat;
    int ldb;
    if (direct) {
      bmat = xg + p0;
      ldb = static_cast<int>(g.h * g.w);
    } else {
      std::vector<float>& col = cols[static_cast<size_t>(worker)];
      Im2col(g, xg, cg, p0, p1, col.data());
      bmat = col.data();
      ldb = static_cast<int>(p1 - p0);
    }
    internal::Sgemm(false, static_cast<int>(kg), static_cast<int>(p1 - p0), static_cast<int>(kdim),
                    wg, static_cast<int>(kdim), bmat, ldb, yg + p0, static_cast<int>(positions));
    if (bias != nullptr) {
      for (int64_t kk = 0; kk < kg; ++kk) {
        const float bv = bias[grp * kg + kk];
        float* yr = yg + kk * positions;
        for (int64_t p = p0; p < p1; ++p) yr[p] += bv;
      }
    }
  });
  return absl::OkStatus();
}

void Linear(int64_t n, int64_t c, int64_t k, const float* x, const float* w, const float* bias,
            float* y, int threads) {
  if (n <= 0 || k <= 0) return;
  if (c <= 0) {  // an empty sum
    for (int64_t i = 0; i < n; ++i) {
      for (int64_t j = 0; j < k; ++j) y[i * k + j] = bias != nullptr ? bias[j] : 0.0f;
    }
    return;
  }
  if (c > kMaxDim || k > kMaxDim) {  // beyond BLAS's int sizes: a plain loop
    ParallelFor(n, threads, [&](int64_t i, int) {
      for (int64_t j = 0; j < k; ++j) {
        float sum = 0.0f;
        for (int64_t r = 0; r < c; ++r) sum += x[i * c + r] * w[j * c + r];
        y[i * k + j] = sum + (bias != nullptr ? bias[j] : 0.0f);
      }
    });
    return;
  }
  internal::UseSingleThreadedBlas();
  // Fixed tiles of the output (a function of n and k only).
  constexpr int64_t kRows = 256, kCols = 256;
  const int64_t row_tiles = CeilDiv(n, kRows), col_tiles = CeilDiv(k, kCols);
  ParallelFor(row_tiles * col_tiles, threads, [&](int64_t item, int) {
    const int64_t r0 = (item / col_tiles) * kRows, c0 = (item % col_tiles) * kCols;
    const int64_t rows = std::min(kRows, n - r0), cols = std::min(kCols, k - c0);
    float* yt = y + r0 * k + c0;
    internal::Sgemm(true, static_cast<int>(rows), static_cast<int>(cols), static_cast<int>(c),
                    x + r0 * c, static_cast<int>(c), w + c0 * c, static_cast<int>(c), yt,
                    static_cast<int>(k));
    if (bias != nullptr) {
      for (int64_t i = 0; i < rows; ++i) {
        for (int64_t j = 0; j < cols; ++j) yt[i * k + j] += bias[c0 + j];
      }
    }
  });
}

}  // namespace snnplan::runtime
