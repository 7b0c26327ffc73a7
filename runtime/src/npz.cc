// NumPy .npz: a zip archive of .npy members, read and written with libzip.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zip.h>

#include <atomic>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <limits>
#include <memory>
#include <set>
#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "npy_internal.h"
#include "snnplan/runtime.h"

namespace snnplan::runtime {
namespace {

struct ZipDiscard {
  void operator()(zip_t* za) const { zip_discard(za); }
};
struct ZipFileClose {
  void operator()(zip_file_t* f) const { zip_fclose(f); }
};
struct ZipErrorFini {
  void operator()(zip_error_t* e) const { zip_error_fini(e); }
};

std::string ZipErrorText(zip_error_t* error) { return zip_error_strerror(error); }

// One member, read through libzip (inflated when deflated; libzip checks the
// CRC at the end).
class ZipMemberReader : public internal::ByteReader {
 public:
  ZipMemberReader(zip_file_t* file, int64_t size, std::string where)
      : file_(file), size_(size), where_(std::move(where)) {}
  absl::StatusOr<size_t> Read(char* buf, size_t n) override {
    const zip_int64_t got = zip_fread(file_.get(), buf, n);
    if (got < 0) {
      return absl::InvalidArgumentError(
          absl::StrCat(where_, ": ", ZipErrorText(zip_file_get_error(file_.get()))));
    }
    return static_cast<size_t>(got);
  }
  int64_t Size() const override { return size_; }

 private:
  std::unique_ptr<zip_file_t, ZipFileClose> file_;
  int64_t size_;
  std::string where_;
};

// Reads every member of an opened archive; `name` starts the errors.
absl::StatusOr<std::map<std::string, Array>> ReadArchive(zip_t* za, const std::string& name) {
  std::map<std::string, Array> out;
  const zip_int64_t entries = zip_get_num_entries(za, 0);
  if (entries < 0)
    return absl::InvalidArgumentError(absl::StrCat(name, ": cannot list the archive"));
  int64_t elements = 0;  // over all members so far
  for (zip_int64_t i = 0; i < entries; ++i) {
    zip_stat_t st;
    zip_stat_init(&st);
    if (zip_stat_index(za, static_cast<zip_uint64_t>(i), 0, &st) != 0 ||
        (st.valid & ZIP_STAT_NAME) == 0) {
      return absl::InvalidArgumentError(
          absl::StrCat(name, ": member ", i, ": ", ZipErrorText(zip_get_error(za))));
    }
    const std::string member = st.name;
    const std::string where = absl::StrCat(name, ": member '", member, "'");
    if (!absl::EndsWith(member, ".npy") || member.size() == 4) {
      return absl::InvalidArgumentError(
          absl::StrCat(where, ": not a .npy member (np.savez writes '<key>.npy')"));
    }
    const std::string key = member.substr(0, member.size() - 4);
    if (out.count(key) != 0) {
      return absl::InvalidArgumentError(
          absl::StrCat(where, ": a second member for the key '", key, "'"));
    }
    zip_file_t* file = zip_fopen_index(za, static_cast<zip_uint64_t>(i), 0);
    if (file == nullptr) {
      return absl::InvalidArgumentError(absl::StrCat(where, ": ", ZipErrorText(zip_get_error(za))));
    }
    const int64_t size =
        (st.valid & ZIP_STAT_SIZE) != 0 &&
                st.size <= static_cast<zip_uint64_t>(std::numeric_limits<int64_t>::max())
            ? static_cast<int64_t>(st.size)
            : -1;
    ZipMemberReader reader(file, size, where);
    const std::string budget_what =
        elements == 0
            ? ""
            : absl::StrCat(" left for this archive (the members before it hold ", elements, ")");
    absl::StatusOr<Array> array =
        internal::ReadNpyFrom(reader, where, kMaxArrayElements - elements, budget_what);
    if (!array.ok()) return array.status();
    elements += static_cast<int64_t>(array->values.size());
    out.emplace(key, *std::move(array));
  }
  return out;
}

absl::StatusOr<std::map<std::string, Array>> OpenAndRead(zip_source_t* src,
                                                         const std::string& name) {
  zip_error_t error;
  zip_error_init(&error);
  std::unique_ptr<zip_error_t, ZipErrorFini> fini(&error);
  zip_source_keep(src);  // the caller frees it
  std::unique_ptr<zip_t, ZipDiscard> za(
      zip_open_from_source(src, ZIP_RDONLY | ZIP_CHECKCONS, &error));
  if (za == nullptr) {
    zip_source_free(src);  // drops the reference taken above
    // libzip refuses duplicate names while opening, as "File already exists".
    const std::string why = zip_error_code_zip(&error) == ZIP_ER_EXISTS
                                ? "two members have the same name"
                                : ZipErrorText(&error);
    return absl::InvalidArgumentError(
        absl::StrCat(name, ": not a readable .npz (zip) archive: ", why));
  }
  return ReadArchive(za.get(), name);
}

struct SourceFree {
  void operator()(zip_source_t* s) const { zip_source_free(s); }
};

}  // namespace

absl::StatusOr<std::map<std::string, Array>> ParseNpz(std::string_view bytes,
                                                      const std::string& name) {
  // libzip opens an empty file as an empty archive; numpy (and we) do not.
  if (bytes.empty())
    return absl::InvalidArgumentError(absl::StrCat(name, ": empty, not a .npz file"));
  zip_error_t error;
  zip_error_init(&error);
  std::unique_ptr<zip_error_t, ZipErrorFini> fini(&error);
  std::unique_ptr<zip_source_t, SourceFree> src(
      zip_source_buffer_create(bytes.data(), bytes.size(), 0, &error));
  if (src == nullptr) {
    return absl::InternalError(absl::StrCat(name, ": ", ZipErrorText(&error)));
  }
  return OpenAndRead(src.get(), name);
}

absl::StatusOr<std::map<std::string, Array>> ReadNpz(const std::string& path) {
  if (path.empty()) return absl::InvalidArgumentError("empty path: no .npz file");
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) {
    const int err = errno;
    const std::string msg = absl::StrCat(path, ": cannot open .npz file");
    if (err == ENOENT) return absl::NotFoundError(msg);
    return absl::InvalidArgumentError(absl::StrCat(msg, ": ", std::strerror(err)));
  }
  if (!S_ISREG(st.st_mode)) {
    return absl::InvalidArgumentError(
        absl::StrCat(path, ": is ", S_ISDIR(st.st_mode) ? "a directory" : "not a regular file",
                     ", not a .npz file"));
  }
  if (st.st_size == 0)
    return absl::InvalidArgumentError(absl::StrCat(path, ": empty, not a .npz file"));
  zip_error_t error;
  zip_error_init(&error);
  std::unique_ptr<zip_error_t, ZipErrorFini> fini(&error);
  std::unique_ptr<zip_source_t, SourceFree> src(
      zip_source_file_create(path.c_str(), 0, -1, &error));
  if (src == nullptr) {
    return absl::InvalidArgumentError(
        absl::StrCat(path, ": cannot open .npz file: ", ZipErrorText(&error)));
  }
  return OpenAndRead(src.get(), path);
}

absl::StatusOr<std::string> NpzBytes(const std::map<std::string, Array>& arrays) {
  // Check everything first: libzip is only handed valid members.
  for (const auto& [key, array] : arrays) {
    const std::string where = absl::StrCat("array '", key, "'");
    if (key.empty()) return absl::InvalidArgumentError("an array with an empty key");
    if (key.find('\0') != std::string::npos) {
      return absl::InvalidArgumentError(absl::StrCat(where, ": the key holds a NUL byte"));
    }
    int64_t elements = 1;
    for (int64_t d : array.shape) {
      if (d < 0) {
        return absl::InvalidArgumentError(absl::StrCat(where, ": negative dimension in shape ",
                                                       internal::ShapeRepr(array.shape)));
      }
      if (d != 0 && elements > std::numeric_limits<int64_t>::max() / d) {
        return absl::InvalidArgumentError(
            absl::StrCat(where, ": shape ", internal::ShapeRepr(array.shape), " overflows"));
      }
      elements *= d;
    }
    if (static_cast<uint64_t>(elements) != array.values.size()) {
      return absl::InvalidArgumentError(
          absl::StrCat(where, ": shape ", internal::ShapeRepr(array.shape), " holds ", elements,
                       " elements, values has ", array.values.size()));
    }
  }
  if (arrays.empty()) {
    // libzip writes nothing for an archive without entries; an empty zip is
    // its end-of-central-directory record alone (what np.savez() writes).
    return std::string("PK\x05\x06", 4) + std::string(18, '\0');
  }

  zip_error_t error;
  zip_error_init(&error);
  std::unique_ptr<zip_error_t, ZipErrorFini> fini(&error);
  std::unique_ptr<zip_source_t, SourceFree> src(zip_source_buffer_create(nullptr, 0, 0, &error));
  if (src == nullptr) return absl::InternalError(absl::StrCat("npz: ", ZipErrorText(&error)));
  zip_source_keep(src.get());  // survives zip_close, which writes into it
  zip_t* za = zip_open_from_source(src.get(), ZIP_TRUNCATE, &error);
  if (za == nullptr) {
    zip_source_free(src.get());
    return absl::InternalError(absl::StrCat("npz: ", ZipErrorText(&error)));
  }
  // The member bytes must live until zip_close copies them.
  std::vector<std::string> members;
  members.reserve(arrays.size());
  auto fail = [&](const std::string& what) {
    const std::string msg = absl::StrCat("npz: ", what, ": ", ZipErrorText(zip_get_error(za)));
    zip_discard(za);
    return absl::InternalError(msg);
  };
  for (const auto& [key, array] : arrays) {  // std::map: sorted keys
    members.push_back(internal::NpyFloat32Bytes(array.shape, array.values));
    const std::string& bytes = members.back();
    zip_source_t* member = zip_source_buffer(za, bytes.data(), bytes.size(), 0);
    if (member == nullptr) return fail(key);
    const std::string name = key + ".npy";
    const zip_int64_t index = zip_file_add(za, name.c_str(), member, ZIP_FL_ENC_GUESS);
    if (index < 0) {
      zip_source_free(member);
      return fail(key);
    }
    const auto idx = static_cast<zip_uint64_t>(index);
    // Stored; 1980-01-01 00:00 (the DOS epoch, as np.savez); -rw-r--r--.
    if (zip_set_file_compression(za, idx, ZIP_CM_STORE, 0) != 0 ||
        zip_file_set_dostime(za, idx, /*time=*/0, /*date=*/(1 << 5) | 1, 0) != 0 ||
        zip_file_set_external_attributes(za, idx, 0, ZIP_OPSYS_UNIX, 0100644u << 16) != 0) {
      return fail(key);
    }
  }
  if (zip_close(za) != 0) return fail("writing the archive");

  if (zip_source_open(src.get()) != 0) {
    return absl::InternalError(absl::StrCat("npz: ", ZipErrorText(zip_source_error(src.get()))));
  }
  zip_stat_t st;
  zip_stat_init(&st);
  if (zip_source_stat(src.get(), &st) != 0 || (st.valid & ZIP_STAT_SIZE) == 0) {
    zip_source_close(src.get());
    return absl::InternalError("npz: cannot size the written archive");
  }
  std::string out(static_cast<size_t>(st.size), '\0');
  size_t done = 0;
  while (done < out.size()) {
    const zip_int64_t got = zip_source_read(src.get(), out.data() + done, out.size() - done);
    if (got <= 0) break;
    done += static_cast<size_t>(got);
  }
  zip_source_close(src.get());
  if (done != out.size()) return absl::InternalError("npz: cannot read back the written archive");
  return out;
}

absl::Status WriteNpz(const std::string& path, const std::map<std::string, Array>& arrays) {
  absl::StatusOr<std::string> bytes = NpzBytes(arrays);
  if (!bytes.ok())
    return absl::Status(bytes.status().code(), absl::StrCat(path, ": ", bytes.status().message()));
  static std::atomic<uint64_t> counter{0};
  const std::string temp = absl::StrCat(path, ".tmp.", ::getpid(), ".", counter++);
  // O_EXCL: never write through someone else's file; mode 0666 & ~umask.
  const int fd = ::open(temp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
  if (fd < 0) {
    return absl::InvalidArgumentError(
        absl::StrCat(path, ": cannot create ", temp, ": ", std::strerror(errno)));
  }
  size_t done = 0;
  int err = 0;
  while (done < bytes->size()) {
    const ssize_t n = ::write(fd, bytes->data() + done, bytes->size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      err = n < 0 ? errno : EIO;
      break;
    }
    done += static_cast<size_t>(n);
  }
  if (::close(fd) != 0 && err == 0) err = errno;
  if (err == 0 && std::rename(temp.c_str(), path.c_str()) != 0) err = errno;
  if (err != 0) {
    ::unlink(temp.c_str());
    return absl::InvalidArgumentError(
        absl::StrCat(path, ": cannot write .npz file: ", std::strerror(err)));
  }
  return absl::OkStatus();
}

}  // namespace snnplan::runtime
