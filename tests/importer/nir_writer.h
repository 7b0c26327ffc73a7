// Writes small NIR (.nir, HDF5) files for the NIR importer tests with the
// HDF5 C API, in the layout nir.write uses (nir/serialization.py): a string
// dataset "version", a group "node" with the top-level NIRGraph, per node a
// group with a variable-length string "type" and one dataset per field, a
// graph's "nodes" group and its [E, 2] string "edges". Tests build good
// graphs from the parameters they then expect, and bad ones on purpose.
#pragma once

#include <hdf5.h>
#include <unistd.h>

#include <cstdint>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include "gtest/gtest.h"
#include "snnplan/importer.h"

namespace snnplan::testing::nir {

using Shape = std::vector<int64_t>;

struct Node {
  Node() = default;
  explicit Node(std::string t) : type(std::move(t)) {}
  std::string type;
  std::map<std::string, std::pair<Shape, std::vector<double>>> floats;  // float64 datasets
  std::map<std::string, std::pair<Shape, std::vector<int64_t>>> ints;   // int64 datasets
  std::map<std::string, std::string> strings;                            // scalar strings
  std::vector<std::pair<std::string, Node>> nodes;                       // NIRGraph
  std::vector<std::pair<std::string, std::string>> edges;                // NIRGraph
  bool write_type = true;
  bool write_edges = true;

  Node& F(const std::string& k, Shape s, std::vector<double> v) {
    floats[k] = {std::move(s), std::move(v)};
    return *this;
  }
  Node& I(const std::string& k, Shape s, std::vector<int64_t> v) {
    ints[k] = {std::move(s), std::move(v)};
    return *this;
  }
  Node& Add(const std::string& name, Node n) {
    nodes.emplace_back(name, std::move(n));
    return *this;
  }
  Node& Edge(const std::string& a, const std::string& b) {
    edges.emplace_back(a, b);
    return *this;
  }
  // Consecutive edges a -> b -> c ...
  Node& Chain(const std::vector<std::string>& names) {
    for (size_t i = 0; i + 1 < names.size(); ++i) Edge(names[i], names[i + 1]);
    return *this;
  }
};

inline std::vector<double> Fill(int64_t n, double v) { return std::vector<double>(static_cast<size_t>(n), v); }

// ---- node builders (NIR parameter names; times in seconds) ----
inline Node Graph() { return Node{"NIRGraph"}; }
inline Node Input(Shape s) { return Node{"Input"}.I("shape", {static_cast<int64_t>(s.size())}, s); }
inline Node Output(Shape s) { return Node{"Output"}.I("shape", {static_cast<int64_t>(s.size())}, s); }
inline Node Linear(int64_t k, int64_t c, std::vector<double> w) { return Node{"Linear"}.F("weight", {k, c}, std::move(w)); }
inline Node Affine(int64_t k, int64_t c, std::vector<double> w, std::vector<double> b) {
  return Node{"Affine"}.F("weight", {k, c}, std::move(w)).F("bias", {k}, std::move(b));
}
inline Node Lif(int64_t n, double tau, double r, double v_leak, double thr, double v_reset) {
  return Node{"LIF"}.F("tau", {n}, Fill(n, tau)).F("r", {n}, Fill(n, r)).F("v_leak", {n}, Fill(n, v_leak))
      .F("v_threshold", {n}, Fill(n, thr)).F("v_reset", {n}, Fill(n, v_reset));
}
inline Node CubaLif(int64_t n, double tau_syn, double tau_mem, double r, double w_in, double thr) {
  return Node{"CubaLIF"}.F("tau_syn", {n}, Fill(n, tau_syn)).F("tau_mem", {n}, Fill(n, tau_mem))
      .F("r", {n}, Fill(n, r)).F("v_leak", {n}, Fill(n, 0.0)).F("v_threshold", {n}, Fill(n, thr))
      .F("v_reset", {n}, Fill(n, 0.0)).F("w_in", {n}, Fill(n, w_in));
}

// Writes `root` (a NIRGraph) with `version` ("" = no version dataset) to
// `path`.
inline void WriteFile(const std::string& path, const Node& root, const std::string& version = "1.0.8") {
  H5Eset_auto2(H5E_DEFAULT, nullptr, nullptr);
  hid_t f = H5Fcreate(path.c_str(), H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
  ASSERT_GE(f, 0) << path;
  hid_t str = H5Tcopy(H5T_C_S1);
  H5Tset_size(str, H5T_VARIABLE);
  H5Tset_cset(str, H5T_CSET_UTF8);
  auto write_strings = [&](hid_t loc, const std::string& name, const std::vector<std::string>& v, Shape shape) {
    std::vector<hsize_t> dims(shape.begin(), shape.end());
    hid_t sp = dims.empty() ? H5Screate(H5S_SCALAR) : H5Screate_simple(static_cast<int>(dims.size()), dims.data(), nullptr);
    hid_t ds = H5Dcreate2(loc, name.c_str(), str, sp, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    std::vector<const char*> ptrs;
    for (const std::string& s : v) ptrs.push_back(s.c_str());
    H5Dwrite(ds, str, H5S_ALL, H5S_ALL, H5P_DEFAULT, ptrs.data());
    H5Dclose(ds);
    H5Sclose(sp);
  };
  auto space = [](const Shape& shape) {
    std::vector<hsize_t> dims(shape.begin(), shape.end());
    return dims.empty() ? H5Screate(H5S_SCALAR) : H5Screate_simple(static_cast<int>(dims.size()), dims.data(), nullptr);
  };
  std::function<void(hid_t, const Node&)> write = [&](hid_t g, const Node& n) {
    if (n.write_type) write_strings(g, "type", {n.type}, {});
    for (const auto& [k, v] : n.floats) {
      hid_t sp = space(v.first);
      hid_t ds = H5Dcreate2(g, k.c_str(), H5T_IEEE_F64LE, sp, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
      if (!v.second.empty()) H5Dwrite(ds, H5T_NATIVE_DOUBLE, H5S_ALL, H5S_ALL, H5P_DEFAULT, v.second.data());
      H5Dclose(ds);
      H5Sclose(sp);
    }
    for (const auto& [k, v] : n.ints) {
      hid_t sp = space(v.first);
      hid_t ds = H5Dcreate2(g, k.c_str(), H5T_STD_I64LE, sp, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
      if (!v.second.empty()) H5Dwrite(ds, H5T_NATIVE_INT64, H5S_ALL, H5S_ALL, H5P_DEFAULT, v.second.data());
      H5Dclose(ds);
      H5Sclose(sp);
    }
    for (const auto& [k, v] : n.strings) write_strings(g, k, {v}, {});
    if (n.type != "NIRGraph") return;
    hid_t nodes = H5Gcreate2(g, "nodes", H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    for (const auto& [name, child] : n.nodes) {
      hid_t cg = H5Gcreate2(nodes, name.c_str(), H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
      write(cg, child);
      H5Gclose(cg);
    }
    H5Gclose(nodes);
    if (n.write_edges) {
      std::vector<std::string> flat;
      for (const auto& [a, b] : n.edges) {
        flat.push_back(a);
        flat.push_back(b);
      }
      write_strings(g, "edges", flat, {static_cast<int64_t>(n.edges.size()), 2});
    }
  };
  if (!version.empty()) write_strings(f, "version", {version}, {});
  hid_t g = H5Gcreate2(f, "node", H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
  write(g, root);
  H5Gclose(g);
  H5Tclose(str);
  H5Fclose(f);
}

inline std::string TempPath(const std::string& name) {
  const ::testing::TestInfo* info = ::testing::UnitTest::GetInstance()->current_test_info();
  std::filesystem::path dir = std::filesystem::temp_directory_path() /
                              ("snnplan_nir_" + std::string(info->test_suite_name()) + "_" + info->name() + "_" +
                               std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  return (dir / name).string();
}

inline std::string ReadBytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

inline importer::ImportOptions Options(int64_t timesteps = 4, bool load = false) {
  importer::ImportOptions o;
  o.timesteps = timesteps;
  o.load_parameters = load;
  return o;
}

// Writes `root` to a temporary .nir file and imports it.
inline absl::StatusOr<ir::Workload> Import(const Node& root, const importer::ImportOptions& o = Options(),
                                           const std::string& version = "1.0.8") {
  const std::string path = TempPath("model.nir");
  WriteFile(path, root, version);
  return importer::ImportFile(path, o);
}

inline const ir::Layer* FindLayer(const ir::Workload& w, const std::string& name) {
  for (const ir::Layer& l : w.layers)
    if (l.name == name) return &l;
  return nullptr;
}

}  // namespace snnplan::testing::nir
