// The CPU runtime behind `snnplan run`: NumPy .npy/.npz files in and out, the
// float32 numerical kernels (convolution, linear, pooling) on raw NCHW
// buffers, and the executor that runs an imported ir::Workload on them.
//
// Kernels are deterministic: every output element is computed by the same
// instructions in the same order whatever `threads` is (work is cut into
// items that depend only on the geometry; threads only pick items up), so
// results are byte-identical for any thread count. OpenBLAS is set to one
// thread of its own on first use; the runtime parallelises with std::thread.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "snnplan/ir.h"

namespace snnplan::runtime {

// ---------------------------------------------------------------- NumPy files

// The element types a .npy may hold ('<f4', '<f8', '<f2', '|u1', '|i1',
// '<i2', '<i4', '<i8', '|b1').
enum class DType { kFloat32, kFloat64, kFloat16, kUInt8, kInt8, kInt16, kInt32, kInt64, kBool };

// "float32", "float64", ..., "bool" (a C string: Debian's Abseil has its own
// string_view, which StrCat takes and std::string_view is not).
const char* DTypeName(DType dtype);

// A dense row-major (C-order) array. `dtype` is what the file held; `values`
// holds every element converted to float32 (bool and integers exactly while
// they fit in 24 bits, float64 rounded to nearest, out-of-range to +-inf).
struct Array {
  DType dtype = DType::kFloat32;
  std::vector<int64_t> shape;  // {} = a scalar (one value)
  std::vector<float> values;   // product(shape) elements
};

// Largest array read (elements), checked from the header before anything is
// allocated; ReadNpz/ParseNpz bound the sum over all members by it too.
inline constexpr int64_t kMaxArrayElements = int64_t{1} << 31;

// Reads a .npy file (format versions 1.0, 2.0 and 3.0). Errors name the file:
// "<path>: ..." (NotFound when it does not exist; InvalidArgument for a bad
// magic or version, a malformed header dict, an unsupported, big-endian or
// object dtype, fortran_order True, a negative or too large shape, data
// shorter or longer than the shape needs).
absl::StatusOr<Array> ReadNpy(const std::string& path);

// Reads a .npz (np.savez or np.savez_compressed: stored or deflated members)
// with libzip. Keys are the member names without ".npy". Errors name the file
// and the member: "<path>: member 'x.npy': ...". A member not named *.npy,
// two members with one name, an empty file or a corrupt archive (truncated,
// bad CRC, bad deflate data) are errors.
absl::StatusOr<std::map<std::string, Array>> ReadNpz(const std::string& path);

// The same from bytes already in memory; `name` stands for the path in errors.
absl::StatusOr<Array> ParseNpy(std::string_view bytes, const std::string& name);
absl::StatusOr<std::map<std::string, Array>> ParseNpz(std::string_view bytes,
                                                      const std::string& name);

// The .npz WriteNpz writes: one stored (uncompressed) member "<key>.npy" per
// array, in key order, each a '<f4' .npy (format 1.0, numpy's own header
// layout) of `values` (whatever `dtype` says), fixed timestamps: the same
// arrays always give the same bytes. Errors: an empty key, a key with a NUL
// byte, a negative dimension, values.size() != product(shape).
absl::StatusOr<std::string> NpzBytes(const std::map<std::string, Array>& arrays);

// Writes NpzBytes(arrays) to `path` through a temporary file beside it that
// is renamed onto `path`, so a failure never leaves a partial file.
absl::Status WriteNpz(const std::string& path, const std::map<std::string, Array>& arrays);

// -------------------------------------------------------------------- kernels
//
// All buffers are float32, dense, NCHW, and must not overlap. `threads` <= 1
// runs on the calling thread; at most 64 threads are used. Sizes are element
// counts; pads are ONNX's [top, left, bottom, right] positions outside the
// input: zeros for convolution, ignored (MaxPool) or counted as configured
// (AvgPool) for pooling.

struct ConvGeometry {                  // 2-D (1-D convolutions use h = fy = 1)
  int64_t n = 1, c = 1, h = 1, w = 1;  // input batch, channels, height, width
  int64_t k = 1, groups = 1;           // output channels (total); c, k divisible by groups
  int64_t fy = 1, fx = 1, stride_y = 1, stride_x = 1, dil_y = 1, dil_x = 1;
  int64_t pad_top = 0, pad_left = 0, pad_bottom = 0, pad_right = 0;
  int64_t oy = 1, ox = 1;  // output size: must be floor((h + pads - dil*(f-1) - 1)/stride) + 1
};

// y[n][k][oy][ox] = bias[k] + sum over (c in k's group, ky, kx) of
// w[k][c][ky][kx] * x[n][c][iy][ix]. w is [k][c/groups][fy][fx]; bias is [k]
// or nullptr. InvalidArgument when the geometry is inconsistent (non-positive
// sizes, negative pads, groups not dividing c and k, oy/ox not the ONNX output
// size, sizes beyond BLAS's 32-bit indices); nothing is written then.
absl::Status Conv2d(const ConvGeometry& g, const float* x, const float* w, const float* bias,
                    float* y, int threads);

// y[n][k] = x[n][c] . w[k][c] + bias[k] (ONNX Gemm with transB = 1); bias may
// be nullptr. Sizes <= 0 do nothing.
void Linear(int64_t n, int64_t c, int64_t k, const float* x, const float* w, const float* bias,
            float* y, int threads);

struct PoolGeometry {
  int64_t n = 1, c = 1, h = 1, w = 1;
  int64_t fy = 1, fx = 1, stride_y = 1, stride_x = 1, dil_y = 1, dil_x = 1;
  int64_t pad_top = 0, pad_left = 0, pad_bottom = 0, pad_right = 0;
  // Output size: the floor-mode size, or one more (ceil_mode) when the extra
  // window exists, i.e. oy in [floor, ceil((h + pads - dil*(fy-1) - 1)/stride) + 1].
  int64_t oy = 1, ox = 1;
  bool count_include_pad = false;  // AvgPool2d only
};

// Max over the window's input positions; padding is -inf (never chosen), a
// NaN in the window gives NaN (as PyTorch). A window with no input position
// (possible only in a ceil-mode extra window) gives -inf.
// InvalidArgument when the geometry is inconsistent; nothing is written then.
absl::Status MaxPool2d(const PoolGeometry& g, const float* x, float* y, int threads);

// Mean over the window (ONNX AveragePool): count_include_pad false divides by
// the number of input positions in the window; true by the number of window
// positions inside the padded input [-pad_top, h + pad_bottom) x [-pad_left,
// w + pad_right) (a ceil-mode window hanging past the padding counts only
// what lies inside it, as ONNX Runtime and PyTorch). Sums in double, rounds
// once. A window with nothing to count gives 0.
absl::Status AvgPool2d(const PoolGeometry& g, const float* x, float* y, int threads);

// y[n][c] = mean of x[n][c][0..hw) (summed in double, rounded once).
void GlobalAvgPool(int64_t n, int64_t c, int64_t hw, const float* x, float* y);

// ------------------------------------------------------------------ executor

// One field per knob; each maps 1:1 to a flag of `snnplan run`.
struct RunOptions {
  // -j: threads for the kernels and neuron updates (results do not depend on it).
  int threads = 1;
  // --activity: record each layer's input activity.
  bool activity = false;
  // Called on the calling thread after each layer with (layers done, layers).
  std::function<void(int64_t done, int64_t total)> progress;
  // When set and true (checked between layers), RunWorkload returns
  // CancelledError (front ends set it on Ctrl-C).
  const std::atomic<bool>* cancel = nullptr;
};

// A layer's input activity: per step, the non-zero values read and all
// values read (over every sample of the batch).
struct LayerActivity {
  std::string layer;
  std::vector<int64_t> nonzero, total;
};

struct RunResult {
  int64_t timesteps = 0;                  // steps run
  std::map<std::string, Array> outputs;   // by graph output name
  std::vector<std::string> not_produced;  // "name: why" for outputs the IR does not compute
  std::vector<LayerActivity> activity;    // per layer (RunOptions::activity)
};

// Executes the workload (imported with ImportOptions::load_parameters) for
// its w.timesteps steps on `inputs`, keyed by the graph's input names: the
// network input with all its steps (graphs that hold T: the graph's own
// shape; single-step exports: the steps stacked on a leading axis, or the
// graph's shape when T = 1), optionally initial neuron states (default: the
// export's initial values). Every graph output the IR computes is produced
// with its graph shape (single-step exports run for T > 1: stacked over the
// steps); the others are listed with why. uint8/bool/integer inputs are
// read as their float values.
absl::StatusOr<RunResult> RunWorkload(const ir::Workload& w, const std::map<std::string, Array>& inputs,
                                      const RunOptions& options);

// Replays a schema-4 manifest by execution (`snnplan run --manifest`,
// docs/run.md "Replaying a manifest"): byte-addressed DRAM and one memory per
// core; the host writes the weights, the network input slices and the
// initial state slices; every load, store and NoC copy moves its bytes;
// every tile decodes its operands from the allocations it reads (and its
// stream's DRAM reads) in the documented layouts, computes with the
// arithmetic of RunWorkload and encodes its output and state into the
// allocations it writes. The outputs are read back from the manifest's
// network_io.outputs slices; graph outputs the manifest does not write are
// listed in not_produced. Multi-bit elements must be binary32 (weights,
// input, features) and binary64 (states); other widths, a manifest of
// another model or import, crossbar layers and inputs that set states are
// refused. Errors (InvalidArgument) start with `name` and name the tile,
// transfer or allocation involved. `w` is imported with load_parameters.
absl::StatusOr<RunResult> ReplayManifest(std::string_view manifest, const std::string& name,
                                         const ir::Workload& w,
                                         const std::map<std::string, Array>& inputs,
                                         const RunOptions& options);

// Input activity summed over runs (a dataset), one entry per layer of the
// workload in layer order; steps are the layer's own (1 after a time mean).
struct ActivityProfile {
  int64_t samples = 0;    // runs added
  int64_t timesteps = 0;  // steps of the runs (all runs must agree)
  std::vector<LayerActivity> layers;
};

// Adds one run's activity (RunOptions::activity) to `profile`; runs of a
// different step count are an error.
absl::Status AddActivity(const RunResult& run, ActivityProfile* profile);

// The activity file (docs/run.md#the-activity-file): format "snnplan-activity" version 1,
// per layer name the input density (non-zero / values read) overall and per
// timestep, with the counts. Deterministic text.
std::string ActivityJson(const ActivityProfile& profile, const std::string& model_file,
                         const std::string& model_sha256);

// ------------------------------------------------------------ early exit

// An exit policy as DT-SNN defines it (Li et al. 2023): after step t, the
// mean of the chosen output's steps 1..t goes through a softmax over its
// classes, and inference stops once the normalised entropy H(p) / log(K)
// falls below `threshold` (docs/run.md, "Early exit").
struct ExitPolicy {
  double threshold = 0;  // normalised entropy, in (0, 1]
  std::string output;    // graph output read ("" = the only one recorded per step)
};
// Parses "entropy:THRESHOLD" (--exit); `output` is --exit-output.
absl::StatusOr<ExitPolicy> ParseExitPolicy(std::string_view spec, std::string output);
std::string ExitPolicyText(const ExitPolicy& policy);  // "entropy:0.3"
// The graph output the policy reads: recorded per step (a leading axis of
// run.timesteps, then [batch,] classes...).
absl::StatusOr<std::string> ExitOutputName(const RunResult& run, const ExitPolicy& policy);
// Per sample of the run's batch, the number of steps after which the policy
// exits (1..T; T when it is never confident enough).
absl::StatusOr<std::vector<int64_t>> ExitSteps(const RunResult& run, const ExitPolicy& policy);

inline constexpr char kExitProfileFormat[] = "snnplan-exit-profile";
inline constexpr int64_t kExitProfileVersion = 1;

// Exit steps over a dataset: one entry per input file (its batch's samples).
struct ExitProfile {
  struct Input {
    std::string input;                // the input file's name
    std::vector<int64_t> exit_steps;  // per sample of its batch
  };
  int64_t timesteps = 0;
  std::vector<Input> inputs;
};
// Adds one input's exit steps; runs of another step count are an error.
absl::Status AddExits(const std::string& input, int64_t timesteps,
                      const std::vector<int64_t>& exit_steps, ExitProfile* profile);
// The exit profile file: format "snnplan-exit-profile" version 1, the
// probability of exiting after 1..T steps, the mean step count and each
// input's exit steps. Deterministic text.
std::string ExitProfileJson(const ExitProfile& profile, const ExitPolicy& policy,
                            const std::string& output, const std::string& model_file,
                            const std::string& model_sha256);

}  // namespace snnplan::runtime
