// Numbers people read: the one place that turns raw quantities (pJ, bytes,
// cycles, seconds, Hz, ratios) into scaled text for the commands' text
// output ("4.91 mJ", "23.5 MiB", "28.4M cycles", "9.48 ms",
// "8.27x less DRAM traffic than st-lbl"). Machine-readable outputs (JSON,
// CSV) keep raw numbers under unit-named keys and never use these.
//
// Rules: 3 significant digits, trailing zeros kept ("1.50 GiB"), the unit
// chosen after rounding (999.6 uJ prints "1.00 mJ"); a binary size that is an
// exact multiple of its unit prints as an integer ("128 KiB", "1 MiB"), and
// sizes from 1000 to 1023 of a binary unit print as integers ("1000 KiB").
// Below the smallest unit the value keeps 3 significant digits ("0.500 fJ");
// above the largest it prints as an integer ("12345 J"). Negative values get
// a leading '-'; NaN and infinities print as "nan"/"inf" with the unit.
// Output is deterministic (the C locale's snprintf; 'µ' is UTF-8 U+00B5).
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

namespace snnplan::units {

namespace internal {

inline std::string Fixed(double x, int decimals) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.*f", decimals, x);
  return buf;
}

// x >= 0, finite: 3 significant digits with trailing zeros; integers from 1000 on.
inline std::string Significant3(double x) {
  if (x == 0) return "0";
  if (x >= 999.5) return Fixed(x, 0);
  const int e = static_cast<int>(std::floor(std::log10(x)));
  int decimals = e >= 2 ? 0 : 2 - e;
  std::string s = Fixed(x, decimals);
  // Rounding carried into a new digit (9.996 -> "10.00"): one decimal less.
  if (decimals > 0 && std::strtod(s.c_str(), nullptr) >= std::pow(10.0, e + 1))
    s = Fixed(x, decimals - 1);
  return s;
}

// `value` (in units[0]) scaled by powers of `base` to units[0..n).
template <size_t N>
std::string Scaled(double value, const char* const (&unit)[N], double base, std::string_view sep,
                   bool exact_integers) {
  if (std::isnan(value)) return std::string("nan") + std::string(sep) + unit[0];
  if (value < 0)
    return "-" + Scaled(-value, unit, base, sep, exact_integers);
  if (std::isinf(value)) return std::string("inf") + std::string(sep) + unit[N - 1];
  size_t i = 0;
  double scale = 1;
  while (i + 1 < N && value >= scale * base) {
    scale *= base;
    ++i;
  }
  // An exact multiple of its unit: the integer itself ("128 KiB").
  if (exact_integers && value == std::floor(value) && std::fmod(value, scale) == 0)
    return Fixed(value / scale, 0) + std::string(sep) + unit[i];
  std::string s = Significant3(value / scale);
  if (i + 1 < N && std::strtod(s.c_str(), nullptr) >= base) {
    // Rounded up to a whole next unit (999.6 uJ): at least 0.9995 of it,
    // which is 1.00 with 3 significant digits, whatever the binary value.
    scale *= base;
    ++i;
    s = Significant3(std::max(value / scale, 1.0));
  }
  return s + std::string(sep) + unit[i];
}

// The index of the unit Scaled() prints `value` (>= 0) in, and that unit's
// multiple of units[0], with Scaled()'s rounding rule (999.6 of a unit is
// 1.00 of the next).
template <size_t N>
size_t UnitIndex(double value, double base, double* scale) {
  size_t i = 0;
  *scale = 1;
  if (!(value > 0) || std::isinf(value)) return 0;
  while (i + 1 < N && value >= *scale * base) {
    *scale *= base;
    ++i;
  }
  if (i + 1 < N && std::strtod(Significant3(value / *scale).c_str(), nullptr) >= base) {
    *scale *= base;
    ++i;
  }
  return i;
}

}  // namespace internal

// One unit for many values (a figure's colour bar or axis): the unit the
// functions below print `largest` in, so every value of the figure shares it
// ("energy (mJ)" with ticks 4.91 and 21.4). `per_unit` is how many raw units
// (pJ, bytes, cycles, seconds) one `name` is.
struct Unit {
  std::string name;
  double per_unit = 1;
};

// Energy in pJ: "fJ" .. "J", as Energy() scales.
inline Unit EnergyUnit(double largest_pj) {
  static constexpr const char* kUnits[] = {"fJ", "pJ", "nJ", "µJ", "mJ", "J"};
  double scale = 1;
  // Energy() starts at fJ; a figure's largest value is rarely below a pJ.
  const size_t i = internal::UnitIndex<6>(std::abs(largest_pj) * 1000.0, 1000.0, &scale);
  return {kUnits[i], scale / 1000.0};
}

// Bytes, binary as Bytes() scales: "B", "KiB", "MiB", ...
inline Unit BytesUnit(double largest_bytes) {
  static constexpr const char* kUnits[] = {"B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB"};
  double scale = 1;
  const size_t i = internal::UnitIndex<7>(std::abs(largest_bytes), 1024.0, &scale);
  return {kUnits[i], scale};
}

// Cycles with Count()'s prefixes: "cycles", "k cycles", "M cycles", ...
inline Unit CyclesUnit(double largest_cycles) {
  static constexpr const char* kUnits[] = {"cycles",   "k cycles", "M cycles", "G cycles",
                                           "T cycles", "P cycles", "E cycles"};
  double scale = 1;
  const size_t i = internal::UnitIndex<7>(std::abs(largest_cycles), 1000.0, &scale);
  return {kUnits[i], scale};
}

// Seconds as Time() scales: "ns", "µs", "ms", "s".
inline Unit TimeUnit(double largest_s) {
  static constexpr const char* kUnits[] = {"ns", "µs", "ms", "s"};
  double scale = 1;
  const size_t i = internal::UnitIndex<4>(std::abs(largest_s) * 1e9, 1000.0, &scale);
  return {kUnits[i], scale / 1e9};
}

// A value already divided by its Unit, to 3 significant digits with trailing
// zeros kept ("4.91", "21.4", "0.0491", "-1.50"), as the functions below print it.
inline std::string Digits3(double x) {
  if (std::isnan(x)) return "nan";
  if (x < 0) return "-" + Digits3(-x);
  if (std::isinf(x)) return "inf";
  return internal::Significant3(x);
}

// Energy given in pJ: "0 pJ", "0.500 fJ", "12.3 pJ", "4.91 mJ", "1.00 J".
inline std::string Energy(double pj) {
  static constexpr const char* kUnits[] = {"fJ", "pJ", "nJ", "µJ", "mJ", "J"};
  if (pj == 0 || std::isnan(pj)) return pj == 0 ? "0 pJ" : "nan pJ";
  return internal::Scaled(pj * 1000.0, kUnits, 1000.0, " ", /*exact_integers=*/false);
}

// Bytes in binary units (1 KiB = 1024 B): "512 B", "128 KiB", "23.5 MiB".
inline std::string Bytes(double bytes) {
  static constexpr const char* kUnits[] = {"B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB"};
  return internal::Scaled(bytes, kUnits, 1024.0, " ", /*exact_integers=*/true);
}

// A count with SI suffixes: "512", "9.22k", "28.4M", "1.00G".
inline std::string Count(double n) {
  static constexpr const char* kUnits[] = {"", "k", "M", "G", "T", "P", "E"};
  if (n > -1000 && n < 1000 && n == std::floor(n)) return internal::Fixed(n, 0);
  return internal::Scaled(n, kUnits, 1000.0, "", /*exact_integers=*/false);
}

// "28.4M cycles", "512 cycles", "1 cycle".
inline std::string Cycles(double cycles) {
  return Count(cycles) + (cycles == 1 ? " cycle" : " cycles");
}

// An exact integer with thousands separators: "9,218", "-1,000".
inline std::string Grouped(int64_t n) {
  const std::string digits = std::to_string(n < 0 ? -(n + 1) + uint64_t{1} : uint64_t(n));
  std::string out;
  for (size_t i = 0; i < digits.size(); ++i) {
    if (i > 0 && (digits.size() - i) % 3 == 0) out += ',';
    out += digits[i];
  }
  return n < 0 ? "-" + out : out;
}

// Seconds: "0 s", "0.500 ns", "9.48 ms", "1.00 s".
inline std::string Time(double seconds) {
  static constexpr const char* kUnits[] = {"ns", "µs", "ms", "s"};
  if (seconds == 0) return "0 s";
  return internal::Scaled(seconds * 1e9, kUnits, 1000.0, " ", /*exact_integers=*/false);
}

// Hertz: "200 MHz", "1.50 GHz".
inline std::string Frequency(double hz) {
  static constexpr const char* kUnits[] = {"Hz", "kHz", "MHz", "GHz", "THz"};
  return internal::Scaled(hz, kUnits, 1000.0, " ", /*exact_integers=*/false);
}

// Cycles, and the time they take when the clock is known (clock_hz > 0):
// "28.4M cycles (142 ms)"; "28.4M cycles" when clock_hz is 0 (unknown).
inline std::string Latency(double cycles, double clock_hz) {
  if (!(clock_hz > 0)) return Cycles(cycles);
  return Cycles(cycles) + " (" + Time(cycles / clock_hz) + ")";
}

// A ratio >= 1: "1.20x", "8.27x", "12.3x", "1234x".
inline std::string Ratio(double r) { return internal::Significant3(r) + "x"; }

// `value` compared with `reference`, as a phrase that cannot be misread:
//   "8.27x less DRAM traffic than st-lbl", "1.20x more energy than st-lbl",
//   "the same energy as st-lbl", "about the same energy as st-lbl (0.12% less)"
//   (when the ratio rounds to 1.00x), "no DRAM traffic, unlike st-lbl",
//   "more DRAM traffic than st-lbl (which has none)".
// `less`/`more` name the direction ("lower"/"higher" for latency).
inline std::string Compare(double value, double reference, std::string_view quantity,
                           std::string_view reference_name, std::string_view less = "less",
                           std::string_view more = "more") {
  const std::string q(quantity), ref(reference_name), lo(less), hi(more);
  if (value == reference) return "the same " + q + " as " + ref;
  if (value == 0) return "no " + q + ", unlike " + ref;
  if (reference == 0) return hi + " " + q + " than " + ref + " (which has none)";
  const bool smaller = value < reference;
  const double ratio = smaller ? reference / value : value / reference;
  const std::string r = internal::Significant3(ratio);
  if (r == "1.00") {
    const double percent = 100.0 * (smaller ? 1 - value / reference : value / reference - 1);
    char buf[64];
    std::snprintf(buf, sizeof buf, "%.2g%%", percent);
    return "about the same " + q + " as " + ref + " (" + buf + " " + (smaller ? lo : hi) + ")";
  }
  return r + "x " + (smaller ? lo : hi) + " " + q + " than " + ref;
}

// The short form for a table column that names the quantity and the
// reference ("DRAM vs st-lbl"): "8.27x less", "1.20x more", "same",
// "0.4% less" (the ratio rounds to 1.00x), "none" (value 0), "more (ref: 0)".
inline std::string CompareShort(double value, double reference, std::string_view less = "less",
                                std::string_view more = "more") {
  const std::string lo(less), hi(more);
  if (value == reference) return "same";
  if (value == 0) return "none";
  if (reference == 0) return hi + " (ref: 0)";
  const bool smaller = value < reference;
  const double ratio = smaller ? reference / value : value / reference;
  const std::string r = internal::Significant3(ratio);
  if (r == "1.00") {
    char buf[64];
    std::snprintf(buf, sizeof buf, "%.2g%% ",
                  100.0 * (smaller ? 1 - value / reference : value / reference - 1));
    return buf + (smaller ? lo : hi);
  }
  return r + "x " + (smaller ? lo : hi);
}

}  // namespace snnplan::units
