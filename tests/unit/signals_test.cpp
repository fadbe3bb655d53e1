// The loops' schedule: next_tick() skips what a late loop missed in one step,
// however short the interval; wait_until() ends on its deadline or on input.
#include "base/signals.hpp"

#include <gtest/gtest.h>

#include <unistd.h>

namespace trafstat {
namespace {

using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;
using std::chrono::nanoseconds;

TEST(NextTick, OnTimeIsTheNextTick)
{
    const Clock::time_point start{};
    EXPECT_EQ(next_tick(start, milliseconds(10), start + milliseconds(10)), start + milliseconds(20));
    EXPECT_EQ(next_tick(start, milliseconds(10), start + milliseconds(13)), start + milliseconds(20));
}

TEST(NextTick, LateSkipsTheMissedTicksOnTheGrid)
{
    const Clock::time_point start{};
    EXPECT_EQ(next_tick(start, milliseconds(10), start + milliseconds(615)), start + milliseconds(620));
    // The interval that spun the old catch-up loop (issue 15): one step, still on the grid.
    const auto late = start + std::chrono::hours(24 * 365);
    const auto next = next_tick(start, nanoseconds(10), late);
    EXPECT_GT(next, late);
    EXPECT_LE(next - late, nanoseconds(10));
    EXPECT_EQ((next - start) % nanoseconds(10), nanoseconds(0));
}

TEST(NextTick, BeforeStartIsTheFirstTick)
{
    const Clock::time_point start = Clock::time_point{} + std::chrono::seconds(5);
    EXPECT_EQ(next_tick(start, milliseconds(10), start - milliseconds(3)), start + milliseconds(10));
}

TEST(WaitUntil, EndsOnTheDeadline)
{
    const auto until = Clock::now() + milliseconds(20);
    EXPECT_EQ(wait_until(until), Wake::deadline);
    EXPECT_GE(Clock::now(), until);
    EXPECT_EQ(wait_until(Clock::now() - milliseconds(1)), Wake::deadline);  // already past
}

TEST(WaitUntil, EndsOnInput)
{
    int fds[2];
    ASSERT_EQ(pipe(fds), 0);
    ASSERT_EQ(write(fds[1], "x", 1), 1);
    pollfd in{fds[0], POLLIN, 0};
    EXPECT_EQ(wait_until(Clock::now() + std::chrono::seconds(10), std::span(&in, 1)), Wake::input);
    EXPECT_TRUE(in.revents & POLLIN);
    close(fds[0]);
    close(fds[1]);
}

}  // namespace
}  // namespace trafstat
