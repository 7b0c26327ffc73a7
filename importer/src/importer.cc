// ImportFile / ImportBytes: parse and validate with libonnx, bind input
// shapes, recognise neurons, build layers, then derive T, batch, blocks and
// precisions.
#include "snnplan/importer.h"

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <sstream>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "external_data.h"
#include "finalize.h"
#include "graph.h"
#include "layer_builder.h"
#include "neurons.h"
#include "nir_hdf5.h"
#include "nir_import.h"
#include "onnx/checker.h"
#include "snnplan/input_file.h"
#include "snnplan/sha256.h"
#include "unshare.h"

namespace snnplan::importer {
namespace {

using internal::Scope;
using internal::Shape;

// Every op outside the table (and every custom domain) is refused up
// front, naming the nodes.
void CollectUnsupported(const onnx::GraphProto& g, std::vector<std::string>* bad) {
  for (const auto& n : g.node()) {
    const std::string& d = n.domain();
    std::string name = n.name().empty() ? "<unnamed>" : n.name();
    if (!d.empty() && d != "ai.onnx")
      bad->push_back(absl::StrCat("unsupported op ", d, "::", n.op_type(), " (custom domain '", d,
                                  "') at node ", name));
    else if (!internal::FindOp(n))
      bad->push_back(absl::StrCat("unsupported op ", n.op_type(), " at node ", name));
    for (const auto& a : n.attribute())
      if (a.has_g()) CollectUnsupported(a.g(), bad);
  }
}

absl::Status CheckOps(const onnx::ModelProto& m) {
  std::vector<std::string> bad;
  CollectUnsupported(m.graph(), &bad);
  if (bad.empty()) return absl::OkStatus();
  size_t n = bad.size();
  if (n > 4) bad.resize(4);
  return absl::InvalidArgumentError(
      absl::StrCat(absl::StrJoin(bad, "; "), n > 4 ? absl::StrCat("; and ", n - 4, " more") : ""));
}

// Constructs the IR cannot express, named in the user's terms before any
// op-level error (a self-attention block is refused at its MatMul of two
// activations, not at the Transpose that precedes it).
absl::Status CheckConstructs(const Scope& main) {
  for (int n = 0; n < main.num_nodes(); ++n) {
    const onnx::NodeProto& node = main.node(n);
    const std::string& op = node.op_type();
    if ((op == "MatMul" || op == "Gemm") && node.input_size() >= 2) {
      int a = main.inputs(n)[0], b = main.inputs(n)[1];
      if (a >= 0 && b >= 0 && !main.IsConst(a) && !main.IsConst(b))
        return absl::InvalidArgumentError(absl::StrCat(
            op, " of two activations at node ", internal::NodeLabel(node),
            ": spiking self-attention (any product of two activations) is not supported"));
    }
    if (op == "LSTM" || op == "GRU" || op == "RNN")
      return absl::InvalidArgumentError(absl::StrCat(
          "unsupported op ", op, " at node ", node.name().empty() ? "<unnamed>" : node.name(),
          ": recurrent ANN layers are not spiking neurons"));
  }
  return absl::OkStatus();
}

// Protobuf does not validate proto2 `string` fields; names flow into JSON
// (IR, manifests), which must be UTF-8, so malformed ones are refused here.
bool IsValidUtf8(std::string_view s) {
  size_t i = 0;
  while (i < s.size()) {
    auto c = static_cast<unsigned char>(s[i]);
    int extra = c < 0x80           ? 0
                : (c >> 5) == 0x6  ? 1
                : (c >> 4) == 0xE  ? 2
                : (c >> 3) == 0x1E ? 3
                                   : -1;
    if (extra < 0 || i + extra >= s.size()) return false;
    uint32_t cp = extra == 0 ? c : c & (0x3F >> extra);
    for (int k = 1; k <= extra; ++k) {
      auto cc = static_cast<unsigned char>(s[i + k]);
      if ((cc & 0xC0) != 0x80) return false;
      cp = (cp << 6) | (cc & 0x3F);
    }
    static constexpr uint32_t kMin[] = {0, 0x80, 0x800, 0x10000};
    if (cp < kMin[extra] || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return false;
    i += extra + 1;
  }
  return true;
}

absl::Status CheckNamesUtf8(const onnx::GraphProto& g) {
  auto bad = [](const std::string& what, const std::string& s) {
    return absl::InvalidArgumentError(absl::StrCat(what, " is not valid UTF-8 (", s.size(),
                                                   " bytes); rename it in the exporter"));
  };
  if (!IsValidUtf8(g.name())) return bad("graph name", g.name());
  for (const auto* list : {&g.input(), &g.output(), &g.value_info()})
    for (const auto& vi : *list)
      if (!IsValidUtf8(vi.name())) return bad("a graph input/output/value_info name", vi.name());
  for (const auto& t : g.initializer())
    if (!IsValidUtf8(t.name())) return bad("an initializer name", t.name());
  for (int i = 0; i < g.node_size(); ++i) {
    const auto& n = g.node(i);
    std::string where =
        absl::StrCat("node #", i, " (op ", IsValidUtf8(n.op_type()) ? n.op_type() : "?", ")");
    if (!IsValidUtf8(n.name())) return bad(absl::StrCat("the name of ", where), n.name());
    if (!IsValidUtf8(n.op_type()) || !IsValidUtf8(n.domain()))
      return bad(absl::StrCat("the op type or domain of ", where), n.op_type());
    for (const auto* list : {&n.input(), &n.output()})
      for (const auto& t : *list)
        if (!IsValidUtf8(t)) return bad(absl::StrCat("a tensor name of ", where), t);
    for (const auto& a : n.attribute())
      if (a.has_g())
        if (absl::Status s = CheckNamesUtf8(a.g()); !s.ok()) return s;
  }
  return absl::OkStatus();
}

absl::StatusOr<onnx::ModelProto> Parse(std::string_view bytes) {
  if (bytes.empty()) return absl::InvalidArgumentError("empty file: not an ONNX model");
  onnx::ModelProto m;
  if (bytes.size() > static_cast<size_t>(INT32_MAX) ||
      !m.ParseFromArray(bytes.data(), static_cast<int>(bytes.size())))
    return absl::InvalidArgumentError(
        "not an ONNX model: protobuf parse error (truncated or corrupt file?)");
  if (!m.has_graph() || m.ir_version() <= 0 || m.graph().node_size() == 0)
    return absl::InvalidArgumentError("not an ONNX model: no graph or no ir_version");
  if (absl::Status s = CheckNamesUtf8(m.graph()); !s.ok()) return s;
  return m;
}

enum class SymbolicAxis { kUnknown, kTime, kBatch };

// The axis a symbolic dim's name stands for: "batch", "batch_size", "N",
// "B" are the batch; "T", "time", "timesteps", "steps", "seq_len" time.
SymbolicAxis AxisNamed(const std::string& name) {
  const std::string n = absl::AsciiStrToLower(name);
  if (n == "n" || n == "b" || absl::StrContains(n, "batch")) return SymbolicAxis::kBatch;
  if (n == "t" || absl::StrContains(n, "time") || absl::StrContains(n, "step") ||
      absl::StrContains(n, "seq"))
    return SymbolicAxis::kTime;
  return SymbolicAxis::kUnknown;
}

bool FeedsOnlyArithmetic(const Scope& s, int id) {
  const std::vector<int>& cons = s.value(id).consumers;
  return !cons.empty() && std::all_of(cons.begin(), cons.end(), [&](int n) {
    const internal::OpInfo* info = s.info(n);
    return info && (info->role == internal::OpRole::kElementwise || info->role == internal::OpRole::kCompare);
  });
}

// Binds symbolic dims (T, batch) and --input-shape overrides. Inputs that
// only feed neuron arithmetic (membranes of single-step exports) follow the
// new shapes when an input shape is overridden.
absl::Status BindInputs(const onnx::GraphProto& g, const ImportOptions& o, Scope* s) {
  std::map<std::string, std::vector<int64_t>> pending = o.input_shapes;
  for (const auto& in : g.input()) {
    int id = s->Id(in.name());
    if (id < 0 || !s->value(id).graph_input) continue;
    if (!in.type().has_tensor_type())
      return absl::InvalidArgumentError(absl::StrCat("input ", in.name(), " is not a tensor"));
    const auto& dims = in.type().tensor_type().shape().dim();
    int rank = dims.size();
    // --input-shape gives the trailing dims; those need no other rule.
    auto override_it = pending.find(in.name());
    const int overridden_from =
        override_it == pending.end() ? rank : rank - static_cast<int>(override_it->second.size());
    Shape shape;
    for (int i = 0; i < rank; ++i) {
      const auto& d = dims[i];
      if (i >= overridden_from) {
        shape.push_back(0);  // replaced below
        continue;
      }
      if (d.has_dim_value()) {
        if (d.dim_value() < 0)
          return absl::InvalidArgumentError(absl::StrCat("input ", in.name(), " dimension ", i,
                                                         " is negative (", d.dim_value(), ")"));
        shape.push_back(d.dim_value());
        continue;
      }
      std::string what = absl::StrCat("input ", in.name(), " dimension ", i, " ('", d.dim_param(),
                                      "') is symbolic");
      // What the exporter named the axis decides first (dynamic_axes
      // {1: 'batch'} on a time-major [T, B, F] input); else its position:
      // [T, B, C, H, W] for rank 5, the leading axis otherwise.
      const SymbolicAxis named = AxisNamed(d.dim_param());
      bool is_t = named == SymbolicAxis::kTime || (named == SymbolicAxis::kUnknown && rank == 5 && i == 0);
      bool is_b = named == SymbolicAxis::kBatch ||
                  (named == SymbolicAxis::kUnknown && ((rank == 5 && i == 1) || (rank < 5 && i == 0)));
      if (is_t && o.timesteps)
        shape.push_back(*o.timesteps);
      else if (is_b && o.batch)
        shape.push_back(*o.batch);
      else if (is_t)
        return absl::InvalidArgumentError(absl::StrCat(what, ": pin T with --timesteps N"));
      else if (is_b)
        return absl::InvalidArgumentError(absl::StrCat(what, ": pin the batch with --batch N"));
      else
        return absl::InvalidArgumentError(absl::StrCat(
            what, ": set it with --input-shape ", in.name(), "=D", i, ",...,D", rank - 1,
            " (the trailing dims from this one on)"));
    }
    if (auto it = pending.find(in.name()); it != pending.end()) {
      if (it->second.size() > shape.size())
        return absl::InvalidArgumentError(absl::StrCat("--input-shape ", in.name(), ": ",
                                                       it->second.size(), " dims for a rank-",
                                                       shape.size(), " input"));
      std::copy(it->second.begin(), it->second.end(), shape.end() - it->second.size());
      pending.erase(it);
    } else if (!o.input_shapes.empty() && FeedsOnlyArithmetic(*s, id)) {
      s->ForgetShape(id);
      continue;
    }
    s->SetInputShape(id, shape);
  }
  if (!pending.empty()) {
    std::vector<std::string> names;
    for (int id : s->graph_inputs()) names.push_back(s->value(id).name);
    return absl::InvalidArgumentError(absl::StrCat("--input-shape: the model has no input '",
                                                   pending.begin()->first,
                                                   "' (inputs: ", absl::StrJoin(names, ", "), ")"));
  }
  return absl::OkStatus();
}

int DefaultOpset(const onnx::ModelProto& m) {
  for (const auto& o : m.opset_import())
    if (o.domain().empty() || o.domain() == "ai.onnx") return static_cast<int>(o.version());
  return 0;
}

// Everything after parsing, on `model` (as exported or with static currents
// unshared). When `tensors` is not empty and the copies are not one step's
// current each, `*unshare_failed` gets the reason and the import fails.
absl::StatusOr<ir::Workload> ImportGraph(const onnx::ModelProto& model,
                                         const ImportOptions& options,
                                         const std::vector<internal::UnsharedTensor>& tensors,
                                         absl::Status* unshare_failed) {
  Scope main(model.graph(), nullptr, DefaultOpset(model));
  if (absl::Status s = BindInputs(model.graph(), options, &main); !s.ok()) return s;
  if (absl::Status s = main.Propagate(); !s.ok()) return s;
  if (absl::Status s = CheckConstructs(main); !s.ok()) return s;
  if (absl::Status s = CheckOps(model); !s.ok()) return s;
  absl::StatusOr<internal::ElementwiseAnalysis> ew = internal::AnalyzeElementwise(main);
  if (!ew.ok() && !tensors.empty()) *unshare_failed = ew.status();
  if (!ew.ok()) return ew.status();
  if (absl::Status s = internal::CheckUnshared(main, *ew, tensors); !s.ok()) {
    *unshare_failed = s;
    return s;
  }
  absl::StatusOr<internal::TimeInfo> time = internal::DeriveTime(main, *ew, options);
  if (!time.ok()) return time.status();
  absl::StatusOr<internal::BuiltGraph> built =
      internal::BuildLayers(main, *ew, time->timesteps, options.load_parameters);
  if (!built.ok()) return built.status();
  // The graph inputs a static current is computed from are given once and
  // read at every step.
  for (const internal::UnsharedTensor& u : tensors)
    for (const std::string& name : u.inputs) {
      const int id = main.Id(name);
      if (id >= 0 && std::count(built->network_inputs.begin(), built->network_inputs.end(), id) &&
          !std::count(built->static_inputs.begin(), built->static_inputs.end(), id))
        built->static_inputs.push_back(id);
    }
  return internal::Finalize(main, *time, std::move(*built), options);
}

absl::StatusOr<ir::Workload> Import(std::string_view bytes, const ImportOptions& options,
                                    const std::string& model_dir) {
  if (internal::HasHdf5Signature(bytes)) return internal::ImportNir(bytes, options);  // docs/nir.md
  if (options.dt_seconds)
    return absl::InvalidArgumentError("--dt applies to NIR files only (ONNX models are discrete in time)");
  absl::StatusOr<onnx::ModelProto> model = Parse(bytes);
  if (!model.ok()) return model.status();
  if (absl::Status s = internal::LoadExternalData(*model, model_dir); !s.ok()) return s;
  try {
    onnx::checker::check_model(*model);
  } catch (const std::exception& e) {
    return absl::InvalidArgumentError(absl::StrCat("ONNX checker: ", e.what()));
  }
  // Normalise before matching: a static input's current shared by every
  // unrolled step (snnTorch: `fc1(x)` in the loop over the same x) gets one
  // copy per step. The rewrite stands only when each copy is one step's
  // current of one neuron; otherwise the graph is read as exported.
  internal::Unshared unshared = internal::UnshareStaticCurrents(*model);
  if (unshared.tensors.empty()) return ImportGraph(*model, options, {}, nullptr);
  absl::Status unshare_failed;
  absl::StatusOr<ir::Workload> w =
      ImportGraph(unshared.model, options, unshared.tensors, &unshare_failed);
  if (w.ok() || unshare_failed.ok()) return w;
  absl::StatusOr<ir::Workload> plain = ImportGraph(*model, options, {}, nullptr);
  if (plain.ok()) return plain;
  return absl::Status(plain.status().code(),
                      absl::StrCat(plain.status().message(), " (", unshare_failed.message(), ")"));
}

// `model_dir`: where external data files are looked up ("" = none).
absl::StatusOr<ir::Workload> ImportFrom(std::string_view bytes, std::string_view source,
                                        const ImportOptions& options,
                                        const std::string& model_dir) {
  absl::StatusOr<ir::Workload> w = Import(bytes, options, model_dir);
  if (!w.ok())
    return absl::Status(w.status().code(),
                        absl::StrCat(std::string(source), ": ", w.status().message()));
  std::string src(source);
  w->model_file =
      src.substr(src.find_last_of('/') == std::string::npos ? 0 : src.find_last_of('/') + 1);
  // File names are bytes; the IR's JSON needs UTF-8.
  if (!IsValidUtf8(w->model_file))
    for (char& c : w->model_file)
      if (static_cast<unsigned char>(c) >= 0x80) c = '?';
  w->model_sha256 = Sha256Hex(bytes);
  return w;
}

}  // namespace

absl::StatusOr<ir::Workload> ImportBytes(std::string_view bytes, std::string_view source,
                                         const ImportOptions& options) {
  return ImportFrom(bytes, source, options, "");
}

absl::StatusOr<ir::Workload> ImportFile(const std::string& path, const ImportOptions& options) {
  absl::StatusOr<std::string> bytes = ReadInputFile(path, "model file", kMaxModelFileBytes);
  if (!bytes.ok()) return bytes.status();
  if (std::filesystem::path(path).extension() == ".nir" && !internal::HasHdf5Signature(*bytes))
    return absl::InvalidArgumentError(
        absl::StrCat(path, ": not a NIR file (a .nir file is HDF5; no HDF5 signature found)"));
  const std::string dir = std::filesystem::path(path).parent_path().string();
  return ImportFrom(*bytes, path, options, dir.empty() ? "." : dir);
}

}  // namespace snnplan::importer
