#include "nir_hdf5.h"

#include <hdf5.h>

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <mutex>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"

namespace snnplan::importer::internal {
namespace {

// Debian's libhdf5 is built without thread safety: one reader at a time.
std::mutex& Hdf5Mutex() {
  static std::mutex m;
  return m;
}

// An HDF5 identifier closed by `close` when it goes out of scope.
class Handle {
 public:
  using Closer = herr_t (*)(hid_t);
  Handle(hid_t id, Closer close) : id_(id), close_(close) {}
  Handle(const Handle&) = delete;
  Handle& operator=(const Handle&) = delete;
  ~Handle() {
    if (id_ >= 0) close_(id_);
  }
  hid_t get() const { return id_; }
  bool ok() const { return id_ >= 0; }

 private:
  hid_t id_;
  Closer close_;
};

absl::Status Error(const std::string& where, const std::string& what) {
  return absl::InvalidArgumentError(where.empty() ? what : absl::StrCat(where, ": ", what));
}

std::string NodeWhere(const std::string& path) {
  return path.empty() ? std::string("top-level graph") : absl::StrCat("node '", path, "'");
}

class Reader {
 public:
  absl::StatusOr<NirFile> Read(hid_t file) {
    NirFile out;
    if (LinkKind(file, "version") == H5I_DATASET) {
      absl::StatusOr<NirField> v = ReadDataset(file, "version", "dataset 'version'");
      if (!v.ok()) return v.status();
      if (!v->is_string || v->strings.size() != 1)
        return Error("", "dataset 'version' is not one string");
      out.version = v->strings[0];
    }
    if (LinkKind(file, "node") != H5I_GROUP)
      return Error("", "no group 'node' (not a NIR file: nir.write stores the graph there)");
    Handle g(H5Gopen2(file, "node", H5P_DEFAULT), H5Gclose);
    if (!g.ok()) return Error("", "cannot open group 'node'");
    out.root.name = "";
    out.root.path = "";
    if (absl::Status s = ReadNode(g.get(), &out.root, 0); !s.ok()) return s;
    return out;
  }

 private:
  // H5I_GROUP, H5I_DATASET, or H5I_BADID when absent, not a hard link, or
  // anything else.
  H5I_type_t LinkKind(hid_t loc, const char* name) {
    if (H5Lexists(loc, name, H5P_DEFAULT) <= 0) return H5I_BADID;
    H5L_info_t info;
    if (H5Lget_info(loc, name, &info, H5P_DEFAULT) < 0 || info.type != H5L_TYPE_HARD) return H5I_BADID;
    Handle obj(H5Oopen(loc, name, H5P_DEFAULT), H5Oclose);
    if (!obj.ok()) return H5I_BADID;
    return H5Iget_type(obj.get());
  }

  struct Link {
    std::string name;
    bool hard = false;
  };
  static herr_t CollectLink(hid_t, const char* name, const H5L_info_t* info, void* data) {
    auto* links = static_cast<std::vector<Link>*>(data);
    if (static_cast<int64_t>(links->size()) >= kMaxNirNodes) return 1;  // stop: too many
    links->push_back({name, info->type == H5L_TYPE_HARD});
    return 0;
  }

  absl::StatusOr<std::vector<Link>> Links(hid_t group, const std::string& where) {
    std::vector<Link> links;
    hsize_t idx = 0;
    if (H5Literate(group, H5_INDEX_NAME, H5_ITER_INC, &idx, &CollectLink, &links) < 0)
      return Error(where, "cannot list the group's members");
    if (static_cast<int64_t>(links.size()) >= kMaxNirNodes)
      return Error(where, absl::StrCat("more than ", kMaxNirNodes, " members"));
    for (const Link& l : links)
      if (!l.hard)
        return Error(where, absl::StrCat("member '", l.name,
                                         "' is a soft or external link (refused: it may name another file)"));
    return links;
  }

  absl::Status ReadNode(hid_t group, NirNode* node, int depth) {
    const std::string where = NodeWhere(node->path);
    if (depth > kMaxNirDepth)
      return Error(where, absl::StrCat("subgraphs nested more than ", kMaxNirDepth, " deep"));
    if (++nodes_ > kMaxNirNodes) return Error(where, absl::StrCat("more than ", kMaxNirNodes, " nodes"));
    absl::StatusOr<std::vector<Link>> links = Links(group, where);
    if (!links.ok()) return links.status();
    bool has_type = false;
    for (const Link& l : *links) {
      const H5I_type_t kind = LinkKind(group, l.name.c_str());
      if (kind == H5I_DATASET) {
        absl::StatusOr<NirField> f =
            ReadDataset(group, l.name.c_str(), absl::StrCat(where, ": field '", l.name, "'"));
        if (!f.ok()) return f.status();
        if (l.name == "type") {
          if (!f->is_string || f->strings.size() != 1)
            return Error(where, "field 'type' is not one string");
          node->type = f->strings[0];
          has_type = true;
        } else {
          node->fields[l.name] = std::move(*f);
        }
      } else if (kind != H5I_GROUP) {
        return Error(where, absl::StrCat("member '", l.name, "' is neither a group nor a dataset"));
      }
    }
    if (!has_type) return Error(where, "missing dataset 'type' (every NIR node has one)");
    if (node->type != "NIRGraph") return absl::OkStatus();
    // A graph: its nodes and edges.
    if (LinkKind(group, "nodes") != H5I_GROUP) return Error(where, "NIRGraph without a group 'nodes'");
    Handle nodes(H5Gopen2(group, "nodes", H5P_DEFAULT), H5Gclose);
    if (!nodes.ok()) return Error(where, "cannot open group 'nodes'");
    absl::StatusOr<std::vector<Link>> children = Links(nodes.get(), where);
    if (!children.ok()) return children.status();
    for (const Link& c : *children) {
      NirNode child;
      child.name = c.name;
      child.path = node->path.empty() ? c.name : absl::StrCat(node->path, "/", c.name);
      if (LinkKind(nodes.get(), c.name.c_str()) != H5I_GROUP)
        return Error(NodeWhere(child.path), "is not a group (each NIR node is a group)");
      Handle cg(H5Gopen2(nodes.get(), c.name.c_str(), H5P_DEFAULT), H5Gclose);
      if (!cg.ok()) return Error(NodeWhere(child.path), "cannot open its group");
      if (absl::Status s = ReadNode(cg.get(), &child, depth + 1); !s.ok()) return s;
      node->nodes.push_back(std::move(child));
    }
    auto it = node->fields.find("edges");
    if (it == node->fields.end()) return Error(where, "NIRGraph without a dataset 'edges'");
    const NirField& e = it->second;
    if (!e.is_string) {
      // h5py writes an empty edge list as a float64 array of shape (0,).
      if (!e.numbers.empty())
        return Error(where, "field 'edges' holds numbers, expected [E, 2] strings (source, destination)");
    } else {
      if (e.shape.size() != 2 || e.shape[1] != 2)
        return Error(where, absl::StrCat("field 'edges' has shape [", absl::StrJoin(e.shape, ","),
                                         "], expected [E, 2] (source, destination)"));
      for (size_t i = 0; i + 1 < e.strings.size(); i += 2)
        node->edges.emplace_back(e.strings[i], e.strings[i + 1]);
    }
    node->fields.erase(it);
    return absl::OkStatus();
  }

  // Reserves `n` more elements (or string bytes) of the per-file budget.
  absl::Status Budget(int64_t n, int64_t* used, int64_t limit, const std::string& where, const char* what) {
    if (n > limit - *used)
      return Error(where, absl::StrCat("the file's ", what, " exceed the limit of ", limit,
                                       " (refused before reading)"));
    *used += n;
    return absl::OkStatus();
  }

  absl::StatusOr<NirField> ReadDataset(hid_t loc, const char* name, const std::string& where) {
    Handle ds(H5Dopen2(loc, name, H5P_DEFAULT), H5Dclose);
    if (!ds.ok()) return Error(where, "cannot open the dataset");
    {
      Handle dcpl(H5Dget_create_plist(ds.get()), H5Pclose);
      if (!dcpl.ok()) return Error(where, "cannot read the dataset's storage properties");
      if (H5Pget_external_count(dcpl.get()) != 0)
        return Error(where, "the dataset's data is stored in external files (refused)");
      if (H5Pget_layout(dcpl.get()) == H5D_VIRTUAL)
        return Error(where, "the dataset is virtual (maps other files; refused)");
    }
    Handle space(H5Dget_space(ds.get()), H5Sclose);
    if (!space.ok()) return Error(where, "cannot read the dataset's shape");
    NirField f;
    const H5S_class_t sclass = H5Sget_simple_extent_type(space.get());
    int64_t n = 1;
    if (sclass == H5S_NULL) {
      n = 0;
      f.shape = {0};
    } else if (sclass == H5S_SIMPLE) {
      const int rank = H5Sget_simple_extent_ndims(space.get());
      if (rank < 0 || rank > 8) return Error(where, absl::StrCat("rank ", rank, " (at most 8 supported)"));
      hsize_t dims[8] = {0};
      if (H5Sget_simple_extent_dims(space.get(), dims, nullptr) < 0) return Error(where, "cannot read the shape");
      for (int i = 0; i < rank; ++i) {
        if (dims[i] > static_cast<hsize_t>(kMaxNirDatasetElements) ||
            (dims[i] > 0 && n > kMaxNirDatasetElements / static_cast<int64_t>(dims[i])))
          return Error(where, absl::StrCat("more than ", kMaxNirDatasetElements, " elements (refused before reading)"));
        n *= static_cast<int64_t>(dims[i]);
        f.shape.push_back(static_cast<int64_t>(dims[i]));
      }
    } else if (sclass != H5S_SCALAR) {
      return Error(where, "unknown dataspace");
    }
    Handle ftype(H5Dget_type(ds.get()), H5Tclose);
    if (!ftype.ok()) return Error(where, "cannot read the element type");
    const H5T_class_t tclass = H5Tget_class(ftype.get());
    if (tclass == H5T_STRING) {
      f.is_string = true;
      if (n == 0) return f;
      if (absl::Status s = Budget(n, &elements_, kMaxNirElements, where, "elements"); !s.ok()) return s;
      const htri_t vlen = H5Tis_variable_str(ftype.get());
      if (vlen < 0) return Error(where, "cannot read the string type");
      if (vlen > 0) {
        Handle mtype(H5Tcopy(H5T_C_S1), H5Tclose);
        if (!mtype.ok() || H5Tset_size(mtype.get(), H5T_VARIABLE) < 0 ||
            H5Tset_cset(mtype.get(), H5Tget_cset(ftype.get())) < 0)
          return Error(where, "cannot set up a string type");
        // The strings' total size, before reading them (libhdf5 1.10.8's
        // H5Dvlen_get_buf_size crashes on a scalar dataspace: one string there).
        hsize_t bytes = 0;
        if (sclass == H5S_SIMPLE && H5Dvlen_get_buf_size(ds.get(), mtype.get(), space.get(), &bytes) < 0)
          return Error(where, "cannot read the strings' sizes");
        if (absl::Status s = Budget(static_cast<int64_t>(std::min<hsize_t>(bytes, INT64_MAX / 2)), &string_bytes_,
                                    kMaxNirStringBytes, where, "string bytes");
            !s.ok())
          return s;
        std::vector<char*> buf(static_cast<size_t>(n), nullptr);
        if (H5Dread(ds.get(), mtype.get(), H5S_ALL, H5S_ALL, H5P_DEFAULT, buf.data()) < 0)
          return Error(where, "cannot read the strings (corrupt data?)");
        int64_t read_bytes = 0;
        for (char* s : buf) {
          f.strings.emplace_back(s ? s : "");
          read_bytes += static_cast<int64_t>(f.strings.back().size());
        }
        H5Dvlen_reclaim(mtype.get(), space.get(), H5P_DEFAULT, buf.data());
        if (sclass != H5S_SIMPLE)
          if (absl::Status s = Budget(read_bytes, &string_bytes_, kMaxNirStringBytes, where, "string bytes"); !s.ok())
            return s;
      } else {
        const size_t size = H5Tget_size(ftype.get());
        if (size == 0 || size > static_cast<size_t>(kMaxNirStringBytes) ||
            static_cast<int64_t>(size) > kMaxNirStringBytes / n)
          return Error(where, "fixed-length strings too large (refused before reading)");
        if (absl::Status s = Budget(static_cast<int64_t>(size) * n, &string_bytes_, kMaxNirStringBytes, where,
                                    "string bytes");
            !s.ok())
          return s;
        Handle mtype(H5Tcopy(H5T_C_S1), H5Tclose);
        if (!mtype.ok() || H5Tset_size(mtype.get(), size) < 0 ||
            H5Tset_strpad(mtype.get(), H5T_STR_NULLPAD) < 0)
          return Error(where, "cannot set up a string type");
        std::vector<char> buf(size * static_cast<size_t>(n), '\0');
        if (H5Dread(ds.get(), mtype.get(), H5S_ALL, H5S_ALL, H5P_DEFAULT, buf.data()) < 0)
          return Error(where, "cannot read the strings (corrupt data?)");
        for (int64_t i = 0; i < n; ++i) {
          const char* p = buf.data() + i * static_cast<int64_t>(size);
          f.strings.emplace_back(p, strnlen(p, size));
        }
      }
      return f;
    }
    if (tclass != H5T_INTEGER && tclass != H5T_FLOAT)
      return Error(where, "has a type that is neither numbers nor strings (e.g. a bool/enum or compound dataset)");
    f.is_integer = tclass == H5T_INTEGER;
    if (absl::Status s = Budget(n, &elements_, kMaxNirElements, where, "elements"); !s.ok()) return s;
    f.numbers.assign(static_cast<size_t>(n), 0.0);
    if (n > 0 && H5Dread(ds.get(), H5T_NATIVE_DOUBLE, H5S_ALL, H5S_ALL, H5P_DEFAULT, f.numbers.data()) < 0)
      return Error(where, "cannot read the data (corrupt or truncated file, or an unsupported compression filter)");
    return f;
  }

  int64_t elements_ = 0;
  int64_t string_bytes_ = 0;
  int64_t nodes_ = 0;
};

}  // namespace

bool HasHdf5Signature(std::string_view bytes) {
  static constexpr char kSig[] = "\x89HDF\r\n\x1a\n";
  for (size_t off = 0; off + 8 <= bytes.size(); off = off == 0 ? 512 : off * 2) {
    if (std::memcmp(bytes.data() + off, kSig, 8) == 0) return true;
    if (off >= (size_t{1} << 30)) break;
  }
  return false;
}

namespace {

absl::StatusOr<NirFile> ReadInProcess(std::string_view bytes) {
  std::lock_guard<std::mutex> lock(Hdf5Mutex());
  if (H5open() < 0) return absl::InternalError("cannot initialise libhdf5");
  H5Eset_auto2(H5E_DEFAULT, nullptr, nullptr);  // errors come back as statuses, not stderr dumps
  Handle fapl(H5Pcreate(H5P_FILE_ACCESS), H5Pclose);
  if (!fapl.ok() || H5Pset_fapl_core(fapl.get(), 1 << 16, 0) < 0 ||
      H5Pset_file_image(fapl.get(), const_cast<char*>(bytes.data()), bytes.size()) < 0)
    return absl::InternalError("cannot set up an in-memory HDF5 file");
  Handle file(H5Fopen("snnplan-nir-image", H5F_ACC_RDONLY, fapl.get()), H5Fclose);
  if (!file.ok()) return absl::InvalidArgumentError("not a readable HDF5 file (corrupt or truncated?)");
  return Reader().Read(file.get());
}

// ---- the parse runs in a child process --------------------------------------
// libhdf5 1.10 can crash (out-of-bounds reads) or loop on crafted or corrupt
// files. The child parses the image and sends the result (or the error) back
// through a pipe; a child that dies or takes longer than kChildSeconds is an
// error, never a crash of snnplan.

constexpr int kChildSeconds = 120;

void PutU64(std::string* out, uint64_t v) { out->append(reinterpret_cast<const char*>(&v), sizeof v); }
void PutStr(std::string* out, const std::string& s) {
  PutU64(out, s.size());
  out->append(s);
}
void PutNode(std::string* out, const NirNode& n) {
  PutStr(out, n.name);
  PutStr(out, n.path);
  PutStr(out, n.type);
  PutU64(out, n.fields.size());
  for (const auto& [k, f] : n.fields) {
    PutStr(out, k);
    PutU64(out, (f.is_string ? 1 : 0) | (f.is_integer ? 2 : 0));
    PutU64(out, f.shape.size());
    for (int64_t d : f.shape) PutU64(out, static_cast<uint64_t>(d));
    PutU64(out, f.numbers.size());
    out->append(reinterpret_cast<const char*>(f.numbers.data()), f.numbers.size() * sizeof(double));
    PutU64(out, f.strings.size());
    for (const std::string& x : f.strings) PutStr(out, x);
  }
  PutU64(out, n.nodes.size());
  for (const NirNode& c : n.nodes) PutNode(out, c);
  PutU64(out, n.edges.size());
  for (const auto& [a, b] : n.edges) {
    PutStr(out, a);
    PutStr(out, b);
  }
}

class Decoder {
 public:
  explicit Decoder(std::string_view in) : in_(in) {}
  bool U64(uint64_t* v) {
    if (in_.size() - pos_ < sizeof *v) return false;
    std::memcpy(v, in_.data() + pos_, sizeof *v);
    pos_ += sizeof *v;
    return true;
  }
  bool Count(uint64_t* v, uint64_t unit) { return U64(v) && *v <= (in_.size() - pos_) / std::max<uint64_t>(unit, 1); }
  bool Str(std::string* s) {
    uint64_t n = 0;
    if (!Count(&n, 1)) return false;
    s->assign(in_.data() + pos_, n);
    pos_ += n;
    return true;
  }
  bool Node(NirNode* n, int depth) {
    if (depth > kMaxNirDepth + 1) return false;
    uint64_t count = 0;
    if (!Str(&n->name) || !Str(&n->path) || !Str(&n->type) || !Count(&count, 8)) return false;
    for (uint64_t i = 0; i < count; ++i) {
      std::string k;
      NirField f;
      uint64_t flags = 0, rank = 0, nums = 0, strs = 0;
      if (!Str(&k) || !U64(&flags) || !Count(&rank, 8)) return false;
      f.is_string = flags & 1;
      f.is_integer = flags & 2;
      for (uint64_t d = 0; d < rank; ++d) {
        uint64_t v = 0;
        if (!U64(&v)) return false;
        f.shape.push_back(static_cast<int64_t>(v));
      }
      if (!Count(&nums, sizeof(double))) return false;
      f.numbers.resize(nums);
      // memcpy's pointers must be non-null even for zero bytes; an empty vector's data() may be null.
      if (nums > 0) std::memcpy(f.numbers.data(), in_.data() + pos_, nums * sizeof(double));
      pos_ += nums * sizeof(double);
      if (!Count(&strs, 8)) return false;
      for (uint64_t j = 0; j < strs; ++j) {
        f.strings.emplace_back();
        if (!Str(&f.strings.back())) return false;
      }
      n->fields[k] = std::move(f);
    }
    if (!Count(&count, 8)) return false;
    for (uint64_t i = 0; i < count; ++i) {
      n->nodes.emplace_back();
      if (!Node(&n->nodes.back(), depth + 1)) return false;
    }
    if (!Count(&count, 16)) return false;
    for (uint64_t i = 0; i < count; ++i) {
      std::string a, b;
      if (!Str(&a) || !Str(&b)) return false;
      n->edges.emplace_back(std::move(a), std::move(b));
    }
    return true;
  }
  bool Done() const { return pos_ == in_.size(); }

 private:
  std::string_view in_;
  size_t pos_ = 0;
};

// Child: status code byte (0 ok), then the message or the encoded file.
void ChildMain(std::string_view bytes, int fd) {
  absl::StatusOr<NirFile> f = ReadInProcess(bytes);
  std::string out;
  if (f.ok()) {
    out.push_back('\0');
    PutStr(&out, f->version);
    PutNode(&out, f->root);
  } else {
    out.push_back(static_cast<char>(f.status().code()));
    out.append(std::string(f.status().message()));
  }
  size_t done = 0;
  while (done < out.size()) {
    ssize_t n = ::write(fd, out.data() + done, out.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    done += static_cast<size_t>(n);
  }
}

}  // namespace

absl::StatusOr<NirFile> ReadNirImage(std::string_view bytes) {
  if (!HasHdf5Signature(bytes)) return absl::InvalidArgumentError("not an HDF5 file (no HDF5 signature)");
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) != 0) return absl::InternalError("cannot create a pipe for the HDF5 reader");
  const pid_t pid = ::fork();
  if (pid < 0) {
    ::close(fds[0]);
    ::close(fds[1]);
    return absl::InternalError("cannot start the HDF5 reader process");
  }
  if (pid == 0) {
    ::close(fds[0]);
    ChildMain(bytes, fds[1]);
    ::_exit(0);
  }
  ::close(fds[1]);
  std::string msg;
  bool timed_out = false;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(kChildSeconds);
  char buf[1 << 16];
  for (;;) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) {
      timed_out = true;
      break;
    }
    pollfd p{fds[0], POLLIN, 0};
    const int r = ::poll(&p, 1, static_cast<int>(std::min<int64_t>(left.count(), 1000)));
    if (r < 0 && errno == EINTR) continue;
    if (r < 0) break;
    if (r == 0) continue;
    const ssize_t n = ::read(fds[0], buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    msg.append(buf, static_cast<size_t>(n));
  }
  ::close(fds[0]);
  if (timed_out) ::kill(pid, SIGKILL);
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  if (timed_out)
    return absl::InvalidArgumentError(
        absl::StrCat("libhdf5 did not finish reading the file within ", kChildSeconds, " s (corrupt HDF5?)"));
  if (WIFSIGNALED(status))
    return absl::InvalidArgumentError(absl::StrCat("libhdf5 crashed reading the file (signal ", WTERMSIG(status),
                                                   "): corrupt or crafted HDF5"));
  if (msg.empty()) return absl::InternalError("the HDF5 reader process returned nothing");
  if (msg[0] != '\0') return absl::Status(static_cast<absl::StatusCode>(msg[0]), msg.substr(1));
  NirFile f;
  Decoder d(std::string_view(msg).substr(1));
  if (!d.Str(&f.version) || !d.Node(&f.root, 0) || !d.Done())
    return absl::InternalError("the HDF5 reader process returned a malformed result");
  return f;
}

}  // namespace snnplan::importer::internal
