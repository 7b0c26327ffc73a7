// NIR import: one test per guard. Malformed files (written here with the
// HDF5 C API, or cut/garbled bytes) must give an InvalidArgument error that
// names the file, the node and the field, never crash or read unbounded.
#include <cmath>
#include <fstream>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "importer/nir_writer.h"

namespace snnplan::testing::nir {
namespace {

using ::testing::AllOf;
using ::testing::HasSubstr;

Node Mlp() {
  Node g = Graph();
  g.Add("input", Input({3}))
      .Add("fc", Affine(2, 3, {1, 2, 3, 4, 5, 6}, {0, 0}))
      .Add("lif", Lif(2, 1e-3, 10, 0, 1, 0))
      .Add("output", Output({2}))
      .Chain({"input", "fc", "lif", "output"});
  return g;
}

// The node named `name` of the top-level graph.
Node& At(Node& g, const std::string& name) {
  for (auto& [n, node] : g.nodes)
    if (n == name) return node;
  ADD_FAILURE() << "no node " << name;
  return g;
}

std::string Error(const Node& g, const importer::ImportOptions& o = Options(), const std::string& version = "1.0.8") {
  absl::StatusOr<ir::Workload> w = Import(g, o, version);
  EXPECT_FALSE(w.ok());
  if (!w.ok()) { EXPECT_EQ(w.status().code(), absl::StatusCode::kInvalidArgument) << w.status(); }
  return w.ok() ? "" : std::string(w.status().message());
}

TEST(NirErrors, ErrorsNameTheFile) { EXPECT_THAT(Error(Mlp(), Options(), "2.0.0"), HasSubstr("model.nir: ")); }

TEST(NirErrors, UnknownNodeTypeIsRefusedByName) {
  Node g = Mlp();
  At(g, "lif").type = "Izhikevich";
  EXPECT_THAT(Error(g), AllOf(HasSubstr("node 'lif'"), HasSubstr("'Izhikevich'"), HasSubstr("does not support")));
}

TEST(NirErrors, MissingDatasetNamesNodeAndField) {
  Node g = Mlp();
  At(g, "fc").floats.erase("bias");
  EXPECT_THAT(Error(g), AllOf(HasSubstr("node 'fc' (Affine)"), HasSubstr("missing dataset 'bias'")));
  Node h = Mlp();
  At(h, "lif").floats.erase("tau");
  EXPECT_THAT(Error(h), AllOf(HasSubstr("node 'lif' (LIF)"), HasSubstr("'tau'")));
}

TEST(NirErrors, WrongWeightShape) {
  Node g = Mlp();
  At(g, "fc") = Affine(2, 4, std::vector<double>(8, 1.0), {0, 0});
  EXPECT_THAT(Error(g), AllOf(HasSubstr("node 'fc'"), HasSubstr("field 'weight'"), HasSubstr("expects 4 input features"),
                              HasSubstr("[3]")));
  Node h = Mlp();
  At(h, "fc").floats["weight"] = {{6}, std::vector<double>(6, 1.0)};
  EXPECT_THAT(Error(h), AllOf(HasSubstr("field 'weight'"), HasSubstr("expected [out, in]")));
}

TEST(NirErrors, WrongParameterShape) {
  Node g = Mlp();
  At(g, "lif").floats["tau"] = {{3}, {1e-3, 1e-3, 1e-3}};
  EXPECT_THAT(Error(g), AllOf(HasSubstr("node 'lif'"), HasSubstr("field 'tau'"), HasSubstr("has shape [3]")));
}

TEST(NirErrors, WrongDtype) {
  Node g = Mlp();
  At(g, "lif").floats.erase("tau");
  At(g, "lif").strings["tau"] = "fast";
  EXPECT_THAT(Error(g), AllOf(HasSubstr("node 'lif'"), HasSubstr("field 'tau'"), HasSubstr("holds strings")));
}

TEST(NirErrors, NaNParameter) {
  Node g = Mlp();
  At(g, "lif").floats["v_threshold"] = {{2}, {1.0, std::nan("")}};
  EXPECT_THAT(Error(g), AllOf(HasSubstr("node 'lif'"), HasSubstr("field 'v_threshold'"), HasSubstr("element 1"),
                              HasSubstr("not a finite number")));
  Node h = Mlp();
  At(h, "fc").floats["weight"].second[4] = INFINITY;
  EXPECT_THAT(Error(h), AllOf(HasSubstr("node 'fc'"), HasSubstr("field 'weight'"), HasSubstr("element 4")));
}

TEST(NirErrors, TimeConstantShorterThanDt) {
  Node g = Mlp();
  At(g, "lif").floats["tau"] = {{2}, {1e-3, 5e-5}};
  EXPECT_THAT(Error(g), AllOf(HasSubstr("field 'tau'"), HasSubstr("shorter than dt"), HasSubstr("--dt")));
  Node h = Mlp();
  At(h, "lif").floats["tau"] = {{2}, {1e-3, -1.0}};
  EXPECT_THAT(Error(h), AllOf(HasSubstr("field 'tau'"), HasSubstr("must be > 0")));
}

TEST(NirErrors, DelayNotAMultipleOfDt) {
  Node g = Graph();
  g.Add("input", Input({2})).Add("fc", Linear(2, 2, {1, 0, 0, 1}))
      .Add("d", Node{"Delay"}.F("delay", {2}, {1.5e-4, 0})).Add("output", Output({2}))
      .Chain({"input", "fc", "d", "output"});
  EXPECT_THAT(Error(g), AllOf(HasSubstr("node 'd' (Delay)"), HasSubstr("field 'delay'"), HasSubstr("multiple of dt")));
}

TEST(NirErrors, TimestepsAreRequired) {
  importer::ImportOptions o = Options();
  o.timesteps.reset();
  EXPECT_THAT(Error(Mlp(), o), AllOf(HasSubstr("no time axis"), HasSubstr("--timesteps")));
}

TEST(NirErrors, NonPositiveDt) {
  importer::ImportOptions o = Options();
  o.dt_seconds = 0.0;
  EXPECT_THAT(Error(Mlp(), o), HasSubstr("--dt"));
}

TEST(NirErrors, InputShapeOptionDoesNotApply) {
  importer::ImportOptions o = Options();
  o.input_shapes["input"] = {4};
  EXPECT_THAT(Error(Mlp(), o), HasSubstr("--input-shape does not apply"));
}

TEST(NirErrors, VersionsOutsideTheFormatAreRefusedByName) {
  EXPECT_THAT(Error(Mlp(), Options(), "2.0.0"), AllOf(HasSubstr("'2.0.0'"), HasSubstr("not supported")));
  EXPECT_THAT(Error(Mlp(), Options(), "banana"), HasSubstr("unreadable NIR version 'banana'"));
  EXPECT_THAT(Error(Mlp(), Options(), ""), HasSubstr("no 'version' dataset"));
  EXPECT_TRUE(Import(Mlp(), Options(), "0.2.0").ok());
  EXPECT_TRUE(Import(Mlp(), Options(), "1.0.8.dev9+g7232ada").ok());
}

// The layer named `name`, or null.
const ir::Layer* Named(const ir::Workload& w, const std::string& name) {
  for (const ir::Layer& l : w.layers)
    if (l.name == name) return &l;
  return nullptr;
}
int IdOf(const ir::Workload& w, const std::string& name) {
  const ir::Layer* l = Named(w, name);
  return l == nullptr ? -100 : static_cast<int>(l - w.layers.data());
}

// A cycle is recurrence: the edge that closes it (the back edge of a search
// from the input) is read one step late; nothing else is.
TEST(NirRecurrence, CycleBecomesOneDelayedEdge) {
  Node g = Mlp();
  g.Add("w_rec", Linear(2, 2, {0.1, 0, 0, 0.1})).Edge("lif", "w_rec").Edge("w_rec", "lif");
  absl::StatusOr<ir::Workload> w = Import(g, Options());
  ASSERT_TRUE(w.ok()) << w.status();
  const ir::Layer* lif = Named(*w, "lif");
  ASSERT_NE(lif, nullptr);
  EXPECT_TRUE(lif->spiking());
  int delayed = 0;
  for (const ir::Layer& l : w->layers)
    for (size_t k = 0; k < l.inputs.size(); ++k)
      if (l.delayed(k)) {
        ++delayed;
        EXPECT_EQ(&l, lif);
        EXPECT_EQ(l.inputs[k], IdOf(*w, "w_rec"));
      }
  EXPECT_EQ(delayed, 1);
  const std::vector<bool> rec = ir::RecurrentLayers(*w);
  for (size_t l = 0; l < w->layers.size(); ++l)
    EXPECT_EQ(rec[l], w->layers[l].name == "lif" || w->layers[l].name == "w_rec")
        << w->layers[l].name;
}

TEST(NirRecurrence, CycleInsideASubgraph) {
  Node sub = Graph();
  sub.Add("in", Input({2})).Add("lif", Lif(2, 1e-3, 10, 0, 1, 0)).Add("w_rec", Linear(2, 2, {0, 1, 1, 0}))
      .Add("out", Output({2})).Chain({"in", "lif", "out"}).Edge("lif", "w_rec").Edge("w_rec", "lif");
  Node g = Graph();
  g.Add("input", Input({3})).Add("fc", Affine(2, 3, std::vector<double>(6, 1), {0, 0})).Add("rnn", sub)
      .Add("output", Output({2})).Chain({"input", "fc", "rnn", "output"});
  absl::StatusOr<ir::Workload> w = Import(g, Options());
  ASSERT_TRUE(w.ok()) << w.status();
  const ir::Layer* lif = Named(*w, "rnn/lif");
  ASSERT_NE(lif, nullptr);
  ASSERT_EQ(lif->inputs.size(), 2u);
  EXPECT_EQ(lif->inputs[1], IdOf(*w, "rnn/w_rec"));
  EXPECT_TRUE(lif->delayed(1));
  EXPECT_FALSE(lif->delayed(0));
}

// A node feeding itself reads its own previous output.
TEST(NirRecurrence, SelfLoopReadsItsOwnPreviousStep) {
  Node g = Mlp();
  g.Edge("lif", "lif");
  absl::StatusOr<ir::Workload> w = Import(g, Options());
  ASSERT_TRUE(w.ok()) << w.status();
  const int lif = IdOf(*w, "lif");
  ASSERT_GE(lif, 0);
  const ir::Layer& l = w->layers[lif];
  ASSERT_EQ(l.inputs.size(), 2u);
  EXPECT_EQ(l.inputs[1], lif);
  EXPECT_TRUE(l.delayed(1));
  EXPECT_TRUE(ir::RecurrentLayers(*w)[lif]);
}

TEST(NirErrors, NodeReachedOnlyThroughARecurrentEdge) {
  Node g = Mlp();  // a loop that no path from the input enters
  g.Add("a", Linear(2, 2, {1, 0, 0, 1}))
      .Add("b", Lif(2, 1e-3, 10, 0, 1, 0))
      .Edge("a", "b")
      .Edge("b", "a");
  EXPECT_THAT(Error(g), AllOf(HasSubstr("node 'a'"), HasSubstr("only through recurrent edges")));
}

TEST(NirErrors, RecurrentInputOfAnotherSizeIsRefused) {
  Node g = Mlp();
  g.Add("w_rec", Linear(3, 2, {1, 0, 0, 1, 1, 1})).Edge("lif", "w_rec").Edge("w_rec", "lif");
  EXPECT_THAT(Error(g), AllOf(HasSubstr("node 'lif'"), HasSubstr("recurrent input from 'w_rec'"),
                              HasSubstr("[3]")));
}

TEST(NirErrors, EdgeToAnUnknownNode) {
  Node g = Mlp();
  g.Edge("lif", "nowhere");
  EXPECT_THAT(Error(g), AllOf(HasSubstr("edge 'lif' -> 'nowhere'"), HasSubstr("no node named 'nowhere'")));
}

TEST(NirErrors, GraphStructure) {
  Node no_output = Graph();
  no_output.Add("input", Input({3})).Add("fc", Affine(2, 3, std::vector<double>(6, 1), {0, 0})).Chain({"input", "fc"});
  EXPECT_THAT(Error(no_output), HasSubstr("no Output node"));
  Node two_inputs = Mlp();
  two_inputs.Add("input2", Input({3})).Edge("input2", "fc");
  EXPECT_THAT(Error(two_inputs), AllOf(HasSubstr("2 Input nodes"), HasSubstr("input, input2")));
  Node dangling = Mlp();
  dangling.Add("orphan", Linear(2, 2, {1, 0, 0, 1}));
  EXPECT_THAT(Error(dangling), AllOf(HasSubstr("node 'orphan'"), HasSubstr("no edge leads to it")));
  Node passthrough = Graph();
  passthrough.Add("input", Input({3})).Add("output", Output({3})).Chain({"input", "output"});
  EXPECT_THAT(Error(passthrough), AllOf(HasSubstr("node 'output'"), HasSubstr("network input itself")));
  Node bad_out = Mlp();
  At(bad_out, "output") = Output({5});
  EXPECT_THAT(Error(bad_out), AllOf(HasSubstr("node 'output'"), HasSubstr("field 'shape'")));
}

TEST(NirErrors, ConvOnAVector) {
  Node conv{"Conv2d"};
  conv.F("weight", {2, 3, 1, 1}, std::vector<double>(6, 1)).F("bias", {2}, {0, 0});
  Node g = Graph();
  g.Add("input", Input({3})).Add("conv", conv).Add("output", Output({2})).Chain({"input", "conv", "output"});
  EXPECT_THAT(Error(g), AllOf(HasSubstr("node 'conv' (Conv2d)"), HasSubstr("expected [C, H, W]")));
}

TEST(NirErrors, MissingTypeAndMissingEdges) {
  Node g = Mlp();
  At(g, "fc").write_type = false;
  EXPECT_THAT(Error(g), AllOf(HasSubstr("node 'fc'"), HasSubstr("missing dataset 'type'")));
  Node h = Mlp();
  h.write_edges = false;
  EXPECT_THAT(Error(h), HasSubstr("without a dataset 'edges'"));
}

// ---- files that are not (well-formed) NIR -----------------------------------

std::string Write(const std::string& name, const std::string& bytes) {
  const std::string path = TempPath(name);
  std::ofstream(path, std::ios::binary) << bytes;
  return path;
}

TEST(NirErrors, NirExtensionWithoutHdf5) {
  absl::StatusOr<ir::Workload> w = importer::ImportFile(Write("text.nir", "hello, not HDF5"), Options());
  ASSERT_FALSE(w.ok());
  EXPECT_THAT(w.status().message(), AllOf(HasSubstr("text.nir"), HasSubstr("not a NIR file")));
}

TEST(NirErrors, TruncatedAndGarbledFilesAreErrorsNotCrashes) {
  const std::string good = ReadBytes(std::string(SNNPLAN_SOURCE_DIR) + "/models/nir/lif_mlp.nir");
  ASSERT_GT(good.size(), 1000u);
  for (size_t cut : {size_t{8}, size_t{100}, size_t{600}, good.size() / 2, good.size() - 1}) {
    absl::StatusOr<ir::Workload> w = importer::ImportBytes(good.substr(0, cut), "cut.nir", Options());
    EXPECT_FALSE(w.ok()) << "cut at " << cut;
    EXPECT_THAT(w.status().message(), HasSubstr("cut.nir: ")) << "cut at " << cut;
  }
  // Flip bytes all over the file: any outcome but a crash is fine; errors name the file.
  for (size_t step : {size_t{97}, size_t{501}, size_t{4093}}) {
    std::string bad = good;
    for (size_t i = 64; i < bad.size(); i += step) bad[i] = static_cast<char>(bad[i] ^ 0x5A);
    absl::StatusOr<ir::Workload> w = importer::ImportBytes(bad, "flip.nir", Options(4, true));
    if (!w.ok()) { EXPECT_THAT(w.status().message(), HasSubstr("flip.nir: ")); }
  }
}

TEST(NirErrors, ACrashInsideLibhdf5IsAnError) {
  // Byte edits of lif_mlp.nir that made libhdf5 1.10.8 segfault inside
  // H5Dread / H5HG_read (found by mutating the fixture): the reader runs in
  // a child process, so they come back as errors.
  const std::string good = ReadBytes(std::string(SNNPLAN_SOURCE_DIR) + "/models/nir/lif_mlp.nir");
  const std::vector<std::vector<std::pair<size_t, int>>> edits = {
      {{4126, 32}, {7298, 128}, {14102, 240}, {20531, 204}, {20797, 233}, {29481, 200}},
      {{9966, 236}, {17748, 50}, {30612, 23}, {31755, 86}, {44894, 155}, {48807, 216}, {54589, 132}},
      {{23276, 34}, {43046, 226}},
      {{23696, 189}, {26383, 157}, {30446, 174}, {46066, 173}}};
  for (const auto& e : edits) {
    std::string bad = good;
    for (const auto& [at, byte] : e)
      if (at < bad.size()) bad[at] = static_cast<char>(byte);
    absl::StatusOr<ir::Workload> w = importer::ImportBytes(bad, "crash.nir", Options(3, true));
    EXPECT_FALSE(w.ok());
    if (!w.ok()) { EXPECT_THAT(w.status().message(), HasSubstr("crash.nir: ")); }
  }
}

TEST(NirErrors, HugeDatasetIsRefusedBeforeReading) {
  // A chunked dataset declaring 2^28 float64 elements (2 GiB) with nothing written.
  const std::string path = TempPath("huge.nir");
  WriteFile(path, Mlp());
  H5Eset_auto2(H5E_DEFAULT, nullptr, nullptr);
  hid_t f = H5Fopen(path.c_str(), H5F_ACC_RDWR, H5P_DEFAULT);
  ASSERT_GE(f, 0);
  H5Ldelete(f, "node/nodes/fc/weight", H5P_DEFAULT);
  hsize_t dims[2] = {hsize_t{1} << 14, hsize_t{1} << 14}, chunk[2] = {64, 64};
  hid_t sp = H5Screate_simple(2, dims, nullptr);
  hid_t dcpl = H5Pcreate(H5P_DATASET_CREATE);
  H5Pset_chunk(dcpl, 2, chunk);
  hid_t ds = H5Dcreate2(f, "node/nodes/fc/weight", H5T_IEEE_F64LE, sp, H5P_DEFAULT, dcpl, H5P_DEFAULT);
  ASSERT_GE(ds, 0);
  H5Dclose(ds);
  H5Pclose(dcpl);
  H5Sclose(sp);
  H5Fclose(f);
  absl::StatusOr<ir::Workload> w = importer::ImportFile(path, Options());
  ASSERT_FALSE(w.ok());
  EXPECT_THAT(w.status().message(), AllOf(HasSubstr("node 'fc'"), HasSubstr("field 'weight'"),
                                          HasSubstr("refused before reading")));
}

TEST(NirErrors, LinksToOtherFilesAreRefused) {
  const std::string path = TempPath("links.nir");
  WriteFile(path, Mlp());
  H5Eset_auto2(H5E_DEFAULT, nullptr, nullptr);
  hid_t f = H5Fopen(path.c_str(), H5F_ACC_RDWR, H5P_DEFAULT);
  ASSERT_GE(f, 0);
  H5Ldelete(f, "node/nodes/fc/bias", H5P_DEFAULT);
  H5Lcreate_external("/etc/other.h5", "/bias", f, "node/nodes/fc/bias", H5P_DEFAULT, H5P_DEFAULT);
  H5Fclose(f);
  absl::StatusOr<ir::Workload> w = importer::ImportFile(path, Options());
  ASSERT_FALSE(w.ok());
  EXPECT_THAT(w.status().message(), AllOf(HasSubstr("node 'fc'"), HasSubstr("'bias'"), HasSubstr("external link")));
}

TEST(NirErrors, DtIsForNirFilesOnly) {
  importer::ImportOptions o = Options();
  o.dt_seconds = 1e-3;
  absl::StatusOr<ir::Workload> w =
      importer::ImportFile(std::string(SNNPLAN_SOURCE_DIR) + "/models/snntorch_nmnist_unrolled_T4_op13.onnx", o);
  ASSERT_FALSE(w.ok());
  EXPECT_THAT(w.status().message(), HasSubstr("--dt applies to NIR files only"));
}

}  // namespace
}  // namespace snnplan::testing::nir
