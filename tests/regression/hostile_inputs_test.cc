// Issue #16: hostile and mistaken inputs end in a clear error (exit 2, naming
// the file, node, tensor or JSON path) or a correct answer, never a signal or
// a silent wrong number. Each input is in tests/data/regression/<area>/ and
// goes through the real `snnplan` binary, so the exit code is the contract.
// The hostile models are written by tools/regression/make_importer_inputs.py.
#include <sys/stat.h>

#include <cstdint>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "snnplan/importer.h"
#include "tools/cli_runner.h"

namespace snnplan::testing {
namespace {

using ::testing::HasSubstr;

const std::string kRegression = SourceDir() + "/tests/data/regression/";
const std::string kNmnist = SourceDir() + "/models/snntorch_nmnist_step_op13.onnx";

class Hostile : public CliTest {};

// The defects of issue #16 inside ONNX models: each is refused, naming the
// node (or tensor) at fault.
TEST_F(Hostile, ImporterDefectsAreRefusedNamingTheNode) {
  struct Case {
    const char* file;
    std::vector<std::string> names;  // the message names one of these
  } cases[] = {
      {"conv_group_0.onnx", {"/conv1/Conv"}},
      {"conv_group_3_with_4_channels.onnx", {"/conv1/Conv"}},
      {"conv_strides_0.onnx", {"/conv1/Conv"}},
      {"conv_dilations_0.onnx", {"/conv1/Conv"}},
      {"maxpool_strides_0.onnx", {"/pool/MaxPool"}},
      {"averagepool_strides_0.onnx", {"/pool/AveragePool"}},
      {"weight_4_bytes_2_pow_31_channels.onnx", {"/conv1/Conv", "conv1.weight"}},
      {"threshold_nan.onnx", {"GreaterOrEqual_8", "Constant_7"}},
      {"threshold_inf.onnx", {"GreaterOrEqual_8", "Constant_7"}},
      {"decay_nan.onnx", {"Div_5", "Constant_4", "GreaterOrEqual_8"}},
      {"decay_inf.onnx", {"Div_5", "Constant_4", "GreaterOrEqual_8"}},
      {"loop_trip_count_0.onnx", {"Loop_19"}},
      {"loop_body_fewer_outputs.onnx", {"Loop_19"}},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.file);
    CliResult r = Run({"import", kRegression + "importer/" + c.file, "--timesteps", "4"});
    EXPECT_EQ(r.exit_code, 2) << r.out << r.err;
    EXPECT_THAT(r.err, HasSubstr(std::string(c.file) + ": "));
    bool named = false;
    for (const std::string& n : c.names) named = named || r.err.find(n) != std::string::npos;
    EXPECT_TRUE(named) << r.err;
    EXPECT_TRUE(r.out.empty()) << r.out;
  }
}

// 50,000 elementwise ops (+0) between a Conv and its neuron: the same answer
// as without them, and no stack overflow.
TEST_F(Hostile, FiftyThousandOpChainImportsLikeTheChainlessModel) {
  CliResult control =
      Run({"import", kRegression + "importer/conv_lif_control.onnx", "--timesteps", "4"});
  ASSERT_EQ(control.exit_code, 0) << control.err;
  CliResult chain =
      Run({"import", kRegression + "importer/chain_50000_adds.onnx", "--timesteps", "4"});
  ASSERT_EQ(chain.exit_code, 0) << chain.err;
  auto table = [](const std::string& out) { return out.substr(out.find('\n')); };  // no file name
  EXPECT_EQ(table(chain.out), table(control.out));
}

// --blocks: ids beyond the layers (which allocated without bound, overflowed
// or wrapped to 1) and non-integers are refused naming the file and layer.
TEST_F(Hostile, BlocksFileIdsBeyondTheLayersAreRefused) {
  struct Case {
    const char* file;
    const char* message;
  } cases[] = {
      {"id_10_pow_12.json", "(1000000000000) is outside 0..3 (the model has 4 layers)"},
      {"id_int32_max.json", "(2147483647) is outside 0..3"},
      {"id_2_pow_32_plus_1.json", "(4294967297) is outside 0..3"},
      {"id_uint64_max.json", "(18446744073709551615) is outside 0..3"},
      {"id_negative.json", "(-1) is outside 0..3"},
      {"id_4_of_4_layers.json", "(4) is outside 0..3"},
      {"id_1e300.json", "is not an integer"},
      {"id_float.json", "(1.5) is not an integer"},
      {"id_string.json", "(\"1\") is not an integer"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.file);
    const std::string path = kRegression + "blocks/" + c.file;
    CliResult r = Run({"import", kNmnist, "--timesteps", "2", "--blocks", path});
    EXPECT_EQ(r.exit_code, 2) << r.out << r.err;
    EXPECT_THAT(r.err, HasSubstr("--blocks " + path + ": block id of '/net/conv1/Conv' "));
    EXPECT_THAT(r.err, HasSubstr(c.message));
  }
  CliResult ok = Run({"import", kNmnist, "--timesteps", "2", "--blocks",
                      kRegression + "blocks/id_3_of_4_layers_ok.json"});
  EXPECT_EQ(ok.exit_code, 0) << ok.err;
}

// validate without --model: impossible layer ids, block and timestep counts
// are violations (exit 1) naming the tile or field.
TEST_F(Hostile, ValidateReportsImpossibleModelFactsWithoutTheModel) {
  CliResult clean = Run({"validate", kRegression + "manifest/clean.json"});
  ASSERT_EQ(clean.exit_code, 0) << clean.out << clean.err;
  struct Case {
    const char* file;
    const char* violation;
  } cases[] = {
      {"layer_id_huge.json",
       "[tile.layer] tile L0.s0.t0-2.y0-30 has layer_id 1125899906842624 "
       "outside 0..3"},
      {"layer_id_negative.json", "[tile.layer] tile L0.s0.t0-2.y0-30 has layer_id -1"},
      {"block_huge.json",
       "[tile.block] tile L0.s0.t0-2.y0-30 has block 1099511627776 outside 0..3"},
      {"tile_t_beyond_timesteps.json",
       "[tile.range] tile L0.s0.t0-2.y0-30 computes t [0,3) "
       "outside [0,2)"},
      {"timesteps_zero.json", "[model.timesteps] model.timesteps is 0 (must be >= 1)"},
      {"timesteps_negative.json", "[model.timesteps] model.timesteps is -5"},
      {"batch_zero.json", "[model.batch] model.batch is 0 (must be >= 1)"},
      {"blocks_huge.json", "[model.blocks] model.blocks is 1099511627776"},
      {"layers_huge.json", "[model.layers] model.layers is 35184372088832 but the tiles name 4"},
      {"by_block_too_long.json", "[summary.blocks] summary.dram_bytes.by_block lists 1003 blocks"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.file);
    CliResult r = Run({"validate", kRegression + "manifest/" + c.file});
    EXPECT_EQ(r.exit_code, 1) << r.out << r.err;
    EXPECT_THAT(r.out, HasSubstr(c.violation));
  }
}

// External data: read from the model's folder (the threshold and weights
// then import exactly as inline data) or refused naming tensor and file.
TEST_F(Hostile, ExternalDataIsReadInsideTheModelsFolder) {
  const std::string inline_model = SourceDir() + "/models/corpus/sj_lif_hard_step_op13.onnx";
  CliResult a = Run({"import", kRegression + "external_data/ok/lif.onnx", "--timesteps", "4",
                     "--json", (dir_ / "external.json").string()});
  ASSERT_EQ(a.exit_code, 0) << a.err;
  CliResult b =
      Run({"import", inline_model, "--timesteps", "4", "--json", (dir_ / "inline.json").string()});
  ASSERT_EQ(b.exit_code, 0) << b.err;
  nlohmann::json ext = nlohmann::json::parse(ReadAll(dir_ / "external.json"));
  nlohmann::json inl = nlohmann::json::parse(ReadAll(dir_ / "inline.json"));
  for (nlohmann::json* j : {&ext, &inl}) {
    j->erase("model_file");
    j->erase("model_sha256");
  }
  EXPECT_EQ(ext, inl);
}

TEST_F(Hostile, ExternalDataOutsideTheFolderOrTheFileIsRefused) {
  struct Case {
    const char* folder;
    const char* message;
  } cases[] = {
      {"absolute", "tensor 'conv1.weight': external data location '/etc/hostname' is absolute"},
      {"dotdot",
       "tensor 'conv1.weight': external data location '../ok/lif.data' leaves the "
       "model's folder"},
      {"missing", "tensor 'conv1.weight': external data location 'nope.data'"},
      {"offset_past_end",
       "tensor 'conv1.weight': external data file 'lif.data' is 5808 bytes: "
       "offset 5816 + length 576 lies outside it"},
      {"length_mismatch",
       "tensor 'conv1.weight': external_data length 100 in 'lif.data' differs "
       "from the 576 bytes its dims and type declare"},
      {"negative_offset",
       "tensor 'conv1.weight': external_data offset '-4' is not a non-negative "
       "integer"},
      {"truncated_file", "tensor 'conv1.weight': external data file 'lif.data' is 100 bytes"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.folder);
    const std::string model = kRegression + "external_data/" + c.folder + "/lif.onnx";
    CliResult r = Run({"import", model, "--timesteps", "4"});
    EXPECT_EQ(r.exit_code, 2) << r.out << r.err;
    EXPECT_THAT(r.err, HasSubstr(model + ": " + c.message));
  }
}

// A symlink inside the folder that points outside it is refused too.
TEST_F(Hostile, ExternalDataSymlinkEscapingTheFolderIsRefused) {
  const fs::path ok = kRegression + "external_data/ok";
  fs::create_directories(dir_ / "model");
  fs::copy_file(ok / "lif.onnx", dir_ / "model/lif.onnx");
  fs::copy_file(ok / "lif.data", dir_ / "outside.data");
  fs::create_symlink(dir_ / "outside.data", dir_ / "model/lif.data");
  CliResult r = Run({"import", (dir_ / "model/lif.onnx").string(), "--timesteps", "4"});
  EXPECT_EQ(r.exit_code, 2) << r.out << r.err;
  EXPECT_THAT(r.err, HasSubstr("external data location 'lif.data' leaves the model's folder "
                               "through a symlink"));
  // A symlink that stays inside the folder is fine.
  fs::remove(dir_ / "model/lif.data");
  fs::copy_file(dir_ / "outside.data", dir_ / "model/real.data");
  fs::create_symlink("real.data", dir_ / "model/lif.data");
  r = Run({"import", (dir_ / "model/lif.onnx").string(), "--timesteps", "4"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
}

// A model given as bytes has no folder: its external tensors are an error.
TEST(HostileBytes, ExternalDataOfAModelInMemoryIsAnError) {
  const std::string bytes = ReadAll(kRegression + "external_data/ok/lif.onnx");
  importer::ImportOptions o;
  o.timesteps = 4;
  auto w = importer::ImportBytes(bytes, "memory.onnx", o);
  ASSERT_FALSE(w.ok());
  EXPECT_THAT(std::string(w.status().message()),
              HasSubstr("memory.onnx: tensor 'conv1.weight': external data location 'lif.data' "
                        "cannot be read: the model was given as bytes"));
}

// Directories, FIFOs and devices where a file is expected: a clear error
// naming the option and path, never a hang or an abort.
TEST_F(Hostile, DirectoriesFifosAndDevicesAreNotInputFiles) {
  const std::string fifo = (dir_ / "fifo").string();
  ASSERT_EQ(::mkfifo(fifo.c_str(), 0600), 0);
  const std::string d = dir_.string();
  for (const std::string& bad : {d, fifo, std::string("/dev/zero")}) {
    SCOPED_TRACE(bad);
    struct Case {
      std::vector<std::string> args;
      std::string message;
    } cases[] = {
        {{"import", bad, "--timesteps", "2"}, bad + ": is "},
        {{"plan", kNmnist, "--timesteps", "2", "--hw", bad}, bad + ": is "},
        {{"import", kNmnist, "--timesteps", "2", "--blocks", bad}, "--blocks " + bad + ": is "},
        {{"plan", kNmnist, "--timesteps", "2", "--allocation", bad}, "--allocation " + bad},
        {{"plan", kNmnist, "--timesteps", "2", "--schedule-file", bad}, "--schedule-file " + bad},
        {{"plan", kNmnist, "--timesteps", "2", "--density-file", bad}, "--density-file " + bad},
        {{"cost", kNmnist, "--hw", "meta-prototype", "--timesteps", "2", "--density-file", bad},
         "--density-file " + bad},
        {{"validate", bad}, bad + ": is "},
        {{"trace", bad, "-o", (dir_ / "t.json").string()}, bad + ": is "},
    };
    for (const Case& c : cases) {
      SCOPED_TRACE(c.args[0]);
      CliResult r = Run(c.args);
      EXPECT_EQ(r.exit_code, 2) << r.out << r.err;
      EXPECT_THAT(r.err, HasSubstr(c.message));
      EXPECT_THAT(r.err, ::testing::AnyOf(HasSubstr("a directory"), HasSubstr("a FIFO"),
                                          HasSubstr("a device")));
    }
  }
}

// Absurdly large inputs are refused by size before anything is allocated
// (sparse files: no disk space used).
TEST_F(Hostile, OversizedInputsAreRefusedBeforeReading) {
  const fs::path json = dir_ / "huge.json", model = dir_ / "huge.onnx";
  std::ofstream(json).close();
  std::ofstream(model).close();
  fs::resize_file(json, (std::uintmax_t{1} << 30) + 1);
  fs::resize_file(model, std::uintmax_t{1} << 31);
  CliResult r = Run({"validate", json.string()});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_THAT(r.err, HasSubstr(json.string() + ": JSON file of 1073741825 bytes exceeds the limit "
                                               "of 1073741824 bytes"));
  r = Run({"import", model.string()});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_THAT(r.err, HasSubstr(model.string() + ": model file of 2147483648 bytes exceeds the "
                                                "limit"));
}

}  // namespace
}  // namespace snnplan::testing
