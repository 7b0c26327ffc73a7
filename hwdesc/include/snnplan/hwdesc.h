// Hardware descriptions: accelerator cores (PE array, dataflow, memory
// hierarchy), off-chip DRAM, NoC and data precisions, as plain value types,
// plus the JSON loader/validator, the ZigZag YAML reader, built-in presets
// and global-buffer resizing.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "nlohmann/json.hpp"
#include "snnplan/ir.h"

namespace snnplan::hw {

// One array dimension of the PE array (e.g. D1 of size 32).
struct ArrayDimension {
  std::string name;  // "D1"
  int64_t size = 1;
  friend bool operator==(const ArrayDimension&, const ArrayDimension&) = default;
};

struct OperationalArray {
  std::vector<ArrayDimension> dimensions;
  double mac_energy_fj = 0;  // multi-bit multiply-accumulate, per operation
  double sop_energy_fj = 0;  // 1-bit synaptic operation, per operation
  // Energy of one neuron-state update (leak/fire/reset), priced once per
  // neuron per timestep. 0 = STEMS parity.
  double neuron_update_energy_fj = 0;
  // Whether the array skips zero spikes in time (latency scales with density).
  bool sparse_speedup = false;
  // Whether the array skips the synaptic operations of zero input spikes
  // without spending their energy: with measured activity (--activity) the
  // SOPs of spike-input layers are priced at the layer's input density.
  bool zero_skipping = false;
  int64_t TotalPes() const;
  friend bool operator==(const OperationalArray&, const OperationalArray&) = default;
};

// Spatial unrolling: array dimension `array_dim` unrolls loop `loop` by `size`.
struct SpatialUnroll {
  std::string array_dim;  // "D1"
  ir::Dim loop = ir::Dim::kK;
  int64_t size = 1;
  friend bool operator==(const SpatialUnroll&, const SpatialUnroll&) = default;
};

struct MemoryLevel {
  std::string name;
  int64_t size_bits = 0;  // capacity of one instance
  double read_energy_fj_per_bit = 0;
  double write_energy_fj_per_bit = 0;
  int64_t read_bw_bits_per_cycle = 0;
  int64_t write_bw_bits_per_cycle = 0;
  std::vector<ir::Operand> operands;  // operands this level holds
  // Array dimensions along which one instance is shared (broadcast/reduce);
  // instances = product of the other array dimensions' sizes.
  std::vector<std::string> served_dimensions;
  int64_t banks = 1;
  // Smallest unit of an access/allocation; transfers are rounded up to it.
  int64_t access_granularity_bits = 8;
  // Upper bound on bandwidth when `--sram` adds banks (0 = no bound).
  int64_t max_bw_bits_per_cycle = 0;

  bool Holds(ir::Operand op) const;
  friend bool operator==(const MemoryLevel&, const MemoryLevel&) = default;
};

// In-memory-computing crossbars of a core (JSON "imc", docs/hardware.md): the
// weights of its conv/linear layers stay in crossbar arrays of rows x columns
// cells, programmed once per deployment; a layer's synaptic sums are array
// activations (one input vector applied to the rows, every used column read
// through its ADC) instead of MACs/SOPs of the operational array.
struct ImcArrays {
  int64_t arrays = 0;     // crossbar arrays of the core; 0 = no crossbars
  int64_t rows = 0;       // word lines: reduction inputs (C*FY*FX) per array
  int64_t columns = 0;    // bit lines: cells per row
  int bits_per_cell = 1;  // a weight of b bits takes ceil(b / bits_per_cell) columns
  // Per array activation: crossbar read and row drivers for one input vector.
  double energy_fj_per_activation = 0;
  // Per column read in an activation: ADC, sample-and-hold, shift-and-add.
  double energy_fj_per_column_read = 0;
  int64_t cycles_per_activation = 1;
  // Programming one cell (once per deployment, not per inference).
  double write_energy_fj_per_cell = 0;
  bool present() const { return arrays > 0; }
  friend bool operator==(const ImcArrays&, const ImcArrays&) = default;
};

struct Core {
  int id = 0;
  OperationalArray operational_array;
  std::vector<SpatialUnroll> dataflows;
  std::vector<MemoryLevel> memories;  // innermost -> outermost
  ImcArrays imc;                      // crossbars; imc.present() = false: none
  // The outermost on-chip level: the global buffer that `--sram` resizes and
  // that the planner manages as a scratchpad. Levels below it count as
  // "local" in energy breakdowns, this one as "sram".
  const MemoryLevel& global_buffer() const { return memories.back(); }
  int64_t Instances(const MemoryLevel& level) const;
  friend bool operator==(const Core&, const Core&) = default;
};

struct Offchip {
  double read_energy_fj_per_bit = 0;
  double write_energy_fj_per_bit = 0;
  int64_t bw_bits_per_cycle = 0;  // one shared link, one transfer at a time
  friend bool operator==(const Offchip&, const Offchip&) = default;
};

struct NocPosition {
  int core = 0;
  int64_t x = 0;
  int64_t y = 0;
  friend bool operator==(const NocPosition&, const NocPosition&) = default;
};

struct Noc {
  std::vector<NocPosition> positions;  // mesh coordinates per core
  int64_t link_bw_bits_per_cycle = 0;
  double link_energy_fj_per_bit_per_hop = 0;
  friend bool operator==(const Noc&, const Noc&) = default;
};

// How feature tensors (spikes, and multi-bit features) travel over links
// (the DRAM link and the NoC); memories hold them dense. See
// docs/hardware.md, "Spike encoding", for the bit rule of each format.
enum class SpikeFormat { kDense, kBitmap, kAddressEvent };
std::string_view SpikeFormatName(SpikeFormat format);

struct SpikeEncoding {
  SpikeFormat format = SpikeFormat::kDense;
  // address_event: bits of one event's address; 0 = derived per tensor
  // (ceil(log2(elements of one timestep's map)), at least 1).
  int address_bits = 0;
  friend bool operator==(const SpikeEncoding&, const SpikeEncoding&) = default;
};

// The data precisions the hardware stores and computes with, in bits. They
// are the defaults of the import precisions (--weight-bits, ...), which a
// flag given on the command line (or a Python keyword) overrides. The
// defaults are the importer's (importer::ImportOptions), so a description
// that declares none plans as before.
struct Precision {
  int weight_bits = 4;        // W as stored
  int input_bits = 4;         // the (multi-bit) network input
  int feature_bits = 4;       // non-spiking features between layers
  int state_bits = 12;        // neuron state in memory
  int accumulator_bits = 16;  // partial sums / state in the PE register
  friend bool operator==(const Precision&, const Precision&) = default;
};

struct Hardware {
  std::string name;
  std::vector<Core> cores;
  Offchip offchip;
  Noc noc;
  SpikeEncoding spike_encoding;  // dense unless the description declares one
  double clock_hz = 0;           // clock frequency (JSON "clock_hz"); 0 = unknown
  Precision precision;
  // Index into `cores` of the core with this id, or -1.
  int CoreIndex(int core_id) const;
  // Mesh position of the core with this id, or nullptr (a loaded
  // description places every core).
  const NocPosition* PositionOf(int core_id) const;
  friend bool operator==(const Hardware&, const Hardware&) = default;
};

// Parses "131072", "128KiB", "1MiB", "4Kib" (bits), "16B"... into bits.
// Units: B/KiB/MiB/GiB are bytes (1 KiB = 1024 B); b/Kib/Mib/Gib are bits;
// a bare integer is bits. Sizes like "128KB"/"1MB" are read as KiB/MiB.
absl::StatusOr<int64_t> ParseSizeBits(std::string_view text);
// Bytes, for CLI values like `--sram 128KiB` where a bare number means bytes.
absl::StatusOr<int64_t> ParseSizeBytes(std::string_view text);

// Validates and builds a description from JSON; `source` names the input in
// error messages. Errors name the JSON path, e.g.
// "cores[0].memories[2].size_bits: must be > 0". Keys of the first format
// (r_cost, r_bw, size, ...) are read as aliases of the unit-named keys with
// their documented units (docs/hardware.md); giving both is an error.
absl::StatusOr<Hardware> FromJson(const nlohmann::json& doc, std::string_view source);
// Reads a ZigZag accelerator description (YAML, as ZigZag users write it)
// and converts it: pJ per access -> fJ per bit, the outermost `dram` memory
// -> offchip, I1/I2/O -> I/W/O (+ S with O). See docs/hardware.md, "ZigZag
// YAML". Errors name `source` and the YAML key path
// ("memories.sram_1MB.r_cost: ...").
absl::StatusOr<Hardware> FromZigZagYaml(std::string_view text, std::string_view source);
// A JSON file, or a ZigZag YAML file (name ending in .yaml or .yml).
absl::StatusOr<Hardware> LoadFile(const std::string& path);
// Names of the built-in presets.
std::vector<std::string> PresetNames();
absl::StatusOr<Hardware> Preset(std::string_view name);
// A preset name or a JSON/YAML file path.
absl::StatusOr<Hardware> Resolve(const std::string& preset_or_path);
// Resizes the global buffer of every core to `bytes`: banks follow the
// level's bank size, bandwidth grows per bank up to max_bw_bits_per_cycle.
absl::Status ResizeGlobalBuffer(Hardware& hw, int64_t bytes);

// The normalized description; FromJson(ToJson(h)) == h.
nlohmann::json ToJson(const Hardware& hw);
// A human-readable summary table.
std::string Describe(const Hardware& hw);

}  // namespace snnplan::hw
