// The builds of the counter for kernels without some of its kfuncs
// (bpf/counter_builds.hpp): each loads and counts what the full build counts,
// at every entry point (XDP, generic XDP, TC, with and without the keyed
// tables), so that choosing one by the running kernel changes nothing.
#include "base/error.hpp"
#include "base/exit_codes.hpp"
#include "bpf/counter_builds.hpp"
#include "bpf/loader.hpp"
#include "stats/flows.hpp"
#include "support/packet_builder.hpp"
#include "support/privileged.hpp"

#include <bpf/bpf.h>
#include <linux/bpf.h>

#include <gtest/gtest.h>

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <cstdint>
#include <optional>
#include <ostream>
#include <string>
#include <tuple>
#include <vector>

namespace trafstat::test {
namespace {

using B = PacketBuilder;

// Frames of every kind the parser tells apart, and a frame longer than generic XDP's largest wire frame.
std::vector<Bytes> frames()
{
    return {
        B().eth().ipv4().udp().payload(100).build(),
        B().eth().vlan(10).ipv6().tcp().payload(40).build(),
        B().eth().pppoe_session().ipv6().hop_by_hop().routing().tcp().payload(20).build(),
        B().eth().vlan(7).vlan(8).ipv4().icmp().payload(56).build(),
        B().eth().ipv4().tcp().payload(3000).build(),
        B().eth().arp().build(),
    };
}

enum class Entry { xdp, generic_xdp, tc };

// A keyed table's keys with their packets and bytes, whichever CPUs counted them.
using KeyCounts = std::vector<std::tuple<FlowKey, std::uint64_t, std::uint64_t>>;

struct Counted {
    ClassCounters counters;
    std::array<KeyCounts, TS_TABLES> tables;
};

// What `build` counts of frames() at `entry`, run `runs` times each; nullopt: not loaded.
std::optional<Counted> count(CounterBuild build, Entry entry, bool keyed)
{
    LoadOptions options{.load_xdp = entry != Entry::tc, .load_tc = entry == Entry::tc, .build = build};
    if (entry == Entry::generic_xdp)
        options.max_wire_frame = 1500 + 14 + 2 * 4;
    if (keyed)
        options.tables = TS_TABLE_BIT(TS_TABLE_TALKERS) | TS_TABLE_BIT(TS_TABLE_FLOWS);
    auto program = acquire_privileged(fmt::format("load the counter's {} build", build_name(build)),
                                      [&] { return CounterProgram::load(options); });
    if (!program)
        return std::nullopt;
    const int fd = entry == Entry::tc ? program->tc_fd() : program->xdp_fd();
    for (const Bytes& frame : frames()) {
        Bytes out(frame.size() + 256);
        bpf_test_run_opts run{};
        run.sz = sizeof run;
        run.data_in = frame.data();
        run.data_size_in = static_cast<__u32>(frame.size());
        run.data_out = out.data();
        run.data_size_out = static_cast<__u32>(out.size());
        run.repeat = 3;
        EXPECT_EQ(bpf_prog_test_run_opts(fd, &run), 0) << "BPF_PROG_TEST_RUN";
    }
    Counted c;
    TableEntries entries;
    if (keyed)
        program->drain_tables(entries, true);
    for (int t = 0; t < TS_TABLES; ++t) {
        for (const FlowEntry& e : merge_by_key(entries[static_cast<std::size_t>(t)]))
            c.tables[static_cast<std::size_t>(t)].emplace_back(e.key, e.stats.packets, e.stats.bytes);
        std::sort(c.tables[static_cast<std::size_t>(t)].begin(), c.tables[static_cast<std::size_t>(t)].end());
    }
    c.counters = program->read();
    return c;
}

struct BuildCase {
    CounterBuild build;
    Entry entry;
    bool keyed;
};

void PrintTo(const BuildCase& c, std::ostream* os)
{
    *os << build_name(c.build) << "/" << static_cast<int>(c.entry) << (c.keyed ? "/keyed" : "");
}

class CounterBuildTest : public ::testing::TestWithParam<BuildCase> {};

TEST_P(CounterBuildTest, CountsAsTheFullBuild)
{
    const BuildCase& c = GetParam();
    const auto full = count(CounterBuild::full, c.entry, c.keyed);
    if (!full)
        return;
    const auto other = count(c.build, c.entry, c.keyed);
    if (!other)
        return;
    EXPECT_TRUE(other->counters == full->counters) << "counters differ from the full build's";
    EXPECT_EQ(other->counters[TS_CLASS_ALL].packets, 3 * frames().size());
    EXPECT_TRUE(other->tables == full->tables) << "keyed tables differ from the full build's";
    EXPECT_EQ(other->tables[TS_TABLE_FLOWS].empty(), !c.keyed);
    EXPECT_EQ(other->counters.super_packets.packets, c.entry == Entry::generic_xdp ? 3u : 0u)
        << "generic XDP: the 3000-byte frame, 3 runs";
}

std::vector<BuildCase> build_cases()
{
    std::vector<BuildCase> v;
    for (CounterBuild b : {CounterBuild::no_vlan_kfunc, CounterBuild::no_kfuncs})
        for (Entry e : {Entry::xdp, Entry::generic_xdp, Entry::tc})
            for (bool keyed : {false, true})
                v.push_back({b, e, keyed});
    return v;
}

std::string build_case_name(const ::testing::TestParamInfo<BuildCase>& info)
{
    static constexpr const char* entries[] = {"Xdp", "GenericXdp", "Tc"};
    const std::string build = info.param.build == CounterBuild::no_kfuncs ? "NoKfuncs" : "NoVlanKfunc";
    return build + entries[static_cast<int>(info.param.entry)] + (info.param.keyed ? "Keyed" : "");
}

INSTANTIATE_TEST_SUITE_P(Builds, CounterBuildTest, ::testing::ValuesIn(build_cases()), build_case_name);

// The running kernel's build loads: trafstat's default.
TEST(CounterBuild, TheRunningKernelsBuildLoads)
{
    auto program =
        acquire_privileged(fmt::format("load the counter's {} build", build_name(counter_build_of_running_kernel())),
                           [] { return CounterProgram::load({}); });
    if (!program)
        return;
    EXPECT_GE(program->xdp_fd(), 0);
}

// A build without bpf_xdp_metadata_rx_vlan_tag is not loaded device-bound:
// refused before any bpf() call, with a load error (attach_xdp then falls back
// to the plain XDP entry, as where the kernel refuses the full build's).
TEST(CounterBuild, DeviceBoundRefusedWithoutTheVlanKfunc)
{
    for (CounterBuild build : {CounterBuild::no_vlan_kfunc, CounterBuild::no_kfuncs}) {
        try {
            CounterProgram::load({.xdp_dev_bound_ifindex = 1, .build = build});
            ADD_FAILURE() << build_name(build) << " loaded device-bound";
        } catch (const Error& e) {
            EXPECT_EQ(e.exit_code(), exit_code::load) << e.what();
        }
    }
}

}  // namespace
}  // namespace trafstat::test
