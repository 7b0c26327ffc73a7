// Helpers shared by the frontend's sources.
#pragma once

#include <cstdint>
#include <string>

namespace snnplan::frontend::internal {

int64_t PhysicalMemoryBytes();
std::string GiB(double bytes);

}  // namespace snnplan::frontend::internal
