// Replay by execution (runtime/src/replay.cc, docs/run.md "Replaying a
// manifest"): real manifests planned by the snnplan binary, executed on
// byte-addressed memories, must give `snnplan run`'s outputs bit for bit
// (RunWorkload is the reference; it is itself checked against PyTorch in
// fidelity_test.cc). Corrupted manifests must fail naming the id involved
// or give other outputs, never silently the same ones.
#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <optional>
#include <random>
#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "nlohmann/json.hpp"
#include "snnplan/importer.h"
#include "snnplan/runtime.h"
#include "test_util.h"

namespace snnplan::runtime {
namespace {

using ::testing::HasSubstr;
using json = nlohmann::json;
namespace fs = std::filesystem;

const std::string kModels = std::string(SNNPLAN_SOURCE_DIR) + "/models/";

struct Model {
  std::string name;       // test name
  std::string file;       // under models/
  std::string reference;  // *.io.npz under models/ (its inputs are used)
  std::optional<int64_t> timesteps;
  std::string sram;  // small enough that pieces are evicted, reloaded or streamed
  std::vector<std::string> schedules = {"st-lbl", "st-lf", "tb-lbl", "tb-lf", "tb2-lf", "tb2-lbl"};
  std::string hw = "meta-prototype";
  bool heavy = false;           // one eviction policy, no second thread count
  std::string allocation = "";  // --allocation (layer -> core JSON), "" = every layer on core 0
};

const std::vector<Model>& Models() {
  static const std::vector<Model> m = {
      {"snntorch_nmnist",
       "snntorch_nmnist_unrolled_T4_op13.onnx",
       "snntorch_nmnist_unrolled_T4.io.npz",
       {},
       "24KiB"},
      {"sj_stateless_lif",
       "corpus/sj_stateless_lif_loop_op13.onnx",
       "corpus/sj_stateless_lif_loop_op13.io.npz",
       {},
       "16KiB"},
      {"torch_lif_batch3",
       "run/torch_lif_batch3_unrolled_op13.onnx",
       "run/torch_lif_batch3_unrolled_op13.io.npz",
       {},
       "16KiB",
       {"st-lbl", "st-lf", "tb-lbl", "tb-lf"}},  // T = 5
      // Recurrent: RLeaky's delayed own output (one-timestep tiles).
      {"rleaky_linear",
       "corpus/st_rleaky_linear_unrolled_op13.onnx",
       "corpus/st_rleaky_linear_unrolled_op13.io.npz",
       {},
       "16KiB"},
      {"rleaky_conv",
       "corpus/st_rleaky_conv_unrolled_op13.onnx",
       "corpus/st_rleaky_conv_unrolled_op13.io.npz",
       {},
       "32KiB",
       {"st-lbl", "st-lf", "tb-lf"}},
      // ann2snn IF neurons emit threshold x spike (2.5): a set bit of their
      // 1-bit features stands for the output term's coefficient, through the
      // max pool after them.
      {"sj_ann2snn_gain",
       "corpus/sj_ann2snn_if_loop_op17.onnx",
       "corpus/sj_ann2snn_if_loop_op17.io.npz",
       {},
       "4KiB"},
      // A static input repeated over time, with a static conv + BN before
      // the repetition (T = 1 layers feeding T = 4 ones).
      {"sj_static_conv_repeat",
       "run/sj_static_conv_repeat_loop_op13.onnx",
       "run/sj_static_conv_repeat_loop_op13.io.npz",
       {},
       "2KiB"},
      {"sj_repeat_input",
       "run/sj_repeat_input_loop_op13.onnx",
       "run/sj_repeat_input_loop_op13.io.npz",
       {},
       "4KiB"},
      // snnTorch Alpha (3 states per neuron) at 1 KiB: states stream from
      // DRAM, where the cost model prices fewer bytes than the stored state
      // (descriptors still move the whole piece).
      {"st_alpha_streamed_state",
       "corpus/st_alpha_unrolled_op13.onnx",
       "corpus/st_alpha_unrolled_op13.io.npz",
       {},
       "1KiB"},
      // A membrane shortcut: a neuron's current also read by a join.
      {"ms_shortcut",
       "run/ms_shortcut_sj_conv_loop_op13.onnx",
       "run/ms_shortcut_sj_conv_loop_op13.io.npz",
       {},
       "4KiB"},
      // Multi-core: four cores, NoC copies between them.
      {"snntorch_nmnist_quad",
       "snntorch_nmnist_unrolled_T4_op13.onnx",
       "snntorch_nmnist_unrolled_T4.io.npz",
       {},
       "24KiB",
       {"st-lf", "tb-lf", "tb2-lbl"},
       "meta-prototype-quad",
       false,
       R"({"/net/conv1/Conv": 0, "/net/conv2/Conv": 1, "/net/pool/MaxPool": 2, "/net/fc/Gemm": 3})"},
      // 1 KiB: a 3x3 conv tile streams the input rows of its receptive
      // field, only part of some pieces (issue #15: the stream descriptors
      // read byte ranges, not whole pieces from offset 0).
      {"sj_repeat_input_1k",
       "run/sj_repeat_input_loop_op13.onnx",
       "run/sj_repeat_input_loop_op13.io.npz",
       {},
       "1KiB",
       {"st-lbl", "st-lf", "tb-lbl", "tb-lf"}},
      {"sj_conv_bn_1k",
       "corpus/sj_conv_bn_loop_op13.onnx",
       "corpus/sj_conv_bn_loop_op13.io.npz",
       {},
       "1KiB",
       {"tb-lbl", "tb-lf"}},
      {"sj_if_hard_1k",
       "corpus/sj_if_hard_loop_op13.onnx",
       "corpus/sj_if_hard_loop_op13.io.npz",
       {},
       "1KiB",
       {"tb-lbl", "tb-lf"}},
      // SpikingJelly SEW-ResNet (SEW ADD joins, max pools, a mean over time
      // before the classifier), T = 16, 128 x 128: one schedule (each replay
      // takes seconds).
      {"sj_sew5",
       "sj_sew5_T16_loop_op13.onnx",
       "sj_sew5_T16.io.npz",
       {},
       "256KiB",
       {"tb-lbl"},
       "meta-prototype",
       /*heavy=*/true,
       ""},
  };
  return m;
}

struct Loaded {
  ir::Workload w;
  std::map<std::string, Array> inputs;
  RunResult run;
};

// The model imported as `run` imports it, its reference inputs and run's
// outputs (computed once per model).
const Loaded& Load(const Model& m) {
  static std::map<std::string, Loaded> cache;
  auto it = cache.find(m.name);
  if (it != cache.end()) return it->second;
  importer::ImportOptions o;
  o.load_parameters = true;
  if (m.timesteps) o.timesteps = *m.timesteps;
  absl::StatusOr<ir::Workload> w = importer::ImportFile(kModels + m.file, o);
  EXPECT_TRUE(w.ok()) << w.status();
  absl::StatusOr<std::map<std::string, Array>> inputs = ReadNpz(kModels + m.reference);
  EXPECT_TRUE(inputs.ok()) << inputs.status();
  Loaded l{*w, *inputs, {}};
  absl::StatusOr<RunResult> r = RunWorkload(l.w, l.inputs, RunOptions{});
  EXPECT_TRUE(r.ok()) << r.status();
  l.run = *r;
  return cache.emplace(m.name, std::move(l)).first->second;
}

// `snnplan plan` on the model (32-bit values, 64-bit states); the manifest text.
std::string Plan(const Model& m, const std::string& args) {
  const fs::path dir = testing::FreshDir(), out = dir / "m.json";
  std::string cmd = std::string(SNNPLAN_BINARY) + " plan " + kModels + m.file + " --hw " + m.hw +
                    " --precision float --sram " + m.sram + " " + args + " -o " + out.string() +
                    " > /dev/null 2>&1";
  if (m.timesteps) cmd += " --timesteps " + std::to_string(*m.timesteps);
  if (!m.allocation.empty()) {
    testing::WriteBytes(dir / "alloc.json", m.allocation);
    cmd += " --allocation " + (dir / "alloc.json").string();
  }
  EXPECT_EQ(std::system(cmd.c_str()), 0) << cmd;
  return testing::ReadBytes(out);
}

// The replay's outputs are run's, bit for bit; returns how many were compared.
int ExpectBitIdentical(const RunResult& replay, const RunResult& run) {
  int compared = 0;
  for (const auto& [name, a] : replay.outputs) {
    auto it = run.outputs.find(name);
    EXPECT_NE(it, run.outputs.end()) << name;
    if (it == run.outputs.end()) continue;
    EXPECT_EQ(a.shape, it->second.shape) << name;
    EXPECT_EQ(a.values.size(), it->second.values.size()) << name;
    if (a.values.size() != it->second.values.size()) continue;
    EXPECT_EQ(
        std::memcmp(a.values.data(), it->second.values.data(), a.values.size() * sizeof(float)), 0)
        << name << ": not bit-identical to run";
    ++compared;
  }
  return compared;
}

bool SameOutputs(const RunResult& replay, const RunResult& run) {
  for (const auto& [name, a] : replay.outputs) {
    auto it = run.outputs.find(name);
    if (it == run.outputs.end() || it->second.values.size() != a.values.size() ||
        std::memcmp(a.values.data(), it->second.values.data(), a.values.size() * sizeof(float)) !=
            0)
      return false;
  }
  return !replay.outputs.empty();
}

// Transfer causes and directions in a manifest.
std::map<std::string, int> Causes(const json& m) {
  std::map<std::string, int> n;
  for (const json& t : m["transfers"]) {
    ++n[t["cause"].get<std::string>()];
    ++n["direction:" + t["direction"].get<std::string>()];
  }
  return n;
}

struct Case {
  int model;
  std::string schedule, eviction, state_io;
};

std::string CaseName(const ::testing::TestParamInfo<Case>& info) {
  std::string s = Models()[info.param.model].name + "_" + info.param.schedule + "_" +
                  info.param.eviction + "_" + info.param.state_io;
  for (char& c : s)
    if (!isalnum(static_cast<unsigned char>(c))) c = '_';
  return s;
}

std::vector<Case> Cases() {
  std::vector<Case> out;
  for (int m = 0; m < static_cast<int>(Models().size()); ++m)
    for (const std::string& schedule : Models()[m].schedules)
      for (const char* eviction : {"stems", "belady"})
        for (const char* state_io : {"zero", "dram"})
          if (!Models()[m].heavy || std::string(eviction) == "stems")
            out.push_back({m, schedule, eviction, state_io});
  return out;
}

class ReplayEqualsRun : public ::testing::TestWithParam<Case> {};

TEST_P(ReplayEqualsRun, BitForBit) {
  const Case& c = GetParam();
  const Model& m = Models()[c.model];
  const Loaded& l = Load(m);
  const std::string text = Plan(
      m, "--schedule " + c.schedule + " --eviction " + c.eviction + " --state-io " + c.state_io);
  ASSERT_FALSE(text.empty());
  absl::StatusOr<RunResult> r = ReplayManifest(text, "m.json", l.w, l.inputs, RunOptions{});
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_GT(ExpectBitIdentical(*r, l.run), 0);
  // Every output run writes is replayed, or listed as one the manifest does
  // not store (membrane recordings of every step, states kept on chip).
  for (const auto& [name, a] : l.run.outputs) {
    if (r->outputs.count(name)) continue;
    bool listed = false;
    for (const std::string& n : r->not_produced)
      listed |= n.rfind(name + ": the manifest ", 0) == 0 || n.rfind(name + ": a state of", 0) == 0;
    EXPECT_TRUE(listed) << name;
  }
  if (m.heavy) return;
  // Two threads give the same bytes.
  RunOptions two;
  two.threads = 2;
  absl::StatusOr<RunResult> r2 = ReplayManifest(text, "m.json", l.w, l.inputs, two);
  ASSERT_TRUE(r2.ok()) << r2.status();
  EXPECT_TRUE(SameOutputs(*r2, *r));
}

INSTANTIATE_TEST_SUITE_P(Schedules, ReplayEqualsRun, ::testing::ValuesIn(Cases()), CaseName);

// Issue #15: at 1 KiB the tb-lf plan of sj_repeat_input streams only part
// of some input pieces (descriptors with a byte_offset past 0, or shorter
// than the piece), and replaying those ranges gives run's outputs.
TEST(Replay, PartialStreamReadsPlaceTheirBytes) {
  const Model* model = nullptr;
  for (const Model& m : Models())
    if (m.name == "sj_repeat_input_1k") model = &m;
  ASSERT_NE(model, nullptr);
  const Loaded& l = Load(*model);
  const std::string text = Plan(*model, "--schedule tb-lf");
  ASSERT_FALSE(text.empty());
  const json m = json::parse(text);
  int partial = 0;
  for (const json& x : m["transfers"]) {
    if (x["direction"] != "stream") continue;
    std::map<int64_t, int64_t> bytes;
    for (const json& p : x["pieces"]) bytes[p["piece"]] = p["bytes"];
    for (const json& d : x["descriptors"])
      if (d["operand"] == "I" &&
          (d["byte_offset"].get<int64_t>() > 0 || d["bytes"].get<int64_t>() < bytes.at(d["piece"])))
        ++partial;
  }
  EXPECT_GT(partial, 0) << "no stream reads part of an input piece";
  absl::StatusOr<RunResult> r = ReplayManifest(text, "m.json", l.w, l.inputs, RunOptions{});
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_GT(ExpectBitIdentical(*r, l.run), 0);
}

// The small memories make the plans move data: reloads, spills and streams
// are replayed, not just first loads.
TEST(Replay, ThePlansExerciseEvictionsReloadsAndStreams) {
  std::map<std::string, int> total;
  for (const Case& c : Cases()) {
    if (c.model != 0 || c.eviction != "stems") continue;
    const json m = json::parse(Plan(
        Models()[0], "--schedule " + c.schedule + " --eviction stems --state-io " + c.state_io));
    for (const auto& [k, n] : Causes(m)) total[k] += n;
  }
  EXPECT_GT(total["reload"], 0);
  EXPECT_GT(total["eviction_writeback"], 0);
  EXPECT_GT(total["direction:stream"] + total["stream"], 0);
  EXPECT_GT(total["state_init"], 0);
  EXPECT_GT(total["state_final"], 0);
  // The four-core plans copy over the NoC.
  const Model& quad_model = *std::find_if(Models().begin(), Models().end(), [](const Model& m) {
    return m.name == "snntorch_nmnist_quad";
  });
  const json quad = json::parse(Plan(quad_model, "--schedule st-lf"));
  EXPECT_GT(Causes(quad)["direction:noc"], 0);
}

// ---------------------------------------------------------------- refusals

TEST(Replay, RefusesNarrowPrecisionNamingTheLayerAndField) {
  const Model& m = Models()[0];
  const Loaded& l = Load(m);
  const fs::path out = testing::FreshDir() / "m.json";
  const std::string cmd = std::string(SNNPLAN_BINARY) + " plan " + kModels + m.file +
                          " --weight-bits 8 --input-bits 32 --feature-bits 32 --state-bits 64 -o " +
                          out.string() + " > /dev/null 2>&1";
  ASSERT_EQ(std::system(cmd.c_str()), 0);
  absl::StatusOr<RunResult> r =
      ReplayManifest(testing::ReadBytes(out), "m.json", l.w, l.inputs, RunOptions{});
  ASSERT_FALSE(r.ok());
  EXPECT_THAT(r.status().message(), HasSubstr("weight_bits = 8"));
  EXPECT_THAT(r.status().message(), HasSubstr("layer " + l.w.layers[0].name));
  EXPECT_THAT(r.status().message(), HasSubstr("--precision float"));

  json doc = json::parse(Plan(m, "--schedule tb-lbl"));
  doc["layers"][0]["precision"]["state_bits"] = 32;
  r = ReplayManifest(doc.dump(), "m.json", l.w, l.inputs, RunOptions{});
  ASSERT_FALSE(r.ok());
  EXPECT_THAT(r.status().message(), HasSubstr("state_bits = 32"));
}

// A single-step export run for one step from given states: under
// --state-io dram the host writes them into the initial_state slices and the
// final states come back from the same slices (state_final), as `run` has them.
TEST(Replay, StartsFromGivenStatesAndReturnsTheFinalOnes) {
  importer::ImportOptions o;
  o.load_parameters = true;
  o.timesteps = 1;
  const std::string file = kModels + "corpus/sj_lif_hard_step_op13.onnx";
  absl::StatusOr<ir::Workload> w = importer::ImportFile(file, o);
  ASSERT_TRUE(w.ok()) << w.status();
  absl::StatusOr<std::map<std::string, Array>> ref =
      ReadNpz(kModels + "corpus/sj_lif_hard_step_op13.io.npz");
  ASSERT_TRUE(ref.ok()) << ref.status();
  std::map<std::string, Array> inputs;
  Array x = ref->at("x");  // [4, 1, 2, 8, 8]: its first step
  x.shape.erase(x.shape.begin());
  x.values.resize(x.values.size() / 4);
  inputs["x"] = x;
  std::mt19937 rng(7);
  std::uniform_real_distribution<float> u(-0.5f, 0.9f);
  for (const char* name : {"v1", "v2"}) {
    Array v = ref->at(name);
    for (float& f : v.values) f = u(rng);
    inputs[name] = v;
  }
  absl::StatusOr<RunResult> run = RunWorkload(*w, inputs, RunOptions{});
  ASSERT_TRUE(run.ok()) << run.status();
  ASSERT_EQ(run->outputs.count("v1_out"), 1u);
  Model m{"lif_step", "corpus/sj_lif_hard_step_op13.onnx", "", 1, "1KiB"};
  for (const char* schedule : {"st-lbl", "tb-lf"}) {
    const std::string text = Plan(m, std::string("--schedule ") + schedule + " --state-io dram");
    absl::StatusOr<RunResult> r = ReplayManifest(text, "m.json", *w, inputs, RunOptions{});
    ASSERT_TRUE(r.ok()) << r.status();
    EXPECT_EQ(ExpectBitIdentical(*r, *run), 3) << schedule;  // y, v1_out, v2_out
  }
  // Under --state-io zero states start on chip from the model's value: a
  // different given state is refused, naming the layer and the way out.
  absl::StatusOr<RunResult> r =
      ReplayManifest(Plan(m, "--state-io zero"), "m.json", *w, inputs, RunOptions{});
  ASSERT_FALSE(r.ok());
  EXPECT_THAT(r.status().message(), HasSubstr("/conv1/Conv's state 0 is given"));
  EXPECT_THAT(r.status().message(), HasSubstr("--state-io dram"));
}

TEST(Replay, RefusesAManifestOfAnotherImport) {
  const Model& m = Models()[0];
  const Loaded& l = Load(m);
  json doc = json::parse(Plan(m, "--schedule tb-lbl"));
  doc["model"]["timesteps"] = 3;
  absl::StatusOr<RunResult> r = ReplayManifest(doc.dump(), "m.json", l.w, l.inputs, RunOptions{});
  ASSERT_FALSE(r.ok());
  EXPECT_THAT(r.status().message(), HasSubstr("timesteps"));
}

// ---------------------------------------------------------------- corruption

// A mutation of a manifest; returns a description with the id it touched
// (which the error must name), or "" when it found nothing to mutate.
using Mutation = std::function<std::string(json&)>;

struct Corruption {
  std::string name;
  std::string schedule;
  Mutation mutate;
  bool fails = true;  // expected: an error naming the id (else: other outputs)
};

// The first transfer satisfying `pred`.
json* FindTransfer(json& m, const std::function<bool(const json&)>& pred) {
  for (json& t : m["transfers"])
    if (pred(t)) return &t;
  return nullptr;
}

std::vector<Corruption> Corruptions() {
  auto is = [](const char* dir, const char* cause) {
    return [=](const json& t) {
      return t["direction"] == dir && (cause == nullptr || t["cause"] == cause);
    };
  };
  return {
      {"shift_load_address", "tb-lbl --state-io dram",
       [=](json& m) -> std::string {
         json* t = FindTransfer(m, is("load", "first_use"));
         if (!t) return "";
         (*t)["dram_address"] = (*t)["dram_address"].get<int64_t>() + 64;
         return "transfer " + std::to_string((*t)["id"].get<int64_t>());
       }},
      {"drop_reload", "st-lf",
       [=](json& m) -> std::string {
         json& ts = m["transfers"];
         for (size_t i = 0; i < ts.size(); ++i)
           if (ts[i]["direction"] == "load" && ts[i]["cause"] == "reload") {
             const int64_t a = ts[i]["allocation"].get<int64_t>();
             ts.erase(ts.begin() + static_cast<long>(i));
             return "allocation " + std::to_string(a);
           }
         return "";
       }},
      {"drop_final_output", "tb-lf",
       [=](json& m) -> std::string {
         json& ts = m["transfers"];
         for (size_t i = 0; i < ts.size(); ++i)
           if (ts[i]["cause"] == "final_output") {
             ts.erase(ts.begin() + static_cast<long>(i));
             return "network_io.outputs";
           }
         return "";
       }},
      {"drop_state_init", "tb-lbl --state-io dram",
       [=](json& m) -> std::string {
         json& ts = m["transfers"];
         for (size_t i = 0; i < ts.size(); ++i)
           if (ts[i]["cause"] == "state_init") {
             const int64_t a = ts[i]["allocation"].get<int64_t>();
             ts.erase(ts.begin() + static_cast<long>(i));
             return "allocation " + std::to_string(a);
           }
         return "";
       }},
      {"tile_reads_no_weights", "tb-lbl",
       [=](json& m) -> std::string {
         std::set<int64_t> weights;
         for (const json& a : m["allocations"])
           if (a["holds"]["kind"] == "weights") weights.insert(a["id"].get<int64_t>());
         for (json& t : m["tiles"]) {
           json kept = json::array();
           bool dropped = false;
           for (const json& r : t["reads"]) {
             if (weights.count(r.get<int64_t>())) {
               dropped = true;
               continue;
             }
             kept.push_back(r);
           }
           if (dropped) {
             t["reads"] = kept;
             return "tile " + t["id"].get<std::string>();
           }
         }
         return "";
       }},
      {"tile_loses_halo", "st-lf",
       [=](json& m) -> std::string {
         // A conv tile of a later row band reads only the input pieces of its
         // own rows: the halo rows above are gone.
         for (json& t : m["tiles"]) {
           if (t["rows"][0].get<int64_t>() == 0) continue;
           json kept = json::array();
           bool dropped = false;
           for (const json& r : t["reads"]) {
             const json* a = nullptr;
             for (const json& x : m["allocations"])
               if (x["id"] == r) a = &x;
             if (a && ((*a)["holds"]["kind"] == "feature" || (*a)["holds"]["kind"] == "input") &&
                 (*a)["holds"]["rows"][0].get<int64_t>() < t["rows"][0].get<int64_t>() &&
                 !dropped) {
               dropped = true;
               continue;
             }
             kept.push_back(r);
           }
           if (dropped) {
             t["reads"] = kept;
             return "tile " + t["id"].get<std::string>();
           }
         }
         return "";
       }},
      {"swap_tile_timesteps", "st-lbl",
       [=](json& m) -> std::string {
         for (json& t : m["tiles"])
           if (t["t"][0] == 1) {
             t["t"] = json::array({2, 3});
             return "tile " + t["id"].get<std::string>();
           }
         return "";
       }},
      {"overlap_allocation", "tb-lbl",
       [=](json& m) -> std::string {
         // Move a feature allocation onto the weights allocation of the same core.
         json* w = nullptr;
         for (json& a : m["allocations"])
           if (a["holds"]["kind"] == "weights" && !w) w = &a;
         for (json& a : m["allocations"])
           if (w && a["holds"]["kind"] == "feature" && a["core"] == (*w)["core"]) {
             a["offset"] = (*w)["offset"];
             for (json& t : m["transfers"])
               if (t.contains("allocation") && t["allocation"] == a["id"])
                 t["offset"] = a["offset"];
             return "allocation " + std::to_string(a["id"].get<int64_t>());
           }
         return "";
       }},
      {"reload_from_another_spill", "st-lf",
       [=](json& m) -> std::string {
         // A reload reads the DRAM copy of another spilled piece of the same size.
         json* first = nullptr;
         for (json& t : m["transfers"]) {
           if (t["direction"] != "load" || t["cause"] != "reload") continue;
           if (!first) {
             first = &t;
           } else if (t["bytes"] == (*first)["bytes"] &&
                      t["dram_address"] != (*first)["dram_address"] &&
                      t["tensor"]["kind"] == (*first)["tensor"]["kind"]) {
             (*first)["dram_address"] = t["dram_address"];
             return "";
           }
         }
         return "";
       }},
      {"drop_eviction_writeback", "st-lf",
       [=](json& m) -> std::string {
         json& ts = m["transfers"];
         for (size_t i = 0; i < ts.size(); ++i)
           if (ts[i]["cause"] == "eviction_writeback") {
             const int64_t at = ts[i]["dram_address"].get<int64_t>();
             ts.erase(ts.begin() + static_cast<long>(i));
             return "byte " + std::to_string(at);
           }
         return "";
       }},
      {"writeback_onto_waiting_piece", "st-lf",
       [=](json& m) -> std::string {
         // A spill stored onto the DRAM bytes of another spilled piece
         // that still waits for its reload.
         json* first = nullptr;
         for (json& t : m["transfers"]) {
           if (t["cause"] != "eviction_writeback" || t["tensor"]["kind"] != "feature") continue;
           if (!first) {
             first = &t;
           } else if (t["bytes"] == (*first)["bytes"] &&
                      t["dram_address"] != (*first)["dram_address"]) {
             t["dram_address"] = (*first)["dram_address"];
             return "";
           }
         }
         return "";
       }},
      {"tile_reads_wrong_input_timestep", "st-lbl",
       [=](json& m) -> std::string {
         // A tile of step 1 reads the network input slice of step 0.
         std::map<int64_t, const json*> allocs;
         for (const json& a : m["allocations"]) allocs[a["id"].get<int64_t>()] = &a;
         int64_t step0 = -1;
         for (const json& t : m["tiles"])
           if (t["t"][0] == 0)
             for (const json& r : t["reads"])
               if ((*allocs[r.get<int64_t>()])["holds"]["kind"] == "input")
                 step0 = r.get<int64_t>();
         for (json& t : m["tiles"])
           if (t["t"][0] == 1)
             for (json& r : t["reads"])
               if ((*allocs[r.get<int64_t>()])["holds"]["kind"] == "input" && step0 >= 0) {
                 r = step0;
                 return "tile " + t["id"].get<std::string>();
               }
         return "";
       }},
      {"swap_input_slice_timesteps", "st-lbl",
       [=](json& m) -> std::string {
         // The host scatters step 1 of the input where step 0 belongs and
         // back: every address and piece is consistent, the values are not.
         json& in = m["network_io"]["inputs"];
         for (size_t i = 0; i + 1 < in.size(); ++i)
           if (in[i]["t"] == json::array({0, 1}) && in[i + 1]["t"] == json::array({1, 2}) &&
               in[i]["rows"] == in[i + 1]["rows"] && in[i]["bytes"] == in[i + 1]["bytes"]) {
             std::swap(in[i]["t"], in[i + 1]["t"]);
             return "";
           }
         return "";
       },
       /*fails=*/false},
      // Parameter blocks: tiles compute with what their core's parameter
      // memory holds, so a block loaded late, elsewhere, incomplete or over
      // other bytes is an error naming the block.
      {"parameters_loaded_after_the_layers_first_tile", "st-lbl",
       [=](json& m) -> std::string {
         json& b = m["parameters"][0];
         b["load_before_tile"] = m["tiles"].size() - 1;
         return "manifest.parameters[0]";
       }},
      {"parameters_loaded_on_another_core", "st-lbl",
       [=](json& m) -> std::string {
         m["parameters"][0]["core"] = m["parameters"][0]["core"].get<int64_t>() + 1;
         return "manifest.parameters[0]";
       }},
      {"parameter_field_dropped", "st-lbl",
       [=](json& m) -> std::string {
         m["parameters"][0]["fields"].erase(m["parameters"][0]["fields"].size() - 1);
         return "manifest.parameters[0]";
       }},
      {"parameter_field_count_changed", "st-lbl",
       [=](json& m) -> std::string {
         json& f = m["parameters"][0]["fields"][0];
         f["count"] = f["count"].get<int64_t>() + 1;
         return "manifest.parameters[0]";
       }},
      {"parameter_block_over_another", "st-lbl",
       [=](json& m) -> std::string {
         json& ps = m["parameters"];
         if (ps.size() < 2) return "";
         ps[1]["dram_address"] = ps[0]["dram_address"];
         return "layer " + ps[0]["layer"].get<std::string>() + "'s parameter block";
       }},
      {"state_read_dropped", "st-lbl",
       [=](json& m) -> std::string {
         std::set<int64_t> states;
         for (const json& a : m["allocations"])
           if (a["holds"]["kind"] == "state") states.insert(a["id"].get<int64_t>());
         for (json& t : m["tiles"]) {
           if (t["t"][0].get<int64_t>() == 0) continue;
           json kept = json::array();
           bool dropped = false;
           for (const json& r : t["reads"]) {
             if (states.count(r.get<int64_t>()) && !dropped) {
               dropped = true;
               continue;
             }
             kept.push_back(r);
           }
           if (dropped) {
             t["reads"] = kept;
             return "tile " + t["id"].get<std::string>();
           }
         }
         return "";
       }},
  };
}

class CorruptedManifest : public ::testing::TestWithParam<Corruption> {};

TEST_P(CorruptedManifest, FailsNamingTheIdOrGivesOtherOutputs) {
  const Corruption& c = GetParam();
  const Model& m = Models()[0];
  const Loaded& l = Load(m);
  json doc = json::parse(Plan(m, "--schedule " + c.schedule));
  // Unmutated, the manifest replays to run's outputs.
  absl::StatusOr<RunResult> clean =
      ReplayManifest(doc.dump(), "m.json", l.w, l.inputs, RunOptions{});
  ASSERT_TRUE(clean.ok()) << clean.status();
  ASSERT_TRUE(SameOutputs(*clean, l.run));
  const json before = doc;
  const std::string id = c.mutate(doc);
  ASSERT_NE(doc, before) << "the mutation found nothing to corrupt";
  absl::StatusOr<RunResult> r = ReplayManifest(doc.dump(), "m.json", l.w, l.inputs, RunOptions{});
  EXPECT_EQ(!r.ok(), c.fails) << (r.ok() ? "replayed" : r.status().message());
  if (r.ok()) {
    EXPECT_FALSE(SameOutputs(*r, l.run)) << c.name << ": the corrupted manifest gave run's outputs";
    RecordProperty("outcome", "different outputs");
  } else {
    EXPECT_THAT(r.status().message(), HasSubstr("m.json: "));
    if (!id.empty()) {
      EXPECT_THAT(r.status().message(), HasSubstr(id)) << r.status();
    }
    RecordProperty("outcome", "error");
  }
  std::cerr << c.name << ": " << (r.ok() ? "different outputs" : std::string(r.status().message()))
            << "\n";
}

INSTANTIATE_TEST_SUITE_P(Mutations, CorruptedManifest, ::testing::ValuesIn(Corruptions()),
                         [](const ::testing::TestParamInfo<Corruption>& i) {
                           return i.param.name;
                         });

}  // namespace
}  // namespace snnplan::runtime
