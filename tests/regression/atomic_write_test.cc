// "A manifest too large for the disk fails cleanly without leaving a partial
// file": AtomicFileWriter (tools/cli_common.cc) writes a temporary file and
// renames it on Commit. A full disk is simulated with RLIMIT_FSIZE (writes
// past the limit fail with EFBIG, as ENOSPC would), which needs no root.
#include <signal.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <string>

#include "cli_common.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace snnplan::cli {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;

fs::path FreshDir(const std::string& name) {
  fs::path d = fs::temp_directory_path() /
               ("snnplan_regression_" + name + "_" + std::to_string(::getpid()));
  fs::remove_all(d);
  fs::create_directories(d);
  return d;
}

int FilesIn(const fs::path& d) {
  int n = 0;
  for (const auto& e : fs::directory_iterator(d)) (void)e, ++n;
  return n;
}

// Lowers the file-size limit for one scope; SIGXFSZ is ignored so the write
// fails with EFBIG instead of killing the process.
class FileSizeLimit {
 public:
  explicit FileSizeLimit(rlim_t bytes) {
    getrlimit(RLIMIT_FSIZE, &old_);
    old_handler_ = signal(SIGXFSZ, SIG_IGN);
    rlimit r = old_;
    r.rlim_cur = bytes;
    setrlimit(RLIMIT_FSIZE, &r);
  }
  ~FileSizeLimit() {
    setrlimit(RLIMIT_FSIZE, &old_);
    signal(SIGXFSZ, old_handler_);
  }

 private:
  rlimit old_{};
  sighandler_t old_handler_ = nullptr;
};

TEST(AtomicFileWriter, MissingDirectoryFailsWithoutCreatingAnything) {
  fs::path d = FreshDir("missing");
  fs::path target = d / "no-such-dir" / "manifest.json";
  AtomicFileWriter w(target.string());
  EXPECT_FALSE(w.status().ok());
  absl::Status s = w.Commit();
  ASSERT_FALSE(s.ok());
  EXPECT_THAT(std::string(s.message()), HasSubstr("cannot open for writing"));
  EXPECT_FALSE(fs::exists(target));
  EXPECT_EQ(FilesIn(d), 0);
  fs::remove_all(d);
}

TEST(AtomicFileWriter, TemporaryFileIsRemovedWhenCommitIsNotReached) {
  fs::path d = FreshDir("abandon");
  fs::path target = d / "manifest.json";
  {
    AtomicFileWriter w(target.string());
    ASSERT_TRUE(w.status().ok());
    w.stream() << "{\"partial\": ";
    w.stream().flush();
    EXPECT_EQ(FilesIn(d), 1);  // the temporary file
    EXPECT_FALSE(fs::exists(target));
  }  // e.g. an error return before Commit
  EXPECT_EQ(FilesIn(d), 0);
  fs::remove_all(d);
}

TEST(AtomicFileWriter, CommitReplacesAnExistingFileWhole) {
  fs::path d = FreshDir("replace");
  fs::path target = d / "manifest.json";
  std::ofstream(target) << "old";
  ASSERT_TRUE(WriteFileAtomically(target.string(), "new content").ok());
  std::ifstream in(target);
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  EXPECT_EQ(text, "new content");
  EXPECT_EQ(FilesIn(d), 1);
  fs::remove_all(d);
}

TEST(AtomicFileWriter, DiskFullFailsAndLeavesNoPartialFile) {
  fs::path d = FreshDir("full");
  fs::path target = d / "manifest.json";
  std::ofstream(target) << "previous manifest";
  absl::Status s;
  {
    FileSizeLimit limit(64 * 1024);
    s = WriteFileAtomically(target.string(), std::string(1 << 20, 'x'));
  }
  ASSERT_FALSE(s.ok());
  EXPECT_THAT(std::string(s.message()), HasSubstr("write failed"));
  // The old file is untouched and no temporary file is left behind.
  std::ifstream in(target);
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  EXPECT_EQ(text, "previous manifest");
  EXPECT_EQ(FilesIn(d), 1);
  fs::remove_all(d);
}

// End to end: `snnplan plan -o` under a 4 KiB file-size limit exits with an
// error and leaves neither the manifest nor a temporary file.
TEST(AtomicFileWriter, PlanCommandOnAFullDiskLeavesNoPartialManifest) {
  fs::path d = FreshDir("cli");
  fs::path target = d / "manifest.json";
  const std::string model = std::string(SNNPLAN_SOURCE_DIR) + "/models/snntorch_nmnist_step_op13.onnx";
  pid_t pid = fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    signal(SIGXFSZ, SIG_IGN);
    rlimit r;
    getrlimit(RLIMIT_FSIZE, &r);
    r.rlim_cur = 4096;
    setrlimit(RLIMIT_FSIZE, &r);
    freopen("/dev/null", "w", stdout);
    execl(SNNPLAN_BINARY, SNNPLAN_BINARY, "plan", model.c_str(), "--timesteps", "2",
          "--schedule", "tb-lbl", "-o", target.c_str(), static_cast<char*>(nullptr));
    _exit(127);
  }
  int status = 0;
  ASSERT_EQ(waitpid(pid, &status, 0), pid);
  ASSERT_TRUE(WIFEXITED(status));
  EXPECT_NE(WEXITSTATUS(status), 0);
  EXPECT_NE(WEXITSTATUS(status), 127);
  EXPECT_FALSE(fs::exists(target));
  EXPECT_EQ(FilesIn(d), 0);
  fs::remove_all(d);
}

}  // namespace
}  // namespace snnplan::cli
