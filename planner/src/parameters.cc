// The parameter block of each layer: every value the IR holds for a layer
// besides its weights, laid out as IEEE-754 binary64 values in a fixed,
// documented field order (docs/manifest.md, "parameters").
#include "absl/strings/str_cat.h"
#include "plan_internal.h"

namespace snnplan::plan {
namespace {

const char* PostOpName(ir::PostOpKind k) {
  switch (k) {
    case ir::PostOpKind::kAffine:
      return "affine";
    case ir::PostOpKind::kRelu:
      return "relu";
    case ir::PostOpKind::kLeakyRelu:
      return "leaky_relu";
    case ir::PostOpKind::kClip:
      return "clip";
    case ir::PostOpKind::kSigmoid:
      return "sigmoid";
    case ir::PostOpKind::kTanh:
      return "tanh";
    case ir::PostOpKind::kHardSigmoid:
      return "hard_sigmoid";
  }
  return "?";
}

class BlockBuilder {
 public:
  explicit BlockBuilder(ParamBlock* block) : b_(block) {}
  void Add(std::string name, int64_t count, std::string layout) {
    b_->fields.push_back({std::move(name), offset_, count, std::move(layout)});
    offset_ += count * kParamValueBytes;
  }
  // A parameter as the IR holds it: its values, or the one `value`.
  void Add(std::string name, const ir::NeuronParam& p) {
    const bool scalar = p.layout == ir::ParamLayout::kScalar || p.values.empty();
    Add(std::move(name), scalar ? 1 : static_cast<int64_t>(p.values.size()),
        scalar ? std::string("scalar") : std::string(ir::ParamLayoutName(p.layout)));
  }
  void Terms(const std::string& prefix, const std::vector<ir::NeuronTerm>& terms) {
    for (size_t i = 0; i < terms.size(); ++i) Add(absl::StrCat(prefix, ".term", i), terms[i].coef);
  }
  int64_t bytes() const { return offset_; }

 private:
  ParamBlock* b_;
  int64_t offset_ = 0;
};

}  // namespace

std::vector<ParamBlock> LayerParameters(const ir::Workload& w, const hw::Hardware& hw,
                                        const std::vector<int>& layer_core) {
  std::vector<ParamBlock> blocks;
  for (size_t id = 0; id < w.layers.size(); ++id) {
    const ir::Layer& l = w.layers[id];
    ParamBlock block;
    block.layer = static_cast<int>(id);
    BlockBuilder b(&block);
    if (!l.params.bias.empty()) {
      const int64_t n = static_cast<int64_t>(l.params.bias.size());
      b.Add("bias", n, n == 1 ? "scalar" : "per_channel");
    }
    for (size_t j = 0; j < l.params.post.size(); ++j) {
      const ir::PostOp& op = l.params.post[j];
      block.post_ops.push_back(PostOpName(op.kind));
      const std::string p = absl::StrCat("post", j, ".");
      switch (op.kind) {
        case ir::PostOpKind::kAffine:
          b.Add(p + "scale", op.scale);
          b.Add(p + "shift", op.shift);
          break;
        case ir::PostOpKind::kLeakyRelu:
          b.Add(p + "alpha", 1, "scalar");
          break;
        case ir::PostOpKind::kHardSigmoid:
          b.Add(p + "alpha", 1, "scalar");
          b.Add(p + "beta", 1, "scalar");
          break;
        case ir::PostOpKind::kClip:
          b.Add(p + "lo", 1, "scalar");
          b.Add(p + "hi", 1, "scalar");
          break;
        case ir::PostOpKind::kRelu:
        case ir::PostOpKind::kSigmoid:
        case ir::PostOpKind::kTanh:
          break;
      }
    }
    if (l.spiking()) {
      const ir::Neuron& n = l.neuron;
      b.Add("neuron.threshold", n.threshold);
      b.Add("neuron.decay", n.decay);
      b.Add("neuron.reset_amount", n.reset_amount);
      b.Add("neuron.reset_value", 1, "scalar");
      b.Add("neuron.input_gain", n.input_gain);
      b.Add("neuron.syn_decay", n.syn_decay);
      b.Add("neuron.spike_gain", n.spike_gain);
      const ir::NeuronDynamics& d = n.dynamics;
      for (size_t g = 0; g < d.gates.size(); ++g)
        b.Terms(absl::StrCat("dynamics.gate", g), d.gates[g].arg);
      for (size_t s = 0; s < d.next.size(); ++s)
        b.Terms(absl::StrCat("dynamics.next", s), d.next[s]);
      b.Terms("dynamics.output", d.output);
      if (!d.initial.empty())
        b.Add("dynamics.initial", static_cast<int64_t>(d.initial.size()), "per_state");
    }
    if (block.fields.empty()) continue;
    const int64_t granularity = hw.cores[layer_core[id]].global_buffer().access_granularity_bits;
    block.bytes = GranuleBytes(b.bytes() * 8, granularity);
    blocks.push_back(std::move(block));
  }
  return blocks;
}

}  // namespace snnplan::plan
