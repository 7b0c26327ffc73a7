// libFuzzer entry point for the manifest reader and validator: any bytes are
// parsed as a manifest and validated. Must never crash, throw or read out of
// bounds; malformed input is an error status, a bad plan a list of violations.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "snnplan/validator.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  auto result = snnplan::validate::ValidateText(text);
  if (result.ok())
    for (const auto& v : *result) (void)snnplan::validate::FormatViolation(v);
  return 0;
}
