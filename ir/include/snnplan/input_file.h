// Reading an input file (model, hardware, manifest, any JSON option): only a
// regular file (a symlink to one is followed), bounded in size, with errors
// that name the path. A directory, FIFO, device or socket is refused before
// it is opened, so nothing blocks on a FIFO or reads a device forever.
#pragma once

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <cstring>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"

namespace snnplan {

// Largest JSON input (manifests of big plans reach hundreds of MB; parsing
// takes about ten times the file size in memory).
inline constexpr int64_t kMaxJsonFileBytes = int64_t{1} << 30;
// Largest ONNX model: protobuf cannot parse more than 2 GiB.
inline constexpr int64_t kMaxModelFileBytes = int64_t{2} * 1024 * 1024 * 1024 - 1;

namespace internal {

inline const char* FileKind(mode_t mode) {
  if (S_ISDIR(mode)) return "a directory";
  if (S_ISFIFO(mode)) return "a FIFO";
  if (S_ISCHR(mode) || S_ISBLK(mode)) return "a device";
  if (S_ISSOCK(mode)) return "a socket";
  return "not a regular file";
}

}  // namespace internal

// The bytes of `path`, a `what` ("hardware file", "JSON file", ...) of at
// most `max_bytes`. Errors: "<path>: cannot open <what>" (NotFound when it
// does not exist), "<path>: is a directory, not a <what>", "<path>: <what>
// of N bytes exceeds the limit of M bytes".
inline absl::StatusOr<std::string> ReadInputFile(const std::string& path, const std::string& what,
                                                 int64_t max_bytes) {
  auto cannot_open = [&](int err) {
    std::string msg = absl::StrCat(path, ": cannot open ", what);
    if (err == ENOENT) return absl::NotFoundError(msg);
    return absl::InvalidArgumentError(absl::StrCat(msg, ": ", std::strerror(err)));
  };
  auto not_regular = [&](mode_t mode) {
    return absl::InvalidArgumentError(
        absl::StrCat(path, ": is ", internal::FileKind(mode), ", not a ", what));
  };
  struct stat st {};
  if (path.empty()) return absl::InvalidArgumentError(absl::StrCat("empty path: no ", what));
  if (::stat(path.c_str(), &st) != 0) return cannot_open(errno);
  if (!S_ISREG(st.st_mode)) return not_regular(st.st_mode);
  // O_NONBLOCK: should the path turn into a FIFO after stat, open must not wait.
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK);
  if (fd < 0) return cannot_open(errno);
  std::string bytes;
  absl::Status status;
  if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    status = not_regular(st.st_mode);
  } else if (st.st_size > max_bytes) {
    status = absl::InvalidArgumentError(absl::StrCat(
        path, ": ", what, " of ", st.st_size, " bytes exceeds the limit of ", max_bytes, " bytes"));
  } else {
    bytes.resize(static_cast<size_t>(st.st_size));
    size_t done = 0;
    while (done < bytes.size()) {  // a file that shrinks meanwhile ends early
      const ssize_t n = ::read(fd, bytes.data() + done, bytes.size() - done);
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) {
        status =
            absl::InvalidArgumentError(absl::StrCat(path, ": read error: ", std::strerror(errno)));
        break;
      }
      if (n == 0) break;
      done += static_cast<size_t>(n);
    }
    bytes.resize(done);
  }
  ::close(fd);
  if (!status.ok()) return status;
  return bytes;
}

}  // namespace snnplan
