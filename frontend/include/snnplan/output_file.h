// Output files written atomically, for every front end (the CLI's output
// options, the Python module's Plan.write): a failure (or Ctrl-C) never
// leaves a partial or stray file.
#pragma once

#include <atomic>
#include <fstream>
#include <iostream>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"

namespace snnplan::frontend {

// Checks, before any work, that `path` can be written as the output of
// `option` (e.g. "-o"): "-" is stdout; a symlink is checked as its final
// target; a regular file or a new file needs an existing, writable directory;
// a device or FIFO is written into. A directory or a socket is an error,
// "<option> <path>: is a directory".
absl::Status CheckOutputPath(const std::string& option, const std::string& path);

// One output file. A regular (or new) target is written to "<target>.tmp.<pid>"
// beside it and renamed onto it by Commit(), so a failure never leaves a
// partial file; a symlink's target is replaced, the link stays. "-" writes to
// stdout and a device or FIFO is written into directly, as a shell redirect
// would. An uncommitted temporary file is removed by the destructor and, on
// SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGPIPE and SIGABRT, by the handler of
// InstallTempFileCleanup().
class AtomicFileWriter {
 public:
  explicit AtomicFileWriter(std::string path);
  ~AtomicFileWriter();
  AtomicFileWriter(const AtomicFileWriter&) = delete;
  AtomicFileWriter& operator=(const AtomicFileWriter&) = delete;
  absl::Status status() const;  // open/write errors so far
  std::ostream& stream() { return path_ == "-" ? std::cout : file_; }
  absl::Status Close();   // flush and close (stdout: flush); no rename yet
  absl::Status Commit();  // Close, then rename onto the target

 private:
  std::string path_;
  std::string target_;     // path_ with symlinks resolved
  std::string temp_path_;  // empty: written directly (stdout, device, FIFO)
  int temp_slot_ = -1;     // entry in the signal handler's table
  absl::Status open_status_;
  std::ofstream file_;
  bool closed_ = false;
  bool committed_ = false;
};

// Writes `content` to `path` atomically.
absl::Status WriteFileAtomically(const std::string& path, std::string_view content);

// Installs the signal handlers that remove uncommitted temporary files (and
// then die of the signal as before). Signals that are ignored stay ignored.
void InstallTempFileCleanup();

// Stopping long work cleanly (explore, allocate): while a scope lives, the
// first SIGINT or SIGTERM that InstallTempFileCleanup's handler receives
// sets `flag` (the library's cancel flag) instead of ending the process, so
// the work in flight finishes and the command writes what it has; a second
// signal ends the process as before (removing temporary files).
class InterruptScope {
 public:
  explicit InterruptScope(std::atomic<bool>* flag);
  ~InterruptScope();
  InterruptScope(const InterruptScope&) = delete;
  InterruptScope& operator=(const InterruptScope&) = delete;
  int signal() const;  // the signal received (SIGINT, SIGTERM), 0 = none
};

// The output files of one command. Expect() checks each path before the work
// starts; Open()/Write() write them to temporary files; CommitAll() renames
// them all at the end, so a command that fails leaves none of its outputs.
class OutputFiles {
 public:
  // Checks the output `path` of `option` ("" = not requested); two options
  // naming the same file (or both "-") are an error.
  absl::Status Expect(const std::string& option, const std::string& path);
  std::ostream& Open(const std::string& path);
  void Write(const std::string& path, std::string_view content) {
    Open(path).write(content.data(), static_cast<std::streamsize>(content.size()));
  }
  absl::Status CommitAll();
  // Where the human-readable report goes: stderr when an output is stdout.
  std::ostream& report() const { return to_stdout_ ? std::cerr : std::cout; }

 private:
  std::map<std::string, std::string> targets_;  // resolved target -> option
  bool to_stdout_ = false;
  std::vector<std::unique_ptr<AtomicFileWriter>> writers_;
};

}  // namespace snnplan::frontend
