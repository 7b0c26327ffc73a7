// Several imported models as one deployment (docs/ir.md, "Several networks").
#include <algorithm>
#include <filesystem>
#include <optional>
#include <set>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "snnplan/importer.h"
#include "snnplan/sha256.h"

namespace snnplan::importer {

namespace {

// What every layer that reads the network input sees of it.
struct InputGeometry {
  int64_t channels = 0, rows = 0, cols = 0;
  int bits = 0;
  friend bool operator==(const InputGeometry&, const InputGeometry&) = default;
};

std::string Describe(const InputGeometry& g) {
  return absl::StrCat(g.channels, "x", g.rows, "x", g.cols, " at ", g.bits, " bit(s)");
}

std::string Shape(const std::vector<int64_t>& s) {
  return absl::StrCat("[", absl::StrJoin(s, ","), "]");
}

// The geometry of the network input as `w`'s readers see it; an error when
// two readers of one model disagree (the planner holds one input geometry).
absl::StatusOr<std::optional<InputGeometry>> InputOf(const ir::Workload& w) {
  std::optional<InputGeometry> g;
  for (const ir::Layer& l : w.layers) {
    if (std::find(l.inputs.begin(), l.inputs.end(), ir::kNetworkInput) == l.inputs.end()) continue;
    const InputGeometry here{l.InputChannels(), l.in_y, l.in_x, l.precision.input_bits};
    if (g && !(*g == here))
      return absl::InvalidArgumentError(
          absl::StrCat(w.model_file, ": layers read the network input as ", Describe(*g),
                       " and as ", Describe(here), "; one deployment plans one input geometry"));
    g = here;
  }
  return g;
}

std::vector<std::vector<int64_t>> InputShapes(const ir::Workload& w) {
  std::vector<std::vector<int64_t>> out;
  for (const ir::Binding& b : w.inputs)
    if (b.kind == ir::BindingKind::kNetworkInput) out.push_back(b.shape);
  return out;
}

std::string Stem(const std::string& file) {
  std::string stem = std::filesystem::path(file).stem().string();
  return stem.empty() ? "net" : stem;
}

}  // namespace

absl::StatusOr<ir::Workload> CombineWorkloads(std::vector<ir::Workload> parts) {
  if (parts.size() < 2)
    return absl::InvalidArgumentError(
        absl::StrCat("combining models needs at least two, got ", parts.size()));
  const ir::Workload& first = parts.front();
  absl::StatusOr<std::optional<InputGeometry>> first_input = InputOf(first);
  if (!first_input.ok()) return first_input.status();
  for (size_t i = 1; i < parts.size(); ++i) {
    const ir::Workload& w = parts[i];
    if (!w.networks.empty())
      return absl::InvalidArgumentError(
          absl::StrCat(w.model_file, ": is already a combination of several models"));
    if (w.timesteps != first.timesteps)
      return absl::InvalidArgumentError(
          absl::StrCat("models of one deployment run the same timesteps: ", first.model_file,
                       " has T=", first.timesteps, ", ", w.model_file, " has T=", w.timesteps,
                       " (--timesteps binds T only where the export leaves it symbolic)"));
    if (w.batch != first.batch)
      return absl::InvalidArgumentError(
          absl::StrCat("models of one deployment run the same batch: ", first.model_file,
                       " has batch ", first.batch, ", ", w.model_file, " has batch ", w.batch));
    if (w.time_in_graph != first.time_in_graph)
      return absl::InvalidArgumentError(absl::StrCat(
          "models of one deployment are exported alike: ", first.model_file,
          first.time_in_graph ? " holds all T steps" : " is a single-step export", ", ",
          w.model_file, w.time_in_graph ? " holds all T steps" : " is a single-step export"));
    if (w.dt_seconds != first.dt_seconds)
      return absl::InvalidArgumentError(
          absl::StrCat("models of one deployment use the same time step: ", first.model_file,
                       " and ", w.model_file, " differ in --dt (NIR) or in being NIR at all"));
    absl::StatusOr<std::optional<InputGeometry>> input = InputOf(w);
    if (!input.ok()) return input.status();
    const bool same =
        (!*first_input && !*input) || (*first_input && *input && **first_input == **input);
    if (!same)
      return absl::InvalidArgumentError(absl::StrCat(
          "models of one deployment share the network input, and these read different inputs: ",
          first.model_file, " reads ", *first_input ? Describe(**first_input) : "none", ", ",
          w.model_file, " reads ", *input ? Describe(**input) : "none",
          " (the planner holds one network input per deployment)"));
    if (InputShapes(w) != InputShapes(first)) {
      std::vector<std::string> a, b;
      for (const auto& s : InputShapes(first)) a.push_back(Shape(s));
      for (const auto& s : InputShapes(w)) b.push_back(Shape(s));
      return absl::InvalidArgumentError(
          absl::StrCat("models of one deployment share the network input, and their graphs declare "
                       "different inputs: ",
                       first.model_file, " ", absl::StrJoin(a, " "), ", ", w.model_file, " ",
                       absl::StrJoin(b, " ")));
    }
  }

  ir::Workload out;
  out.timesteps = first.timesteps;
  out.batch = first.batch;
  out.time_in_graph = first.time_in_graph;
  out.dt_seconds = first.dt_seconds;
  std::set<std::string> names;
  std::vector<std::string> files, digests;
  for (size_t i = 0; i < parts.size(); ++i) {
    ir::Workload& w = parts[i];
    ir::Network n;
    const std::string stem = Stem(w.model_file);
    n.name = stem;
    for (int k = 2; names.count(n.name) > 0; ++k) n.name = absl::StrCat(stem, "_", k);
    names.insert(n.name);
    n.file = w.model_file;
    n.sha256 = w.model_sha256;
    const int layer_base = static_cast<int>(out.layers.size());
    n.first_layer = layer_base;
    n.end_layer = layer_base + static_cast<int>(w.layers.size());
    n.first_block = out.num_blocks;
    n.end_block = out.num_blocks + w.num_blocks;
    n.shares_input = i > 0;
    const std::string prefix = n.name + "/";
    for (ir::Layer& l : w.layers) {
      l.name = prefix + l.name;
      for (int& p : l.inputs)
        if (p != ir::kNetworkInput) p += layer_base;
      for (int& c : l.neuron.current_layers)
        if (c != ir::kNetworkInput) c += layer_base;
      l.block += out.num_blocks;
      out.layers.push_back(std::move(l));
    }
    for (ir::Binding b : w.inputs) {
      // The first model's network input is the deployment's; the others read it.
      if (i > 0 && b.kind == ir::BindingKind::kNetworkInput) continue;
      b.name = prefix + b.name;
      if (b.layer >= 0) b.layer += layer_base;
      out.inputs.push_back(std::move(b));
    }
    for (ir::Binding b : w.outputs) {
      b.name = prefix + b.name;
      if (b.layer >= 0) b.layer += layer_base;
      out.outputs.push_back(std::move(b));
    }
    out.num_blocks += w.num_blocks;
    files.push_back(w.model_file);
    digests.push_back(w.model_sha256);
    out.networks.push_back(std::move(n));
  }
  out.model_file = absl::StrJoin(files, "+");
  out.model_sha256 = Sha256Hex(absl::StrJoin(digests, ""));
  return out;
}

}  // namespace snnplan::importer
