#include "net/route.hpp"

#include <gtest/gtest.h>
#include <sstream>

using trafstat::default_route_from;

namespace {

const char* v4_header = "Iface\tDestination\tGateway \tFlags\tRefCnt\tUse\tMetric\tMask\t\tMTU\tWindow\tIRTT\n";

std::optional<std::string> pick(const std::string& v4, const std::string& v6 = "")
{
    std::istringstream a(v4_header + v4), b(v6);
    return default_route_from(a, b);
}

}  // namespace

TEST(DefaultRoute, PicksIpv4DefaultRoute)
{
    EXPECT_EQ(pick("eth0\t00000000\t0100000A\t0003\t0\t0\t0\t00000000\t0\t0\t0\n"
                   "eth0\t0000000A\t00000000\t0001\t0\t0\t0\t00FFFFFF\t0\t0\t0\n"),
              "eth0");
}

TEST(DefaultRoute, LowestMetricWins)
{
    EXPECT_EQ(pick("wlan0\t00000000\t0101A8C0\t0003\t0\t0\t600\t00000000\t0\t0\t0\n"
                   "eth1\t00000000\t0100000A\t0003\t0\t0\t100\t00000000\t0\t0\t0\n"),
              "eth1");
}

TEST(DefaultRoute, IgnoresRoutesThatAreDownOrNotDefault)
{
    EXPECT_EQ(pick("eth0\t00000000\t0100000A\t0002\t0\t0\t0\t00000000\t0\t0\t0\n"
                   "eth1\t0000000A\t00000000\t0001\t0\t0\t0\t00FFFFFF\t0\t0\t0\n"),
              std::nullopt);
}

TEST(DefaultRoute, FallsBackToIpv6)
{
    const std::string v6 = "fe800000000000000000000000000000 40 00000000000000000000000000000000 00 "
                           "00000000000000000000000000000000 00000100 00000001 00000000 00000001     eth0\n"
                           "00000000000000000000000000000000 00 00000000000000000000000000000000 00 "
                           "fe800000000000000000000000000001 00000400 00000001 00000000 00000003     ens3\n";
    EXPECT_EQ(pick("", v6), "ens3");
}

TEST(DefaultRoute, Ipv6LoopbackUnreachableIsNotADefault)
{
    const std::string v6 = "00000000000000000000000000000000 00 00000000000000000000000000000000 00 "
                           "00000000000000000000000000000000 ffffffff 00000001 00000000 00200200       lo\n";
    EXPECT_EQ(pick("", v6), std::nullopt);
}

TEST(DefaultRoute, JunkLinesAreSkipped)
{
    EXPECT_EQ(pick("garbage\nshort line\neth2\t00000000\t0100000A\t0003\t0\t0\tnotanumber\t00000000\n"), "eth2");
}
