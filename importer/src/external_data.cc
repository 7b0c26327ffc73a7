#include "external_data.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "tensor.h"

namespace snnplan::importer::internal {
namespace {

namespace fs = std::filesystem;
using TP = onnx::TensorProto;

class Loader {
 public:
  explicit Loader(const std::string& model_dir) : model_dir_(model_dir) {}

  absl::Status Graph(onnx::GraphProto& g) {
    for (TP& t : *g.mutable_initializer())
      if (absl::Status s = Tensor(t); !s.ok()) return s;
    for (onnx::SparseTensorProto& t : *g.mutable_sparse_initializer())
      for (TP* part : {t.mutable_values(), t.mutable_indices()})
        if (absl::Status s = Tensor(*part); !s.ok()) return s;
    for (onnx::NodeProto& n : *g.mutable_node())
      for (onnx::AttributeProto& a : *n.mutable_attribute()) {
        if (a.has_t())
          if (absl::Status s = Tensor(*a.mutable_t()); !s.ok()) return s;
        for (TP& t : *a.mutable_tensors())
          if (absl::Status s = Tensor(t); !s.ok()) return s;
        if (a.has_g())
          if (absl::Status s = Graph(*a.mutable_g()); !s.ok()) return s;
        for (onnx::GraphProto& sub : *a.mutable_graphs())
          if (absl::Status s = Graph(sub); !s.ok()) return s;
      }
    return absl::OkStatus();
  }

 private:
  absl::Status Tensor(TP& t) {
    if (t.data_location() != TP::EXTERNAL) {
      if (t.external_data_size() > 0)
        return Error(t, "has external_data entries but data_location is not EXTERNAL");
      return absl::OkStatus();
    }
    std::string location;
    int64_t offset = 0, length = -1;
    for (const onnx::StringStringEntryProto& e : t.external_data()) {
      if (e.key() == "location") {
        location = e.value();
      } else if (e.key() == "offset" || e.key() == "length") {
        int64_t v = 0;
        if (!absl::SimpleAtoi(e.value(), &v) || v < 0)
          return Error(t, absl::StrCat("external_data ", e.key(), " '", e.value(),
                                       "' is not a non-negative integer"));
        (e.key() == "offset" ? offset : length) = v;
      }
    }
    absl::StatusOr<int64_t> expected = ExpectedBytes(t);
    if (!expected.ok()) return expected.status();
    absl::StatusOr<std::string> path = Resolve(t, location);
    if (!path.ok()) return path.status();
    if (length >= 0 && length != *expected)
      return Error(
          t, absl::StrCat("external_data length ", length, " in '", location, "' differs from the ",
                          *expected, " bytes its dims and type declare"));
    if ((total_ += *expected) > kMaxExternalDataBytes)
      return Error(t, absl::StrCat("external data beyond ", kMaxExternalDataBytes,
                                   " bytes in all (the limit)"));
    return Read(t, location, *path, offset, length, *expected);
  }

  // Dims times the element size, checked for overflow.
  absl::StatusOr<int64_t> ExpectedBytes(const TP& t) {
    const int width = ElementWidth(t.data_type());
    if (width == 0)
      return Error(t, absl::StrCat("external data of unsupported element type ", t.data_type()));
    int64_t bytes = width;
    for (int64_t d : t.dims())
      if (d < 0 || __builtin_mul_overflow(bytes, d, &bytes))
        return Error(t, "dims are negative or their byte size overflows int64");
    return bytes;
  }

  // The file `location` names, inside the model's directory.
  absl::StatusOr<std::string> Resolve(const TP& t, const std::string& location) {
    auto refuse = [&](const std::string& why) {
      return Error(t, absl::StrCat("external data location '", location, "' ", why));
    };
    if (model_dir_.empty())
      return refuse("cannot be read: the model was given as bytes, not as a file with a directory");
    if (location.empty()) return Error(t, "external data has no location");
    if (location.find('\0') != std::string::npos) return refuse("contains a NUL byte");
    const fs::path rel(location);
    if (rel.is_absolute()) return refuse("is absolute (it must be relative to the model)");
    const fs::path normal = rel.lexically_normal();
    if (!normal.empty() && *normal.begin() == "..") return refuse("leaves the model's folder");
    const fs::path full = fs::path(model_dir_) / normal;
    std::error_code ec;
    const fs::path real = fs::canonical(full, ec);
    if (ec) return refuse(absl::StrCat("(", full.string(), "): ", ec.message()));
    const fs::path dir = fs::canonical(model_dir_, ec);
    if (ec) return refuse(absl::StrCat("(model folder ", model_dir_, "): ", ec.message()));
    const fs::path inside = real.lexically_relative(dir);
    if (inside.empty() || *inside.begin() == "..")
      return refuse(
          absl::StrCat("leaves the model's folder through a symlink (to ", real.string(), ")"));
    return real.string();
  }

  absl::Status Read(TP& t, const std::string& location, const std::string& path, int64_t offset,
                    int64_t length, int64_t expected) {
    auto refuse = [&](const std::string& why) {
      return Error(t, absl::StrCat("external data file '", location, "' ", why));
    };
    const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK);
    if (fd < 0) return refuse(absl::StrCat("cannot be opened: ", std::strerror(errno)));
    struct stat st {};
    std::string bytes;
    absl::Status status;
    if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
      status = refuse("is not a regular file");
    } else if (offset > st.st_size || (length >= 0 && length > st.st_size - offset)) {
      status = refuse(absl::StrCat("is ", st.st_size, " bytes: offset ", offset, " + length ",
                                   length, " lies outside it"));
    } else if (const int64_t available = length >= 0 ? length : st.st_size - offset;
               available != expected) {
      status = refuse(absl::StrCat("holds ", available, " bytes from offset ", offset,
                                   "; the dims and type declare ", expected));
    } else {
      bytes.resize(static_cast<size_t>(expected));
      size_t done = 0;
      while (done < bytes.size()) {
        const ssize_t n = ::pread(fd, bytes.data() + done, bytes.size() - done,
                                  static_cast<off_t>(offset + static_cast<int64_t>(done)));
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) {
          status = refuse(n < 0 ? absl::StrCat("read error: ", std::strerror(errno))
                                : std::string("ended early (truncated while read?)"));
          break;
        }
        done += static_cast<size_t>(n);
      }
    }
    ::close(fd);
    if (!status.ok()) return status;
    t.set_raw_data(std::move(bytes));
    t.clear_external_data();
    t.set_data_location(TP::DEFAULT);
    return absl::OkStatus();
  }

  static absl::Status Error(const TP& t, const std::string& what) {
    return absl::InvalidArgumentError(absl::StrCat("tensor '", t.name(), "': ", what));
  }

  std::string model_dir_;
  int64_t total_ = 0;
};

}  // namespace

absl::Status LoadExternalData(onnx::ModelProto& model, const std::string& model_dir) {
  if (!model.has_graph()) return absl::OkStatus();
  return Loader(model_dir).Graph(*model.mutable_graph());
}

}  // namespace snnplan::importer::internal
