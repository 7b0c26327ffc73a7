// The activity file reader (every value checked, errors with the JSON path),
// the per-layer densities pricing uses, and the link encoding rule.
#include "snnplan/activity.h"

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <set>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "snnplan/input_file.h"
#include "snnplan/sha256.h"

namespace snnplan::cost {
namespace {

using nlohmann::json;

// input_density must equal input_nonzero / input_elements this closely
// (writers print full precision; this also accepts 6 decimals).
constexpr double kDensityTolerance = 1e-6;
// A name list in an error stops after this many names.
constexpr size_t kMaxListedNames = 100;

// A JSON value with its path, for errors like "layers."c1".input_density: ...".
struct Field {
  const json& value;
  std::string path;

  absl::Status Error(const std::string& what) const {
    return absl::InvalidArgumentError(
        absl::StrCat(path.empty() ? "(top level)" : path, ": ", what));
  }
  Field Member(const std::string& key, bool quote = false) const {
    const std::string name = quote ? json(key).dump() : key;
    return {value.at(key), path.empty() ? name : absl::StrCat(path, ".", name)};
  }
};

absl::Status ExpectKeys(const Field& f, const std::vector<std::string>& required,
                        const std::vector<std::string>& optional = {}) {
  if (!f.value.is_object())
    return f.Error(absl::StrCat("expected an object, got ", f.value.type_name()));
  for (const auto& [key, unused] : f.value.items())
    if (std::find(required.begin(), required.end(), key) == required.end() &&
        std::find(optional.begin(), optional.end(), key) == optional.end()) {
      std::vector<std::string> allowed = required;
      allowed.insert(allowed.end(), optional.begin(), optional.end());
      return absl::InvalidArgumentError(
          absl::StrCat(f.path.empty() ? key : absl::StrCat(f.path, ".", key),
                       ": unknown key (allowed: ", absl::StrJoin(allowed, ", "), ")"));
    }
  for (const std::string& key : required)
    if (!f.value.contains(key))
      return absl::InvalidArgumentError(absl::StrCat(
          f.path.empty() ? key : absl::StrCat(f.path, ".", key), ": missing required field"));
  return absl::OkStatus();
}

absl::StatusOr<int64_t> NonNegativeInteger(const Field& f) {
  if (f.value.is_number_unsigned()) {
    if (f.value.get<uint64_t>() > static_cast<uint64_t>(int64_t{1} << 62))
      return f.Error("integer too large");
    return static_cast<int64_t>(f.value.get<uint64_t>());
  }
  if (!f.value.is_number_integer() || f.value.get<int64_t>() < 0)
    return f.Error(absl::StrCat("must be an integer >= 0, got ", f.value.dump()));
  return f.value.get<int64_t>();
}

absl::StatusOr<double> Fraction(const Field& f) {
  const bool ok = f.value.is_number() && f.value.get<double>() >= 0 && f.value.get<double>() <= 1;
  if (!ok) return f.Error(absl::StrCat("must be a number in [0, 1], got ", f.value.dump()));
  return f.value.get<double>();
}

absl::StatusOr<std::string> String(const Field& f) {
  if (!f.value.is_string()) return f.Error(absl::StrCat("expected a string, got ", f.value.dump()));
  return f.value.get<std::string>();
}

// Format and version first: another version may have other fields.
absl::Status CheckFormatAndVersion(const Field& root) {
  if (absl::Status s = ExpectKeys(root, {"format", "version"},
                                  {"model", "model_sha256", "samples", "timesteps", "layers"});
      !s.ok())
    return s;
  const Field format = root.Member("format");
  if (!format.value.is_string() || format.value.get<std::string>() != kActivityFormat)
    return format.Error(
        absl::StrCat("expected \"", kActivityFormat, "\", got ", format.value.dump()));
  const Field version = root.Member("version");
  if (!version.value.is_number_integer() || version.value.get<int64_t>() != kActivityVersion)
    return version.Error(absl::StrCat("unsupported version ", version.value.dump(),
                                      " (this snnplan reads version ", kActivityVersion, ")"));
  return absl::OkStatus();
}

absl::Status CheckHeader(const Field& root, ActivityFile& a) {
  if (absl::Status s = CheckFormatAndVersion(root); !s.ok()) return s;
  if (absl::Status s = ExpectKeys(
          root, {"format", "version", "model", "model_sha256", "samples", "timesteps", "layers"});
      !s.ok())
    return s;
  absl::StatusOr<std::string> model = String(root.Member("model"));
  if (!model.ok()) return model.status();
  absl::StatusOr<std::string> sha = String(root.Member("model_sha256"));
  if (!sha.ok()) return sha.status();
  absl::StatusOr<int64_t> samples = NonNegativeInteger(root.Member("samples"));
  if (!samples.ok()) return samples.status();
  if (*samples < 1) return root.Member("samples").Error("must be >= 1");
  absl::StatusOr<int64_t> timesteps = NonNegativeInteger(root.Member("timesteps"));
  if (!timesteps.ok()) return timesteps.status();
  if (*timesteps < 1) return root.Member("timesteps").Error("must be >= 1");
  a.model = *model;
  a.model_sha256 = *sha;
  a.samples = *samples;
  a.timesteps = *timesteps;
  return absl::OkStatus();
}

// per_timestep: one ratio per timestep (one for layers that run once, after
// a mean over time), each in [0, 1].
absl::StatusOr<std::vector<double>> PerTimestep(const Field& f, int64_t timesteps) {
  if (!f.value.is_array())
    return f.Error(absl::StrCat("expected an array, got ", f.value.type_name()));
  const auto n = static_cast<int64_t>(f.value.size());
  if (n != timesteps && n != 1)
    return f.Error(absl::StrCat("expected ", timesteps,
                                " values (one per timestep; 1 for a layer after a mean over "
                                "time), got ",
                                n));
  std::vector<double> out;
  for (int64_t t = 0; t < n; ++t) {
    absl::StatusOr<double> d =
        Fraction({f.value.at(static_cast<size_t>(t)), absl::StrCat(f.path, "[", t, "]")});
    if (!d.ok()) return d.status();
    out.push_back(*d);
  }
  return out;
}

absl::StatusOr<LayerInputActivity> ParseLayer(const Field& f, int64_t timesteps) {
  if (absl::Status s =
          ExpectKeys(f, {"input_density", "input_nonzero", "input_elements", "per_timestep"});
      !s.ok())
    return s;
  LayerInputActivity l;
  absl::StatusOr<double> density = Fraction(f.Member("input_density"));
  if (!density.ok()) return density.status();
  absl::StatusOr<int64_t> nonzero = NonNegativeInteger(f.Member("input_nonzero"));
  if (!nonzero.ok()) return nonzero.status();
  absl::StatusOr<int64_t> elements = NonNegativeInteger(f.Member("input_elements"));
  if (!elements.ok()) return elements.status();
  if (*nonzero > *elements)
    return f.Member("input_nonzero")
        .Error(absl::StrCat(*nonzero, " exceeds input_elements ", *elements));
  const double ratio =
      *elements > 0 ? static_cast<double>(*nonzero) / static_cast<double>(*elements) : 0.0;
  if (std::fabs(*density - ratio) > kDensityTolerance)
    return f.Member("input_density")
        .Error(absl::StrCat(*density, " disagrees with input_nonzero / input_elements = ", *nonzero,
                            " / ", *elements, " = ", ratio));
  absl::StatusOr<std::vector<double>> steps = PerTimestep(f.Member("per_timestep"), timesteps);
  if (!steps.ok()) return steps.status();
  l.input_density = *density;
  l.input_nonzero = *nonzero;
  l.input_elements = *elements;
  l.per_timestep = *std::move(steps);
  return l;
}

absl::Status ParseLayers(const Field& f, const ir::Workload& w, ActivityFile& a) {
  if (!f.value.is_object())
    return f.Error(
        absl::StrCat("expected an object of layer name -> activity, got ", f.value.type_name()));
  std::set<std::string_view> names;  // the workload's layer names (models have thousands)
  for (const ir::Layer& l : w.layers) names.insert(l.name);
  for (const auto& [name, unused] : f.value.items()) {
    const Field layer = f.Member(name, /*quote=*/true);
    if (names.count(name) == 0) return UnknownLayerError(layer.path, name, w);
    absl::StatusOr<LayerInputActivity> l = ParseLayer(layer, a.timesteps);
    if (!l.ok()) return l.status();
    a.layers[name] = *std::move(l);
  }
  return absl::OkStatus();
}

// Whether a layer's measured input is one tensor: its single input (a
// neuron summing several currents was measured on those layers instead).
bool ReadsOneTensor(const ir::Layer& consumer) {
  return consumer.inputs.size() == 1 && consumer.neuron.current_layers.size() <= 1;
}

int64_t CeilLog2(int64_t n) {
  int64_t bits = 0;
  while (bits < 63 && (int64_t{1} << bits) < n) ++bits;
  return bits;
}

}  // namespace

absl::Status UnknownLayerError(const std::string& where, const std::string& name,
                               const ir::Workload& w) {
  std::vector<std::string> names;
  for (const ir::Layer& l : w.layers) {
    if (names.size() == kMaxListedNames) break;
    names.push_back(l.name);
  }
  std::string list = absl::StrJoin(names, ", ");
  if (w.layers.size() > kMaxListedNames)
    absl::StrAppend(&list, ", ... and ", w.layers.size() - kMaxListedNames,
                    " more (`snnplan import` lists them all)");
  return absl::InvalidArgumentError(absl::StrCat(where, ": no layer named '", name, "' in ",
                                                 w.model_file.empty() ? "the model" : w.model_file,
                                                 " (its layers: ", list, ")"));
}

absl::StatusOr<ActivityFile> ParseActivity(std::string_view text, const std::string& source,
                                           const ir::Workload& w) {
  auto with_source = [&](const absl::Status& s) {
    return absl::Status(s.code(), absl::StrCat(source, ": ", s.message()));
  };
  const json doc = json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (doc.is_discarded())
    return with_source(absl::InvalidArgumentError("invalid JSON (expected an activity file)"));
  ActivityFile a;
  a.file = std::filesystem::path(source).filename().string();
  a.sha256 = Sha256Hex(text);
  const Field root{doc, ""};
  if (!doc.is_object())
    return with_source(root.Error(absl::StrCat("expected an object, got ", doc.type_name())));
  if (absl::Status s = CheckHeader(root, a); !s.ok()) return with_source(s);
  if (absl::Status s = ParseLayers(root.Member("layers"), w, a); !s.ok()) return with_source(s);
  return a;
}

absl::StatusOr<ActivityFile> ReadActivityFile(const std::string& path, const ir::Workload& w) {
  absl::StatusOr<std::string> text = ReadInputFile(path, "JSON activity file", kMaxJsonFileBytes);
  if (!text.ok()) return text.status();
  return ParseActivity(*text, path, w);
}

LayerDensities DensitiesOf(const ActivityFile* activity, const ir::Workload& w) {
  LayerDensities d;
  d.input.assign(w.layers.size(), 1.0);
  d.output.assign(w.layers.size(), 1.0);
  if (activity == nullptr) return d;
  std::vector<bool> output_known(w.layers.size(), false);
  bool input_known = false;
  for (size_t l = 0; l < w.layers.size(); ++l) {
    const ir::Layer& layer = w.layers[l];
    auto it = activity->layers.find(layer.name);
    if (it == activity->layers.end()) continue;
    d.input[l] = it->second.input_density;
    if (!ReadsOneTensor(layer)) continue;
    const int producer = layer.inputs.front();
    if (producer == ir::kNetworkInput && !input_known) {
      d.network_input = it->second.input_density;
      input_known = true;
    } else if (producer >= 0 && !output_known[producer]) {
      d.output[producer] = it->second.input_density;
      output_known[producer] = true;
    }
  }
  return d;
}

int64_t InputMapElements(const ir::Layer& l) { return l.InputChannels() * l.in_y * l.in_x; }
int64_t OutputMapElements(const ir::Layer& l) {
  return l.dims.G * l.dims.K * l.dims.OY * l.dims.OX;
}

int AddressBits(const hw::SpikeEncoding& e, int64_t map_elements) {
  if (e.address_bits > 0) return e.address_bits;
  return static_cast<int>(std::max<int64_t>(1, CeilLog2(map_elements)));
}

absl::Status CheckAddressBits(const hw::SpikeEncoding& e, int64_t map_elements,
                              const std::string& what) {
  if (e.format != hw::SpikeFormat::kAddressEvent || e.address_bits == 0) return absl::OkStatus();
  const int64_t needed = std::max<int64_t>(1, CeilLog2(map_elements));
  if (e.address_bits >= needed) return absl::OkStatus();
  return absl::InvalidArgumentError(
      absl::StrCat("hardware spike_encoding.address_bits ", e.address_bits, " cannot address the ",
                   map_elements, " elements of ", what, " (needs ", needed, ")"));
}

double EncodedBitsPerElement(const hw::SpikeEncoding& e, int value_bits, double density,
                             int address_bits) {
  const double payload = value_bits > 1 ? value_bits : 0;  // 1-bit spikes carry no value
  switch (e.format) {
    case hw::SpikeFormat::kBitmap:
      return 1.0 + density * payload;
    case hw::SpikeFormat::kAddressEvent:
      return density * (address_bits + payload);
    case hw::SpikeFormat::kDense:
      break;
  }
  return value_bits;
}

int64_t LinkBits(const hw::SpikeEncoding& e, int64_t elements, int value_bits, double density,
                 int address_bits) {
  const int64_t dense = elements * value_bits;
  if (e.format == hw::SpikeFormat::kDense) return dense;
  const double encoded =
      static_cast<double>(elements) * EncodedBitsPerElement(e, value_bits, density, address_bits);
  // Within 1e-6 bit of a whole bit counts as that bit: float noise in
  // density x elements never adds one.
  const double rounded = std::ceil(encoded - 1e-6);
  return rounded >= static_cast<double>(dense) ? dense : static_cast<int64_t>(rounded);
}

double LinkFraction(const hw::SpikeEncoding& e, int value_bits, double density, int address_bits) {
  if (e.format == hw::SpikeFormat::kDense || value_bits <= 0) return 1.0;
  return std::min(1.0, EncodedBitsPerElement(e, value_bits, density, address_bits) / value_bits);
}

nlohmann::json ActivityRecordJson(const ActivityFile& a, const LayerDensities& d,
                                  const ir::Workload& w, const hw::Hardware& hw) {
  bool zero_skipping = false, sparse_speedup = false;
  for (const hw::Core& c : hw.cores) {
    zero_skipping = zero_skipping || c.operational_array.zero_skipping;
    sparse_speedup = sparse_speedup || c.operational_array.sparse_speedup;
  }
  json layers = json::object();
  for (size_t l = 0; l < w.layers.size() && l < d.input.size(); ++l)
    if (a.layers.count(w.layers[l].name) > 0 || d.output[l] != 1.0)
      layers[w.layers[l].name] = {{"input_density", d.input[l]}, {"output_density", d.output[l]}};
  return {{"file", a.file},
          {"sha256", a.sha256},
          {"model", a.model},
          {"model_sha256", a.model_sha256},
          {"samples", a.samples},
          {"timesteps", a.timesteps},
          {"network_input_density", d.network_input},
          {"hardware_exploits",
           {{"zero_skipping", zero_skipping},
            {"sparse_speedup", sparse_speedup},
            {"spike_encoding", std::string(hw::SpikeFormatName(hw.spike_encoding.format))}}},
          {"layers", layers}};
}

}  // namespace snnplan::cost
