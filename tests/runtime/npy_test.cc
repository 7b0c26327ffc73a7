// .npy reading: numpy-written fixtures of every supported dtype and format
// version (tests/data/runtime/make_fixtures.py), and every refused file with
// its error, which names the file.
#include <bit>
#include <cmath>
#include <cstdint>
#include <filesystem>
#include <limits>
#include <numbers>
#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "runtime/test_util.h"
#include "snnplan/runtime.h"

namespace snnplan::runtime {
namespace {

using ::testing::ElementsAre;
using testing::Fixture;
using testing::FreshDir;
using ::testing::HasSubstr;
using testing::ReadBytes;
using testing::WriteBytes;
namespace fs = std::filesystem;

constexpr float kInf = std::numeric_limits<float>::infinity();

Array Read(const std::string& fixture) {
  absl::StatusOr<Array> a = ReadNpy(Fixture(fixture));
  EXPECT_TRUE(a.ok()) << a.status();
  return a.ok() ? *a : Array{};
}

// Bitwise float equality (tells -0 from 0; NaN equals NaN).
MATCHER_P(SameBits, expected, "") {
  if (std::isnan(arg) && std::isnan(expected)) return true;
  return std::bit_cast<uint32_t>(arg) == std::bit_cast<uint32_t>(static_cast<float>(expected));
}

TEST(ReadNpy, Float32) {
  Array a = Read("f32.npy");
  EXPECT_EQ(a.dtype, DType::kFloat32);
  EXPECT_THAT(a.shape, ElementsAre(2, 3));
  EXPECT_THAT(a.values, ElementsAre(-1.0f, -0.5f, 0.0f, 0.5f, 1.0f, 1.5f));
}

TEST(ReadNpy, FormatVersions2And3) {
  for (const char* f : {"f32_v2.npy", "f32_v3.npy"}) {
    const std::string bytes = ReadBytes(Fixture(f));
    ASSERT_GE(bytes.size(), 8u);
    EXPECT_EQ(bytes[6], f[5] - '0') << f;  // the major version byte
    Array a = Read(f);
    EXPECT_THAT(a.shape, ElementsAre(2, 3)) << f;
    EXPECT_THAT(a.values, ElementsAre(-1.0f, -0.5f, 0.0f, 0.5f, 1.0f, 1.5f)) << f;
  }
}

TEST(ReadNpy, Float64RoundsToNearestAndOverflowsToInfinity) {
  Array a = Read("f64.npy");
  EXPECT_EQ(a.dtype, DType::kFloat64);
  EXPECT_THAT(a.shape, ElementsAre(6));
  EXPECT_THAT(a.values,
              ElementsAre(SameBits(0.1f), SameBits(kInf), SameBits(-kInf), SameBits(-0.0f),
                          SameBits(2.5f), SameBits(static_cast<float>(std::numbers::pi))));
}

TEST(ReadNpy, Float16IncludingSubnormalsInfinityAndNaN) {
  Array a = Read("f16.npy");
  EXPECT_EQ(a.dtype, DType::kFloat16);
  EXPECT_THAT(a.values,
              ElementsAre(SameBits(65504.0f), SameBits(0x1p-24f), SameBits(-0.0f), SameBits(kInf),
                          SameBits(std::nanf("")), SameBits(0.333251953125f)));
}

TEST(ReadNpy, Integers) {
  Array u8 = Read("u8.npy");
  EXPECT_EQ(u8.dtype, DType::kUInt8);
  EXPECT_THAT(u8.values, ElementsAre(0, 1, 127, 128, 255));
  Array i8 = Read("i8.npy");
  EXPECT_EQ(i8.dtype, DType::kInt8);
  EXPECT_THAT(i8.values, ElementsAre(-128, -1, 0, 1, 127));
  Array i16 = Read("i16.npy");
  EXPECT_EQ(i16.dtype, DType::kInt16);
  EXPECT_THAT(i16.values, ElementsAre(-32768, -1, 0, 32767));
  Array i32 = Read("i32.npy");
  EXPECT_EQ(i32.dtype, DType::kInt32);
  // 16777217 = 2^24 + 1 and 2^31 - 1 round to the nearest float.
  EXPECT_THAT(i32.values, ElementsAre(-2147483648.0f, -1, 0, 16777216.0f, 2147483648.0f));
  Array i64 = Read("i64.npy");
  EXPECT_EQ(i64.dtype, DType::kInt64);
  EXPECT_THAT(i64.shape, ElementsAre(2, 2));
  EXPECT_THAT(i64.values, ElementsAre(-0x1p62f, -1, 0, 0x1p40f));
}

TEST(ReadNpy, Bool) {
  Array a = Read("bool.npy");
  EXPECT_EQ(a.dtype, DType::kBool);
  EXPECT_THAT(a.shape, ElementsAre(2, 3));
  EXPECT_THAT(a.values, ElementsAre(1, 0, 1, 0, 0, 1));
}

TEST(ReadNpy, ScalarEmptyVectorAndSpikes) {
  Array scalar = Read("scalar.npy");
  EXPECT_TRUE(scalar.shape.empty());
  EXPECT_THAT(scalar.values, ElementsAre(3.25f));
  Array empty = Read("empty.npy");
  EXPECT_THAT(empty.shape, ElementsAre(0, 3));
  EXPECT_TRUE(empty.values.empty());
  Array vec = Read("vec.npy");
  EXPECT_THAT(vec.shape, ElementsAre(5));
  EXPECT_THAT(vec.values, ElementsAre(0, 1, 2, 3, 4));
  Array spikes = Read("spikes.npy");
  EXPECT_THAT(spikes.shape, ElementsAre(2, 3, 4, 4));
  ASSERT_EQ(spikes.values.size(), 96u);
  for (size_t i = 0; i < spikes.values.size(); ++i) {
    EXPECT_EQ(spikes.values[i], i % 3 == 0 ? 1.0f : 0.0f) << i;
  }
}

TEST(ReadNpy, DTypeNames) {
  EXPECT_STREQ(DTypeName(DType::kFloat32), "float32");
  EXPECT_STREQ(DTypeName(DType::kFloat16), "float16");
  EXPECT_STREQ(DTypeName(DType::kUInt8), "uint8");
  EXPECT_STREQ(DTypeName(DType::kInt64), "int64");
  EXPECT_STREQ(DTypeName(DType::kBool), "bool");
}

TEST(ReadNpy, ParseNpyReadsBytes) {
  absl::StatusOr<Array> a = ParseNpy(ReadBytes(Fixture("f32.npy")), "inline");
  ASSERT_TRUE(a.ok()) << a.status();
  EXPECT_THAT(a->values, ElementsAre(-1.0f, -0.5f, 0.0f, 0.5f, 1.0f, 1.5f));
}

// ------------------------------------------------------------- bad files

// A .npy of format `major`.0 with `header` (padded to 64 bytes) and `data`.
std::string Npy(const std::string& header, const std::string& data = "", int major = 1) {
  std::string h = header;
  const size_t prefix = major == 1 ? 10 : 12;
  while ((prefix + h.size() + 1) % 64 != 0) h.push_back(' ');
  h.push_back('\n');
  std::string out = "\x93NUMPY";
  out.push_back(static_cast<char>(major));
  out.push_back('\0');
  for (size_t i = 0; i < prefix - 8; ++i)
    out.push_back(static_cast<char>((h.size() >> (8 * i)) & 0xff));
  return out + h + data;
}

std::string Floats(std::vector<float> v) {
  std::string out(v.size() * 4, '\0');
  for (size_t i = 0; i < v.size(); ++i) {
    const uint32_t b = std::bit_cast<uint32_t>(v[i]);
    for (int j = 0; j < 4; ++j) out[4 * i + j] = static_cast<char>((b >> (8 * j)) & 0xff);
  }
  return out;
}

std::string Header(const std::string& descr, const std::string& shape,
                   const std::string& fortran = "False") {
  return "{'descr': '" + descr + "', 'fortran_order': " + fortran + ", 'shape': " + shape + ", }";
}

class BadNpy : public ::testing::Test {
 protected:
  // Writes `bytes` as <dir>/bad.npy and returns ReadNpy's error.
  absl::Status ReadError(const std::string& bytes) {
    const std::string path = (dir_ / "bad.npy").string();
    WriteBytes(path, bytes);
    absl::StatusOr<Array> a = ReadNpy(path);
    EXPECT_FALSE(a.ok()) << "accepted";
    if (a.ok()) return absl::OkStatus();
    EXPECT_THAT(a.status().message(), HasSubstr(path)) << "the error names the file";
    EXPECT_EQ(a.status().code(), absl::StatusCode::kInvalidArgument);
    // The same bytes from memory give the same error.
    absl::StatusOr<Array> b = ParseNpy(bytes, path);
    EXPECT_FALSE(b.ok());
    if (!b.ok()) {
      EXPECT_EQ(b.status().message(), a.status().message());
    }
    return a.status();
  }
  std::string Error(const std::string& bytes) { return std::string(ReadError(bytes).message()); }
  fs::path dir_ = FreshDir();
};

TEST_F(BadNpy, NotANpyFile) {
  EXPECT_THAT(Error("hello world, not numpy"), HasSubstr("not a .npy file"));
  EXPECT_THAT(Error(""), HasSubstr("not a .npy file"));
  EXPECT_THAT(Error(ReadBytes(Fixture("stored.npz"))), HasSubstr("zip archive (a .npz?)"));
  EXPECT_THAT(Error("\x93NUMPY\x01"), HasSubstr("truncated .npy (ends inside the preamble)"));
  EXPECT_THAT(Error(std::string("\x93NUMPY\x01\x00\x10", 9)), HasSubstr("preamble"));
}

TEST_F(BadNpy, UnsupportedVersion) {
  std::string b = Npy(Header("<f4", "(1,)"), Floats({1}));
  b[6] = 4;
  EXPECT_THAT(Error(b), HasSubstr("unsupported .npy format version 4.0"));
  b[6] = 1;
  b[7] = 1;
  EXPECT_THAT(Error(b), HasSubstr("unsupported .npy format version 1.1"));
}

TEST_F(BadNpy, TruncatedHeader) {
  const std::string b = Npy(Header("<f4", "(1,)"), Floats({1}));
  EXPECT_THAT(Error(b.substr(0, 40)), HasSubstr("truncated .npy header (30 of 118 bytes)"));
}

TEST_F(BadNpy, HugeHeaderLength) {
  std::string b = Npy(Header("<f4", "(1,)"), Floats({1}), 2);
  b[8] = b[9] = b[10] = 0;
  b[11] = 0x7f;
  EXPECT_THAT(Error(b), HasSubstr("header of 2130706432 bytes exceeds the limit"));
}

TEST_F(BadNpy, MalformedHeaders) {
  const std::string one = Floats({1});
  const struct {
    std::string header;
    std::string error;
  } cases[] = {
      {"[1, 2]", "malformed .npy header: expected '{' at offset 0"},
      {"{'descr': '<f4', 'fortran_order': False}", "missing key 'shape'"},
      {"{'fortran_order': False, 'shape': (1,)}", "missing key 'descr'"},
      {"{'descr': '<f4', 'shape': (1,)}", "missing key 'fortran_order'"},
      {Header("<f4", "(1,)") + " extra", "unexpected text after the dict"},
      {"{'descr': '<f4', 'fortran_order': False, 'shape': (1,), 'foo': 1}", "unexpected key 'foo'"},
      {"{'descr': '<f4', 'descr': '<f4', 'fortran_order': False, 'shape': (1,)}",
       "duplicate key 'descr'"},
      {"{'descr': 4, 'fortran_order': False, 'shape': (1,)}", "expected a string, True, False"},
      {"{'descr': True, 'fortran_order': False, 'shape': (1,)}", "'descr' is not a string"},
      {"{'descr': [('a', '<f4')], 'fortran_order': False, 'shape': (1,)}",
       "structured dtypes are not supported"},
      {"{'descr': '<f4', 'fortran_order': 0, 'shape': (1,)}", "expected a string, True, False"},
      {"{'descr': '<f4', 'fortran_order': 'no', 'shape': (1,)}", "'fortran_order' is not a bool"},
      {"{'descr': '<f4', 'fortran_order': Falsey, 'shape': (1,)}", "expected a string"},
      {Header("<f4", "(1)"), "'shape' is not a tuple"},
      {Header("<f4", "[1]"), "a list value"},
      {Header("<f4", "'1'"), "'shape' is not a tuple"},
      {Header("<f4", "(-1,)"), "negative dimension"},
      {Header("<f4", "(1.5,)"), "expected ',' or ')' in the shape"},
      {Header("<f4", "(01,)"), "leading zero"},
      {Header("<f4", "(99999999999999999999,)"), "dimension too large"},
      {Header("<f4", "(1,,)"), "expected a dimension"},
      {"{'descr' '<f4', 'fortran_order': False, 'shape': (1,)}", "expected ':' after a key"},
      {"{'descr': '<f4, 'fortran_order': False, 'shape': (1,)}", "expected ',' or '}'"},
      {"{'descr': '<f4' 'fortran_order': False, 'shape': (1,)}", "expected ',' or '}'"},
      {"{'descr': '<f4', 'fortran_order': False, 'shape': (1,)", "expected ',' or '}'"},
      {"{'descr': '<f4', 'fortran_order': False, 'shape': (1,), 3: 4}", "expected a quoted string"},
      {"{'descr\\x': '<f4'}", "unsupported character in a string"},
      {"{'descr", "unterminated string"},
  };
  for (const auto& c : cases) {
    EXPECT_THAT(Error(Npy(c.header, one)), HasSubstr(c.error)) << c.header;
  }
}

TEST_F(BadNpy, TooManyDimensions) {
  std::string shape = "(";
  for (int i = 0; i < 65; ++i) shape += "1, ";
  EXPECT_THAT(Error(Npy(Header("<f4", shape + ")"), Floats({1}))),
              HasSubstr("too many dimensions"));
}

TEST_F(BadNpy, RefusedDTypes) {
  EXPECT_THAT(Error(ReadBytes(Fixture("bad_bigendian.npy"))),
              HasSubstr("big-endian dtype '>f4' is not supported"));
  EXPECT_THAT(Error(ReadBytes(Fixture("bad_object.npy"))),
              HasSubstr("object arrays ('|O') are not supported"));
  EXPECT_THAT(
      Error(ReadBytes(Fixture("bad_uint16.npy"))),
      HasSubstr("unsupported dtype '<u2' (supported: <f4 <f8 <f2 |u1 |i1 <i2 <i4 <i8 |b1)"));
  EXPECT_THAT(Error(ReadBytes(Fixture("bad_complex.npy"))), HasSubstr("unsupported dtype '<c8'"));
  // "=" (native) and no byte order are ambiguous for multi-byte types.
  EXPECT_THAT(Error(Npy(Header("=f4", "(1,)"), Floats({1}))),
              HasSubstr("dtype '=f4' does not state little-endian '<' byte order"));
  EXPECT_THAT(Error(Npy(Header("f4", "(1,)"), Floats({1}))),
              HasSubstr("does not state little-endian"));
  EXPECT_THAT(Error(Npy(Header("|i4", "(1,)"), std::string(4, '\0'))),
              HasSubstr("does not state little-endian"));
  EXPECT_THAT(Error(Npy(Header(">i8", "(1,)"), std::string(8, '\0'))), HasSubstr("big-endian"));
  EXPECT_THAT(Error(Npy(Header("<f3", "(1,)"), std::string(3, '\0'))),
              HasSubstr("unsupported dtype '<f3'"));
}

TEST_F(BadNpy, FortranOrder) {
  EXPECT_THAT(Error(ReadBytes(Fixture("bad_fortran.npy"))),
              HasSubstr("fortran_order True (column-major data) is not supported"));
}

TEST_F(BadNpy, DataShorterOrLongerThanTheShape) {
  const std::string good = ReadBytes(Fixture("f32.npy"));
  EXPECT_THAT(Error(good.substr(0, good.size() - 4)),
              HasSubstr("data is shorter than the shape needs: shape (2, 3) of '<f4' needs 24 "
                        "bytes, the file has 20 bytes"));
  EXPECT_THAT(Error(good + "xy"),
              HasSubstr("data is longer than the shape needs: shape (2, 3) of '<f4' needs 24 "
                        "bytes, the file has 26 bytes"));
  EXPECT_THAT(Error(Npy(Header("<f4", "()"))), HasSubstr("shape () of '<f4' needs 4 bytes"));
  EXPECT_THAT(Error(Npy(Header("<f4", "(0, 3)"), "x")), HasSubstr("data is longer"));
}

TEST_F(BadNpy, TooManyElementsRefusedBeforeAllocating) {
  // 2^31 + 1 elements (and products that would overflow int64) with no data:
  // refused from the header, nothing is allocated.
  EXPECT_THAT(Error(Npy(Header("|u1", "(2147483649,)"))),
              HasSubstr("shape (2147483649,) exceeds the limit of 2147483648 elements"));
  EXPECT_THAT(Error(Npy(Header("<f4", "(65536, 65537)"))), HasSubstr("exceeds the limit"));
  EXPECT_THAT(Error(Npy(Header("<f8", "(4611686018427387904, 4611686018427387904, 4)"))),
              HasSubstr("exceeds the limit"));
  // Exactly at the limit passes the element check; the missing data is then
  // the error, still before allocating 8 GiB.
  EXPECT_THAT(Error(Npy(Header("|b1", "(2147483648,)"))),
              HasSubstr("data is shorter than the shape needs"));
}

TEST_F(BadNpy, NotARegularFile) {
  absl::StatusOr<Array> a = ReadNpy(dir_.string());
  ASSERT_FALSE(a.ok());
  EXPECT_THAT(a.status().message(), HasSubstr(dir_.string() + ": is a directory, not a .npy file"));
  a = ReadNpy((dir_ / "missing.npy").string());
  ASSERT_FALSE(a.ok());
  EXPECT_EQ(a.status().code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(a.status().message(), HasSubstr("missing.npy: cannot open .npy file"));
  EXPECT_FALSE(ReadNpy("").ok());
}

// Accepted variants of the header numpy's own reader accepts too.
TEST(ReadNpy, HeaderVariants) {
  const std::string one = Floats({2.5f});
  const std::string byte = std::string(1, '\x07');
  const struct {
    std::string header;
    std::string data;
    float value;
  } cases[] = {
      {"{\"descr\": \"<f4\", \"fortran_order\": False, \"shape\": (1,)}", one, 2.5f},
      {"{'shape': (1,), 'fortran_order': False, 'descr': '<f4'}", one, 2.5f},  // any key order
      {"{ 'descr' : '<f4' ,\n 'fortran_order' : False ,\t'shape' : ( 1 , ) , }", one, 2.5f},
      {Header("<f4", "(1L,)"), one, 2.5f},  // Python 2 writers
      {Header("<f4", "(1, 1)"), one, 2.5f},
      {Header("|u1", "(1,)"), byte, 7.0f},
      {Header("<u1", "(1,)"), byte, 7.0f},
      {Header(">u1", "(1,)"), byte, 7.0f},
      {Header("=u1", "(1,)"), byte, 7.0f},
      {Header("u1", "(1,)"), byte, 7.0f},
      {Header("|b1", "(1,)"), byte, 1.0f},  // any non-zero byte is True
      {Header("=i1", "(1,)"), std::string(1, '\xff'), -1.0f},
  };
  for (const auto& c : cases) {
    absl::StatusOr<Array> a = ParseNpy(Npy(c.header, c.data), "variant");
    ASSERT_TRUE(a.ok()) << c.header << ": " << a.status();
    EXPECT_THAT(a->values, ElementsAre(c.value)) << c.header;
  }
  absl::StatusOr<Array> v3 = ParseNpy(Npy(Header("<f4", "(1,)"), one, 3), "v3");
  ASSERT_TRUE(v3.ok()) << v3.status();
  EXPECT_THAT(v3->values, ElementsAre(2.5f));
}

}  // namespace
}  // namespace snnplan::runtime
