// CostModel: builds a tile's context, runs the search and caches results by
// everything that changes the price (never the layer's name).
#include <atomic>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/synchronization/mutex.h"
#include "model.h"

namespace snnplan::cost {
namespace {

// Joins read one value per input: the input count is part of the price.
int64_t JoinInputs(const ir::Layer& l) {
  return ir::IsJoin(l.op) ? static_cast<int64_t>(l.inputs.size()) : 1;
}

std::string CacheKey(const internal::Context& c) {
  const TileShape& t = c.tile;
  const ir::Layer& l = t.layer;
  const ir::Window& w = l.window;
  const ir::Precision& p = l.precision;
  std::string key = absl::StrCat(static_cast<int>(l.op), "|", JoinInputs(l), "|");
  for (ir::Dim d : ir::kAllDims) absl::StrAppend(&key, t.dims.Get(d), ",");
  absl::StrAppend(&key, "|", w.stride_y, ",", w.stride_x, ",", w.dilation_y, ",", w.dilation_x, "|",
                  t.in_y, ",", t.in_x, "|", p.weight_bits, ",", p.input_bits, ",", p.output_bits,
                  ",", p.state_bits, ",", p.accumulator_bits, "|", static_cast<int>(l.neuron.mode),
                  ",", l.neuron.states_per_neuron, "|", absl::StrFormat("%a", t.density), "|",
                  absl::StrFormat("%a,%a", t.input_activity, t.output_activity), "|",
                  t.starts_at_first_timestep, t.ends_at_last_timestep, "|");
  for (bool o : c.overflow) absl::StrAppend(&key, o ? "1" : "0");
  return key;
}

}  // namespace

struct CostModel::Impl {
  hw::Hardware hardware;
  int core_index = 0;
  CostOptions options;
  mutable absl::Mutex mu;
  absl::flat_hash_map<std::string, std::shared_ptr<const TileCost>> cache ABSL_GUARDED_BY(mu);
  std::atomic<int64_t> hits{0};
  std::atomic<int64_t> misses{0};

  const hw::Core& core() const { return hardware.cores[core_index]; }
};

CostModel::CostModel(hw::Hardware hardware, int core_id, CostOptions options)
    : impl_(std::make_unique<Impl>()) {
  impl_->hardware = std::move(hardware);
  impl_->options = options;
  // Cores are looked up by id; an unknown id falls back to the first core.
  impl_->core_index = std::max(0, impl_->hardware.CoreIndex(core_id));
}

CostModel::~CostModel() = default;

absl::StatusOr<std::shared_ptr<const TileCost>> CostModel::Price(const TileShape& tile) {
  if (impl_->hardware.cores.empty()) return absl::FailedPreconditionError("hardware has no cores");
  absl::StatusOr<internal::Context> c =
      internal::BuildContext(tile, impl_->hardware, impl_->core(), impl_->options);
  if (!c.ok()) return c.status();
  std::string key = CacheKey(*c);
  {
    absl::MutexLock lock(&impl_->mu);
    auto it = impl_->cache.find(key);
    if (it != impl_->cache.end()) {
      impl_->hits.fetch_add(1);
      return it->second;
    }
  }
  // Searched outside the lock; a concurrent duplicate keeps the first result.
  absl::StatusOr<TileCost> cost = internal::Search(*c);
  if (!cost.ok()) return cost.status();
  impl_->misses.fetch_add(1);
  auto shared = std::make_shared<const TileCost>(*std::move(cost));
  absl::MutexLock lock(&impl_->mu);
  auto [it, inserted] = impl_->cache.emplace(key, shared);
  return it->second;
}

absl::StatusOr<TileCost> CostModel::Evaluate(const TileShape& tile,
                                             const std::vector<MappedLoop>& temporal) const {
  if (impl_->hardware.cores.empty()) return absl::FailedPreconditionError("hardware has no cores");
  absl::StatusOr<internal::Context> c =
      internal::BuildContext(tile, impl_->hardware, impl_->core(), impl_->options);
  if (!c.ok()) return c.status();
  std::vector<internal::Loop> order;
  internal::DimArray product{};
  product.fill(1);
  for (const MappedLoop& m : temporal) {
    if (m.size < 1) return absl::InvalidArgumentError("loop size must be >= 1");
    if (m.size == 1) continue;
    order.push_back({internal::DimIndex(m.dim), m.size});
    product[internal::DimIndex(m.dim)] *= m.size;
  }
  for (ir::Dim d : ir::kAllDims) {
    int i = internal::DimIndex(d);
    if (product[i] != c->temporal[i])
      return absl::InvalidArgumentError(absl::StrCat("temporal loops of ",
                                                     std::string(ir::DimName(d)), " multiply to ",
                                                     product[i], ", expected ", c->temporal[i]));
  }
  TileCost cost;
  internal::Score s = internal::Evaluate(*c, order, &cost);
  if (!s.valid) return absl::InvalidArgumentError("mapping is not valid");
  cost.mappings_evaluated = 1;
  return cost;
}

absl::StatusOr<std::array<int64_t, 9>> CostModel::TemporalBounds(const TileShape& tile) const {
  if (impl_->hardware.cores.empty()) return absl::FailedPreconditionError("hardware has no cores");
  absl::StatusOr<internal::Context> c =
      internal::BuildContext(tile, impl_->hardware, impl_->core(), impl_->options);
  if (!c.ok()) return c.status();
  return c->temporal;
}

const hw::Hardware& CostModel::hardware() const { return impl_->hardware; }
const hw::Core& CostModel::core() const { return impl_->core(); }
const CostOptions& CostModel::options() const { return impl_->options; }
int64_t CostModel::cache_hits() const { return impl_->hits.load(); }
int64_t CostModel::cache_misses() const { return impl_->misses.load(); }

}  // namespace snnplan::cost
