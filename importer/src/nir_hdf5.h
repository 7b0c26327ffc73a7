// Reading a NIR file (.nir: HDF5, written by nir.write) into plain C++
// values through Debian's libhdf5. Layout (nir/serialization.py): a string
// dataset "version" and a group "node" holding the top-level NIRGraph. A node
// is a group with a string dataset "type" and one dataset per field; a
// NIRGraph node also has a group "nodes" (one group per node) and "edges",
// an [E, 2] string dataset (source, destination). "metadata" groups are
// skipped.
//
// Bounded: every dataset's size is checked from its dataspace before it is
// read (kMaxNirDatasetElements per dataset, kMaxNirElements per file, string
// bytes likewise), nested graphs at most kMaxNirDepth deep, at most
// kMaxNirNodes nodes. Only hard links are followed, and datasets with
// external or virtual storage (which name other files) are refused.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"

namespace snnplan::importer::internal {

inline constexpr int64_t kMaxNirDatasetElements = int64_t{1} << 26;
inline constexpr int64_t kMaxNirElements = int64_t{1} << 27;
inline constexpr int64_t kMaxNirStringBytes = int64_t{1} << 26;
inline constexpr int kMaxNirDepth = 32;
inline constexpr int64_t kMaxNirNodes = int64_t{1} << 20;

// One dataset of a node.
struct NirField {
  bool is_string = false;
  bool is_integer = false;            // numbers stored as an integer type
  std::vector<int64_t> shape;         // {} = scalar
  std::vector<double> numbers;        // numeric datasets (converted to double)
  std::vector<std::string> strings;   // string datasets
};

struct NirNode {
  std::string name;  // link name inside its graph
  std::string path;  // names from the top-level graph, joined with '/'
  std::string type;  // "Affine", "LIF", "NIRGraph", ...
  std::map<std::string, NirField> fields;  // every dataset but "type"
  std::vector<NirNode> nodes;              // NIRGraph: its nodes (name order)
  std::vector<std::pair<std::string, std::string>> edges;  // NIRGraph: (source, destination)
};

struct NirFile {
  std::string version;  // the "version" dataset, "" when absent
  NirNode root;
};

// True when `bytes` carry the HDF5 signature (at offset 0, or at 512, 1024,
// ... after a user block).
bool HasHdf5Signature(std::string_view bytes);

// Parses the HDF5 image. Errors name the node path and the field
// ("node 'lif': field 'tau': ..."), never the file (the caller adds it).
absl::StatusOr<NirFile> ReadNirImage(std::string_view bytes);

}  // namespace snnplan::importer::internal
