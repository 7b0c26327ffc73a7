#include "tensor.h"

#include <cmath>
#include <algorithm>
#include <cstring>
#include <limits>

#include "absl/strings/str_cat.h"

namespace snnplan::importer::internal {
namespace {

using TP = onnx::TensorProto;

template <typename T>
void AppendRaw(const std::string& raw, std::vector<double>* out) {
  size_t n = raw.size() / sizeof(T);
  out->reserve(n);
  for (size_t i = 0; i < n; ++i) {
    T v;
    std::memcpy(&v, raw.data() + i * sizeof(T), sizeof(T));
    out->push_back(static_cast<double>(v));
  }
}

// IEEE half precision bits to double.
double HalfToDouble(uint16_t h) {
  int sign = (h >> 15) & 1, exp = (h >> 10) & 0x1F, mant = h & 0x3FF;
  double v;
  if (exp == 0)
    v = std::ldexp(mant, -24);
  else if (exp == 31)
    v = mant ? std::numeric_limits<double>::quiet_NaN() : std::numeric_limits<double>::infinity();
  else
    v = std::ldexp(mant + 1024, exp - 25);
  return sign ? -v : v;
}

double BFloat16ToDouble(uint16_t b) {
  uint32_t bits = static_cast<uint32_t>(b) << 16;
  float f;
  std::memcpy(&f, &bits, sizeof f);
  return f;
}

template <typename T>
double Wrap(double v) {
  if (std::isnan(v) || std::isinf(v)) return 0.0;
  double t = std::trunc(v);
  constexpr double lo = static_cast<double>(std::numeric_limits<T>::min());
  constexpr double hi = static_cast<double>(std::numeric_limits<T>::max());
  if (t >= lo && t <= hi) return t;
  // Out of range: the value the type really holds (two's complement wrap).
  double span = hi - lo + 1.0;
  double w = std::fmod(t - lo, span);
  if (w < 0) w += span;
  return w + lo;
}

double RoundHalf(double v) {
  // float16: 11 significant bits, exponent range [-14, 15].
  if (std::isnan(v) || std::isinf(v) || v == 0) return v;
  int e;
  std::frexp(v, &e);
  int bits = e - 1 < -14 ? 11 - (-14 - (e - 1)) : 11;
  if (bits < 1) return 0.0;
  double scale = std::ldexp(1.0, bits - e);
  double r = std::nearbyint(v * scale) / scale;
  return std::fabs(r) > 65504.0 ? std::copysign(std::numeric_limits<double>::infinity(), v) : r;
}

}  // namespace

int ElementWidth(int32_t dtype) {
  switch (dtype) {
    case TP::DOUBLE: case TP::INT64: case TP::UINT64: return 8;
    case TP::FLOAT: case TP::INT32: case TP::UINT32: return 4;
    case TP::INT16: case TP::UINT16: case TP::FLOAT16: case TP::BFLOAT16: return 2;
    case TP::INT8: case TP::UINT8: case TP::BOOL: return 1;
    default: return 0;
  }
}

int64_t Numel(const Shape& s) {
  int64_t n = 1;
  for (int64_t d : s)
    if (__builtin_mul_overflow(n, d, &n)) return std::numeric_limits<int64_t>::max();
  return n;
}

int64_t ToInt64(double d) {
  if (std::isnan(d)) return 0;
  if (d >= 9.2e18) return std::numeric_limits<int64_t>::max();
  if (d <= -9.2e18) return std::numeric_limits<int64_t>::min();
  return static_cast<int64_t>(d);
}

std::optional<Shape> Broadcast(const Shape& a, const Shape& b) {
  const Shape& longer = a.size() >= b.size() ? a : b;
  const Shape& shorter = a.size() >= b.size() ? b : a;
  Shape out = longer;
  size_t shift = longer.size() - shorter.size();
  for (size_t i = 0; i < shorter.size(); ++i) {
    int64_t& o = out[i + shift];
    int64_t d = shorter[i];
    if (d == o || d == 1) continue;
    if (o != 1) return std::nullopt;
    o = d;
  }
  return out;
}

bool IsFloatType(int32_t dtype) {
  return dtype == TP::FLOAT || dtype == TP::DOUBLE || dtype == TP::FLOAT16 ||
         dtype == TP::BFLOAT16;
}

bool IsSupportedType(int32_t dtype) {
  switch (dtype) {
    case TP::FLOAT:
    case TP::DOUBLE:
    case TP::FLOAT16:
    case TP::BFLOAT16:
    case TP::INT8:
    case TP::INT16:
    case TP::INT32:
    case TP::INT64:
    case TP::UINT8:
    case TP::UINT16:
    case TP::UINT32:
    case TP::UINT64:
    case TP::BOOL:
      return true;
    default:
      return false;
  }
}

double RoundTo(int32_t dtype, double v) {
  switch (dtype) {
    case TP::FLOAT:
      return static_cast<double>(static_cast<float>(v));
    case TP::DOUBLE:
      return v;
    case TP::FLOAT16:
      return RoundHalf(v);
    case TP::BFLOAT16: {
      float f = static_cast<float>(v);
      uint32_t bits;
      std::memcpy(&bits, &f, sizeof f);
      if (!std::isnan(f)) bits += 0x7FFF + ((bits >> 16) & 1);  // round to nearest even
      return BFloat16ToDouble(static_cast<uint16_t>(bits >> 16));
    }
    case TP::BOOL:
      return v != 0.0 ? 1.0 : 0.0;
    case TP::INT8:
      return Wrap<int8_t>(v);
    case TP::INT16:
      return Wrap<int16_t>(v);
    case TP::INT32:
      return Wrap<int32_t>(v);
    case TP::UINT8:
      return Wrap<uint8_t>(v);
    case TP::UINT16:
      return Wrap<uint16_t>(v);
    case TP::UINT32:
      return Wrap<uint32_t>(v);
    default:  // INT64, UINT64: doubles hold what matters here (shapes, indices)
      return std::isnan(v) ? 0.0 : std::trunc(v);
  }
}

std::optional<double> Tensor::Uniform() const {
  if (splat) return splat;
  if (!materialized() || data.empty()) return std::nullopt;
  for (double v : data)
    if (v != data[0] && !(std::isnan(v) && std::isnan(data[0]))) return std::nullopt;
  return data[0];
}

Tensor Tensor::Scalar(double v, int32_t dtype) {
  Tensor t;
  t.dtype = dtype;
  t.splat = RoundTo(dtype, v);
  return t;
}

Tensor Tensor::Splat(Shape shape, double v, int32_t dtype) {
  Tensor t;
  t.dtype = dtype;
  t.shape = std::move(shape);
  t.splat = RoundTo(dtype, v);
  return t;
}

Tensor Tensor::Vector(std::vector<double> values, int32_t dtype) {
  Tensor t;
  t.dtype = dtype;
  t.shape = {static_cast<int64_t>(values.size())};
  t.data = std::move(values);
  if (t.data.size() == 1) t.splat = t.data[0];
  return t;
}

absl::Status ReadTensorData(const TP& t, std::vector<double>* out) {
  out->clear();
  if (t.data_location() == TP::EXTERNAL)
    return absl::InvalidArgumentError(
        absl::StrCat("tensor ", t.name(), " uses external data, which is not read here"));
  int64_t expect = Numel(Shape(t.dims().begin(), t.dims().end()));
  for (int64_t d : t.dims())
    if (d < 0)
      return absl::InvalidArgumentError(
          absl::StrCat("tensor ", t.name(), " has a negative dimension ", d));
  if (t.has_raw_data()) {
    const std::string& raw = t.raw_data();
    size_t width = static_cast<size_t>(ElementWidth(t.data_type()));
    if (width == 0)
      return absl::InvalidArgumentError(
          absl::StrCat("tensor ", t.name(), ": unsupported data type ", t.data_type()));
    // The byte count must match the declared dims before anything is read.
    if (raw.size() % width != 0 || static_cast<int64_t>(raw.size() / width) != expect)
      return absl::InvalidArgumentError(absl::StrCat(
          "tensor ", t.name(), " holds ", raw.size(), " bytes, its dims declare ", expect,
          " elements of ", width, " bytes"));
    switch (t.data_type()) {
      case TP::FLOAT: AppendRaw<float>(raw, out); break;
      case TP::DOUBLE: AppendRaw<double>(raw, out); break;
      case TP::INT64: AppendRaw<int64_t>(raw, out); break;
      case TP::UINT64: AppendRaw<uint64_t>(raw, out); break;
      case TP::INT32: AppendRaw<int32_t>(raw, out); break;
      case TP::UINT32: AppendRaw<uint32_t>(raw, out); break;
      case TP::INT16: AppendRaw<int16_t>(raw, out); break;
      case TP::UINT16: AppendRaw<uint16_t>(raw, out); break;
      case TP::INT8: AppendRaw<int8_t>(raw, out); break;
      case TP::UINT8: case TP::BOOL: AppendRaw<uint8_t>(raw, out); break;
      case TP::FLOAT16:
      case TP::BFLOAT16: {
        std::vector<double> bits;
        AppendRaw<uint16_t>(raw, &bits);
        for (double b : bits)
          out->push_back(t.data_type() == TP::FLOAT16 ? HalfToDouble(static_cast<uint16_t>(b))
                                                      : BFloat16ToDouble(static_cast<uint16_t>(b)));
        break;
      }
      default: break;
    }
  } else {
    int32_t dt = t.data_type();
    for (float v : t.float_data()) out->push_back(v);
    for (double v : t.double_data()) out->push_back(v);
    for (int64_t v : t.int64_data()) out->push_back(static_cast<double>(v));
    for (uint64_t v : t.uint64_data()) out->push_back(static_cast<double>(v));
    for (int32_t v : t.int32_data())
      out->push_back(dt == TP::FLOAT16 ? HalfToDouble(static_cast<uint16_t>(v))
                     : dt == TP::BFLOAT16 ? BFloat16ToDouble(static_cast<uint16_t>(v))
                                          : static_cast<double>(v));
    if (static_cast<int64_t>(out->size()) != expect)
      return absl::InvalidArgumentError(absl::StrCat(
          "tensor ", t.name(), " holds ", out->size(), " values, its dims declare ", expect));
  }
  for (double& v : *out) v = RoundTo(t.data_type(), v);
  return absl::OkStatus();
}

absl::StatusOr<Tensor> TensorFromProto(const TP& t) {
  Tensor c;
  c.dtype = t.data_type();
  c.shape.assign(t.dims().begin(), t.dims().end());
  if (!IsSupportedType(c.dtype))
    return absl::InvalidArgumentError(
        absl::StrCat("tensor ", t.name(), ": unsupported element type ", c.dtype));
  if (c.numel() <= kMaxFoldElements) {
    if (absl::Status s = ReadTensorData(t, &c.data); !s.ok()) return s;
    if (c.data.size() == 1) c.splat = c.data[0];
  } else {
    // Checked now so that a lazy tensor is known to be readable later.
    if (t.data_location() == TP::EXTERNAL)
      return absl::InvalidArgumentError(
          absl::StrCat("tensor ", t.name(), " uses external data, which is not read here"));
    int64_t width = ElementWidth(t.data_type());
    int64_t held = t.has_raw_data() ? static_cast<int64_t>(t.raw_data().size()) / std::max<int64_t>(width, 1)
                                    : t.float_data_size() + t.double_data_size() + t.int64_data_size() +
                                          t.int32_data_size() + t.uint64_data_size();
    if (held != c.numel() || (t.has_raw_data() && static_cast<int64_t>(t.raw_data().size()) % width != 0))
      return absl::InvalidArgumentError(absl::StrCat(
          "tensor ", t.name(), " holds ", held, " elements, its dims declare ", c.numel()));
    c.proto = &t;
  }
  return c;
}

std::optional<std::vector<double>> Materialize(const Tensor& t) {
  if (t.splat) return std::vector<double>(static_cast<size_t>(t.numel()), *t.splat);
  if (t.materialized()) return t.data;
  if (!t.proto) return std::nullopt;
  std::vector<double> v;
  if (!ReadTensorData(*t.proto, &v).ok()) return std::nullopt;
  return v;
}

void Unflatten(int64_t flat, const Shape& shape, std::vector<int64_t>* idx) {
  idx->resize(shape.size());
  for (size_t d = shape.size(); d-- > 0;) {
    (*idx)[d] = shape[d] == 0 ? 0 : flat % shape[d];
    flat = shape[d] == 0 ? 0 : flat / shape[d];
  }
}

int64_t BroadcastOffset(const Shape& in, const Shape& out, const std::vector<int64_t>& idx) {
  int64_t off = 0;
  size_t shift = out.size() - in.size();
  for (size_t i = 0; i < in.size(); ++i) off = off * in[i] + (in[i] == 1 ? 0 : idx[i + shift]);
  return off;
}

std::optional<Tensor> MapElements(const std::vector<const Tensor*>& in, int32_t dtype,
                                  const ElementFn& fn) {
  Shape shape;
  for (const Tensor* t : in) {
    std::optional<Shape> s = Broadcast(shape, t->shape);
    if (!s) return std::nullopt;
    shape = *s;
  }
  Tensor out;
  out.dtype = dtype;
  out.shape = shape;
  std::vector<double> args(in.size());
  bool uniform = true;
  for (size_t i = 0; i < in.size(); ++i) {
    std::optional<double> u = in[i]->Uniform();
    if (u)
      args[i] = *u;
    else
      uniform = false;
  }
  if (uniform) {
    out.splat = RoundTo(dtype, fn(args.data()));
    if (out.numel() <= 1) out.data = {*out.splat};
    return out;
  }
  if (out.numel() > kMaxFoldElements) return std::nullopt;
  for (const Tensor* t : in)
    if (!t->materialized()) return std::nullopt;
  int64_t n = out.numel();
  out.data.resize(static_cast<size_t>(n));
  std::vector<int64_t> idx;
  bool same = true;  // every input already has the output's shape
  for (const Tensor* t : in) same &= t->shape == shape || t->splat.has_value();
  for (int64_t e = 0; e < n; ++e) {
    if (!same) Unflatten(e, shape, &idx);
    for (size_t i = 0; i < in.size(); ++i)
      args[i] = in[i]->splat ? *in[i]->splat
                : same       ? in[i]->data[e]
                             : in[i]->data[BroadcastOffset(in[i]->shape, shape, idx)];
    out.data[e] = RoundTo(dtype, fn(args.data()));
  }
  if (n == 1) out.splat = out.data[0];
  return out;
}

}  // namespace snnplan::importer::internal
