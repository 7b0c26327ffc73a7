// NumPy .npy: the header (a Python dict literal) is parsed here, strictly;
// the data is converted to float32 in chunks as it is read, after its size
// was checked against the header, so memory is bounded by the header's shape
// (itself bounded by kMaxArrayElements) and never by what the file claims.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <bit>
#include <cctype>
#include <cerrno>
#include <cstring>
#include <limits>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "npy_internal.h"
#include "snnplan/runtime.h"

namespace snnplan::runtime {

const char* DTypeName(DType dtype) {
  switch (dtype) {
    case DType::kFloat32:
      return "float32";
    case DType::kFloat64:
      return "float64";
    case DType::kFloat16:
      return "float16";
    case DType::kUInt8:
      return "uint8";
    case DType::kInt8:
      return "int8";
    case DType::kInt16:
      return "int16";
    case DType::kInt32:
      return "int32";
    case DType::kInt64:
      return "int64";
    case DType::kBool:
      return "bool";
  }
  return "unknown";
}

namespace internal {
namespace {

constexpr char kMagic[] = "\x93NUMPY";
constexpr size_t kMagicLen = 6;
// Largest header accepted (numpy itself refuses more than 10,000 bytes by
// default; format 1.0 cannot exceed 65,535).
constexpr uint32_t kMaxHeaderLen = 1 << 20;
constexpr size_t kMaxRank = 64;

absl::Status Err(const std::string& where, absl::string_view msg) {
  return absl::InvalidArgumentError(absl::StrCat(where, ": ", msg));
}

// ------------------------------------------------------------ header dict

// A value of the header dict: a string, a bool or a tuple of ints.
struct HeaderValue {
  enum Kind { kString, kBool, kTuple } kind = kString;
  std::string str;
  bool boolean = false;
  std::vector<int64_t> ints;
};

// Strict recursive-descent parser for the dict literal numpy writes:
// {'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }
class HeaderParser {
 public:
  explicit HeaderParser(std::string_view s) : s_(s) {}

  // Fills descr, fortran_order and shape; returns a message on error.
  std::optional<std::string> Parse(std::string& descr, bool& fortran_order,
                                   std::vector<int64_t>& shape) {
    SkipWs();
    if (!Consume('{')) return Where("expected '{'");
    bool have_descr = false, have_fortran = false, have_shape = false;
    SkipWs();
    while (!Peek('}')) {
      std::string key;
      if (auto e = ParseString(key)) return e;
      if (key != "descr" && key != "fortran_order" && key != "shape") {
        return absl::StrCat("unexpected key '", key,
                            "' (a .npy header holds 'descr', 'fortran_order' and 'shape')");
      }
      SkipWs();
      if (!Consume(':')) return Where("expected ':' after a key");
      SkipWs();
      HeaderValue value;
      if (auto e = ParseValue(value)) return e;
      if (key == "descr") {
        if (have_descr) return std::string("duplicate key 'descr'");
        if (value.kind != HeaderValue::kString) {
          return std::string(
              "'descr' is not a string (structured or subarray dtypes are not supported)");
        }
        descr = value.str;
        have_descr = true;
      } else if (key == "fortran_order") {
        if (have_fortran) return std::string("duplicate key 'fortran_order'");
        if (value.kind != HeaderValue::kBool) return std::string("'fortran_order' is not a bool");
        fortran_order = value.boolean;
        have_fortran = true;
      } else {  // "shape"
        if (have_shape) return std::string("duplicate key 'shape'");
        if (value.kind != HeaderValue::kTuple) return std::string("'shape' is not a tuple");
        shape = value.ints;
        have_shape = true;
      }
      SkipWs();
      if (Consume(',')) {
        SkipWs();
        continue;
      }
      if (!Peek('}')) return Where("expected ',' or '}'");
    }
    Consume('}');
    SkipWs();
    if (pos_ != s_.size()) return Where("unexpected text after the dict");
    if (!have_descr) return std::string("missing key 'descr'");
    if (!have_fortran) return std::string("missing key 'fortran_order'");
    if (!have_shape) return std::string("missing key 'shape'");
    return std::nullopt;
  }

 private:
  std::string Where(absl::string_view what) const {
    return absl::StrCat(what, " at offset ", pos_, " of the header");
  }
  bool Peek(char c) const { return pos_ < s_.size() && s_[pos_] == c; }
  bool Consume(char c) {
    if (!Peek(c)) return false;
    ++pos_;
    return true;
  }
  void SkipWs() {
    while (pos_ < s_.size() && (s_[pos_] == ' ' || s_[pos_] == '\t' || s_[pos_] == '\n' ||
                                s_[pos_] == '\r' || s_[pos_] == '\f' || s_[pos_] == '\v')) {
      ++pos_;
    }
  }
  std::optional<std::string> ParseString(std::string& out) {
    if (pos_ >= s_.size() || (s_[pos_] != '\'' && s_[pos_] != '"')) {
      return Where("expected a quoted string");
    }
    const char quote = s_[pos_++];
    const size_t start = pos_;
    while (pos_ < s_.size() && s_[pos_] != quote) {
      if (s_[pos_] == '\n') break;  // Python: end of line inside a string
      if (s_[pos_] == '\\') return Where("unsupported character in a string");
      ++pos_;
    }
    if (pos_ >= s_.size() || s_[pos_] != quote) return Where("unterminated string");
    out = std::string(s_.substr(start, pos_ - start));
    ++pos_;
    return std::nullopt;
  }
  bool ConsumeWord(std::string_view word) {
    if (s_.substr(pos_, word.size()) != word) return false;
    const size_t end = pos_ + word.size();
    if (end < s_.size() && (std::isalnum(static_cast<unsigned char>(s_[end])) || s_[end] == '_')) {
      return false;
    }
    pos_ = end;
    return true;
  }
  std::optional<std::string> ParseInt(int64_t& out) {
    if (Peek('-')) return Where("negative dimension");
    const size_t start = pos_;
    int64_t v = 0;
    while (pos_ < s_.size() && s_[pos_] >= '0' && s_[pos_] <= '9') {
      if (v > (std::numeric_limits<int64_t>::max() - 9) / 10) return Where("dimension too large");
      v = v * 10 + (s_[pos_] - '0');
      ++pos_;
    }
    if (pos_ == start) return Where("expected a dimension (a non-negative integer)");
    if (pos_ - start > 1 && s_[start] == '0') return Where("malformed integer (leading zero)");
    if (Peek('L') || Peek('l')) ++pos_;  // Python 2 long literal (numpy reads these too)
    out = v;
    return std::nullopt;
  }
  std::optional<std::string> ParseValue(HeaderValue& v) {
    if (Peek('\'') || Peek('"')) {
      v.kind = HeaderValue::kString;
      return ParseString(v.str);
    }
    if (ConsumeWord("True")) {
      v.kind = HeaderValue::kBool;
      v.boolean = true;
      return std::nullopt;
    }
    if (ConsumeWord("False")) {
      v.kind = HeaderValue::kBool;
      v.boolean = false;
      return std::nullopt;
    }
    if (Consume('(')) {
      v.kind = HeaderValue::kTuple;
      SkipWs();
      if (Consume(')')) return std::nullopt;  // ()
      while (true) {
        int64_t d = 0;
        if (auto e = ParseInt(d)) return e;
        if (v.ints.size() >= kMaxRank) return Where("too many dimensions");
        v.ints.push_back(d);
        SkipWs();
        const bool comma = Consume(',');
        SkipWs();
        if (Consume(')')) {
          // "(3)" is the int 3 in Python, not a tuple.
          if (v.ints.size() == 1 && !comma) return Where("'shape' is not a tuple");
          return std::nullopt;
        }
        if (!comma) return Where("expected ',' or ')' in the shape");
      }
    }
    if (Peek('[')) return Where("a list value (structured dtypes are not supported)");
    return Where("expected a string, True, False or a tuple");
  }

  std::string_view s_;
  size_t pos_ = 0;
};

struct DTypeInfo {
  DType dtype;
  int itemsize;
};

// '<f4' etc. Byte order: '<' for multi-byte types ('>' is big-endian, '=' and
// no prefix mean "the writer's native order", which a file cannot tell);
// any of '<', '>', '|', '=' or none for one-byte types.
absl::StatusOr<DTypeInfo> ParseDescr(const std::string& descr, const std::string& where) {
  std::string_view d = descr;
  char order = 0;
  if (!d.empty() && (d[0] == '<' || d[0] == '>' || d[0] == '|' || d[0] == '=')) {
    order = d[0];
    d.remove_prefix(1);
  }
  if (!d.empty() && d[0] == 'O') {
    return Err(where, absl::StrCat("object arrays ('", descr, "') are not supported"));
  }
  static constexpr struct {
    std::string_view code;
    DType dtype;
    int itemsize;
  } kTypes[] = {
      {"f4", DType::kFloat32, 4}, {"f8", DType::kFloat64, 8}, {"f2", DType::kFloat16, 2},
      {"u1", DType::kUInt8, 1},   {"i1", DType::kInt8, 1},    {"i2", DType::kInt16, 2},
      {"i4", DType::kInt32, 4},   {"i8", DType::kInt64, 8},   {"b1", DType::kBool, 1},
  };
  for (const auto& t : kTypes) {
    if (d != t.code) continue;
    if (t.itemsize > 1) {
      if (order == '>') {
        return Err(where, absl::StrCat("big-endian dtype '", descr,
                                       "' is not supported (save with '<' byte order, e.g. "
                                       "a.astype(a.dtype.newbyteorder('<')))"));
      }
      if (order != '<') {
        return Err(where,
                   absl::StrCat("dtype '", descr, "' does not state little-endian '<' byte order"));
      }
    }
    return DTypeInfo{t.dtype, t.itemsize};
  }
  return Err(where, absl::StrCat("unsupported dtype '", descr,
                                 "' (supported: <f4 <f8 <f2 |u1 |i1 <i2 <i4 <i8 |b1)"));
}

// ------------------------------------------------------------ conversion

inline uint16_t Load16(const unsigned char* p) { return static_cast<uint16_t>(p[0] | (p[1] << 8)); }
inline uint32_t Load32(const unsigned char* p) {
  return static_cast<uint32_t>(p[0]) | (static_cast<uint32_t>(p[1]) << 8) |
         (static_cast<uint32_t>(p[2]) << 16) | (static_cast<uint32_t>(p[3]) << 24);
}
inline uint64_t Load64(const unsigned char* p) {
  return static_cast<uint64_t>(Load32(p)) | (static_cast<uint64_t>(Load32(p + 4)) << 32);
}

float HalfToFloat(uint16_t h) {
  const uint32_t sign = static_cast<uint32_t>(h & 0x8000u) << 16;
  const uint32_t exp = (h >> 10) & 0x1fu;
  const uint32_t mant = h & 0x3ffu;
  if (exp == 0) {  // zero or subnormal: mant * 2^-24, exact in float
    const float f = static_cast<float>(mant) * 0x1p-24f;
    return sign != 0 ? -f : f;
  }
  if (exp == 31) return std::bit_cast<float>(sign | 0x7f800000u | (mant << 13));  // inf, NaN
  return std::bit_cast<float>(sign | ((exp + 112) << 23) | (mant << 13));
}

// Round to nearest like the IEEE conversion, without relying on the
// out-of-range cast (undefined in C++).
float DoubleToFloat(double d) {
  constexpr double kOverflow = 0x1.ffffffp127;  // FLT_MAX + half an ulp: rounds to inf
  if (d >= kOverflow) return std::numeric_limits<float>::infinity();
  if (d <= -kOverflow) return -std::numeric_limits<float>::infinity();
  if (d != d) return std::numeric_limits<float>::quiet_NaN();
  return static_cast<float>(d);
}

void Convert(DType dtype, const unsigned char* p, size_t count, float* out) {
  switch (dtype) {
    case DType::kFloat32:
      for (size_t i = 0; i < count; ++i) out[i] = std::bit_cast<float>(Load32(p + 4 * i));
      break;
    case DType::kFloat64:
      for (size_t i = 0; i < count; ++i) {
        out[i] = DoubleToFloat(std::bit_cast<double>(Load64(p + 8 * i)));
      }
      break;
    case DType::kFloat16:
      for (size_t i = 0; i < count; ++i) out[i] = HalfToFloat(Load16(p + 2 * i));
      break;
    case DType::kUInt8:
      for (size_t i = 0; i < count; ++i) out[i] = static_cast<float>(p[i]);
      break;
    case DType::kInt8:
      for (size_t i = 0; i < count; ++i) out[i] = static_cast<float>(static_cast<int8_t>(p[i]));
      break;
    case DType::kInt16:
      for (size_t i = 0; i < count; ++i) {
        out[i] = static_cast<float>(static_cast<int16_t>(Load16(p + 2 * i)));
      }
      break;
    case DType::kInt32:
      for (size_t i = 0; i < count; ++i) {
        out[i] = static_cast<float>(static_cast<int32_t>(Load32(p + 4 * i)));
      }
      break;
    case DType::kInt64:
      for (size_t i = 0; i < count; ++i) {
        out[i] = static_cast<float>(static_cast<int64_t>(Load64(p + 8 * i)));
      }
      break;
    case DType::kBool:  // numpy treats any non-zero byte as True
      for (size_t i = 0; i < count; ++i) out[i] = p[i] != 0 ? 1.0f : 0.0f;
      break;
  }
}

// Reads exactly n bytes unless the source ends first; returns the count.
absl::StatusOr<size_t> ReadFully(ByteReader& in, char* buf, size_t n) {
  size_t done = 0;
  while (done < n) {
    absl::StatusOr<size_t> got = in.Read(buf + done, n - done);
    if (!got.ok()) return got.status();
    if (*got == 0) break;
    done += *got;
  }
  return done;
}

class MemoryReader : public ByteReader {
 public:
  explicit MemoryReader(std::string_view bytes) : bytes_(bytes) {}
  absl::StatusOr<size_t> Read(char* buf, size_t n) override {
    const size_t take = std::min(n, bytes_.size() - pos_);
    if (take > 0) std::memcpy(buf, bytes_.data() + pos_, take);
    pos_ += take;
    return take;
  }
  int64_t Size() const override { return static_cast<int64_t>(bytes_.size()); }

 private:
  std::string_view bytes_;
  size_t pos_ = 0;
};

class FdReader : public ByteReader {
 public:
  FdReader(int fd, int64_t size, std::string path) : fd_(fd), size_(size), path_(std::move(path)) {}
  ~FdReader() override { ::close(fd_); }
  FdReader(const FdReader&) = delete;
  FdReader& operator=(const FdReader&) = delete;
  absl::StatusOr<size_t> Read(char* buf, size_t n) override {
    while (true) {
      const ssize_t got = ::read(fd_, buf, n);
      if (got >= 0) return static_cast<size_t>(got);
      if (errno == EINTR) continue;
      return absl::InvalidArgumentError(
          absl::StrCat(path_, ": read error: ", std::strerror(errno)));
    }
  }
  int64_t Size() const override { return size_; }

 private:
  int fd_;
  int64_t size_;
  std::string path_;
};

std::string Plural(int64_t n, absl::string_view unit) {
  return absl::StrCat(n, " ", unit, n == 1 ? "" : "s");
}

}  // namespace

std::string ShapeRepr(const std::vector<int64_t>& shape) {
  if (shape.size() == 1) return absl::StrCat("(", shape[0], ",)");
  return absl::StrCat("(", absl::StrJoin(shape, ", "), ")");
}

absl::StatusOr<Array> ReadNpyFrom(ByteReader& in, const std::string& where, int64_t element_budget,
                                  const std::string& budget_what) {
  // Magic, version and header length.
  unsigned char pre[12];
  absl::StatusOr<size_t> got = ReadFully(in, reinterpret_cast<char*>(pre), 8);
  if (!got.ok()) return got.status();
  if (*got >= 4 && std::memcmp(pre, "PK\x03\x04", 4) == 0) {
    return Err(where, "not a .npy file: this is a zip archive (a .npz?)");
  }
  if (*got < kMagicLen || std::memcmp(pre, kMagic, kMagicLen) != 0) {
    return Err(where, "not a .npy file (no \\x93NUMPY magic)");
  }
  if (*got < 8) return Err(where, "truncated .npy (ends inside the preamble)");
  const int major = pre[6], minor = pre[7];
  if (!((major == 1 || major == 2 || major == 3) && minor == 0)) {
    return Err(where, absl::StrCat("unsupported .npy format version ", major, ".", minor,
                                   " (supported: 1.0, 2.0, 3.0)"));
  }
  const size_t len_bytes = major == 1 ? 2 : 4;
  got = ReadFully(in, reinterpret_cast<char*>(pre + 8), len_bytes);
  if (!got.ok()) return got.status();
  if (*got < len_bytes) return Err(where, "truncated .npy (ends inside the preamble)");
  const uint32_t header_len = major == 1 ? Load16(pre + 8) : Load32(pre + 8);
  if (header_len > kMaxHeaderLen) {
    return Err(where, absl::StrCat(".npy header of ", header_len, " bytes exceeds the limit of ",
                                   kMaxHeaderLen, " bytes"));
  }
  std::string header(header_len, '\0');
  got = ReadFully(in, header.data(), header_len);
  if (!got.ok()) return got.status();
  if (*got < header_len) {
    return Err(where, absl::StrCat("truncated .npy header (", *got, " of ", header_len, " bytes)"));
  }
  // Versions 1.0 and 2.0 are latin-1, 3.0 is UTF-8; the dict we accept is
  // ASCII either way, so non-ASCII bytes only ever appear inside strings.
  std::string descr;
  bool fortran_order = false;
  std::vector<int64_t> shape;
  if (auto e = HeaderParser(header).Parse(descr, fortran_order, shape)) {
    return Err(where, absl::StrCat("malformed .npy header: ", *e));
  }
  absl::StatusOr<DTypeInfo> type = ParseDescr(descr, where);
  if (!type.ok()) return type.status();
  if (fortran_order) {
    return Err(where,
               "fortran_order True (column-major data) is not supported; save "
               "np.ascontiguousarray(a)");
  }
  int64_t elements = 1;
  for (int64_t d : shape) {
    // Products of dimensions never overflow: each step is checked against
    // the budget (<= 2^31) before multiplying by the next (< 2^63 / 10).
    if (d == 0) {
      elements = 0;
      break;
    }
    if (elements > element_budget / d) {
      elements = -1;
      break;
    }
    elements *= d;
  }
  if (elements < 0 || elements > element_budget) {
    return Err(where, absl::StrCat("shape ", ShapeRepr(shape), " exceeds the limit of ",
                                   element_budget, " elements", budget_what));
  }
  const int64_t data_bytes = elements * type->itemsize;
  const int64_t header_end = static_cast<int64_t>(6 + 2 + len_bytes + header_len);
  auto size_error = [&](absl::string_view what_size) {
    return Err(where,
               absl::StrCat("data is ", what_size, " than the shape needs: shape ",
                            ShapeRepr(shape), " of '", descr, "' needs ",
                            Plural(data_bytes, "byte"), " after the ", header_end, "-byte header"));
  };
  if (in.Size() >= 0) {  // known size: check before allocating
    const int64_t available = in.Size() - header_end;
    if (available < data_bytes) {
      return Err(where,
                 absl::StrCat("data is shorter than the shape needs: shape ", ShapeRepr(shape),
                              " of '", descr, "' needs ", Plural(data_bytes, "byte"),
                              ", the file has ", Plural(std::max<int64_t>(available, 0), "byte")));
    }
    if (available > data_bytes) {
      return Err(where,
                 absl::StrCat("data is longer than the shape needs: shape ", ShapeRepr(shape),
                              " of '", descr, "' needs ", Plural(data_bytes, "byte"),
                              ", the file has ", Plural(available, "byte")));
    }
  }

  Array out;
  out.dtype = type->dtype;
  out.shape = shape;
  out.values.resize(static_cast<size_t>(elements));
  constexpr size_t kChunk = size_t{1} << 20;  // a multiple of every item size
  std::unique_ptr<char[]> chunk(new char[kChunk]);
  int64_t done = 0;  // bytes
  while (done < data_bytes) {
    const size_t want = static_cast<size_t>(std::min<int64_t>(kChunk, data_bytes - done));
    got = ReadFully(in, chunk.get(), want);
    if (!got.ok()) return got.status();
    if (*got < want) return size_error("shorter");
    Convert(type->dtype, reinterpret_cast<const unsigned char*>(chunk.get()), want / type->itemsize,
            out.values.data() + done / type->itemsize);
    done += static_cast<int64_t>(want);
  }
  char extra;
  got = ReadFully(in, &extra, 1);
  if (!got.ok()) return got.status();
  if (*got != 0) return size_error("longer");
  return out;
}

std::string NpyFloat32Bytes(const std::vector<int64_t>& shape, const std::vector<float>& values) {
  std::string dict =
      absl::StrCat("{'descr': '<f4', 'fortran_order': False, 'shape': ", ShapeRepr(shape), ", }");
  // numpy >= 1.24 leaves room for the first axis to grow to 21 digits.
  if (!shape.empty()) dict.append(21 - absl::StrCat(shape[0]).size(), ' ');
  const size_t hlen = dict.size() + 1;  // + '\n'
  const size_t padlen = 64 - (kMagicLen + 2 + 2 + hlen) % 64;
  dict.append(padlen, ' ');
  dict.push_back('\n');
  std::string out(kMagic, kMagicLen);
  out.push_back('\x01');
  out.push_back('\x00');
  out.push_back(static_cast<char>(dict.size() & 0xff));
  out.push_back(static_cast<char>((dict.size() >> 8) & 0xff));
  out += dict;
  const size_t start = out.size();
  out.resize(start + 4 * values.size());
  for (size_t i = 0; i < values.size(); ++i) {
    const uint32_t bits = std::bit_cast<uint32_t>(values[i]);
    char* p = out.data() + start + 4 * i;
    p[0] = static_cast<char>(bits & 0xff);
    p[1] = static_cast<char>((bits >> 8) & 0xff);
    p[2] = static_cast<char>((bits >> 16) & 0xff);
    p[3] = static_cast<char>((bits >> 24) & 0xff);
  }
  return out;
}

}  // namespace internal

absl::StatusOr<Array> ParseNpy(std::string_view bytes, const std::string& name) {
  internal::MemoryReader in(bytes);
  return internal::ReadNpyFrom(in, name, kMaxArrayElements, "");
}

absl::StatusOr<Array> ReadNpy(const std::string& path) {
  if (path.empty()) return absl::InvalidArgumentError("empty path: no .npy file");
  const std::string what = ".npy file";
  // O_NONBLOCK: a FIFO must not block the open; it is refused below.
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK);
  if (fd < 0) {
    const int err = errno;
    const std::string msg = absl::StrCat(path, ": cannot open ", what);
    if (err == ENOENT) return absl::NotFoundError(msg);
    return absl::InvalidArgumentError(absl::StrCat(msg, ": ", std::strerror(err)));
  }
  struct stat st {};
  if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    ::close(fd);
    return absl::InvalidArgumentError(
        absl::StrCat(path, ": is ", S_ISDIR(st.st_mode) ? "a directory" : "not a regular file",
                     ", not a ", what));
  }
  internal::FdReader in(fd, static_cast<int64_t>(st.st_size), path);
  return internal::ReadNpyFrom(in, path, kMaxArrayElements, "");
}

}  // namespace snnplan::runtime
