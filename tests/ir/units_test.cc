// snnplan/units.h: every expected string worked out by hand in the comment
// next to it (value / unit, then 3 significant digits).
#include "snnplan/units.h"

#include <cstdint>
#include <limits>

#include "gtest/gtest.h"

namespace snnplan::units {
namespace {

TEST(UnitsEnergy, ScalesPicojoulesToTheReadableUnit) {
  EXPECT_EQ(Energy(0), "0 pJ");
  EXPECT_EQ(Energy(0.0005), "0.500 fJ");       // 0.0005 pJ = 0.5 fJ, below the smallest unit
  EXPECT_EQ(Energy(0.25), "250 fJ");           // 0.25 pJ = 250 fJ
  EXPECT_EQ(Energy(1), "1.00 pJ");
  EXPECT_EQ(Energy(12.345), "12.3 pJ");
  EXPECT_EQ(Energy(4.91255e9), "4.91 mJ");     // 4.91255e9 pJ / 1e9 pJ per mJ
  EXPECT_EQ(Energy(2.13782e10), "21.4 mJ");    // 21.3782 mJ
  EXPECT_EQ(Energy(7.82169e8), "782 µJ");      // 782.169 µJ
  EXPECT_EQ(Energy(1e12), "1.00 J");           // 1e12 pJ = 1 J
  EXPECT_EQ(Energy(1.2345e16), "12345 J");     // above the largest unit: an integer
  EXPECT_EQ(Energy(-5), "-5.00 pJ");
}

TEST(UnitsEnergy, RoundsBeforeChoosingTheUnit) {
  EXPECT_EQ(Energy(9.996), "10.0 pJ");       // 9.996 -> 10.0, not "10.00"
  EXPECT_EQ(Energy(99.96), "100 pJ");        // 99.96 -> 100, not "100.0"
  EXPECT_EQ(Energy(999.4e6), "999 µJ");      // 999.4 µJ
  EXPECT_EQ(Energy(999.5e6), "1.00 mJ");     // 999.5 µJ rounds to 1000 µJ = 1.00 mJ
  EXPECT_EQ(Energy(999.96), "1.00 nJ");      // 999.96 pJ -> 1000 pJ -> 1.00 nJ
  EXPECT_EQ(Energy(999.4e9), "999 mJ");
  EXPECT_EQ(Energy(999.6e9), "1.00 J");
}

TEST(UnitsBytes, BinaryUnitsExactMultiplesAsIntegers) {
  EXPECT_EQ(Bytes(0), "0 B");
  EXPECT_EQ(Bytes(512), "512 B");
  EXPECT_EQ(Bytes(1023), "1023 B");
  EXPECT_EQ(Bytes(1024), "1 KiB");
  EXPECT_EQ(Bytes(1536), "1.50 KiB");            // 1536 / 1024 = 1.5, not a whole KiB
  EXPECT_EQ(Bytes(131072), "128 KiB");           // 128 * 1024
  EXPECT_EQ(Bytes(1 << 20), "1 MiB");
  EXPECT_EQ(Bytes(24615432), "23.5 MiB");        // 24615432 / 1048576 = 23.475
  EXPECT_EQ(Bytes(203644008), "194 MiB");        // 194.208
  EXPECT_EQ(Bytes(1000 * 1024 + 400), "1000 KiB");  // 1000.39 KiB: 4 digits below 1024
  EXPECT_EQ(Bytes(1048575), "1.00 MiB");         // 1023.999 KiB rounds to 1024 KiB
  EXPECT_EQ(Bytes(1.5 * 1099511627776.0), "1.50 TiB");  // 1.5 * 2^40
  EXPECT_EQ(Bytes(static_cast<double>(int64_t{1} << 60)), "1 EiB");
  EXPECT_EQ(Bytes(12.5), "12.5 B");              // fractional bytes (bits / 8)
}

TEST(UnitsCycles, SiSuffixes) {
  EXPECT_EQ(Cycles(0), "0 cycles");
  EXPECT_EQ(Cycles(1), "1 cycle");
  EXPECT_EQ(Cycles(999), "999 cycles");
  EXPECT_EQ(Cycles(1000), "1.00k cycles");
  EXPECT_EQ(Cycles(28445857), "28.4M cycles");   // 28.445857 M
  EXPECT_EQ(Cycles(999999), "1.00M cycles");     // 999.999k rounds to 1000k = 1.00M
  EXPECT_EQ(Cycles(1.5e12), "1.50T cycles");
  EXPECT_EQ(Count(9218), "9.22k");
}

TEST(UnitsGrouped, ThousandsSeparators) {
  EXPECT_EQ(Grouped(0), "0");
  EXPECT_EQ(Grouped(999), "999");
  EXPECT_EQ(Grouped(9218), "9,218");
  EXPECT_EQ(Grouped(1000000), "1,000,000");
  EXPECT_EQ(Grouped(-1234), "-1,234");
  EXPECT_EQ(Grouped(std::numeric_limits<int64_t>::max()), "9,223,372,036,854,775,807");
  EXPECT_EQ(Grouped(std::numeric_limits<int64_t>::min()), "-9,223,372,036,854,775,808");
}

TEST(UnitsTime, SecondsAndFrequencies) {
  EXPECT_EQ(Time(0), "0 s");
  EXPECT_EQ(Time(1.5e-9), "1.50 ns");
  EXPECT_EQ(Time(5e-10), "0.500 ns");
  EXPECT_EQ(Time(28445857 / 200e6), "142 ms");   // 0.1422 s
  EXPECT_EQ(Time(999.7e-6), "1.00 ms");          // 999.7 µs rounds to 1000 µs
  EXPECT_EQ(Time(2.5e-6), "2.50 µs");
  EXPECT_EQ(Time(3600), "3600 s");
  EXPECT_EQ(Frequency(200e6), "200 MHz");
  EXPECT_EQ(Frequency(1.5e9), "1.50 GHz");
  EXPECT_EQ(Latency(28445857, 0), "28.4M cycles");               // clock unknown
  EXPECT_EQ(Latency(28445857, 200e6), "28.4M cycles (142 ms)");  // 28445857 / 2e8 s
}

TEST(UnitsRatio, PhrasesCannotBeMisread) {
  EXPECT_EQ(Ratio(8.273), "8.27x");
  EXPECT_EQ(Ratio(12.34), "12.3x");
  // 203644008 / 24615432 = 8.273
  EXPECT_EQ(Compare(24615432, 203644008, "DRAM traffic", "st-lbl"),
            "8.27x less DRAM traffic than st-lbl");
  EXPECT_EQ(Compare(1.2, 1.0, "energy", "st-lbl"), "1.20x more energy than st-lbl");
  EXPECT_EQ(Compare(100, 150, "latency", "single core", "lower", "higher"),
            "1.50x lower latency than single core");
  EXPECT_EQ(Compare(5, 5, "energy", "st-lbl"), "the same energy as st-lbl");
  EXPECT_EQ(Compare(0, 0, "energy", "st-lbl"), "the same energy as st-lbl");
  EXPECT_EQ(Compare(0, 5, "DRAM traffic", "st-lbl"), "no DRAM traffic, unlike st-lbl");
  EXPECT_EQ(Compare(5, 0, "DRAM traffic", "st-lbl"),
            "more DRAM traffic than st-lbl (which has none)");
  // 1004 / 1000 = 1.004 rounds to 1.00x: said as a percentage, 1 - 1000/1004 = 0.398%.
  EXPECT_EQ(Compare(1000, 1004, "energy", "st-lbl"),
            "about the same energy as st-lbl (0.4% less)");
  EXPECT_EQ(Compare(1003, 1000, "energy", "st-lbl"),
            "about the same energy as st-lbl (0.3% more)");
}

TEST(UnitsRatio, ShortFormForTableColumns) {
  EXPECT_EQ(CompareShort(24615432, 203644008), "8.27x less");  // 203644008 / 24615432 = 8.273
  EXPECT_EQ(CompareShort(3, 2), "1.50x more");
  EXPECT_EQ(CompareShort(2, 2), "same");
  EXPECT_EQ(CompareShort(0, 2), "none");
  EXPECT_EQ(CompareShort(2, 0), "more (ref: 0)");
  EXPECT_EQ(CompareShort(1000, 1004), "0.4% less");  // 1 - 1000/1004 = 0.398%
}

TEST(UnitsSpecial, NanAndInfinity) {
  EXPECT_EQ(Energy(std::numeric_limits<double>::quiet_NaN()), "nan pJ");
  EXPECT_EQ(Bytes(std::numeric_limits<double>::infinity()), "inf EiB");
}

// A figure's shared unit: the one the scaled functions print the largest
// value in (their rounding rule included), and how many raw units it is.
TEST(UnitsFigure, SharedUnitFollowsTheLargestValue) {
  // 4.91e9 pJ = 4.91 mJ; a mJ is 1e9 pJ.
  EXPECT_EQ(EnergyUnit(4.91e9).name, "mJ");
  EXPECT_EQ(EnergyUnit(4.91e9).per_unit, 1e9);
  // 999.6 µJ prints "1.00 mJ" (Energy rounds up into the next unit): so does the axis.
  EXPECT_EQ(EnergyUnit(999.6e6).name, "mJ");
  EXPECT_EQ(EnergyUnit(999.4e6).name, "µJ");
  EXPECT_EQ(EnergyUnit(999.4e6).per_unit, 1e6);
  EXPECT_EQ(EnergyUnit(12.3).name, "pJ");
  // 23.5 MiB = 24641536 B; one MiB is 1048576 B.
  EXPECT_EQ(BytesUnit(24641536).name, "MiB");
  EXPECT_EQ(BytesUnit(24641536).per_unit, 1048576);
  EXPECT_EQ(BytesUnit(1023).name, "B");
  EXPECT_EQ(BytesUnit(2048).name, "KiB");
  EXPECT_EQ(CyclesUnit(28.4e6).name, "M cycles");
  EXPECT_EQ(CyclesUnit(28.4e6).per_unit, 1e6);
  EXPECT_EQ(CyclesUnit(512).name, "cycles");
  // 0.142 s is 142 ms; a ms is 1e-3 s.
  EXPECT_EQ(TimeUnit(0.142).name, "ms");
  EXPECT_DOUBLE_EQ(TimeUnit(0.142).per_unit, 1e-3);
  EXPECT_EQ(TimeUnit(3.5e-6).name, "µs");
  EXPECT_NE(EnergyUnit(4.91e9).name, EnergyUnit(4.91e6).name);  // the check can fail
}

TEST(UnitsFigure, Digits3KeepsThreeSignificantDigits) {
  EXPECT_EQ(Digits3(4.9125), "4.91");
  EXPECT_EQ(Digits3(21.44), "21.4");
  EXPECT_EQ(Digits3(0.04913), "0.0491");
  EXPECT_EQ(Digits3(-1.5), "-1.50");
  EXPECT_EQ(Digits3(0), "0");
}

}  // namespace
}  // namespace snnplan::units
