// Pooling with ONNX semantics (MaxPool, AveragePool, GlobalAveragePool).
// One work item per (sample, channel) plane; every output element is computed
// by the same code wherever it runs, so results do not depend on `threads`.
#include <algorithm>
#include <cstdint>
#include <limits>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "parallel.h"
#include "snnplan/runtime.h"

namespace snnplan::runtime {
namespace {

constexpr int64_t kMaxDim = std::numeric_limits<int32_t>::max();

absl::Status CheckPool(const PoolGeometry& g, const char* op) {
  auto error = [&](const std::string& what) {
    return absl::InvalidArgumentError(absl::StrCat(op, ": ", what));
  };
  const struct {
    const char* name;
    int64_t value;
    int64_t min;
  } fields[] = {
      {"n", g.n, 1},
      {"c", g.c, 1},
      {"h", g.h, 1},
      {"w", g.w, 1},
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
      return error(
          absl::StrCat(f.name, " = ", f.value, " is outside [", f.min, ", ", kMaxDim, "]"));
    }
  }
  // All fields are < 2^31, so these sums and products fit in int64.
  const int64_t span_y = g.dil_y * (g.fy - 1) + 1, span_x = g.dil_x * (g.fx - 1) + 1;
  const int64_t in_y = g.h + g.pad_top + g.pad_bottom, in_x = g.w + g.pad_left + g.pad_right;
  if (in_y < span_y || in_x < span_x) {
    return error(absl::StrCat("the dilated window (", span_y, "x", span_x,
                              ") is larger than the padded input (", in_y, "x", in_x, ")"));
  }
  const int64_t floor_y = (in_y - span_y) / g.stride_y + 1;
  const int64_t floor_x = (in_x - span_x) / g.stride_x + 1;
  const int64_t ceil_y = (in_y - span_y + g.stride_y - 1) / g.stride_y + 1;
  const int64_t ceil_x = (in_x - span_x + g.stride_x - 1) / g.stride_x + 1;
  if (g.oy < floor_y || g.oy > ceil_y || g.ox < floor_x || g.ox > ceil_x) {
    return error(absl::StrCat("output size ", g.oy, "x", g.ox,
                              " does not match the geometry (floor mode ", floor_y, "x", floor_x,
                              ", ceil mode ", ceil_y, "x", ceil_x, ")"));
  }
  int64_t size = 0;
  if (__builtin_mul_overflow(g.n * g.c, g.h * g.w, &size) ||
      __builtin_mul_overflow(g.n * g.c, g.oy * g.ox, &size)) {
    return error("tensor sizes overflow");
  }
  return absl::OkStatus();
}

// Taps [lo, hi) of a window starting at `start` (stride dil) that fall in
// [begin, end).
void TapRange(int64_t start, int64_t taps, int64_t dil, int64_t begin, int64_t end, int64_t& lo,
              int64_t& hi) {
  lo = 0;
  if (start < begin) lo = std::min(taps, (begin - start + dil - 1) / dil);
  hi = end - 1 - start < 0 ? 0 : std::min(taps, (end - 1 - start) / dil + 1);
  if (hi < lo) hi = lo;
}

}  // namespace

// The window's taps inside the input (and inside the padded input) for every
// output column, computed once per call: the per-element loops then need no
// divisions.
struct ColumnTaps {
  std::vector<int64_t> lo, hi, pad_lo, pad_hi;
  ColumnTaps(const PoolGeometry& g) {
    const auto ox = static_cast<size_t>(g.ox);
    lo.resize(ox), hi.resize(ox), pad_lo.resize(ox), pad_hi.resize(ox);
    for (size_t o = 0; o < ox; ++o) {
      const int64_t xs = static_cast<int64_t>(o) * g.stride_x - g.pad_left;
      TapRange(xs, g.fx, g.dil_x, 0, g.w, lo[o], hi[o]);
      TapRange(xs, g.fx, g.dil_x, -g.pad_left, g.w + g.pad_right, pad_lo[o], pad_hi[o]);
    }
  }
};

absl::Status MaxPool2d(const PoolGeometry& g, const float* x, float* y, int threads) {
  if (absl::Status s = CheckPool(g, "MaxPool2d"); !s.ok()) return s;
  const ColumnTaps cols(g);
  internal::ParallelFor(g.n * g.c, threads, [&](int64_t plane, int) {
    const float* xp = x + plane * g.h * g.w;
    float* yp = y + plane * g.oy * g.ox;
    for (int64_t oy = 0; oy < g.oy; ++oy) {
      const int64_t ys = oy * g.stride_y - g.pad_top;
      int64_t ky0, ky1;
      TapRange(ys, g.fy, g.dil_y, 0, g.h, ky0, ky1);
      float* yr = yp + oy * g.ox;
      for (int64_t ox = 0; ox < g.ox; ++ox) {
        const auto o = static_cast<size_t>(ox);
        const int64_t kx0 = cols.lo[o], kx1 = cols.hi[o];
        float m = -std::numeric_limits<float>::infinity();
        bool nan = false;
        const int64_t first = ox * g.stride_x - g.pad_left + kx0 * g.dil_x;  // first tap's column
        for (int64_t ky = ky0; ky < ky1 && kx0 < kx1; ++ky) {
          // Row ys + ky*dil_y, taps kx0..kx1-1: all inside the input.
          const float* xr = xp + (ys + ky * g.dil_y) * g.w + first;
          for (int64_t t = 0; t < kx1 - kx0; ++t) {  // branch-free (spikes are unpredictable)
            const float v = xr[t * g.dil_x];
            m = v > m ? v : m;
            nan |= v != v;
          }
        }
        yr[ox] = nan ? std::numeric_limits<float>::quiet_NaN() : m;  // NaN wins, as in PyTorch
      }
    }
  });
  return absl::OkStatus();
}

absl::Status AvgPool2d(const PoolGeometry& g, const float* x, float* y, int threads) {
  if (absl::Status s = CheckPool(g, "AvgPool2d"); !s.ok()) return s;
  const ColumnTaps cols(g);
  internal::ParallelFor(g.n * g.c, threads, [&](int64_t plane, int) {
    const float* xp = x + plane * g.h * g.w;
    float* yp = y + plane * g.oy * g.ox;
    for (int64_t oy = 0; oy < g.oy; ++oy) {
      const int64_t ys = oy * g.stride_y - g.pad_top;
      int64_t ky0, ky1, py0, py1;
      TapRange(ys, g.fy, g.dil_y, 0, g.h, ky0, ky1);
      TapRange(ys, g.fy, g.dil_y, -g.pad_top, g.h + g.pad_bottom, py0, py1);
      float* yr = yp + oy * g.ox;
      for (int64_t ox = 0; ox < g.ox; ++ox) {
        const auto o = static_cast<size_t>(ox);
        const int64_t kx0 = cols.lo[o], kx1 = cols.hi[o];
        double sum = 0.0;
        const int64_t first = ox * g.stride_x - g.pad_left + kx0 * g.dil_x;
        for (int64_t ky = ky0; ky < ky1 && kx0 < kx1; ++ky) {
          const float* xr = xp + (ys + ky * g.dil_y) * g.w + first;
          for (int64_t t = 0; t < kx1 - kx0; ++t) sum += xr[t * g.dil_x];
        }
        const int64_t count = g.count_include_pad ? (py1 - py0) * (cols.pad_hi[o] - cols.pad_lo[o])
                                                  : (ky1 - ky0) * (kx1 - kx0);
        yr[ox] = count > 0 ? static_cast<float>(sum / static_cast<double>(count)) : 0.0f;
      }
    }
  });
  return absl::OkStatus();
}

void GlobalAvgPool(int64_t n, int64_t c, int64_t hw, const float* x, float* y) {
  if (n <= 0 || c <= 0) return;
  for (int64_t p = 0; p < n * c; ++p) {
    if (hw <= 0) {
      y[p] = 0.0f;
      continue;
    }
    double sum = 0.0;
    const float* xp = x + p * hw;
    for (int64_t i = 0; i < hw; ++i) sum += xp[i];
    y[p] = static_cast<float>(sum / static_cast<double>(hw));
  }
}

}  // namespace snnplan::runtime
