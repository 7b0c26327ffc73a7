#include "eval.h"

#include <algorithm>

#include "absl/strings/str_cat.h"

namespace snnplan::importer::internal {

SampleEvaluator::SampleEvaluator(const Scope& scope, Shape ref, std::vector<int64_t> positions)
    : scope_(scope), ref_(std::move(ref)), positions_(std::move(positions)) {
  index_.resize(positions_.size());
  for (size_t i = 0; i < positions_.size(); ++i) Unflatten(positions_[i], ref_, &index_[i]);
}

int64_t SampleEvaluator::OffsetIn(const Shape& s, int i) const {
  return BroadcastOffset(s, ref_, index_[i]);
}

void SampleEvaluator::Bind(int value, std::vector<double> per_sample) {
  values_[value] = std::move(per_sample);
}

const std::vector<double>* SampleEvaluator::Get(int value) const {
  auto it = values_.find(scope_.Resolve(value));
  return it == values_.end() ? nullptr : &it->second;
}

absl::Status SampleEvaluator::Run(const std::vector<int>& nodes) {
  const int n = samples();
  for (int node : nodes) {
    const onnx::NodeProto& proto = scope_.node(node);
    const OpInfo* info = scope_.info(node);
    if (!info || !info->scalar)
      return absl::InternalError(absl::StrCat("node ", NodeLabel(proto), " is not elementwise"));
    int out = scope_.outputs(node)[0];
    ElemParams p = ParamsOf(proto);
    p.to = scope_.DTypeOf(out) >= 0 ? scope_.DTypeOf(out) : onnx::TensorProto::FLOAT;
    int arity = info->arity < 0 ? static_cast<int>(scope_.inputs(node).size()) : info->arity;
    std::vector<const std::vector<double>*> dyn(arity, nullptr);
    std::vector<const Tensor*> con(arity, nullptr);
    std::vector<double> fixed(arity, 0.0);
    for (int k = 0; k < arity; ++k) {
      int id = k < static_cast<int>(scope_.inputs(node).size()) ? scope_.inputs(node)[k] : -1;
      if (id < 0) {
        fixed[k] = p.missing[k];
      } else if (const Tensor* c = scope_.ConstOf(id)) {
        if (!c->materialized() || c->shape.size() > ref_.size() || !Broadcast(c->shape, ref_) ||
            *Broadcast(c->shape, ref_) != ref_)
          return absl::InvalidArgumentError(absl::StrCat(
              "node ", NodeLabel(proto), ": constant ", scope_.value(id).name,
              " does not broadcast to the neuron's shape"));
        con[k] = c;
      } else if (const std::vector<double>* v = Get(id)) {
        dyn[k] = v;
      } else {
        return absl::InternalError(
            absl::StrCat("node ", NodeLabel(proto), ": input ", scope_.value(id).name, " unbound"));
      }
    }
    std::vector<double> result(static_cast<size_t>(n));
    std::vector<double> args(arity);
    for (int i = 0; i < n; ++i) {
      for (int k = 0; k < arity; ++k)
        args[k] = dyn[k] ? (*dyn[k])[i] : con[k] ? con[k]->at(OffsetIn(con[k]->shape, i)) : fixed[k];
      result[i] = RoundTo(p.to, info->scalar(args.data(), arity, p));
    }
    values_[out] = std::move(result);
  }
  return absl::OkStatus();
}

double Probe(uint64_t key, int64_t element, int round) {
  // splitmix64 of the three inputs: stable across platforms and runs.
  uint64_t z = key * 0x9E3779B97F4A7C15ull ^ static_cast<uint64_t>(element) * 0xBF58476D1CE4E5B9ull ^
               static_cast<uint64_t>(round + 1) * 0x94D049BB133111EBull;
  z += 0x9E3779B97F4A7C15ull;
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  z ^= z >> 31;
  return static_cast<double>(z >> 11) / static_cast<double>(uint64_t{1} << 52) - 1.0;
}

std::vector<int64_t> SamplePositions(int64_t numel, int count) {
  std::vector<int64_t> out;
  if (numel <= 0) return out;
  if (numel <= count) {
    for (int64_t i = 0; i < numel; ++i) out.push_back(i);
    return out;
  }
  for (int i = 0; i < count - 1; ++i) out.push_back(numel / (count - 1) * i + (i * 7919) % std::max<int64_t>(1, numel / (count - 1)));
  out.push_back(numel - 1);
  std::sort(out.begin(), out.end());
  out.erase(std::unique(out.begin(), out.end()), out.end());
  return out;
}

}  // namespace snnplan::importer::internal
