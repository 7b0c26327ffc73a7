#include "snnplan/costmodel.h"

namespace snnplan::cost {

EnergyBreakdown& EnergyBreakdown::operator+=(const EnergyBreakdown& o) {
  compute_pj += o.compute_pj;
  local_pj += o.local_pj;
  sram_pj += o.sram_pj;
  dram_pj += o.dram_pj;
  noc_pj += o.noc_pj;
  return *this;
}

}  // namespace snnplan::cost
