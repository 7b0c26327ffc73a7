// Measured spike activity (the file `snnplan run --activity` writes) and the
// rules by which hardware that declares it exploits activity prices it:
// zero-skipping of synaptic operations and compressed spike encodings on
// links (docs/costmodel.md, "Activity"; docs/hardware.md, "Spike encoding").
// A library, not the CLI, so every front end reads the file the same way.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "nlohmann/json.hpp"
#include "snnplan/hwdesc.h"
#include "snnplan/ir.h"

namespace snnplan::cost {

inline constexpr char kActivityFormat[] = "snnplan-activity";
inline constexpr int64_t kActivityVersion = 1;

// One layer's entry: how many of the values its inputs carried were non-zero,
// over every sample and timestep the file was measured on.
struct LayerInputActivity {
  double input_density = 1.0;  // input_nonzero / input_elements, in [0, 1]
  int64_t input_nonzero = 0;
  int64_t input_elements = 0;
  std::vector<double> per_timestep;  // the same ratio per timestep (recorded, not priced)
};

// A checked activity file.
struct ActivityFile {
  std::string file;          // the file's name, without its directory
  std::string sha256;        // hex SHA-256 of the file's bytes
  std::string model;         // the model it was measured on, as the file names it
  std::string model_sha256;  // ... and that model's SHA-256, as the file states it
  int64_t samples = 0;
  int64_t timesteps = 0;
  std::map<std::string, LayerInputActivity>
      layers;  // by IR layer name; all are layers of the workload
};

// Parses an activity file's `text` and checks every value against the
// workload it will price: format and version, types and ranges, counts that
// agree with the density, per_timestep lengths, and layer names (an unknown
// name lists the known ones). Errors read "<source>: <JSON path>: <what>",
// e.g. `act.json: layers."conv1".input_density: must be a number in [0, 1]`.
// `file` is set to `source`'s file name, `sha256` to the text's digest.
absl::StatusOr<ActivityFile> ParseActivity(std::string_view text, const std::string& source,
                                           const ir::Workload& w);
// Reads `path` (a regular JSON file, through ReadInputFile) and parses it.
absl::StatusOr<ActivityFile> ReadActivityFile(const std::string& path, const ir::Workload& w);

// InvalidArgument "<where>: no layer named '<name>' in <model> (its layers: a, b, ...)".
absl::Status UnknownLayerError(const std::string& where, const std::string& name,
                               const ir::Workload& w);

// The densities pricing uses, per layer id of the workload.
struct LayerDensities {
  // Measured density of each layer's input values; 1 where the file has no entry.
  std::vector<double> input;
  // Density of each layer's output values: the input density of a consumer
  // that reads this layer alone (the first such in layer order); 1 where no
  // consumer does (e.g. outputs read only by joins, or network outputs).
  std::vector<double> output;
  // The network input: the input density of the first layer reading only it.
  double network_input = 1.0;
};
// Dense (all 1) when `activity` is null.
LayerDensities DensitiesOf(const ActivityFile* activity, const ir::Workload& w);

// Elements of one timestep's map of a layer's input (channels x rows x
// columns, one sample) and of its output (G x K x OY x OX).
int64_t InputMapElements(const ir::Layer& l);
int64_t OutputMapElements(const ir::Layer& l);
// Address bits of one event in a map of `map_elements`: the declared width,
// or ceil(log2(map_elements)) (at least 1) when the hardware derives it.
int AddressBits(const hw::SpikeEncoding& e, int64_t map_elements);
// InvalidArgument when a declared address width cannot address the map.
absl::Status CheckAddressBits(const hw::SpikeEncoding& e, int64_t map_elements,
                              const std::string& what);

// The encoding rule, per element of `value_bits` with `density` non-zero:
//   dense          value_bits
//   bitmap         1 + density x value_bits      (1-bit spikes: 1; the bitmap is the data)
//   address_event  density x (address_bits + value_bits)   (1-bit spikes: density x address_bits)
double EncodedBitsPerElement(const hw::SpikeEncoding& e, int value_bits, double density,
                             int address_bits);
// Bits one link transfer of `elements` values moves: the rule rounded up to
// a whole bit, and never more than dense (the link falls back to dense
// framing when that is smaller).
int64_t LinkBits(const hw::SpikeEncoding& e, int64_t elements, int value_bits, double density,
                 int address_bits);
// LinkBits / dense bits, without rounding (what the cost model scales DRAM
// accesses of features by).
double LinkFraction(const hw::SpikeEncoding& e, int value_bits, double density, int address_bits);

// What a plan or cost report records about the activity it priced: the
// file's name, SHA-256, model and counts, what the hardware exploits, and
// per layer with a measured or derived value its input and output density.
nlohmann::json ActivityRecordJson(const ActivityFile& a, const LayerDensities& d,
                                  const ir::Workload& w, const hw::Hardware& hw);

}  // namespace snnplan::cost
