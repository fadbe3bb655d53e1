// Human units: SI prefixes, 3 significant digits, rounding at the edges.
#include "output/units.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>

namespace trafstat {
namespace {

TEST(FormatPps, BelowAThousandIsAnInteger)
{
    EXPECT_EQ(format_pps(0), "0 pps");
    EXPECT_EQ(format_pps(1), "1 pps");
    EXPECT_EQ(format_pps(0.4), "0 pps");
    EXPECT_EQ(format_pps(0.5), "1 pps");
    EXPECT_EQ(format_pps(12.7), "13 pps");
    EXPECT_EQ(format_pps(999), "999 pps");
    EXPECT_EQ(format_pps(999.4), "999 pps");
}

TEST(FormatPps, ThreeSignificantDigits)
{
    EXPECT_EQ(format_pps(1000), "1.00 Kpps");
    EXPECT_EQ(format_pps(1234), "1.23 Kpps");
    EXPECT_EQ(format_pps(12345), "12.3 Kpps");
    EXPECT_EQ(format_pps(123456), "123 Kpps");
    EXPECT_EQ(format_pps(1234567), "1.23 Mpps");
    EXPECT_EQ(format_pps(12345678), "12.3 Mpps");
    EXPECT_EQ(format_pps(1.5e9), "1.50 Gpps");
    EXPECT_EQ(format_pps(2e12), "2.00 Tpps");
}

TEST(FormatPps, RoundingMovesToTheNextPrefix)
{
    EXPECT_EQ(format_pps(999.5), "1.00 Kpps");
    EXPECT_EQ(format_pps(999.6), "1.00 Kpps");
    EXPECT_EQ(format_pps(9996), "10.0 Kpps");
    EXPECT_EQ(format_pps(99960), "100 Kpps");
    EXPECT_EQ(format_pps(999499), "999 Kpps");
    EXPECT_EQ(format_pps(999999), "1.00 Mpps");
    EXPECT_EQ(format_pps(999.7e6), "1.00 Gpps");
}

TEST(FormatPps, NeverNegativeOrNan)
{
    EXPECT_EQ(format_pps(-5), "0 pps");
    EXPECT_EQ(format_pps(std::nan("")), "0 pps");
}

TEST(FormatBps, SameRulesWithBits)
{
    EXPECT_EQ(format_bps(0), "0 bps");
    EXPECT_EQ(format_bps(999), "999 bps");
    EXPECT_EQ(format_bps(1500), "1.50 Kbps");
    EXPECT_EQ(format_bps(12.3e6), "12.3 Mbps");
    EXPECT_EQ(format_bps(123e9), "123 Gbps");
    EXPECT_EQ(format_bps(100e9), "100 Gbps");
    EXPECT_EQ(format_bps(999.9e9), "1.00 Tbps");
    EXPECT_EQ(format_bps(1.6e12), "1.60 Tbps");
}

TEST(FormatBps, BeyondTeraStaysInTera)
{
    EXPECT_EQ(format_bps(5e15), "5000 Tbps");
}

TEST(FormatCount, PrefixWithoutSpace)
{
    EXPECT_EQ(format_count(0), "0");
    EXPECT_EQ(format_count(999), "999");
    EXPECT_EQ(format_count(1000), "1.00K");
    EXPECT_EQ(format_count(1234), "1.23K");
    EXPECT_EQ(format_count(1500000), "1.50M");
    EXPECT_EQ(format_count(999999), "1.00M");
    EXPECT_EQ(format_count(std::numeric_limits<std::uint64_t>::max()), "18446744T");
}

}  // namespace
}  // namespace trafstat
