// The activity file reader (one test per guard), the densities it yields per
// layer, the link encoding rule, and how the cost model prices measured
// activity: only where the hardware declares it exploits it. Expected
// values are computed here from the rules in docs/costmodel.md and
// docs/hardware.md, not read back from the tool.
#include "snnplan/activity.h"

#include <unistd.h>

#include <cmath>
#include <filesystem>
#include <fstream>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "snnplan/costmodel.h"
#include "test_util.h"

namespace snnplan::cost {
namespace {

using ::testing::HasSubstr;
using testing::MakeConv;
using testing::MetaPrototype;

// conv1 reads the network input, conv2 reads conv1 alone, join reads both.
ir::Workload ThreeLayers() {
  ir::Workload w;
  w.model_file = "net.onnx";
  testing::ConvSpec s;
  s.T = 4;
  w.layers.push_back(MakeConv(s, "conv1"));
  w.layers.push_back(MakeConv(s, "conv2"));
  w.layers[1].inputs = {0};
  w.layers.push_back(MakeConv(s, "join"));
  w.layers[2].op = ir::OpKind::kSewOr;
  w.layers[2].inputs = {0, 1};
  w.timesteps = 4;
  w.num_blocks = 1;
  return w;
}

// The brief's example file, byte for byte (its SHA-256 was computed with
// Python's hashlib from these bytes).
const char kExample[] =
    R"({"format":"snnplan-activity","version":1,"model":"net.onnx","model_sha256":"ab",)"
    R"("samples":3,"timesteps":4,"layers":{"conv1":{"input_density":0.1234,)"
    R"("input_nonzero":1234,"input_elements":10000,"per_timestep":[0.1,0.2,0.1,0.05]}}})";
const char kExampleSha256[] = "7a9c0dd8893ee6a0ed47c0bf5ec8ef12a06ee3a0c9be2fe01120b6b2afada3d3";

nlohmann::json Example() { return nlohmann::json::parse(kExample); }

std::string ErrorOf(const nlohmann::json& doc) {
  absl::StatusOr<ActivityFile> a = ParseActivity(doc.dump(), "dir/act.json", ThreeLayers());
  EXPECT_FALSE(a.ok()) << doc.dump();
  return a.ok() ? "" : std::string(a.status().message());
}

TEST(ActivityFile, ParsesEveryField) {
  absl::StatusOr<ActivityFile> a = ParseActivity(kExample, "dir/act.json", ThreeLayers());
  ASSERT_TRUE(a.ok()) << a.status();
  EXPECT_EQ(a->file, "act.json");  // name only: manifests hold no directories
  EXPECT_EQ(a->sha256, kExampleSha256);
  EXPECT_EQ(a->model, "net.onnx");
  EXPECT_EQ(a->model_sha256, "ab");
  EXPECT_EQ(a->samples, 3);
  EXPECT_EQ(a->timesteps, 4);
  ASSERT_EQ(a->layers.size(), 1u);
  const LayerInputActivity& l = a->layers.at("conv1");
  EXPECT_EQ(l.input_density, 0.1234);
  EXPECT_EQ(l.input_nonzero, 1234);
  EXPECT_EQ(l.input_elements, 10000);
  EXPECT_THAT(l.per_timestep, ::testing::ElementsAre(0.1, 0.2, 0.1, 0.05));
}

TEST(ActivityFile, OneValueForALayerThatRunsOnce) {
  nlohmann::json doc = Example();
  doc["layers"]["conv1"]["per_timestep"] = {0.1234};  // after a mean over time
  EXPECT_TRUE(ParseActivity(doc.dump(), "act.json", ThreeLayers()).ok());
}

TEST(ActivityFile, ZeroElementsIsZeroDensity) {  // as the writer prints an empty input
  nlohmann::json doc = Example();
  doc["layers"]["conv1"] = {{"input_density", 0},
                            {"input_nonzero", 0},
                            {"input_elements", 0},
                            {"per_timestep", {0, 0, 0, 0}}};
  EXPECT_TRUE(ParseActivity(doc.dump(), "act.json", ThreeLayers()).ok());
}

TEST(ActivityFile, UnknownLayerListsTheKnownNames) {
  nlohmann::json doc = Example();
  doc["layers"]["/features/conv1/Conv"] = doc["layers"]["conv1"];
  EXPECT_EQ(ErrorOf(doc),
            "dir/act.json: layers.\"/features/conv1/Conv\": no layer named "
            "'/features/conv1/Conv' in net.onnx (its layers: conv1, conv2, join)");
}

TEST(ActivityFile, DensityOutOfRangeNamesItsPath) {
  for (const nlohmann::json& bad : {nlohmann::json(1.5), nlohmann::json(-0.1),
                                    nlohmann::json("0.5"), nlohmann::json(nullptr)}) {
    nlohmann::json doc = Example();
    doc["layers"]["conv1"]["input_density"] = bad;
    EXPECT_EQ(ErrorOf(doc),
              "dir/act.json: layers.\"conv1\".input_density: must be a number in "
              "[0, 1], got " +
                  bad.dump());
  }
}

TEST(ActivityFile, WrongVersion) {
  nlohmann::json doc = Example();
  doc["version"] = 2;
  EXPECT_EQ(ErrorOf(doc),
            "dir/act.json: version: unsupported version 2 (this snnplan reads version 1)");
  doc["version"] = "1";
  EXPECT_THAT(ErrorOf(doc), HasSubstr("version: unsupported version \"1\""));
  // Checked before the other fields: another version may have other ones.
  EXPECT_EQ(ErrorOf({{"format", "snnplan-activity"}, {"version", 2}}),
            "dir/act.json: version: unsupported version 2 (this snnplan reads version 1)");
}

TEST(ActivityFile, WrongFormat) {
  nlohmann::json doc = Example();
  doc["format"] = "snnplan-density";
  EXPECT_EQ(ErrorOf(doc),
            "dir/act.json: format: expected \"snnplan-activity\", got \"snnplan-density\"");
}

TEST(ActivityFile, InvalidJsonAndNonObjects) {
  absl::StatusOr<ActivityFile> a = ParseActivity("{\"format\": ", "act.json", ThreeLayers());
  ASSERT_FALSE(a.ok());
  EXPECT_THAT(std::string(a.status().message()), HasSubstr("act.json: invalid JSON"));
  EXPECT_EQ(ErrorOf(nlohmann::json::array()),
            "dir/act.json: (top level): expected an object, got array");
}

TEST(ActivityFile, UnknownAndMissingKeys) {
  nlohmann::json doc = Example();
  doc["colour"] = 1;
  EXPECT_EQ(ErrorOf(doc),
            "dir/act.json: colour: unknown key (allowed: format, version, model, "
            "model_sha256, samples, timesteps, layers)");
  doc = Example();
  doc.erase("timesteps");
  EXPECT_EQ(ErrorOf(doc), "dir/act.json: timesteps: missing required field");
  doc = Example();
  doc["layers"]["conv1"].erase("input_nonzero");
  EXPECT_EQ(ErrorOf(doc), "dir/act.json: layers.\"conv1\".input_nonzero: missing required field");
  doc = Example();
  doc["layers"]["conv1"]["output_density"] = 0.5;
  EXPECT_THAT(ErrorOf(doc), HasSubstr("layers.\"conv1\".output_density: unknown key"));
}

TEST(ActivityFile, HeaderValues) {
  nlohmann::json doc = Example();
  doc["samples"] = 0;
  EXPECT_EQ(ErrorOf(doc), "dir/act.json: samples: must be >= 1");
  doc = Example();
  doc["timesteps"] = 2.5;
  EXPECT_EQ(ErrorOf(doc), "dir/act.json: timesteps: must be an integer >= 0, got 2.5");
  doc = Example();
  doc["model"] = 7;
  EXPECT_EQ(ErrorOf(doc), "dir/act.json: model: expected a string, got 7");
  doc = Example();
  doc["layers"] = nlohmann::json::array();
  EXPECT_EQ(ErrorOf(doc),
            "dir/act.json: layers: expected an object of layer name -> activity, got array");
  doc = Example();
  doc["layers"]["conv1"] = 0.5;
  EXPECT_EQ(ErrorOf(doc), "dir/act.json: layers.\"conv1\": expected an object, got number");
}

TEST(ActivityFile, CountsMustAgreeWithTheDensity) {
  nlohmann::json doc = Example();
  doc["layers"]["conv1"]["input_nonzero"] = 10001;
  EXPECT_EQ(ErrorOf(doc),
            "dir/act.json: layers.\"conv1\".input_nonzero: 10001 exceeds input_elements 10000");
  doc = Example();
  doc["layers"]["conv1"]["input_nonzero"] = -1;
  EXPECT_EQ(ErrorOf(doc),
            "dir/act.json: layers.\"conv1\".input_nonzero: must be an integer >= 0, got -1");
  doc = Example();
  doc["layers"]["conv1"]["input_density"] = 0.5;
  EXPECT_THAT(ErrorOf(doc), HasSubstr("layers.\"conv1\".input_density: 0.5 disagrees with "
                                      "input_nonzero / input_elements = 1234 / 10000"));
}

TEST(ActivityFile, PerTimestepLengthAndValues) {
  nlohmann::json doc = Example();
  doc["layers"]["conv1"]["per_timestep"] = {0.1, 0.2, 0.1};
  EXPECT_EQ(ErrorOf(doc),
            "dir/act.json: layers.\"conv1\".per_timestep: expected 4 values (one "
            "per timestep; 1 for a layer after a mean over time), got 3");
  doc["layers"]["conv1"]["per_timestep"] = {0.1, 0.2, 1.1, 0.05};
  EXPECT_EQ(ErrorOf(doc),
            "dir/act.json: layers.\"conv1\".per_timestep[2]: must be a number in "
            "[0, 1], got 1.1");
  doc["layers"]["conv1"]["per_timestep"] = 0.1;
  EXPECT_EQ(ErrorOf(doc),
            "dir/act.json: layers.\"conv1\".per_timestep: expected an array, got number");
}

TEST(ActivityFile, ReadsThroughTheInputFileHelper) {
  const std::filesystem::path dir =
      std::filesystem::temp_directory_path() / ("snnplan_activity_" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  const std::string path = (dir / "act.json").string();
  std::ofstream(path) << kExample;
  absl::StatusOr<ActivityFile> a = ReadActivityFile(path, ThreeLayers());
  ASSERT_TRUE(a.ok()) << a.status();
  EXPECT_EQ(a->sha256, kExampleSha256);
  EXPECT_EQ(a->file, "act.json");
  absl::StatusOr<ActivityFile> missing =
      ReadActivityFile((dir / "no.json").string(), ThreeLayers());
  EXPECT_EQ(missing.status().code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(std::string(missing.status().message()),
              HasSubstr("no.json: cannot open JSON activity file"));
  absl::StatusOr<ActivityFile> directory = ReadActivityFile(dir.string(), ThreeLayers());
  EXPECT_THAT(std::string(directory.status().message()), HasSubstr("is a directory"));
  std::filesystem::remove_all(dir);
}

TEST(Densities, InputsMeasuredOutputsFromSingleInputConsumers) {
  nlohmann::json doc = Example();
  doc["layers"]["conv2"] = {{"input_density", 0.25},
                            {"input_nonzero", 25},
                            {"input_elements", 100},
                            {"per_timestep", {0.25, 0.25, 0.25, 0.25}}};
  doc["layers"]["join"] = {{"input_density", 0.5},
                           {"input_nonzero", 50},
                           {"input_elements", 100},
                           {"per_timestep", {0.5, 0.5, 0.5, 0.5}}};
  const ir::Workload w = ThreeLayers();
  absl::StatusOr<ActivityFile> a = ParseActivity(doc.dump(), "act.json", w);
  ASSERT_TRUE(a.ok()) << a.status();
  const LayerDensities d = DensitiesOf(&*a, w);
  EXPECT_THAT(d.input, ::testing::ElementsAre(0.1234, 0.25, 0.5));
  // conv1's output is what conv2 reads alone; conv2's output is read only by
  // the join (whose density mixes two tensors): dense; join: no consumer.
  EXPECT_THAT(d.output, ::testing::ElementsAre(0.25, 1.0, 1.0));
  EXPECT_EQ(d.network_input, 0.1234);  // conv1 reads only the network input
  const LayerDensities dense = DensitiesOf(nullptr, w);
  EXPECT_THAT(dense.input, ::testing::Each(1.0));
  EXPECT_THAT(dense.output, ::testing::Each(1.0));
}

// ------------------------------------------------------------ encoding rule

TEST(EncodingRule, BitsPerFormat) {
  const hw::SpikeEncoding dense{hw::SpikeFormat::kDense, 0};
  const hw::SpikeEncoding bitmap{hw::SpikeFormat::kBitmap, 0};
  const hw::SpikeEncoding aer{hw::SpikeFormat::kAddressEvent, 0};
  // 1000 one-bit spikes, 10 % non-zero, 12-bit addresses.
  EXPECT_EQ(LinkBits(dense, 1000, 1, 0.1, 12), 1000);
  EXPECT_EQ(LinkBits(bitmap, 1000, 1, 0.1, 12), 1000);   // the bitmap is the data
  EXPECT_EQ(LinkBits(aer, 1000, 1, 0.1, 12), 1000);      // 100 x 12 = 1200 > dense: dense
  EXPECT_EQ(LinkBits(aer, 1000, 1, 0.05, 12), 50 * 12);  // 600 < 1000
  // 1000 four-bit values, 10 % non-zero.
  EXPECT_EQ(LinkBits(bitmap, 1000, 4, 0.1, 12), 1000 + 100 * 4);
  EXPECT_EQ(LinkBits(aer, 1000, 4, 0.1, 12), 100 * (12 + 4));
  EXPECT_EQ(LinkBits(aer, 1000, 4, 0.0, 12), 0);
  EXPECT_EQ(LinkBits(bitmap, 1000, 4, 1.0, 12), 4000);  // dense is smaller: dense
  // A fraction of a bit rounds up.
  EXPECT_EQ(LinkBits(aer, 3, 1, 0.1, 1), 1);
  EXPECT_DOUBLE_EQ(LinkFraction(aer, 4, 0.1, 12), 1.6 / 4);
  EXPECT_DOUBLE_EQ(LinkFraction(dense, 4, 0.1, 12), 1.0);
}

TEST(EncodingRule, AddressBits) {
  const hw::SpikeEncoding derived{hw::SpikeFormat::kAddressEvent, 0};
  EXPECT_EQ(AddressBits(derived, 1), 1);
  EXPECT_EQ(AddressBits(derived, 2), 1);
  EXPECT_EQ(AddressBits(derived, 3), 2);
  EXPECT_EQ(AddressBits(derived, 64 * 128 * 128), 20);
  EXPECT_EQ(AddressBits(derived, 64 * 128 * 128 + 1), 21);
  const hw::SpikeEncoding declared{hw::SpikeFormat::kAddressEvent, 16};
  EXPECT_EQ(AddressBits(declared, 5), 16);
  EXPECT_TRUE(CheckAddressBits(declared, 65536, "x").ok());
  absl::Status s = CheckAddressBits(declared, 65537, "the output of layer 'c'");
  EXPECT_EQ(s.message(),
            "hardware spike_encoding.address_bits 16 cannot address the 65537 "
            "elements of the output of layer 'c' (needs 17)");
}

// ------------------------------------------------------------- cost model

hw::Hardware ZeroSkipping() {
  hw::Hardware h = MetaPrototype();
  h.cores[0].operational_array.zero_skipping = true;
  return h;
}

TEST(ActivityPricing, ZeroSkippingScalesSopEnergyByTheInputDensity) {
  testing::ConvSpec s;
  s.T = 4;
  s.C = 8;
  s.OY = 4;
  s.FY = s.FX = 3;
  s.pad = 1;
  s.mode = ir::NeuronMode::kStateful;
  const ir::Layer conv = MakeConv(s);  // 1-bit input: SOPs
  ASSERT_TRUE(conv.uses_sop());
  CostModel model(ZeroSkipping(), 0, {});
  TileShape dense = WholeLayerTile(conv), sparse = dense;
  sparse.input_activity = 0.125;
  auto d = model.Price(dense);
  auto p = model.Price(sparse);
  ASSERT_TRUE(d.ok() && p.ok());
  // Operations = T K C OY OX FY FX (padded taps included); SOP 70 fJ.
  const double ops = 4.0 * 32 * 8 * 4 * 16 * 3 * 3;
  const double sop_fj = 70;
  EXPECT_EQ((*d)->operations, static_cast<int64_t>(ops));
  EXPECT_EQ((*p)->operations, static_cast<int64_t>(ops * 0.125));
  // Compute energy (no neuron-update energy on this array) is exactly the rule;
  // tolerance: double rounding only.
  EXPECT_NEAR((*d)->energy.compute_pj, ops * sop_fj / 1000, 1e-9 * ops);
  EXPECT_NEAR((*p)->energy.compute_pj, ops * 0.125 * sop_fj / 1000, 1e-9 * ops);
  EXPECT_NEAR((*d)->energy.compute_pj - (*p)->energy.compute_pj, ops * 0.875 * sop_fj / 1000,
              1e-9 * ops);
  // No speed-up declared: the array still spends the cycles.
  EXPECT_EQ((*p)->compute_cycles, (*d)->compute_cycles);
}

TEST(ActivityPricing, MacLayersAndUndeclaredHardwareStayDense) {
  testing::ConvSpec s;
  s.C = 8;
  s.input_bits = 4;  // multi-bit input: MACs, never skipped
  CostModel skipping(ZeroSkipping(), 0, {});
  TileShape dense = WholeLayerTile(MakeConv(s)), measured = dense;
  measured.input_activity = 0.1;
  measured.output_activity = 0.1;
  EXPECT_EQ((*skipping.Price(dense))->energy.compute_pj,
            (*skipping.Price(measured))->energy.compute_pj);
  // A spiking layer on hardware that declares nothing: the same price, and
  // the same cache entry (activity it does not exploit is not part of it).
  s.input_bits = 1;
  CostModel plain(MetaPrototype(), 0, {});
  TileShape a = WholeLayerTile(MakeConv(s)), b = a;
  b.input_activity = 0.1;
  b.output_activity = 0.2;
  auto pa = plain.Price(a);
  auto pb = plain.Price(b);
  ASSERT_TRUE(pa.ok() && pb.ok());
  EXPECT_EQ(pa->get(), pb->get());
  EXPECT_EQ(plain.cache_misses(), 1);
}

TEST(ActivityPricing, SparseSpeedupScalesSopCyclesByTheInputDensity) {
  hw::Hardware h = MetaPrototype();
  h.cores[0].operational_array.sparse_speedup = true;
  testing::ConvSpec s;
  s.T = 4;
  s.C = 8;
  s.OY = 4;
  s.FY = s.FX = 3;
  s.pad = 1;
  CostModel model(h, 0, {});
  TileShape dense = WholeLayerTile(MakeConv(s)), sparse = dense;
  sparse.input_activity = 0.3;
  auto d = model.Price(dense);
  auto p = model.Price(sparse);
  ASSERT_TRUE(d.ok() && p.ok());
  // Temporal iterations = T x ceil(K/32) x ceil(C/2) x OY x ceil(OX/16) x FY x FX.
  const int64_t iterations = 4 * 1 * 4 * 4 * 1 * 3 * 3;
  EXPECT_EQ((*d)->compute_cycles, iterations);
  EXPECT_EQ((*p)->compute_cycles, static_cast<int64_t>(std::ceil(iterations * 0.3)));
  // No zero-skipping declared: SOP energy stays dense.
  EXPECT_EQ((*p)->energy.compute_pj, (*d)->energy.compute_pj);
}

TEST(ActivityPricing, SpikeEncodingScalesTheDramStreamsOfFeatures) {
  // A 64 KiB global buffer holds neither the 1-bit input (T 16 x C 64 x
  // 64 x 64 = 4 Mbit) nor the spike output (16 x 32 x 64 x 64 = 2 Mbit) of
  // this layer: both stream from / to DRAM inside the tile.
  testing::ConvSpec s;
  s.T = 16;
  s.C = 64;
  s.OY = 64;
  s.OX = 64;
  s.mode = ir::NeuronMode::kStateful;
  const ir::Layer conv = MakeConv(s);
  hw::Hardware dense_hw = MetaPrototype(64 * 1024);
  hw::Hardware aer_hw = dense_hw;
  aer_hw.spike_encoding = {hw::SpikeFormat::kAddressEvent, 0};
  CostModel dense_model(dense_hw, 0, {});
  CostModel aer_model(aer_hw, 0, {});
  TileShape t = WholeLayerTile(conv);
  t.input_activity = 0.02;
  t.output_activity = 0.05;
  auto best = dense_model.Price(t);
  ASSERT_TRUE(best.ok()) << best.status();
  const int i = static_cast<int>(ir::Operand::kI), o = static_cast<int>(ir::Operand::kO);
  ASSERT_TRUE((*best)->dram_operands[i] && (*best)->dram_operands[o]) << "I and O must stream";
  // The same loop order priced on both: only the encoding differs.
  std::vector<MappedLoop> temporal;
  for (const MappedLoop& m : (*best)->mapping)
    if (!m.spatial) temporal.push_back(m);
  absl::StatusOr<TileCost> d = dense_model.Evaluate(t, temporal);
  absl::StatusOr<TileCost> e = aer_model.Evaluate(t, temporal);
  ASSERT_TRUE(d.ok() && e.ok()) << d.status() << e.status();
  // An event's address in the 64 x 64 x 64 input map takes 18 bits, in the
  // 32 x 64 x 64 output map 17: a 1-bit spike moves density x address bits.
  const double in_fraction = 0.02 * 18, out_fraction = 0.05 * 17;
  // Counts are rounded to whole bits after scaling: within one bit.
  EXPECT_NEAR(static_cast<double>(e->dram_traffic[i].read_bits),
              static_cast<double>(d->dram_traffic[i].read_bits) * in_fraction, 1.0);
  EXPECT_NEAR(static_cast<double>(e->dram_traffic[o].write_bits),
              static_cast<double>(d->dram_traffic[o].write_bits) * out_fraction, 1.0);
  // The global buffer and the array still see dense data.
  EXPECT_EQ(e->energy.compute_pj, d->energy.compute_pj);
  EXPECT_LT(e->energy.dram_pj, d->energy.dram_pj);
}

TEST(ActivityPricing, DeclaredAddressBitsMustAddressTheMap) {
  hw::Hardware h = MetaPrototype();
  h.spike_encoding = {hw::SpikeFormat::kAddressEvent, 4};
  testing::ConvSpec s;  // input map C 2 x 1 x 16 = 32 elements: needs 5 bits
  CostModel model(h, 0, {});
  auto c = model.Price(WholeLayerTile(MakeConv(s, "c")));
  ASSERT_FALSE(c.ok());
  EXPECT_THAT(std::string(c.status().message()),
              HasSubstr("address_bits 4 cannot address the 32 elements of the input of layer 'c'"));
}

TEST(ActivityPricing, ActivityOutsideZeroToOneIsRefused) {
  CostModel model(MetaPrototype(), 0, {});
  TileShape t = WholeLayerTile(MakeConv(testing::ConvSpec{}));
  t.input_activity = 1.5;
  auto c = model.Price(t);
  ASSERT_FALSE(c.ok());
  EXPECT_THAT(std::string(c.status().message()), HasSubstr("input activity 1.5 outside [0, 1]"));
}

}  // namespace
}  // namespace snnplan::cost
