#include "output/writer.hpp"

#include <gtest/gtest.h>

using namespace trafstat;

TEST(LostJsonLine, OneObjectNamingTheAttachmentAndWhy)
{
    const AttachmentLoss loss{std::chrono::system_clock::time_point(std::chrono::milliseconds(1795946401002)), "veth0",
                              "tc-ingress", "clsact", "its clsact filter was removed by someone else"};
    EXPECT_EQ(lost_json_line(loss),
              R"({"type":"lost","time":"2026-11-29T10:00:01.002Z","name":"veth0","hook":"tc-ingress",)"
              R"("mode":"clsact","reason":"its clsact filter was removed by someone else"})"
              "\n");
}
