// Long and split runs (docs/cluster.md): progress lines in a log, Ctrl-C
// writing the finished rows, --resume, --shard and merge. Every expected
// output is the uninterrupted, unsharded run's own bytes.
#include <signal.h>
#include <sys/wait.h>

#include <cstdlib>
#include <fstream>

#include "cli_runner.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "snnplan/study.h"
#include "snnplan/sweep.h"

namespace snnplan::testing {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;
using ::testing::StartsWith;

const std::string kModel = SourceDir() + "/models/snntorch_nmnist_step_op13.onnx";

class SweepCli : public CliTest {
 protected:
  std::string Path(const std::string& name) const { return (dir_ / name).string(); }

  std::vector<std::string> Explore(const std::vector<std::string>& extra) const {
    std::vector<std::string> args = {"explore", kModel,       "--timesteps", "4",
                                     "--sram",  "8KiB,64KiB", "-j",          "1"};
    args.insert(args.end(), extra.begin(), extra.end());
    return args;
  }

  // Runs with the test-only SNNPLAN_TEST_INTERRUPT_AFTER=k (the process
  // sends itself SIGINT once k units are done).
  CliResult RunInterrupted(const std::vector<std::string>& args, int k) {
    ::setenv("SNNPLAN_TEST_INTERRUPT_AFTER", std::to_string(k).c_str(), 1);
    CliResult r = Run(args);
    ::unsetenv("SNNPLAN_TEST_INTERRUPT_AFTER");
    return r;
  }

  // Runs `args` with a real SIGINT after the first progress line (stderr).
  int RunWithSigint(const std::vector<std::string>& args) {
    const std::string err = Path("sigint.err");
    const pid_t pid = ::fork();
    if (pid == 0) {
      std::freopen(err.c_str(), "w", stderr);
      std::freopen("/dev/null", "w", stdout);
      std::vector<const char*> argv = {SNNPLAN_BINARY};
      for (const std::string& a : args) argv.push_back(a.c_str());
      argv.push_back(nullptr);
      ::execv(SNNPLAN_BINARY, const_cast<char* const*>(argv.data()));
      ::_exit(127);
    }
    for (int i = 0; i < 6000 && ReadAll(err).find("schedules (") == std::string::npos; ++i)
      ::usleep(10000);
    ::kill(pid, SIGINT);
    int status = 0;
    ::waitpid(pid, &status, 0);
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  }
};

TEST_F(SweepCli, ProgressLinesInALogHaveNoCarriageReturns) {
  CliResult r = Run(Explore({}));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_THAT(r.err, HasSubstr("explore 8KiB: "));
  EXPECT_THAT(r.err, HasSubstr("explore 64KiB: "));
  EXPECT_THAT(r.err, HasSubstr("schedules (100%)"));
  EXPECT_THAT(r.err, HasSubstr("ETA"));
  EXPECT_EQ(r.err.find('\r'), std::string::npos);
}

TEST_F(SweepCli, InterruptWritesPartialRowsAndResumeGivesTheUninterruptedBytes) {
  CliResult full = Run(Explore({"--csv", Path("full.csv"), "--json", Path("full.json")}));
  ASSERT_EQ(full.exit_code, 0) << full.err;
  // Interrupted in the first size, and again in the second.
  for (int k : {3, 30}) {
    SCOPED_TRACE(k);
    CliResult cut = RunInterrupted(Explore({"--csv", Path("part.csv")}), k);
    ASSERT_EQ(cut.exit_code, 130) << cut.err;
    EXPECT_THAT(cut.err, HasSubstr("continue with --resume"));
    const std::string part = ReadAll(Path("part.csv"));
    EXPECT_THAT(part, StartsWith("# partial: " + std::to_string(k) + " of "));
    CliResult resumed = Run(Explore(
        {"--resume", Path("part.csv"), "--csv", Path("out.csv"), "--json", Path("out.json")}));
    ASSERT_EQ(resumed.exit_code, 0) << resumed.err;
    EXPECT_EQ(ReadAll(Path("out.csv")), ReadAll(Path("full.csv")));
    EXPECT_EQ(ReadAll(Path("out.json")), ReadAll(Path("full.json")));
    EXPECT_EQ(resumed.out, full.out);
  }
}

// search is replayed with the finished schedules taken from the rows file:
// the same rounds, the same proof or gap.
TEST_F(SweepCli, SearchInterruptAndResumeGiveTheUninterruptedBytes) {
  auto search = [&](std::vector<std::string> more) {
    more.insert(more.begin(), {"--strategy", "search", "--objective", "energy"});
    return Explore(more);
  };
  CliResult full = Run(search({"--csv", Path("full.csv"), "--json", Path("full.json")}));
  ASSERT_EQ(full.exit_code, 0) << full.err;
  CliResult cut = RunInterrupted(search({"--csv", Path("part.csv")}), 20);
  ASSERT_EQ(cut.exit_code, 130) << cut.err;
  EXPECT_THAT(ReadAll(Path("part.csv")), HasSubstr("(search: the total is not known in advance)"));
  CliResult resumed = Run(
      search({"--resume", Path("part.csv"), "--csv", Path("out.csv"), "--json", Path("out.json")}));
  ASSERT_EQ(resumed.exit_code, 0) << resumed.err;
  EXPECT_EQ(ReadAll(Path("out.csv")), ReadAll(Path("full.csv")));
  EXPECT_EQ(ReadAll(Path("out.json")), ReadAll(Path("full.json")));
  EXPECT_EQ(resumed.out, full.out);
}

TEST_F(SweepCli, ResumeOfAResumedInterruptionAndWithTwoThreads) {
  CliResult full = Run(Explore({"--csv", Path("full.csv")}));
  ASSERT_EQ(full.exit_code, 0) << full.err;
  ASSERT_EQ(RunInterrupted(Explore({"--csv", Path("a.csv")}), 2).exit_code, 130);
  CliResult again = RunInterrupted(Explore({"--resume", Path("a.csv"), "--csv", Path("b.csv")}), 9);
  ASSERT_EQ(again.exit_code, 130) << again.err;
  std::vector<std::string> args = Explore({"--resume", Path("b.csv"), "--csv", Path("c.csv")});
  args[7] = "2";  // -j 2
  ASSERT_EQ(Run(args).exit_code, 0);
  EXPECT_EQ(ReadAll(Path("c.csv")), ReadAll(Path("full.csv")));
}

// A real SIGINT after the first progress line: SEW-7, 300 exhaustive
// schedules (seconds of work), so the signal lands while it runs.
TEST_F(SweepCli, RealSigintStopsCleanlyAndResumes) {
  auto args = [&](std::vector<std::string> more) {
    std::vector<std::string> a = {"explore",    SourceDir() + "/models/sj_sew7_T16_loop_op13.onnx",
                                  "--sram",     "128KiB",
                                  "--strategy", "exhaustive",
                                  "--budget",   "300",
                                  "-j",         "2"};
    a.insert(a.end(), more.begin(), more.end());
    return a;
  };
  EXPECT_EQ(RunWithSigint(args({"--csv", Path("part.csv")})), 130) << ReadAll(Path("sigint.err"));
  EXPECT_THAT(ReadAll(Path("sigint.err")), HasSubstr("continue with --resume"));
  ASSERT_THAT(ReadAll(Path("part.csv")), StartsWith("# partial: "));
  CliResult resumed = Run(args({"--resume", Path("part.csv"), "--csv", Path("out.csv")}));
  ASSERT_EQ(resumed.exit_code, 0) << resumed.err;
  CliResult full = Run(args({"--csv", Path("full.csv")}));
  ASSERT_EQ(full.exit_code, 0) << full.err;
  EXPECT_EQ(ReadAll(Path("out.csv")), ReadAll(Path("full.csv")));
  EXPECT_EQ(resumed.out, full.out);
}

TEST_F(SweepCli, ResumeRefusesOtherInputsNamingThem) {
  ASSERT_EQ(RunInterrupted(Explore({"--csv", Path("part.csv")}), 3).exit_code, 130);
  CliResult r = Run(Explore({"--objective", "energy", "--resume", Path("part.csv")}));
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_THAT(r.err, HasSubstr("--resume " + Path("part.csv") + ": made with other inputs"));
  EXPECT_THAT(r.err, HasSubstr("objective: \"dram\" there, \"energy\" here"));
  CliResult other_shard =
      Run(Explore({"--shard", "1/2", "--resume", Path("part.csv"), "--csv", Path("x.csv")}));
  EXPECT_EQ(other_shard.exit_code, 2);
  EXPECT_THAT(other_shard.err, HasSubstr("made by shard 0/1, this run is shard 1/2"));
  std::ofstream(Path("plain.csv")) << "spec,sram_bytes\n";
  CliResult plain = Run(Explore({"--resume", Path("plain.csv")}));
  EXPECT_EQ(plain.exit_code, 2);
  EXPECT_THAT(plain.err, HasSubstr("not a rows file"));
}

TEST_F(SweepCli, ShardsMergeToTheUnshardedBytes) {
  for (const std::string strategy : {"grid", "exhaustive"}) {
    SCOPED_TRACE(strategy);
    std::vector<std::string> extra = {"--strategy", strategy, "--budget", "40"};
    auto with = [&](std::vector<std::string> more) {
      more.insert(more.begin(), extra.begin(), extra.end());
      return Explore(more);
    };
    std::vector<std::string> full_args =
        with({"--csv", Path("full.csv"), "--json", Path("full.json")});
    if (strategy == "grid") full_args.insert(full_args.end(), {"--heatmap", Path("full.svg")});
    CliResult full = Run(full_args);
    ASSERT_EQ(full.exit_code, 0) << full.err;
    std::vector<std::string> merge = {"merge"};
    for (int i = 0; i < 3; ++i) {
      const std::string part = Path("part" + std::to_string(i) + ".csv");
      CliResult s = Run(with({"--shard", std::to_string(i) + "/3", "--csv", part}));
      ASSERT_EQ(s.exit_code, 0) << s.err;
      EXPECT_THAT(ReadAll(part), StartsWith("# shard " + std::to_string(i) + "/3: "));
      merge.push_back(part);
    }
    std::reverse(merge.begin() + 1, merge.end());  // any order
    merge.insert(merge.end(), {"-o", Path("m.csv"), "--json", Path("m.json")});
    if (strategy == "grid") merge.insert(merge.end(), {"--heatmap", Path("m.svg")});
    CliResult m = Run(merge);
    ASSERT_EQ(m.exit_code, 0) << m.err;
    EXPECT_EQ(ReadAll(Path("m.csv")), ReadAll(Path("full.csv")));
    EXPECT_EQ(ReadAll(Path("m.json")), ReadAll(Path("full.json")));
    if (strategy == "grid") {
      for (const char* size : {"-8KiB.svg", "-64KiB.svg"})
        EXPECT_EQ(ReadAll(Path(std::string("m") + size)),
                  ReadAll(Path(std::string("full") + size)));
    }
    // The report names the same best per size.
    EXPECT_THAT(full.out, HasSubstr(m.out.substr(0, m.out.find('\n'))));
  }
}

TEST_F(SweepCli, MergeNamesMissingDuplicateForeignAndPartialShards) {
  for (int i = 0; i < 3; ++i)
    ASSERT_EQ(Run(Explore({"--shard", std::to_string(i) + "/3", "--csv",
                           Path("p" + std::to_string(i) + ".csv")}))
                  .exit_code,
              0);
  CliResult missing = Run({"merge", Path("p0.csv"), Path("p2.csv"), "-o", Path("m.csv")});
  EXPECT_EQ(missing.exit_code, 2);
  EXPECT_THAT(missing.err, HasSubstr("missing shard 1/3 (2 of 3 given)"));
  CliResult twice = Run({"merge", Path("p0.csv"), Path("p1.csv"), Path("p1.csv"), Path("p2.csv"),
                         "-o", Path("m.csv")});
  EXPECT_EQ(twice.exit_code, 2);
  EXPECT_THAT(twice.err, HasSubstr("shard 1/3 given twice"));
  ASSERT_EQ(
      Run(Explore({"--objective", "latency", "--shard", "1/3", "--csv", Path("q1.csv")})).exit_code,
      0);
  CliResult foreign = Run({"merge", Path("p0.csv"), Path("q1.csv"), Path("p2.csv")});
  EXPECT_EQ(foreign.exit_code, 2);
  EXPECT_THAT(foreign.err, HasSubstr(Path("q1.csv") + ": made with other inputs than " +
                                     Path("p0.csv") + ": objective"));
  ASSERT_EQ(RunInterrupted(Explore({"--shard", "1/3", "--csv", Path("r1.csv")}), 2).exit_code, 130);
  CliResult partial = Run({"merge", Path("p0.csv"), Path("r1.csv"), Path("p2.csv")});
  EXPECT_EQ(partial.exit_code, 2);
  EXPECT_THAT(partial.err, HasSubstr("is partial (interrupted); finish it with"));
  EXPECT_THAT(OutputFiles(), Not(::testing::Contains("m.csv")));
}

TEST_F(SweepCli, ShardRefusals) {
  CliResult search =
      Run(Explore({"--strategy", "search", "--shard", "0/2", "--csv", Path("s.csv")}));
  EXPECT_EQ(search.exit_code, 2);
  EXPECT_THAT(search.err, HasSubstr("--shard needs --strategy grid or exhaustive"));
  CliResult json =
      Run(Explore({"--shard", "0/2", "--csv", Path("s.csv"), "--json", Path("s.json")}));
  EXPECT_EQ(json.exit_code, 2);
  EXPECT_THAT(json.err, HasSubstr("--json with --shard"));
  CliResult bad = Run(Explore({"--shard", "2/2", "--csv", Path("s.csv")}));
  EXPECT_EQ(bad.exit_code, 2);
  EXPECT_THAT(bad.err, HasSubstr("--shard 2/2: expected i/N with 0 <= i < N"));
  CliResult ga = Run(
      {"allocate", kModel, "--timesteps", "4", "--hw", "meta-prototype-quad", "--shard", "0/2"});
  EXPECT_EQ(ga.exit_code, 2);
  EXPECT_THAT(ga.err, HasSubstr("cannot be split into independent shards"));
}

TEST_F(SweepCli, AllocateInterruptAndResumeGiveTheUninterruptedBytes) {
  auto with = [&](std::vector<std::string> more, const std::string& seed = "3") {
    std::vector<std::string> a = {
        "allocate",     kModel, "--timesteps",   "4", "--hw",   "meta-prototype-quad",
        "--population", "8",    "--generations", "4", "--seed", seed};
    a.insert(a.end(), more.begin(), more.end());
    return a;
  };
  CliResult full = Run(with({"--csv", Path("full.csv"), "--json", Path("full.json")}));
  ASSERT_EQ(full.exit_code, 0) << full.err;
  EXPECT_THAT(full.err, HasSubstr("allocate: 4/4 generations (100%)"));
  CliResult cut = RunInterrupted(with({"--csv", Path("part.csv")}), 2);
  ASSERT_EQ(cut.exit_code, 130) << cut.err;
  EXPECT_THAT(cut.err, Not(HasSubstr("4/4 generations")));  // it did not finish
  EXPECT_THAT(ReadAll(Path("part.csv")), StartsWith("# partial: "));
  EXPECT_THAT(ReadAll(Path("part.csv")), HasSubstr("allocations, generation 2 of 4\n"));
  CliResult resumed = Run(with({"--resume", Path("part.csv"), "--csv", Path("out.csv"), "--json",
                                Path("out.json"), "-j", "2"}));
  ASSERT_EQ(resumed.exit_code, 0) << resumed.err;
  EXPECT_EQ(ReadAll(Path("out.csv")), ReadAll(Path("full.csv")));
  EXPECT_EQ(ReadAll(Path("out.json")), ReadAll(Path("full.json")));
  CliResult other = Run(with({"--resume", Path("part.csv")}, "4"));
  EXPECT_EQ(other.exit_code, 2);
  EXPECT_THAT(other.err, HasSubstr("seed: 3 there, 4 here"));
}

// ProgressLines: a line per further 10%, one every 30 s in between, the end
// once; the ETA from the rate so far (a fake clock, so the times are known).
TEST(ProgressLines, TenPercentStepsThirtySecondsAndTheEnd) {
  std::ostringstream out;
  double now = 0;
  frontend::ProgressLines lines(&out, [&] { return now; });
  lines.Start("explore 8KiB", "schedules");
  for (size_t done = 1; done <= 100; ++done) {
    now = static_cast<double>(done);  // 1 s per schedule
    lines.Update(done, 100);
    if (done == 100) lines.Update(done, 100);  // repeated: printed once
  }
  const std::string text = out.str();
  EXPECT_EQ(std::count(text.begin(), text.end(), '\n'), 11) << text;  // 1, 10, 20, .., 100
  EXPECT_THAT(text, HasSubstr("explore 8KiB: 20/100 schedules (20%), 20.0 s elapsed, ETA 1m 20s"));
  EXPECT_THAT(text, HasSubstr("explore 8KiB: 100/100 schedules (100%), 1m 40s elapsed\n"));
  std::ostringstream slow;
  frontend::ProgressLines rare(&slow, [&] { return now; });
  now = 0;
  rare.Start("allocate", "generations");
  rare.Update(1, 1000);  // first line
  now = 29;
  rare.Update(2, 1000);  // within the decile and under 30 s: silent
  now = 31;
  rare.Update(3, 1000);  // 30 s since the last line
  const std::string rare_text = slow.str();
  EXPECT_EQ(std::count(rare_text.begin(), rare_text.end(), '\n'), 2) << rare_text;
}

TEST_F(SweepCli, StudyShardsMergeToTheLocalRunAndNameBadFiles) {
  const std::string study = Path("study.json");
  std::ofstream(study) << R"({"models": [")" << kModel << R"("], "hardware": ["meta-prototype"],
    "sram": ["8KiB", "64KiB"], "objectives": ["dram", "energy"], "options": ["--timesteps", "4"]})";
  CliResult plan = Run({"study", "plan", study});
  ASSERT_EQ(plan.exit_code, 0) << plan.err;
  EXPECT_THAT(plan.out, HasSubstr("job-0003: snnplan explore " + kModel +
                                  " --hw meta-prototype --sram 64KiB --strategy grid "
                                  "--objective energy --timesteps 4\n"));
  fs::create_directories(dir_ / "local");
  fs::create_directories(dir_ / "sharded");
  ASSERT_EQ(Run({"study", "run", study, "--out", Path("local")}).exit_code, 0);
  for (int i = 0; i < 3; ++i)
    ASSERT_EQ(
        Run({"study", "run", study, "--shard", std::to_string(i) + "/3", "--out", Path("sharded")})
            .exit_code,
        0);
  // Each job's result is what a plain explore of its command line writes.
  ASSERT_EQ(Run({"explore", kModel, "--hw", "meta-prototype", "--sram", "64KiB", "--strategy",
                 "grid", "--objective", "energy", "--timesteps", "4", "--csv", Path("job3.csv")})
                .exit_code,
            0);
  EXPECT_EQ(ReadAll(Path("sharded/job-0003.csv")), ReadAll(Path("job3.csv")));
  CliResult a = Run(
      {"study", "merge", study, Path("local"), "-o", Path("a.csv"), "--summary", Path("a.json")});
  ASSERT_EQ(a.exit_code, 0) << a.err;
  CliResult b = Run(
      {"study", "merge", study, Path("sharded"), "-o", Path("b.csv"), "--summary", Path("b.json")});
  ASSERT_EQ(b.exit_code, 0) << b.err;
  EXPECT_EQ(ReadAll(Path("a.csv")), ReadAll(Path("b.csv")));
  EXPECT_EQ(ReadAll(Path("a.json")), ReadAll(Path("b.json")));
  const std::string merged = ReadAll(Path("a.csv"));
  EXPECT_EQ(std::count(merged.begin(), merged.end(), '\n'), 5);  // header + 4 jobs
  fs::remove(dir_ / "sharded" / "job-0002.json");
  CliResult missing = Run({"study", "merge", study, Path("sharded"), "-o", Path("c.csv")});
  EXPECT_EQ(missing.exit_code, 2);
  EXPECT_THAT(missing.err, HasSubstr("no results for 1 of 4 jobs: job-0002"));
  EXPECT_FALSE(fs::exists(dir_ / "c.csv"));
  for (const auto& [text, error] : std::vector<std::pair<std::string, std::string>>{
           {R"({"models": [1], "hardware": ["h"], "sram": ["8KiB"]})",
            "$.models[0]: expected a non-empty string"},
           {R"({"models": ["m"], "sram": ["8KiB"]})", "$.hardware: missing"},
           {R"({"models": ["m"], "hardware": ["h"], "sram": ["8KiB"], "objectives": ["area"]})",
            "$.objectives[0]: 'area' is not one of"},
           {R"({"models": ["m"], "hardware": ["h"], "sram": ["8KiB"], "size": 1})",
            "$.size: unknown key"},
           {R"({"models": ["m"], "hardware": ["h"], "sram": ["8KiB"], "options": ["--bogus"]})",
            "$.options: "},
           {R"([1])", "$: expected an object"}}) {
    std::ofstream(Path("bad.json")) << text;
    CliResult r = Run({"study", "plan", Path("bad.json")});
    EXPECT_EQ(r.exit_code, 2) << text;
    EXPECT_THAT(r.err, HasSubstr(Path("bad.json") + ": " + error)) << text;
  }
}

}  // namespace
}  // namespace snnplan::testing
