// Issue #16, the CLI's side: output files never replace what is not a
// regular file, are checked before the work starts, are committed together
// and leave no temporary file on any exit (signals included); "-" is stdout;
// "-hw" is not "-h"; --max-memory refuses plans before building them; an
// allocation failure is a clear error.
#include <signal.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <string>
#include <thread>
#include <vector>

#include "cli_runner.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "nlohmann/json.hpp"

namespace snnplan::testing {
namespace {

using ::testing::HasSubstr;
using ::testing::IsEmpty;

const std::string kModel = SourceDir() + "/models/snntorch_nmnist_step_op13.onnx";

std::vector<std::string> Plan(const std::vector<std::string>& extra) {
  std::vector<std::string> args = {"plan", kModel, "--timesteps", "2", "--schedule", "tb-lbl"};
  args.insert(args.end(), extra.begin(), extra.end());
  return args;
}

class OutputFilesCli : public CliTest {
 protected:
  // Files named "*.tmp.*" anywhere below the scratch directory.
  std::vector<std::string> TempFiles() const {
    std::vector<std::string> out;
    for (const auto& e : fs::recursive_directory_iterator(dir_))
      if (e.path().filename().string().find(".tmp.") != std::string::npos)
        out.push_back(e.path().string());
    return out;
  }
};

TEST_F(OutputFilesCli, SymlinkIsWrittenThroughAndStaysALink) {
  fs::create_directories(dir_ / "real");
  fs::create_symlink("real/target.json", dir_ / "link.json");
  CliResult r = Run(Plan({"-o", (dir_ / "link.json").string()}));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_TRUE(fs::is_symlink(dir_ / "link.json"));
  EXPECT_TRUE(fs::is_regular_file(dir_ / "real/target.json"));
  EXPECT_TRUE(nlohmann::json::parse(ReadAll(dir_ / "real/target.json")).contains("tiles"));
  EXPECT_THAT(TempFiles(), IsEmpty());
}

TEST_F(OutputFilesCli, DevicesAreWrittenIntoNotReplaced) {
  CliResult r = Run(Plan({"-o", "/dev/null", "--summary-json", "/dev/null"}));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  struct stat st {};
  ASSERT_EQ(::stat("/dev/null", &st), 0);
  EXPECT_TRUE(S_ISCHR(st.st_mode));
  // A symlink to a device (as /dev/stdout is) is written into too.
  fs::create_symlink("/dev/null", dir_ / "null-link");
  r = Run(Plan({"-o", (dir_ / "null-link").string()}));
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_TRUE(fs::is_symlink(dir_ / "null-link"));
  EXPECT_THAT(TempFiles(), IsEmpty());
}

// /dev/stdout into a pipe: /proc/self/fd/1 links to "pipe:[N]", which is
// written into, not created as a file.
TEST_F(OutputFilesCli, DevStdoutIntoAPipeIsWrittenInto) {
  std::string cmd = ShellQuote(SNNPLAN_BINARY);
  for (const std::string& a : Plan({"-o", "/dev/stdout"})) cmd += " " + ShellQuote(a);
  cmd = "cd " + ShellQuote(dir_.string()) + " && " + cmd + " 2>/dev/null | cat";
  FILE* pipe = ::popen(cmd.c_str(), "r");
  ASSERT_NE(pipe, nullptr);
  std::string out;
  char buf[4096];
  for (size_t n; (n = fread(buf, 1, sizeof(buf), pipe)) > 0;) out.append(buf, n);
  EXPECT_EQ(::pclose(pipe), 0);
  EXPECT_THAT(out, HasSubstr("\"tiles\""));
  EXPECT_THAT(OutputFiles(), IsEmpty());
}

TEST_F(OutputFilesCli, DashIsStdoutForEveryOutputOption) {
  CliResult r = Run(Plan({"-o", "-"}));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  nlohmann::json m = nlohmann::json::parse(r.out);  // the report went to stderr
  EXPECT_TRUE(m.contains("tiles"));
  EXPECT_THAT(r.err, HasSubstr("tiles:"));
  r = Run(Plan({"--summary-json", "-"}));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_TRUE(nlohmann::json::parse(r.out).contains("dram_bytes"));
  r = Run({"import", kModel, "--timesteps", "2", "--json", "-"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_TRUE(nlohmann::json::parse(r.out).contains("layers"));
  const std::string manifest = (dir_ / "m.json").string();
  ASSERT_EQ(Run(Plan({"-o", manifest})).exit_code, 0);
  r = Run({"trace", manifest, "-o", "-"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_TRUE(nlohmann::json::parse(r.out).contains("traceEvents"));
  r = Run({"explore", kModel, "--timesteps", "2", "--csv", "-"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out.rfind("spec,", 0), 0u) << r.out.substr(0, 200);
  EXPECT_THAT(r.err, HasSubstr("best: "));
  EXPECT_THAT(OutputFiles(), ::testing::ElementsAre("m.json"));
}

TEST_F(OutputFilesCli, BadOutputPathsFailBeforeTheWorkNamingTheOption) {
  struct Case {
    std::vector<std::string> args;
    std::string message;
  } cases[] = {
      {Plan({"-o", dir_.string()}), "-o " + dir_.string() + ": is a directory"},
      {Plan({"-o", (dir_ / "sub/").string()}),
       "-o " + (dir_ / "sub/").string() + ": ends with '/'"},
      {Plan({"-o", (dir_ / "sub/m.json").string()}), "-o " + (dir_ / "sub/m.json").string() +
                                                         ": directory " + (dir_ / "sub").string() +
                                                         " does not exist"},
      {Plan({"--summary-json", (dir_ / "no/such/s.json").string()}),
       "--summary-json " + (dir_ / "no/such/s.json").string() + ": directory "},
      {Plan({"-o", (dir_ / "x.json").string(), "--summary-json", (dir_ / "x.json").string()}),
       "--summary-json " + (dir_ / "x.json").string() + ": -o already writes this file"},
      {Plan({"-o", "-", "--summary-json", "-"}), "--summary-json -: -o already writes to stdout"},
      {{"import", kModel, "--timesteps", "2", "--json", dir_.string()}, "--json " + dir_.string()},
      {{"explore", kModel, "--timesteps", "2", "--csv", dir_.string()}, "--csv " + dir_.string()},
      {{"ablate", kModel, "--timesteps", "2", "--csv", dir_.string()}, "--csv " + dir_.string()},
      {{"allocate", kModel, "--timesteps", "2", "--hw", "meta-prototype-quad", "--pareto",
        dir_.string()},
       "--pareto " + dir_.string()},
      {{"cost", kModel, "--hw", "meta-prototype", "--timesteps", "2", "--json", dir_.string()},
       "--json " + dir_.string()},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.message);
    // A model that does not exist: the output check must come first.
    std::vector<std::string> args = c.args;
    args[1] = (dir_ / "not-read-yet.onnx").string();
    CliResult r = Run(args);
    EXPECT_EQ(r.exit_code, 2) << r.out << r.err;
    EXPECT_THAT(r.err, HasSubstr(c.message));
    EXPECT_THAT(r.err, ::testing::Not(HasSubstr("not-read-yet")));
  }
  EXPECT_THAT(OutputFiles(), IsEmpty());
}

// A plan that fails after its outputs were checked leaves none of them.
TEST_F(OutputFilesCli, FailingPlanLeavesNoSummaryJson) {
  const std::string summary = (dir_ / "summary.json").string();
  // 60,000,000 timesteps, one tile each: beyond the planner's tile limit.
  CliResult r =
      Run({"plan", kModel, "--timesteps", "60000000", "--schedule", "st-lbl", "--max-memory",
           "100000GiB", "-o", (dir_ / "m.json").string(), "--summary-json", summary});
  EXPECT_EQ(r.exit_code, 2) << r.err;
  EXPECT_THAT(r.err, HasSubstr("tiles"));
  EXPECT_THAT(OutputFiles(), IsEmpty());
}

// The manifest fails to write (file-size limit, as a full disk would): the
// summary written before it is not committed either.
TEST_F(OutputFilesCli, OutputsAreCommittedTogether) {
  const std::string manifest = (dir_ / "m.json").string(), summary = (dir_ / "s.json").string();
  pid_t pid = fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    signal(SIGXFSZ, SIG_IGN);
    rlimit lim{6000, 6000};  // the summary fits, the manifest (8 KB) does not
    setrlimit(RLIMIT_FSIZE, &lim);
    freopen("/dev/null", "w", stdout);
    freopen("/dev/null", "w", stderr);
    execl(SNNPLAN_BINARY, SNNPLAN_BINARY, "plan", kModel.c_str(), "--timesteps", "2", "--schedule",
          "tb-lbl", "--summary-json", summary.c_str(), "-o", manifest.c_str(),
          static_cast<char*>(nullptr));
    _exit(127);
  }
  int status = 0;
  ASSERT_EQ(waitpid(pid, &status, 0), pid);
  ASSERT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), 2);
  EXPECT_THAT(OutputFiles(), IsEmpty());
}

// SIGINT / SIGTERM while an output is being written: the temporary file is
// removed and the process dies of the signal. The manifest goes to a FIFO
// nobody reads, so the process waits in open() with the summary's temporary
// file on disk.
TEST_F(OutputFilesCli, SignalsRemoveTemporaryFiles) {
  for (int sig : {SIGINT, SIGTERM}) {
    SCOPED_TRACE(sig);
    const fs::path fifo = dir_ / "fifo";
    fs::remove(fifo);
    ASSERT_EQ(::mkfifo(fifo.c_str(), 0600), 0);
    const std::string summary = (dir_ / "s.json").string();
    pid_t pid = fork();
    ASSERT_GE(pid, 0);
    if (pid == 0) {
      freopen("/dev/null", "w", stdout);
      execl(SNNPLAN_BINARY, SNNPLAN_BINARY, "plan", kModel.c_str(), "--timesteps", "2",
            "--schedule", "tb-lbl", "--summary-json", summary.c_str(), "-o", fifo.c_str(),
            static_cast<char*>(nullptr));
      _exit(127);
    }
    bool seen = false;
    for (int i = 0; i < 600 && !seen; ++i) {
      seen = !TempFiles().empty();
      if (!seen) std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    EXPECT_TRUE(seen) << "no temporary file appeared";
    kill(pid, sig);
    int status = 0;
    ASSERT_EQ(waitpid(pid, &status, 0), pid);
    EXPECT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == sig) << status;
    EXPECT_THAT(TempFiles(), IsEmpty());
    EXPECT_FALSE(fs::exists(summary));
  }
}

TEST_F(OutputFilesCli, SingleDashWordIsAnErrorNotHelp) {
  CliResult r = Run({"plan", kModel, "-hw", "meta-prototype", "-o", (dir_ / "m.json").string()});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_THAT(r.err, HasSubstr("'-hw': options with one dash are one letter; did you mean "
                               "'--hw'?"));
  EXPECT_THAT(r.out, IsEmpty());
  r = Run(Plan({"-ofile.json"}));
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_THAT(r.err, HasSubstr("'-ofile.json': options with one dash are one letter (write "
                               "'-o file.json'"));
  // One letter with a glued number stays valid, as do "-h" and "--".
  EXPECT_EQ(Run(Plan({"-j2"})).exit_code, 0);
  EXPECT_EQ(Run({"plan", "-h"}).exit_code, 0);
  EXPECT_THAT(OutputFiles(), IsEmpty());
}

TEST_F(OutputFilesCli, MaxMemoryRefusesPlansBeforeBuildingThem) {
  CliResult help = Run({"plan", "--help"});
  EXPECT_THAT(help.out, HasSubstr("--max-memory"));
  EXPECT_THAT(help.out, HasSubstr("half the physical RAM"));
  struct Case {
    std::vector<std::string> args;
  } cases[] = {
      {Plan({"--max-memory", "1MiB"})},
      {{"explore", kModel, "--timesteps", "2", "--max-memory", "1MiB"}},
      {{"ablate", kModel, "--timesteps", "2", "--max-memory", "1MiB"}},
      {{"allocate", kModel, "--timesteps", "2", "--hw", "meta-prototype-quad", "--max-memory",
        "1MiB"}},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.args[0]);
    CliResult r = Run(c.args);
    EXPECT_EQ(r.exit_code, 2) << r.out << r.err;
    EXPECT_THAT(r.err, HasSubstr("--max-memory: planning "));
    EXPECT_THAT(r.err, HasSubstr("needs an estimated "));
    EXPECT_THAT(r.err, HasSubstr("more than the limit of 0.000977 GiB"));
  }
  CliResult bad = Run(Plan({"--max-memory", "lots"}));
  EXPECT_EQ(bad.exit_code, 2);
  EXPECT_THAT(bad.err, HasSubstr("--max-memory 'lots' is not a size"));
  // 2^40 timesteps, one tile each: refused by the estimate, in no time.
  CliResult huge = Run({"plan", kModel, "--timesteps", "1073741824", "--schedule", "st-lbl"});
  EXPECT_EQ(huge.exit_code, 2);
  EXPECT_THAT(huge.err, HasSubstr("(4.29497e+09 tiles x 1700 bytes x 1 plan(s) at once)"));
}

#if defined(__has_feature)
#if __has_feature(address_sanitizer)
#define SNNPLAN_ASAN 1
#endif
#endif
#if defined(__SANITIZE_ADDRESS__)
#define SNNPLAN_ASAN 1
#endif

// An allocation failure (here: a 1 GiB address-space limit) is caught at the
// top: a clear message and exit 2, no abort.
TEST_F(OutputFilesCli, OutOfMemoryIsAClearError) {
#ifdef SNNPLAN_ASAN
  GTEST_SKIP() << "AddressSanitizer reserves terabytes of address space";
#else
  const std::string err = (dir_ / "err").string();
  pid_t pid = fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    rlimit lim{std::uint64_t{1} << 30, std::uint64_t{1} << 30};
    setrlimit(RLIMIT_AS, &lim);
    freopen("/dev/null", "w", stdout);
    freopen(err.c_str(), "w", stderr);
    // SEW-7 st-lf with batch 128: about 1.2 M tiles, 2 GB.
    const std::string model = SourceDir() + "/models/sj_sew7_T16_loop_op13.onnx";
    execl(SNNPLAN_BINARY, SNNPLAN_BINARY, "plan", model.c_str(), "--sram", "128KiB", "--schedule",
          "st-lf", "--batch", "128", "--max-memory", "100000GiB", static_cast<char*>(nullptr));
    _exit(127);
  }
  int status = 0;
  ASSERT_EQ(waitpid(pid, &status, 0), pid);
  ASSERT_TRUE(WIFEXITED(status)) << "killed by signal " << WTERMSIG(status) << ": " << ReadAll(err);
  EXPECT_EQ(WEXITSTATUS(status), 2) << ReadAll(err);
  EXPECT_THAT(ReadAll(err), HasSubstr("snnplan: error: out of memory"));
#endif
}

}  // namespace
}  // namespace snnplan::testing
