// ZigZag accelerator YAML (hwdesc/src/zigzag_yaml.cc): the conversion of the
// fixtures in tests/data/hw/zigzag/, computed by hand from ZigZag's documented
// units (memory_instance.py: size in bit, r_bw/w_bw in bit/cycle, r_cost/w_cost
// in pJ per access; unit_energy in pJ per MAC), and one refusal per guard.
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>

#include "absl/strings/str_replace.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "snnplan/hwdesc.h"

namespace snnplan::hw {
namespace {

using ::testing::HasSubstr;
using ::testing::StartsWith;

const std::string kDir = std::string(SNNPLAN_SOURCE_DIR) + "/tests/data/hw/zigzag/";

std::string Msg(const absl::Status& s) { return std::string(s.message()); }

std::string Read(const std::string& path) {
  std::ifstream in(path);
  EXPECT_TRUE(in) << path;
  return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

TEST(ZigZagYaml, ConvertsUnitsByHand) {
  absl::StatusOr<Hardware> hw = LoadFile(kDir + "snn_core.yaml");
  ASSERT_TRUE(hw.ok()) << hw.status();
  EXPECT_EQ(hw->name, "snn_core_zz");
  ASSERT_EQ(hw->cores.size(), 1u);
  const Core& core = hw->cores[0];
  // unit_energy 0.12 pJ per MAC = 120 fJ; SOPs are priced as MACs.
  EXPECT_DOUBLE_EQ(core.operational_array.mac_energy_fj, 120.0);
  EXPECT_DOUBLE_EQ(core.operational_array.sop_energy_fj, 120.0);
  EXPECT_EQ(core.operational_array.neuron_update_energy_fj, 0.0);
  EXPECT_EQ(core.operational_array.TotalPes(), 16 * 8);
  ASSERT_EQ(core.dataflows.size(), 2u);
  EXPECT_EQ(core.dataflows[0], (SpatialUnroll{"D1", ir::Dim::kK, 16}));
  EXPECT_EQ(core.dataflows[1], (SpatialUnroll{"D2", ir::Dim::kOX, 8}));
  // Four on-chip levels; the outermost YAML memory, dram, is offchip.
  ASSERT_EQ(core.memories.size(), 4u);
  const MemoryLevel& rf_w = core.memories[0];
  EXPECT_EQ(rf_w.name, "rf_w_8b");
  EXPECT_EQ(rf_w.operands, std::vector<ir::Operand>{ir::Operand::kW});  // I2 = weights
  EXPECT_DOUBLE_EQ(rf_w.read_energy_fj_per_bit, 1.0);                   // 0.008 pJ / 8 bit
  EXPECT_DOUBLE_EQ(rf_w.write_energy_fj_per_bit, 2.0);                  // 0.016 pJ / 8 bit
  EXPECT_EQ(core.Instances(rf_w), 16);  // served D2: one per D1 PE row
  const MemoryLevel& rf_o = core.memories[1];
  EXPECT_EQ(rf_o.operands, (std::vector<ir::Operand>{ir::Operand::kO, ir::Operand::kS}));
  EXPECT_DOUBLE_EQ(rf_o.read_energy_fj_per_bit, 2.0);  // 0.032 pJ / 16 bit
  EXPECT_EQ(rf_o.access_granularity_bits, 16);         // min_r/w_granularity
  const MemoryLevel& sram_i = core.memories[2];
  EXPECT_EQ(sram_i.operands, std::vector<ir::Operand>{ir::Operand::kI});  // I1 = input
  EXPECT_EQ(sram_i.size_bits, 524288);
  EXPECT_DOUBLE_EQ(sram_i.read_energy_fj_per_bit, 50.0);   // 12.8 pJ / 256 bit
  EXPECT_DOUBLE_EQ(sram_i.write_energy_fj_per_bit, 65.0);  // 16.64 pJ / 256 bit
  const MemoryLevel& gb = core.global_buffer();
  EXPECT_EQ(gb.name, "sram_512KB");
  EXPECT_EQ(gb.operands.size(), 4u);
  EXPECT_EQ(gb.read_bw_bits_per_cycle, 1024);
  EXPECT_EQ(gb.write_bw_bits_per_cycle, 512);
  EXPECT_DOUBLE_EQ(gb.read_energy_fj_per_bit, 125.0);   // 128 pJ / 1024 bit
  EXPECT_DOUBLE_EQ(gb.write_energy_fj_per_bit, 150.0);  // 76.8 pJ / 512 bit
  EXPECT_EQ(gb.access_granularity_bits, 64);            // max(min_r 32, min_w 64)
  EXPECT_EQ(gb.banks, 1);
  EXPECT_EQ(gb.max_bw_bits_per_cycle, 0);
  EXPECT_DOUBLE_EQ(hw->offchip.read_energy_fj_per_bit, 10000.0);   // 640 pJ / 64 bit
  EXPECT_DOUBLE_EQ(hw->offchip.write_energy_fj_per_bit, 11000.0);  // 704 pJ / 64 bit
  EXPECT_EQ(hw->offchip.bw_bits_per_cycle, 64);
  // input_precision [8, 4]: activations (I1) 8 bit, weights (I2) 4 bit.
  EXPECT_EQ(hw->precision.input_bits, 8);
  EXPECT_EQ(hw->precision.feature_bits, 8);
  EXPECT_EQ(hw->precision.weight_bits, 4);
  EXPECT_EQ(hw->precision.state_bits, Precision{}.state_bits);
}

TEST(ZigZagYaml, IsTheHandWrittenJsonDescription) {
  absl::StatusOr<Hardware> yaml = LoadFile(kDir + "snn_core.yaml");
  absl::StatusOr<Hardware> json = LoadFile(kDir + "snn_core.expected.json");
  ASSERT_TRUE(yaml.ok()) << yaml.status();
  ASSERT_TRUE(json.ok()) << json.status();
  EXPECT_EQ(*yaml, *json);
  // And its normalized JSON loads back identically (hw show f.yaml --json).
  absl::StatusOr<Hardware> back = FromJson(ToJson(*yaml), "round-trip");
  ASSERT_TRUE(back.ok()) << back.status();
  EXPECT_EQ(*back, *yaml);
}

TEST(ZigZagYaml, NewestPortSyntaxIsTheSameHardware) {
  absl::StatusOr<Hardware> v3 = LoadFile(kDir + "snn_core.yaml");
  absl::StatusOr<Hardware> ports = LoadFile(kDir + "snn_core_ports.yaml");
  ASSERT_TRUE(v3.ok()) << v3.status();
  ASSERT_TRUE(ports.ok()) << ports.status();
  EXPECT_EQ(*ports, *v3);
}

TEST(ZigZagYaml, DataflowAsSnnplanWritesItAndMultiplierEnergy) {
  std::string text = Read(kDir + "snn_core.yaml");
  absl::StrReplaceAll({{"  D1:\n    - K, 16\n", "  D1: [K, 16]\n"},
                       {"unit_energy: 0.12", "multiplier_energy: 0.12"}},
                      &text);
  absl::StatusOr<Hardware> a = FromZigZagYaml(text, "x.yaml");
  absl::StatusOr<Hardware> b = LoadFile(kDir + "snn_core.yaml");
  ASSERT_TRUE(a.ok()) << a.status();
  ASSERT_TRUE(b.ok());
  EXPECT_EQ(*a, *b);
}

TEST(ZigZagYaml, ResizesLikeAnyDescription) {
  absl::StatusOr<Hardware> hw = LoadFile(kDir + "snn_core.yaml");
  ASSERT_TRUE(hw.ok());
  // One 512 KiB bank (ZigZag has no banks): 1 MiB = 2 banks, bandwidth x 2.
  ASSERT_TRUE(ResizeGlobalBuffer(*hw, 1024 * 1024).ok());
  EXPECT_EQ(hw->cores[0].global_buffer().banks, 2);
  EXPECT_EQ(hw->cores[0].global_buffer().read_bw_bits_per_cycle, 2048);
  EXPECT_EQ(hw->cores[0].global_buffer().write_bw_bits_per_cycle, 1024);
}

// One refusal per guard: snn_core.yaml with one edit; the message names the
// file and the YAML key path.
struct Refusal {
  const char* name;
  const char* from;  // text replaced in snn_core.yaml ("" = replace everything)
  const char* to;
  const char* expected;  // substring of the message after "x.yaml: "
};

TEST(ZigZagYaml, RefusalsNameFileAndKeyPath) {
  const std::string base = Read(kDir + "snn_core.yaml");
  const Refusal cases[] = {
      {"syntax", "sizes: [16, 8]", "sizes: [16, 8", "invalid YAML at line"},
      {"top level list", "", "- 1\n- 2\n", "expected a ZigZag accelerator (a mapping"},
      {"unknown top-level key", "name: snn_core_zz", "name: snn_core_zz\ncolour: red",
       "colour: unknown key (snnplan reads name, memories, operational_array, dataflows, type)"},
      {"stream memory core", "name: snn_core_zz", "name: snn_core_zz\ntype: memory",
       "type: 'memory': only compute cores are hardware descriptions"},
      {"no memories", "memories:", "memoriez:", "memoriez: unknown key"},
      {"unknown memory key", "    r_cost: 0.008\n", "    r_cost: 0.008\n    colour: red\n",
       "memories.rf_w_8b.colour: unknown key (snnplan reads size, r_cost"},
      {"quoted number", "r_cost: 0.008", "r_cost: \"0.008\"",
       "memories.rf_w_8b.r_cost: expected a number, got the quoted string '0.008' (line 14)"},
      {"not a number", "r_cost: 0.008", "r_cost: cheap",
       "memories.rf_w_8b.r_cost: expected a number, got 'cheap'"},
      {"negative energy", "r_cost: 0.008", "r_cost: -0.008",
       "memories.rf_w_8b.r_cost: must be >= 0"},
      {"zero size", "    size: 8\n", "    size: 0\n", "memories.rf_w_8b.size: must be > 0"},
      {"size over 2^50", "size: 4194304", "size: 2251799813685248",
       "memories.sram_512KB.size: too large (limit 1125899906842624 bits)"},
      {"missing r_cost", "    r_cost: 0.008\n", "",
       "memories.rf_w_8b: missing required key 'r_cost': pJ per read of r_bw bits (snnplan does "
       "not run CACTI)"},
      {"cacti", "auto_cost_extraction: False", "auto_cost_extraction: True",
       "memories.rf_w_8b.auto_cost_extraction: snnplan does not run CACTI"},
      {"no bandwidth", "    r_bw: 8\n", "",
       "memories.rf_w_8b.ports: no read bandwidth: give r_bw, or a read (or read_write) port"},
      {"operand", "operands: [I2]", "operands: [W]",
       "memories.rf_w_8b.operands[0]: 'W' is not a ZigZag memory operand (I1, I2, O)"},
      {"operand twice", "operands: [I2]", "operands: [I2, I2]",
       "memories.rf_w_8b.operands[1]: operand I2 listed twice"},
      {"served dimension", "served_dimensions: [D2]\n\n  rf_o_16b",
       "served_dimensions: [D9]\n\n  rf_o_16b",
       "memories.rf_w_8b.served_dimensions[0]: 'D9' is not an array dimension"},
      {"dram first", "  rf_w_8b:", "  dram_early:\n    size: 8\n  rf_w_8b:",
       "memories.dram_early: off-chip DRAM must be the outermost (last) memory"},
      {"no dram", "  dram:", "  sram_top:",
       "memories.sram_top: the outermost memory is read as off-chip DRAM and must be named 'dram'"},
      {"dram lacks an operand", "    operands: [I1, I2, O]\n    ports:\n      - fh: rw_port_1",
       "    operands: [I1, O]\n    ports:\n      - fh: rw_port_1",
       "memories.dram.operands: off-chip DRAM must hold I1, I2 and O (I2 is missing)"},
      {"dram bandwidths", "    r_bw: 64\n    w_bw: 64", "    r_bw: 64\n    w_bw: 32",
       "memories.dram: r_bw 64 and w_bw 32 differ"},
      {"split global buffer", "    operands: [I1, I2, O]\n    ports:\n      - fh: w_port_1",
       "    operands: [I1, O]\n    ports:\n      - fh: w_port_1",
       "memories.sram_512KB.operands: the outermost on-chip memory is snnplan's global buffer and "
       "must hold I1, I2 and O; I2 tops out at rf_w_8b. snnplan plans one global buffer per core"},
      {"two loops on one dimension", "    - K, 16\n", "    - K, 8\n    - C, 2\n",
       "dataflows.D1[1]: a second loop unrolled on the same array dimension"},
      {"unrolling too large", "- K, 16", "- K, 32",
       "dataflows.D1[0]: unrolls K by 32 but array dimension D1 has size 16"},
      {"unknown array dimension", "  D2:\n    - OX, 8", "  D5:\n    - OX, 8",
       "dataflows.D5: not an array dimension (operational_array.dimensions: D1, D2)"},
      {"no dataflows", "dataflows:\n  D1:\n    - K, 16\n  D2:\n    - OX, 8\n", "",
       "missing required key 'dataflows': ZigZag takes the spatial unrolling from its mapping "
       "file"},
      {"imc", "  unit_area: 1 # unit\n", "  unit_area: 1 # unit\n  is_imc: true\n",
       "operational_array.is_imc: in-memory-computing arrays are not modelled"},
      {"energy twice", "  unit_area: 1 # unit\n",
       "  unit_area: 1 # unit\n  multiplier_energy: 0.1\n",
       "operational_array.multiplier_energy: given together with unit_energy"},
      {"precision length", "input_precision: [8, 4]", "input_precision: [8]",
       "operational_array.input_precision: expected [activation bits, weight bits]"},
      {"precision range", "input_precision: [8, 4]", "input_precision: [8, 0]",
       "operational_array.input_precision[1]: must be in 1..64 (bits)"},
      {"duplicate memory", "  rf_o_16b:", "  rf_w_8b:", "memories.rf_w_8b: duplicate key"},
      {"granularity larger than memory", "    min_r_granularity: 16\n",
       "    min_r_granularity: 32\n",
       "memories.rf_o_16b: minimum access granularity 32 bits is larger than the memory (16 bits)"},
  };
  for (const Refusal& c : cases) {
    SCOPED_TRACE(c.name);
    std::string text = base;
    if (*c.from == '\0') {
      text = c.to;
    } else {
      const size_t at = text.find(c.from);
      ASSERT_NE(at, std::string::npos) << c.from;
      text.replace(at, std::string(c.from).size(), c.to);
    }
    absl::StatusOr<Hardware> hw = FromZigZagYaml(text, "x.yaml");
    ASSERT_FALSE(hw.ok());
    EXPECT_THAT(Msg(hw.status()), StartsWith("x.yaml: "));
    EXPECT_THAT(Msg(hw.status()), HasSubstr(c.expected));
  }
}

TEST(ZigZagYaml, PortBandwidthRangeChecked) {
  std::string text = Read(kDir + "snn_core_ports.yaml");
  const std::string from = "        bandwidth_min: 64\n        bandwidth_max: 256";
  const size_t at = text.find(from);
  ASSERT_NE(at, std::string::npos);
  text.replace(at, from.size(), "        bandwidth_min: 512\n        bandwidth_max: 256");
  absl::StatusOr<Hardware> hw = FromZigZagYaml(text, "x.yaml");
  ASSERT_FALSE(hw.ok());
  EXPECT_THAT(Msg(hw.status()),
              HasSubstr("x.yaml: memories.sram_64KB_I.ports[0].bandwidth_min: larger than "
                        "bandwidth_max"));
}

TEST(ZigZagYaml, TooManyMemoriesRefused) {
  std::string text = "name: big\nmemories:\n";
  for (int i = 0; i < 70; ++i) text += "  m" + std::to_string(i) + ": {}\n";
  text += "operational_array: {unit_energy: 0.1, dimensions: [D1], sizes: [4]}\n";
  absl::StatusOr<Hardware> hw = FromZigZagYaml(text, "x.yaml");
  ASSERT_FALSE(hw.ok());
  EXPECT_THAT(Msg(hw.status()), HasSubstr("x.yaml: memories: more than 64 memories"));
}

TEST(ZigZagYaml, EmptyAndMissingFilesNameThePath) {
  absl::StatusOr<Hardware> empty = FromZigZagYaml(" \n", "e.yaml");
  ASSERT_FALSE(empty.ok());
  EXPECT_EQ(Msg(empty.status()), "e.yaml: empty file (expected a ZigZag accelerator YAML)");
  absl::StatusOr<Hardware> missing = LoadFile(kDir + "no_such_file.yaml");
  ASSERT_FALSE(missing.ok());
  EXPECT_THAT(Msg(missing.status()), HasSubstr("no_such_file.yaml: cannot open hardware file"));
}

TEST(ZigZagYaml, InputSizeIsBounded) {
  const std::string path = (std::filesystem::temp_directory_path() /
                            ("snnplan_big_" + std::to_string(::getpid()) + ".yaml"))
                               .string();
  {
    std::ofstream out(path);
    out << "name: big\n";
  }
  std::filesystem::resize_file(path, 17 << 20);  // sparse: 17 MiB > the 16 MiB limit
  absl::StatusOr<Hardware> hw = LoadFile(path);
  std::filesystem::remove(path);
  ASSERT_FALSE(hw.ok());
  EXPECT_THAT(Msg(hw.status()), HasSubstr("exceeds the limit of 16777216 bytes"));
}

}  // namespace
}  // namespace snnplan::hw
