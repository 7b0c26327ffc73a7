// .npz: numpy's stored (np.savez) and deflated (np.savez_compressed)
// archives read through libzip, refused archives with errors naming file and
// member, and WriteNpz: round trip, deterministic bytes, readable by numpy.
#include <sys/stat.h>

#include <bit>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <filesystem>
#include <limits>
#include <map>
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

std::vector<std::string> Keys(const std::map<std::string, Array>& m) {
  std::vector<std::string> keys;
  for (const auto& [k, v] : m) keys.push_back(k);
  return keys;
}

void ExpectFixtureArchive(const std::map<std::string, Array>& m) {
  EXPECT_THAT(Keys(m),
              ElementsAre("bool", "dir/nested", "f32", "f64", "i64", "scalar", "spikes", "u8"));
  if (m.size() != 8) return;
  EXPECT_EQ(m.at("f32").dtype, DType::kFloat32);
  EXPECT_THAT(m.at("f32").shape, ElementsAre(2, 3));
  EXPECT_THAT(m.at("f32").values, ElementsAre(-1.0f, -0.5f, 0.0f, 0.5f, 1.0f, 1.5f));
  EXPECT_EQ(m.at("f64").dtype, DType::kFloat64);
  EXPECT_EQ(m.at("f64").values[0], 0.1f);
  EXPECT_EQ(m.at("f64").values[1], std::numeric_limits<float>::infinity());
  EXPECT_EQ(m.at("u8").dtype, DType::kUInt8);
  EXPECT_THAT(m.at("u8").values, ElementsAre(0, 1, 127, 128, 255));
  EXPECT_EQ(m.at("bool").dtype, DType::kBool);
  EXPECT_THAT(m.at("bool").values, ElementsAre(1, 0, 1, 0, 0, 1));
  EXPECT_EQ(m.at("i64").dtype, DType::kInt64);
  EXPECT_THAT(m.at("i64").values, ElementsAre(-0x1p62f, -1, 0, 0x1p40f));
  EXPECT_TRUE(m.at("scalar").shape.empty());
  EXPECT_THAT(m.at("scalar").values, ElementsAre(3.25f));
  EXPECT_THAT(m.at("dir/nested").shape, ElementsAre(2, 2));
  EXPECT_THAT(m.at("dir/nested").values, ElementsAre(0, 1, 2, 3));
  const Array& spikes = m.at("spikes");
  EXPECT_THAT(spikes.shape, ElementsAre(2, 3, 4, 4));
  ASSERT_EQ(spikes.values.size(), 96u);
  for (size_t i = 0; i < 96; ++i) EXPECT_EQ(spikes.values[i], i % 3 == 0 ? 1.0f : 0.0f);
}

TEST(ReadNpz, StoredNumpyArchive) {
  absl::StatusOr<std::map<std::string, Array>> m = ReadNpz(Fixture("stored.npz"));
  ASSERT_TRUE(m.ok()) << m.status();
  ExpectFixtureArchive(*m);
}

TEST(ReadNpz, CompressedNumpyArchive) {
  absl::StatusOr<std::map<std::string, Array>> m = ReadNpz(Fixture("compressed.npz"));
  ASSERT_TRUE(m.ok()) << m.status();
  ExpectFixtureArchive(*m);
}

TEST(ReadNpz, FromBytes) {
  absl::StatusOr<std::map<std::string, Array>> m =
      ParseNpz(ReadBytes(Fixture("compressed.npz")), "inline.npz");
  ASSERT_TRUE(m.ok()) << m.status();
  ExpectFixtureArchive(*m);
}

TEST(ReadNpz, EmptyArchive) {
  absl::StatusOr<std::map<std::string, Array>> m = ReadNpz(Fixture("empty.npz"));
  ASSERT_TRUE(m.ok()) << m.status();
  EXPECT_TRUE(m->empty());
}

// ReadNpz's error for `path`; checks that it names the file.
std::string NpzError(const std::string& path) {
  absl::StatusOr<std::map<std::string, Array>> m = ReadNpz(path);
  EXPECT_FALSE(m.ok()) << path << " accepted";
  if (m.ok()) return "";
  EXPECT_THAT(m.status().message(), HasSubstr(path));
  return std::string(m.status().message());
}

TEST(ReadNpz, RefusedArchives) {
  const std::string name = Fixture("bad_member_name.npz");
  EXPECT_THAT(NpzError(name),
              HasSubstr(name + ": member 'notes.txt': not a .npy member (np.savez writes "
                               "'<key>.npy')"));
  const std::string big = Fixture("bad_member_bigendian.npz");
  EXPECT_THAT(NpzError(big), HasSubstr(big + ": member 'b.npy': big-endian dtype '>f4'"));
  const std::string truncated = Fixture("bad_member_truncated.npz");
  EXPECT_THAT(NpzError(truncated),
              HasSubstr(truncated + ": member 'a.npy': data is shorter than the shape needs"));
  const std::string long_member = Fixture("bad_member_long.npz");
  EXPECT_THAT(NpzError(long_member),
              HasSubstr(long_member + ": member 'a.npy': data is longer than the shape needs"));
  const std::string dup = Fixture("bad_duplicate.npz");
  EXPECT_THAT(NpzError(dup), HasSubstr(dup + ": not a readable .npz (zip) archive: two members "
                                             "have the same name"));
  const std::string npy = Fixture("f32.npy");
  EXPECT_THAT(NpzError(npy),
              HasSubstr(npy + ": not a readable .npz (zip) archive: Not a zip archive"));
}

TEST(ReadNpz, CorruptArchives) {
  const fs::path dir = FreshDir();
  const std::string good = ReadBytes(Fixture("stored.npz"));
  // Cut in half: the central directory is gone.
  const std::string half = (dir / "half.npz").string();
  WriteBytes(half, good.substr(0, good.size() / 2));
  EXPECT_THAT(NpzError(half), HasSubstr("not a readable .npz (zip) archive"));
  // One flipped data byte of a stored member: libzip's CRC check.
  const size_t data = good.find("\x93NUMPY");
  ASSERT_NE(data, std::string::npos);
  std::string flipped = good;
  flipped[data + 130] = static_cast<char>(flipped[data + 130] ^ 0x40);  // f32.npy's data
  const std::string crc = (dir / "crc.npz").string();
  WriteBytes(crc, flipped);
  EXPECT_THAT(NpzError(crc), HasSubstr(crc + ": member 'f32.npy': CRC error"));
  // A flipped byte inside a deflate stream: inflate or the CRC fails.
  std::string deflated = ReadBytes(Fixture("compressed.npz"));
  deflated[60] = static_cast<char>(deflated[60] ^ 0xff);
  const std::string bad_deflate = (dir / "deflate.npz").string();
  WriteBytes(bad_deflate, deflated);
  EXPECT_THAT(NpzError(bad_deflate), HasSubstr(bad_deflate + ": member 'f32.npy': "));
  // An empty file (libzip alone would open it as an empty archive).
  const std::string empty = (dir / "empty.npz").string();
  WriteBytes(empty, "");
  EXPECT_THAT(NpzError(empty), HasSubstr(empty + ": empty, not a .npz file"));
  // Not a file.
  EXPECT_THAT(NpzError(dir.string()), HasSubstr("is a directory, not a .npz file"));
  absl::StatusOr<std::map<std::string, Array>> missing = ReadNpz((dir / "nope.npz").string());
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.status().code(), absl::StatusCode::kNotFound);
}

// ------------------------------------------------------------- writing

std::map<std::string, Array> Sample() {
  std::map<std::string, Array> m;
  m["spikes"] = {DType::kFloat32, {2, 3}, {1, 0, 0, 1, 1, 0}};
  m["membrane/v"] = {DType::kFloat32,
                     {4},
                     {-0.0f, 1.5f, std::numeric_limits<float>::infinity(),
                      std::numeric_limits<float>::quiet_NaN()}};
  m["scalar"] = {DType::kFloat32, {}, {0.25f}};
  m["empty"] = {DType::kFloat32, {0, 5}, {}};
  m["big"] = {DType::kFloat32, {3, 1, 1, 1000}, {}};
  for (int i = 0; i < 3000; ++i) m["big"].values.push_back(static_cast<float>(i) / 7.0f);
  m["uint8 as float"] = {DType::kUInt8, {2}, {0, 255}};  // written as '<f4' all the same
  m["\xc3\xbc"] = {DType::kFloat32, {1}, {7}};           // a UTF-8 key ("ü")
  return m;
}

TEST(WriteNpz, RoundTripIsBitExact) {
  const fs::path dir = FreshDir();
  const std::string path = (dir / "out.npz").string();
  const std::map<std::string, Array> in = Sample();
  ASSERT_TRUE(WriteNpz(path, in).ok());
  absl::StatusOr<std::map<std::string, Array>> out = ReadNpz(path);
  ASSERT_TRUE(out.ok()) << out.status();
  ASSERT_EQ(Keys(*out), Keys(in));
  for (const auto& [key, a] : in) {
    const Array& b = out->at(key);
    EXPECT_EQ(b.dtype, DType::kFloat32) << key;
    EXPECT_EQ(b.shape, a.shape) << key;
    ASSERT_EQ(b.values.size(), a.values.size()) << key;
    for (size_t i = 0; i < a.values.size(); ++i) {
      EXPECT_EQ(std::bit_cast<uint32_t>(b.values[i]), std::bit_cast<uint32_t>(a.values[i]))
          << key << "[" << i << "]";
    }
  }
}

TEST(WriteNpz, DeterministicStoredBytes) {
  const fs::path dir = FreshDir();
  absl::StatusOr<std::string> a = NpzBytes(Sample());
  ASSERT_TRUE(a.ok()) << a.status();
  absl::StatusOr<std::string> b = NpzBytes(Sample());
  ASSERT_TRUE(b.ok());
  EXPECT_EQ(*a, *b);
  // Whatever the time zone (libzip's time_t conversion would use it).
  setenv("TZ", "Pacific/Kiritimati", 1);
  tzset();
  absl::StatusOr<std::string> c = NpzBytes(Sample());
  unsetenv("TZ");
  tzset();
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(*a, *c);
  // WriteNpz writes exactly these bytes, with the umask's permissions.
  const std::string path = (dir / "out.npz").string();
  ASSERT_TRUE(WriteNpz(path, Sample()).ok());
  EXPECT_EQ(ReadBytes(path), *a);
  struct stat st {};
  ASSERT_EQ(::stat(path.c_str(), &st), 0);
  EXPECT_NE(st.st_mode & S_IRGRP, 0u) << "not a 0600 temporary file";
  // Stored, not deflated: every member's float32 data appears verbatim, after
  // numpy's 128-byte header (the local headers add their own bytes).
  const std::map<std::string, Array> in = Sample();
  const std::vector<float>& big = in.at("big").values;
  const std::string raw(reinterpret_cast<const char*>(big.data()), big.size() * 4);
  const size_t at = a->find(raw);
  ASSERT_NE(at, std::string::npos);
  EXPECT_EQ(a->substr(at - 128, 6), "\x93NUMPY");
  const std::string dict = "{'descr': '<f4', 'fortran_order': False, 'shape': (3, 1, 1, 1000), }";
  EXPECT_EQ(a->substr(at - 128 + 10, dict.size()), dict);
}

TEST(WriteNpz, EmptyArchive) {
  absl::StatusOr<std::string> bytes = NpzBytes({});
  ASSERT_TRUE(bytes.ok());
  EXPECT_EQ(*bytes, ReadBytes(Fixture("empty.npz")));  // what np.savez() writes
  absl::StatusOr<std::map<std::string, Array>> back = ParseNpz(*bytes, "empty");
  ASSERT_TRUE(back.ok()) << back.status();
  EXPECT_TRUE(back->empty());
}

TEST(WriteNpz, RefusesInvalidArrays) {
  const fs::path dir = FreshDir();
  const struct {
    std::map<std::string, Array> arrays;
    std::string error;
  } cases[] = {
      {{{"", Array{DType::kFloat32, {1}, {1}}}}, "an array with an empty key"},
      {{{std::string("a\0b", 3), Array{DType::kFloat32, {1}, {1}}}}, "the key holds a NUL byte"},
      {{{"neg", Array{DType::kFloat32, {2, -1}, {}}}},
       "array 'neg': negative dimension in shape (2, -1)"},
      {{{"few", Array{DType::kFloat32, {2, 3}, {1, 2}}}},
       "array 'few': shape (2, 3) holds 6 elements, values has 2"},
      {{{"huge", Array{DType::kFloat32, {int64_t{1} << 40, int64_t{1} << 40}, {}}}}, "overflows"},
  };
  for (const auto& c : cases) {
    absl::StatusOr<std::string> bytes = NpzBytes(c.arrays);
    ASSERT_FALSE(bytes.ok()) << c.error;
    EXPECT_THAT(bytes.status().message(), HasSubstr(c.error));
    const std::string path = (dir / "x.npz").string();
    absl::Status s = WriteNpz(path, c.arrays);
    EXPECT_THAT(s.message(), HasSubstr(path + ": "));
    EXPECT_THAT(s.message(), HasSubstr(c.error));
  }
  EXPECT_TRUE(fs::is_empty(dir)) << "nothing written";
  // An unwritable place: an error naming the path, no temporary file left.
  const std::string missing = (dir / "no" / "such" / "dir.npz").string();
  absl::Status s = WriteNpz(missing, Sample());
  EXPECT_THAT(s.message(), HasSubstr(missing + ": cannot create"));
  EXPECT_TRUE(fs::is_empty(dir));
}

// numpy reads what we write, and each member is byte for byte what np.save
// writes for the same float32 array. Skipped without /usr/bin/python3 + numpy.
TEST(WriteNpz, NumpyReadsIt) {
  if (std::system("/usr/bin/python3 -c 'import numpy' >/dev/null 2>&1") != 0) {
    GTEST_SKIP() << "no /usr/bin/python3 with numpy";
  }
  const fs::path dir = FreshDir();
  const std::string path = (dir / "out.npz").string();
  ASSERT_TRUE(WriteNpz(path, Sample()).ok());
  const std::string script = (dir / "check.py").string();
  WriteBytes(script, R"PY(
import io, sys, zipfile
import numpy as np
path = sys.argv[1]
z = np.load(path)
expect = {
    "spikes": np.array([[1, 0, 0], [1, 1, 0]], dtype="<f4"),
    "membrane/v": np.array([-0.0, 1.5, np.inf, np.nan], dtype="<f4"),
    "scalar": np.array(0.25, dtype="<f4"),
    "empty": np.zeros((0, 5), dtype="<f4"),
    "big": (np.arange(3000, dtype="<f4") / np.float32(7)).reshape(3, 1, 1, 1000),
    "uint8 as float": np.array([0, 255], dtype="<f4"),
    "\u00fc": np.array([7], dtype="<f4"),
}
assert sorted(z.files) == sorted(expect), (z.files, sorted(expect))
for k, v in expect.items():
    a = z[k]
    assert a.dtype == np.float32 and a.shape == v.shape, (k, a.dtype, a.shape)
    assert np.array_equal(a, v, equal_nan=True), (k, a, v)
    assert np.array_equal(np.signbit(a), np.signbit(v)), k
with zipfile.ZipFile(path) as zf:
    assert zf.testzip() is None
    names = [i.filename for i in zf.infolist()]
    assert names == sorted(names), names
    for info in zf.infolist():
        assert info.compress_type == zipfile.ZIP_STORED, info
        assert info.date_time == (1980, 1, 1, 0, 0, 0), info.date_time
        b = io.BytesIO()
        np.save(b, z[info.filename[:-4]])
        assert zf.read(info) == b.getvalue(), info.filename
print("ok")
)PY");
  const std::string cmd = "/usr/bin/python3 " + script + " " + path + " 2>&1";
  FILE* p = popen(cmd.c_str(), "r");
  ASSERT_NE(p, nullptr);
  std::string output;
  char buf[256];
  while (fgets(buf, sizeof buf, p) != nullptr) output += buf;
  const int rc = pclose(p);
  EXPECT_EQ(rc, 0) << output;
  EXPECT_EQ(output, "ok\n");
}

}  // namespace
}  // namespace snnplan::runtime
