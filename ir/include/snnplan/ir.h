// The stateful workload IR: plain value types produced by the importer and
// read by the cost model and the planner. No stage mutates another's output.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace snnplan::ir {

// Loop dimensions of a layer, in the vocabulary of ZigZag/Stream.
enum class Dim { kT, kB, kK, kC, kG, kOY, kOX, kFY, kFX };
inline constexpr std::array<Dim, 9> kAllDims = {Dim::kT,  Dim::kB,  Dim::kK,  Dim::kC, Dim::kG,
                                                Dim::kOY, Dim::kOX, Dim::kFY, Dim::kFX};
std::string_view DimName(Dim d);
std::optional<Dim> ParseDim(std::string_view name);

// The operands a computation touches: weights, input features, output
// features and neuron state.
enum class Operand { kW, kI, kO, kS };
inline constexpr std::array<Operand, 4> kAllOperands = {Operand::kW, Operand::kI, Operand::kO,
                                                        Operand::kS};
std::string_view OperandName(Operand op);
std::optional<Operand> ParseOperand(std::string_view name);

enum class OpKind {
  kConv,    // Conv (incl. grouped); BatchNorm folded in
  kLinear,  // Gemm / MatMul
  kMaxPool,
  kAvgPool,        // AveragePool (incl. a preceding Pad)
  kGlobalAvgPool,  // GlobalAveragePool, or ReduceMean over H,W
  kAdd,            // sum of multi-bit features (residual join, or currents into one neuron)
  kSewOr,          // SEW join of spikes: a OR b
  kSewAnd,         // SEW join of spikes: a AND b
  kTimeMean,   // mean over the T axis (classifier heads)
  kRelu,       // standalone ReLU (one not fused into a producer)
  kBatchNorm,  // only where no conv precedes it
  kSewAdd,     // SEW join of spikes: a + b (0/1/2)
  kSewIAnd,    // SEW join of spikes: (NOT a) AND b, inputs in that order
  kScale,      // elementwise gain/offset/activation of one input (not fused into a producer)
};
// Elementwise joins of several inputs (read one value from each).
bool IsJoin(OpKind op);
std::string_view OpKindName(OpKind op);
std::optional<OpKind> ParseOpKind(std::string_view name);

enum class NeuronMode { kNone, kStateful, kStateless };
enum class ResetMode { kNone, kSubtract, kZero, kOther };
// When the reset acts: on the membrane right after it fired (SpikingJelly,
// snnTorch reset_delay=False), or at the next step, decided from the
// carried membrane (snnTorch's default reset_delay=True).
enum class ResetTiming { kNone, kAfterFire, kNextStep };
std::string_view NeuronModeName(NeuronMode m);
std::string_view ResetModeName(ResetMode r);
std::string_view ResetTimingName(ResetTiming t);

// Loop bounds of one layer (per inference; T = timesteps, B = samples).
// Conv: O[t][b][g][k][oy][ox] += W[g][k][c][fy][fx] * I[t][b][g][c][iy][ix].
// Pooling and elementwise ops: K = channels, C = 1 (channel k reads channel
// k), FY x FX = pooling window (1 x 1 for elementwise).
struct LoopDims {
  int64_t T = 1;
  int64_t B = 1;
  int64_t K = 1;
  int64_t C = 1;
  int64_t G = 1;
  int64_t OY = 1;
  int64_t OX = 1;
  int64_t FY = 1;
  int64_t FX = 1;

  int64_t Get(Dim d) const;
  void Set(Dim d, int64_t v);
  friend bool operator==(const LoopDims&, const LoopDims&) = default;
};

// Sliding-window geometry: iy = oy * stride_y - pad_top + fy * dilation_y.
struct Window {
  int64_t stride_y = 1;
  int64_t stride_x = 1;
  int64_t pad_top = 0;
  int64_t pad_left = 0;
  int64_t pad_bottom = 0;
  int64_t pad_right = 0;
  int64_t dilation_y = 1;
  int64_t dilation_x = 1;
  friend bool operator==(const Window&, const Window&) = default;
};

// A neuron parameter: one value for the whole layer, one per output channel
// (K), or one per neuron (K*OY*OX, in the layer's output order).
enum class ParamLayout { kScalar, kPerChannel, kPerNeuron };
std::string_view ParamLayoutName(ParamLayout l);
struct NeuronParam {
  double value = 0.0;       // the scalar, or the first value
  bool per_neuron = false;  // more than one distinct value (per channel or per neuron)
  ParamLayout layout = ParamLayout::kScalar;
  std::vector<double> values;  // every value: 1, K or K*OY*OX
  static NeuronParam Scalar(double v) { return {v, false, ParamLayout::kScalar, {v}}; }
  friend bool operator==(const NeuronParam&, const NeuronParam&) = default;
};

// The exact per-timestep update of a neuron layer, as the importer verified
// it against the ONNX graph (docs/ir.md, "Neuron model"). Variables are the
// states 0..states-1 (state 0 is the membrane) followed by the input
// currents. A term is coef * variable * product of its gates (var -1: no
// variable); a gate is a Heaviside step H(arg > 0), or H(arg >= 0) when
// inclusive, of a sum of terms. Per step: evaluate the gates in order (the
// gate `fire` is the spike), then every state's next value and the output.
struct NeuronTerm {
  int var = -1;
  uint32_t gates = 0;  // bit g: gate g
  NeuronParam coef;
  friend bool operator==(const NeuronTerm&, const NeuronTerm&) = default;
};
struct NeuronGate {
  bool inclusive = false;
  std::vector<NeuronTerm> arg;
  friend bool operator==(const NeuronGate&, const NeuronGate&) = default;
};
struct NeuronDynamics {
  int states = 0;
  int currents = 0;
  std::vector<NeuronGate> gates;                // dependency order
  int fire = -1;                                // index of the spike gate
  std::vector<std::vector<NeuronTerm>> next;    // next value of each state
  std::vector<NeuronTerm> output;               // what the layer emits (gain * spike)
  std::vector<double> initial;                  // each state's value before step 0
  friend bool operator==(const NeuronDynamics&, const NeuronDynamics&) = default;
};

struct Neuron {
  NeuronMode mode = NeuronMode::kNone;
  std::string kind;           // "lif", "if", "synaptic", "alpha", "custom" ("" when none)
  int states_per_neuron = 0;  // state variables per neuron (LIF: 1)
  ResetMode reset = ResetMode::kNone;
  ResetTiming reset_timing = ResetTiming::kNone;
  double reset_value = 0.0;   // v_reset of a zero (hard) reset
  NeuronParam reset_amount;   // subtracted by a subtract reset (usually the threshold)
  NeuronParam decay;          // membrane multiplier per step (beta, 1-1/tau)
  NeuronParam threshold;      // firing threshold of the membrane
  bool fire_inclusive = false;  // fires at v >= threshold (else v > threshold)
  NeuronParam input_gain = NeuronParam::Scalar(1.0);  // factor of the input current (1/tau when decay_input)
  bool decay_input = false;   // input_gain != 1 (SpikingJelly decay_input=True)
  NeuronParam syn_decay;      // synaptic current decay (synaptic / alpha kinds)
  NeuronParam spike_gain = NeuronParam::Scalar(1.0);  // constant factor on the emitted spikes
  std::vector<int> current_layers;  // layers whose outputs are summed into the input current
  NeuronDynamics dynamics;
  friend bool operator==(const Neuron&, const Neuron&) = default;
};

// Precisions in bits.
struct Precision {
  int weight_bits = 4;        // W as stored
  int input_bits = 1;         // I: 1 = spikes, >1 = analog features
  int output_bits = 1;        // O passed on to consumers (spike = 1)
  int state_bits = 12;        // S stored in memory
  int accumulator_bits = 16;  // S / partial sums in the PE register
  friend bool operator==(const Precision&, const Precision&) = default;
};

inline constexpr int kNetworkInput = -1;  // Layer::inputs entry: graph input

// What an elementwise step after a layer's main computation does to each
// output value x (folded BatchNorm, bias, scale, activations), in order.
enum class PostOpKind { kAffine, kRelu, kLeakyRelu, kClip, kSigmoid, kTanh, kHardSigmoid };
struct PostOp {
  PostOpKind kind = PostOpKind::kAffine;
  NeuronParam scale = NeuronParam::Scalar(1.0);  // kAffine: x * scale + shift (per channel, ...)
  NeuronParam shift = NeuronParam::Scalar(0.0);
  double alpha = 0.0;  // kLeakyRelu slope; kHardSigmoid alpha
  double beta = 0.0;   // kHardSigmoid beta
  double lo = 0.0, hi = 0.0;  // kClip bounds
  friend bool operator==(const PostOp&, const PostOp&) = default;
};

// The values a layer computes with, filled when a command needs them
// (ImportOptions::load_parameters); planning only needs the shapes.
struct LayerParams {
  std::vector<float> weights;  // conv [G*K][C][FY][FX], linear [K][C] (ONNX order)
  std::vector<float> bias;     // G*K values, or empty
  std::vector<PostOp> post;    // applied in order to the (biased) output
  bool count_include_pad = false;  // average pooling: padding counts in the mean
  bool loaded = false;         // the file's values were read
  friend bool operator==(const LayerParams&, const LayerParams&) = default;
};

struct Layer {
  std::string name;  // ONNX node name it came from
  OpKind op = OpKind::kConv;
  std::vector<int> inputs;  // producer layer ids, or kNetworkInput
  // Recurrence: parallel to `inputs` (empty = none delayed); 1 marks an input
  // read one step late: at step t the producer's output of step t-1, zeros at
  // t = 0. A delayed producer may come later in the order (or be this layer);
  // every other producer comes earlier, so the same-step graph is a DAG.
  std::vector<uint8_t> input_delayed;
  int block = 0;            // schedule block id (0-based)
  LoopDims dims;
  Window window;
  int64_t in_y = 1;  // input feature rows (IY) and columns (IX)
  int64_t in_x = 1;
  Neuron neuron;
  Precision precision;
  int64_t weight_elements = 0;     // parameter elements as stored in the file
  std::vector<int64_t> out_shape;  // per sample and timestep, e.g. {K, OY, OX}
  bool network_output = false;     // its output leaves the chip
  LayerParams params;

  bool stateful() const { return neuron.mode == NeuronMode::kStateful; }
  bool delayed(size_t k) const { return k < input_delayed.size() && input_delayed[k] != 0; }
  bool has_delayed_input() const;
  bool spiking() const { return neuron.mode != NeuronMode::kNone; }
  bool has_weights() const { return op == OpKind::kConv || op == OpKind::kLinear; }
  // Weight elements the hardware holds: G*K*C*FY*FX (bias and folded BN are
  // kept by the accelerator in the neuron update, not in the weight memory).
  int64_t WeightsUsed() const;
  int64_t InputChannels() const;          // channels of the input tensor
  int64_t OutputElementsPerStep() const;  // B*G*K*OY*OX
  int64_t InputElementsPerStep() const;   // B*channels*IY*IX
  int64_t NeuronStates() const;           // B*G*K*OY*OX*states_per_neuron
  int64_t OpsPerStep() const;             // B*G*K*C*OY*OX*FY*FX
  // Multi-bit input makes the PE do MACs, 1-bit spikes make it do SOPs.
  bool uses_sop() const { return precision.input_bits == 1; }
};

// How a graph input or output of the source model maps onto the IR (what
// `snnplan run` reads and writes, keyed by the graph's own names).
enum class BindingKind {
  kNetworkInput,    // input: the data every kNetworkInput layer reads
  kState,           // input: initial value of a neuron state; output: a neuron state
  kLayerOutput,     // output: a layer's output (spikes or features)
  kNotProduced,     // output: nothing in the IR computes it (`why` says what it is)
  kUnused,          // input: nothing in the IR reads it (`why` says why)
  kLayerCurrent,    // output: a spiking layer's value before its neuron (its input current)
  kPreviousOutput,  // input: a layer's output of the step before the first (what a delayed
                    // input reads at step 0; zeros unless given), e.g. RLeaky's `spk`
};
// Which time steps a tensor holds.
enum class BindingSteps {
  kAll,   // all T steps, on the leading axes ([T, B, ...] or [T*B, ...])
  kOne,   // one step per call (single-step exports) or the value after the last step
  kNone,  // no time axis (after a mean over time)
};
struct Binding {
  std::string name;
  BindingKind kind = BindingKind::kNotProduced;
  BindingSteps steps = BindingSteps::kAll;
  std::vector<int64_t> shape;  // as the graph declares or propagates it
  int layer = -1;              // kState / kLayerOutput / kLayerCurrent / kPreviousOutput: the layer
  int state = -1;              // kState: the neuron state index (dynamics variable)
  std::string why;             // kNotProduced: what the value is
};

// One of several models planned as one deployment (importer::CombineWorkloads):
// which layers and blocks of the combined workload are its own.
struct Network {
  std::string name;    // unique in the deployment (the file's stem); prefixes its layer names
  std::string file;    // file name of its source model (no directory)
  std::string sha256;  // hex digest of that file
  int first_layer = 0, end_layer = 0;  // its layers: ids [first_layer, end_layer)
  int first_block = 0, end_block = 0;  // its blocks: ids [first_block, end_block)
  bool shares_input = false;           // reads an earlier network's input (same shape), not its own
};

struct Workload {
  // One model: its file name (no directory) and the file's hex digest.
  // Several (networks non-empty): the file names joined by "+", and the
  // digest of the members' digests (importer::CombineWorkloads).
  std::string model_file;
  std::string model_sha256;
  int64_t timesteps = 1;
  int64_t batch = 1;
  bool time_in_graph = false;  // the graph holds all T steps (unrolled, Loop, [T,B,...] input)
  std::vector<Layer> layers;  // topological order; layer id = index
  int num_blocks = 0;
  std::vector<Binding> inputs;   // the graph's inputs, in declaration order
  std::vector<Binding> outputs;  // the graph's outputs, in declaration order
  // NIR models: the time step (seconds) their continuous-time neurons were
  // discretised with (--dt); unset for ONNX models, which are discrete.
  std::optional<double> dt_seconds;
  // Several models in one deployment: one entry per model, in order; empty
  // for a single model.
  std::vector<Network> networks;

  int64_t TotalNeuronStates() const;
  int64_t TotalWeightsUsed() const;
};

// Layers on a recurrent cycle (a path through a delayed edge back to where it
// started): they cannot run several timesteps ahead of each other, so every
// schedule steps them one timestep at a time. Index = layer id.
std::vector<bool> RecurrentLayers(const Workload& w);

// ---- inline definitions --------------------------------------------------

inline std::string_view DimName(Dim d) {
  constexpr std::array<std::string_view, 9> kNames = {"T",  "B",  "K",  "C", "G",
                                                      "OY", "OX", "FY", "FX"};
  return kNames[static_cast<int>(d)];
}
inline std::optional<Dim> ParseDim(std::string_view name) {
  for (Dim d : kAllDims)
    if (DimName(d) == name) return d;
  return std::nullopt;
}
inline std::string_view OperandName(Operand op) {
  constexpr std::array<std::string_view, 4> kNames = {"W", "I", "O", "S"};
  return kNames[static_cast<int>(op)];
}
inline std::optional<Operand> ParseOperand(std::string_view name) {
  for (Operand op : kAllOperands)
    if (OperandName(op) == name) return op;
  return std::nullopt;
}
inline constexpr std::array<std::string_view, 14> kOpKindNames = {
    "conv",      "linear", "maxpool",   "avgpool", "globalavgpool", "add",      "sew_or",
    "sew_and",   "time_mean", "relu",   "batchnorm", "sew_add",     "sew_iand", "scale"};
inline bool IsJoin(OpKind op) {
  return op == OpKind::kAdd || op == OpKind::kSewOr || op == OpKind::kSewAnd ||
         op == OpKind::kSewAdd || op == OpKind::kSewIAnd;
}
inline std::string_view OpKindName(OpKind op) { return kOpKindNames[static_cast<int>(op)]; }
inline std::optional<OpKind> ParseOpKind(std::string_view name) {
  for (size_t i = 0; i < kOpKindNames.size(); ++i)
    if (kOpKindNames[i] == name) return static_cast<OpKind>(i);
  return std::nullopt;
}
inline std::string_view NeuronModeName(NeuronMode m) {
  switch (m) {
    case NeuronMode::kStateful:
      return "stateful";
    case NeuronMode::kStateless:
      return "stateless";
    case NeuronMode::kNone:
      break;
  }
  return "none";
}
inline std::string_view ResetModeName(ResetMode r) {
  switch (r) {
    case ResetMode::kSubtract:
      return "subtract";
    case ResetMode::kZero:
      return "zero";
    case ResetMode::kOther:
      return "other";
    case ResetMode::kNone:
      break;
  }
  return "none";
}
inline std::string_view ResetTimingName(ResetTiming t) {
  switch (t) {
    case ResetTiming::kAfterFire:
      return "after_fire";
    case ResetTiming::kNextStep:
      return "next_step";
    case ResetTiming::kNone:
      break;
  }
  return "none";
}
inline std::string_view ParamLayoutName(ParamLayout l) {
  switch (l) {
    case ParamLayout::kPerChannel:
      return "per_channel";
    case ParamLayout::kPerNeuron:
      return "per_neuron";
    case ParamLayout::kScalar:
      break;
  }
  return "scalar";
}

inline int64_t LoopDims::Get(Dim d) const {
  switch (d) {
    case Dim::kT:
      return T;
    case Dim::kB:
      return B;
    case Dim::kK:
      return K;
    case Dim::kC:
      return C;
    case Dim::kG:
      return G;
    case Dim::kOY:
      return OY;
    case Dim::kOX:
      return OX;
    case Dim::kFY:
      return FY;
    case Dim::kFX:
      return FX;
  }
  return 1;
}
inline void LoopDims::Set(Dim d, int64_t v) {
  switch (d) {
    case Dim::kT:
      T = v;
      return;
    case Dim::kB:
      B = v;
      return;
    case Dim::kK:
      K = v;
      return;
    case Dim::kC:
      C = v;
      return;
    case Dim::kG:
      G = v;
      return;
    case Dim::kOY:
      OY = v;
      return;
    case Dim::kOX:
      OX = v;
      return;
    case Dim::kFY:
      FY = v;
      return;
    case Dim::kFX:
      FX = v;
      return;
  }
}

inline int64_t Layer::WeightsUsed() const {
  return has_weights() ? dims.G * dims.K * dims.C * dims.FY * dims.FX : 0;
}
inline int64_t Layer::InputChannels() const {
  return has_weights() ? dims.G * dims.C : dims.G * dims.K;
}
inline int64_t Layer::OutputElementsPerStep() const {
  return dims.B * dims.G * dims.K * dims.OY * dims.OX;
}
inline int64_t Layer::InputElementsPerStep() const {
  return dims.B * InputChannels() * in_y * in_x;
}
inline int64_t Layer::NeuronStates() const {
  return stateful() ? OutputElementsPerStep() * neuron.states_per_neuron : 0;
}
inline int64_t Layer::OpsPerStep() const {
  return dims.B * dims.G * dims.K * dims.C * dims.OY * dims.OX * dims.FY * dims.FX;
}
inline bool Layer::has_delayed_input() const {
  for (uint8_t d : input_delayed)
    if (d) return true;
  return false;
}
inline int64_t Workload::TotalNeuronStates() const {
  int64_t n = 0;
  for (const Layer& l : layers) n += l.NeuronStates();
  return n;
}
inline int64_t Workload::TotalWeightsUsed() const {
  int64_t n = 0;
  for (const Layer& l : layers) n += l.WeightsUsed();
  return n;
}

// A delayed edge p -> c closes a cycle through every layer that c reaches
// and that reaches p over same-step edges.
inline std::vector<bool> RecurrentLayers(const Workload& w) {
  const size_t n = w.layers.size();
  std::vector<bool> out(n, false);
  std::vector<std::vector<int>> succs(n);
  for (size_t c = 0; c < n; ++c)
    for (size_t k = 0; k < w.layers[c].inputs.size(); ++k) {
      const int p = w.layers[c].inputs[k];
      if (p >= 0 && static_cast<size_t>(p) < n && !w.layers[c].delayed(k))
        succs[p].push_back(static_cast<int>(c));
    }
  auto walk = [&](int from, bool forward) {
    std::vector<bool> seen(n, false);
    std::vector<int> stack = {from};
    seen[from] = true;
    while (!stack.empty()) {
      const int u = stack.back();
      stack.pop_back();
      std::vector<int> next = forward ? succs[u] : std::vector<int>{};
      if (!forward)
        for (size_t k = 0; k < w.layers[u].inputs.size(); ++k)
          if (!w.layers[u].delayed(k)) next.push_back(w.layers[u].inputs[k]);
      for (int v : next)
        if (v >= 0 && static_cast<size_t>(v) < n && !seen[v]) {
          seen[v] = true;
          stack.push_back(v);
        }
    }
    return seen;
  };
  for (size_t c = 0; c < n; ++c)
    for (size_t k = 0; k < w.layers[c].inputs.size(); ++k) {
      const int p = w.layers[c].inputs[k];
      if (!w.layers[c].delayed(k) || p < 0 || static_cast<size_t>(p) >= n) continue;
      const std::vector<bool> from_c = walk(static_cast<int>(c), true);
      const std::vector<bool> to_p = walk(p, false);
      for (size_t l = 0; l < n; ++l)
        if (from_c[l] && to_p[l]) out[l] = true;
    }
  return out;
}

}  // namespace snnplan::ir
