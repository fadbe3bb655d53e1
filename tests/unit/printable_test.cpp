// Names from outside put in messages: control characters escaped, the rest kept.
#include "base/printable.hpp"

#include <gtest/gtest.h>

namespace trafstat {
namespace {

TEST(Printable, KeepsOrdinaryNames)
{
    EXPECT_EQ(printable("capture.pcap"), "capture.pcap");
    EXPECT_EQ(printable("dir with space/ünïcode.pcap"), "dir with space/ünïcode.pcap");
    EXPECT_EQ(printable(""), "");
}

TEST(Printable, EscapesControlCharacters)
{
    EXPECT_EQ(printable("a\nb"), "a\\nb");
    EXPECT_EQ(printable("\t\r"), "\\t\\r");
    EXPECT_EQ(printable("\x1b[31mred"), "\\x1b[31mred");
    EXPECT_EQ(printable(std::string_view{"a\0b", 3}), "a\\x00b");
    EXPECT_EQ(printable("\x7f"), "\\x7f");
}

TEST(Printable, IsIdempotent)
{
    const std::string once = printable("x\n\x1b\\y");
    EXPECT_EQ(printable(once), once);
}

}  // namespace
}  // namespace trafstat
