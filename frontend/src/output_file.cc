// Output files written atomically (see snnplan/output_file.h).
#include "snnplan/output_file.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <climits>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <iostream>
#include <optional>

#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"

namespace snnplan::frontend {

namespace {

// Uncommitted temporary files, in a fixed table that a signal handler can
// read: it only unlink()s (async-signal-safe) the paths of used slots.
constexpr int kMaxTempFiles = 64;
enum SlotState : int { kFree, kClaimed, kReady };  // kReady: the handler may unlink `path`
struct TempSlot {
  std::atomic<int> state{kFree};
  char path[PATH_MAX] = {};
};
TempSlot g_temp_files[kMaxTempFiles];

// Returns the slot, or -1 when the table is full or the path too long (the
// file is then removed on ordinary exits only).
int RegisterTempFile(const std::string& path) {
  if (path.size() >= PATH_MAX) return -1;
  for (int i = 0; i < kMaxTempFiles; ++i) {
    int expected = kFree;
    if (!g_temp_files[i].state.compare_exchange_strong(expected, kClaimed)) continue;
    std::memcpy(g_temp_files[i].path, path.c_str(), path.size() + 1);
    g_temp_files[i].state.store(kReady);
    return i;
  }
  return -1;
}

void UnregisterTempFile(int slot) {
  if (slot >= 0) g_temp_files[slot].state.store(kFree);
}

// InterruptScope: the flag the first SIGINT/SIGTERM sets, and that signal.
std::atomic<std::atomic<bool>*> g_interrupt_flag{nullptr};
std::atomic<int> g_interrupt_signal{0};

extern "C" void RemoveTempFilesAndDie(int sig) {
  if (sig == SIGINT || sig == SIGTERM) {
    std::atomic<bool>* flag = g_interrupt_flag.load();
    int none = 0;  // only the first: a second Ctrl-C ends the process as before
    if (flag != nullptr && g_interrupt_signal.compare_exchange_strong(none, sig)) {
      flag->store(true);
      return;
    }
  }
  for (TempSlot& t : g_temp_files)
    if (t.state.load() == kReady) ::unlink(t.path);
  ::signal(sig, SIG_DFL);
  ::raise(sig);  // delivered when the handler returns: dies of `sig`
}

std::string ParentDir(const std::string& p) {
  const std::string dir = std::filesystem::path(p).parent_path().string();
  return dir.empty() ? "." : dir;
}

// Where writing `path` lands: symlinks followed to the final target, which
// may not exist yet. `direct`: a device or FIFO, written into in place.
struct OutputTarget {
  std::string path;
  bool direct = false;
  std::optional<mode_t> mode;  // the permissions of the file it replaces
};

absl::StatusOr<OutputTarget> ResolveOutput(const std::string& path) {
  auto error = [&](const std::string& what) {
    return absl::InvalidArgumentError(absl::StrCat(path, ": ", what));
  };
  if (path.empty()) return absl::InvalidArgumentError("empty output path");
  OutputTarget t{path, false, std::nullopt};
  // A device, FIFO or pipe, also behind /dev/stdout -> /proc/self/fd/1 ->
  // "pipe:[N]": opened through the path given, as a shell would.
  if (struct stat st{}; ::stat(path.c_str(), &st) == 0 && !S_ISREG(st.st_mode) &&
                        !S_ISDIR(st.st_mode) && !S_ISSOCK(st.st_mode)) {
    if (::access(path.c_str(), W_OK) != 0) return error(std::strerror(errno));
    t.direct = true;
    return t;
  }
  for (int links = 0;; ++links) {
    struct stat st {};
    if (::lstat(t.path.c_str(), &st) != 0) {
      if (errno != ENOENT) return error(std::strerror(errno));
      break;  // a new file
    }
    if (S_ISLNK(st.st_mode)) {
      if (links == 40) return error("too many levels of symbolic links");
      char buf[PATH_MAX];
      const ssize_t n = ::readlink(t.path.c_str(), buf, sizeof(buf));
      if (n <= 0 || n == static_cast<ssize_t>(sizeof(buf))) return error("unreadable symlink");
      const std::string link(buf, static_cast<size_t>(n));
      t.path = link.front() == '/' ? link : ParentDir(t.path) + "/" + link;
      continue;
    }
    if (S_ISDIR(st.st_mode)) return error("is a directory");
    if (S_ISSOCK(st.st_mode)) return error("is a socket");
    if (!S_ISREG(st.st_mode)) {  // device or FIFO
      if (::access(t.path.c_str(), W_OK) != 0) return error(std::strerror(errno));
      t.direct = true;
      return t;
    }
    t.mode = st.st_mode & 07777;
    break;
  }
  if (t.path.back() == '/') return error("ends with '/': a directory, not a file");
  const std::string dir = ParentDir(t.path);
  struct stat st {};
  if (::stat(dir.c_str(), &st) != 0)
    return error(absl::StrCat("directory ", dir, " does not exist"));
  if (!S_ISDIR(st.st_mode)) return error(absl::StrCat(dir, " is not a directory"));
  if (::access(dir.c_str(), W_OK | X_OK) != 0)
    return error(absl::StrCat("directory ", dir, " is not writable"));
  return t;
}

}  // namespace

void InstallTempFileCleanup() {
  struct sigaction sa {};
  sa.sa_handler = RemoveTempFilesAndDie;
  sigemptyset(&sa.sa_mask);
  sa.sa_flags = 0;  // the handler stays: InterruptScope's first signal returns
  for (int sig : {SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGPIPE, SIGABRT}) {
    struct sigaction old {};
    if (::sigaction(sig, nullptr, &old) == 0 && old.sa_handler == SIG_IGN) continue;
    ::sigaction(sig, &sa, nullptr);
  }
}

InterruptScope::InterruptScope(std::atomic<bool>* flag) {
  g_interrupt_signal.store(0);
  g_interrupt_flag.store(flag);
}

InterruptScope::~InterruptScope() { g_interrupt_flag.store(nullptr); }

int InterruptScope::signal() const { return g_interrupt_signal.load(); }

absl::Status CheckOutputPath(const std::string& option, const std::string& path) {
  if (path == "-") return absl::OkStatus();
  absl::StatusOr<OutputTarget> t = ResolveOutput(path);
  if (!t.ok()) return absl::InvalidArgumentError(absl::StrCat(option, " ", t.status().message()));
  return absl::OkStatus();
}

AtomicFileWriter::AtomicFileWriter(std::string path) : path_(std::move(path)) {
  if (path_ == "-") return;
  absl::StatusOr<OutputTarget> t = ResolveOutput(path_);
  if (!t.ok()) {
    open_status_ = absl::InvalidArgumentError(
        absl::StrCat(path_, ": cannot open for writing (", t.status().message(), ")"));
    return;
  }
  target_ = t->path;
  if (t->direct) {
    file_.open(target_, std::ios::binary | std::ios::out);
    return;
  }
  temp_path_ = absl::StrCat(target_, ".tmp.", ::getpid());
  ::unlink(temp_path_.c_str());  // a stale one of an earlier process with our pid
  const int fd = ::open(temp_path_.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
  if (fd < 0) {
    open_status_ = absl::InvalidArgumentError(
        absl::StrCat(path_, ": cannot open for writing (", std::strerror(errno), ")"));
    temp_path_.clear();
    return;
  }
  temp_slot_ = RegisterTempFile(temp_path_);
  if (t->mode) ::fchmod(fd, *t->mode);  // as a redirect into the old file keeps them
  ::close(fd);
  file_.open(temp_path_, std::ios::binary | std::ios::trunc);
}

AtomicFileWriter::~AtomicFileWriter() {
  if (committed_ || temp_path_.empty()) return;
  file_.close();
  std::remove(temp_path_.c_str());
  UnregisterTempFile(temp_slot_);
}

absl::Status AtomicFileWriter::status() const {
  if (!open_status_.ok()) return open_status_;
  if (path_ == "-") {
    if (!std::cout.good()) return absl::InternalError("stdout: write failed");
    return absl::OkStatus();
  }
  if (!file_.is_open() && !closed_)
    return absl::InvalidArgumentError(absl::StrCat(path_, ": cannot open for writing"));
  if (!file_.good()) return absl::InternalError(absl::StrCat(path_, ": write failed"));
  return absl::OkStatus();
}

absl::Status AtomicFileWriter::Close() {
  if (absl::Status s = status(); !s.ok()) return s;
  if (path_ == "-") {
    std::cout.flush();
    if (!std::cout.good()) return absl::InternalError("stdout: write failed");
    return absl::OkStatus();
  }
  if (closed_) return absl::OkStatus();
  file_.flush();
  if (!file_.good()) return absl::InternalError(absl::StrCat(path_, ": write failed (disk full?)"));
  file_.close();
  if (file_.fail()) return absl::InternalError(absl::StrCat(path_, ": close failed"));
  closed_ = true;
  return absl::OkStatus();
}

absl::Status AtomicFileWriter::Commit() {
  if (absl::Status s = Close(); !s.ok()) return s;
  if (!temp_path_.empty() && std::rename(temp_path_.c_str(), target_.c_str()) != 0)
    return absl::InternalError(absl::StrCat(path_, ": cannot rename temporary file"));
  committed_ = true;
  UnregisterTempFile(temp_slot_);
  return absl::OkStatus();
}

absl::Status WriteFileAtomically(const std::string& path, std::string_view content) {
  AtomicFileWriter writer(path);
  if (absl::Status s = writer.status(); !s.ok()) return s;
  writer.stream().write(content.data(), static_cast<std::streamsize>(content.size()));
  return writer.Commit();
}

absl::Status OutputFiles::Expect(const std::string& option, const std::string& path) {
  if (path.empty()) return absl::OkStatus();
  std::string key = "-";
  if (path != "-") {
    absl::StatusOr<OutputTarget> t = ResolveOutput(path);
    if (!t.ok()) return absl::InvalidArgumentError(absl::StrCat(option, " ", t.status().message()));
    if (t->direct) return absl::OkStatus();  // /dev/null may take several outputs
    std::error_code ec;
    key = std::filesystem::weakly_canonical(std::filesystem::absolute(t->path), ec).string();
    if (ec) key = t->path;
  }
  auto [it, added] = targets_.emplace(key, option);
  if (!added)
    return absl::InvalidArgumentError(absl::StrCat(option, " ", path, ": ", it->second,
                                                   " already writes ",
                                                   path == "-" ? "to stdout" : "this file"));
  to_stdout_ = to_stdout_ || path == "-";
  return absl::OkStatus();
}

std::ostream& OutputFiles::Open(const std::string& path) {
  writers_.push_back(std::make_unique<AtomicFileWriter>(path));
  return writers_.back()->stream();
}

absl::Status OutputFiles::CommitAll() {
  for (const auto& w : writers_)  // every file complete before any is renamed
    if (absl::Status s = w->Close(); !s.ok()) return s;
  for (const auto& w : writers_)
    if (absl::Status s = w->Commit(); !s.ok()) return s;
  return absl::OkStatus();
}

}  // namespace snnplan::frontend
