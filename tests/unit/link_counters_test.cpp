// An interface's own counters: the field table names every field once, in
// output order, and delta() subtracts field by field, a reset field giving `now`.
#include "stats/link_counters.hpp"

#include <gtest/gtest.h>

#include <string_view>
#include <vector>

namespace trafstat {
namespace {

TEST(LinkCounters, FieldTableNamesEveryFieldOnceInOutputOrder)
{
    std::vector<std::string_view> names;
    for (const LinkCounterField& f : kLinkCounterFields)
        names.push_back(f.name);
    EXPECT_EQ(names, (std::vector<std::string_view>{"rx_dropped", "tx_dropped", "rx_errors", "tx_errors",
                                                    "rx_missed_errors", "rx_nohandler"}));

    // Each name reaches its own field (none twice: with the static_assert on
    // the size, every field once).
    const LinkCounters c{
        .rx_dropped = 1, .tx_dropped = 2, .rx_errors = 3, .tx_errors = 4, .rx_missed_errors = 5, .rx_nohandler = 6};
    std::vector<std::uint64_t> values;
    for (const LinkCounterField& f : kLinkCounterFields)
        values.push_back(c.*f.member);
    EXPECT_EQ(values, (std::vector<std::uint64_t>{1, 2, 3, 4, 5, 6}));
}

TEST(LinkCounters, DeltaSubtractsFieldByField)
{
    const LinkCounters before{.rx_dropped = 10,
                              .tx_dropped = 20,
                              .rx_errors = 30,
                              .tx_errors = 40,
                              .rx_missed_errors = 50,
                              .rx_nohandler = 60};
    const LinkCounters now{.rx_dropped = 11,
                           .tx_dropped = 20,
                           .rx_errors = 33,
                           .tx_errors = 44,
                           .rx_missed_errors = 55,
                           .rx_nohandler = 66};
    EXPECT_EQ(delta(now, before), (LinkCounters{.rx_dropped = 1,
                                                .tx_dropped = 0,
                                                .rx_errors = 3,
                                                .tx_errors = 4,
                                                .rx_missed_errors = 5,
                                                .rx_nohandler = 6}));
    EXPECT_EQ(delta(now, now), LinkCounters{});
    EXPECT_EQ(delta(now, LinkCounters{}), now);
}

// An interface recreated under the same index starts again from zero: the
// field that went backwards counts all of `now`, not a wrapped 2^64 - n.
TEST(LinkCounters, DeltaOfAFieldThatWentBackwardsIsNow)
{
    const LinkCounters before{.rx_dropped = 100, .tx_dropped = 5, .rx_nohandler = 7};
    const LinkCounters now{.rx_dropped = 3, .tx_dropped = 9, .rx_nohandler = 7};
    EXPECT_EQ(delta(now, before), (LinkCounters{.rx_dropped = 3, .tx_dropped = 4}));
}

TEST(LinkCounters, EqualityComparesEveryField)
{
    for (const LinkCounterField& f : kLinkCounterFields) {
        LinkCounters changed;
        changed.*f.member = 1;
        EXPECT_NE(changed, LinkCounters{}) << f.name;
    }
}

}  // namespace
}  // namespace trafstat
