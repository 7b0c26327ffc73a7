// snnplan._core: the Python binding of the frontend library. Keyword
// arguments arrive as CLI tokens ("--sram=128KiB") and are parsed by the
// very option registrations the CLI uses (snnplan/flags.h); the work is the
// frontend's; absl::Status errors become snnplan.Error with the message the
// CLI prints. Long calls run on a worker thread while this thread, holding
// the GIL only briefly, polls for signals and forwards progress (Ctrl-C sets
// the library's cancel flag and raises KeyboardInterrupt).
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <chrono>
#include <condition_variable>
#include <exception>
#include <functional>
#include <mutex>
#include <optional>
#include <sstream>
#include <thread>

#include "absl/strings/str_cat.h"
#include "snnplan/flags.h"
#include "snnplan/frontend.h"
#include "snnplan/importer.h"
#include "snnplan/output_file.h"
#include "snnplan/runtime.h"

namespace py = pybind11;

namespace snnplan::python {
namespace {

PyObject* g_error = nullptr;  // snnplan.Error (a ValueError)

[[noreturn]] void Raise(const absl::Status& s) {
  PyErr_SetString(g_error, std::string(s.message()).c_str());
  throw py::error_already_set();
}

template <class T>
T Take(absl::StatusOr<T> v) {
  if (!v.ok()) Raise(v.status());
  return *std::move(v);
}

void Check(const absl::Status& s) {
  if (!s.ok()) Raise(s);
}

// ---- options: the CLI's registrations

using Register = std::function<void(CLI::App*)>;

// Parses `args` ("--name=value" tokens) with the options `reg` registers.
absl::Status Parse(const Register& reg, const std::vector<std::string>& args) {
  CLI::App app{"snnplan"};
  app.set_help_flag();
  reg(&app);
  std::vector<std::string> reversed(args.rbegin(), args.rend());  // CLI11 pops from the back
  try {
    app.parse(reversed);
  } catch (const CLI::ParseError& e) {
    return absl::InvalidArgumentError(e.what());
  }
  return absl::OkStatus();
}

// The option registrations per command (what the CLI registers, without
// the options that name output files).
Register Options(const std::string& command, frontend::ImportFlags* import,
                 frontend::PlanFlags* plan, frontend::ExploreFlags* explore,
                 frontend::AllocateFlags* allocate, frontend::CostFlags* cost,
                 frontend::RunFlags* run, frontend::ValidateFlags* validate) {
  if (command == "import") return [=](CLI::App* a) { frontend::AddImportOptions(a, import); };
  if (command == "plan")
    return [=](CLI::App* a) {
      frontend::AddPlanOptions(a, plan, /*schedule=*/true, /*mapping_objective=*/true);
      frontend::AddAllocationOption(a, plan);
      frontend::AddExitProfileOption(a, plan);
    };
  if (command == "explore") return [=](CLI::App* a) { frontend::AddExploreOptions(a, explore); };
  if (command == "allocate") return [=](CLI::App* a) { frontend::AddAllocateOptions(a, allocate); };
  if (command == "cost")
    return [=](CLI::App* a) { frontend::AddCostOptions(a, cost, /*hardware_required=*/false); };
  if (command == "run") return [=](CLI::App* a) { frontend::AddRunOptions(a, run); };
  if (command == "validate") return [=](CLI::App* a) { frontend::AddValidateOptions(a, validate); };
  return nullptr;
}

// [(long name, takes no value, may repeat)] of a command's options.
std::vector<std::tuple<std::string, bool, bool>> OptionNames(const std::string& command) {
  frontend::ImportFlags import;
  frontend::PlanFlags plan;
  frontend::ExploreFlags explore;
  frontend::AllocateFlags allocate;
  frontend::CostFlags cost;
  frontend::RunFlags run;
  frontend::ValidateFlags validate;
  Register reg =
      Options(command, &import, &plan, &explore, &allocate, &cost, &run, &validate);
  if (!reg) throw py::value_error("unknown command " + command);
  CLI::App app{"snnplan"};
  app.set_help_flag();
  reg(&app);
  std::vector<std::tuple<std::string, bool, bool>> out;
  for (const CLI::Option* o : app.get_options())
    for (const std::string& name : o->get_lnames())
      out.emplace_back(name, o->get_expected_max() == 0, o->get_items_expected_max() > 1);
  return out;
}

// ---- JSON <-> Python

py::object ToPython(const nlohmann::json& j) {
  switch (j.type()) {
    case nlohmann::json::value_t::null:
      return py::none();
    case nlohmann::json::value_t::boolean:
      return py::bool_(j.get<bool>());
    case nlohmann::json::value_t::number_integer:
      return py::int_(j.get<int64_t>());
    case nlohmann::json::value_t::number_unsigned:
      return py::int_(j.get<uint64_t>());
    case nlohmann::json::value_t::number_float:
      return py::float_(j.get<double>());
    case nlohmann::json::value_t::string:
      return py::str(j.get_ref<const std::string&>());
    case nlohmann::json::value_t::array: {
      py::list l;
      for (const nlohmann::json& e : j) l.append(ToPython(e));
      return l;
    }
    case nlohmann::json::value_t::object: {
      py::dict d;
      for (const auto& [k, v] : j.items()) d[py::str(k)] = ToPython(v);
      return d;
    }
    default:
      return py::none();
  }
}

// ---- long calls

// Progress reported by library threads, read by the Python thread.
class Progress {
 public:
  void Set(int64_t done, int64_t total) {
    std::lock_guard<std::mutex> lock(mu_);
    done_ = done;
    total_ = total;
    changed_ = true;
  }
  bool Take(int64_t* done, int64_t* total) {
    std::lock_guard<std::mutex> lock(mu_);
    if (!changed_) return false;
    changed_ = false;
    *done = done_;
    *total = total_;
    return true;
  }
  std::atomic<bool> cancel{false};

 private:
  std::mutex mu_;
  int64_t done_ = 0, total_ = 0;
  bool changed_ = false;
};

// Runs `work` (which must not touch Python objects) on a worker thread. This
// thread waits without the GIL and, every 50 ms and at the end, takes it to
// check for signals and call `callback(done, total)` with new progress. A
// signal (KeyboardInterrupt) or an exception of the callback sets the cancel
// flag, waits for the worker to stop and is raised.
template <class R>
R Interruptible(const std::function<R()>& work, Progress& progress, const py::object& callback) {
  std::optional<R> result;
  std::exception_ptr failure;
  std::mutex mu;
  std::condition_variable cv;
  bool finished = false;
  std::thread worker([&] {
    try {
      result.emplace(work());
    } catch (...) {
      failure = std::current_exception();
    }
    std::lock_guard<std::mutex> lock(mu);
    finished = true;
    cv.notify_all();
  });
  std::optional<py::error_already_set> raised;
  for (bool done = false; !done;) {
    {
      py::gil_scoped_release release;
      std::unique_lock<std::mutex> lock(mu);
      done = cv.wait_for(lock, std::chrono::milliseconds(50), [&] { return finished; });
    }
    if (raised) continue;
    try {
      if (PyErr_CheckSignals() != 0) throw py::error_already_set();
      int64_t n = 0, total = 0;
      if (!callback.is_none() && progress.Take(&n, &total)) callback(n, total);
    } catch (py::error_already_set& e) {
      raised.emplace(std::move(e));
      progress.cancel = true;
    }
  }
  worker.join();
  if (raised) throw std::move(*raised);
  if (failure) std::rethrow_exception(failure);
  return std::move(*result);
}

// ---- objects

struct Workload {
  std::shared_ptr<const ir::Workload> w;
  // Where it came from, to import it again with parameters for run().
  std::string path;
  std::optional<std::string> bytes;
  std::string source;
  frontend::ImportFlags import;
};

struct Hardware {
  std::shared_ptr<const hw::Hardware> hw;
};

struct Plan {
  std::shared_ptr<const plan::Plan> p;
  bool default_hardware = false;  // planned without hw= (describe() says so, as `plan` does)
};

frontend::ModelRef Model(const std::string& path, const Workload* w) {
  return w != nullptr ? frontend::ModelRef{"", w->w, &w->import.options}
                      : frontend::ModelRef{path, nullptr};
}
// plan / explore / allocate: one model file, several planned as one
// deployment (as the CLI's several MODEL arguments), or a Workload.
frontend::ModelRef Model(const std::vector<std::string>& paths, const Workload* w) {
  return w != nullptr ? Model("", w) : frontend::ModelFiles(paths);
}

std::shared_ptr<const hw::Hardware> HardwareOf(const Hardware* h) {
  return h != nullptr ? h->hw : nullptr;
}

Workload ImportModel(const std::optional<std::string>& path, const std::optional<py::bytes>& data,
                     const std::string& source, const std::vector<std::string>& args) {
  frontend::ImportFlags flags;
  Check(Parse([&](CLI::App* a) { frontend::AddImportOptions(a, &flags); }, args));
  Check(frontend::FinishImportOptions(&flags));
  Workload out;
  out.import = flags;
  if (data) {
    out.bytes = std::string(*data);
    out.source = source;
    py::gil_scoped_release release;
    out.w = std::make_shared<const ir::Workload>(
        Take(importer::ImportBytes(*out.bytes, source, flags.options)));
  } else {
    out.path = path.value_or("");
    absl::StatusOr<ir::Workload> w;
    {
      py::gil_scoped_release release;
      w = importer::ImportFile(out.path, flags.options);
    }
    out.w = std::make_shared<const ir::Workload>(Take(std::move(w)));
  }
  return out;
}

Hardware LoadHardware(const std::string& name, const std::string& sram) {
  return Hardware{std::make_shared<const hw::Hardware>(Take(frontend::LoadHardware(name, sram)))};
}

Plan MakePlan(const std::vector<std::string>& paths, const Workload* workload,
              const Hardware* hardware, const std::vector<std::string>& args,
              const py::object& callback) {
  frontend::PlanFlags f;
  Check(Parse(Options("plan", nullptr, &f, nullptr, nullptr, nullptr, nullptr, nullptr), args));
  f.hardware_object = HardwareOf(hardware);
  // A plan can write a manifest, which places every parameter (as `plan -o` does).
  f.import.options.load_parameters = true;
  const frontend::ModelRef model = Model(paths, workload);
  Progress progress;
  std::function<absl::StatusOr<std::shared_ptr<const plan::Plan>>()> work = [&] {
    progress.Set(0, 1);
    auto p = frontend::PlanOnce(model, f);
    if (p.ok()) progress.Set(1, 1);
    return p;
  };
  return Plan{Take(Interruptible(work, progress, callback)), frontend::DefaultHardware(f)};
}

py::dict Explore(const std::vector<std::string>& paths, const Workload* workload,
                 const Hardware* hardware, const std::vector<std::string>& args,
                 const py::object& callback) {
  frontend::ExploreFlags f;
  Check(Parse(Options("explore", nullptr, nullptr, &f, nullptr, nullptr, nullptr, nullptr), args));
  f.plan.hardware_object = HardwareOf(hardware);
  const frontend::ModelRef model = Model(paths, workload);
  Progress progress;
  struct Size {
    std::string label;
    int64_t sram_bytes;
    explore::ExploreResult result;
  };
  struct Out {
    std::string csv;
    std::vector<Size> sizes;
  };
  std::function<absl::StatusOr<Out>()> work = [&]() -> absl::StatusOr<Out> {
    Out out;
    auto on_size = [&](frontend::ExploredSize& s) {
      out.sizes.push_back({s.label, s.sram_bytes, std::move(s.result)});
      return absl::OkStatus();
    };
    auto report = [&](size_t done, size_t total) {
      progress.Set(static_cast<int64_t>(done), static_cast<int64_t>(total));
    };
    if (absl::Status s = frontend::RunExplore(model, f, report, &progress.cancel, on_size, &out.csv);
        !s.ok())
      return s;
    return out;
  };
  Out out = Take(Interruptible(work, progress, callback));
  py::list sizes;
  for (const Size& s : out.sizes) {
    const explore::ExploreResult& r = s.result;
    py::list evaluations;
    for (const explore::Evaluation& e : r.evaluations) {
      py::dict d;
      d["fused_blocks"] = e.fused_blocks;
      d["batched_blocks"] = e.batched_blocks;
      d["objective"] = e.objective;
      d["error"] = e.error;
      evaluations.append(d);
    }
    py::dict d;
    d["label"] = s.label;
    d["sram_bytes"] = s.sram_bytes;
    d["best"] = r.best;
    d["baseline_spec"] = r.baseline.spec;
    d["baseline_dram_bytes"] = r.baseline.summary.dram.total();
    d["baseline_energy_pj"] = r.baseline.summary.energy.total_pj();
    d["compulsory_dram_bytes"] = r.compulsory_dram_bytes;
    d["num_blocks"] = r.num_blocks;
    d["space_size"] = r.space_size;
    d["proven_optimal"] = r.proven_optimal;
    d["lower_bound"] = r.lower_bound;
    d["evaluations"] = evaluations;
    sizes.append(d);
  }
  py::dict result;
  result["csv"] = out.csv;
  result["sizes"] = sizes;
  return result;
}

py::dict Allocate(const std::vector<std::string>& paths, const Workload* workload,
                  const Hardware* hardware, const std::vector<std::string>& args,
                  const py::object& callback) {
  frontend::AllocateFlags f;
  Check(Parse(Options("allocate", nullptr, nullptr, nullptr, &f, nullptr, nullptr, nullptr), args));
  f.plan.hardware_object = HardwareOf(hardware);
  const frontend::ModelRef model = Model(paths, workload);
  Progress progress;
  f.ga.cancel = &progress.cancel;
  std::function<absl::StatusOr<frontend::AllocateResult>()> work = [&] {
    return frontend::RunAllocate(model, f, [&](int g, int n) { progress.Set(g, n); });
  };
  frontend::AllocateResult r = Take(Interruptible(work, progress, callback));
  const explore::GaResult& ga = r.search.ga;
  py::dict d;
  d["csv"] = frontend::AllocateCsv(r);
  d["pareto"] = ga.pareto;
  d["min_energy"] = ga.min_energy;
  d["single_core_index"] = r.search.single_core_index;
  d["greedy_index"] = r.search.greedy_index;
  d["evaluations"] = ga.evaluations;
  d["generations"] = ga.generations;
  d["seconds"] = r.seconds;
  d["schedule"] = plan::FormatSchedule(r.schedule);
  absl::StatusOr<plan::CoreAllocation> best = frontend::BestAllocation(r);
  d["best_allocation"] =
      best.ok() ? ToPython(plan::AllocationToJson(*best, r.planner->workload(), 0)) : py::none();
  return d;
}

py::object Cost(const std::string& path, const Workload* workload, const Hardware* hardware,
                const std::string& hardware_name, const std::vector<std::string>& args) {
  frontend::CostFlags f;
  Check(Parse(Options("cost", nullptr, nullptr, nullptr, nullptr, &f, nullptr, nullptr), args));
  f.hardware = hardware_name;
  f.hardware_object = HardwareOf(hardware);
  const std::string name = workload != nullptr ? workload->w->model_file : path;
  absl::StatusOr<frontend::CostReport> r;
  {
    py::gil_scoped_release release;
    r = frontend::RunCost(Model(path, workload), name, f);
  }
  return ToPython(Take(std::move(r)).json);
}

py::object Validate(const std::string& manifest, const std::string& model_path,
                  const Workload* workload, const Hardware* hardware,
                  const std::vector<std::string>& args) {
  frontend::ValidateFlags f;
  Check(Parse(Options("validate", nullptr, nullptr, nullptr, nullptr, nullptr, nullptr, &f), args));
  f.hardware_object = HardwareOf(hardware);
  absl::StatusOr<std::vector<validate::Violation>> found;
  {
    py::gil_scoped_release release;
    found = frontend::ValidateManifestFile(manifest, f, Model(model_path, workload));
  }
  // The document `validate --json` writes.
  return ToPython(frontend::ValidationJson(manifest, Take(std::move(found))));
}

// run(): inputs are float32 C-order arrays (the wrapper converts them).
py::tuple Run(const std::string& path, const Workload* workload,
              const std::vector<std::string>& args,
              const std::map<std::string, py::array_t<float, py::array::c_style | py::array::forcecast>>&
                  inputs,
              bool activity, const py::object& callback) {
  frontend::RunFlags f;
  Check(Parse(Options("run", nullptr, nullptr, nullptr, nullptr, nullptr, &f, nullptr), args));
  std::map<std::string, runtime::Array> in;
  for (const auto& [name, a] : inputs) {
    runtime::Array& x = in[name];
    x.shape.assign(a.shape(), a.shape() + a.ndim());
    x.values.assign(a.data(), a.data() + a.size());
  }
  Progress progress;
  runtime::RunOptions options;
  options.threads = f.threads;
  options.activity = activity;
  options.cancel = &progress.cancel;
  options.progress = [&](int64_t done, int64_t total) { progress.Set(done, total); };
  struct Out {
    runtime::RunResult result;
    std::string activity_json;
  };
  std::function<absl::StatusOr<Out>()> work = [&]() -> absl::StatusOr<Out> {
    // The runtime needs the parameters: import (again) with them.
    std::optional<ir::Workload> imported;
    const ir::Workload* w = nullptr;
    if (workload == nullptr) {
      f.import.options.load_parameters = true;
      absl::StatusOr<ir::Workload> x = frontend::LoadWorkload(frontend::ModelRef{path, nullptr}, &f.import);
      if (!x.ok()) return x.status();
      imported = *std::move(x);
      w = &*imported;
    } else {
      w = workload->w.get();
      bool loaded = true;
      for (const ir::Layer& l : w->layers) loaded = loaded && (!l.has_weights() || l.params.loaded);
      if (!loaded) {
        importer::ImportOptions o = workload->import.options;
        o.load_parameters = true;
        absl::StatusOr<ir::Workload> x =
            workload->bytes ? importer::ImportBytes(*workload->bytes, workload->source, o)
                            : importer::ImportFile(workload->path, o);
        if (!x.ok()) return x.status();
        imported = *std::move(x);
        w = &*imported;
      }
    }
    absl::StatusOr<runtime::RunResult> r = runtime::RunWorkload(*w, in, options);
    if (!r.ok()) return r.status();
    Out out;
    if (activity) {
      runtime::ActivityProfile profile;
      if (absl::Status s = runtime::AddActivity(*r, &profile); !s.ok()) return s;
      out.activity_json = runtime::ActivityJson(profile, w->model_file, w->model_sha256);
    }
    out.result = *std::move(r);
    return out;
  };
  Out out = Take(Interruptible(work, progress, callback));
  py::dict outputs;
  for (const auto& [name, a] : out.result.outputs) {
    py::array_t<float> arr(std::vector<py::ssize_t>(a.shape.begin(), a.shape.end()));
    std::copy(a.values.begin(), a.values.end(), arr.mutable_data());
    outputs[py::str(name)] = arr;
  }
  return py::make_tuple(outputs, out.result.not_produced,
                        activity ? py::object(py::str(out.activity_json)) : py::object(py::none()));
}

void WritePlan(const Plan& p, const std::string& path, bool summary_only) {
  absl::Status s;
  {
    py::gil_scoped_release release;
    frontend::AtomicFileWriter writer(path);
    s = writer.status();
    if (s.ok()) {
      frontend::WriteManifestFile(*p.p, summary_only, writer.stream());
      s = writer.Commit();
    }
  }
  Check(s);
}

std::string ManifestText(const Plan& p, bool summary_only) {
  std::ostringstream out;
  {
    py::gil_scoped_release release;
    frontend::WriteManifestFile(*p.p, summary_only, out);
  }
  return out.str();
}

}  // namespace
}  // namespace snnplan::python

PYBIND11_MODULE(_core, m) {
  using namespace snnplan;          // NOLINT
  using namespace snnplan::python;  // NOLINT
  m.doc() = "snnplan's C++ core (use the snnplan package)";
  static py::exception<std::runtime_error> error(m, "Error", PyExc_ValueError);
  g_error = error.ptr();

  py::class_<Workload>(m, "Workload")
      .def("json_text", [](const Workload& w) { return importer::ToJson(*w.w).dump(2) + "\n"; })
      .def("table", [](const Workload& w) { return importer::DescribeTable(*w.w); })
      .def_property_readonly("model_file", [](const Workload& w) { return w.w->model_file; });
  py::class_<Hardware>(m, "Hardware")
      .def("json_text", [](const Hardware& h) { return hw::ToJson(*h.hw).dump(2) + "\n"; })
      .def("describe", [](const Hardware& h) { return hw::Describe(*h.hw); })
      .def_property_readonly("name", [](const Hardware& h) { return h.hw->name; });
  py::class_<Plan>(m, "Plan")
      .def("summary_json", [](const Plan& p) { return frontend::SummaryJsonText(*p.p); })
      .def("describe", [](const Plan& p) { return frontend::DescribePlan(*p.p, p.default_hardware); })
      .def("write", &WritePlan, py::arg("path"), py::arg("summary_only") = false)
      .def("manifest_text", &ManifestText, py::arg("summary_only") = false);

  m.def("option_names", &OptionNames);
  m.def("import_model", &ImportModel);
  m.def("load_hardware", &LoadHardware);
  m.def("plan", &MakePlan);
  m.def("explore", &Explore);
  m.def("allocate", &Allocate);
  m.def("cost", &Cost);
  m.def("validate", &Validate);
  m.def("run", &Run);
}
