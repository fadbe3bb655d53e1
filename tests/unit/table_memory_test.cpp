// Keyed table sizes against the host's memory (engine/sources: table_memory_refusal), with the
// available memory given: no privileges, nothing loaded.
#include "engine/sources.hpp"

#include <gtest/gtest.h>

namespace trafstat {
namespace {

constexpr std::uint64_t kGiB = std::uint64_t{1} << 30;

CountingConfig flows_of(std::uint32_t keys)
{
    CountingConfig c;
    c.tables = TS_TABLE_BIT(TS_TABLE_FLOWS);
    c.table_size[TS_TABLE_FLOWS] = keys;
    return c;
}

// 2^25 flows (8 GiB) on a host with 12 GiB available.
TEST(TableMemory, RefusesWhatTakesMoreThanHalfOfTheAvailableMemoryAndSaysWhatFits)
{
    const auto refusal = table_memory_refusal(flows_of(1U << 25), 12 * kGiB);
    ASSERT_TRUE(refusal);
    EXPECT_EQ(refusal->find('\n'), std::string::npos) << "one line";
    EXPECT_NE(refusal->find("need 8.0 GiB"), std::string::npos) << *refusal;
    EXPECT_NE(refusal->find("the 12.0 GiB this host has available"), std::string::npos) << *refusal;
    EXPECT_NE(refusal->find("--flow-table-size 16777216 fits"), std::string::npos) << *refusal;
    EXPECT_FALSE(table_memory_refusal(flows_of(1U << 24), 12 * kGiB)) << "4 GiB of 12: fits";
    EXPECT_FALSE(table_memory_refusal(flows_of(1U << 25), 22 * kGiB)) << "8 GiB of 22: fits";
}

TEST(TableMemory, DefaultsAndNoTablesAlwaysFit)
{
    CountingConfig none;
    EXPECT_FALSE(table_memory_refusal(none, 0));
    CountingConfig all;
    all.tables = TS_TABLE_BIT(TS_TABLE_TALKERS) | TS_TABLE_BIT(TS_TABLE_PORTS) | TS_TABLE_BIT(TS_TABLE_FLOWS);
    EXPECT_FALSE(table_memory_refusal(all, 1 * kGiB));
}

TEST(TableMemory, CountsEveryAttachmentAndShrinksTheLargestTable)
{
    CountingConfig c = flows_of(1U << 22);  // 1 GiB each
    c.tables |= TS_TABLE_BIT(TS_TABLE_TALKERS);
    c.table_size[TS_TABLE_TALKERS] = 1U << 16;
    EXPECT_FALSE(table_memory_refusal(c, 4 * kGiB, 1));
    const auto refusal = table_memory_refusal(c, 4 * kGiB, 4);
    ASSERT_TRUE(refusal);
    EXPECT_NE(refusal->find("(4 attachments)"), std::string::npos) << *refusal;
    EXPECT_NE(refusal->find("--flow-table-size 1048576 fits"), std::string::npos) << *refusal;
}

TEST(TableMemory, SaysSoWhenNoSizeFits)
{
    const auto refusal = table_memory_refusal(flows_of(1U << 20), 0);
    ASSERT_TRUE(refusal);
    EXPECT_NE(refusal->find("no table fits"), std::string::npos) << *refusal;
}

}  // namespace
}  // namespace trafstat
