// The planner-bound part of the allocation search: the greedy pipeline split
// and genome <-> allocation conversion.
#include "common/tiny_workloads.h"
#include "gtest/gtest.h"
#include "snnplan/allocate.h"

namespace snnplan::explore {
namespace {

using snnplan::testing::MetaPrototypeMesh;

// 2x2 mesh: cores 0 (0,0), 1 (1,0), 2 (0,1), 3 (1,1); snake order 0, 1, 3, 2
// keeps consecutive runs on neighbouring cores.
TEST(GreedyAllocation, BalancedRunsFollowTheMeshSnake) {
  const hw::Hardware quad = MetaPrototypeMesh(4, 2, 1024);
  EXPECT_EQ(GreedyAllocation(quad, {10, 10, 10, 10}).layer_core, (std::vector<int>{0, 1, 3, 2}));
  // Smallest largest run: 20 (10+10 | 20 | 5+5+10), three cores suffice.
  EXPECT_EQ(GreedyAllocation(quad, {10, 10, 20, 5, 5, 10}).layer_core,
            (std::vector<int>{0, 0, 1, 3, 3, 3}));
  // A dominant layer bounds the split: the rest share one core.
  EXPECT_EQ(GreedyAllocation(quad, {30, 10, 10, 10}).layer_core, (std::vector<int>{0, 1, 1, 1}));
  // One core: everything on it.
  EXPECT_EQ(GreedyAllocation(MetaPrototypeMesh(1, 1, 1024), {5, 7}).layer_core,
            (std::vector<int>{0, 0}));
}

TEST(GreedyAllocation, GenomesAreCoreIndicesNotIds) {
  hw::Hardware h = MetaPrototypeMesh(2, 2, 1024);
  h.cores[0].id = 7;  // ids need not be indices
  h.noc.positions[0].core = 7;
  const plan::CoreAllocation a = ToAllocation({1, 0, 0}, h);
  EXPECT_EQ(a.layer_core, (std::vector<int>{1, 7, 7}));
  EXPECT_EQ(ToGenome(a, h), (Genome{1, 0, 0}));
}

}  // namespace
}  // namespace snnplan::explore
