// Hex SHA-256 of bytes: the fingerprints of model files, hardware
// descriptions and activity files that manifests and sweeps record.
#pragma once

#include <openssl/evp.h>

#include <string>
#include <string_view>

namespace snnplan {

inline std::string Sha256Hex(std::string_view bytes) {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  EVP_Digest(bytes.data(), bytes.size(), md, &len, EVP_sha256(), nullptr);
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  for (unsigned int i = 0; i < len; ++i) {
    out.push_back(kHex[md[i] >> 4]);
    out.push_back(kHex[md[i] & 15]);
  }
  return out;
}

}  // namespace snnplan
