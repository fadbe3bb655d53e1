// The name tables: every value has one name that parses back to it, nothing
// else parses (no silent fallback), and --help lists what the tables hold.
#include "attach/modes.hpp"
#include "cli/options.hpp"
#include "output/writer.hpp"
#include "stats/flows.hpp"
#include "stats/views.hpp"

#include <gtest/gtest.h>

#include <set>
#include <string>
#include <variant>

namespace trafstat {
namespace {

template <class Enum, std::size_t N>
void round_trips(const NameTable<Enum, N>& table)
{
    std::set<std::string_view> seen;
    for (const auto& e : table.entries) {
        EXPECT_TRUE(seen.insert(e.name).second) << "name given twice: " << e.name;
        EXPECT_EQ(table.name(e.value), e.name);
        EXPECT_EQ(table.parse(e.name), e.value) << e.name;
    }
    EXPECT_EQ(table.parse("nonsense"), std::nullopt);
    EXPECT_EQ(table.parse(""), std::nullopt);
}

TEST(NameTables, EveryNameRoundTrips)
{
    round_trips(kHookNames);
    round_trips(kXdpModeNames);
    round_trips(kTcModeNames);
    round_trips(kOutputFormatNames);
    round_trips(kSortKeyNames);
    round_trips(kTalkerSideNames);
    round_trips(kTableNames);
}

TEST(NameTables, NamesAsShown)
{
    EXPECT_EQ(hook_name(Hook::tc_both), "tc");
    EXPECT_EQ(hook_name(Hook::tc_ingress), "tc-ingress");
    EXPECT_EQ(xdp_mode_name(XdpMode::auto_), "auto");
    EXPECT_EQ(tc_mode_name(TcMode::clsact), "clsact");
    EXPECT_EQ(sort_name(SortKey::packets), "packets");
    EXPECT_EQ(side_name(TalkerSide::dst), "dst");
    EXPECT_EQ(table_name(TS_TABLE_PORTS), "ports");
    EXPECT_EQ(kSortKeyNames.alternatives(), "bps, pps, bytes or packets");
}

std::string help_of(std::vector<const char*> args)
{
    args.insert(args.begin(), "trafstat");
    args.push_back("--help");
    const ParseResult r = parse_options(static_cast<int>(args.size()), args.data());
    const auto* exit = std::get_if<ParseExit>(&r);
    return exit ? exit->text : std::string{};
}

template <class Enum, std::size_t N>
void listed(const std::string& help, const NameTable<Enum, N>& table)
{
    for (const auto& e : table.entries)
        EXPECT_NE(help.find(std::string(e.name)), std::string::npos) << e.name << " missing from --help";
}

TEST(NameTables, HelpListsEveryName)
{
    const std::string live = help_of({});
    listed(live, kHookNames);
    listed(live, kXdpModeNames);
    listed(live, kTcModeNames);
    listed(live, kSortKeyNames);
    listed(live, kTalkerSideNames);
    EXPECT_NE(live.find("  tc-ingress  ingress, after the kernel has built the skb"), std::string::npos) << live;
    const std::string replay = help_of({"replay"});
    listed(replay, kSortKeyNames);
    listed(replay, kTalkerSideNames);
}

TEST(NameTables, UsageErrorsComeFromTheTable)
{
    const char* args[] = {"trafstat", "--sort", "size", "eth0"};
    const ParseResult r = parse_options(4, args);
    const auto* exit = std::get_if<ParseExit>(&r);
    ASSERT_TRUE(exit);
    for (const auto& e : kSortKeyNames.entries)
        EXPECT_NE(exit->text.find(std::string(e.name)), std::string::npos) << exit->text;
}

}  // namespace
}  // namespace trafstat
